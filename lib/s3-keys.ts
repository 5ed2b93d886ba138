/**
 * Listing and deleting keys over the S3 API, every page and a thousand keys a request: one
 * implementation for the DuckDB engine's callers, the local runtime, the benches and the Iceberg
 * core's object store. The AWS SDK only (no DuckDB), so any function's bundle may take it.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { errorText } from './text.ts';

/** Every key under `prefix` (up to `delimiter`, when given), across all pages of the listing. */
export async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
  delimiter?: string,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: delimiter,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Deletes the keys, a thousand a request, going on past a failed batch: the keys not deleted and
 * the first reason (`[]` and `''` when every one went).
 */
export async function tryDelete(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<{ left: string[]; reason: string }> {
  const left: string[] = [];
  let reason = '';
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    try {
      const response = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const errors = response.Errors ?? [];
      left.push(...errors.map((e) => String(e.Key)));
      if (errors.length > 0) reason ||= `${errors[0]!.Code} ${errors[0]!.Message}`;
    } catch (error) {
      // The whole request failed: none of its keys is known to be gone.
      left.push(...batch);
      reason ||= errorText(error);
    }
  }
  return { left, reason };
}

/** Deletes the keys, a thousand a request; throws naming the first one left. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  const { left, reason } = await tryDelete(s3, bucket, keys);
  if (left.length > 0)
    throw new Error(
      `could not delete ${left.length} object(s) in s3://${bucket}/, first ${left[0]}: ${reason}`,
    );
}
