/** STUB (iceberg-cli): replaced by iceberg-core's file at the merge. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from './ports.ts';
export function s3ObjectStore(_client: S3Client): ObjectStore {
  throw new Error('not implemented yet');
}
