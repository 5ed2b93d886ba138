/**
 * The embedded S3-compatible server of the local runtime: s3rver, in-process, on 127.0.0.1 only,
 * storing the buckets in a folder, so any S3 client (the SDK, awscli) works against it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver, { type S3rverEvent } from 's3rver';
import S3Object from 's3rver/lib/models/object.js';
import { MAX_KEY_BYTES, MAX_NAME_BYTES } from '../../lambdas/validate/core.ts';
import { ownerAlive, thisProcess } from './executions.ts';

/** Credentials s3rver accepts (it checks signatures made with them). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

/**
 * The longest key segment before the last `/` the local server stores, in UTF-8 bytes: s3rver
 * makes it a folder name, and ext4, APFS and NTFS allow 255 bytes per name. The last segment
 * becomes a file name with up to 22 bytes of s3rver's suffixes, so it may have `MAX_NAME_BYTES`.
 */
export const MAX_FOLDER_BYTES = 255;

/** A running local S3 server. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /**
   * Called for every object created (put, copy, multipart complete), in s3rver's event shape, with
   * the ETag of the bytes stored (s3rver leaves it out of copy events).
   */
  onObjectCreated(listener: (record: S3rverEvent['Records'][number]) => void): void;
  /**
   * Lets pages at `origins` POST forms into `bucket` and read the answer (the console's presigned
   * uploads): CORS headers on the bucket's requests from those origins, and their preflights
   * answered. s3rver's own bucket CORS covers object paths only, not a POST to the bucket.
   */
  allowBrowserUploads(bucket: string, origins: readonly string[]): void;
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
  // s3rver listens without an 'error' listener: a busy port would be an uncaught exception that
  // ends the process. Trying the port first turns it into a rejection with its code (EADDRINUSE).
  if (options.port) await tryListen(options.port);
  // Written before any request is served: what a killed process left half-written goes first.
  await removePartialWrites(options.directory);
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
    // Path-style only: bucket names are not resolvable hostnames here.
    vhostBuckets: false,
  });
  const store = (server as unknown as { store: FilesystemStore }).store;
  const hasher = new FileHasher();
  const copies = makeWritesAtomic(store, hasher);
  const { port } = await server.run();
  const cors = new Map<string, ReadonlySet<string>>();
  guardRequests(server, store, cors);
  // First listener of all, so every other one sees a copy's ETag; it also keeps the queue short.
  server.on('event', (event) => {
    for (const { eventName, s3 } of event.Records) {
      const object: { key: string; eTag?: string } = s3.object;
      if (eventName === 'ObjectCreated:Copy' && object.eTag === undefined)
        object.eTag = copies.takeETag(s3.bucket.name, object.key) ?? '';
    }
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    onObjectCreated(listener) {
      server.on('event', (event) => {
        for (const record of event.Records) {
          if (!record.eventName.startsWith('ObjectCreated:')) continue;
          const { bucket, object } = record.s3;
          try {
            listener(record);
          } catch (error) {
            // The event is emitted inside the request: a throw would answer 500 for an object that is
            // stored, and the client would store it again. Say so instead, and answer as S3 does.
            console.error(
              `local s3: the object-created listener failed for s3://${bucket.name}/${object.key}: ${describe(error)}`,
            );
          }
        }
      });
    },
    allowBrowserUploads(bucket, origins) {
      cors.set(bucket, new Set(origins));
    },
    close: async () => {
      await server.close();
      await hasher.close();
    },
  };
}

/** The part of s3rver's FilesystemStore (lib/stores/filesystem.js) patched and read here. */
interface FilesystemStore {
  readonly rootDirectory: string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
  getObject(
    bucket: string,
    key: string,
    options?: { readonly start?: number; readonly end?: number },
  ): Promise<S3Object | null>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, unknown> | null,
  ): Promise<Record<string, string | number>>;
  deleteObject(bucket: string, key: string): Promise<void>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number | string,
    content: Readable,
  ): Promise<{ size: number; md5: string }>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: readonly { readonly number: number; readonly etag: string }[],
  ): Promise<{ size: number; md5: string }>;
}

/** s3rver's S3Object as its controllers hand it to `putObject`. */
interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: Readable | Buffer;
  readonly metadata: Record<string, unknown>;
}

/**
 * Temporary files of a write in progress; their names end in none of s3rver's suffixes. They name
 * the writing process (pid and start time), so that a server starting on a lake another process
 * serves (a `local status` beside a `local ingest`) removes only what a dead process left.
 */
const PARTIAL = /^\.s3-partial-(\d+)-(\d*)-[0-9a-f]{32}\.(object|md5|metadata)$/;

/** The temporary files of one write, in its bucket's folder (same file system: rename is atomic). */
interface PartialWrite {
  readonly object: string;
  readonly md5: string;
  readonly metadata: string;
}

function partialWrite(store: FilesystemStore, bucket: string): PartialWrite {
  const { pid, since } = thisProcess();
  const id = `${pid}-${since ?? ''}-${randomBytes(16).toString('hex')}`;
  const at = (kind: string) => join(store.rootDirectory, bucket, `.s3-partial-${id}.${kind}`);
  return { object: at('object'), md5: at('md5'), metadata: at('metadata') };
}

/** Deletes the temporary files a killed process left in the buckets' folders (a live one's stay). */
async function removePartialWrites(directory: string): Promise<void> {
  for (const bucket of await readdir(directory, { withFileTypes: true })) {
    if (!bucket.isDirectory()) continue;
    const folder = join(directory, bucket.name);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const [, pid, since] = entry.isFile() ? (PARTIAL.exec(entry.name) ?? []) : [];
      if (pid === undefined || ownerAlive({ pid: Number(pid), ...(since ? { since } : {}) })) continue;
      await rm(join(folder, entry.name), { force: true });
    }
  }
}

/**
 * Makes every object write atomic. s3rver writes an object's data, `.md5` and metadata files in
 * place: two PUTs to one key interleave their bytes (a torn object, with the ETag of neither), and
 * a process killed mid-write leaves a truncated object that lists as whole. Here each write goes to
 * temporary files that are renamed into place, under a per-key lock that reads take as well, so a
 * reader sees one version whole and a crash leaves only temporary files (removed at start).
 *
 * Renaming is ordered so that a crash between two renames never pairs data with another
 * version's `.md5`: the old `.md5` goes first, and a missing one is recomputed from the data.
 */
function makeWritesAtomic(
  store: FilesystemStore,
  hasher: FileHasher,
): {
  takeETag(bucket: string, key: string): string | undefined;
} {
  const locks = new KeyLocks();
  const lockOf = (bucket: string, key: string) => `${bucket}/${key}`;
  const path = (bucket: string, key: string, resource: string) =>
    store.getResourcePath(bucket, key, resource);
  const originalPutMetadata = store.putMetadata;
  const originalDeleteObject = store.deleteObject;
  /** ETags of completed copies, in order, for their events (s3rver's copy event has none). */
  const copied = new Map<string, string[]>();

  /** The object's data, stored metadata and MD5, read together; the caller holds the key's lock. */
  async function readParts(bucket: string, key: string) {
    const objectPath = path(bucket, key, 'object');
    // Throws ENOENT when there is no such object, which s3rver's callers expect.
    const info = await stat(objectPath);
    const stored = await readFile(path(bucket, key, 'metadata.json'), 'utf8').then(
      (text) => JSON.parse(text) as Record<string, string>,
      (error: NodeJS.ErrnoException) => {
        if (missingSidecar(error)) return {};
        throw error;
      },
    );
    let md5 = await readFile(`${objectPath}.md5`, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (missingSidecar(error)) return undefined;
      throw error;
    });
    if (md5 === undefined) {
      md5 = await hasher.md5([objectPath]);
      // Only a cache, as in s3rver: a read-only lake, or a write that fails, just recomputes it.
      const cache = partialWrite(store, bucket);
      await writeFile(cache.md5, md5)
        .then(() => rename(cache.md5, `${objectPath}.md5`))
        .catch(() => rm(cache.md5, { force: true }).catch(() => {}));
    }
    return { info, stored, md5 };
  }

  async function readMetadata(bucket: string, key: string): Promise<Record<string, string | number>> {
    const { info, stored, md5 } = await readParts(bucket, key);
    return {
      ...stored,
      etag: JSON.stringify(md5),
      'last-modified': info.mtime.toUTCString(),
      'content-length': info.size,
    };
  }

  /** Writes the metadata and `.md5` files of a write with s3rver's own rules (which headers are kept). */
  function writeSidecars(
    temp: PartialWrite,
    bucket: string,
    key: string,
    metadata: Record<string, unknown>,
    md5: string,
  ) {
    const toTemp = Object.create(store, {
      getResourcePath: {
        value: (_b: string, _k: string, resource: string) =>
          resource === 'metadata.json' ? temp.metadata : temp.md5,
      },
    }) as FilesystemStore;
    return originalPutMetadata.call(toTemp, bucket, key, metadata, md5);
  }

  /** Renames a write's files into place, the key's lock held. */
  function commit(temp: PartialWrite, bucket: string, key: string): Promise<void> {
    return locks.run(lockOf(bucket, key), async () => {
      await rm(path(bucket, key, 'object.md5'), { force: true });
      await moveInto(temp.object, path(bucket, key, 'object'));
      await moveInto(temp.metadata, path(bucket, key, 'metadata.json'));
      await moveInto(temp.md5, path(bucket, key, 'object.md5'));
    });
  }

  /** Runs a write whose files are `temp`; on any failure they are deleted and nothing changes. */
  async function writing<T>(temp: PartialWrite, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      await Promise.all(Object.values(temp).map((file) => rm(file, { force: true })));
      throw error;
    }
  }

  store.getMetadata = (bucket, key) => locks.run(lockOf(bucket, key), () => readMetadata(bucket, key));

  store.getObject = (bucket, key, options) =>
    // Resolves once the data file is open: the stream then reads that version even if a newer one
    // is renamed into place, and matches the headers read with it. s3rver's own getObject, with
    // reads of 1 MiB instead of 64 KiB (it gives no way to set them).
    locks.run(lockOf(bucket, key), async () => {
      try {
        const metadata = await readMetadata(bucket, key);
        // s3rver's reading of the Range header's numbers, kept as it is.
        const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
        const range = { start: options?.start || 0, end: Math.min(options?.end || Infinity, lastByte) };
        const object = new S3Object(bucket, key, null, metadata);
        if (options?.start !== undefined || options?.end) object.range = range;
        // An unsatisfiable range gets no content: s3rver's controller answers it (416).
        if (range.start < 0 || range.end < range.start) return object;
        object.content = await new Promise<Readable>((resolve, reject) => {
          const stream = createReadStream(path(bucket, key, 'object'), {
            ...range,
            highWaterMark: STREAM_BYTES,
          })
            .on('error', reject)
            .on('open', () => resolve(stream));
        });
        return object;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    });

  /** Writes an object atomically; `md5`, when given, is its bytes' MD5 (else hashed as written). */
  function put(object: StoredObject, md5?: Promise<string>): Promise<{ size: number; md5: string }> {
    const temp = partialWrite(store, object.bucket);
    return writing(temp, async () => {
      // Both settled before any failure is thrown: the temporary file is removed after its write.
      const [written, known] = await Promise.allSettled([
        writeData(object.content, temp.object, !md5),
        md5 ?? Promise.resolve(undefined),
      ]);
      if (written.status === 'rejected') throw written.reason;
      if (known.status === 'rejected') throw known.reason;
      const result = { size: written.value.size, md5: known.value ?? written.value.md5 ?? '' };
      await writeSidecars(temp, object.bucket, object.key, object.metadata, result.md5);
      await commit(temp, object.bucket, object.key);
      return result;
    });
  }

  store.putObject = (object) => put(object);

  store.copyObject = (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const temp = partialWrite(store, destBucket);
    return writing(temp, async () => {
      // Copied under the source's lock, with the MD5 stored beside it: one version whole, and its
      // ETag without hashing the bytes again (a copy of a single-part object keeps its ETag on S3;
      // this server's multipart ETags are the MD5 of the whole object, which a copy keeps too).
      // A copy of the file, not a hard link: the copy is a new object with its own LastModified.
      // The kernel copies it (a reflink where the file system can), far faster than a stream.
      const source = await locks.run(lockOf(srcBucket, srcKey), async () => {
        const { stored, md5 } = await readParts(srcBucket, srcKey);
        await copyFile(path(srcBucket, srcKey, 'object'), temp.object, constants.COPYFILE_FICLONE);
        return { stored, md5 };
      });
      await writeSidecars(temp, destBucket, destKey, replacementMetadata ?? source.stored, source.md5);
      await commit(temp, destBucket, destKey);
      const metadata = await store.getMetadata(destBucket, destKey);
      const lock = lockOf(destBucket, destKey);
      copied.set(lock, [...(copied.get(lock) ?? []), JSON.parse(String(metadata.etag)) as string]);
      return metadata;
    });
  };

  store.putPart = async (bucket, uploadId, partNumber, content) => {
    // s3rver's own writes each socket chunk as it comes, and pipes without error handling (a part
    // whose client goes away hangs with its file open); a part is not an object yet, so it is
    // written in place, as s3rver does, only through writeData. Its MD5 is computed from the file
    // on the hashing thread, which leaves this thread to the requests (the upload's next parts).
    const partPath = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    await mkdir(dirname(partPath), { recursive: true });
    const { size } = await writeData(content, partPath, false);
    const md5 = await hasher.md5([partPath]);
    await writeFile(`${partPath}.md5`, md5);
    return { size, md5 };
  };

  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    // s3rver's own joins the parts through 64 KiB reads, then hashes the whole on this thread; the
    // same join in 1 MiB reads, written atomically.
    const uploadDir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(join(uploadDir, 'key'), 'utf8'),
      readFile(join(uploadDir, 'metadata'), 'utf8').then(
        (text) => JSON.parse(text) as Record<string, unknown>,
      ),
    ]);
    const files = [...parts]
      .sort((a, b) => a.number - b.number)
      .map((part) => join(uploadDir, String(part.number)));
    // The MD5 of the whole is computed on the hashing thread while this one writes the join.
    const result = await put(
      { bucket, key, content: Readable.from(joined(files)), metadata },
      hasher.md5(files),
    );
    await rm(uploadDir, { recursive: true, force: true });
    return result;
  };

  store.deleteObject = (bucket, key) =>
    locks.run(lockOf(bucket, key), () => originalDeleteObject.call(store, bucket, key));

  return {
    takeETag(bucket, key) {
      const lock = lockOf(bucket, key);
      const etags = copied.get(lock);
      const etag = etags?.shift();
      if (etags?.length === 0) copied.delete(lock);
      return etag;
    },
  };
}

/**
 * True for a metadata or `.md5` file that is not there: missing, or (in a lake written before
 * long keys were refused) a name too long to exist beside its object. Either way the object is
 * listed and read, its ETag computed from its bytes, instead of breaking the bucket's listing.
 */
function missingSidecar(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'ENAMETOOLONG';
}

/** Bytes per read and per write of the server's file streams: 16× Node's default, about 2× faster. */
const STREAM_BYTES = 1 << 20;

/**
 * Streams `content` to `file`, with the MD5 of its bytes when `hash`; rejects (the file partial)
 * if the request is aborted mid-body.
 */
async function writeData(
  content: Readable | Buffer,
  file: string,
  hash = true,
): Promise<{ size: number; md5?: string }> {
  const md5 = hash ? createHash('md5') : undefined;
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5?.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  // s3rver pipes without error handling: an aborted upload would hang with its file open.
  const source = Buffer.isBuffer(content) ? [content] : content;
  // A request body arrives in socket-sized chunks (16–64 KiB): a 1 MiB buffer lets the chunks
  // that come while one write is in flight go to the file together, in one writev.
  await pipeline(source, count, createWriteStream(file, { highWaterMark: STREAM_BYTES }));
  return md5 ? { size, md5: md5.digest('hex') } : { size };
}

/** The files one after another, as one stream, read in {@link STREAM_BYTES} chunks. */
async function* joined(files: readonly string[]): AsyncGenerator<Buffer> {
  for (const file of files) yield* createReadStream(file, { highWaterMark: STREAM_BYTES });
}

/** Renames `from` to `to`, creating `to`'s folder, which a concurrent delete may have removed. */
async function moveInto(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return;
    } catch (error) {
      // s3rver's delete removes folders it empties; a rename racing it finds no folder: retry.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
}

/**
 * The hashing thread's code: plain JavaScript (no TypeScript loader runs in a worker started from
 * a test runner), reading files in {@link STREAM_BYTES} chunks.
 */
const HASH_WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
parentPort.on('message', async ({ id, files }) => {
  try {
    const hash = createHash('md5');
    for (const file of files)
      for await (const chunk of createReadStream(file, { highWaterMark: ${STREAM_BYTES} })) hash.update(chunk);
    parentPort.postMessage({ id, md5: hash.digest('hex') });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});`;

/**
 * MD5s of stored files, computed on a thread of their own: the server runs in the same thread as
 * the client and the validator, and every byte it stores is hashed, so hashing beside them is
 * about 0.2 s less of their time per 100 MB stored.
 */
class FileHasher {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (md5: string) => void; reject: (error: Error) => void }
  >();

  /** The MD5 of the files' bytes, one after another. */
  md5(files: readonly string[]): Promise<string> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, files });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const waiter of this.waiting.values()) waiter.reject(new Error('the local S3 server was closed'));
    this.waiting.clear();
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    // No inherited flags: a parent's loader or --input-type=module would change how it evaluates.
    const worker = new Worker(HASH_WORKER, { eval: true, execArgv: [] });
    worker.on(
      'message',
      ({ id, md5, error }: { id: number; md5?: string; error?: { message: string; code?: string } }) => {
        const waiter = this.waiting.get(id);
        this.waiting.delete(id);
        // Idle, the thread does not keep the process alive.
        if (this.waiting.size === 0) worker.unref();
        if (error) waiter?.reject(Object.assign(new Error(error.message), { code: error.code }));
        else waiter?.resolve(md5 ?? '');
      },
    );
    worker.on('error', (error) => {
      // The thread died (it should not): fail what waits on it; the next hash starts another.
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
      if (this.worker === worker) this.worker = undefined;
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/** One promise chain per key: tasks on a key run one at a time, in call order. */
class KeyLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** Why the local server refuses a request, as an S3 error. */
interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * Checks in front of s3rver's request handler. It stores keys as file paths, so a key with a `.`
 * or `..` segment would be written outside its bucket, one with an empty segment (`//`, a leading
 * `/`) would be stored as another key, and one with a segment longer than a file name fails with
 * a crash or a broken listing: such keys are refused with an S3 error document. It reads
 * `x-amz-copy-source` with `decodeURI`, which leaves reserved characters encoded: a key with `+`,
 * `&`, `=`, `,`, `;`, `:`, `@`, `$`, `#` or `?` (correctly percent-encoded by the SDK, as S3
 * requires) is then not found; re-encoding the header with `encodeURI` before s3rver sees it makes
 * its `decodeURI` give back the exact key. And it ignores If-Match, checked here.
 */
function guardRequests(
  server: S3rver,
  store: FilesystemStore,
  cors: ReadonlyMap<string, ReadonlySet<string>>,
): void {
  const http = (server as unknown as { httpServer: Server }).httpServer;
  const [handler] = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!handler) throw new Error('s3rver has no request handler to wrap');
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (allowedOrigin(req, res, cors)) return;
    const source = req.headers['x-amz-copy-source'];
    const refusal =
      refusalOf(req.url ?? '') ??
      (typeof source === 'string' ? refusalOf(`/${source.replace(/^\//, '')}`) : undefined);
    if (refusal) return sendError(res, refusal);
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
          ? sendError(res, {
              status: 412,
              code: 'PreconditionFailed',
              message: 'At least one of the pre-conditions you specified did not hold',
            })
          : handler(req, res),
      () => handler(req, res),
    );
  });
}

/**
 * Sets the CORS headers of a request to a bucket from an origin allowed to upload there; true when
 * it was a preflight, answered here.
 */
function allowedOrigin(
  req: IncomingMessage,
  res: ServerResponse,
  cors: ReadonlyMap<string, ReadonlySet<string>>,
): boolean {
  const origin = req.headers.origin;
  const bucket = splitPath(req.url ?? '')?.bucket;
  if (origin === undefined || bucket === undefined || !cors.get(bucket)?.has(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', 'ETag, x-amz-version-id');
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', 'POST');
  const headers = req.headers['access-control-request-headers'];
  if (headers) res.setHeader('Access-Control-Allow-Headers', headers);
  res.setHeader('Access-Control-Max-Age', '600');
  res.writeHead(204).end();
  return true;
}

/** The bucket and decoded key of a path-style request path or copy source (`/bucket/key?query`). */
function splitPath(pathAndQuery: string): { bucket: string; key: string } | undefined {
  const path = pathAndQuery.split('?')[0] ?? '';
  const slash = path.indexOf('/', 1);
  try {
    // Decoded whole: `%2F` is a `/` once s3rver's router decodes the key.
    const bucket = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash));
    return { bucket, key: slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1)) };
  } catch {
    return undefined; // a malformed escape is s3rver's to reject
  }
}

/** Why a request path or copy source names a key this server cannot store, if it does. */
function refusalOf(pathAndQuery: string): Refusal | undefined {
  const parts = splitPath(pathAndQuery);
  if (!parts) return undefined;
  const { bucket, key } = parts;
  const shown = JSON.stringify(clip(key));
  const segments = key.split('/');
  if (bucket === '.' || bucket === '..' || segments.some((s) => s === '.' || s === '..'))
    return {
      status: 400,
      code: 'InvalidArgument',
      message: `the local S3 server does not store keys with "." or ".." path segments: ${JSON.stringify(clip(`${bucket}/${key}`))}`,
    };
  if (key === '') return undefined;
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_KEY_BYTES)
    return {
      status: 400,
      code: 'KeyTooLongError',
      message: `your key is too long: ${bytes} bytes of UTF-8, S3 allows at most ${MAX_KEY_BYTES}: ${shown}`,
    };
  if (segments.slice(0, -1).includes(''))
    return {
      status: 400,
      code: 'InvalidArgument',
      message: `the local S3 server does not store keys with an empty path segment ("//" or a leading "/"), which S3 does: ${shown}`,
    };
  const last = Buffer.byteLength(segments.at(-1) ?? '');
  const folder = segments.slice(0, -1).find((s) => Buffer.byteLength(s) > MAX_FOLDER_BYTES);
  if (last > MAX_NAME_BYTES || folder !== undefined)
    return {
      status: 400,
      code: 'KeyTooLongError',
      message:
        folder === undefined
          ? `the local S3 server stores at most ${MAX_NAME_BYTES} bytes of UTF-8 after a key's last "/" (a file name; S3 allows ${MAX_KEY_BYTES} for the whole key), this key has ${last}: ${shown}`
          : `the local S3 server stores at most ${MAX_FOLDER_BYTES} bytes of UTF-8 between two "/" of a key (a folder name; S3 allows ${MAX_KEY_BYTES} for the whole key), this key has ${Buffer.byteLength(folder)}: ${shown}`,
    };
  return undefined;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function sendError(res: ServerResponse, { status, code, message }: Refusal): void {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the request carries an If-Match (or copy-source If-Match) its object does not meet. */
async function preconditionFails(store: FilesystemStore, req: IncomingMessage): Promise<boolean> {
  let target: string | undefined;
  let expected: string | undefined;
  const ifMatch = req.headers['if-match'];
  const copyIfMatch = req.headers['x-amz-copy-source-if-match'];
  if ((req.method === 'GET' || req.method === 'HEAD') && typeof ifMatch === 'string') {
    target = req.url;
    expected = ifMatch;
  } else if (req.method === 'PUT' && typeof copyIfMatch === 'string') {
    target = `/${String(req.headers['x-amz-copy-source'] ?? '').replace(/^\//, '')}`;
    expected = copyIfMatch;
  }
  if (target === undefined || expected === undefined || expected.trim() === '*') return false;
  const parts = splitPath(target);
  if (!parts?.bucket || !parts.key) return false;
  const metadata = await store.getMetadata(parts.bucket, parts.key).catch(() => undefined);
  // A missing object is s3rver's to answer (NoSuchKey).
  if (!metadata?.etag) return false;
  const bare = (etag: string) => etag.trim().replace(/^W\//, '').replace(/"/g, '');
  return bare(String(metadata.etag)) !== bare(expected);
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

/** Listens on 127.0.0.1:`port` and closes again; rejects with the listen error (EADDRINUSE, EACCES). */
function tryListen(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
