/**
 * End to end through the local runtime: real S3 calls against the embedded server, the state
 * machine synthesized from the PipelineStack, the handler cores, DuckDB as Glue and Athena.
 *
 * The tests share one runtime but not their data, so that they pass in any order and alone: each
 * lands its own keys and order ids (1–2 the exact-values file, 3 the unusual key, 7 the duplicate
 * delivery, 8 the CLI upload and its SDK twin, 100–105 the batch), and the tests that count a
 * whole lake or restart it get a lake of their own.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../lib/cli/main.ts';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS, lakePaths } from '../../lib/local/lake-folder.ts';
import { executionNameFor, LocalRuntime, landingEvent } from '../../lib/local/runtime.ts';
import { LOCAL_CREDENTIALS } from '../../lib/local/s3-server.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { zoneFileOf } from '../unit/lambdas/helpers.ts';

let lakeDir: string;
let runtime: LocalRuntime;

beforeAll(async () => {
  lakeDir = await mkdtemp(join(tmpdir(), 'lake-'));
  runtime = await LocalRuntime.start({ lakeDir });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
});

/** Puts an object into landing and returns its execution's record once ended. */
const drop = (key: string, body: string | Buffer): Promise<ExecutionRecord> => runtime.land(key, body);

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const page = await runtime.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key ?? '');
}

async function query(sql: string) {
  return runtime.query(sql);
}

const today = () => new Date().toISOString().slice(0, 10);

/** The states of a file that reaches curated, in order: a small file takes the Convert Lambda. */
const CURATED_PATH = [
  'RecordReceived',
  'RouteBySize',
  'Validate',
  'MoreSlices',
  'IsValid',
  'RecordValidated',
  'NotifyValidated',
  'ChooseConversion',
  'ConvertInLambda',
  'CommitToTable',
  'NotifyCurated',
  'RecordCurated',
  'Curated',
];

/** Sums decimal texts with 2 fraction digits exactly (in cents), as the lake's decimal(12,2) sum. */
function decimalSum(values: readonly string[]): string {
  const cents = values.reduce((sum, v) => sum + BigInt(v.replace('.', '')), 0n);
  return `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}

const VALID = `${ORDERS_HEADER}1,"Ann Lee, Acme",ABC-12345,2,12.50,USD,0.1,true,2024-02-29T10:00:00+01:00,2024-03-01
2,Bob,XYZ-00001,1,99999999.99,EUR,,FALSE,2024-03-01 08:15:00.123456Z,
`;

describe('a valid file', () => {
  it('becomes curated Parquet, queryable with exact values', async () => {
    const record = await drop('orders/exact.csv', VALID);

    expect(record.outcome).toBe('curated');
    expect(record.states).toEqual(CURATED_PATH);
    const raw = `orders/ingest_date=${today()}/${zoneFileOf(record.input)}`;
    expect(await keys(LOCAL_BUCKETS.raw, 'orders/')).toContain(raw);
    // One data file of the run in the table's day folder, named after the raw copy, the run and a random part.
    const stem = zoneFileOf(record.input).replace(/\.csv$/, '');
    expect(
      (await keys(LOCAL_BUCKETS.curated, `orders/iceberg/data/ingest_date=${today()}/`)).filter((k) =>
        k.includes(`/${stem}-`),
      ),
    ).toEqual([
      expect.stringMatching(new RegExp(`/${stem}-${record.name}-[0-9a-f]{16}-part-00000\\.parquet$`)),
    ]);
    expect(record.snapshotId).toMatch(/^\d+$/);
    const { rows } = await query(
      "SELECT order_id, customer, amount, ordered_at, ship_date, discount, gift, ingest_date FROM orders WHERE order_id IN (1, 2) AND customer <> 'x' ORDER BY order_id",
    );
    expect(rows).toEqual([
      {
        order_id: '1',
        customer: 'Ann Lee, Acme',
        amount: '12.50',
        ordered_at: '2024-02-29T09:00:00Z',
        ship_date: '2024-03-01',
        discount: 0.1,
        gift: true,
        ingest_date: today(),
      },
      {
        order_id: '2',
        customer: 'Bob',
        amount: '99999999.99',
        ordered_at: '2024-03-01T08:15:00.123456Z',
        ship_date: null,
        discount: null,
        gift: false,
        ingest_date: today(),
      },
    ]);
  });
});

describe('an invalid file', () => {
  it('lands in the failure zone with its report, and nothing in curated', async () => {
    const record = await drop('orders/broken.csv', brokenOrdersCsv());

    expect(record.outcome).toBe('rejected');
    expect(record.states.at(-1)).toBe('Rejected');
    const failureKey = `orders/ingest_date=${today()}/${zoneFileOf(record.input)}`;
    expect(await keys(LOCAL_BUCKETS.failure, 'orders/')).toEqual(
      expect.arrayContaining([failureKey, `${failureKey}.errors.json`]),
    );
    const report = await runtime.client.send(
      new GetObjectCommand({ Bucket: LOCAL_BUCKETS.failure, Key: `${failureKey}.errors.json` }),
    );
    const body = JSON.parse(await report.Body!.transformToString());
    expect(body.errors.map((e: { line: number; rule: string }) => `${e.line}:${e.rule}`)).toEqual([
      '4:decimal_scale',
      '7:enum',
      '10:calendar_date',
      '13:not_null',
      '16:ragged_row',
    ]);
    expect((await keys(LOCAL_BUCKETS.curated, 'orders/')).filter((k) => k.includes('broken'))).toEqual([]);
    expect((await keys(LOCAL_BUCKETS.raw, 'orders/')).filter((k) => k.includes('broken'))).toEqual([]);
  });

  it('of an unknown dataset is rejected with that reason, not dropped', async () => {
    const record = await drop('invoices/2024.csv', 'id\n1\n');

    expect(record.outcome).toBe('rejected');
    const output = record.output as { validation: { reason: string; failure: { key: string } } };
    expect(output.validation.reason).toBe('unknown_dataset');
    expect(await keys(LOCAL_BUCKETS.failure, 'invoices/')).toContain(output.validation.failure.key);
  });
});

describe('keys and deliveries', () => {
  it('handles a key with spaces, a plus sign and unicode like S3 does (URL-encoded events)', async () => {
    // Its own order id: the exact-values test queries ids 1 and 2 whatever ran before it.
    const record = await drop(
      'orders/Q1 report+final é.csv',
      `${ORDERS_HEADER}3,Key,ABC-12345,1,3.00,EUR,,true,2024-01-01T00:00:00Z,\n`,
    );

    expect(record.outcome).toBe('curated');
    expect(record.input.key).toBe('orders/Q1 report+final é.csv');
    expect(await keys(LOCAL_BUCKETS.raw, 'orders/')).toContain(
      `orders/ingest_date=${today()}/${zoneFileOf(record.input)}`,
    );
    expect(zoneFileOf(record.input)).toMatch(/^Q1 report\+final é\.[0-9a-f]{8}\.csv$/);
  });

  it('gives one outcome when the same event is delivered twice', async () => {
    const body = `${ORDERS_HEADER}7,Dup,ABC-12345,1,1.00,USD,,true,2024-01-01T00:00:00Z,\n`;
    const record = await drop('orders/twice.csv', body);
    const before = await runtime.executions.list();
    const head = await runtime.client.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.landing, Prefix: 'orders/twice.csv' }),
    );
    const object = head.Contents![0]!;

    await runtime.deliver(landingEvent({ key: 'orders/twice.csv', size: object.Size!, etag: object.ETag! }));
    await runtime.idle();

    expect(record.outcome).toBe('curated');
    expect(await runtime.executions.list()).toHaveLength(before.length);
    const { rows } = await query('SELECT count(*) AS n FROM orders WHERE order_id = 7');
    expect(rows).toEqual([{ n: '1' }]);
  });

  it('processes every file of a batch dropped at once', async () => {
    const names = Array.from({ length: 6 }, (_, k) => `orders/batch-${k}.csv`);
    const bodies = names.map(
      (_, k) => `${ORDERS_HEADER}${100 + k},Batch,ABC-12345,1,${k}.00,USD,,true,2024-01-01T00:00:00Z,\n`,
    );

    const puts = await Promise.all(
      names.map((key, k) =>
        runtime.client.send(
          new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: bodies[k] }),
        ),
      ),
    );
    await runtime.idle();

    const outcomes = await Promise.all(
      names.map(
        async (key, k) =>
          (await runtime.finished(executionNameFor(key, bodies[k]!.length, puts[k]!.ETag!)))?.outcome,
      ),
    );
    expect(outcomes).toEqual(names.map(() => 'curated'));
    const { rows } = await query('SELECT count(*) AS n FROM orders WHERE order_id BETWEEN 100 AND 105');
    expect(rows).toEqual([{ n: '6' }]);
  });

  it("the runtime's query passes its limits on: a row cap returns the first rows and says it cut", async () => {
    const sql = 'SELECT CAST(range AS INTEGER) AS n FROM range(6)';

    const capped = await runtime.query(sql, { maxRows: 2 });
    const whole = await runtime.query(sql);

    expect(capped).toEqual({ columns: ['n'], rows: [{ n: 0 }, { n: 1 }], truncated: true });
    expect(whole.rows).toHaveLength(6);
    expect(whole.truncated).toBe(false);
  });

  it('processes a file uploaded with the AWS CLI exactly like one uploaded with the SDK', async () => {
    const aws = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
    const file = join(lakeDir, 'cli.csv');
    const body = `${ORDERS_HEADER}8,Cli,ABC-12345,1,2.00,GBP,,true,2024-01-01T00:00:00Z,\n`;
    await writeFile(file, body);
    // The same bytes through the SDK, landed by this test: the comparison needs no earlier test.
    const sdk = await drop('orders/from sdk.csv', body);
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
    };

    await promisify(execFile)(
      aws,
      ['--endpoint-url', runtime.s3.endpoint, 's3', 'cp', file, 's3://landing/orders/from cli.csv'],
      { env },
    );
    await runtime.idle();

    const cli = (await runtime.executions.list()).filter((r) => r.input.key === 'orders/from cli.csv');
    expect(cli.map((r) => r.outcome)).toEqual(['curated']);
    expect(sdk.outcome).toBe('curated');
    expect(cli[0]!.states).toEqual(sdk.states);
    expect(cli[0]!.states).toEqual(CURATED_PATH);
    expect(cli[0]!.input.size).toBe(sdk.input.size);
  });
});

describe('the CLI', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink: CliIo = {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      stderrIsTty: false,
    };
    return { sink, out, err };
  };

  it('local ingest --json prints exactly one object with the outcome, exit 0 when curated', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lake-cli-'));
    const file = join(dir, 'good.csv');
    await writeFile(file, VALID);
    const { sink, out } = io();

    const code = await main(['local', 'ingest', file, '--dataset', 'orders', '--lake', dir, '--json'], sink);

    expect(code).toBe(0);
    const outcome = JSON.parse(out.join(''));
    expect(Object.keys(outcome).sort()).toEqual(
      [
        'curated',
        'dataset',
        'errors',
        'execution',
        'failure',
        'key',
        'raw',
        'rows',
        'snapshotId',
        'status',
      ].sort(),
    );
    expect(outcome).toMatchObject({
      status: 'curated',
      dataset: 'orders',
      key: 'orders/good.csv',
      rows: 2,
      errors: [],
      failure: null,
    });
    expect(outcome.curated).toEqual([
      expect.stringMatching(
        /^s3:\/\/curated\/orders\/iceberg\/data\/ingest_date=[0-9-]{10}\/good\.[0-9a-f]{8}-[A-Za-z0-9_-]+-[0-9a-f]{16}-part-00000\.parquet$/,
      ),
    ]);
    expect(outcome.snapshotId).toMatch(/^\d+$/);

    const query = io();
    expect(
      await main(
        ['local', 'query', 'SELECT sum(amount) AS total FROM orders', '--lake', dir, '--json'],
        query.sink,
      ),
    ).toBe(0);
    expect(JSON.parse(query.out.join(''))).toEqual([{ total: '100000012.49' }]);
  }, 60_000);

  it('local ingest of a broken file exits 1 and lists the errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lake-cli-'));
    const file = join(dir, 'bad.csv');
    await writeFile(file, brokenOrdersCsv());
    const { sink, out } = io();

    const code = await main(['local', 'ingest', file, '--dataset', 'orders', '--lake', dir], sink);

    expect(code).toBe(1);
    const text = out.join('');
    expect(text).toMatch(/^✗ orders\/bad\.csv → rejected/);
    expect(text).toContain(
      'path:      RecordReceived → RouteBySize → Validate → MoreSlices → IsValid → NotifyRejected → RecordRejected → Rejected',
    );
    expect(text).toMatch(/\n4\s+amount\s+decimal_scale\s+12\.345/);
    const notifications = (await readFile(join(dir, 'notifications.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(notifications.at(-1)!)).toMatchObject({
      attributes: { dataset: 'orders', status: 'REJECTED' },
    });
  }, 60_000);

  it('local ingest --large-file-bytes takes a file above it through the slices of the large-file route', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lake-cli-'));
    const file = join(dir, 'sliced.csv');
    await writeFile(file, ORDERS_HEADER + orderRows(3, 70_000, 70_100));
    const { sink, out } = io();

    const code = await main(
      ['local', 'ingest', file, '--dataset', 'orders', '--lake', dir, '--large-file-bytes', '4096'],
      sink,
    );

    expect(code).toBe(0);
    expect(out.join('')).toMatch(
      /path: {6}RecordReceived → RouteBySize → PlanSlices → ValidateSlice → MoreSlices → ValidateSlice → (MoreSlices → ValidateSlice → )*MoreSlices → IsValid → /,
    );
    const usage = io();
    expect(
      await main(['local', 'ingest', file, '--dataset', 'orders', '--large-file-bytes', '12'], usage.sink),
    ).toBe(2);
    expect(usage.err.join('')).toContain('--large-file-bytes takes a whole number ≥ 1024, not "12"');
  }, 60_000);

  it('local query reports bad SQL and unknown tables on one line, exit 1', async () => {
    for (const sql of ['SELEC 1', 'SELECT * FROM nope']) {
      const { sink, err } = io();
      expect(await main(['local', 'query', sql, '--lake', lakeDir], sink)).toBe(1);
      expect(err.join('')).toMatch(/^datalake: query failed: [^\n]+\n$/);
    }
  }, 60_000);

  it('local status counts the objects per zone and lists the executions', async () => {
    // A lake of its own: the counts are exactly what this test landed.
    const dir = await mkdtemp(join(tmpdir(), 'lake-status-'));
    const own = await LocalRuntime.start({ lakeDir: dir });
    let good: ExecutionRecord;
    let bad: ExecutionRecord;
    try {
      good = await own.land('orders/good.csv', VALID);
      bad = await own.land('orders/bad.csv', brokenOrdersCsv());
    } finally {
      await own.close();
    }
    const day = `orders/ingest_date=${today()}/`;
    const goodFile = `${day}${zoneFileOf(good.input)}`;
    const badFile = `${day}${zoneFileOf(bad.input)}`;
    // The objects each zone must hold: the valid file in raw and as one data file in curated
    // (beside the tables' metadata and the commit request, counted from the server's folder);
    // the broken file in failure with its report and its one part of every error.
    const curatedObjects = (
      await readdir(join(lakePaths(dir).s3, LOCAL_BUCKETS.curated), { recursive: true })
    ).filter((f) => f.endsWith('._S3rver_object'));
    expect(curatedObjects.filter((f) => f.endsWith('.parquet._S3rver_object'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^orders/iceberg/data/ingest_date=${today()}/${zoneFileOf(good.input).replace(/\.csv$/, '')}-${good.name}-[0-9a-f]{16}-part-00000\\.parquet\\._S3rver_object$`,
        ),
      ),
    ]);
    const zones = {
      landing: ['orders/good.csv', 'orders/bad.csv'],
      raw: [goodFile],
      failure: [badFile, `${badFile}.errors.json`, `${badFile}.errors.00001.jsonl`],
      curated: curatedObjects,
    };
    const { sink, out } = io();

    expect(await main(['local', 'status', '--lake', dir, '--json'], sink)).toBe(0);

    const status = JSON.parse(out.join(''));
    expect(good.outcome).toBe('curated');
    expect(bad.outcome).toBe('rejected');
    expect(status).toEqual({
      lake: dir,
      objects: Object.fromEntries(Object.entries(zones).map(([zone, keys]) => [zone, keys.length])),
      // Newest first.
      executions: [bad, good],
    });
  }, 60_000);

  it('keeps the lake across a restart', async () => {
    // A lake of its own, so the expected rows are exactly this file's.
    const dir = await mkdtemp(join(tmpdir(), 'lake-restart-'));
    const csv = ORDERS_HEADER + orderRows(11, 0, 25);
    const rows = parse(csv, { columns: true }) as { amount: string }[];
    const first = await LocalRuntime.start({ lakeDir: dir });
    try {
      expect((await first.land('orders/kept.csv', csv)).outcome).toBe('curated');
    } finally {
      await first.close();
    }

    const second = await LocalRuntime.start({ lakeDir: dir });
    try {
      const result = await second.query('SELECT count(*) AS n, sum(amount) AS total FROM orders');

      expect(result.rows).toEqual([{ n: String(rows.length), total: decimalSum(rows.map((r) => r.amount)) }]);
    } finally {
      await second.close();
    }
  }, 60_000);
});

describe('the start', () => {
  it('refuses a state machine the engine cannot run, before it serves a request', async () => {
    // Prepare: a Task state with no Resource (checked once at start, not at each execution)
    const dir = await mkdtemp(join(tmpdir(), 'lake-bad-definition-'));
    const definition = { StartAt: 'Broken', States: { Broken: { Type: 'Task', End: true } } };

    // Act
    const started = LocalRuntime.start({ lakeDir: dir, definition });

    // Assess
    await expect(started).rejects.toThrow(/State machine definition is invalid/);
    expect(existsSync(join(dir, 's3'))).toBe(false);
  });
});
