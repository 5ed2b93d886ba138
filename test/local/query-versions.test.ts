/**
 * The local query over a dataset's table versions and their schemas (issue 16, items 1, 3, 4):
 * - the table's CURRENT schema without a version: old rows read NULL in a column added later and
 *   a renamed column under its new name, even before any file was written under the new schema;
 * - at a version (time travel) the SNAPSHOT's schema, as Athena engine v3 (Trino ≥ 392,
 *   trinodb/trino#12786) reads `FOR VERSION AS OF`: the added column absent, the old name;
 * - a declaration at `version: 2` lands in `items_v2` while `items` (version 1) stays queryable;
 * - `items_latest` (the one SQL text of latest-view.ts) is the newest row per key of the current
 *   version, over rows a second file re-sent with changes.
 * The tables are made with the Iceberg core directly (ensureTable, appendFiles; the schema change
 * by a metadata swap, as an evolution on deploy makes it), data files by DuckDB with field ids.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { partitionPrefix, sourceTag, tableLocation, tableName } from '../../lib/iceberg/layout.ts';
import { localTableCatalog } from '../../lib/iceberg/local-catalog.ts';
import { stringifyMetadata } from '../../lib/iceberg/metadata.ts';
import { s3ObjectStore } from '../../lib/iceberg/s3-store.ts';
import { type IcebergSchema, icebergSchema, lastColumnId } from '../../lib/iceberg/schema.ts';
import {
  appendFiles,
  ensureTable,
  type IcebergDeps,
  loadTable,
  tableDisplay,
} from '../../lib/iceberg/table.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE, lakePaths } from '../../lib/local/lake-folder.ts';
import { QueryError, type QueryResult, queryLake } from '../../lib/local/query.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';

const columns = (extra: object[]) => [{ name: 'item_id', type: 'bigint', nullable: false }, ...extra];
/** Version 1 as first declared. */
const FIRST = parseDataset(
  {
    name: 'items',
    key: ['item_id'],
    columns: columns([
      { name: 'name', type: 'string' },
      { name: 'price', type: 'decimal', precision: 8, scale: 2 },
    ]),
  },
  'items.json',
);
/** Version 1 evolved in place: `name` renamed `title`, `note` added (optional). */
const EVOLVED = parseDataset(
  {
    name: 'items',
    key: ['item_id'],
    columns: columns([
      { name: 'title', type: 'string', previousName: 'name' },
      { name: 'price', type: 'decimal', precision: 8, scale: 2 },
      { name: 'note', type: 'string', optional: true },
    ]),
  },
  'items.json',
);
/** Version 2: the price's scale changed, which no rule allows in place. */
const SECOND = parseDataset(
  {
    name: 'items',
    version: 2,
    key: ['item_id'],
    columns: columns([
      { name: 'title', type: 'string' },
      { name: 'price', type: 'decimal', precision: 9, scale: 3 },
      { name: 'note', type: 'string', optional: true },
    ]),
  },
  'items.json',
);

let dir: string;
let server: LocalS3;
let client: S3Client;
let deps: IcebergDeps;
let clock = Date.parse('2026-12-01T09:00:00Z');
/** The snapshot of the first file (schema 0), and of the re-sent file (schema 1). */
let first: string;
let second: string;

const ref = (version = 1) => ({
  database: LOCAL_DATABASE,
  name: tableName('items', version),
  location: tableLocation(LOCAL_BUCKETS.curated, 'items', version),
});

/** Writes one data file of `select` (the named columns of `schema`) with its field ids; returns its spec. */
async function dataFile(schema: IcebergSchema, version: number, select: string) {
  const work = await mkdtemp(join(tmpdir(), 'items-file-'));
  const local = join(work, 'part.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run(`CREATE TABLE t AS ${select}`);
    const names = (await conn.runAndReadAll('SELECT * FROM t LIMIT 0')).columnNames();
    const ids = names.map((n) => `'${n}': ${schema.fields.find((f) => f.name === n)!.id}`).join(', ');
    await conn.run(`COPY t TO '${local}' (FORMAT parquet, FIELD_IDS {${ids}})`);
    const rows = Number(
      (await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM t')).getRowObjectsJson()[0]?.n,
    );
    const path = `${partitionPrefix(LOCAL_BUCKETS.curated, 'items', '2026-12-01', version)}${clock}-part-00000.parquet`;
    await deps.store.put(path, await readFile(local));
    return { path, rows, bytes: (await stat(local)).size, ingestDate: '2026-12-01' };
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
}

/** Appends one landed file's rows to the table; returns the snapshot id. */
async function land(version: number, schema: IcebergSchema, key: string, select: string): Promise<string> {
  clock += 3_600_000;
  const file = await dataFile(schema, version, select);
  const result = await appendFiles(deps, ref(version), [{ tag: sourceTag(key, 'v1'), files: [file] }]);
  return Object.values(result.bySource)[0]!.snapshotId;
}

/** Makes `schema` the table's current schema, as an evolution on deploy does (no new snapshot). */
async function evolve(schema: IcebergSchema): Promise<void> {
  const { pointer, metadata } = await loadTable(deps, ref());
  const next = {
    ...metadata,
    schemas: [...metadata.schemas, schema],
    'current-schema-id': schema['schema-id'],
    'last-column-id': Math.max(metadata['last-column-id'], lastColumnId(schema)),
  } as typeof metadata;
  const location = `${ref().location}/metadata/00099-evolved.metadata.json`;
  await deps.store.put(location, new TextEncoder().encode(stringifyMetadata(next)), 'application/json');
  await deps.catalog.swap(LOCAL_DATABASE, 'items', pointer, location, tableDisplay(next));
}

const lineage = (key: string, hour: string) =>
  `'${key}' AS _source_key, 'v1' AS _source_version, TIMESTAMPTZ '2026-12-01 ${hour}:00:00+00' AS _ingested_at`;

async function query(ds: Dataset, sql: string, snapshot?: { snapshotId: string }): Promise<QueryResult> {
  return queryLake(
    {
      s3: client,
      curatedBucket: LOCAL_BUCKETS.curated,
      datasets: new Map([[ds.name, ds]]),
      catalog: deps.catalog,
      database: LOCAL_DATABASE,
      cacheDir: lakePaths(dir).queryCache,
      ...(snapshot ? { snapshot } : {}),
    },
    sql,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lake-versions-'));
  const paths = lakePaths(dir);
  server = await startLocalS3({ directory: paths.s3, buckets: Object.values(LOCAL_BUCKETS) });
  client = localS3Client(server.endpoint);
  deps = { store: s3ObjectStore(client), catalog: localTableCatalog(paths.tables), now: () => clock };
  // Prepare: version 1 under its first schema, one file; then the evolution; then a file that
  // re-sends item 1 changed and adds item 3, under the evolved schema.
  const schema0 = icebergSchema(FIRST, 0);
  await ensureTable(deps, ref(), schema0);
  first = await land(
    1,
    schema0,
    'items/a.csv',
    `SELECT * FROM (VALUES (1::BIGINT, 'kettle', 10.00::DECIMAL(8,2)), (2, 'mug', 3.50)) AS v(item_id, name, price), (SELECT DATE '2026-12-01' AS ingest_date, ${lineage('items/a.csv', '10')})`,
  );
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('one table version, its schema evolving', () => {
  it('answers queries of a table not yet evolved to the declaration; its _latest view waits for the columns', async () => {
    // The declaration names title and note; the table has name and no note yet.
    expect((await query(EVOLVED, 'SELECT count(*)::INTEGER AS n FROM items')).rows).toEqual([{ n: 2 }]);
    const refused = await query(EVOLVED, 'SELECT * FROM items_latest').catch((e) => e);
    expect(refused).toBeInstanceOf(QueryError);
    expect((refused as QueryError).message).toMatch(/items_latest/);
  });

  it('reads old rows under the current schema as soon as the table evolves: the new name, NULL in the added column', async () => {
    // Act: the evolution, with no file written under it yet.
    await evolve(icebergSchema(EVOLVED, 1));
    const result = await query(EVOLVED, 'SELECT item_id, title, price, note FROM items ORDER BY item_id');
    // Assess
    expect(result.rows).toEqual([
      { item_id: '1', title: 'kettle', price: '10.00', note: null },
      { item_id: '2', title: 'mug', price: '3.50', note: null },
    ]);
  });

  it('reads old and new files together under the current schema', async () => {
    const schema1 = icebergSchema(EVOLVED, 1);
    second = await land(
      1,
      schema1,
      'items/b.csv',
      `SELECT * FROM (VALUES (1::BIGINT, 'kettle XL', 12.50::DECIMAL(8,2), 'bigger'), (3, 'plate', 5.00, NULL)) AS v(item_id, title, price, note), (SELECT DATE '2026-12-01' AS ingest_date, ${lineage('items/b.csv', '11')})`,
    );
    const result = await query(
      EVOLVED,
      'SELECT item_id, title, note, _source_key FROM items ORDER BY item_id, _source_key',
    );
    expect(result.rows).toEqual([
      { item_id: '1', title: 'kettle', note: null, _source_key: 'items/a.csv' },
      { item_id: '1', title: 'kettle XL', note: 'bigger', _source_key: 'items/b.csv' },
      { item_id: '2', title: 'mug', note: null, _source_key: 'items/a.csv' },
      { item_id: '3', title: 'plate', note: null, _source_key: 'items/b.csv' },
    ]);
  });

  it("reads a snapshot from before the evolution under that snapshot's schema, as Athena does", async () => {
    // Act
    const old = await query(EVOLVED, 'SELECT * FROM items ORDER BY item_id', { snapshotId: first });
    // Assess: the columns of schema 0 (the old name, no note), the rows of the first file only.
    expect(old.columns).toEqual([
      'item_id',
      'name',
      'price',
      'ingest_date',
      '_source_key',
      '_source_version',
      '_ingested_at',
    ]);
    expect(old.rows.map((r) => [r.item_id, r.name, r.price])).toEqual([
      ['1', 'kettle', '10.00'],
      ['2', 'mug', '3.50'],
    ]);
    // The column added later does not exist at that version (Athena: "column cannot be resolved").
    const refused = await query(EVOLVED, 'SELECT note FROM items', { snapshotId: first }).catch((e) => e);
    expect(refused).toBeInstanceOf(QueryError);
    expect((refused as QueryError).message).toMatch(/note/);
    // At the later snapshot, its own (the evolved) schema.
    const later = await query(EVOLVED, 'SELECT item_id, title, note FROM items ORDER BY item_id, title', {
      snapshotId: second,
    });
    expect(later.columns).toEqual(['item_id', 'title', 'note']);
    expect(later.rows).toHaveLength(4);
    // The view at a snapshot whose schema lacks its columns does not exist (Athena cannot
    // time-travel a view at all); at the later snapshot it reads the files of then.
    const noView = await query(EVOLVED, 'SELECT * FROM items_latest', { snapshotId: first }).catch((e) => e);
    expect(noView).toBeInstanceOf(QueryError);
    const thenLatest = await query(EVOLVED, 'SELECT item_id, title FROM items_latest ORDER BY item_id', {
      snapshotId: second,
    });
    expect(thenLatest.rows.map((r) => r.title)).toEqual(['kettle XL', 'mug', 'plate']);
  });

  it('gives the newest row per key in items_latest after a file re-sent changed rows', async () => {
    const result = await query(
      EVOLVED,
      'SELECT item_id, title, price, note, _source_key FROM items_latest ORDER BY item_id',
    );
    expect(result.rows).toEqual([
      { item_id: '1', title: 'kettle XL', price: '12.50', note: 'bigger', _source_key: 'items/b.csv' },
      { item_id: '2', title: 'mug', price: '3.50', note: null, _source_key: 'items/a.csv' },
      { item_id: '3', title: 'plate', price: '5.00', note: null, _source_key: 'items/b.csv' },
    ]);
  });
});

describe('a second table version', () => {
  it('lands in items_v2 while items (version 1) stays queryable under its name, and items_latest follows version 2', async () => {
    // Prepare: the declaration now says version 2; its table holds one file.
    const schema = icebergSchema(SECOND, 0);
    await ensureTable(deps, ref(2), schema);
    await land(
      2,
      schema,
      'items/c.csv',
      `SELECT * FROM (VALUES (1::BIGINT, 'kettle v2', 12.505::DECIMAL(9,3), NULL::VARCHAR)) AS v(item_id, title, price, note), (SELECT DATE '2026-12-01' AS ingest_date, ${lineage('items/c.csv', '12')})`,
    );
    // Act
    const v1 = await query(SECOND, 'SELECT count(*)::INTEGER AS n, max(price) AS top FROM items');
    const v2 = await query(SECOND, 'SELECT item_id, title, price FROM items_v2');
    const latest = await query(SECOND, 'SELECT item_id, title, price, _source_key FROM items_latest');
    // Assess: version 1 keeps its four rows and its type; version 2 its own.
    expect(v1.rows).toEqual([{ n: 4, top: '12.50' }]);
    expect(v2.rows).toEqual([{ item_id: '1', title: 'kettle v2', price: '12.505' }]);
    expect(latest.rows).toEqual([
      { item_id: '1', title: 'kettle v2', price: '12.505', _source_key: 'items/c.csv' },
    ]);
  });

  it('reads version 1 as of its first snapshot while version 2 is current', async () => {
    const result = await query(SECOND, 'SELECT item_id, name FROM items ORDER BY item_id', {
      snapshotId: first,
    });
    expect(result.rows).toEqual([
      { item_id: '1', name: 'kettle' },
      { item_id: '2', name: 'mug' },
    ]);
    expect(result.versions).toEqual([expect.objectContaining({ table: 'items', snapshotId: first })]);
  });
});
