/** The embedded S3 server's fixes over s3rver, which the pipeline's guarantees rely on locally. */
import { createHash } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';

let server: LocalS3;
let client: S3Client;

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 's3-'));
  server = await startLocalS3({ directory, buckets: ['a', 'b'] });
  client = localS3Client(server.endpoint);
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (error: Error) => error.name,
  );
const encoded = (key: string) => key.split('/').map(encodeURIComponent).join('/');

describe('reads and copies pinned to an ETag (s3rver alone ignores If-Match)', () => {
  it('fail with PreconditionFailed once the object was replaced, as on S3', async () => {
    // Prepare: version 1 is landed, then replaced by version 2 under the same key.
    const key = 'orders/ingest_date=2024-01-01/a b+c.csv';
    const v1 = await client.send(new PutObjectCommand({ Bucket: 'a', Key: key, Body: 'one' }));
    const v2 = await client.send(new PutObjectCommand({ Bucket: 'a', Key: key, Body: 'two' }));

    // Act
    const staleRead = outcome(client.send(new GetObjectCommand({ Bucket: 'a', Key: key, IfMatch: v1.ETag })));
    const freshRead = await client.send(new GetObjectCommand({ Bucket: 'a', Key: key, IfMatch: v2.ETag }));
    const staleCopy = outcome(
      client.send(
        new CopyObjectCommand({
          Bucket: 'b',
          Key: 'x',
          CopySource: `a/${encoded(key)}`,
          CopySourceIfMatch: v1.ETag,
        }),
      ),
    );
    const freshCopy = outcome(
      client.send(
        new CopyObjectCommand({
          Bucket: 'b',
          Key: 'y',
          CopySource: `a/${encoded(key)}`,
          CopySourceIfMatch: v2.ETag,
        }),
      ),
    );

    // Assess
    expect(await staleRead).toBe('PreconditionFailed');
    expect(await freshRead.Body!.transformToString()).toBe('two');
    expect(await staleCopy).toBe('PreconditionFailed');
    expect(await freshCopy).toBe('ok');
  });

  it('copies keys with reserved characters, which s3rver alone cannot find', async () => {
    const key = 'orders/a+b=c&d.csv';
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: key, Body: 'x' }));

    expect(
      await outcome(
        client.send(new CopyObjectCommand({ Bucket: 'b', Key: key, CopySource: `a/${encoded(key)}` })),
      ),
    ).toBe('ok');
  });
});

describe('a port already in use', () => {
  it('rejects the start with EADDRINUSE instead of ending the process, and the server serving it stays up', async () => {
    const second = startLocalS3({
      directory: await mkdtemp(join(tmpdir(), 's3-')),
      buckets: ['a'],
      port: server.port,
    });

    await expect(second).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: 'still-up.txt', Body: 'x' }));
  });
});

describe('reads (s3rver answers them; the server reads the file itself, in larger chunks)', () => {
  it('return the whole object, a byte range as 206, and refuse a range past the end as S3 does', async () => {
    // Prepare: 3 MiB, so the reads span several chunks, each byte telling its position
    const bytes = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 7 + (i >> 16)) % 251));
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: 'orders/read.bin', Body: bytes }));
    const get = (Range?: string) =>
      client.send(new GetObjectCommand({ Bucket: 'a', Key: 'orders/read.bin', Range }));

    // Act
    const whole = await get();
    const middle = await get(`bytes=${(1 << 20) - 3}-${(2 << 20) + 4}`);
    const tail = await get(`bytes=${(3 << 20) - 10}-`);
    const past = await outcome(get(`bytes=${3 << 20}-`));
    const missing = await outcome(client.send(new GetObjectCommand({ Bucket: 'a', Key: 'orders/none.bin' })));

    // Assess: compared with equals(): a deep equality of megabytes takes minutes
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    expect(middle.$metadata.httpStatusCode).toBe(206);
    expect(middle.ContentRange).toBe(`bytes ${(1 << 20) - 3}-${(2 << 20) + 4}/${3 << 20}`);
    const middleBytes = Buffer.from(await middle.Body!.transformToByteArray());
    expect(middleBytes.equals(bytes.subarray((1 << 20) - 3, (2 << 20) + 5))).toBe(true);
    expect(Buffer.from(await tail.Body!.transformToByteArray()).equals(bytes.subarray(-10))).toBe(true);
    expect(past).toBe('InvalidRange');
    expect(missing).toBe('NoSuchKey');
  });
});

describe('an object whose stored MD5 is gone (a lake from a crash, or an older s3rver)', () => {
  it('gets its ETag from its bytes again, and the MD5 is stored for the next read', async () => {
    // Prepare: s3rver keeps the MD5 beside the data as <key>._S3rver_object.md5.
    const body = Buffer.from('id\n1\n2\n');
    await client.send(new PutObjectCommand({ Bucket: 'a', Key: 'no-md5/x.csv', Body: body }));
    const sidecar = join(directory, 'a', 'no-md5', 'x.csv._S3rver_object.md5');
    await access(sidecar);
    await rm(sidecar);

    // Act
    const read = await client.send(new GetObjectCommand({ Bucket: 'a', Key: 'no-md5/x.csv' }));
    await read.Body!.transformToByteArray();

    // Assess
    expect(read.ETag).toBe(JSON.stringify(createHash('md5').update(body).digest('hex')));
    await expect(access(sidecar)).resolves.toBeUndefined();
  });
});
