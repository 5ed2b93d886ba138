/**
 * The footer check a data file passes before it enters a table, on files DuckDB writes (stored in
 * s3rver, read with ranged reads).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset } from '../../../lib/datasets/model.ts';
import { checkDataFile, DataFileError, typeMismatch } from '../../../lib/iceberg/datafile.ts';
import { type IcebergSchema, icebergSchema, LINEAGE_FIELDS } from '../../../lib/iceberg/schema.ts';
import { BUCKET, type Lake, SCHEMA, startLake, writeOrders } from './harness.ts';

let lake: Lake;
beforeAll(async () => {
  lake = await startLake();
});
afterAll(async () => {
  await lake?.close();
});

const uri = (name: string) => `s3://${BUCKET}/df/iceberg/data/ingest_date=2026-12-01/${name}.parquet`;
const opts = { firstId: 1, rows: 20, ingestDate: '2026-12-01' };
const withField = (id: number, change: Partial<IcebergSchema['fields'][number]>): IcebergSchema => ({
  ...SCHEMA,
  fields: SCHEMA.fields.map((f) => (f.id === id ? { ...f, ...change } : f)),
});

describe('checkDataFile', () => {
  it('accepts a file with every field id, compatible types and the counted rows', async () => {
    const f = await writeOrders(lake.store, uri('good'), opts);
    await expect(checkDataFile(lake.store, f, SCHEMA)).resolves.toBeUndefined();
  });

  it('accepts a narrower decimal of the same scale (a valid promotion)', async () => {
    const f = await writeOrders(lake.store, uri('good2'), opts);
    const wider = withField(3, { type: 'decimal(18, 2)' });
    await expect(checkDataFile(lake.store, f, wider)).resolves.toBeUndefined();
  });

  it('accepts what DuckDB writes for every declared type of the orders dataset, and refuses INT96 timestamps', async () => {
    const ds = parseDataset(
      JSON.parse(await readFile(join(import.meta.dirname, '../../../datasets/orders.json'), 'utf8')),
      'orders.json',
    );
    const schema = icebergSchema(ds);
    const local = join(lake.dir, 'all-types.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run("SET TimeZone = 'UTC'");
    const select = `SELECT 1::BIGINT AS order_id, 'Ann' AS customer, 'ABC-00001' AS sku, 2::INTEGER AS quantity,
        12.50::DECIMAL(12, 2) AS amount, 'EUR' AS currency, 0.1::DOUBLE AS discount, true AS gift,
        TIMESTAMPTZ '2026-12-01 10:00:00+00' AS ordered_at, DATE '2026-12-03' AS ship_date, DATE '2026-12-01' AS ingest_date`;
    const ids = (fields: typeof schema.fields) =>
      `FIELD_IDS {${fields.map((f) => `${f.name}: ${f.id}`).join(', ')}}`;
    const lineage = `'orders/a.csv' AS _source_key, 'v1' AS _source_version, TIMESTAMPTZ '2026-12-01 09:00:00.123+00' AS _ingested_at`;
    await conn.run(`COPY (${select}, ${lineage}) TO '${local}' (FORMAT parquet, ${ids(schema.fields)})`);
    // A file written before issue 16: no lineage fields (optional, so still accepted).
    const before = join(lake.dir, 'all-types-pre16.parquet');
    const declared = schema.fields.filter((f) => f.id < LINEAGE_FIELDS[0]!.id);
    await conn.run(`COPY (${select}) TO '${before}' (FORMAT parquet, ${ids(declared)})`);
    conn.closeSync();
    for (const [name, path] of [
      ['all-types', local],
      ['all-types-pre16', before],
    ] as const) {
      const bytes = new Uint8Array(await readFile(path));
      await lake.store.put(uri(name), bytes);
      await expect(
        checkDataFile(
          lake.store,
          { path: uri(name), rows: 1, bytes: bytes.byteLength, ingestDate: '2026-12-01' },
          schema,
        ),
        name,
      ).resolves.toBeUndefined();
    }
    // Spark's default timestamp type: INT96, which Iceberg does not allow.
    expect(typeMismatch({ name: 'ordered_at', type: 'INT96' }, 'timestamptz')).toBe(
      'holds INT96, not compatible with Iceberg type timestamptz',
    );
    expect(
      typeMismatch(
        {
          name: 'ordered_at',
          type: 'INT64',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' },
        },
        'timestamptz',
      ),
    ).toMatch(/not compatible/);
    expect(typeMismatch({ name: 'n', type: 'INT32' }, 'long')).toBeUndefined();
  });

  it('refuses a file without field ids (DuckDB would read it as NULLs)', async () => {
    const f = await writeOrders(lake.store, uri('no-ids'), { ...opts, fieldIds: false });
    const err = await checkDataFile(lake.store, f, SCHEMA).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toContain(`data file ${uri('no-ids')} is refused`);
    expect((err as Error).message).toContain('column "order_id" has no field id');
    expect((err as Error).message).toContain('required field 1 "ingest_date" is missing');
  });

  it('refuses a row count other than the one counted, and a size other than the object', async () => {
    const f = await writeOrders(lake.store, uri('counts'), opts);
    await expect(checkDataFile(lake.store, { ...f, rows: 21 }, SCHEMA)).rejects.toThrow(
      /it holds 20 rows, not 21 as counted/,
    );
    await expect(checkDataFile(lake.store, { ...f, bytes: f.bytes + 1 }, SCHEMA)).rejects.toThrow(
      new RegExp(`its size is ${f.bytes} bytes, not ${f.bytes + 1}`),
    );
  });

  it('refuses a field id the schema does not know, and a type the field cannot take', async () => {
    const f = await writeOrders(lake.store, uri('types'), opts);
    const unknown: IcebergSchema = { ...SCHEMA, fields: SCHEMA.fields.filter((x) => x.id !== 4) };
    await expect(checkDataFile(lake.store, f, unknown)).rejects.toThrow(
      /column "note" has field id 4, which the table schema does not know/,
    );
    await expect(checkDataFile(lake.store, f, withField(4, { type: 'int' }))).rejects.toThrow(
      /column "note" \(field 4 "note"\) holds BYTE_ARRAY .*not compatible with Iceberg type int/,
    );
    await expect(checkDataFile(lake.store, f, withField(3, { type: 'decimal(12, 3)' }))).rejects.toThrow(
      /not compatible with Iceberg type decimal\(12, 3\)/,
    );
    await expect(checkDataFile(lake.store, f, withField(2, { type: 'int' }))).rejects.toThrow(
      /"order_id".*INT64.*not compatible with Iceberg type int/,
    );
  });

  it('refuses nulls in a column of a required field', async () => {
    const f = await writeOrders(lake.store, uri('nulls'), opts);
    await expect(checkDataFile(lake.store, f, withField(4, { required: true }))).rejects.toThrow(
      /column "note" may hold nulls, but field 4 "note" is required/,
    );
  });

  it('names a missing object and a file that is not Parquet', async () => {
    await expect(
      checkDataFile(lake.store, { path: uri('absent'), rows: 1, bytes: 1, ingestDate: '2026-12-01' }, SCHEMA),
    ).rejects.toThrow(/does not exist/);
    await lake.store.put(uri('text'), new TextEncoder().encode('order_id\n1\n'));
    await expect(
      checkDataFile(lake.store, { path: uri('text'), rows: 1, bytes: 11, ingestDate: '2026-12-01' }, SCHEMA),
    ).rejects.toThrow(/is not a readable Parquet file/);
  });
});
