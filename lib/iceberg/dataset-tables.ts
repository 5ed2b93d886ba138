/**
 * STUB (iceberg-cdk): the agreed signatures of the core's dataset tables, so the tables custom
 * resource compiles before branch `iceberg-core` is merged. Deleted in favour of the core's file
 * at that merge.
 */
import type { Dataset } from '../datasets/model.ts';
import type { IcebergDeps, TableProperties } from './table.ts';

/** The properties every dataset table is created with (stub). */
export function tableProperties(settings: { snapshotRetentionDays: number }): TableProperties {
  return { 'history.expire.max-snapshot-age-ms': String(settings.snapshotRetentionDays * 86_400_000) };
}

/** Creates the dataset's table unless it exists (stub: throws). */
export async function ensureDatasetTable(
  _deps: IcebergDeps,
  _where: { database: string; curatedBucket: string },
  _ds: Dataset,
  _properties?: TableProperties,
): Promise<{ metadataLocation: string; created: boolean }> {
  throw new Error('lib/iceberg/dataset-tables.ts: not implemented yet (stub until iceberg-core is merged)');
}
