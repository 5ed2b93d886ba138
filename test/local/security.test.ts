/**
 * Security as tests (issue 6, item 7), on the local runtime: the S3 endpoint is reachable from
 * this machine only, and a landing key that tries to climb out of its dataset prefix (`../`,
 * `./`, a leading `/`) cannot make the pipeline write outside its zone folder.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestRequest, NO_DATASET } from '../../lambdas/shared/contract.ts';
import { datasetOf } from '../../lambdas/trigger/core.ts';
import type { ObjectStore } from '../../lambdas/validate/core.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { executionNameFor, LocalRuntime } from '../../lib/local/runtime.ts';
import { startLocalS3 } from '../../lib/local/s3-server.ts';
import { ORDERS_HEADER } from '../../lib/samples/orders-generator.ts';
import { DEFAULT_CONVERSION, validateWhole, versionTag } from '../unit/lambdas/helpers.ts';
import { tryConnect } from './try-connect.ts';

/** A valid orders file: whatever its key, its content passes validation. */
const VALID = `${ORDERS_HEADER}1,Ann,ABC-12345,2,12.50,USD,0.1,true,2024-02-29T10:00:00+01:00,2024-03-01\n`;

/** Keys that try to escape their dataset prefix. */
const ESCAPES = [
  'orders/../../raw/evil.csv',
  'orders/../curated/x.csv',
  'orders/./../x.csv',
  'orders/../sensor_readings/x.csv',
  '/orders/x.csv',
  '../raw/evil-top.csv',
  './orders/x.csv',
];

/** A zone key as the pipeline must write it: `<folder>/ingest_date=YYYY-MM-DD/<flat file name>`. */
const ZONE_KEY = /^([^/]+)\/ingest_date=\d{4}-\d{2}-\d{2}\/([^/]+)$/;

/** The zone folder a landing key's outputs belong in: its first segment, unless that is `.` or `..`. */
function folderOf(key: string): string {
  const dataset = datasetOf(key);
  return dataset === '.' || dataset === '..' ? NO_DATASET : dataset;
}

/** Asserts a written key is `<folder>/ingest_date=…/<flat name>` with no `.` or `..` segment. */
function expectInZoneFolder(written: string, folder: string) {
  expect(written, written).toMatch(ZONE_KEY);
  expect(ZONE_KEY.exec(written)![1], written).toBe(folder);
  for (const segment of written.split('/')) expect(['', '.', '..'], written).not.toContain(segment);
}

describe('the local S3 endpoint', () => {
  let dir: string;
  let s3: Awaited<ReturnType<typeof startLocalS3>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lake-security-s3-'));
    s3 = await startLocalS3({ directory: dir, buckets: ['landing'] });
  }, 30_000);

  afterAll(async () => {
    await s3?.close();
  });

  /** Connects to this machine's `host` and reports `connected` or the error code; never elsewhere. */

  it('announces 127.0.0.1 and accepts connections there', async () => {
    expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
    expect(await tryConnect('127.0.0.1', s3.port)).toBe('connected');
  });

  it('refuses connections on another of this machine’s addresses', async () => {
    // Only this machine's own addresses: a non-internal IPv4 of an interface, else ::1.
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

    const result = await tryConnect(own ?? '::1', s3.port);

    // ::1 may be unavailable altogether (IPv6 off): that too means no connection.
    expect(own ? ['ECONNREFUSED'] : ['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENETUNREACH']).toContain(result);
  });
});

describe('the Validate core, as deployed: a key cannot climb out of its zone folder', () => {
  it.each(ESCAPES)('%s is filed under its zone folder with a flat file name', async (key) => {
    const datasets = await loadDatasets('datasets');
    const written: { bucket: string; key: string }[] = [];
    const store: ObjectStore = {
      open: async () => ({
        body: (async function* () {
          yield Buffer.from(VALID);
        })(),
        lastModified: new Date('2024-05-01T12:00:00Z'),
        close: () => {},
      }),
      head: async () => ({ lastModified: new Date('2024-05-01T12:00:00Z') }),
      copy: async (_from, to) => {
        written.push(to);
      },
      putJson: async (to) => {
        written.push(to);
      },
      writeLines: (to) => ({
        write: () => true,
        drained: async () => {},
        end: async () => {
          written.push(to);
        },
        abort: async () => {},
      }),
    };
    const request: IngestRequest = {
      bucket: 'landing',
      key,
      versionId: 'v1',
      etag: 'e',
      size: VALID.length,
      dataset: datasetOf(key),
      version: 'v1',
    };

    const out = await validateWhole(
      { request, executionName: 'exec' },
      {
        store,
        datasets,
        buckets: { rawBucket: 'raw', failureBucket: 'failure', curatedBucket: 'curated' },
        log: { info: () => {}, warn: () => {} },
        conversion: DEFAULT_CONVERSION,
      },
    );

    expect(written.length).toBeGreaterThan(0);
    const folder = folderOf(key);
    for (const w of written) {
      expect(['raw', 'failure']).toContain(w.bucket);
      expectInZoneFolder(w.key, folder);
    }
    // Valid content under a declared dataset goes to raw; the Glue target stays in that dataset.
    if (datasets.has(folder)) {
      expect(out.valid).toBe(true);
      expect(out.jobArguments?.['--target']).toBe(
        `s3://curated/${folder}/iceberg/data/ingest_date=2024-05-01/`,
      );
    } else {
      expect(written.map((w) => w.bucket)).not.toContain('raw');
    }
  });
});

describe('the local runtime: a landing key cannot write outside its zone folder', () => {
  let parent: string;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    // The lake sits one folder down, so that an escape above it is still inside this test's folder.
    parent = await mkdtemp(join(tmpdir(), 'lake-security-'));
    runtime = await LocalRuntime.start({ lakeDir: join(parent, 'lake') });
  }, 60_000);

  afterAll(async () => {
    await runtime?.close();
  });

  async function keys(bucket: string): Promise<string[]> {
    const all: string[] = [];
    let token: string | undefined;
    do {
      const page = await runtime.client.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
      );
      all.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    return all;
  }

  // Landing too: a refused PUT must not leave its object behind either.
  const BUCKETS = [LOCAL_BUCKETS.landing, LOCAL_BUCKETS.raw, LOCAL_BUCKETS.failure, LOCAL_BUCKETS.curated];

  async function snapshot(): Promise<Map<string, Set<string>>> {
    return new Map(await Promise.all(BUCKETS.map(async (b) => [b, new Set(await keys(b))] as const)));
  }

  /** The local server's answer to a PUT: the object's ETag, or the HTTP status and S3 error code. */
  type PutReply =
    | { readonly accepted: string }
    | { readonly refused: { readonly status: number | undefined; readonly code: string | undefined } };

  /** Puts `key` into landing; a refusal is this function's result, never an exception. */
  async function put(key: string): Promise<PutReply> {
    try {
      const { ETag } = await runtime.client.send(
        new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: Buffer.from(VALID) }),
      );
      return { accepted: ETag ?? '' };
    } catch (error) {
      // Only the PUT is in this try, so an assertion can never be swallowed into a "refusal".
      const reply = error as { Code?: string; $metadata?: { httpStatusCode?: number } };
      return { refused: { status: reply.$metadata?.httpStatusCode, code: reply.Code } };
    }
  }

  /**
   * Drops `key` into landing, waits for the pipeline, and returns the server's reply, the outcome
   * of the execution the object started (none when refused), the number of executions started,
   * and the keys written since, by bucket.
   */
  async function drop(key: string) {
    const before = await snapshot();
    const executionsBefore = (await runtime.executions.list()).length;

    const reply = await put(key);
    await runtime.idle();

    const record =
      'accepted' in reply
        ? await runtime.finished(executionNameFor(key, Buffer.byteLength(VALID), reply.accepted))
        : undefined;
    const after = await snapshot();
    const written = Object.fromEntries(
      BUCKETS.map((b) => [b, [...after.get(b)!].filter((k) => !before.get(b)!.has(k)).sort()]),
    );
    const started = (await runtime.executions.list()).length - executionsBefore;
    return { reply, outcome: record?.outcome, started, written };
  }

  const NOTHING = { landing: [], raw: [], failure: [], curated: [] };

  // s3rver stores keys as file paths, so the local server refuses a key with a `.` or `..` segment
  // (S3 stores it literally; the Validate core above shows how the pipeline files it on AWS).
  // An absolute key (`/orders/x.csv`) is among them: its empty first segment is refused like `//`
  // (on AWS the key is valid and the Validate core above files it under failure/no-dataset/).
  it.each(ESCAPES)(
    '%s: refused by the local server (400 InvalidArgument), nothing written anywhere',
    async (key) => {
      const { reply, outcome, started, written } = await drop(key);

      expect(reply).toEqual({ refused: { status: 400, code: 'InvalidArgument' } });
      expect(outcome).toBeUndefined();
      expect(started).toBe(0);
      expect(written).toEqual(NOTHING);
    },
  );

  /** Keys at the edge of the refusal: dots that are not a `.` or `..` segment, no folder at all. */
  const ACCEPTED = [
    // Zone file names flatten `/` to `__`; a curated stem starting with `.` is percent-encoded
    // (`%2E`) because Athena, Hive and Spark skip files named `.…`.
    { key: 'orders/..x.csv', outcome: 'curated', folder: 'orders', file: '..x', parquet: '%2E.x' },
    { key: 'orders/.../x.csv', outcome: 'curated', folder: 'orders', file: '...__x', parquet: '%2E..__x' },
    { key: 'orders.csv', outcome: 'rejected', folder: NO_DATASET, file: 'orders', parquet: '' },
  ] as const;

  it.each(ACCEPTED)(
    '$key: accepted, $outcome, written under $folder/ only',
    async ({ key, outcome, folder, file, parquet }) => {
      const { reply, outcome: actual, started, written } = await drop(key);

      expect(reply).toEqual({ accepted: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
      expect(actual).toBe(outcome);
      expect(started).toBe(1);
      const etag = 'accepted' in reply ? reply.accepted.replaceAll('"', '') : '';
      const tag = versionTag({ bucket: LOCAL_BUCKETS.landing, key, versionId: null, etag });
      const prefix = `${folder}/ingest_date=${new Date().toISOString().slice(0, 10)}/`;
      const zoneFile = `${prefix}${file}.${tag}.csv`;
      if (outcome === 'curated') {
        // In curated: the data file in the table's day folder, the table's new metadata and the
        // commit request, every one under the dataset's own table or its requests' folder.
        const { curated, ...zones } = written;
        expect(zones).toEqual({ landing: [key], raw: [zoneFile], failure: [] });
        const day = `${folder}/iceberg/data/ingest_date=${new Date().toISOString().slice(0, 10)}/`;
        const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        expect(curated!.filter((k) => k.startsWith(`${folder}/iceberg/data/`))).toEqual([
          expect.stringMatching(
            new RegExp(
              `^${literal(`${day}${parquet}.${tag}`)}-[A-Za-z0-9_-]+-[0-9a-f]{16}-part-00000\\.parquet$`,
            ),
          ),
        ]);
        for (const k of curated!) {
          expect(k.startsWith(`${folder}/iceberg/`) || k.startsWith(`_commits/${folder}/`), k).toBe(true);
          for (const segment of k.split('/')) expect(['', '.', '..'], k).not.toContain(segment);
        }
        return;
      }
      expect(written).toEqual({
        landing: [key],
        raw: [],
        failure: [zoneFile, `${zoneFile}.errors.00001.jsonl`, `${zoneFile}.errors.json`],
        curated: [],
      });
    },
  );

  it('nothing is written outside the lake folder', async () => {
    // s3rver would write `<parent>/escaped.csv._S3rver_object` for this key: the server refuses it.
    const key = 'orders/../../../../escaped.csv';

    const { reply } = await drop(key);

    expect(reply).toEqual({ refused: { status: 400, code: 'InvalidArgument' } });
    const outside = (await readdir(parent, { recursive: true }))
      .map((p) => relative(parent, join(parent, p)))
      .filter((p) => p !== 'lake' && !p.startsWith(`lake/`));
    expect(outside).toEqual([]);
  });
});
