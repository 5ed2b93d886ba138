/**
 * STUB (iceberg-cli): the agreed signatures of the core's scan module, so that the CLI compiles
 * before the iceberg-core branch is merged. Replaced by iceberg-core's file at the merge.
 */
import type { TableMetadata } from './metadata.ts';
import type { ObjectStore } from './ports.ts';
import type { IcebergSchema } from './schema.ts';

export interface SnapshotInfo {
  snapshotId: string;
  parentSnapshotId?: string;
  sequenceNumber: number;
  timestampMs: number;
  timestamp: string;
  operation: string;
  addedRows: number;
  totalRows: number;
  addedFiles: number;
  totalFiles: number;
  sources: string[];
  tags: string[];
  schemaId: number;
}

export type SnapshotSelector = { snapshotId: string } | { asOfMs: number } | { tag: string };

export interface LiveFile {
  path: string;
  rows: number;
  bytes: number;
  ingestDate: string;
}

export class SnapshotNotFoundError extends Error {
  override readonly name = 'SnapshotNotFoundError';
}

const todo = (): never => {
  throw new Error('lib/iceberg/scan.ts: not implemented yet');
};

export function history(_metadata: TableMetadata): SnapshotInfo[] {
  return todo();
}

export function selectSnapshot(_metadata: TableMetadata, _selector?: SnapshotSelector): unknown {
  return todo();
}

export async function liveFiles(
  _store: ObjectStore,
  _metadata: TableMetadata,
  _snapshot: unknown,
): Promise<LiveFile[]> {
  return todo();
}

export function schemaOf(_metadata: TableMetadata, _snapshot?: unknown): IcebergSchema {
  return todo();
}

export function readParquetSql(_localPaths: readonly string[], _schema: IcebergSchema): string {
  return todo();
}
