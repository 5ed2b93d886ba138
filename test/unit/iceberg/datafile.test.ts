/**
 * The footer check a data file passes before it enters a table, on files DuckDB writes (stored in
 * s3rver, read with ranged reads).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataFile, DataFileError } from '../../../lib/iceberg/datafile.ts';
import type { IcebergSchema } from '../../../lib/iceberg/schema.ts';
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
