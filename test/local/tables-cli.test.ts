/**
 * Time travel and the `tables` commands through the real CLI on a local lake (issue 15, item 4):
 * the tables are made with the core (DuckDB files with field ids, `appendFiles`) in the places
 * the local runtime uses; each CLI run starts the lake's S3 server for itself, as without
 * `local up`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../lib/cli/lake-server.ts';
import { liveFiles, selectSnapshot } from '../../lib/iceberg/scan.ts';
import { LINEAGE_FIELDS } from '../../lib/iceberg/schema.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import { runCli } from '../unit/cli-run.ts';
import { appendOrders, type IcebergLake, icebergLake, tableRef } from './iceberg-lake.ts';

const T1 = Date.parse('2024-05-01T00:00:00Z');
const T2 = Date.parse('2024-05-02T00:00:00Z');

/** `query --json` on the lake: the rows, or the failure. */
async function query(lake: IcebergLake, sql: string, ...options: string[]) {
  const run = await runCli(['query', sql, '--lake', lake.dir, '--json', ...options]);
  return { ...run, rows: run.code === 0 ? (JSON.parse(run.out) as Record<string, unknown>[]) : undefined };
}

const IDS = 'SELECT order_id FROM orders ORDER BY order_id';
const ids = (rows: Record<string, unknown>[] | undefined) => rows?.map((r) => Number(r.order_id));

describe('history, tag and time travel', () => {
  let lake: IcebergLake;
  let s1: string;
  let s2: string;

  beforeAll(async () => {
    lake = await icebergLake('tables-cli-', () => T1 - 1000);
    s1 = await appendOrders(
      lake,
      '2024-05-01',
      [
        [
          [1, 'Ann', '1.50'],
          [2, 'Bob', '2.50'],
          [3, 'Cy', '3.50'],
        ],
      ],
      () => T1,
    );
    const tagged = await runCli(['tables', 'tag', 'orders', 'train-v1', '--lake', lake.dir]);
    expect(tagged.code, tagged.err).toBe(0);
    s2 = await appendOrders(lake, '2024-05-02', [[[4, 'Di', '4.50']], [[5, 'Ed', '5.50']]], () => T2);
  }, 120_000);

  afterAll(() => lake?.remove());

  it('history --json: the script contract, oldest first, ids as strings', async () => {
    const run = await runCli(['tables', 'history', 'orders', '--lake', lake.dir, '--json']);
    expect(run.code, run.err).toBe(0);
    const history = JSON.parse(run.out) as Record<string, unknown>[];
    expect(history).toMatchObject([
      {
        snapshotId: s1,
        timestamp: '2024-05-01T00:00:00.000Z',
        operation: 'append',
        addedRows: 1 * 3,
        totalRows: 3,
        addedFiles: 1,
        tags: ['train-v1'],
      },
      {
        snapshotId: s2,
        parentSnapshotId: s1,
        timestamp: '2024-05-02T00:00:00.000Z',
        operation: 'append',
        addedRows: 2,
        totalRows: 5,
        addedFiles: 2,
        tags: [],
      },
    ]);
    for (const snapshot of history) expect(snapshot.snapshotId).toMatch(/^-?\d+$/);
  });

  it('history prints one line per snapshot: id, time, operation, rows added and in total, tags', async () => {
    const run = await runCli(['tables', 'history', 'orders', '--lake', lake.dir]);
    expect(run.code, run.err).toBe(0);
    const lines = run.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^snapshot\s+time\s+operation\s+added rows\s+total rows\s+tags$/);
    expect(lines.slice(-2).map((l) => l.split(/\s{2,}/))).toEqual([
      [s1, '2024-05-01 00:00:00Z', 'append', '3', '3', 'train-v1'],
      [s2, '2024-05-02 00:00:00Z', 'append', '2', '5'],
    ]);
  });

  it('query --tag reads the tagged snapshot after a later append; without it, the current one', async () => {
    expect(ids((await query(lake, IDS, '--tag', 'train-v1')).rows)).toEqual([1, 2, 3]);
    expect(ids((await query(lake, IDS)).rows)).toEqual([1, 2, 3, 4, 5]);
  });

  it('query --snapshot reads that snapshot (exact values too)', async () => {
    const { rows } = await query(
      lake,
      'SELECT order_id, amount, ingest_date FROM orders ORDER BY 1',
      '--snapshot',
      s1,
    );
    expect(rows).toEqual([
      { order_id: '1', amount: '1.50', ingest_date: '2024-05-01' },
      { order_id: '2', amount: '2.50', ingest_date: '2024-05-01' },
      { order_id: '3', amount: '3.50', ingest_date: '2024-05-01' },
    ]);
  });

  it('query --as-of reads the snapshot current at that time, and says which on stderr', async () => {
    const noon = await query(lake, IDS, '--as-of', '2024-05-01T12:00:00Z');
    expect(ids(noon.rows)).toEqual([1, 2, 3]);
    expect(noon.err).toBe(`datalake: read orders at snapshot ${s1} (2024-05-01T00:00:00.000Z)\n`);
    expect((await query(lake, IDS)).err).toBe('');
    expect(ids((await query(lake, IDS, '--as-of', '2024-05-01T23:59:59.999Z')).rows)).toEqual([1, 2, 3]);
    expect(ids((await query(lake, IDS, '--as-of', '2024-05-02')).rows)).toEqual([1, 2, 3, 4, 5]);
    // A zone other than UTC: 2024-05-02 01:00 in +02:00 is 23:00 UTC the day before.
    expect(ids((await query(lake, IDS, '--as-of', '2024-05-02T01:00:00+02:00')).rows)).toEqual([1, 2, 3]);
  });

  it.each([
    [['--snapshot', '123'], 'no snapshot 123 in the table'],
    [['--tag', 'nope'], 'no tag "nope" in the table (tags: train-v1)'],
    [['--as-of', '2024-04-30'], 'no snapshot as of 2024-04-30T00:00:00.000Z'],
  ])('query %j fails with exit 1 and a message naming the table', async (options, message) => {
    const run = await query(lake, IDS, ...options);
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain('datalake: query failed: table orders: ');
    expect(run.err).toContain(message);
  });

  it('at a version, only the tables the query names are read (another one need not have it)', async () => {
    // sensor_readings has no snapshot at all: a query that does not name it still reads orders at s1.
    expect(ids((await query(lake, IDS, '--snapshot', s1)).rows)).toEqual([1, 2, 3]);
    const both = await query(lake, 'SELECT count(*) AS n FROM orders, sensor_readings', '--snapshot', s1);
    expect(both.code).toBe(1);
    expect(both.err).toContain('table sensor_readings: ');
  });

  it('tables tag: --snapshot tags an older snapshot; a tag never moves; an unknown snapshot is refused', async () => {
    const old = await runCli([
      'tables',
      'tag',
      'orders',
      'first',
      '--snapshot',
      s1,
      '--lake',
      lake.dir,
      '--json',
    ]);
    expect(old.code, old.err).toBe(0);
    expect(JSON.parse(old.out)).toEqual({ dataset: 'orders', tag: 'first', snapshotId: s1, created: true });
    expect(ids((await query(lake, IDS, '--tag', 'first')).rows)).toEqual([1, 2, 3]);

    const again = await runCli([
      'tables',
      'tag',
      'orders',
      'first',
      '--snapshot',
      s1,
      '--lake',
      lake.dir,
      '--json',
    ]);
    expect(JSON.parse(again.out)).toMatchObject({ snapshotId: s1, created: false });

    const moved = await runCli(['tables', 'tag', 'orders', 'train-v1', '--snapshot', s2, '--lake', lake.dir]);
    expect(moved).toMatchObject({ code: 1, out: '' });
    expect(moved.err).toBe(
      `datalake: tag "train-v1" already names snapshot ${s1} of orders: a tag does not move; choose another name\n`,
    );

    const unknown = await runCli(['tables', 'tag', 'orders', 'x', '--snapshot', '42', '--lake', lake.dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('table orders has no snapshot 42');
  });

  it('a table without a snapshot is an empty view of its columns, in schema order and of their types', async () => {
    const { rows } = await query(lake, 'SELECT column_name, column_type FROM (DESCRIBE sensor_readings)');
    const ds = lake.datasets.get('sensor_readings')!;
    expect(rows?.map((r) => r.column_name)).toEqual([
      ...ds.columns.map((c) => c.name),
      'ingest_date',
      ...LINEAGE_FIELDS.map((f) => f.name),
    ]);
    expect(rows?.find((r) => r.column_name === 'read_at')?.column_type).toBe('TIMESTAMP WITH TIME ZONE');
    expect(rows?.find((r) => r.column_name === 'ingest_date')?.column_type).toBe('DATE');
    expect((await query(lake, 'SELECT count(*) AS n FROM sensor_readings')).rows).toEqual([{ n: '0' }]);
  });

  it('an unknown dataset is refused with the known ones (exit 2); a table without snapshots has no history', async () => {
    const run = await runCli(['tables', 'history', 'nope', '--lake', lake.dir]);
    expect(run).toMatchObject({ code: 2, out: '' });
    expect(run.err).toBe('datalake: unknown dataset "nope" (known: orders, sensor_readings)\n');
    const empty = await runCli(['tables', 'history', 'sensor_readings', '--lake', lake.dir, '--json']);
    expect([empty.code, empty.out]).toEqual([0, '[]\n']);
  });

  it('a declared dataset whose table does not exist yet is a failure (exit 1) saying when it will', async () => {
    // Prepare: declarations with one more dataset than the lake has tables for.
    const declarations = await mkdtemp(join(tmpdir(), 'declarations-'));
    const orders = JSON.parse(await readFile('datasets/orders.json', 'utf8')) as object;
    await writeFile(join(declarations, 'extra.json'), JSON.stringify({ ...orders, name: 'extra' }));

    const run = await runCli(['tables', 'history', 'extra', '--lake', lake.dir, '--datasets', declarations]);

    expect(run).toMatchObject({ code: 1, out: '' });
    expect(run.err).toMatch(
      /^datalake: dataset extra has no table in local lake .+ yet: it is created when the lake starts \(`datalake local up`\) or deploys, and filled as files are curated\n$/,
    );
    await rm(declarations, { recursive: true, force: true });
  });
});

describe('tables compact', () => {
  let lake: IcebergLake;
  let before: string;

  /** Every row of orders at the current snapshot (or at `options`), in one order. */
  const allRows = async (...options: string[]) =>
    (await query(lake, 'SELECT * FROM orders ORDER BY order_id', ...options)).rows;

  /** Live files per day at the current snapshot. */
  const filesPerDay = () =>
    lake.withDeps(async (deps) => {
      const { metadata } = await loadTable(deps, tableRef('orders'));
      const files = await liveFiles(deps.store, metadata, selectSnapshot(metadata));
      const days: Record<string, number> = {};
      for (const f of files) days[f.ingestDate] = (days[f.ingestDate] ?? 0) + 1;
      return days;
    });

  beforeAll(async () => {
    lake = await icebergLake('tables-compact-');
    await appendOrders(lake, '2024-06-01', [
      [
        [1, 'A', '1.00'],
        [2, 'B', '2.00'],
      ],
      [[3, 'C', '3.00']],
      [[4, 'D', '4.00']],
    ]);
    await appendOrders(lake, '2024-06-02', [[[5, 'E', '5.00']]]);
    before = await appendOrders(lake, '2024-06-02', [
      [[6, 'F', '6.00']],
      [
        [7, 'G', '7.00'],
        [8, 'H', '8.00'],
      ],
    ]);
  }, 120_000);

  afterAll(() => lake?.remove());

  it('one day, then the rest: same rows, fewer files, an older snapshot still readable', async () => {
    const rows = await allRows();
    expect(rows).toHaveLength(8);
    expect(await filesPerDay()).toEqual({ '2024-06-01': 3, '2024-06-02': 3 });

    const day = await runCli([
      'tables',
      'compact',
      'orders',
      '--date',
      '2024-06-01',
      '--lake',
      lake.dir,
      '--json',
    ]);
    expect(day.code, day.err).toBe(0);
    const oneDay = JSON.parse(day.out);
    expect(oneDay).toMatchObject({
      dataset: 'orders',
      filesBefore: 3,
      filesAfter: 1,
      partitions: [{ ingestDate: '2024-06-01', filesBefore: 3, rows: 4 }],
    });
    expect(oneDay.partitions[0].file).toMatch(
      /^s3:\/\/curated\/orders\/iceberg\/data\/ingest_date=2024-06-01\/compacted-.+\.parquet$/,
    );
    expect(await filesPerDay()).toEqual({ '2024-06-01': 1, '2024-06-02': 3 });
    expect(await allRows()).toEqual(rows);

    const rest = await runCli(['tables', 'compact', 'orders', '--lake', lake.dir]);
    expect(rest.code, rest.err).toBe(0);
    const history = JSON.parse(
      (await runCli(['tables', 'history', 'orders', '--lake', lake.dir, '--json'])).out,
    );
    const last = history.at(-1);
    expect(rest.out).toBe(
      `compacted orders: 4 files → 2 (snapshot ${last.snapshotId}, operation replace)\n  ingest_date=2024-06-02: 3 files → 1 (4 rows)\n`,
    );
    expect(history.map((s: { operation: string }) => s.operation)).toEqual([
      'append',
      'append',
      'append',
      'replace',
      'replace',
    ]);
    expect(last.snapshotId).not.toBe(oneDay.snapshotId);
    expect(last.totalRows).toBe(8);
    expect(await filesPerDay()).toEqual({ '2024-06-01': 1, '2024-06-02': 1 });
    expect(await allRows()).toEqual(rows);

    // Time travel over a replace: the snapshot before compaction reads its own (removed) files.
    expect(await allRows('--snapshot', before)).toEqual(rows);
    const old = await query(lake, 'SELECT count(*) AS n FROM orders', '--snapshot', history[1].snapshotId);
    expect(old.rows).toEqual([{ n: '5' }]);
  });

  it('a table with at most one file per day has nothing to compact (no snapshot)', async () => {
    const history = async () =>
      (
        JSON.parse(
          (await runCli(['tables', 'history', 'orders', '--lake', lake.dir, '--json'])).out,
        ) as unknown[]
      ).length;
    const count = await history();
    const run = await runCli(['tables', 'compact', 'orders', '--lake', lake.dir]);
    expect(run).toEqual({
      code: 0,
      out: 'nothing to compact in orders: 2 live files, at most one per partition\n',
      err: '',
    });
    expect(await history()).toBe(count);
  });
});

describe('with local up running on the lake', () => {
  let lake: IcebergLake;
  let s1: string;
  let stop: AbortController;
  let up: Promise<{ code: number; out: string; err: string }>;
  let endpoint: string;

  beforeAll(async () => {
    lake = await icebergLake('tables-up-');
    s1 = await appendOrders(lake, '2024-07-01', [[[1, 'A', '1.00']], [[2, 'B', '2.00']]]);
    stop = new AbortController();
    up = runCli(['local', 'up', '--lake', lake.dir], { signal: stop.signal });
    const serverJson = join(lake.dir, 'server.json');
    for (;;) {
      const info = await readFile(serverJson, 'utf8').then(
        (text) => JSON.parse(text) as ServerInfo,
        () => undefined,
      );
      if (info) {
        endpoint = info.endpoint;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 120_000);

  afterAll(async () => {
    stop?.abort('SIGINT');
    await up;
    await lake?.remove();
  });

  it('tag, compact and query --tag go through up’s endpoint (no second server on its folder)', async () => {
    // Prepare: up serves the lake; the commands must find it in server.json.
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Act
    const tag = await runCli(['tables', 'tag', 'orders', 'before-compact', '--lake', lake.dir]);
    const compact = await runCli(['tables', 'compact', 'orders', '--lake', lake.dir, '--json']);
    const tagged = await query(lake, IDS, '--tag', 'before-compact');
    const current = await query(lake, IDS);

    // Assess
    expect(tag.code, tag.err).toBe(0);
    expect(tag.out).toContain(`tagged snapshot ${s1} of orders`);
    expect(compact.code, compact.err).toBe(0);
    expect(JSON.parse(compact.out)).toMatchObject({ filesBefore: 2, filesAfter: 1 });
    expect(ids(tagged.rows)).toEqual([1, 2]);
    expect(ids(current.rows)).toEqual([1, 2]);
  });
});
