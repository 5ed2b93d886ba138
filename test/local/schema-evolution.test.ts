/**
 * Schema evolution end to end (issue 16, item 5), through the real local pipeline: files land
 * under a first declaration of `accounts`; the declaration evolves (an optional column added at
 * the end, id widened int → bigint, balance decimal(9,2) → decimal(20,2), an alias for `name`,
 * `legacy_code` retired) and the runtime restarts on it as a deploy would; files land under the
 * second declaration, one of them re-sending changed rows of existing keys. The lake is then
 * queried across both with exact rows: now, as of the first snapshot, and through
 * `accounts_latest`. Last, a breaking change (balance's scale) is refused by `datalake datasets
 * check`, accepted as `"version": 2`, and lands in `accounts_v2` while `accounts` keeps its rows.
 *
 * Every expected value below is written from the CSV texts in this file, not from the code.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidateTaskOutput } from '../../lambdas/shared/contract.ts';
import type { ErrorReport } from '../../lambdas/validate/core.ts';
import { history, type SnapshotSelector } from '../../lib/iceberg/scan.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import { type QueryResult, queryLake } from '../../lib/local/query.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { runCli } from '../unit/cli-run.ts';

/** The first declaration: what the producer's export held when the dataset was declared. */
const ACCOUNTS_1 = {
  name: 'accounts',
  key: ['id'],
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'name', type: 'string' },
    { name: 'balance', type: 'decimal', precision: 9, scale: 2 },
    { name: 'region', type: 'string' },
    { name: 'legacy_code', type: 'string' },
  ],
};

/** The second: every change the rules allow in place, at once. */
const ACCOUNTS_2 = {
  name: 'accounts',
  key: ['id'],
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'name', type: 'string', aliases: ['Full Name'] },
    { name: 'balance', type: 'decimal', precision: 20, scale: 2 },
    { name: 'region', type: 'string' },
    { name: 'legacy_code', type: 'string', retired: true },
    { name: 'tier', type: 'string', optional: true },
  ],
};

/** A change no rule allows in place: balance's scale 2 → 4. */
const ACCOUNTS_SCALE_4 = {
  ...ACCOUNTS_2,
  columns: ACCOUNTS_2.columns.map((c) => (c.name === 'balance' ? { ...c, scale: 4 } : c)),
};

/** The same change, declared as the dataset's next table version. */
const ACCOUNTS_V2 = { ...ACCOUNTS_SCALE_4, version: 2 };

const FILES = {
  // Under the first declaration.
  a1: [
    'accounts/2024-01-a.csv',
    'id,name,balance,region,legacy_code\n1,Ada,100.50,EU,L-001\n2,Bob,-20.00,US,L-002\n',
  ],
  a2: [
    'accounts/2024-01-b.csv',
    'id,name,balance,region,legacy_code\n3,Cy,0.05,EU,\n4,Di,9999999.99,APAC,L-004\n',
  ],
  // Under the second: the new header text and the new column; ids and balances beyond the old types.
  b1: [
    'accounts/2024-02-a.csv',
    'id,Full Name,balance,region,tier\n5,Eve,123456789012345678.90,EU,gold\n3000000000,Fay,1.00,US,silver\n',
  ],
  // An export still in the old format (old header, no tier), without the retired column.
  b2: ['accounts/2024-02-b.csv', 'id,name,balance,region\n2147483648,Gus,5.25,APAC\n6,Hal,,EU\n'],
  // An export that still carries the retired column: refused (extraColumns is reject).
  b3: ['accounts/2024-02-c.csv', 'id,name,balance,region,legacy_code\n7,Ivy,1.00,EU,L-007\n'],
  // Changed rows of keys 1 and 4, re-sent later under a key that sorts before the first files': the
  // newest row must win by ingest time, not by source key.
  resend: [
    'accounts/0-resend.csv',
    'id,Full Name,balance,region,tier\n1,Ada Lovelace,150.75,EU,platinum\n4,Di,0.00,APAC,\n',
  ],
  // Under version 2 (balance with scale 4).
  v2: ['accounts/2024-03-a.csv', 'id,Full Name,balance,region,tier\n8,Jo,12.3456,EU,gold\n1,Ada,1.5,EU,\n'],
} as const satisfies Record<string, readonly [string, string]>;

type FileName = keyof typeof FILES;

let work: string;
let lakeDir: string;
let datasetsDir: string;
let runtime: LocalRuntime | undefined;
/** Each landed file's execution record and its landed object's LastModified (whole seconds, as S3 serves it). */
const landed = new Map<FileName, { record: ExecutionRecord; lastModified: string }>();

/** Writes `declaration` as the datasets folder's accounts.json and (re)starts the runtime on it, as a deploy would. */
async function deploy(declaration: object): Promise<LocalRuntime> {
  await runtime?.close();
  runtime = undefined;
  await writeFile(join(datasetsDir, 'accounts.json'), JSON.stringify(declaration, null, 2));
  runtime = await LocalRuntime.start({ lakeDir, datasetsDir });
  return runtime;
}

/** A folder of its own holding `declaration` as accounts.json, for `datasets check`. */
async function declarationDir(name: string, declaration: object): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, 'accounts.json'), JSON.stringify(declaration));
  return dir;
}

/** `datasets check`'s change lines as [verdict, dataset[.column], rule]; the summary line left out. */
const changeLines = (out: string) =>
  out
    .split('\n')
    .map((line) => /^(compatible|breaking)\s+(\S+)\s+([a-z-]+):/.exec(line))
    .filter((m) => m !== null)
    .map((m) => [m[1], m[2], m[3]]);

/** Lands one file through the S3 API and waits until its execution ended. */
async function land(name: FileName): Promise<ExecutionRecord> {
  const [key, body] = FILES[name];
  const record = await runtime!.land(key, body);
  // The landed object stays in landing: its LastModified is what the workflow read as ingest time.
  const head = await runtime!.client.send(new HeadObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key }));
  landed.set(name, { record, lastModified: head.LastModified!.toISOString() });
  return record;
}

/** A query over the running lake, current or at a version, as `datalake query` runs it. */
function query(sql: string, snapshot?: SnapshotSelector): Promise<QueryResult> {
  const rt = runtime!;
  return queryLake(
    {
      s3: rt.client,
      curatedBucket: LOCAL_BUCKETS.curated,
      datasets: rt.datasets,
      catalog: rt.tables,
      database: LOCAL_DATABASE,
      cacheDir: rt.paths.queryCache,
      ...(snapshot ? { snapshot } : {}),
    },
    sql,
  );
}

/** The rows as arrays, in the query's column order; `_ingested_at` as `Date.toISOString` writes it. */
const table = (result: QueryResult) =>
  result.rows.map((row) =>
    result.columns.map((c) =>
      c === '_ingested_at' && typeof row[c] === 'string' ? new Date(row[c]).toISOString() : row[c],
    ),
  );

/** Lineage of a landed file as the rows must carry it: its key, its version, its LastModified. */
function lineage(name: FileName): [string, string, string] {
  const [key, body] = FILES[name];
  const { record, lastModified } = landed.get(name)!;
  // The local landing bucket keeps no versions: the version is the ETag, the MD5 of the bytes.
  expect(record.input.version).toBe(`etag:${createHash('md5').update(body).digest('hex')}`);
  return [key, record.input.version!, lastModified];
}

/** Every row of `accounts` under the second declaration: id, name, balance, region, legacy_code, tier. */
const ACCOUNTS_ROWS = [
  ['1', 'Ada Lovelace', '150.75', 'EU', null, 'platinum'],
  ['1', 'Ada', '100.50', 'EU', 'L-001', null],
  ['2', 'Bob', '-20.00', 'US', 'L-002', null],
  ['3', 'Cy', '0.05', 'EU', null, null],
  ['4', 'Di', '0.00', 'APAC', null, null],
  ['4', 'Di', '9999999.99', 'APAC', 'L-004', null],
  ['5', 'Eve', '123456789012345678.90', 'EU', null, 'gold'],
  ['6', 'Hal', null, 'EU', null, null],
  ['2147483648', 'Gus', '5.25', 'APAC', null, null],
  ['3000000000', 'Fay', '1.00', 'US', null, 'silver'],
];
const ACCOUNTS_SQL =
  'SELECT id, name, balance, region, legacy_code, tier FROM accounts ORDER BY id, _source_key, balance';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'schema-evolution-'));
  lakeDir = join(work, 'lake');
  datasetsDir = join(work, 'datasets');
  await mkdir(datasetsDir);
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await rm(work, { recursive: true, force: true });
});

describe('a dataset evolving by the rules, through the local pipeline', () => {
  it('curates files under the first declaration', async () => {
    await deploy(ACCOUNTS_1);
    for (const name of ['a1', 'a2'] as const) {
      const record = await land(name);
      expect(record.outcome, JSON.stringify(record.error)).toBe('curated');
    }
  }, 120_000);

  it('after the evolution, curates new-format and old-format files and refuses the retired column', async () => {
    // Whole seconds apart from the first files, so that ingest time alone orders a key's rows.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The evolution passes the check a deploy runs first: each change named with its rule.
    const check = await runCli([
      'datasets',
      'check',
      '--datasets',
      await declarationDir('second', ACCOUNTS_2),
      '--against',
      await declarationDir('first', ACCOUNTS_1),
    ]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(changeLines(check.out)).toEqual([
      ['compatible', 'accounts.id', 'type-widened'],
      ['compatible', 'accounts.name', 'aliases-changed'],
      ['compatible', 'accounts.balance', 'decimal-widened'],
      ['compatible', 'accounts.legacy_code', 'column-retired'],
      ['compatible', 'accounts.tier', 'column-appended'],
    ]);
    const rt = await deploy(ACCOUNTS_2);
    for (const name of ['b1', 'b2', 'resend'] as const) {
      const record = await land(name);
      expect(record.outcome, `${name}: ${JSON.stringify(record.error)}`).toBe('curated');
    }
    const refused = await land('b3');
    expect(refused.outcome).toBe('rejected');
    const { validation } = refused.output as { validation: ValidateTaskOutput };
    const object = await rt.client.send(
      new GetObjectCommand({ Bucket: validation.report!.bucket, Key: validation.report!.key }),
    );
    const report = JSON.parse(await object.Body!.transformToString()) as ErrorReport;
    expect(report.errors.map((e) => [e.line, e.column, e.rule])).toEqual([
      [1, 'legacy_code', 'retired_column'],
    ]);
    expect(report.errors[0]!.message).toContain('legacy_code');
  }, 180_000);

  it('reads old and new rows under the evolved table: old rows null in tier, new rows null in the retired column, ids beyond int32 exact', async () => {
    const result = await query(ACCOUNTS_SQL);
    expect(result.columns).toEqual(['id', 'name', 'balance', 'region', 'legacy_code', 'tier']);
    expect(table(result)).toEqual(ACCOUNTS_ROWS);
    // The table grew by schema evolution, not by a new table: one table, its history intact.
    const { metadata } = await loadTable(
      { store: runtime!.store, catalog: runtime!.tables },
      { database: LOCAL_DATABASE, name: 'accounts' },
    );
    expect(history(metadata as Parameters<typeof history>[0]).length).toBeGreaterThanOrEqual(5);
  });

  it("reads the table as of its first snapshot: the first file's rows only, under the schema of the time", async () => {
    const { metadata } = await loadTable(
      { store: runtime!.store, catalog: runtime!.tables },
      { database: LOCAL_DATABASE, name: 'accounts' },
    );
    const [first] = history(metadata as Parameters<typeof history>[0]);
    expect(first!.snapshotId).toBe(landed.get('a1')!.record.snapshotId);
    const result = await query('SELECT * FROM accounts ORDER BY id', { asOfMs: first!.timestampMs });
    // As Athena reads a snapshot: see /tmp/prompts/research-query.md (the query engineer's research).
    expect(result.columns).toEqual([
      'id',
      'name',
      'balance',
      'region',
      'legacy_code',
      'ingest_date',
      '_source_key',
      '_source_version',
      '_ingested_at',
    ]);
    const [key, version, at] = lineage('a1');
    const day = at.slice(0, 10);
    expect(table(result)).toEqual([
      [1, 'Ada', '100.50', 'EU', 'L-001', day, key, version, at],
      [2, 'Bob', '-20.00', 'US', 'L-002', day, key, version, at],
    ]);
  });

  it('keeps the newest row per key in accounts_latest, with its lineage', async () => {
    const result = await query(
      'SELECT id, name, balance, region, tier, _source_key, _source_version, _ingested_at FROM accounts_latest ORDER BY id',
    );
    expect(table(result)).toEqual([
      ['1', 'Ada Lovelace', '150.75', 'EU', 'platinum', ...lineage('resend')],
      ['2', 'Bob', '-20.00', 'US', null, ...lineage('a1')],
      ['3', 'Cy', '0.05', 'EU', null, ...lineage('a2')],
      ['4', 'Di', '0.00', 'APAC', null, ...lineage('resend')],
      ['5', 'Eve', '123456789012345678.90', 'EU', 'gold', ...lineage('b1')],
      ['6', 'Hal', null, 'EU', null, ...lineage('b2')],
      ['2147483648', 'Gus', '5.25', 'APAC', null, ...lineage('b2')],
      ['3000000000', 'Fay', '1.00', 'US', 'silver', ...lineage('b1')],
    ]);
    // The view shows the live columns and the lineage, not the retired column.
    const all = await query('SELECT * FROM accounts_latest LIMIT 0');
    expect(all.columns).not.toContain('legacy_code');
  });

  it('refuses a changed scale in place and accepts it as version 2, which lands in accounts_v2 while accounts keeps its rows', async () => {
    const current = await declarationDir('current', ACCOUNTS_2);
    const refused = await runCli([
      'datasets',
      'check',
      '--datasets',
      await declarationDir('scale-4', ACCOUNTS_SCALE_4),
      '--against',
      current,
    ]);
    expect(refused.code, refused.out + refused.err).toBe(1);
    expect(changeLines(refused.out)).toEqual([['breaking', 'accounts.balance', 'decimal-scale-changed']]);
    const accepted = await runCli([
      'datasets',
      'check',
      '--datasets',
      await declarationDir('version-2', ACCOUNTS_V2),
      '--against',
      current,
    ]);
    expect(accepted.code, accepted.out + accepted.err).toBe(0);
    expect(changeLines(accepted.out)).toEqual([
      ['compatible', 'accounts', 'version-raised'],
      ['compatible', 'accounts.balance', 'decimal-scale-changed'],
    ]);
    expect(accepted.out).toContain('accounts_v2');

    await deploy(ACCOUNTS_V2);
    const record = await land('v2');
    expect(record.outcome, JSON.stringify(record.error)).toBe('curated');
    const v2 = await query(
      'SELECT id, name, balance, region, legacy_code, tier FROM accounts_v2 ORDER BY id',
    );
    expect(table(v2)).toEqual([
      ['1', 'Ada', '1.5000', 'EU', null, null],
      ['8', 'Jo', '12.3456', 'EU', null, 'gold'],
    ]);
    // Version 1 stays queryable under its name, with every row it had.
    expect(table(await query(ACCOUNTS_SQL))).toEqual(ACCOUNTS_ROWS);
    // The newest row per key is the current version's.
    const latest = await query('SELECT id, name, balance, _source_key FROM accounts_latest ORDER BY id');
    expect(table(latest)).toEqual([
      ['1', 'Ada', '1.5000', FILES.v2[0]],
      ['8', 'Jo', '12.3456', FILES.v2[0]],
    ]);
  }, 180_000);
});
