import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type IngestRequest,
  type ObjectRef,
  REPORT_ERRORS,
  STATE_ERRORS,
} from '../../../lambdas/shared/contract.ts';
import {
  type ErrorReport,
  flatFileName,
  ingestDateOf,
  isCsvKey,
  type LineSink,
  MAX_KEY_BYTES,
  type ObjectStore,
  REPORT_SUFFIX,
  zoneKey,
} from '../../../lambdas/validate/core.ts';
import { glueRunSize } from '../../../lib/conversion/glue-sizing.ts';
import { planConversion } from '../../../lib/conversion/plan.ts';
import { sparkSchema } from '../../../lib/datasets/derive.ts';
import { loadDatasets } from '../../../lib/datasets/load.ts';
import type { Dataset } from '../../../lib/datasets/model.ts';
import {
  DATASETS_DIR,
  DEFAULT_CONVERSION,
  ORDERS_INVALID,
  ORDERS_VALID,
  recordingLog,
  ingestRequest as req,
  validateWhole,
  versionTag,
} from './helpers.ts';

const BUCKETS = { rawBucket: 'raw', failureBucket: 'failure', curatedBucket: 'curated' };
/** 23:30 on 1 March at UTC−2 is 2 March in UTC: the date must be taken in UTC. */
const LAST_MODIFIED = new Date('2024-03-01T23:30:00-02:00');

/** An in-memory object store recording every operation, in order. */
class MemoryStore implements ObjectStore {
  readonly ops: string[] = [];
  readonly objects = new Map<string, Uint8Array>();
  readonly json = new Map<string, unknown>();
  closed = 0;
  /** Set to make `open` fail, as S3 does for a missing or replaced object. */
  openError: Error | null = null;
  /** Set to make the body fail after its content, as a dropped connection does. */
  readError: Error | null = null;

  constructor(
    private readonly content: Uint8Array,
    private readonly chunkBytes = 7,
  ) {}

  async open(request: IngestRequest) {
    this.ops.push(`open ${request.key}`);
    if (this.openError) throw this.openError;
    const { content, chunkBytes, readError } = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      // Small chunks: a record and a UTF-8 character may span two of them, as on the wire.
      for (let i = 0; i < content.length; i += chunkBytes) yield content.subarray(i, i + chunkBytes);
      if (readError) throw readError;
    }
    return { body: chunks(), lastModified: LAST_MODIFIED, close: () => void this.closed++ };
  }

  async head(request: IngestRequest) {
    this.ops.push(`head ${request.key}`);
    return { lastModified: LAST_MODIFIED };
  }

  async copy(from: IngestRequest, to: ObjectRef) {
    this.ops.push(`copy ${from.bucket}/${from.key} -> ${to.bucket}/${to.key}`);
    this.objects.set(`${to.bucket}/${to.key}`, this.content);
  }

  async putJson(to: ObjectRef, value: unknown) {
    this.ops.push(`put ${to.bucket}/${to.key}`);
    this.json.set(`${to.bucket}/${to.key}`, JSON.parse(JSON.stringify(value)));
  }

  /** Lines of the JSON Lines objects completed, parsed, by `bucket/key`. */
  readonly lines = new Map<string, unknown[]>();

  writeLines(to: ObjectRef): LineSink {
    const lines: string[] = [];
    return {
      write: (line) => {
        lines.push(line);
        return true;
      },
      drained: async () => {},
      end: async () => {
        this.ops.push(`lines ${to.bucket}/${to.key}`);
        this.lines.set(
          `${to.bucket}/${to.key}`,
          lines
            .join('')
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l)),
        );
      },
      abort: async () => {
        this.ops.push(`abort lines ${to.bucket}/${to.key}`);
      },
    };
  }
}

let datasets: Map<string, Dataset>;

beforeAll(async () => {
  datasets = await loadDatasets(DATASETS_DIR);
});

function deps(store: MemoryStore) {
  return { store, datasets, buckets: BUCKETS, log: recordingLog(), conversion: DEFAULT_CONVERSION };
}

describe('zone naming', () => {
  it.each([
    ['orders/a.csv', true],
    ['orders/A.CSV', true],
    ['orders/a.csv.gz', true],
    ['orders/a.Csv.GZ', true],
    ['orders/a.txt', false],
    ['orders/a.csv.zip', false],
    ['orders/a.gz', false],
    ['orders/csv', false],
  ])('isCsvKey(%s) is %s', (key, expected) => {
    // Act
    const result = isCsvKey(key);

    // Assess
    expect(result).toBe(expected);
  });

  it.each([
    ['orders/a.csv', 'a.csv'],
    ['orders/2024/03/a.csv', '2024__03__a.csv'],
    ['orders/../../etc/a.csv', '..__..__etc__a.csv'],
    ['loose.csv', 'loose.csv'],
    ['orders/..', '_..'],
  ])('flatFileName(%s) is %s', (key, expected) => {
    // Act
    const file = flatFileName(key);

    // Assess
    expect(file).toBe(expected);
  });

  it('takes the ingest date in UTC', () => {
    // Act
    const date = ingestDateOf(LAST_MODIFIED);

    // Assess
    expect(date).toBe('2024-03-02');
  });

  it('fits a key that would pass S3 key limit, deterministically and keeping the extension', () => {
    // Prepare
    const file = `${'é'.repeat(600)}.csv.gz`;

    // Act
    const key = zoneKey('orders', '2024-03-02', file);

    // Assess
    expect(Buffer.byteLength(key + REPORT_SUFFIX)).toBeLessThanOrEqual(MAX_KEY_BYTES);
    expect(key).toMatch(/^orders\/ingest_date=2024-03-02\/é+~[0-9a-f]{16}\.csv\.gz$/);
    expect(zoneKey('orders', '2024-03-02', file)).toBe(key);
    expect(zoneKey('orders', '2024-03-02', `${'é'.repeat(601)}.csv.gz`)).not.toBe(key);
  });
});

/** The Glue fields the Validate core must give a file of `bytes` CSV bytes under the test's limits. */
function glueFields(bytes: number, splittable: boolean, limits = DEFAULT_CONVERSION.glue) {
  const size = glueRunSize(bytes, limits, { splittable });
  return { glueWorkers: size.workers, glueTimeoutMinutes: size.timeoutMinutes };
}

describe('validateIngest', () => {
  it('copies a valid file to the raw zone and returns the Glue job arguments', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_VALID));
    const request = req('orders/2024/daily.csv');

    // Act
    const out = await validateWhole({ request, executionName: 'run-1' }, deps(store));

    // Assess
    const rawKey = `orders/ingest_date=2024-03-02/2024__daily.${versionTag(request)}.csv`;
    expect(store.ops).toEqual([
      'open orders/2024/daily.csv',
      `copy landing/orders/2024/daily.csv -> raw/${rawKey}`,
    ]);
    expect(out).toEqual({
      valid: true,
      dataset: 'orders',
      ingestDate: '2024-03-02',
      rows: 3,
      bytes: readFileSync(ORDERS_VALID).length,
      errorCount: 0,
      errors: [],
      source: request,
      raw: { bucket: 'raw', key: rawKey },
      failure: null,
      report: null,
      reason: null,
      jobArguments: {
        '--dataset': 'orders',
        '--source': `s3://raw/${rawKey}`,
        '--target': 's3://curated/orders/iceberg/data/ingest_date=2024-03-02/',
        '--ingest-date': '2024-03-02',
        '--commit-request': 's3://curated/_commits/orders/run-1.json',
        '--schema': JSON.stringify(sparkSchema(datasets.get('orders')!)),
        '--expected-rows': '3',
        '--run-id': 'run-1',
        '--delimiter': ',',
        '--quote': '"',
        '--multiline': 'false',
        // Lineage: the landed key and version (not the raw copy's), and the version's LastModified in UTC.
        '--source-key': 'orders/2024/daily.csv',
        '--source-version': 'v1',
        '--ingested-at': '2024-03-02T01:30:00.000Z',
      },
      conversion: { engine: 'lambda', ...glueFields(readFileSync(ORDERS_VALID).length, true) },
      done: true,
      tableVersion: 1,
    });
    expect(store.closed).toBe(1);
  });

  it("sends a version-2 dataset's rows to its own table's folder and names the table version", async () => {
    // Prepare: the orders declaration as version 2 (a change no rule allows in place).
    const store = new MemoryStore(readFileSync(ORDERS_VALID));
    const v2 = new Map(datasets);
    v2.set('orders', { ...datasets.get('orders')!, version: 2 });
    const request = req('orders/daily.csv', { versionId: null, etag: 'abc' });

    // Act
    const out = await validateWhole({ request, executionName: 'run-2' }, { ...deps(store), datasets: v2 });

    // Assess
    expect(out).toMatchObject({
      valid: true,
      tableVersion: 2,
      jobArguments: {
        '--target': 's3://curated/orders/v2/iceberg/data/ingest_date=2024-03-02/',
        '--source-key': 'orders/daily.csv',
        '--source-version': 'etag:abc',
      },
    });
  });

  it('routes a file by its CSV size, a gzip file by the size the validator inflated, not its stored one', async () => {
    // Prepare: thresholds the CSV fits exactly, and one byte short, both above the gzip's stored size.
    const plain = readFileSync(ORDERS_VALID);
    const gzip = gzipSync(plain);
    expect(gzip.length).toBeLessThan(plain.length - 1);
    const route = async (body: Buffer, key: string, fastPathMaxBytes: number) =>
      (
        await validateWhole(
          { request: req(key), executionName: 'run' },
          { ...deps(new MemoryStore(body)), conversion: { ...DEFAULT_CONVERSION, fastPathMaxBytes } },
        )
      ).conversion?.engine;

    // Act
    const fits = [
      await route(plain, 'orders/a.csv', plain.length),
      await route(gzip, 'orders/a.csv.gz', plain.length),
    ];
    const short = [
      await route(plain, 'orders/a.csv', plain.length - 1),
      await route(gzip, 'orders/a.csv.gz', plain.length - 1),
    ];

    // Assess
    expect(fits).toEqual(['lambda', 'lambda']);
    expect(short).toEqual(['glue', 'glue']);
  });

  it('reads a gzip file and keeps its name in the raw zone', async () => {
    // Prepare
    const store = new MemoryStore(gzipSync(readFileSync(ORDERS_VALID)));

    // Act
    const request = req('orders/daily.CSV.gz');
    const out = await validateWhole({ request, executionName: 'run' }, deps(store));

    // Assess
    expect(out).toMatchObject({
      valid: true,
      rows: 3,
      raw: { key: `orders/ingest_date=2024-03-02/daily.${versionTag(request)}.CSV.gz` },
    });
  });

  it('tells the job to read a file whole when a quoted value holds a line break', async () => {
    // Prepare: the same records, one of them spanning two lines in the first file.
    const valid = readFileSync(ORDERS_VALID, 'utf8');
    const spanning = valid.replace('Ann Lee, Acme', 'Ann Lee,\nAcme');

    // Act
    const [whole, split] = await Promise.all(
      [spanning, valid].map((text, i) =>
        validateWhole(
          { request: req(`orders/${i}.csv`), executionName: 'r' },
          deps(new MemoryStore(Buffer.from(text))),
        ),
      ),
    );

    // Assess
    expect(whole).toMatchObject({ valid: true, rows: 3, jobArguments: { '--multiline': 'true' } });
    expect(split).toMatchObject({ valid: true, rows: 3, jobArguments: { '--multiline': 'false' } });
    expect(whole.conversion).toEqual({ engine: 'lambda', ...glueFields(spanning.length, false) });
  });

  it('sizes the Glue run for one task when Spark cannot split the read, and spreads a split one', () => {
    // Prepare: 12 GB (past the fast path), room for 20 workers.
    const settings = { ...DEFAULT_CONVERSION, glue: { ...DEFAULT_CONVERSION.glue, maxWorkers: 20 } };
    const file = { bytes: 12e9, csvBytes: 12e9, recordSpansLines: false, compressed: false };

    // Act
    const split = planConversion(file, settings);
    const spanning = planConversion({ ...file, recordSpansLines: true }, settings);
    // Stored as 3 GB, 12 GB of CSV.
    const gzip = planConversion({ ...file, bytes: 3e9, compressed: true }, settings);

    // Assess
    expect(split).toEqual({ engine: 'glue', ...glueFields(12e9, true, settings.glue) });
    expect(split.glueWorkers).toBeGreaterThan(2);
    expect(spanning).toEqual({ engine: 'glue', ...glueFields(12e9, false, settings.glue) });
    expect(gzip).toEqual({
      engine: 'glue',
      ...glueFields(12e9, false, settings.glue),
    });
    expect([spanning.glueWorkers, gzip.glueWorkers]).toEqual([2, 2]);
    expect(spanning.glueTimeoutMinutes).toBeGreaterThan(split.glueTimeoutMinutes);
  });

  it('sizes a gzip file for one task, by the CSV bytes the validator inflated', async () => {
    // Prepare
    const gzip = gzipSync(readFileSync(ORDERS_VALID));
    // Act
    const out = await validateWhole(
      { request: req('orders/a.csv.gz'), executionName: 'r' },
      deps(new MemoryStore(gzip)),
    );
    // Assess
    expect(out).toMatchObject({ valid: true, bytes: gzip.length, jobArguments: { '--multiline': 'false' } });
    expect(out.conversion).toEqual({
      engine: 'lambda',
      ...glueFields(readFileSync(ORDERS_VALID).length, false),
    });
  });

  it('files an invalid file in the failure zone, report first, with a small state', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_INVALID));
    const request = req('orders/bad.csv');

    // Act
    const out = await validateWhole({ request, executionName: 'run' }, deps(store));

    // Assess
    const failureKey = `orders/ingest_date=2024-03-02/bad.${versionTag(request)}.csv`;
    expect(store.ops).toEqual([
      'open orders/bad.csv',
      `lines failure/${failureKey}.errors.00001.jsonl`,
      `put failure/${failureKey}.errors.json`,
      `copy landing/orders/bad.csv -> failure/${failureKey}`,
    ]);
    expect(out).toMatchObject({
      valid: false,
      reason: 'invalid_rows',
      rows: 4,
      errorCount: 10,
      raw: null,
      jobArguments: null,
      conversion: null,
      failure: { bucket: 'failure', key: failureKey },
      report: { bucket: 'failure', key: `${failureKey}.errors.json` },
    });
    expect(out.errors).toHaveLength(STATE_ERRORS);
    expect(out.errors[0]).toEqual({
      line: 3,
      column: 'sku',
      value: 'ABC-1234',
      rule: 'pattern',
      message: '"ABC-1234": does not match the pattern /^[A-Z]{3}-\\d{5}$/',
    });
    const report = store.json.get(`failure/${failureKey}.errors.json`) as ErrorReport;
    expect(report).toMatchObject({
      source: request,
      dataset: 'orders',
      ingestDate: '2024-03-02',
      reason: 'invalid_rows',
      rows: 4,
      errorCount: 10,
      truncated: false,
    });
    expect(report.errors).toHaveLength(10);
    expect(report.errorFiles).toEqual([{ bucket: 'failure', key: `${failureKey}.errors.00001.jsonl` }]);
    expect(store.lines.get(`failure/${failureKey}.errors.00001.jsonl`)).toEqual(report.errors);
    expect(report.errorsByColumn.ship_date).toBe(1);
    expect(report.errorsByRule.ragged_row).toBe(1);
  });

  it('rejects an unknown dataset without reading it, naming the known datasets', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_VALID));

    // Act
    const request = req('ordrs/a.csv');
    const out = await validateWhole({ request, executionName: 'run' }, deps(store));

    // Assess
    const failureKey = `ordrs/ingest_date=2024-03-02/a.${versionTag(request)}.csv`;
    expect(store.ops).toEqual([
      'head ordrs/a.csv',
      `lines failure/${failureKey}.errors.00001.jsonl`,
      `put failure/${failureKey}.errors.json`,
      `copy landing/ordrs/a.csv -> failure/${failureKey}`,
    ]);
    expect(out).toMatchObject({ valid: false, reason: 'unknown_dataset', dataset: 'ordrs', errorCount: 1 });
    const report = store.json.get(`failure/${failureKey}.errors.json`) as ErrorReport;
    expect(report.errors).toEqual([
      {
        line: 0,
        column: null,
        value: 'ordrs',
        rule: 'unknown_dataset',
        message: 'unknown dataset "ordrs" (known: orders, sensor_readings)',
      },
    ]);
    expect(report.errorsByRule).toEqual({ unknown_dataset: 1 });
  });

  it('files a key without a dataset folder under no-dataset', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_VALID));

    // Act
    const request = req('loose.csv');
    const out = await validateWhole({ request, executionName: 'run' }, deps(store));

    // Assess
    expect(out.failure).toEqual({
      bucket: 'failure',
      key: `no-dataset/ingest_date=2024-03-02/loose.${versionTag(request)}.csv`,
    });
    expect(out.errors[0]!.message).toBe(
      'the key "loose.csv" names no dataset folder: land files as <dataset>/<file>.csv (known: orders, sensor_readings)',
    );
  });

  it('rejects a file that is not a CSV without reading it, naming the accepted extensions', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_VALID));

    // Act
    const request = req('orders/a.xlsx');
    const out = await validateWhole({ request, executionName: 'run' }, deps(store));

    // Assess
    expect(store.ops[0]).toBe('head orders/a.xlsx');
    expect(out).toMatchObject({
      valid: false,
      reason: 'not_csv',
      failure: { bucket: 'failure', key: `orders/ingest_date=2024-03-02/a.${versionTag(request)}.xlsx` },
    });
    expect(out.errors).toEqual([
      {
        line: 0,
        column: null,
        value: 'a.xlsx',
        rule: 'not_csv',
        message: '"a.xlsx" is not a CSV file: the accepted extensions are .csv and .csv.gz',
      },
    ]);
  });

  it('rejects an object ending in "/" that holds data without reading it, saying it is a folder name', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_VALID));

    // Act
    const request = req('orders/sub/', { size: 1523 });
    const out = await validateWhole({ request, executionName: 'run' }, deps(store));

    // Assess
    expect(store.ops[0]).toBe('head orders/sub/');
    expect(out).toMatchObject({
      valid: false,
      reason: 'not_csv',
      failure: { bucket: 'failure', key: `orders/ingest_date=2024-03-02/sub__.${versionTag(request)}` },
    });
    expect(out.errors).toEqual([
      {
        line: 0,
        column: null,
        value: 'orders/sub/',
        rule: 'not_csv',
        message:
          '"orders/sub/" ends in "/", a folder name, yet holds 1523 bytes: land files as <dataset>/<file>.csv or .csv.gz',
      },
    ]);
  });

  it('lists both reasons when an unknown dataset is also not a CSV', async () => {
    // Prepare
    const store = new MemoryStore(new Uint8Array());

    // Act
    const out = await validateWhole({ request: req('x/a.txt'), executionName: 'run' }, deps(store));

    // Assess
    expect(out.reason).toBe('unknown_dataset');
    expect(out.errors.map((e) => e.rule)).toEqual(['unknown_dataset', 'not_csv']);
  });

  it('lets store errors through and files nothing', async () => {
    // Prepare
    const store = new MemoryStore(readFileSync(ORDERS_VALID));
    store.openError = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });

    // Act
    const act = validateWhole({ request: req('orders/a.csv'), executionName: 'run' }, deps(store));

    // Assess
    await expect(act).rejects.toThrow('The specified key does not exist.');
    expect(store.ops).toEqual(['open orders/a.csv']);
  });

  it('closes the body even when reading it fails', async () => {
    // Prepare
    const store = new MemoryStore(Buffer.from('order_id'));
    store.readError = new Error('connection reset');

    // Act
    const act = validateWhole({ request: req('orders/a.csv'), executionName: 'run' }, deps(store));

    // Assess
    await expect(act).rejects.toThrow('connection reset');
    expect(store.closed).toBe(1);
    expect(store.ops).toEqual(['open orders/a.csv']);
  });

  it('keeps the output small, the report preview capped and the error list complete for 100,000 bad rows', async () => {
    // Prepare
    const header = 'order_id,Customer Name,sku,quantity,amount,currency,discount,gift,ordered_at,ship_date\n';
    const row = `x,${'N'.repeat(300)},ABC-12345,1,1.00,USD,0,true,2024-01-01T00:00:00Z,\n`;
    const store = new MemoryStore(Buffer.from(header + row.repeat(100_000)), 1 << 16);

    // Act
    const out = await validateWhole({ request: req('orders/huge.csv'), executionName: 'run' }, deps(store));

    // Assess
    expect(out).toMatchObject({ valid: false, rows: 100_000, errorCount: 200_000 });
    expect(out.errors).toHaveLength(STATE_ERRORS);
    expect(JSON.stringify(out).length).toBeLessThan(10_000);
    const report = store.json.get(`failure/${out.report!.key}`) as ErrorReport;
    expect(report.errors).toHaveLength(REPORT_ERRORS);
    expect(report.truncated).toBe(true);
    const all = store.lines.get(`failure/${report.errorFiles[0]!.key}`) as ErrorReport['errors'];
    expect(all).toHaveLength(200_000);
    expect(all.slice(0, REPORT_ERRORS)).toEqual(report.errors);
    expect(all.map((e) => e.line)).toEqual(Array.from({ length: 200_000 }, (_, i) => 2 + Math.floor(i / 2)));
  });

  it('abandons a started error list when reading fails midway, leaving no partial report', async () => {
    // Prepare: errors are found, then the connection drops
    const store = new MemoryStore(readFileSync(ORDERS_INVALID), 1 << 16);
    store.readError = new Error('connection reset');

    // Act
    const act = validateWhole({ request: req('orders/a.csv'), executionName: 'run' }, deps(store));

    // Assess
    await expect(act).rejects.toThrow('connection reset');
    expect(store.ops).toEqual([
      'open orders/a.csv',
      expect.stringMatching(/^abort lines failure\/orders\/.*\.errors\.00001\.jsonl$/),
    ]);
  });
});
