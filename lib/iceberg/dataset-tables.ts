/**
 * A dataset's Iceberg table: where it is, its schema (schema.ts) and its properties.
 */
import type { Dataset } from '../datasets/model.ts';
import { tableLocation, tableName } from './layout.ts';
import { icebergSchema } from './schema.ts';
import { ensureTable, type IcebergDeps, type TableProperties } from './table.ts';

const DAY_MS = 86_400_000;

/** The properties every dataset table is created with (study §7.4). */
export function tableProperties(settings: { snapshotRetentionDays: number }): TableProperties {
  if (!(settings.snapshotRetentionDays > 0)) {
    throw new Error(
      `snapshot retention must be a positive number of days, not ${settings.snapshotRetentionDays}`,
    );
  }
  return {
    'write.format.default': 'parquet',
    'write.parquet.compression-codec': 'zstd',
    'history.expire.max-snapshot-age-ms': String(Math.round(settings.snapshotRetentionDays * DAY_MS)),
    'history.expire.min-snapshots-to-keep': '1',
    'write.metadata.previous-versions-max': '100',
  };
}

/** Default snapshot retention of a dataset table, in days. */
export const DEFAULT_SNAPSHOT_RETENTION_DAYS = 30;

/** Creates the dataset's table (at `s3://<curated>/<dataset>/iceberg`) unless it exists. */
export async function ensureDatasetTable(
  deps: IcebergDeps,
  where: { database: string; curatedBucket: string },
  ds: Dataset,
  properties: TableProperties = tableProperties({ snapshotRetentionDays: DEFAULT_SNAPSHOT_RETENTION_DAYS }),
): Promise<{ metadataLocation: string; created: boolean }> {
  return ensureTable(
    deps,
    {
      database: where.database,
      name: tableName(ds.name),
      location: tableLocation(where.curatedBucket, ds.name),
    },
    icebergSchema(ds),
    properties,
  );
}
