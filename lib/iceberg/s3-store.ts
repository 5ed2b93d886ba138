/**
 * The core's object store over the S3 API: AWS S3, or the local S3 server (s3rver) through a
 * client made by `localS3Client`.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { deleteKeys, listKeys } from '../s3-keys.ts';
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
      for (const [bucket, keys] of byBucket) await deleteKeys(client, bucket, keys);
    },
    async list(prefix) {
      const { bucket, key } = parseS3Uri(prefix);
      return (await listKeys(client, bucket, key)).map((k) => `s3://${bucket}/${k}`);
    },
  };
}
