/**
 * The table operations: create, append, replace (compaction), tag, expire, each one commit
 * (compare-and-swap on the catalog pointer, retried on conflict, idempotent per source tag).
 * STUB: signatures agreed for the helpers; the iceberg-core branch implements them.
 */

import type { ObjectStore, TableCatalog, TablePointer } from './ports.ts';
import type { IcebergSchema } from './schema.ts';

/** A table in a catalog. */
export interface TableRef {
  readonly database: string;
  readonly name: string;
  /** `s3://…/<dataset>/iceberg` (no trailing slash). */
  readonly location: string;
}

/** What every operation needs. */
export interface IcebergDeps {
  readonly store: ObjectStore;
  readonly catalog: TableCatalog;
  /** @default Date.now */
  readonly now?: () => number;
  /** Commit attempts on conflict (Iceberg's commit.retry.num-retries is 4, so 5 attempts). @default 8 */
  readonly attempts?: number;
  /** Backoff base in ms (full jitter, doubling). @default 100 */
  readonly backoffMs?: number;
}

/** A data file to append, as an engine wrote it. */
export interface DataFileSpec {
  /** `s3://bucket/key`. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** `YYYY-MM-DD`: the file's partition value. */
  readonly ingestDate: string;
}

/** One landed object version's files: appended together, once. */
export interface AppendSource {
  /** `sourceTag(key, version)` (layout.ts). */
  readonly tag: string;
  readonly files: readonly DataFileSpec[];
}

/** What an append did for each source. */
export interface AppendResult {
  readonly metadataLocation: string;
  readonly bySource: Readonly<
    Record<
      string,
      {
        readonly snapshotId: string;
        readonly sequenceNumber: number;
        readonly status: 'committed' | 'exists';
      }
    >
  >;
  /** Swap attempts made (1 without conflict) and conflicts met. */
  readonly attempts: number;
  readonly conflicts: number;
}

/** Table properties written at creation (history retention etc.). */
export type TableProperties = Readonly<Record<string, string>>;

const todo = (): never => {
  throw new Error('lib/iceberg/table.ts: not implemented yet');
};

/** Creates the table if the catalog has none of that name; a no-op otherwise. */
export async function ensureTable(
  _deps: IcebergDeps,
  _table: TableRef,
  _schema: IcebergSchema,
  _properties?: TableProperties,
): Promise<{ readonly metadataLocation: string; readonly created: boolean }> {
  return todo();
}

/** Appends the sources' files in one snapshot (sources already in the table are `exists`). */
export async function appendFiles(
  _deps: IcebergDeps,
  _table: TableRef,
  _sources: readonly AppendSource[],
): Promise<AppendResult> {
  return todo();
}

/** Replaces live files by new ones holding the same rows (compaction): one `replace` snapshot. */
export async function replaceFiles(
  _deps: IcebergDeps,
  _table: TableRef,
  _change: { readonly remove: readonly string[]; readonly add: readonly DataFileSpec[] },
): Promise<{ readonly snapshotId: string; readonly metadataLocation: string }> {
  return todo();
}

/** Tags a snapshot (the current one by default); tags are kept by expiry. */
export async function tagSnapshot(
  _deps: IcebergDeps,
  _table: TableRef,
  _name: string,
  _snapshotId?: string,
): Promise<{ readonly snapshotId: string }> {
  return todo();
}

/** Expires snapshots older than `olderThanMs` beyond the last `retainLast`, keeping tagged ones. */
export async function expireSnapshots(
  _deps: IcebergDeps,
  _table: TableRef,
  _policy: { readonly olderThanMs: number; readonly retainLast: number },
): Promise<{ readonly expired: string[] }> {
  return todo();
}

/** The table's pointer and parsed metadata. */
export async function loadTable(
  _deps: Pick<IcebergDeps, 'store' | 'catalog'>,
  _table: Pick<TableRef, 'database' | 'name'>,
): Promise<{ readonly pointer: TablePointer; readonly metadata: unknown }> {
  return todo();
}
