import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckdbType, glueColumns, glueType, sparkSchema } from '../../lib/datasets/derive.ts';
import { loadDatasets, pickDataset } from '../../lib/datasets/load.ts';
import { DatasetDeclarationError, parseDataset } from '../../lib/datasets/model.ts';

const col = (extra: Record<string, unknown>) => ({ name: 'c', type: 'string', ...extra });

/** The problems a declaration is rejected with (fails the test when it is accepted). */
function problemsOf(json: unknown): string[] {
  try {
    parseDataset(json, 'datasets/bad.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetDeclarationError);
    expect((error as Error).message).toContain('datasets/bad.json');
    return [...(error as DatasetDeclarationError).problems];
  }
  throw new Error('declaration was accepted');
}

describe('dataset declarations are rejected with the file and the field named', () => {
  it.each([
    ['unknown type', [col({ type: 'strng' })], 'columns[0].type: unknown type "strng" (known: string, int'],
    ['duplicate column name', [col({}), col({})], 'columns[1].name: duplicate column name "c"'],
    [
      'duplicate header',
      [col({ name: 'a', header: 'X' }), col({ name: 'b', header: 'X' })],
      'columns[1].header: duplicate column header "X"',
    ],
    [
      // Spark's CSV reader renames header cells equal up to case: a file could not carry both.
      'a header equal to another column name up to letter case',
      [col({ name: 'a', header: 'ID' }), col({ name: 'id' })],
      'columns[1].name: duplicate column name "id"',
    ],
    [
      'a header equal to another column name',
      [col({ name: 'a' }), col({ name: 'b', header: 'a' })],
      'columns[1].header: duplicate column header "a"',
    ],
    [
      'decimal without precision',
      [col({ type: 'decimal', scale: 2 })],
      'columns[0].precision: decimal needs a precision',
    ],
    [
      'decimal without scale',
      [col({ type: 'decimal', precision: 5 })],
      'columns[0].scale: decimal needs a scale',
    ],
    [
      'scale above precision',
      [col({ type: 'decimal', precision: 4, scale: 5 })],
      'columns[0].scale: scale 5 is greater than precision 4',
    ],
    [
      'precision above 38',
      [col({ type: 'decimal', precision: 39, scale: 2 })],
      'columns[0].precision: precision must be at most 38',
    ],
    [
      'an upper-case name',
      [col({ name: 'Order' })],
      'columns[0].name: "Order" is not a valid Glue/Athena identifier',
    ],
    [
      'a name with a dash',
      [col({ name: 'order-id' })],
      'columns[0].name: "order-id" is not a valid Glue/Athena',
    ],
    ['a name starting with a digit', [col({ name: '1x' })], 'columns[0].name: "1x" is not a valid'],
    ['a name over 255 characters', [col({ name: 'a'.repeat(256) })], 'columns[0].name: must be at most 255'],
    [
      'enum on an int column',
      [col({ type: 'int', enum: ['1'] })],
      'columns[0].enum: enum applies to string columns only',
    ],
    [
      'pattern on a date column',
      [col({ type: 'date', pattern: '.*' })],
      'columns[0].pattern: pattern applies to string columns only',
    ],
    [
      'a pattern that does not compile',
      [col({ pattern: '(' })],
      'columns[0].pattern: pattern is not a valid regular',
    ],
    ['precision on a string', [col({ precision: 3 })], 'columns[0].precision: precision applies to decimal'],
    ['min on a string', [col({ min: 1 })], 'columns[0].min: min applies to numeric, date and timestamp'],
    ['a min that is no int', [col({ type: 'int', min: 1.5 })], 'columns[0].min: min 1.5 is not a valid int'],
    [
      'a max beyond the decimal',
      [col({ type: 'decimal', precision: 4, scale: 2, max: '123.45' })],
      'columns[0].max: max "123.45" is not a valid decimal(4,2)',
    ],
    [
      'a min that is no date',
      [col({ type: 'date', min: '2023-02-29' })],
      'columns[0].min: min "2023-02-29" is not a valid date',
    ],
    ['a misspelt option', [col({ nulable: false })], 'columns[0]: Unrecognized key: "nulable"'],
    [
      'the partition column',
      [col({ name: 'ingest_date' })],
      'columns[0].name: "ingest_date" is the partition column',
    ],
    ['a duplicated enum value', [col({ enum: ['a', 'a'] })], 'columns[0].enum: enum lists a value twice'],
  ])('%s', (_title, columns, expected) => {
    // Act
    const problems = problemsOf({ name: 'd', columns });
    // Assess
    expect(problems.join('\n')).toContain(expected);
  });

  // A malformed bound is named like any bad field; it never reaches the compiled value rules
  // (which used to throw on it: a raw SyntaxError or RangeError instead of the file and field).
  it.each([
    [{ type: 'timestamp', min: 'nope' }, ['columns[0].min: min "nope" is not a valid timestamp: ']],
    [
      { type: 'timestamp', min: '2024-01-01T00:00:00', max: '2024-13-01T00:00:00' },
      ['columns[0].max: max "2024-13-01T00:00:00" is not a valid timestamp: '],
    ],
    [{ type: 'bigint', min: 'abc' }, ['columns[0].min: min "abc" is not a valid bigint: ']],
    [{ type: 'bigint', min: 1.5 }, ['columns[0].min: min 1.5 is not a valid bigint: ']],
    [
      { type: 'bigint', max: '9'.repeat(400) },
      [`columns[0].max: max "${'9'.repeat(400)}" is not a valid bigint: `],
    ],
    [
      { type: 'decimal', precision: 5, scale: 2, min: '5-' },
      ['columns[0].min: min "5-" is not a valid decimal(5,2): '],
    ],
    [
      { type: 'date', min: '2020-01-01', max: '2020-13-01' },
      ['columns[0].max: max "2020-13-01" is not a valid date: '],
    ],
  ])('a malformed bound %j is named, alone', (extra, expected) => {
    const problems = problemsOf({ name: 'd', columns: [col(extra)] });
    expect(problems).toHaveLength(expected.length);
    for (const [k, p] of problems.entries()) expect(p.startsWith(expected[k]!), p).toBe(true);
  });

  it('still names a min above the max once both are valid values', () => {
    const problems = problemsOf({ name: 'd', columns: [col({ type: 'int', min: 10, max: 5 })] });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^columns\[0\]\.min: min 10 is not a valid int: .*5/);
  });

  it('a dataset name that is not an identifier, and no columns', () => {
    const problems = problemsOf({ name: 'My Orders', columns: [] });
    expect(problems).toEqual([
      expect.stringContaining('name: "My Orders" is not a valid Glue/Athena identifier'),
      'columns: a dataset needs at least one column',
    ]);
  });

  it('every column retired: a file would carry none', () => {
    const problems = problemsOf({
      name: 'd',
      columns: [
        { name: 'a', type: 'string', retired: true },
        { name: 'b', type: 'int', retired: true },
      ],
    });
    expect(problems).toEqual(['columns: every column is retired: a file would carry none']);
    const oneLive = parseDataset(
      {
        name: 'd',
        columns: [
          { name: 'a', type: 'string', retired: true },
          { name: 'b', type: 'int' },
        ],
      },
      'datasets/d.json',
    );
    expect(oneLive.columns.map((c) => c.retired)).toEqual([true, false]);
  });

  it('a delimiter of two characters', () => {
    const problems = problemsOf({ name: 'd', dialect: { delimiter: '||' }, columns: [col({})] });
    expect(problems.join('\n')).toContain(
      'dialect.delimiter: delimiter must be one ASCII character other than NUL, CR and LF',
    );
  });
});

describe('loading a folder of declarations', () => {
  async function folder(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'datasets-'));
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  it('loads the shipped examples', async () => {
    const datasets = await loadDatasets('datasets');
    expect([...datasets.keys()].sort()).toEqual(['orders', 'sensor_readings']);
  });

  it('rejects two files declaring one dataset, naming both', async () => {
    const one = JSON.stringify({ name: 'orders', columns: [col({})] });
    const dir = await folder({ 'a.json': one, 'b.json': one });
    await expect(loadDatasets(dir)).rejects.toThrow(
      /b\.json[\s\S]*"orders" is already declared in .*a\.json/,
    );
  });

  it('rejects a file that is not JSON, naming it', async () => {
    const dir = await folder({ 'broken.json': '{ "name": ' });
    await expect(loadDatasets(dir)).rejects.toThrow(/broken\.json[\s\S]*not valid JSON/);
  });

  it('names the known datasets when asked for an unknown one', async () => {
    const datasets = await loadDatasets('datasets');
    expect(() => pickDataset(datasets, 'ordrs')).toThrow(
      'unknown dataset "ordrs" (known: orders, sensor_readings)',
    );
  });
});

describe('types derived from one declaration', () => {
  const ds = parseDataset(
    {
      name: 'all_types',
      columns: [
        { name: 's', type: 'string', header: 'S Text' },
        { name: 'i', type: 'int', nullable: false },
        { name: 'b', type: 'bigint' },
        { name: 'd', type: 'double' },
        { name: 'm', type: 'decimal', precision: 12, scale: 2, description: 'money' },
        { name: 'f', type: 'boolean' },
        { name: 'dt', type: 'date' },
        { name: 'ts', type: 'timestamp' },
      ],
    },
    'all_types.json',
  );

  it('gives Glue/Athena column types', () => {
    expect(ds.columns.map(glueType)).toEqual([
      'string',
      'int',
      'bigint',
      'double',
      'decimal(12,2)',
      'boolean',
      'date',
      'timestamp',
    ]);
    expect(glueColumns(ds)[4]).toEqual({ name: 'm', type: 'decimal(12,2)', comment: 'money' });
  });

  it('gives DuckDB column types', () => {
    expect(ds.columns.map(duckdbType)).toEqual([
      'VARCHAR',
      'INTEGER',
      'BIGINT',
      'DOUBLE',
      'DECIMAL(12,2)',
      'BOOLEAN',
      'DATE',
      'TIMESTAMPTZ',
    ]);
  });

  it('gives the Spark schema JSON with nullability, the CSV header and the Iceberg field id', () => {
    const schema = sparkSchema(ds);
    expect(schema.type).toBe('struct');
    expect(schema.fields.map((f) => f.type)).toEqual([
      'string',
      'integer',
      'long',
      'double',
      'decimal(12,2)',
      'boolean',
      'date',
      'timestamp',
      // The lineage fields: _source_key, _source_version, _ingested_at.
      'string',
      'string',
      'timestamp',
    ]);
    expect(schema.fields[0]).toEqual({
      name: 's',
      type: 'string',
      nullable: true,
      metadata: { header: 'S Text', 'parquet.field.id': 2 },
    });
    expect(schema.fields[1]!.nullable).toBe(false);
    // Field ids 2, 3, … in declaration order (ingest_date, written by the engines, is 1), then
    // the lineage fields' fixed ids.
    expect(schema.fields.map((f) => f.metadata['parquet.field.id'])).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9, 100_001, 100_002, 100_003,
    ]);
    expect(schema.fields.slice(-3)).toEqual([
      {
        name: '_source_key',
        type: 'string',
        nullable: true,
        metadata: { lineage: 'source_key', 'parquet.field.id': 100_001 },
      },
      {
        name: '_source_version',
        type: 'string',
        nullable: true,
        metadata: { lineage: 'source_version', 'parquet.field.id': 100_002 },
      },
      {
        name: '_ingested_at',
        type: 'timestamp',
        nullable: true,
        metadata: { lineage: 'ingested_at', 'parquet.field.id': 100_003 },
      },
    ]);
  });

  it('gives the rules of change in the Spark field metadata, and only where declared', () => {
    // Prepare: an alias, a retired column once declared non-nullable, an optional column.
    const evolved = parseDataset(
      {
        name: 'evolved',
        columns: [
          { name: 'id', type: 'int', nullable: false },
          { name: 'who', type: 'string', header: 'Who', aliases: ['Customer', 'client'] },
          { name: 'old_code', type: 'int', nullable: false, retired: true },
          { name: 'added', type: 'date', optional: true },
        ],
      },
      'evolved.json',
    );

    // Act
    const fields = sparkSchema(evolved).fields.slice(0, 4);

    // Assess: a retired column is nullable (its table field is optional); unset keys are absent.
    expect(fields).toEqual([
      { name: 'id', type: 'integer', nullable: false, metadata: { header: 'id', 'parquet.field.id': 2 } },
      {
        name: 'who',
        type: 'string',
        nullable: true,
        metadata: { header: 'Who', aliases: ['Customer', 'client'], 'parquet.field.id': 3 },
      },
      {
        name: 'old_code',
        type: 'integer',
        nullable: true,
        metadata: { header: 'old_code', retired: true, 'parquet.field.id': 4 },
      },
      {
        name: 'added',
        type: 'date',
        nullable: true,
        metadata: { header: 'added', optional: true, 'parquet.field.id': 5 },
      },
    ]);
  });
});
