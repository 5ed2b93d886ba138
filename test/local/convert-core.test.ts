/**
 * The Convert Lambda's core against a local S3 server and DuckDB: its output, and which failures
 * it reports as running out of a resource (the workflow hands those to Glue) and which as a bad
 * file (those fail, as on Glue).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertInLambda } from '../../lambdas/convert/core.ts';
import type { GlueJobArguments } from '../../lambdas/shared/contract.ts';
import {
  ConversionError,
  convertCsvToParquet,
  exhaustedResource,
  ResourceLimitError,
} from '../../lib/conversion/csv-to-parquet.ts';
import {
  CONVERT_FUNCTION,
  duckdbSettings,
  lambdaVcpus,
  PUBLISH_RESERVE_MS,
  workBytes,
} from '../../lib/conversion/lambda-sizing.ts';
import { sparkSchema } from '../../lib/datasets/derive.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { recordingLog } from '../unit/lambdas/helpers.ts';

let root: string;
let server: LocalS3;
let s3: S3Client;
let schema: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'convert-core-'));
  server = await startLocalS3({ directory: join(root, 's3'), buckets: ['raw', 'curated'] });
  s3 = localS3Client(server.endpoint);
  schema = JSON.stringify(sparkSchema((await loadDatasets('datasets')).get('orders')!));
}, 30_000);

afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** Lands `rows` orders in raw under `name`; the job arguments for it, expecting `expected` rows. */
async function landed(name: string, rows: number, expected = rows): Promise<GlueJobArguments> {
  const key = `orders/ingest_date=2024-01-05/${name}.csv`;
  await s3.send(
    new PutObjectCommand({ Bucket: 'raw', Key: key, Body: `${ORDERS_HEADER}${orderRows(3, 0, rows)}` }),
  );
  return {
    '--dataset': 'orders',
    '--source': `s3://raw/${key}`,
    '--target': 's3://curated/orders/iceberg/data/ingest_date=2024-01-05/',
    '--ingest-date': '2024-01-05',
    '--commit-request': `s3://curated/_commits/orders/run-${name}.json`,
    '--schema': schema,
    '--expected-rows': String(expected),
    '--run-id': `run-${name}`,
    '--delimiter': ',',
    '--quote': '"',
    '--source-key': `orders/${name}.csv`,
    '--source-version': 'v1',
    '--ingested-at': '2024-01-05T10:00:00.000Z',
  };
}

/** What a run of `name` left in curated: its data files and its commit request. */
async function curatedOf(name: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: 'curated' }));
  return (page.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(name));
}

const deps = (extra: Partial<Parameters<typeof convertInLambda>[1]> = {}) => ({
  s3,
  workDir: join(root, 'tmp'),
  limits: CONVERT_FUNCTION,
  id: 'request-1',
  log: recordingLog(),
  ...extra,
});

describe('convertInLambda', () => {
  it("returns the Glue task's fields, the engine and the data file written", async () => {
    // Prepare
    const args = await landed('ok', 50);

    // Act
    const out = await convertInLambda({ arguments: args }, deps({ remainingMs: () => 900_000 }));

    // Assess
    expect(out).toMatchObject({ id: 'request-1', state: 'SUCCEEDED', engine: 'lambda', rows: 50 });
    expect(out.seconds).toBeGreaterThan(0);
    expect(out.outputs).toEqual([
      expect.stringMatching(
        /^s3:\/\/curated\/orders\/iceberg\/data\/ingest_date=2024-01-05\/ok-run-ok-[0-9a-f]{16}-part-00000\.parquet$/,
      ),
    ]);
    expect((await curatedOf('ok')).sort()).toEqual(
      ['_commits/orders/run-ok.json', out.outputs[0]!.slice('s3://curated/'.length)].sort(),
    );
  });

  it('hands over at once, reading nothing, when less than the publish reserve is left', async () => {
    // Prepare
    const args = await landed('late', 5);
    const log = recordingLog();

    // Act
    const act = convertInLambda({ arguments: args }, deps({ remainingMs: () => PUBLISH_RESERVE_MS, log }));

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ResourceLimitError', resource: 'time' });
    expect(log.lines.map((l) => l.message)).toContain('handing the file to the Glue job');
    expect(await curatedOf('late')).toEqual([]);
  });

  it('stops as out of time when its deadline passes during the run, writing nothing', async () => {
    // Prepare: a deadline a millisecond after the start (the download or the query is cut).
    const args = await landed('deadline', 20_000);

    // Act
    const act = convertInLambda({ arguments: args }, deps({ remainingMs: () => PUBLISH_RESERVE_MS + 1 }));

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ResourceLimitError', resource: 'time' });
    expect(await curatedOf('deadline')).toEqual([]);
  });

  it('reports a wrong row count as a ConversionError, not as a resource to hand over for', async () => {
    // Prepare
    const args = await landed('miscount', 5, 6);

    // Act
    const act = convertInLambda({ arguments: args }, deps());

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConversionError);
    await expect(act).rejects.not.toBeInstanceOf(ResourceLimitError);
  });
});

describe('the engine under DuckDB limits', () => {
  it("turns DuckDB's out-of-memory error into a ResourceLimitError (memory)", async () => {
    // Prepare
    const args = await landed('oom', 10_000);

    // Act
    const act = convertCsvToParquet(args, s3, {
      workDir: join(root, 'tmp'),
      duckdb: { memory_limit: '8MB' },
    });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ResourceLimitError', resource: 'memory' });
    expect(await curatedOf('oom')).toEqual([]);
  });

  it('refuses a source that would not leave room for its Parquet in the run folder (disk)', async () => {
    // Prepare
    const args = await landed('full', 10_000);

    // Act
    const act = convertCsvToParquet(args, s3, { workDir: join(root, 'tmp'), maxWorkBytes: 100_000 });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ResourceLimitError', resource: 'disk' });
  });

  it.each([
    ['Out of Memory Error: failed to allocate data of size 2.0 MiB (59.5 MiB/61.0 MiB used)', 'memory'],
    ['IO Error: Could not write file "x": No space left on device', 'disk'],
    [
      'Out of Memory Error: failed to offload data block: the max_temp_directory_size limit was reached',
      'disk',
    ],
    ['Conversion Error: Could not convert string "x" to INT32', undefined],
  ])('reads %j as %s', (message, resource) => {
    expect(exhaustedResource(new Error(message))).toBe(resource);
  });

  it('reads ENOSPC as disk', () => {
    expect(exhaustedResource(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe('disk');
  });
});

describe('the sizing of the function', () => {
  it("gives DuckDB Lambda's vCPUs (at most the machine's cores), 60 % of memory and a quarter of /tmp", () => {
    expect([lambdaVcpus(128), lambdaVcpus(1769), lambdaVcpus(1770), lambdaVcpus(10_240)]).toEqual([
      1, 1, 2, 6,
    ]);
    expect(duckdbSettings({ memoryMb: 10_240, ephemeralMb: 10_240 }, 64)).toEqual({
      threads: '6',
      memory_limit: '6144MB',
      max_temp_directory_size: '2560MB',
    });
    expect(duckdbSettings({ memoryMb: 10_240, ephemeralMb: 10_240 }, 2).threads).toBe('2');
    expect(workBytes({ memoryMb: 1, ephemeralMb: 1024 })).toBe(768 * 1024 * 1024);
  });
});
