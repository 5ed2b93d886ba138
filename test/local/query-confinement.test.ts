/**
 * The query surface is confined (issue 12, item 4; findings F11 and F21): `queryLake`, behind
 * `local query` and every query the API and console offer, reads only the lake's tables. Each
 * escape the attack report tried is refused with a one-line QueryError and leaves no file behind;
 * ordinary SELECTs keep their exact values; rows and time are capped.
 *
 * One runtime and one landed file serve every test: the queries only read.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localTableCatalog } from '../../lib/iceberg/local-catalog.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import {
  openConfined,
  QueryError,
  type QueryLimits,
  type QueryResult,
  queryLake,
} from '../../lib/local/query.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';

let lakeDir: string;
/** Where the escapes aim their writes: it must stay empty. */
let outDir: string;
let runtime: LocalRuntime;

/** 25 generated orders (ids 3–27) plus two with known exact values. */
const ORDERS = `${ORDERS_HEADER}1,"Ann Lee, Acme",ABC-12345,2,12.50,USD,0.1,true,2024-02-29T10:00:00+01:00,2024-03-01
2,Bob,XYZ-00001,1,99999999.99,EUR,,FALSE,2024-03-01 08:15:00.123456Z,
${orderRows(7, 2, 27)}`;

beforeAll(async () => {
  lakeDir = await mkdtemp(join(tmpdir(), 'lake-confined-'));
  outDir = await mkdtemp(join(tmpdir(), 'escape-'));
  runtime = await LocalRuntime.start({ lakeDir });
  const record = await runtime.land('orders/confined.csv', ORDERS);
  expect(record.outcome).toBe('curated');
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await rm(outDir, { recursive: true, force: true });
});

afterEach(async () => {
  // No escape may write where it aimed.
  expect(await readdir(outDir)).toEqual([]);
});

async function query(sql: string, limits?: QueryLimits): Promise<QueryResult> {
  return queryLake(
    {
      s3: runtime.client,
      curatedBucket: LOCAL_BUCKETS.curated,
      datasets: runtime.datasets,
      catalog: localTableCatalog(runtime.paths.tables),
      database: LOCAL_DATABASE,
      cacheDir: runtime.paths.queryCache,
    },
    sql,
    limits,
  );
}

/** The message of the QueryError `sql` is refused with (fails the test if it runs). */
async function refusal(sql: string, limits?: QueryLimits): Promise<string> {
  const error = await query(sql, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QueryError);
  return (error as QueryError).message;
}

/** The cached Parquet file behind the orders view (the query cache holds it once a query ran). */
async function ordersFile(): Promise<string> {
  await query('SELECT 1');
  const page = await runtime.client.send(
    new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.curated, Prefix: 'orders/' }),
  );
  const key = (page.Contents ?? []).map((o) => o.Key ?? '').find((k) => k.endsWith('.parquet'));
  return join(runtime.paths.queryCache, key ?? 'no parquet in curated');
}

describe('ordinary queries over the tables', () => {
  it('a SELECT returns exact decimals, 64-bit integers and UTC instants', async () => {
    const result = await query(
      'SELECT order_id, amount, ordered_at, ship_date FROM orders WHERE order_id IN (1, 2) ORDER BY order_id',
    );
    expect(result).toEqual({
      columns: ['order_id', 'amount', 'ordered_at', 'ship_date'],
      rows: [
        { order_id: '1', amount: '12.50', ordered_at: '2024-02-29T09:00:00Z', ship_date: '2024-03-01' },
        { order_id: '2', amount: '99999999.99', ordered_at: '2024-03-01T08:15:00.123456Z', ship_date: null },
      ],
      truncated: false,
    });
  });

  it('joins, CTEs and a second (empty) table work', async () => {
    const { rows } = await query(`
      WITH known AS (SELECT order_id, amount FROM orders WHERE order_id <= 2)
      SELECT k.order_id, o.customer, k.amount + o.amount AS doubled, count(s.device_id) AS readings
      FROM known k JOIN orders o USING (order_id) LEFT JOIN sensor_readings s ON false
      GROUP BY ALL ORDER BY k.order_id`);
    expect(rows).toEqual([
      { order_id: '1', customer: 'Ann Lee, Acme', doubled: '25.00', readings: '0' },
      { order_id: '2', customer: 'Bob', doubled: '199999999.98', readings: '0' },
    ]);
  });

  it('a file behind a table may be read by its path (the same rows as the table), nothing else in the cache', async () => {
    const file = await ordersFile();
    // A partition no longer registered leaves its file in the cache; it is not a table any more.
    const stale = join(dirname(dirname(file)), 'ingest_date=1999-01-01', 'old.parquet');
    await mkdir(dirname(stale), { recursive: true });
    await copyFile(file, stale);

    const { rows } = await query(`SELECT count(*) AS n FROM read_parquet('${file}')`);
    expect(rows).toEqual([{ n: '27' }]);
    expect(await refusal(`SELECT count(*) FROM read_parquet('${stale}')`)).toBe(
      `Permission Error: Cannot access file "${stale}" - file system operations are disabled by configuration`,
    );
    expect(await refusal(`SELECT * FROM read_text('${file}.etag')`)).toMatch(/^Permission Error: .*\.etag"/);
    expect(await refusal(`SELECT * FROM glob('${runtime.paths.queryCache}/**')`)).toMatch(
      /^Permission Error/,
    );
  });
});

describe('each escape of the attack report is refused, and nothing runs', () => {
  // Reads outside the tables are SELECTs: DuckDB's settings (external access off) stop them.
  const denied = (path: string) =>
    `Permission Error: Cannot access file "${path}" - file system operations are disabled by configuration`;
  it.each([
    ["SELECT * FROM read_csv('/etc/passwd') LIMIT 2", denied('/etc/passwd')],
    ["SELECT * FROM read_text('/etc/hostname')", denied('/etc/hostname')],
    ["SELECT * FROM read_blob('/etc/hostname')", denied('/etc/hostname')],
    ["SELECT * FROM glob('/etc/*')", denied('/etc/*')],
    ["SELECT * FROM 'https://example.com/x.csv'", denied('https://example.com/x.csv')],
    // With external access off, DuckDB does not even try a file for an unknown table name.
    ["SELECT * FROM '/etc/passwd'", 'Catalog Error: Table with name /etc/passwd does not exist!'],
  ])('%s', async (sql, message) => {
    expect(await refusal(sql)).toBe(message);
  });

  it('COPY … TO a file writes nothing', async () => {
    const target = join(outDir, 'x.csv');
    // Binding COPY already needs the file, so the settings refuse it before its statement type is seen.
    expect(await refusal(`COPY (SELECT * FROM orders) TO '${target}'`)).toMatch(
      /^Permission Error: Cannot access file ".*x\.csv"|^only select queries run over the lake/,
    );
  });

  // Statements other than SELECT are refused by DuckDB's own parser, whatever they would do.
  it.each([
    ["ATTACH ':memory:' AS a", 'ATTACH'],
    ['CREATE TABLE t(a int)', 'CREATE'],
    ['CREATE VIEW v AS SELECT 1', 'CREATE'],
    ['DROP VIEW orders', 'DROP'],
    ['INSTALL httpfs', 'LOAD'],
    ['LOAD httpfs', 'LOAD'],
    ['SET enable_external_access = true', 'SET'],
    ['RESET lock_configuration', 'SET'],
    ['PRAGMA enable_profiling', 'PRAGMA'],
    ['EXPLAIN ANALYZE DROP VIEW orders', 'EXPLAIN'],
    ['CALL pragma_version()', 'CALL'],
    ['BEGIN TRANSACTION', 'TRANSACTION'],
    ['USE memory', 'SET'],
  ])('%s', async (sql, kind) => {
    expect(await refusal(sql)).toBe(
      `only select queries run over the lake: ${JSON.stringify(sql)} is a ${kind} statement`,
    );
  });

  it('ATTACH creates no database file', async () => {
    const target = join(outDir, 'att.db');
    expect(await refusal(`ATTACH '${target}' AS a`)).toMatch(/is a ATTACH statement$/);
  });

  it('a second statement is refused and neither runs', async () => {
    const target = join(outDir, 'x2.csv');
    expect(await refusal(`SELECT 1; COPY (SELECT 1) TO '${target}'`)).toBe(
      'one statement per query: found 2',
    );
    expect(await refusal(`COPY (SELECT 1) TO '${target}'; SELECT 1; SELECT 2`)).toBe(
      'one statement per query: found 3',
    );
  });

  it('a trailing semicolon or comment is still one statement', async () => {
    expect((await query('SELECT 1 AS one; -- done')).rows).toEqual([{ one: 1 }]);
  });

  it.each([[''], ['   '], [' ; ; '], ['-- only a comment']])('the empty query %j', async (sql) => {
    expect(await refusal(sql)).toBe(`empty query: no sql statement in ${JSON.stringify(sql.trim())}`);
  });

  it('bad SQL keeps DuckDB’s one-line parser message', async () => {
    expect(await refusal('SELEC 1')).toBe('Parser Error: syntax error at or near "SELEC"');
  });

  it('a function of a known extension is not installed or loaded on the fly', async () => {
    // With autoinstall on, DuckDB would try to download `excel` (an outbound connection).
    expect(await refusal("SELECT * FROM read_xlsx('x.xlsx')")).toBe(
      'Catalog Error: Table Function with name "read_xlsx" is not in the catalog, but it exists in the excel extension.',
    );
  });

  it('the configuration is locked: not even the lake’s own connection can reopen access', async () => {
    const spill = await mkdtemp(join(tmpdir(), 'spill-'));
    const { instance, conn } = await openConfined([], spill);
    try {
      await expect(conn.run('SET enable_external_access = true')).rejects.toThrow(
        'Cannot change configuration option "enable_external_access" - the configuration has been locked',
      );
      await expect(conn.run("SET allowed_directories = ['/']")).rejects.toThrow(/locked/);
    } finally {
      conn.closeSync();
      instance.closeSync();
      await rm(spill, { recursive: true, force: true });
    }
  });

  it('spills go to a folder of the lake, removed after the query', async () => {
    const { rows } = await query("SELECT current_setting('temp_directory') AS dir");
    const dir = String(rows[0]?.dir);
    expect(dir.startsWith(join(lakeDir, 'cache', 'spill-'))).toBe(true);
    expect((await readdir(join(lakeDir, 'cache'))).filter((n) => n.startsWith('spill-'))).toEqual([]);
  });
});

describe('limits', () => {
  it('the row cap returns the first rows and says the result was truncated', async () => {
    const sql = 'SELECT order_id FROM orders ORDER BY order_id';
    const capped = await query(sql, { maxRows: 10 });
    expect(capped.rows).toEqual(Array.from({ length: 10 }, (_, i) => ({ order_id: String(i + 1) })));
    expect(capped.truncated).toBe(true);
    const exact = await query(sql, { maxRows: 27 });
    expect(exact.rows).toHaveLength(27);
    expect(exact.truncated).toBe(false);
  });

  it('the default row cap is 10,000', async () => {
    const over = await query('SELECT range AS n FROM range(10001)');
    expect([over.rows.length, over.truncated, over.rows.at(-1)]).toEqual([10_000, true, { n: '9999' }]);
    const at = await query('SELECT range AS n FROM range(10000)');
    expect([at.rows.length, at.truncated]).toEqual([10_000, false]);
  });

  it('a query past its time limit is interrupted with a clear error', { timeout: 30_000 }, async () => {
    expect(
      await refusal('SELECT count(*) FROM range(1000000000) a, range(1000000000) b', { timeoutMs: 200 }),
    ).toBe('query stopped after 0.2 s (its time limit)');
  });
});
