/** STUB (iceberg-cli): replaced by iceberg-core's file at the merge. */
export type TableMetadata = Record<string, unknown>;
export function parseMetadata(_text: string): TableMetadata {
  throw new Error('not implemented yet');
}
