/**
 * Reading by field id: `readParquetSql` over files whose column names and columns differ from the
 * schema (a rename, a column added later), and the dataset table a declaration makes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset } from '../../../lib/datasets/model.ts';
import { ensureDatasetTable, tableProperties } from '../../../lib/iceberg/dataset-tables.ts';
import { duckdbType, readParquetSql } from '../../../lib/iceberg/scan.ts';
import { type IcebergSchema, icebergSchema } from '../../../lib/iceberg/schema.ts';
import { expiryPolicy, loadTable } from '../../../lib/iceberg/table.ts';
import { type Lake, startLake } from './harness.ts';

let lake: Lake;
beforeAll(async () => {
  lake = await startLake();
});
afterAll(async () => {
  await lake?.close();
});

describe('readParquetSql', () => {
  it('maps columns by field id, in schema order, NULL for a field a file lacks', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const dir = lake.dir;
    // Written under old names and in another order, without field 4 (added later).
    await conn.run(
      `COPY (SELECT DATE '2026-12-01' AS day, 7::BIGINT AS id) TO '${join(dir, 'old.parquet')}' (FORMAT parquet, FIELD_IDS {day: 1, id: 2})`,
    );
    await conn.run(
      `COPY (SELECT 8::BIGINT AS order_id, 'x' AS note, DATE '2026-12-02' AS ingest_date) TO '${join(dir, 'new.parquet')}' (FORMAT parquet, FIELD_IDS {order_id: 2, note: 4, ingest_date: 1})`,
    );
    const schema: IcebergSchema = {
      type: 'struct',
      'schema-id': 1,
      fields: [
        { id: 2, name: 'order_id', required: true, type: 'long' },
        { id: 4, name: 'note', required: false, type: 'string' },
        { id: 1, name: 'ingest_date', required: true, type: 'date' },
      ],
    };

    const sql = readParquetSql([join(dir, 'old.parquet'), join(dir, 'new.parquet')], schema);
    const reader = await conn.runAndReadAll(`SELECT * FROM ${sql} ORDER BY order_id`);
    const empty = await conn.runAndReadAll(`SELECT * FROM ${readParquetSql([], schema)}`);

    expect(reader.columnNames()).toEqual(['order_id', 'note', 'ingest_date']);
    expect(reader.getRowObjectsJson()).toEqual([
      { order_id: '7', note: null, ingest_date: '2026-12-01' },
      { order_id: '8', note: 'x', ingest_date: '2026-12-02' },
    ]);
    expect(empty.columnNames()).toEqual(['order_id', 'note', 'ingest_date']);
    expect(empty.currentRowCount).toBe(0);
    conn.closeSync();
  });

  it('quotes paths and names, and maps every type a declaration has', () => {
    const sql = readParquetSql(["/tmp/o'brien.parquet"], {
      type: 'struct',
      'schema-id': 0,
      fields: [{ id: 1, name: 'we"ird', required: true, type: 'decimal(12, 2)' }],
    });
    expect(sql).toBe(
      `(SELECT "we""ird" FROM read_parquet(['/tmp/o''brien.parquet'], schema = MAP {1: {name: 'we"ird', type: 'DECIMAL(12, 2)', default_value: NULL}}))`,
    );
    expect(['string', 'int', 'long', 'double', 'boolean', 'date', 'timestamptz'].map(duckdbType)).toEqual([
      'VARCHAR',
      'INTEGER',
      'BIGINT',
      'DOUBLE',
      'BOOLEAN',
      'DATE',
      'TIMESTAMPTZ',
    ]);
    expect(() => duckdbType('struct<a: int>')).toThrow(/no DuckDB mapping/);
  });
});

describe('ensureDatasetTable', () => {
  it("creates the dataset's table at its fresh prefix with its schema and properties, once", async () => {
    const ds = parseDataset(
      JSON.parse(await readFile(join(import.meta.dirname, '../../../datasets/orders.json'), 'utf8')),
      'orders.json',
    );
    const deps = lake.deps();

    const first = await ensureDatasetTable(
      deps,
      { database: 'lake', curatedBucket: 'curated' },
      ds,
      tableProperties({ snapshotRetentionDays: 7 }),
    );
    const second = await ensureDatasetTable(deps, { database: 'lake', curatedBucket: 'curated' }, ds);
    const { metadata } = await loadTable(deps, { database: 'lake', name: ds.name });

    expect(first.created).toBe(true);
    expect(second).toEqual({
      table: 'orders',
      metadataLocation: first.metadataLocation,
      status: 'unchanged',
      created: false,
      changes: [],
    });
    expect(metadata.location).toBe(`s3://curated/${ds.name}/iceberg`);
    expect(metadata.schemas[0]).toEqual(icebergSchema(ds));
    expect(metadata.properties).toEqual({
      'write.format.default': 'parquet',
      'write.parquet.compression-codec': 'zstd',
      'history.expire.max-snapshot-age-ms': String(7 * 86_400_000),
      'history.expire.min-snapshots-to-keep': '1',
      'write.metadata.previous-versions-max': '100',
    });
    expect(() => tableProperties({ snapshotRetentionDays: 0 })).toThrow(/positive number of days, not 0/);
    expect(expiryPolicy(metadata, 10 * 86_400_000)).toEqual({ olderThanMs: 3 * 86_400_000, retainLast: 1 });
    expect(expiryPolicy({ ...metadata, properties: {} }, 10 * 86_400_000)).toEqual({
      olderThanMs: 5 * 86_400_000,
      retainLast: 1,
    });
  });
});
