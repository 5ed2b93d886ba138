/**
 * STUB (iceberg-cdk): the agreed signature of the core's S3 adapter, so the Commit function
 * compiles before branch `iceberg-core` is merged. Deleted in favour of the core's file at that merge.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from './ports.ts';

/** An `ObjectStore` over S3 (stub: every call throws). */
export function s3ObjectStore(_client: S3Client): ObjectStore {
  const missing = (): never => {
    throw new Error('lib/iceberg/s3-store.ts: not implemented yet (stub until iceberg-core is merged)');
  };
  return { get: missing, getRange: missing, size: missing, put: missing, delete: missing, list: missing };
}
