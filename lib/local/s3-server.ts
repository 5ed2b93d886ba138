/**
 * The embedded S3-compatible server of the local runtime: s3rver, in-process, on 127.0.0.1 only,
 * storing the buckets in a folder, so any S3 client (the SDK, awscli) works against it.
 */
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver, { type S3rverEvent } from 's3rver';

/** Credentials s3rver accepts (it checks signatures made with them). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

/** A running local S3 server. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Called for every object created (put, copy, multipart complete), in s3rver's event shape. */
  onObjectCreated(listener: (record: S3rverEvent['Records'][number]) => void): void;
  close(): Promise<void>;
}

/** Options of {@link startLocalS3}. */
export interface LocalS3Options {
  /** Folder holding the buckets; a restart over the same folder keeps the objects. */
  readonly directory: string;
  /** Buckets created at start when missing. */
  readonly buckets: readonly string[];
  /**
   * TCP port; 0 picks a free one.
   * @default 0
   */
  readonly port?: number;
}

/** Starts s3rver on 127.0.0.1 (never on another interface) with the given buckets. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
    // Path-style only: bucket names are not resolvable hostnames here.
    vhostBuckets: false,
  });
  const { port } = await server.run();
  decodeCopySourcesFully(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    onObjectCreated(listener) {
      server.on('event', (event) => {
        for (const record of event.Records)
          if (record.eventName.startsWith('ObjectCreated:')) listener(record);
      });
    },
    close: () => server.close(),
  };
}

/**
 * Two fixes in front of s3rver. It stores keys as file paths, so a key with a `..` segment would be
 * written outside its bucket: such requests are refused. And it reads `x-amz-copy-source` with
 * `decodeURI`, which leaves reserved characters encoded: a
 * key with `+`, `&`, `=`, `,`, `;`, `:`, `@`, `$`, `#` or `?` (correctly percent-encoded by the SDK,
 * as S3 requires) is then not found. Re-encoding the header with `encodeURI` before s3rver sees it
 * makes its `decodeURI` give back the exact key.
 */
function decodeCopySourcesFully(server: S3rver): void {
  const http = (server as unknown as { httpServer: import('node:http').Server }).httpServer;
  const store = (server as unknown as { store: ObjectMetadataStore }).store;
  const [handler] = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!handler) throw new Error('s3rver has no request handler to wrap');
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (hasDotSegment(req.url ?? '') || hasDotSegment(String(req.headers['x-amz-copy-source'] ?? ''))) {
      // s3rver stores a key as a file path (path.join of its segments): `..` would climb out of
      // the bucket, even out of the lake folder. S3 keeps such keys literally; here they are refused.
      return sendError(
        res,
        400,
        'InvalidArgument',
        'the local S3 server does not store keys with "." or ".." path segments',
      );
    }
    const source = req.headers['x-amz-copy-source'];
    if (typeof source === 'string') {
      try {
        req.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
      } catch {
        // A malformed escape: leave it for s3rver to reject as S3 would.
      }
    }
    // s3rver ignores If-Match: check it here, so reads and copies pinned to an ETag fail (412) when
    // the object was replaced, as on S3, instead of silently using the newer object.
    preconditionFails(store, req).then(
      (fails) =>
        fails
          ? sendError(
              res,
              412,
              'PreconditionFailed',
              'At least one of the pre-conditions you specified did not hold',
            )
          : handler(req, res),
      () => handler(req, res),
    );
  });
}

/** The part of s3rver's filesystem store the precondition check reads. */
interface ObjectMetadataStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

/** True when the request carries an If-Match (or copy-source If-Match) its object does not meet. */
async function preconditionFails(store: ObjectMetadataStore, req: IncomingMessage): Promise<boolean> {
  let target: string | undefined;
  let expected: string | undefined;
  const ifMatch = req.headers['if-match'];
  const copyIfMatch = req.headers['x-amz-copy-source-if-match'];
  if ((req.method === 'GET' || req.method === 'HEAD') && typeof ifMatch === 'string') {
    target = req.url;
    expected = ifMatch;
  } else if (req.method === 'PUT' && typeof copyIfMatch === 'string') {
    target = `/${String(req.headers['x-amz-copy-source'] ?? '')}`;
    expected = copyIfMatch;
  }
  if (target === undefined || expected === undefined || expected.trim() === '*') return false;
  const [bucket, ...keyParts] = (target.split('?')[0] ?? '').split('/').slice(1);
  const key = decodeURIComponent(keyParts.join('/'));
  if (!bucket || !key) return false;
  const metadata = await store.getMetadata(bucket, key).catch(() => undefined);
  // A missing object is s3rver's to answer (NoSuchKey).
  if (!metadata?.etag) return false;
  const bare = (etag: string) => etag.trim().replace(/^W\//, '').replace(/"/g, '');
  return bare(metadata.etag) !== bare(expected);
}

/** True when a request path or copy source has a `.` or `..` segment (before the query string). */
function hasDotSegment(pathOrSource: string): boolean {
  const path = pathOrSource.split('?')[0] ?? '';
  return path.split('/').some((segment) => {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // a malformed escape is s3rver's to reject
    }
    return decoded === '.' || decoded === '..';
  });
}

/**
 * An S3 client for the local server. Checksums only when required: otherwise SDK v3 streams
 * uploads with aws-chunked framing, which s3rver would store as part of the data.
 */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
