/**
 * The parts of the dataset model that need no zod: the browser's validator bundle imports the
 * core through these (lib/console/web-build.ts), and model.ts re-exports them for everyone else.
 */
import type { Column, Dataset } from './model.ts';

/** The partition column every curated table gets; no declared column may take its name. */
export const PARTITION_COLUMN = 'ingest_date';

/**
 * The lineage columns every curated row carries (issue 16): the landed object's key and version
 * (the ledger's sort key) and when S3 received it. No declared column may take their names.
 */
export const LINEAGE_COLUMNS = {
  sourceKey: '_source_key',
  sourceVersion: '_source_version',
  ingestedAt: '_ingested_at',
} as const;

/** The columns a file may carry: every column not retired, in declaration order. */
export function liveColumns(ds: Pick<Dataset, 'columns'>): Column[] {
  return ds.columns.filter((col) => !col.retired);
}
