/**
 * Schema evolution (issue 16): the rules by field id, the commit that makes a new schema current,
 * and the widening proofs — data files written under the OLD schema (int, decimal(5, 2), a
 * decimal(9, 2) in INT32) read with exact values under the EVOLVED table (long, decimal(7, 2),
 * decimal(20, 2) in FIXED_LEN_BYTE_ARRAY, a rename, an added column, a retired column, the lineage
 * fields) by DuckDB by field id and by icebird, with a file written after the change.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset } from '../../../lib/datasets/model.ts';
import { checkDataFile, DataFileError } from '../../../lib/iceberg/datafile.ts';
import { ensureDatasetTable, planDatasetTable } from '../../../lib/iceberg/dataset-tables.ts';
import {
  DECLARED_SCHEMA_PROPERTY,
  isPromotion,
  planSchema,
  SchemaEvolutionError,
  sameFields,
  schemaChanges,
} from '../../../lib/iceberg/evolve.ts';
import { tableLocation } from '../../../lib/iceberg/layout.ts';
import { currentSnapshot } from '../../../lib/iceberg/metadata.ts';
import { liveFiles, readParquetSql, schemaOf } from '../../../lib/iceberg/scan.ts';
import { type IcebergField, type IcebergSchema, icebergSchema } from '../../../lib/iceberg/schema.ts';
import {
  appendFiles,
  type DataFileSpec,
  ensureTable,
  evolveSchema,
  loadTable,
  tableDisplay,
} from '../../../lib/iceberg/table.ts';
import { BUCKET, icebirdRead, type Lake, SCHEMA, startLake } from './harness.ts';

let lake: Lake;
let duck: DuckDBInstance;
beforeAll(async () => {
  lake = await startLake();
  duck = await DuckDBInstance.create(':memory:');
});
afterAll(async () => {
  await lake?.close();
});

const schema = (...fields: IcebergField[]): IcebergSchema => ({ type: 'struct', 'schema-id': 0, fields });
const f = (id: number, name: string, type: string, required = false): IcebergField => ({
  id,
  name,
  type,
  required,
});

describe('schemaChanges: the rules, by field id', () => {
  const base = schema(
    f(2, 'qty', 'int', true),
    f(3, 'amount', 'decimal(5, 2)'),
    f(1, 'ingest_date', 'date', true),
  );

  it('allows a new optional field, a rename, required → optional, int → long, a wider decimal and a doc', () => {
    const target = schema(
      f(2, 'quantity', 'long'),
      { ...f(3, 'amount', 'decimal(7, 2)'), doc: 'in euros' },
      f(1, 'ingest_date', 'date', true),
      f(4, 'region', 'string'),
    );
    expect(schemaChanges(base, target, [base], new Map([[2, 'qty']]))).toEqual([
      'field 2 "qty" renamed to "quantity"',
      'field 2 "quantity" becomes optional',
      'field 2 "quantity" widened from int to long',
      'field 3 "amount" widened from decimal(5, 2) to decimal(7, 2)',
      'field 3 "amount" doc changed',
      'field 4 "region" added (string)',
    ]);
    expect(schemaChanges(base, { ...base, 'schema-id': 9 })).toEqual([]);
  });

  it('refuses a rename the declaration does not name: two same-typed columns swapped would relabel every stored value', () => {
    // Prepare: net and gross change places in the declaration, so their ids change names.
    const table = schema(f(2, 'net', 'decimal(9, 2)'), f(3, 'gross', 'decimal(9, 2)'));
    const swapped = schema(f(2, 'gross', 'decimal(9, 2)'), f(3, 'net', 'decimal(9, 2)'));

    // Act / Assess
    expect(() => schemaChanges(table, swapped)).toThrow(
      'field 2 "net" would be renamed to "gross", which the declaration does not say: a rename declares "previousName": "net"',
    );
    // A previousName naming another old name is no declaration of this rename either.
    expect(() => schemaChanges(table, swapped, [table], new Map([[2, 'gross']]))).toThrow(/field 2 "net"/);
    expect(
      schemaChanges(
        table,
        swapped,
        [table],
        new Map([
          [2, 'net'],
          [3, 'gross'],
        ]),
      ),
    ).toEqual(['field 2 "net" renamed to "gross"', 'field 3 "gross" renamed to "net"']);
  });

  it.each([
    [
      'a dropped field',
      schema(f(2, 'qty', 'int', true), f(1, 'ingest_date', 'date', true)),
      /field 3 "amount" is in the table but not in the declaration/,
    ],
    [
      'optional → required',
      schema(
        f(2, 'qty', 'int', true),
        f(3, 'amount', 'decimal(5, 2)', true),
        f(1, 'ingest_date', 'date', true),
      ),
      /field 3 "amount" is optional in the table and cannot become required/,
    ],
    [
      'int → string',
      schema(f(2, 'qty', 'string', true), f(3, 'amount', 'decimal(5, 2)'), f(1, 'ingest_date', 'date', true)),
      /field 2 "qty" cannot change type from int to string/,
    ],
    [
      'a changed scale',
      schema(f(2, 'qty', 'int', true), f(3, 'amount', 'decimal(7, 3)'), f(1, 'ingest_date', 'date', true)),
      /field 3 "amount" cannot change type from decimal\(5, 2\) to decimal\(7, 3\)/,
    ],
    [
      'a narrower decimal',
      schema(f(2, 'qty', 'int', true), f(3, 'amount', 'decimal(4, 2)'), f(1, 'ingest_date', 'date', true)),
      /cannot change type from decimal\(5, 2\) to decimal\(4, 2\)/,
    ],
    [
      'a new required field',
      schema(...base.fields, f(4, 'region', 'string', true)),
      /field 4 "region" is new and required/,
    ],
    [
      'an id twice',
      schema(...base.fields, f(3, 'other', 'string')),
      /field 3 "other" clashes with field 3 "amount" in the declaration \(id clash\)/,
    ],
    [
      'a new id under an old name',
      schema(f(2, 'qty', 'int', true), f(1, 'ingest_date', 'date', true), f(4, 'amount', 'decimal(5, 2)')),
      /field 4 "amount" takes the name of the table's field 3 "amount"/,
    ],
  ])('refuses %s, naming field, id and rule', (_what, target, message) => {
    expect(() => schemaChanges(base, target)).toThrow(SchemaEvolutionError);
    expect(() => schemaChanges(base, target)).toThrow(message);
  });

  it('refuses a new field taking an id an older schema used (old files hold that id)', () => {
    const older = schema(...base.fields, f(4, 'gone', 'string'));
    const target = schema(...base.fields, f(4, 'region', 'string'));
    expect(() => schemaChanges(base, target, [older, base])).toThrow(
      /field 4 "region" takes id 4, which an older schema of the table gave to "gone"/,
    );
  });

  it('knows the promotions', () => {
    expect(isPromotion('int', 'long')).toBe(true);
    expect(isPromotion('decimal(9, 2)', 'decimal(20,2)')).toBe(true);
    expect(isPromotion('long', 'int')).toBe(false);
    expect(isPromotion('int', 'double')).toBe(false);
    expect(isPromotion('float', 'double')).toBe(false);
    expect(isPromotion('decimal(9, 2)', 'decimal(20, 3)')).toBe(false);
  });
});

describe('planSchema: a rollback to the schema before an evolution', () => {
  const s0 = schema(f(2, 'qty', 'int', true), f(1, 'ingest_date', 'date', true));
  const s1 = {
    ...schema(f(2, 'qty', 'long'), f(1, 'ingest_date', 'date', true), f(3, 'region', 'string')),
    'schema-id': 1,
  };
  const metadata = (declared?: string) => ({
    schemas: [s0, s1],
    'current-schema-id': 1,
    ...(declared ? { properties: { [DECLARED_SCHEMA_PROPERTY]: declared } } : {}),
  });

  it('leaves the pipeline’s own later schema when the declaration is one the table had before', () => {
    expect(planSchema('lake.t', metadata('1'), s0)).toEqual({ changes: [], ahead: true });
    expect(planSchema('lake.t', metadata('1'), s1)).toEqual({ changes: [], ahead: false });
  });

  it('refuses it when someone else made the current schema (Athena), or the declaration is no earlier schema', () => {
    expect(() => planSchema('lake.t', metadata('0'), s0)).toThrow(
      /^table lake\.t: schema change refused: .*field 3 "region" is in the table/,
    );
    expect(() => planSchema('lake.t', metadata(), s0)).toThrow(SchemaEvolutionError);
    const other = schema(f(2, 'qty', 'long'), f(1, 'ingest_date', 'date', true));
    expect(() => planSchema('lake.t', metadata('1'), other)).toThrow(/field 3 "region" is in the table/);
  });
});

describe('schemaChanges, sameFields, isPromotion and planSchema: the edges', () => {
  const base = schema(
    f(2, 'qty', 'int', true),
    f(3, 'amount', 'decimal(5, 2)'),
    f(1, 'ingest_date', 'date', true),
  );

  it('says a reorder alone is a change, and lists every refusal in one message, named SchemaEvolutionError', () => {
    // Prepare: the same fields in another order; then a type change and a dropped field at once.
    const reordered = schema(base.fields[1]!, base.fields[0]!, base.fields[2]!);
    const twoRefusals = schema(f(2, 'qty', 'string', true), f(1, 'ingest_date', 'date', true));
    // Act / Assess
    expect(schemaChanges(base, reordered)).toEqual(['field order changed']);
    let error: unknown;
    try {
      schemaChanges(base, twoRefusals);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaEvolutionError);
    expect((error as Error).name).toBe('SchemaEvolutionError');
    expect((error as Error).message).toBe(
      'schema change refused: field 2 "qty" cannot change type from int to string in place (allowed: int → long, decimal(P, S) → decimal(P\', S) with P\' > P): declare a new table version; field 3 "amount" is in the table but not in the declaration (a removed column, or one added outside the pipeline): retire a column instead of removing it, and drop a foreign field from the table by hand',
    );
  });

  it("allows every rename under 'any' (a later schema's renames were declared when it was made)", () => {
    const table = schema(f(2, 'net', 'decimal(9, 2)'));
    expect(schemaChanges(table, schema(f(2, 'gross', 'decimal(9, 2)')), [table], 'any')).toEqual([
      'field 2 "net" renamed to "gross"',
    ]);
  });

  it('compares fields by id, name, required, type (spaces aside) and doc, in order', () => {
    const same = (...fields: IcebergField[]) => sameFields(base, { ...schema(...fields), 'schema-id': 4 });
    const [qty, amount, date] = base.fields as [IcebergField, IcebergField, IcebergField];
    expect(same(qty, { ...amount, type: 'decimal(5,2)' }, date)).toBe(true);
    expect(same({ ...qty, type: 'long' }, amount, date)).toBe(false);
    expect(same(qty, { ...amount, doc: 'in euros' }, date)).toBe(false);
    expect(same({ ...qty, required: false }, amount, date)).toBe(false);
    expect(same(amount, qty, date)).toBe(false);
  });

  it('promotes only int to long, whatever else ends in long', () => {
    expect(isPromotion('string', 'long')).toBe(false);
    expect(isPromotion('decimal(5, 2)', 'long')).toBe(false);
  });

  it('names a table whose current schema id is missing from its schemas', () => {
    expect(() => planSchema('lake.t', { schemas: [base], 'current-schema-id': 7 }, base)).toThrow(
      'table lake.t has no current schema 7',
    );
  });

  it('lets an error that is no refused change through as it is', () => {
    // A target without fields is a programming error, not a schema change to refuse.
    const broken = { type: 'struct', 'schema-id': 1 } as unknown as IcebergSchema;
    expect(() => planSchema('lake.t', { schemas: [base], 'current-schema-id': 0 }, broken)).toThrow(
      TypeError,
    );
  });

  it('counts a table created by the pipeline (schema 0, no property) as its own for a rollback', () => {
    // Prepare: schema 0 is current and the evolution of schema 5, which the declaration asks for.
    const older = { ...schema(f(2, 'qty', 'int', true), f(1, 'ingest_date', 'date', true)), 'schema-id': 5 };
    const current = schema(f(2, 'qty', 'long'), f(1, 'ingest_date', 'date', true), f(3, 'region', 'string'));
    // Act / Assess
    expect(planSchema('lake.t', { schemas: [current, older], 'current-schema-id': 0 }, older)).toEqual({
      changes: [],
      ahead: true,
    });
  });

  it('treats a rollback across a declared rename as the pipeline’s own later schema', () => {
    // Prepare: schema 1 renamed qty (declared then) and widened it.
    const s0 = schema(f(2, 'qty', 'int', true), f(1, 'ingest_date', 'date', true));
    const s1 = { ...schema(f(2, 'quantity', 'long'), f(1, 'ingest_date', 'date', true)), 'schema-id': 1 };
    const metadata = {
      schemas: [s0, s1],
      'current-schema-id': 1,
      properties: { [DECLARED_SCHEMA_PROPERTY]: '1' },
    };
    // Act / Assess
    expect(planSchema('lake.t', metadata, s0)).toEqual({ changes: [], ahead: true });
  });

  it('refuses a rollback when the current schema is no evolution of the declared earlier one', () => {
    // Prepare: schema 0 had qty long; the current schema 1 has it int (narrowed: no evolution).
    const s0 = schema(f(2, 'qty', 'long'), f(1, 'ingest_date', 'date', true));
    const s1 = {
      ...schema(f(2, 'qty', 'int'), f(1, 'ingest_date', 'date', true), f(3, 'region', 'string')),
      'schema-id': 1,
    };
    const metadata = {
      schemas: [s0, s1],
      'current-schema-id': 1,
      properties: { [DECLARED_SCHEMA_PROPERTY]: '1' },
    };
    // Act / Assess
    expect(() => planSchema('lake.t', metadata, s0)).toThrow(
      /^table lake\.t: schema change refused: field 3 "region" is in the table/,
    );
  });
});

describe('evolveSchema', () => {
  it('adds a schema, makes it current, bumps last-column-id, once; appends record the schema id', async () => {
    const deps = lake.deps();
    const t = lake.table('ev1');
    await ensureTable(deps, t, SCHEMA);
    const target = schema(...SCHEMA.fields, f(5, 'region', 'string'));

    const first = await evolveSchema(deps, t, target);
    const again = await evolveSchema(deps, t, target);
    const { metadata } = await loadTable(deps, t);
    const file = await writeFile2(
      `${t.location}/data/ingest_date=2026-12-01/a.parquet`,
      `SELECT 1::BIGINT AS order_id, DATE '2026-12-01' AS ingest_date`,
      { order_id: 2, ingest_date: 1 },
      target,
      '2026-12-01',
    );
    await appendFiles(deps, t, [{ tag: 'a#1', files: [file] }]);
    const after = (await loadTable(deps, t)).metadata;

    const rollback = await evolveSchema(deps, t, SCHEMA);
    expect(first).toMatchObject({ evolved: true, schemaId: 1, changes: ['field 5 "region" added (string)'] });
    expect(rollback).toMatchObject({ evolved: false, ahead: true, schemaId: 1 });
    expect(after.properties?.[DECLARED_SCHEMA_PROPERTY]).toBe('1');
    expect(again).toEqual({
      metadataLocation: first.metadataLocation,
      evolved: false,
      schemaId: 1,
      changes: [],
      ahead: false,
    });
    expect(metadata['current-schema-id']).toBe(1);
    expect(metadata.schemas.map((s) => s['schema-id'])).toEqual([0, 1]);
    expect(metadata.schemas[1]).toEqual({ ...target, 'schema-id': 1 });
    expect(metadata['last-column-id']).toBe(5);
    expect(metadata['metadata-log']?.length).toBe(1);
    expect(after.snapshots?.[0]?.['schema-id']).toBe(1);
    expect(tableDisplay(after).columns.map((c) => c.name)).toEqual([
      'order_id',
      'amount',
      'note',
      'ingest_date',
      'region',
    ]);
  });

  it('leaves the table as it is when the change is refused, and names the table', async () => {
    const deps = lake.deps();
    const t = lake.table('ev2');
    const made = await ensureTable(deps, t, SCHEMA);
    const target = schema(...SCHEMA.fields.filter((x) => x.name !== 'note'));

    await expect(evolveSchema(deps, t, target)).rejects.toThrow(
      /^table lake\.ev2: schema change refused: field 4 "note" is in the table but not in the declaration/,
    );
    expect((await deps.catalog.load('lake', 'ev2'))?.metadataLocation).toBe(made.metadataLocation);
  });

  it('commits once when two deploys evolve at the same time (compare-and-swap, retried)', async () => {
    const t = lake.table('ev3');
    await ensureTable(lake.deps(), t, SCHEMA);
    const target = schema(...SCHEMA.fields, f(5, 'region', 'string'));

    const [a, b] = await Promise.all([
      evolveSchema(lake.deps(), t, target),
      evolveSchema(lake.deps(), t, target),
    ]);
    const { metadata } = await loadTable(lake.deps(), t);

    expect([a.evolved, b.evolved].sort()).toEqual([false, true]);
    expect(metadata.schemas.length).toBe(2);
  });
});

/** Writes rows with DuckDB (field ids, `iceberg.schema` footer key) into the store. */
async function writeFile2(
  uri: string,
  select: string,
  ids: Record<string, number>,
  footer: IcebergSchema,
  ingestDate: string,
): Promise<DataFileSpec> {
  const dir = await mkdtemp(join(tmpdir(), 'evolve-'));
  const local = join(dir, 'f.parquet');
  const conn = await duck.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const fieldIds = Object.entries(ids)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const kv = JSON.stringify(footer).replaceAll("'", "''");
  await conn.run(
    `COPY (${select}) TO '${local}' (FORMAT parquet, FIELD_IDS {${fieldIds}}, KV_METADATA {'iceberg.schema': '${kv}'})`,
  );
  const rows = Number((await conn.runAndReadAll(`SELECT count(*) FROM '${local}'`)).getRows()[0]![0]);
  conn.closeSync();
  const bytes = new Uint8Array(await readFile(local));
  await lake.store.put(uri, bytes);
  await rm(dir, { recursive: true, force: true });
  return { path: uri, rows, bytes: bytes.byteLength, ingestDate };
}

describe('widening proofs: old files read right under the evolved table (DuckDB by id, icebird)', () => {
  const v1 = parseDataset(
    {
      name: 'widen',
      columns: [
        { name: 'order_id', type: 'bigint', nullable: false },
        { name: 'qty', type: 'int' },
        { name: 'amount', type: 'decimal', precision: 5, scale: 2 },
        { name: 'big', type: 'decimal', precision: 9, scale: 2 },
        { name: 'cust', type: 'string' },
        { name: 'legacy', type: 'string' },
      ],
    },
    'widen.json',
  );
  const v2 = parseDataset(
    {
      name: 'widen',
      columns: [
        { name: 'order_id', type: 'bigint', nullable: false },
        { name: 'qty', type: 'bigint' },
        { name: 'amount', type: 'decimal', precision: 7, scale: 2 },
        { name: 'big', type: 'decimal', precision: 20, scale: 2 },
        { name: 'customer', type: 'string', previousName: 'cust' },
        { name: 'legacy', type: 'string', retired: true },
        { name: 'region', type: 'string' },
      ],
    },
    'widen.json',
  );
  // The table as issue 15 made it: no lineage fields yet.
  const before = { ...icebergSchema(v1), fields: icebergSchema(v1).fields.filter((x) => x.id < 100_000) };
  const oldIds = { order_id: 2, qty: 3, amount: 4, big: 5, cust: 6, legacy: 7, ingest_date: 1 };
  const oldSelect = (first: number) =>
    `SELECT (${first} + range)::BIGINT AS order_id, (range - 1)::INTEGER * 2147483 AS qty,
            (range * 123.45 - 999.99)::DECIMAL(5, 2) AS amount, (9999999.99 - range)::DECIMAL(9, 2) AS big,
            'c' || (${first} + range) AS cust, CASE WHEN range = 1 THEN NULL ELSE 'r' || range END AS legacy,
            DATE '2026-12-01' AS ingest_date FROM range(3)`;
  const expected = [
    // order_id|qty|amount|big|customer|legacy|region|ingest_date|_source_key|_ingested_at
    '1|-2147483|-999.99|9999999.99|c1|r0|NULL|2026-12-01|NULL|NULL',
    '2|0|-876.54|9999998.99|c2|NULL|NULL|2026-12-01|NULL|NULL',
    '3|2147483|-753.09|9999997.99|c3|r2|NULL|2026-12-01|NULL|NULL',
    '4|-2147483|-999.99|9999999.99|c4|r0|NULL|2026-12-01|NULL|NULL',
    '5|0|-876.54|9999998.99|c5|NULL|NULL|2026-12-01|NULL|NULL',
    '6|2147483|-753.09|9999997.99|c6|r2|NULL|2026-12-01|NULL|NULL',
    '10|9000000000|12345.67|123456789012.34|new|NULL|EU|2026-12-02|landing/widen/x.csv|2026-12-02T08:00:00.000Z',
  ];

  it('int → long, decimal(5,2) → (7,2), decimal(9,2) INT32 → (20,2) FLBA, a rename, an added, a retired column, the lineage fields', async () => {
    const deps = lake.deps();
    const t = { database: 'lake', name: 'widen', location: tableLocation(BUCKET, 'widen') };
    lake.table('widen');
    await ensureTable(deps, t, before);
    const day1 = `${t.location}/data/ingest_date=2026-12-01`;
    const old1 = await writeFile2(`${day1}/old1.parquet`, oldSelect(1), oldIds, before, '2026-12-01');
    await appendFiles(deps, t, [{ tag: 'old1#1', files: [old1] }]);
    // Written before the deploy, committed after it (a conversion in flight).
    const old2 = await writeFile2(`${day1}/old2.parquet`, oldSelect(4), oldIds, before, '2026-12-01');

    const evolved = await ensureDatasetTable(deps, { database: 'lake', curatedBucket: BUCKET }, v2);
    const target = icebergSchema(v2);
    const newFile = await writeFile2(
      `${t.location}/data/ingest_date=2026-12-02/new.parquet`,
      `SELECT 10::BIGINT AS order_id, 9000000000::BIGINT AS qty, 12345.67::DECIMAL(7, 2) AS amount,
              123456789012.34::DECIMAL(20, 2) AS big, 'new' AS customer, 'EU' AS region, DATE '2026-12-02' AS ingest_date,
              'landing/widen/x.csv' AS _source_key, 'v1' AS _source_version, TIMESTAMPTZ '2026-12-02 08:00:00+00' AS _ingested_at`,
      {
        order_id: 2,
        qty: 3,
        amount: 4,
        big: 5,
        customer: 6,
        region: 8,
        ingest_date: 1,
        _source_key: 100001,
        _source_version: 100002,
        _ingested_at: 100003,
      },
      target,
      '2026-12-02',
    );
    const current = (await loadTable(deps, t)).metadata;
    const currentSchema = schemaOf(current);
    await checkDataFile(lake.store, old2, currentSchema);
    await checkDataFile(lake.store, newFile, currentSchema);
    await appendFiles(deps, t, [
      { tag: 'old2#1', files: [old2] },
      { tag: 'new#1', files: [newFile] },
    ]);
    const { pointer, metadata } = await loadTable(deps, t);
    const physical = await parquetTypes(newFile.path, old1.path);

    expect(evolved.status).toBe('evolved');
    expect(evolved.changes).toEqual([
      'field 3 "qty" widened from int to long',
      'field 4 "amount" widened from decimal(5, 2) to decimal(7, 2)',
      'field 5 "big" widened from decimal(9, 2) to decimal(20, 2)',
      'field 6 "cust" renamed to "customer"',
      'field 8 "region" added (string)',
      'field 100001 "_source_key" added (string)',
      'field 100002 "_source_version" added (string)',
      'field 100003 "_ingested_at" added (timestamptz)',
    ]);
    expect(physical).toEqual({ old: 'INT32', new: 'FIXED_LEN_BYTE_ARRAY' });
    expect(metadata.snapshots?.map((s) => s['schema-id'])).toEqual([0, 1]);
    expect(await duckdbRows(metadata)).toEqual(expected);
    expect(await icebirdRows(pointer.metadataLocation)).toEqual(expected);
    // A file of the wrong type or an unknown id is still refused under the evolved schema.
    const wrong = await writeFile2(
      `${day1}/wrong.parquet`,
      `SELECT 'x' AS qty, 1::BIGINT AS order_id, DATE '2026-12-01' AS ingest_date`,
      { qty: 3, order_id: 2, ingest_date: 1 },
      target,
      '2026-12-01',
    );
    const unknown = await writeFile2(
      `${day1}/unknown.parquet`,
      `SELECT 1::BIGINT AS order_id, 'x' AS z, DATE '2026-12-01' AS ingest_date`,
      { order_id: 2, z: 9, ingest_date: 1 },
      target,
      '2026-12-01',
    );
    await expect(checkDataFile(lake.store, wrong, currentSchema)).rejects.toThrow(
      /field 3 "qty"\) holds BYTE_ARRAY.*not compatible with Iceberg type long/,
    );
    await expect(checkDataFile(lake.store, unknown, currentSchema)).rejects.toThrow(DataFileError);
    await expect(checkDataFile(lake.store, unknown, currentSchema)).rejects.toThrow(
      /field id 9, which the table schema does not know/,
    );
  });

  it('ensureDatasetTable creates version 2 at its own location, and plans before it writes', async () => {
    const deps = lake.deps();
    const where = { database: 'lake', curatedBucket: BUCKET };
    const v3 = { ...v2, version: 2 };

    const plan = await planDatasetTable(deps, where, v3);
    const made = await ensureDatasetTable(deps, where, v3);
    const again = await ensureDatasetTable(deps, where, v3);
    const planAgain = await planDatasetTable(deps, where, v3);
    const { metadata } = await loadTable(deps, { database: 'lake', name: 'widen_v2' });
    const narrowed = {
      ...v3,
      columns: v3.columns.map((c) => (c.name === 'qty' ? { ...c, type: 'int' as const } : c)),
    };

    expect(plan).toEqual({ table: 'widen_v2', status: 'created', changes: [] });
    expect(made).toMatchObject({ table: 'widen_v2', status: 'created', created: true });
    expect(again).toMatchObject({ table: 'widen_v2', status: 'unchanged', created: false, changes: [] });
    expect(planAgain.status).toBe('unchanged');
    expect(metadata.location).toBe(`s3://${BUCKET}/widen/v2/iceberg`);
    await expect(planDatasetTable(deps, where, narrowed)).rejects.toThrow(
      /^table lake\.widen_v2: schema change refused: field 3 "qty" cannot change type from long to int/,
    );
    await expect(ensureDatasetTable(deps, where, narrowed)).rejects.toThrow(SchemaEvolutionError);
  });
});

/** The physical type of the `big` column in the new and the old file. */
async function parquetTypes(newUri: string, oldUri: string) {
  const { dir, paths } = await download([newUri, oldUri]);
  const conn = await duck.connect();
  const physical = async (path: string) =>
    String(
      (
        await conn.runAndReadAll(`SELECT type FROM parquet_schema('${path}') WHERE name = 'big'`)
      ).getRows()[0]![0],
    );
  const out = { new: await physical(paths[0]!), old: await physical(paths[1]!) };
  conn.closeSync();
  await rm(dir, { recursive: true, force: true });
  return out;
}

/** Local copies of stored objects (DuckDB reads no s3:// here), in a fresh folder. */
async function download(uris: readonly string[]): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'evolve-read-'));
  const paths: string[] = [];
  for (const [i, uri] of uris.entries()) {
    const path = join(dir, `${i}.parquet`);
    await writeFile(path, (await lake.store.get(uri))!);
    paths.push(path);
  }
  return { dir, paths };
}

const COLUMNS = [
  'order_id',
  'qty',
  'amount',
  'big',
  'customer',
  'legacy',
  'region',
  'ingest_date',
  '_source_key',
  '_ingested_at',
];

function show(v: unknown, column: string): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return column === 'ingest_date' ? v.toISOString().slice(0, 10) : v.toISOString();
  // hyparquet (icebird's reader) gives decimals as JS numbers; ≤ 14 significant digits here.
  if (typeof v === 'number' && (column === 'amount' || column === 'big')) return v.toFixed(2);
  return String(v);
}

const sorted = (rows: Record<string, unknown>[]) =>
  rows
    .map((r) => COLUMNS.map((c) => show(r[c], c)).join('|'))
    .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));

async function duckdbRows(metadata: Awaited<ReturnType<typeof loadTable>>['metadata']): Promise<string[]> {
  const files = await liveFiles(lake.store, metadata, currentSnapshot(metadata));
  const { dir, paths: local } = await download(files.map((f) => f.path));
  const conn = await duck.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const types = await conn.runAndReadAll(
    `DESCRIBE SELECT * FROM ${readParquetSql(local, schemaOf(metadata))}`,
  );
  const reader = await conn.runAndReadAll(
    `SELECT ${COLUMNS.map((c) => (c === '_ingested_at' ? `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${c}` : `${c}::VARCHAR AS ${c}`)).join(', ')}
     FROM ${readParquetSql(local, schemaOf(metadata))}`,
  );
  const described = Object.fromEntries(types.getRows().map((r) => [String(r[0]), String(r[1])]));
  conn.closeSync();
  await rm(dir, { recursive: true, force: true });
  // The relation has the evolved types, whatever type each file holds.
  expect(described).toMatchObject({
    qty: 'BIGINT',
    amount: 'DECIMAL(7,2)',
    big: 'DECIMAL(20,2)',
    region: 'VARCHAR',
  });
  return sorted(reader.getRowObjectsJson() as Record<string, unknown>[]);
}

async function icebirdRows(metadataLocation: string): Promise<string[]> {
  return sorted(await icebirdRead(lake.store, metadataLocation));
}
