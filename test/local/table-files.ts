/**
 * What a dataset's Iceberg table holds, for the local tests: the keys (in the curated bucket) of
 * the current snapshot's live data files. Files an engine wrote and no commit appended (a failed or
 * retried run's) are not in it: readers never see them, and the orphan-file deletion removes them.
 */

import { liveFiles, selectSnapshot } from '../../lib/iceberg/scan.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';

/** The live data files' keys of `dataset`'s table, sorted; none for a table without a snapshot. */
export async function liveDataKeys(
  runtime: Pick<LocalRuntime, 'store' | 'tables'>,
  dataset = 'orders',
): Promise<string[]> {
  const { metadata } = await loadTable(
    { store: runtime.store, catalog: runtime.tables },
    { database: LOCAL_DATABASE, name: dataset },
  );
  const snapshot = selectSnapshot(metadata);
  if (!snapshot) return [];
  const prefix = `s3://${LOCAL_BUCKETS.curated}/`;
  return (await liveFiles(runtime.store, metadata, snapshot)).map((f) => f.path.slice(prefix.length)).sort();
}
