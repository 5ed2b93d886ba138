/** STUB (iceberg-cli): replaced by iceberg-core's file at the merge. */
import type { TableCatalog } from './ports.ts';
export function localTableCatalog(_dir: string): TableCatalog {
  throw new Error('not implemented yet');
}
