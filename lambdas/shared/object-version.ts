/**
 * The identity of one landed object version, as a digest. Every name that must be the same for
 * each delivery of one version, and different between versions, derives from it: the execution
 * name (the ledger) and the version tag of the file names in the zones.
 */
import { createHash } from 'node:crypto';
import type { IngestRequest } from './contract.ts';

/** sha256 (hex) of bucket, key and version id, or of the ETag when the bucket keeps no versions. */
export function versionDigest(request: IngestRequest): string {
  const pin = request.versionId !== null ? ['version', request.versionId] : ['etag', request.etag];
  return createHash('sha256')
    .update(JSON.stringify([request.bucket, request.key, ...pin]))
    .digest('hex');
}
