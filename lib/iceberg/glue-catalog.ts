/**
 * STUB (iceberg-cdk): the agreed signature of the core's Glue adapter, so the Commit function
 * compiles before branch `iceberg-core` is merged. Deleted in favour of the core's file at that merge.
 */
import type { GlueClient } from '@aws-sdk/client-glue';
import type { TableCatalog } from './ports.ts';

/** A `TableCatalog` over the Glue Data Catalog (stub: every call throws). */
export function glueTableCatalog(_client: GlueClient): TableCatalog {
  const missing = (): never => {
    throw new Error('lib/iceberg/glue-catalog.ts: not implemented yet (stub until iceberg-core is merged)');
  };
  return { load: missing, create: missing, swap: missing };
}
