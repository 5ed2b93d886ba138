/**
 * `<dataset>_latest` (issue 16, item 4): the one SQL text latest-view.ts generates runs unchanged in
 * DuckDB and returns the newest row per key: the latest `_ingested_at`, then the greater source
 * key, then the greater source version; rows without lineage rank last; a file that repeats a key
 * gives the same row every time. The Athena side (the same text in the Glue view) is in
 * test/infra/latest-views.test.ts.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import {
  latestView,
  latestViewColumns,
  latestViewSql,
  prestoViewTableInput,
  queryableTables,
} from '../../lib/datasets/latest-view.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';

const items = (extra: Record<string, unknown> = {}): Dataset =>
  parseDataset(
    {
      name: 'items',
      key: ['item_id'],
      columns: [
        { name: 'item_id', type: 'bigint', nullable: false },
        { name: 'name', type: 'string' },
        { name: 'price', type: 'decimal', precision: 8, scale: 2 },
        { name: 'legacy', type: 'string', retired: true },
        { name: 'note', type: 'string', optional: true },
      ],
      ...extra,
    },
    'items.json',
  );

/** Runs `sql` over a table `table` of the given rows (every table column, lineage included). */
async function run(table: string, rows: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run(
      `CREATE TABLE "${table}" (item_id BIGINT, name VARCHAR, price DECIMAL(8,2), legacy VARCHAR, note VARCHAR, ingest_date DATE, _source_key VARCHAR, _source_version VARCHAR, _ingested_at TIMESTAMPTZ)`,
    );
    await conn.run(`INSERT INTO "${table}" VALUES ${rows}`);
    const reader = await conn.runAndReadAll(`SELECT * FROM (${sql}) ORDER BY item_id`);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const at = (hhmm: string) => `TIMESTAMPTZ '2026-12-01 ${hhmm}:00+00'`;
const row = (
  id: number,
  name: string,
  price: string,
  key: string | null,
  version: string | null,
  time: string | null,
) =>
  `(${id}, '${name}', ${price}, 'gone', NULL, DATE '2026-12-01', ${key === null ? 'NULL' : `'${key}'`}, ${version === null ? 'NULL' : `'${version}'`}, ${time === null ? 'NULL' : at(time)})`;

describe('the _latest view SQL', () => {
  it('returns the newest row per key from a re-sent file with changes, in DuckDB, as generated', async () => {
    // Prepare: a first file, then a second that re-sends items 1 and 4 with changes; older rows
    // without lineage; ties broken by source key, then version.
    const rows = [
      row(1, 'kettle', '10.00', 'items/a.csv', 'v1', '10:00'),
      row(1, 'kettle XL', '12.50', 'items/b.csv', 'v1', '11:00'),
      row(2, 'mug (before lineage)', '3.00', null, null, null),
      row(2, 'mug', '3.50', 'items/a.csv', 'v1', '10:00'),
      row(3, 'plate', '5.00', null, null, null),
      row(4, 'bowl from a', '4.00', 'items/a.csv', 'v9', '10:00'),
      row(4, 'bowl from b', '4.20', 'items/b.csv', 'v1', '10:00'),
      row(5, 'cup v1', '2.00', 'items/c.csv', 'v1', '10:00'),
      row(5, 'cup v2', '2.10', 'items/c.csv', 'v2', '10:00'),
    ].join(', ');
    // Act
    const result = await run('items', rows, latestViewSql(items()));
    // Assess: one row per key, the live columns and the lineage, no retired column, no rank.
    const lineage = (key: string | null, version: string | null, time: string | null) => ({
      _source_key: key,
      _source_version: version,
      _ingested_at: time === null ? null : `2026-12-01 ${time}:00+00`,
    });
    expect(result).toEqual([
      {
        item_id: '1',
        name: 'kettle XL',
        price: '12.50',
        note: null,
        ...lineage('items/b.csv', 'v1', '11:00'),
      },
      { item_id: '2', name: 'mug', price: '3.50', note: null, ...lineage('items/a.csv', 'v1', '10:00') },
      { item_id: '3', name: 'plate', price: '5.00', note: null, ...lineage(null, null, null) },
      {
        item_id: '4',
        name: 'bowl from b',
        price: '4.20',
        note: null,
        ...lineage('items/b.csv', 'v1', '10:00'),
      },
      { item_id: '5', name: 'cup v2', price: '2.10', note: null, ...lineage('items/c.csv', 'v2', '10:00') },
    ]);
  });

  it('reads the current version table and names its columns in declaration order, then the lineage', () => {
    const ds = items({ version: 3 });
    expect(latestView(ds)).toEqual({ name: 'items_latest', table: 'items_v3' });
    expect(latestViewSql(ds)).toContain('FROM "items_v3"');
    expect(latestViewColumns(ds).map((c) => `${c.name} ${c.type}`)).toEqual([
      'item_id bigint',
      'name varchar',
      'price decimal(8,2)',
      'note varchar',
      '_source_key varchar',
      '_source_version varchar',
      '_ingested_at timestamp(6) with time zone',
    ]);
  });

  it('uses no syntax of one engine only, and a rank column no declared column takes', () => {
    const sql = latestViewSql(
      parseDataset(
        {
          name: 'odd',
          key: ['_latest_rank'],
          columns: [{ name: '_latest_rank', type: 'int', nullable: false }],
        },
        'odd.json',
      ),
    );
    expect(sql).not.toMatch(/\b(EXCLUDE|QUALIFY|REPLACE)\b/i);
    // The window reads the key and the lineage only: a query of a few columns of the view reads
    // those (Athena bills the columns read), not the whole width of the table.
    expect(sql).toContain(
      'PARTITION BY "_latest_rank" ORDER BY "_ingested_at" DESC NULLS LAST, "_source_key" DESC NULLS LAST, "_source_version" DESC NULLS LAST)',
    );
    expect(sql).toContain('AS "__latest_rank"');
    expect(sql).toContain('WHERE "__latest_rank" = 1');
  });

  it('lists every table version and the view as what queries may read (the operator policy grants each)', () => {
    expect(queryableTables(items({ version: 3 }))).toEqual(['items', 'items_v2', 'items_v3', 'items_latest']);
    expect(queryableTables(items())).toEqual(['items', 'items_latest']);
  });

  it('has no view for a dataset without a key', () => {
    const ds = parseDataset({ name: 'plain', columns: [{ name: 'a', type: 'int' }] }, 'plain.json');
    expect(latestView(ds)).toBeUndefined();
    expect(queryableTables(ds)).toEqual(['plain']);
    expect(() => latestViewSql(ds)).toThrow('dataset "plain" declares no key: it has no plain_latest view');
  });
});

describe("the view's column types and SQL text, exactly", () => {
  /** A dataset keyed by two columns, with one column of every type and a retired one. */
  const everyType = (): Dataset =>
    parseDataset(
      {
        name: 'items',
        key: ['item_id', 'shop'],
        columns: [
          { name: 'item_id', type: 'bigint', nullable: false },
          { name: 'shop', type: 'string', nullable: false },
          { name: 'qty', type: 'int' },
          { name: 'price', type: 'decimal', precision: 8, scale: 2 },
          { name: 'weight', type: 'double' },
          { name: 'sold', type: 'boolean' },
          { name: 'day', type: 'date' },
          { name: 'at', type: 'timestamp' },
          { name: 'legacy', type: 'string', retired: true },
        ],
      },
      'items.json',
    );

  it('gives each declared type its Trino and its Hive (Glue) name, then the lineage columns', () => {
    expect(latestViewColumns(everyType()).map((c) => [c.name, c.type, c.hiveType])).toEqual([
      ['item_id', 'bigint', 'bigint'],
      ['shop', 'varchar', 'string'],
      ['qty', 'integer', 'int'],
      ['price', 'decimal(8,2)', 'decimal(8,2)'],
      ['weight', 'double', 'double'],
      ['sold', 'boolean', 'boolean'],
      ['day', 'date', 'date'],
      ['at', 'timestamp(6) with time zone', 'timestamp'],
      ['_source_key', 'varchar', 'string'],
      ['_source_version', 'varchar', 'string'],
      ['_ingested_at', 'timestamp(6) with time zone', 'timestamp'],
    ]);
  });

  it('partitions by every key column and orders by the lineage only', () => {
    // Act
    const sql = latestViewSql(everyType());
    // Assess: the whole text (it is what Athena stores and DuckDB runs).
    const list =
      '"item_id", "shop", "qty", "price", "weight", "sold", "day", "at", "_source_key", "_source_version", "_ingested_at"';
    expect(sql).toBe(
      [
        `SELECT ${list}`,
        'FROM (',
        `  SELECT ${list},`,
        '    row_number() OVER (PARTITION BY "item_id", "shop" ORDER BY "_ingested_at" DESC NULLS LAST, "_source_key" DESC NULLS LAST, "_source_version" DESC NULLS LAST) AS "_latest_rank"',
        '  FROM "items"',
        ') AS ranked',
        'WHERE "_latest_rank" = 1',
      ].join('\n'),
    );
  });

  it('is stored in Glue as Athena stores a view: the Presto view JSON in base64, its marker and parameters', () => {
    // Prepare
    const ds = everyType();
    const columns = latestViewColumns(ds);
    // Act
    const input = prestoViewTableInput(ds, 'lake_db');
    // Assess: the envelope, then the decoded definition.
    const match = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(input.viewOriginalText);
    expect(match).not.toBeNull();
    expect(JSON.parse(Buffer.from(match![1]!, 'base64').toString('utf8'))).toStrictEqual({
      originalSql: latestViewSql(ds),
      catalog: 'awsdatacatalog',
      schema: 'lake_db',
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      runAsInvoker: true,
    });
    expect({ ...input, viewOriginalText: undefined }).toStrictEqual({
      name: 'items_latest',
      tableType: 'VIRTUAL_VIEW',
      viewOriginalText: undefined,
      viewExpandedText: '/* Presto View */',
      parameters: { presto_view: 'true', comment: 'Presto View' },
      columns: columns.map((c) => ({ name: c.name, type: c.hiveType })),
    });
  });

  it('refuses a Glue view for a dataset without a key, naming the dataset and the view', () => {
    const ds = parseDataset({ name: 'plain', columns: [{ name: 'a', type: 'int' }] }, 'plain.json');
    expect(() => prestoViewTableInput(ds, 'lake_db')).toThrow(
      'dataset "plain" declares no key: it has no plain_latest view',
    );
  });
});
