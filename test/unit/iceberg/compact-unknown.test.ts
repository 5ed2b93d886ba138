/**
 * A local compaction whose swap outcome is unknown keeps the files it wrote: the table may hold
 * them (deleting them would leave a snapshot over missing files).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitStateUnknownError, type TableCatalog } from '../../../lib/iceberg/ports.ts';
import { liveFiles, selectSnapshot } from '../../../lib/iceberg/scan.ts';
import { appendFiles, ensureTable, loadTable } from '../../../lib/iceberg/table.ts';
import { compactTable } from '../../../lib/local/compact.ts';
import { BUCKET, type Lake, SCHEMA, startLake, writeOrders } from './harness.ts';

let lake: Lake;
beforeAll(async () => {
  lake = await startLake();
});
afterAll(async () => {
  await lake?.close();
});

describe('compactTable with a swap whose outcome is unknown', () => {
  it('rethrows CommitStateUnknownError and keeps the new file the table now holds', async () => {
    const t = lake.table('compact_unknown');
    await ensureTable(lake.deps(), t, SCHEMA);
    const day = '2026-12-01';
    const files = [
      await writeOrders(lake.store, `${t.location}/data/ingest_date=${day}/a.parquet`, {
        firstId: 1,
        rows: 3,
        ingestDate: day,
      }),
      await writeOrders(lake.store, `${t.location}/data/ingest_date=${day}/b.parquet`, {
        firstId: 4,
        rows: 2,
        ingestDate: day,
      }),
    ];
    await appendFiles(lake.deps(), t, [{ tag: 'a#1', files }]);

    // The swap lands, then the catalog cannot be reached: the outcome is unknown.
    const inner = lake.deps().catalog;
    let swapped = false;
    const catalog: TableCatalog = {
      load: async (db, name) => {
        if (swapped) throw new Error('catalog unreachable');
        return inner.load(db, name);
      },
      create: inner.create,
      swap: async (...args) => {
        await inner.swap(...args);
        swapped = true;
        throw new Error('timeout');
      },
    };
    await expect(
      compactTable({
        s3: lake.client,
        store: lake.store,
        catalog,
        table: t,
        dataset: 'compact_unknown',
        curatedBucket: BUCKET,
        cacheDir: join(lake.dir, 'cache'),
        workDir: join(lake.dir, 'work'),
      }),
    ).rejects.toThrow(CommitStateUnknownError);

    // The compaction did commit: its file is the table's only live file, and it is still there.
    const { metadata } = await loadTable(lake.deps(), t);
    const live = await liveFiles(lake.store, metadata, selectSnapshot(metadata));
    expect(live).toHaveLength(1);
    expect(live[0]!.path).toMatch(/compacted-/);
    expect(await lake.store.get(live[0]!.path)).toBeDefined();
  });
});
