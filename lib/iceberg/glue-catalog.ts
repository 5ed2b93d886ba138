/** STUB (iceberg-cli): replaced by iceberg-core's file at the merge. */
import type { GlueClient } from '@aws-sdk/client-glue';
import type { TableCatalog } from './ports.ts';
export function glueTableCatalog(_client: GlueClient): TableCatalog {
  throw new Error('not implemented yet');
}
