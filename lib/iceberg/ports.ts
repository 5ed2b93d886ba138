/**
 * The Iceberg core's ports: where its files live and where the table pointer is swapped. The core
 * (lib/iceberg) is pure over these; adapters bind them to S3 and Glue on AWS, and to the local
 * S3 server and a pointer folder on a laptop.
 */

/** Object storage by `s3://bucket/key` URI. */
export interface ObjectStore {
  /** The whole object; undefined when there is none. */
  get(uri: string): Promise<Uint8Array | undefined>;
  /** Bytes `[start, end)` of the object (a Parquet footer read). */
  getRange(uri: string, start: number, end: number): Promise<Uint8Array>;
  /** The object's size in bytes; undefined when there is none. */
  size(uri: string): Promise<number | undefined>;
  put(uri: string, body: Uint8Array, contentType?: string): Promise<void>;
  delete(uris: readonly string[]): Promise<void>;
  /** Every object URI under a prefix URI. */
  list(prefix: string): Promise<string[]>;
}

/** A table's entry in the catalog: the current metadata file, and the version to swap from. */
export interface TablePointer {
  readonly metadataLocation: string;
  /** Glue's `VersionId`; locally the pointer file's number. Opaque to the core. */
  readonly versionId: string;
}

/** The table as the catalog shows it for display (Glue's StorageDescriptor; never read by engines). */
export interface TableDisplay {
  readonly location: string;
  readonly columns: readonly { readonly name: string; readonly type: string; readonly comment?: string }[];
}

/** The catalog as the committer needs it, with the semantics of Iceberg's GlueTableOperations. */
export interface TableCatalog {
  /** The table's pointer; undefined when the table does not exist. Throws when it is not an Iceberg table. */
  load(database: string, table: string): Promise<TablePointer | undefined>;
  /** Creates the table pointing at `metadataLocation`; `'exists'` when a table of that name exists already. */
  create(
    database: string,
    table: string,
    metadataLocation: string,
    display: TableDisplay,
  ): Promise<'created' | 'exists'>;
  /**
   * Swaps the pointer from `base` to `metadataLocation` if and only if it still is `base`
   * (compare-and-swap). Throws {@link CommitConflictError} when it is not; any other error leaves
   * the outcome unknown (the committer re-reads the pointer to decide).
   */
  swap(
    database: string,
    table: string,
    base: TablePointer,
    metadataLocation: string,
    display: TableDisplay,
  ): Promise<void>;
}

/** The pointer moved since it was read: the commit is retried on the new base. */
export class CommitConflictError extends Error {
  override readonly name = 'CommitConflictError';
}

/** The swap's outcome could not be established (the pointer is neither ours nor the base). */
export class CommitStateUnknownError extends Error {
  override readonly name = 'CommitStateUnknownError';
}
