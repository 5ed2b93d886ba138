/** The embedded S3 server's fixes over s3rver, which the pipeline's guarantees rely on locally. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';

let server: LocalS3;
let client: S3Client;

beforeAll(async () => {
  server = await startLocalS3({ directory: await mkdtemp(join(tmpdir(), 's3-')), buckets: ['a', 'b'] });
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
