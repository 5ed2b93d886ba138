/**
 * The local endpoint's S3 promises, end to end through the local runtime (issue 12): a server-side
 * copy into landing starts the pipeline as on AWS (F5), keys at the endpoint's limits reach curated
 * (F3), and an object whose key ends in `/` is filed in the failure zone when it holds data and
 * ignored when it is an empty folder marker (F9).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorReport } from '../../lambdas/validate/core.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { MAX_FOLDER_BYTES } from '../../lib/local/s3-server.ts';
import { ORDERS_HEADER } from '../../lib/samples/orders-generator.ts';

const VALID = `${ORDERS_HEADER}1,Ann,ABC-12345,2,12.50,USD,0.1,true,2024-02-29T10:00:00+01:00,2024-03-01\n`;

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await LocalRuntime.start({ lakeDir: await mkdtemp(join(tmpdir(), 'lake-s3-')) });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
});

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const page = await runtime.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key ?? '');
}

async function executionsOf(key: string) {
  return (await runtime.executions.list()).filter((r) => r.input.key === key);
}

describe('a server-side copy into landing', () => {
  it('answers 200 and starts exactly one execution, which ends curated', async () => {
    // Prepare
    await runtime.land('orders/copy-source.csv', VALID);

    // Act
    const copy = await runtime.client.send(
      new CopyObjectCommand({
        Bucket: LOCAL_BUCKETS.landing,
        Key: 'orders/copied here.csv',
        CopySource: `${LOCAL_BUCKETS.landing}/orders/copy-source.csv`,
      }),
    );
    await runtime.idle();

    // Assess
    expect(copy.$metadata.httpStatusCode).toBe(200);
    const records = await executionsOf('orders/copied here.csv');
    expect(records.map((r) => [r.status, r.outcome, r.input.etag])).toEqual([
      ['SUCCEEDED', 'curated', copy.CopyObjectResult?.ETag?.replaceAll('"', '')],
    ]);
  }, 60_000);
});

describe('keys at the local endpoint’s limits, through the pipeline', () => {
  it.each([
    { label: 'a 233-byte file name', key: `orders/${'a'.repeat(229)}.csv` },
    { label: 'a 72-character Japanese name (220 bytes)', key: `orders/${'売上データ'.repeat(14)}あい.csv` },
    {
      label: 'a 1,024-byte key in 100-byte folders',
      key: `orders/${'f'.repeat(100).concat('/').repeat(9)}${'n'.repeat(104)}.csv`,
    },
    { label: 'a 255-byte folder', key: `orders/${'f'.repeat(MAX_FOLDER_BYTES)}/x.csv` },
  ])(
    '$label is curated, every zone key within the endpoint’s name limit',
    async ({ key }) => {
      // Act
      const record = await runtime.land(key, VALID);

      // Assess
      expect([record.status, record.outcome, record.error]).toEqual(['SUCCEEDED', 'curated', undefined]);
      expect(await keys(LOCAL_BUCKETS.landing, key)).toEqual([key]);
      expect(record.curated).toHaveLength(1);
      const written = [...(await keys(LOCAL_BUCKETS.raw)), ...(record.curated ?? [])];
      for (const zoneKey of written)
        expect(Buffer.byteLength(zoneKey.split('/').at(-1)!)).toBeLessThanOrEqual(233);
    },
    60_000,
  );
});

describe('an object whose key ends in "/"', () => {
  it('ends in the failure zone with its reason when it holds data', async () => {
    // Act
    const record = await runtime.land('orders/sub/', VALID);

    // Assess
    expect([record.status, record.outcome]).toEqual(['SUCCEEDED', 'rejected']);
    const failed = await keys(LOCAL_BUCKETS.failure, 'orders/');
    const file = failed.find((k) => /\/sub__\.[0-9a-f]{8}$/.test(k));
    expect(file, failed.join(', ')).toBeDefined();
    const report = await runtime.client.send(
      new GetObjectCommand({ Bucket: LOCAL_BUCKETS.failure, Key: `${file}.errors.json` }),
    );
    const body = JSON.parse(await report.Body!.transformToString()) as ErrorReport;
    expect(body.reason).toBe('not_csv');
    expect(body.errors.map((e) => e.message)).toEqual([
      `"orders/sub/" ends in "/", a folder name, yet holds ${Buffer.byteLength(VALID)} bytes: land files as <dataset>/<file>.csv or .csv.gz`,
    ]);
  }, 60_000);

  it('starts nothing when it is an empty folder marker', async () => {
    // Act
    await runtime.client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: 'orders/empty/', Body: Buffer.alloc(0) }),
    );
    await runtime.idle();

    // Assess
    expect(await keys(LOCAL_BUCKETS.landing, 'orders/empty/')).toEqual(['orders/empty/']);
    expect(await executionsOf('orders/empty/')).toEqual([]);
  });
});
