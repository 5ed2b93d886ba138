/** STUB (iceberg-cli): replaced by iceberg-core's file at the merge. */
import type { Dataset } from '../datasets/model.ts';
import type { IcebergDeps, TableProperties } from './table.ts';
export async function ensureDatasetTable(
  _deps: IcebergDeps,
  _where: { database: string; curatedBucket: string },
  _ds: Dataset,
  _properties?: TableProperties,
): Promise<{ metadataLocation: string; created: boolean }> {
  throw new Error('not implemented yet');
}
export function tableProperties(_settings: { snapshotRetentionDays: number }): TableProperties {
  throw new Error('not implemented yet');
}
