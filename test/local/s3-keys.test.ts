/**
 * Keys at the local S3 endpoint's limits (issue 12, F3, F25): any key S3 accepts is stored and
 * comes back exactly through PUT, GET and LIST, or is refused with an S3 error code and a message
 * naming the limit and the key; the server stays up and its listings keep working either way.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NAME_BYTES, zoneFileName, zoneKey } from '../../lambdas/validate/core.ts';
import { dataFileKey } from '../../lib/conversion/csv-to-parquet.ts';
import { type LocalS3, localS3Client, MAX_FOLDER_BYTES, startLocalS3 } from '../../lib/local/s3-server.ts';
import { ingestRequest } from '../unit/lambdas/helpers.ts';

let dir: string;
let server: LocalS3;
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-keys-'));
  server = await startLocalS3({ directory: dir, buckets: ['landing'] });
  client = localS3Client(server.endpoint);
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

/** Every key of the bucket, through as many pages as it takes: throws if a listing breaks. */
async function listAll(): Promise<string[]> {
  const all: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'landing', ContinuationToken: token }));
    all.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return all;
}

/** The server's answer to a PUT of `key`: accepted, or its status, S3 error code and message. */
async function put(key: string, body = `body of ${key.length}`) {
  try {
    await client.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: body }));
    return 'accepted';
  } catch (error) {
    const e = error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, code: e.Code, message: e.message };
  }
}

const bytes = (text: string) => Buffer.byteLength(text);
/** A name of exactly `n` bytes of UTF-8 ending in `.csv`, made of `ch` and ASCII padding. */
const name = (n: number, ch = 'a') => {
  const whole = Math.floor((n - 4) / bytes(ch));
  return `${ch.repeat(whole)}${'p'.repeat(n - 4 - whole * bytes(ch))}.csv`;
};

describe('keys the local endpoint stores', () => {
  const STORED = [
    ...[200, 220, 232, 233].map((n) => ({ label: `a ${n}-byte file name`, key: `orders/${name(n)}` })),
    { label: 'a 233-byte name of é (2 bytes each)', key: `orders/${name(233, 'é')}` },
    { label: 'a 233-byte name of 😀 (4 bytes each)', key: `orders/${name(233, '😀')}` },
    {
      label: 'a 72-character Japanese name (220 bytes)',
      key: `orders/${'売上データ'.repeat(14)}あい.csv`,
    },
    { label: 'a 255-byte folder name', key: `orders/${'f'.repeat(255)}/x.csv` },
    {
      label: 'a key of exactly 1,024 bytes in 100-byte folders',
      key: `orders/${'f'.repeat(100).concat('/').repeat(9)}${name(1024 - 7 - 909)}`,
    },
  ];

  it.each(STORED)('$label: round-trips exactly through PUT, GET, HEAD and LIST', async ({ key }) => {
    // Act
    const reply = await put(key, `body of ${key}`);

    // Assess
    expect(reply).toBe('accepted');
    const got = await client.send(new GetObjectCommand({ Bucket: 'landing', Key: key }));
    expect(await got.Body!.transformToString()).toBe(`body of ${key}`);
    await client.send(new HeadObjectCommand({ Bucket: 'landing', Key: key }));
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'landing', Prefix: key }));
    expect(page.Contents?.map((o) => o.Key)).toEqual([key]);
    expect(await listAll()).toContain(key);
  });

  it('tests the limits it claims: the 1,024-byte key and the 233- and 255-byte names are exact', () => {
    expect(STORED.map(({ key }) => bytes(key)).sort((a, b) => b - a)[0]).toBe(1024);
    expect(bytes(STORED[3]!.key.slice('orders/'.length))).toBe(MAX_NAME_BYTES);
    expect(MAX_NAME_BYTES).toBe(233);
    expect(MAX_FOLDER_BYTES).toBe(255);
  });
});

describe('keys the local endpoint refuses, with an S3 error and a clear message', () => {
  const REFUSED = [
    ...[234, 240, 241, 255, 260].map((n) => ({
      key: `orders/${name(n)}`,
      code: 'KeyTooLongError',
      message: `the local S3 server stores at most 233 bytes of UTF-8 after a key's last "/" (a file name; S3 allows 1024 for the whole key), this key has ${n}`,
    })),
    {
      key: `orders/${name(234, 'é')}`,
      code: 'KeyTooLongError',
      message: `the local S3 server stores at most 233 bytes of UTF-8 after a key's last "/" (a file name; S3 allows 1024 for the whole key), this key has 234`,
    },
    {
      key: `orders/${'f'.repeat(256)}/x.csv`,
      code: 'KeyTooLongError',
      message: `the local S3 server stores at most 255 bytes of UTF-8 between two "/" of a key (a folder name; S3 allows 1024 for the whole key), this key has 256`,
    },
    {
      key: `orders/${'f'.repeat(100).concat('/').repeat(9)}${name(1025 - 7 - 909)}`,
      code: 'KeyTooLongError',
      message: 'your key is too long: 1025 bytes of UTF-8, S3 allows at most 1024',
    },
    {
      key: 'orders//double-slash.csv',
      code: 'InvalidArgument',
      message: `the local S3 server does not store keys with an empty path segment ("//" or a leading "/"), which S3 does`,
    },
    {
      key: '/orders/lead.csv',
      code: 'InvalidArgument',
      message: `the local S3 server does not store keys with an empty path segment ("//" or a leading "/"), which S3 does`,
    },
  ];

  it.each(REFUSED)('$code for $key', async ({ key, code, message }) => {
    // Prepare
    const before = await listAll();

    // Act
    const reply = await put(key);

    // Assess: the message names the limit and shows the key; nothing is stored, listings still work
    expect(reply).toEqual({ status: 400, code, message: `${message}: ${JSON.stringify(clip(key))}` });
    expect(await listAll()).toEqual(before);
    expect(await put('orders/after.csv')).toBe('accepted');
    // s3rver would have stored it at this path, `//` collapsed, had it been let through.
    const path = `${join(...key.split('/').filter(Boolean))}._S3rver_object`;
    expect(await readdir(join(dir, 'landing'), { recursive: true })).not.toContain(path);
  });

  it('refuses a read of such a key with the same error, not a 500', async () => {
    const key = `orders/${name(240)}`;

    const read = client.send(new GetObjectCommand({ Bucket: 'landing', Key: key })).catch((e: Error) => e);

    expect(await read).toMatchObject({ Code: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } });
  });
});

describe('the names the lake derives from a landing key', () => {
  it.each(['_', '.', 'a', 'é', '😀'])(
    'fit the local name limit at worst (a long name starting with %s): raw, curated, failure reports',
    (first) => {
      // Prepare: the longest landing name, one whose curated stem is percent-encoded (`_` → `%5F`)
      const request = ingestRequest(`orders/${first}${'x'.repeat(MAX_NAME_BYTES)}.csv`);

      // Act
      const raw = zoneKey('orders', '2024-03-02', zoneFileName(request));
      const curated = dataFileKey(
        's3://curated/orders/iceberg/data/ingest_date=2024-03-02/',
        `s3://raw/${raw}`,
        'r'.repeat(80),
        'f'.repeat(16),
        99_999,
      );

      // Assess
      for (const derived of [raw, curated, `${raw}.errors.json`, `${raw}.errors.99999.jsonl`])
        expect(bytes(derived.slice(derived.lastIndexOf('/') + 1)), derived).toBeLessThanOrEqual(
          MAX_NAME_BYTES,
        );
    },
  );
});

describe('a lake written before the limits were enforced', () => {
  it('lists an object whose name is too long for its metadata files, instead of breaking every listing', async () => {
    // Prepare: what a 238-byte name left behind (F3): the object file, its sidecars impossible
    const key = `damaged/${name(238)}`;
    await mkdir(join(dir, 'landing', 'damaged'), { recursive: true });
    await writeFile(join(dir, 'landing', `${key}._S3rver_object`), 'old bytes');

    // Act
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'landing', Prefix: 'damaged/' }));

    // Assess
    expect(listed.Contents?.map((o) => [o.Key, o.Size, o.ETag])).toEqual([
      [key, 9, `"${createHash('md5').update('old bytes').digest('hex')}"`],
    ]);
    expect((await listAll()).length).toBeGreaterThan(1);
  });
});

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
