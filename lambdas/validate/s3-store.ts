/** The Validate task's `ObjectStore` over S3: pinned reads, server-side copies, JSON reports. */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { IngestRequest, ObjectRef } from '../shared/contract.ts';
import type { LineSink, ObjectStore } from './core.ts';

/** The largest object CopyObject copies in one request; above it, a multipart copy is needed. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
/** Part size of a multipart copy, unless the 10,000-part limit demands larger parts. */
export const COPY_PART_BYTES = 512 * 1024 ** 2;
/** S3's limit on the parts of one multipart upload. */
const MAX_PARTS = 10_000;
/** Part copies in flight at once: fast enough for terabyte objects, gentle on request rates. */
const PART_CONCURRENCY = 4;
const MIB = 1024 ** 2;

/** An inclusive byte range of a multipart copy. */
export interface ByteRange {
  readonly first: number;
  readonly last: number;
}

/**
 * The part ranges of a multipart copy of `size` bytes: contiguous, covering every byte once, of
 * `partBytes` each (the last one shorter), parts grown in whole MiB when 10,000 would not do.
 */
export function copyRanges(size: number, partBytes: number = COPY_PART_BYTES): ByteRange[] {
  if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`cannot split an object of ${size} bytes`);
  const needed = Math.ceil(size / MAX_PARTS);
  const part = needed <= partBytes ? partBytes : Math.ceil(needed / MIB) * MIB;
  const ranges: ByteRange[] = [];
  for (let first = 0; first < size; first += part) {
    ranges.push({ first, last: Math.min(first + part, size) - 1 });
  }
  return ranges;
}

/** `CopySource` of a request's object: bucket, key URL-encoded per segment, version when pinned. */
export function copySource(from: IngestRequest): string {
  const key = from.key.split('/').map(encodeURIComponent).join('/');
  const version = from.versionId !== null ? `?versionId=${encodeURIComponent(from.versionId)}` : '';
  return `${from.bucket}/${key}${version}`;
}

/** Read pinning: the version id, else an If-Match on the ETag, so a replaced object is never read. */
function readPin(ref: IngestRequest): { VersionId?: string; IfMatch?: string } {
  if (ref.versionId !== null) return { VersionId: ref.versionId };
  if (ref.etag !== null) return { IfMatch: `"${ref.etag}"` };
  return {};
}

/** Copy pinning when there is no version id: the copy fails (412) if the object was replaced. */
function copyPin(ref: IngestRequest): { CopySourceIfMatch?: string } {
  return ref.versionId === null && ref.etag !== null ? { CopySourceIfMatch: `"${ref.etag}"` } : {};
}

function lastModifiedOf(ref: ObjectRef, lastModified: Date | undefined): Date {
  if (!lastModified) throw new Error(`s3 returned no LastModified for s3://${ref.bucket}/${ref.key}`);
  return lastModified;
}

/**
 * The error of a read or copy pinned to an ETag whose object was replaced since its event (412):
 * without versioning on the landing bucket the earlier bytes are gone, so the execution fails
 * with this name and a message saying so (the newer object has an execution of its own).
 */
export class ObjectReplacedError extends Error {
  override readonly name = 'ObjectReplaced';
}

/** Runs a pinned request, turning S3's 412 into an {@link ObjectReplacedError}. */
async function pinned<T>(ref: IngestRequest, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 412 || ref.versionId !== null) throw error;
    throw new ObjectReplacedError(
      `s3://${ref.bucket}/${ref.key} was replaced before it was read: its ETag is no longer ${ref.etag}. ` +
        'The landing bucket keeps no versions, so that upload is gone; the newer upload has its own execution.',
      { cause: error },
    );
  }
}

/** An `ObjectStore` over one S3 client. */
export function s3Store(s3: S3Client): ObjectStore {
  const head = async (ref: IngestRequest) => {
    const out = await pinned(ref, () =>
      s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...readPin(ref) })),
    );
    return { lastModified: lastModifiedOf(ref, out.LastModified) };
  };
  return {
    async open(ref, from = 0) {
      if (from > 0 && from >= ref.size) {
        // A slice that stopped at the very end: nothing is left to read (a range there is a 416).
        const { lastModified } = await head(ref);
        return { body: (async function* () {})(), lastModified, close: () => {} };
      }
      const range = from > 0 ? { Range: `bytes=${from}-` } : {};
      const out = await pinned(ref, () =>
        s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...readPin(ref), ...range })),
      );
      const body: unknown = out.Body;
      // In Node the body is a Readable, which is an async iterable of Buffers.
      if (!isAsyncIterable(body)) {
        throw new Error(`s3 returned no readable body for s3://${ref.bucket}/${ref.key}`);
      }
      return {
        body,
        lastModified: lastModifiedOf(ref, out.LastModified),
        close: () => (body as { destroy?: () => void }).destroy?.(),
      };
    },

    head,

    async copy(from, to) {
      if (from.size > MAX_SINGLE_COPY_BYTES) return pinned(from, () => multipartCopy(s3, from, to));
      await pinned(from, () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: to.bucket,
            Key: to.key,
            CopySource: copySource(from),
            ...copyPin(from),
            // A producer's tags stay on its landing object: copying them (the default, COPY) would
            // need s3:GetObjectVersionTagging on landing and s3:PutObjectTagging on the zones,
            // and a copy above 5 GB (multipart) never carries them, so a file's tags would depend
            // on its size. The zones hold no tags.
            TaggingDirective: 'REPLACE',
          }),
        ),
      );
    },

    writeLines(to) {
      return lineUpload(s3, to);
    },

    async putJson(to, value) {
      await s3.send(
        new PutObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          Body: JSON.stringify(value, null, 2),
          ContentType: 'application/json',
        }),
      );
    },
  };
}

/** Part size of a streamed line upload: S3's minimum, so at most two parts are held in memory. */
const LINE_PART_BYTES = 5 * MIB;

/**
 * A JSON Lines object streamed with lib-storage's Upload: one PutObject when it stays under a part,
 * a multipart upload past it. The pass-through buffer reports back-pressure to the writer, and a
 * failed upload rejects `drained()`, so a writer never waits on an upload that is gone.
 */
function lineUpload(s3: S3Client, to: ObjectRef): LineSink {
  const body = new PassThrough({ highWaterMark: MIB });
  const upload = new Upload({
    client: s3,
    params: { Bucket: to.bucket, Key: to.key, Body: body, ContentType: 'application/x-ndjson' },
    partSize: LINE_PART_BYTES,
    queueSize: 1,
    leavePartsOnError: false,
  });
  const done = upload.done();
  // Observed by end(), drained() and abort(); never an unhandled rejection in between.
  done.catch(() => {});
  return {
    write: (line) => body.write(line),
    drained: () => Promise.race([once(body, 'drain').then(() => undefined), done.then(() => undefined)]),
    async end() {
      body.end();
      await done;
    },
    async abort() {
      await upload.abort().catch(() => {});
      body.destroy();
      await done.catch(() => {});
    },
  };
}

/**
 * Copies an object above CopyObject's 5 GB limit with UploadPartCopy, a few parts at a time. Any
 * failure stops new parts, waits for those in flight and aborts the upload, so no orphaned parts
 * are left to bill for.
 */
async function multipartCopy(s3: S3Client, from: IngestRequest, to: ObjectRef): Promise<void> {
  // CopyObject keeps the content type and user metadata; a multipart upload must be told them.
  const head = await s3.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key, ...readPin(from) }));
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: to.bucket,
      Key: to.key,
      ContentType: head.ContentType,
      ContentEncoding: head.ContentEncoding,
      Metadata: head.Metadata,
    }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`s3 returned no UploadId for s3://${to.bucket}/${to.key}`);
  const target = { Bucket: to.bucket, Key: to.key, UploadId: uploadId };
  try {
    const ranges = copyRanges(from.size);
    const parts: CompletedPart[] = new Array(ranges.length);
    let failure: { error: unknown } | null = null;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (failure === null && next < ranges.length) {
        const index = next++;
        const range = ranges[index]!;
        try {
          const out = await s3.send(
            new UploadPartCopyCommand({
              ...target,
              PartNumber: index + 1,
              CopySource: copySource(from),
              CopySourceRange: `bytes=${range.first}-${range.last}`,
              ...copyPin(from),
            }),
          );
          const { ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 } =
            out.CopyPartResult ?? {};
          parts[index] = {
            PartNumber: index + 1,
            ETag,
            ChecksumCRC32,
            ChecksumCRC32C,
            ChecksumCRC64NVME,
            ChecksumSHA1,
            ChecksumSHA256,
          };
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, ranges.length) }, worker));
    if (failure !== null) throw (failure as { error: unknown }).error;
    await s3.send(new CompleteMultipartUploadCommand({ ...target, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand(target)).catch(() => {
      // The copy's error is the one worth reporting; the bucket's AbortIncompleteMultipartUpload
      // lifecycle rule is the backstop for parts an abort could not free.
    });
    throw error;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
