/**
 * The core's object store over the S3 API: AWS S3, or the local S3 server (s3rver) through a
 * client made by `localS3Client`.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore } from './ports.ts';

/** `s3://bucket/key` → its parts; throws on anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: "${uri}"`);
  return { bucket: m[1]!, key: m[2]! };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** S3 requests allow at most 1,000 keys a DeleteObjects. */
const DELETE_BATCH = 1000;

/** An {@link ObjectStore} over an S3 client. */
export function s3ObjectStore(client: S3Client): ObjectStore {
  return {
    async get(uri) {
      const { bucket, key } = parseS3Uri(uri);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body!.transformToByteArray();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async getRange(uri, start, end) {
      const { bucket, key } = parseS3Uri(uri);
      if (end <= start) return new Uint8Array(0);
      const out = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
      );
      return await out.Body!.transformToByteArray();
    },
    async size(uri) {
      const { bucket, key } = parseS3Uri(uri);
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return out.ContentLength;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async put(uri, body, contentType) {
      const { bucket, key } = parseS3Uri(uri);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.byteLength,
          ...(contentType ? { ContentType: contentType } : {}),
        }),
      );
    },
    async delete(uris) {
      const byBucket = new Map<string, string[]>();
      for (const uri of uris) {
        const { bucket, key } = parseS3Uri(uri);
        byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), key]);
      }
      for (const [bucket, keys] of byBucket) {
        for (let i = 0; i < keys.length; i += DELETE_BATCH) {
          const out = await client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key })), Quiet: true },
            }),
          );
          const failed = out.Errors ?? [];
          if (failed.length > 0) {
            throw new Error(
              `could not delete ${failed.length} object(s) in ${bucket}, first "${failed[0]!.Key}": ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`,
            );
          }
        }
      }
    },
    async list(prefix) {
      const { bucket, key } = parseS3Uri(prefix);
      const uris: string[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }),
        );
        for (const o of out.Contents ?? []) uris.push(`s3://${bucket}/${o.Key}`);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return uris;
    },
  };
}
