/**
 * The local S3 endpoint keeps S3's write promises (issue 12): a PUT is atomic, so concurrent PUTs
 * to one key leave one body whole with its own ETag, and an upload or a multipart completion that
 * is interrupted (the client gone, or the server killed) never leaves a partial object listed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, stat, utimes } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const bare = (etag: string | undefined) => (etag ?? '').replaceAll('"', '');

/** `length` bytes that differ from any other `fill`'s at every position. */
const body = (fill: number, length: number) => Buffer.alloc(length, fill);

async function keys(
  client: S3Client,
  bucket: string,
): Promise<{ key: string; etag: string; size: number }[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => ({ key: o.Key ?? '', etag: bare(o.ETag), size: o.Size ?? -1 }));
}

async function read(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Every file under `dir` with its size (paths relative to it). */
async function files(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      found.set(path.slice(dir.length + 1), (await stat(path).catch(() => ({ size: -1 }))).size);
    }
  return found;
}

/**
 * Starts a PUT of `total` bytes and sends only `sent` of them; the request is left open. Unsigned:
 * s3rver takes anonymous requests, and a raw request is the only way to stop mid-body.
 */
function partialPut(port: number, path: string, total: number, sent: number) {
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'PUT',
    path,
    headers: { 'content-length': total },
  });
  const ended = new Promise<string>((resolve) => {
    req.on('response', (res) => resolve(`HTTP ${res.statusCode}`));
    req.on('error', (error) => resolve(error.message));
  });
  req.write(body(7, sent));
  return { abort: () => req.destroy(), ended };
}

/**
 * Waits until a file under `dir` that is not in `before` (nor an upload part) holds between 1 and
 * `total - 1` bytes: the server is half way through writing the object, wherever it writes it.
 */
async function halfWritten(dir: string, before: Map<string, number>, total: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const sizes = [...(await files(dir))].filter(
        ([path]) => !before.has(path) && !path.includes('._S3rver_uploads'),
      );
      if (!sizes.some(([, size]) => size > 0 && size < total)) throw new Error('no partial write yet');
    },
    { timeout: 30_000, interval: 1 },
  );
}

describe('in one process', () => {
  let dir: string;
  let server: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-atomic-'));
    server = await startLocalS3({ directory: dir, buckets: ['a', 'b'] });
    client = localS3Client(server.endpoint);
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('concurrent PUTs to one key leave exactly one body whole, listed with the ETag of its bytes', async () => {
    for (let round = 0; round < 20; round++) {
      // Prepare: 2 to 4 different bodies of different lengths, so torn bytes cannot pass for one
      const count = 2 + (round % 3);
      const bodies = Array.from({ length: count }, (_, i) => body(65 + i, 300_000 + i * 170_001 + round));
      const key = `orders/race-${round}.csv`;

      // Act
      const puts = await Promise.all(
        bodies.map((b) => client.send(new PutObjectCommand({ Bucket: 'a', Key: key, Body: b }))),
      );

      // Assess
      const stored = await read(client, 'a', key);
      const winner = bodies.findIndex((b) => b.equals(stored));
      expect(winner, `round ${round}: the stored object is none of the bodies whole`).toBeGreaterThanOrEqual(
        0,
      );
      expect(bare(puts[winner]!.ETag)).toBe(md5(stored));
      const head = await client.send(new HeadObjectCommand({ Bucket: 'a', Key: key }));
      expect(bare(head.ETag)).toBe(md5(stored));
      expect((await keys(client, 'a')).find((o) => o.key === key)).toEqual({
        key,
        etag: md5(stored),
        size: stored.length,
      });
    }
  });

  it('an upload whose client goes away mid-body leaves nothing: not listed, no file left behind', async () => {
    // Prepare: 1 MiB announced, 256 KiB sent, and on the server's disk
    const before = await files(dir);
    const upload = partialPut(server.port, '/a/orders/cut.csv', 1 << 20, 1 << 18);
    await halfWritten(dir, before, 1 << 20);
    const whileWriting = await keys(client, 'a');

    // Act
    upload.abort();
    await upload.ended;

    // Assess: the server removes its temporary file once the request is gone
    expect(whileWriting.map((o) => o.key)).not.toContain('orders/cut.csv');
    await vi.waitFor(async () => expect(await files(dir)).toEqual(before), { timeout: 10_000 });
    expect((await keys(client, 'a')).map((o) => o.key)).not.toContain('orders/cut.csv');
  });

  it("a second server started on the folder leaves a live writer's temporary file alone", async () => {
    // Prepare: a write in progress (as a `local ingest` uploading while `local status` starts)
    const before = await files(dir);
    const upload = partialPut(server.port, '/a/orders/slow.csv', 1 << 20, 1 << 18);
    await halfWritten(dir, before, 1 << 20);
    const writing = [...(await files(dir)).keys()].filter((path) => !before.has(path));

    // Act
    const second = await startLocalS3({ directory: dir, buckets: ['a', 'b'] });
    await second.close();

    // Assess
    try {
      expect(writing).toEqual([expect.stringMatching(/^a\/\.s3-partial-\d+-\d*-[0-9a-f]{32}\.object$/)]);
      expect([...(await files(dir)).keys()]).toEqual(expect.arrayContaining(writing));
    } finally {
      upload.abort();
      await upload.ended;
    }
  });

  it('a copy sends ObjectCreated:Copy with the ETag of the bytes copied, as S3 does', async () => {
    // Prepare
    const records: { eventName: string; key: string; eTag: string; size: number }[] = [];
    server.onObjectCreated((r) => {
      const { key, eTag, size } = r.s3.object;
      records.push({ eventName: r.eventName, key, eTag, size });
    });
    const bytes = body(66, 1000);
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: 'orders/src.csv', Body: bytes }));

    // Act
    const copy = await client.send(
      new CopyObjectCommand({ Bucket: 'b', Key: 'orders/copied.csv', CopySource: 'a/orders/src.csv' }),
    );

    // Assess
    expect(bare(copy.CopyObjectResult?.ETag)).toBe(md5(bytes));
    expect(records.filter((r) => r.eventName === 'ObjectCreated:Copy')).toEqual([
      { eventName: 'ObjectCreated:Copy', key: 'orders/copied.csv', eTag: md5(bytes), size: 1000 },
    ]);
    expect(await read(client, 'b', 'orders/copied.csv')).toEqual(bytes);
  });

  it('a copy is a new object: its own LastModified, and the source stays as it was', async () => {
    // Prepare: the source's file dated in the past, as an object stored a while ago is
    const bytes = body(67, 5000);
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: 'orders/old.csv', Body: bytes }));
    const stored = [...(await files(dir)).keys()].find((path) =>
      path.startsWith('a/orders/old.csv._S3rver_object'),
    );
    const past = new Date('2020-01-01T00:00:00Z');
    await utimes(join(dir, stored!), past, past);

    // Act
    const copy = await client.send(
      new CopyObjectCommand({ Bucket: 'b', Key: 'orders/new.csv', CopySource: 'a/orders/old.csv' }),
    );

    // Assess: a file linked to the source would share its date (and its later changes)
    const source = await client.send(new HeadObjectCommand({ Bucket: 'a', Key: 'orders/old.csv' }));
    const copied = await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'orders/new.csv' }));
    expect(source.LastModified).toEqual(past);
    expect(copied.LastModified!.getTime()).toBeGreaterThan(past.getTime());
    expect(copy.CopyObjectResult?.LastModified).toEqual(copied.LastModified);
    expect(bare(copied.ETag)).toBe(md5(bytes));
    expect(await read(client, 'b', 'orders/new.csv')).toEqual(bytes);
  });

  it('a copy onto itself (metadata replaced) keeps the bytes and ETag and leaves no file behind', async () => {
    // Prepare
    const bytes = body(68, 3000);
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: 'orders/self.csv', Body: bytes }));
    const before = await files(dir);

    // Act
    const copy = await client.send(
      new CopyObjectCommand({
        Bucket: 'a',
        Key: 'orders/self.csv',
        CopySource: 'a/orders/self.csv',
        MetadataDirective: 'REPLACE',
        Metadata: { note: 'again' },
      }),
    );

    // Assess
    expect(bare(copy.CopyObjectResult?.ETag)).toBe(md5(bytes));
    const head = await client.send(new HeadObjectCommand({ Bucket: 'a', Key: 'orders/self.csv' }));
    expect(head.Metadata).toEqual({ note: 'again' });
    expect(await read(client, 'a', 'orders/self.csv')).toEqual(bytes);
    expect([...(await files(dir)).keys()].sort()).toEqual([...before.keys()].sort());
  });

  it('a multipart upload is joined in part order, with the MD5 of each part and of the whole as ETags, and its parts removed', async () => {
    // Prepare: parts sent last to first, each a different byte
    const key = 'orders/joined.csv';
    const parts = [1, 2, 3].map((n) => body(80 + n, (5 << 20) + n * 1000));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'a', Key: key }));
    const sent = [];
    for (const n of [3, 2, 1]) {
      const part = await client.send(
        new UploadPartCommand({ Bucket: 'a', Key: key, UploadId, PartNumber: n, Body: parts[n - 1] }),
      );
      sent.unshift({ PartNumber: n, ETag: part.ETag });
    }

    // Act
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'a',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: sent },
      }),
    );

    // Assess
    const whole = Buffer.concat(parts);
    // Compared by digest: a deep equality of megabytes takes minutes.
    expect(md5(await read(client, 'a', key))).toBe(md5(whole));
    expect(bare(done.ETag)).toBe(md5(whole));
    expect(sent.map((part) => bare(part.ETag))).toEqual(parts.map(md5));
    expect([...(await files(dir)).keys()].filter((path) => path.includes(UploadId!))).toEqual([]);
  });

  it('a copy of a multipart object keeps its ETag, the MD5 of the bytes', async () => {
    // Prepare: lib-storage's upload of 12 MiB in 5 MiB parts, as a producer's client sends it
    const bytes = Buffer.concat([body(90, 6 << 20), body(91, 6 << 20)]);
    const uploaded = await new Upload({
      client,
      params: { Bucket: 'a', Key: 'orders/big.csv', Body: bytes },
    }).done();

    // Act
    const copy = await client.send(
      new CopyObjectCommand({ Bucket: 'b', Key: 'orders/big.csv', CopySource: 'a/orders/big.csv' }),
    );

    // Assess
    expect(bare(uploaded.ETag)).toBe(md5(bytes));
    expect(bare(copy.CopyObjectResult?.ETag)).toBe(md5(bytes));
    expect(md5(await read(client, 'b', 'orders/big.csv'))).toBe(md5(bytes));
  });

  it('answers 200 when an object-created listener throws, and says so on stderr', async () => {
    // Prepare: the object is stored either way; a 500 would make the client store it again
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    server.onObjectCreated((r) => {
      if (r.s3.object.key === 'orders/listener.csv') throw new Error('listener bug');
    });

    // Act
    const put = client.send(new PutObjectCommand({ Bucket: 'a', Key: 'orders/listener.csv', Body: 'x' }));

    // Assess
    await expect(put).resolves.toMatchObject({ ETag: `"${md5(Buffer.from('x'))}"` });
    expect(errors).toHaveBeenCalledWith(
      'local s3: the object-created listener failed for s3://a/orders/listener.csv: listener bug',
    );
  });
});

describe('after the server process is killed (kill -9) and started again', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  /** The local S3 server in a child process over `dir`; resolves with its port. */
  async function startChild(): Promise<number> {
    const script = `import { startLocalS3 } from './lib/local/s3-server.ts';
      const s = await startLocalS3({ directory: ${JSON.stringify(dir)}, buckets: ['a'] });
      console.log(s.port);`;
    child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = child;
    return new Promise((resolve, reject) => {
      started.stdout!.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
      started.once('exit', (code) => reject(new Error(`the server child exited with ${code}`)));
    });
  }

  function kill(): Promise<void> {
    const killed = child!;
    return new Promise((resolve) => {
      killed.once('exit', () => resolve());
      killed.kill('SIGKILL');
    });
  }

  /** What a restarted server lists, and the files its start left on disk. */
  async function restart(): Promise<{
    listed: { key: string; etag: string; size: number }[];
    left: string[];
  }> {
    const server = await startLocalS3({ directory: dir, buckets: ['a'] });
    const client = localS3Client(server.endpoint);
    try {
      return { listed: await keys(client, 'a'), left: [...(await files(dir)).keys()] };
    } finally {
      client.destroy();
      await server.close();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-crash-'));
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await kill();
    child = undefined;
  });

  it('a PUT killed mid-body leaves no object, and no temporary file once restarted', async () => {
    // Prepare
    const port = await startChild();
    const upload = partialPut(port, '/a/orders/killed.csv', 4 << 20, 1 << 20);
    await halfWritten(dir, new Map(), 4 << 20);

    // Act
    await kill();
    await upload.ended;
    const { listed, left } = await restart();

    // Assess
    expect(listed.map((o) => o.key)).not.toContain('orders/killed.csv');
    expect(left.filter((path) => !path.includes('._S3rver_uploads'))).toEqual([]);
  }, 60_000);

  it('a multipart completion killed mid-write leaves no truncated object', async () => {
    // Prepare: three 16 MiB parts, so that writing the 48 MiB object takes a while
    const port = await startChild();
    const client = localS3Client(`http://127.0.0.1:${port}`);
    const key = 'orders/multipart.csv';
    const total = 3 * (16 << 20);
    try {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'a', Key: key }));
      const parts = [];
      const before = await files(dir);
      for (let n = 1; n <= 3; n++) {
        const part = await client.send(
          new UploadPartCommand({
            Bucket: 'a',
            Key: key,
            UploadId,
            PartNumber: n,
            Body: body(64 + n, 16 << 20),
          }),
        );
        parts.push({ PartNumber: n, ETag: part.ETag });
      }
      const completion = client
        .send(
          new CompleteMultipartUploadCommand({
            Bucket: 'a',
            Key: key,
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        )
        .catch((error: Error) => error);
      await halfWritten(dir, before, total);

      // Act
      await kill();
      await completion;
    } finally {
      client.destroy();
    }
    const { listed, left } = await restart();

    // Assess: the parts may stay (an unfinished upload, as on S3); no object, whole or not
    expect(listed).toEqual([]);
    expect(left.filter((path) => !path.includes('._S3rver_uploads'))).toEqual([]);
  }, 120_000);
});
