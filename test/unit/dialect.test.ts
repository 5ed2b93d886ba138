/**
 * The CSV dialect of DESIGN §2, one case per test: each asserts the exact rule, line and column the
 * validator reports (or that the file is valid), through `CsvValidator` directly or `validateCsv`
 * for gzip. Inputs are generated here; no fixture files.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import {
  CsvValidator,
  type ValidateOptions,
  type ValidationError,
  type ValidationResult,
} from '../../lib/validation/csv-validator.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';

type ColumnDecl = { name: string; type: string } & Record<string, unknown>;

function dataset(columns: ColumnDecl[], dialect?: { delimiter?: string; quote?: string }): Dataset {
  return parseDataset({ name: 'd', columns, ...(dialect ? { dialect } : {}) }, 'test.json');
}

/** Two nullable string columns a, b. */
const AB = dataset([
  { name: 'a', type: 'string' },
  { name: 'b', type: 'string' },
]);
/** A string column and an int column, so that a value can be wrong. */
const NAME_QTY = dataset([
  { name: 'name', type: 'string' },
  { name: 'qty', type: 'int' },
]);

function bytes(input: string | Buffer | readonly number[]): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  return Buffer.isBuffer(input) ? input : Buffer.from(input);
}

interface Run {
  readonly result: ValidationResult;
  readonly records: { fields: (string | null)[]; line: number }[];
}

/** Validates in-memory bytes, fed in chunks of `chunkSize` (the whole input by default). */
function run(
  ds: Dataset,
  input: string | Buffer | readonly number[],
  options: ValidateOptions & { chunkSize?: number } = {},
): Run {
  const data = bytes(input);
  const records: Run['records'] = [];
  const { chunkSize, ...rest } = options;
  const validator = new CsvValidator(ds, {
    ...rest,
    onRecord: (fields, line) => records.push({ fields, line }),
  });
  const size = chunkSize ?? Math.max(1, data.length);
  for (let i = 0; i < data.length; i += size) validator.push(data.subarray(i, i + size));
  return { result: validator.finish(data.length, false), records };
}

function validate(
  ds: Dataset,
  input: string | Buffer | readonly number[],
  options: ValidateOptions & { chunkSize?: number } = {},
): ValidationResult {
  return run(ds, input, options).result;
}

/** The errors without their messages: what the assertions compare. */
function brief(result: ValidationResult): Omit<ValidationError, 'message'>[] {
  return result.errors.map(({ line, column, value, rule }) => ({ line, column, value, rule }));
}

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('encoding prefix and line endings', () => {
  it('drops a UTF-8 BOM: the header still matches and the file is valid', () => {
    // Prepare
    const input = '\uFEFFa,b\n1,2\n';

    // Act
    const { result, records } = run(AB, input);

    // Assess
    expect(brief(result)).toEqual([]);
    expect(result).toMatchObject({ valid: true, rows: 1 });
    expect(records[0]).toEqual({ fields: ['a', 'b'], line: 1 });
  });

  it('reads CRLF line endings without leaving a CR in the last field', () => {
    // Prepare
    const input = 'name,qty\r\nx,1\r\ny,oops\r\n';

    // Act
    const { result, records } = run(NAME_QTY, input);

    // Assess
    expect(records.map((r) => r.fields)).toEqual([
      ['name', 'qty'],
      ['x', '1'],
      ['y', 'oops'],
    ]);
    expect(brief(result)).toEqual([{ line: 3, column: 'qty', value: 'oops', rule: 'type' }]);
  });

  it('reports a bare CR line ending as bare_cr on its line, and still splits the records there', () => {
    // Prepare
    const input = 'a,b\n1,2\r3,4\n5,6\n';

    // Act
    const { result, records } = run(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: null, value: null, rule: 'bare_cr' }]);
    expect(result.rows).toBe(3);
    expect(records.map((r) => [r.fields, r.line])).toEqual([
      [['a', 'b'], 1],
      [['1', '2'], 2],
      [['3', '4'], 3],
      [['5', '6'], 4],
    ]);
  });

  it('rejects a UTF-16 (LE and BE) byte order mark with the encoding rule, once', () => {
    // Prepare
    const le = [0xff, 0xfe, ...Buffer.from('a,b\n1,2\n', 'utf16le')];
    const be = [0xfe, 0xff, ...Buffer.from('a,b\n1,2\n', 'utf16le').swap16()];

    // Act
    const results = [validate(AB, le), validate(AB, be), validate(AB, le, { chunkSize: 1 })];

    // Assess
    for (const result of results) {
      expect(brief(result)).toEqual([{ line: 1, column: null, value: null, rule: 'encoding' }]);
      expect(result.errorCount).toBe(1);
    }
  });
});

describe('RFC 4180 quoting', () => {
  it('reads quoted newlines, commas and doubled quotes, and counts the lines they span', () => {
    // Prepare
    const input = 'name,qty\n"x,\ny\r\nz","1"\n"he said ""hi""",bad\n';

    // Act
    const { result, records } = run(NAME_QTY, input);

    // Assess
    expect(records.map((r) => [r.fields, r.line])).toEqual([
      [['name', 'qty'], 1],
      [['x,\ny\r\nz', '1'], 2],
      [['he said "hi"', 'bad'], 5],
    ]);
    expect(brief(result)).toEqual([{ line: 5, column: 'qty', value: 'bad', rule: 'type' }]);
    expect(result.rows).toBe(2);
  });

  it('keeps a bare quote inside an unquoted field as literal text', () => {
    // Prepare
    const input = 'a,b\nab"c,5"\n';

    // Act
    const { result, records } = run(AB, input);

    // Assess
    expect(result).toMatchObject({ valid: true, rows: 1 });
    expect(records[1]!.fields).toEqual(['ab"c', '5"']);
  });

  it('refuses spaces and then a quote at the start of a field, which DuckDB and Spark read apart', () => {
    // Prepare: DuckDB drops one space before a quote and reads a quoted value; Spark keeps the text.
    const quoted = dataset(AB.columns, { delimiter: ';', quote: "'" });

    // Act
    const results = [
      validate(AB, 'a,b\n1, "x"\n'),
      validate(AB, 'a,b\n  "x",2\n'),
      validate(quoted, "a;b\n1; 'x'\n"),
    ];
    const literal = [run(AB, 'a,b\n1,\t"x"\n'), run(AB, 'a,b\n1, x"y"\n'), run(quoted, 'a;b\n1; "x"\n')];

    // Assess: refused, naming the field; a tab, text before the quote or another quote is literal.
    expect(results.map(brief)).toEqual([
      [{ line: 2, column: 'b', value: ' "x"', rule: 'invalid_quote' }],
      [{ line: 2, column: 'a', value: '  "x"', rule: 'invalid_quote' }],
      [{ line: 2, column: 'b', value: " 'x'", rule: 'invalid_quote' }],
    ]);
    expect(results[0]!.errors[0]!.message).toMatch(/^spaces before a quote at the start of a field/);
    expect(literal.map((l) => [l.result.valid, l.records[1]!.fields])).toEqual([
      [true, ['1', '\t"x"']],
      [true, ['1', ' x"y"']],
      [true, ['1', ' "x"']],
    ]);
  });

  it('tells an unquoted empty field (null) from a quoted empty one (empty string)', () => {
    // Prepare
    const ds = dataset([
      { name: 'a', type: 'string', nullable: false },
      { name: 'b', type: 'string', nullable: false },
    ]);

    // Act
    const { result, records } = run(ds, 'a,b\n"",\n');

    // Assess
    expect(records[1]!.fields).toEqual(['', null]);
    expect(brief(result)).toEqual([{ line: 2, column: 'b', value: '', rule: 'not_null' }]);
  });

  it('reports an unterminated quote on the line where its record starts', () => {
    // Prepare
    const input = 'a,b\n1,2\n3,"never closed\nstill inside, an escaped "" does not close it\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([
      {
        line: 3,
        column: 'b',
        value: '"never closed\nstill inside, an escaped "" does not close it',
        rule: 'unterminated_quote',
      },
    ]);
  });

  it('reports text after a closing quote as invalid_quote on the record start line', () => {
    // Prepare
    const input = 'a,b\n"multi\nline"x,2\n3,4\n';

    // Act
    const { result, records } = run(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'a', value: '"multi\nline"x', rule: 'invalid_quote' }]);
    expect(records.at(-1)).toEqual({ fields: ['3', '4'], line: 4 });
  });
});

describe('record shape', () => {
  it('reports a row with too few fields as ragged_row on its line', () => {
    // Prepare
    const input = 'a,b\n1,2\n3\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'ragged_row' }]);
    expect(result.errors[0]!.message).toBe('expected 2 fields, found 1');
  });

  it('reports a row with too many fields as ragged_row on its line', () => {
    // Prepare
    const input = 'a,b\n1,2,3\n4,5\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: null, value: null, rule: 'ragged_row' }]);
    expect(result.errors[0]!.message).toBe('expected 2 fields, found 3');
  });

  it.each([
    ['0 bytes', ''],
    ['a BOM only', '\uFEFF'],
    ['only LF newlines', '\n\n\n'],
    ['only CRLF newlines', '\r\n\r\n'],
  ])('reports an empty file (%s) as empty_file on line 1', (_label, input) => {
    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: null, value: null, rule: 'empty_file' }]);
    expect(result.rows).toBe(0);
  });

  it.each([
    ['without a final newline', 'a,b'],
    ['with a final LF', 'a,b\n'],
    ['with a final CRLF', 'a,b\r\n'],
  ])('accepts a header-only file %s, with 0 rows', (_label, input) => {
    // Act
    const result = validate(AB, input);

    // Assess
    expect(result).toMatchObject({ valid: true, rows: 0, errorCount: 0 });
  });

  it('ignores blank lines at the end of the file', () => {
    // Prepare
    const input = 'a,b\n1,2\n\n\n\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(result).toMatchObject({ valid: true, rows: 1, errorCount: 0 });
  });

  it('reports LF and CRLF mixed in one file once, at the first line that differs', () => {
    // Prepare: Spark would leave a CR at the end of the CRLF lines' last value; DuckDB stops.
    const input = 'a,b\r\n1,2\r\n3,4\n5,6\r\n7,8\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'mixed_line_endings' }]);
    expect(result.rows).toBe(4);
  });

  it('reports a blank line in the middle as ragged_row on its own line', () => {
    // Prepare
    const input = 'a,b\n1,2\n\n3,4\n\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'ragged_row' }]);
    expect(result.rows).toBe(3);
  });

  // A lone CR is a line ending even on a blank line: it is reported, not forgiven as trailing.
  it('reports a bare CR on an otherwise blank last line', () => {
    // Act
    const result = validate(AB, 'a,b\n1,2\n\r');

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'bare_cr' }]);
  });

  it('reports a blank line inside a one-column dataset, nullable or not: Spark and DuckDB skip it', () => {
    // Prepare: read as one empty field it would be a row the engines never see, and the job
    // would fail on its row count; the producer learns why here instead.
    const required = dataset([{ name: 'a', type: 'string', nullable: false }]);
    const nullable = dataset([{ name: 'a', type: 'string' }]);

    // Act
    const results = [required, nullable].map((ds) => validate(ds, 'a\nx\n\ny\n'));

    // Assess
    for (const result of results) {
      expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'ragged_row' }]);
      expect(result.valid).toBe(false);
    }
  });
});

describe('UTF-8', () => {
  it('reports invalid UTF-8 (0xC3 0x28) at its line and column, shown with \\xNN escapes', () => {
    // Prepare
    const input = [...bytes('name,qty\n"multi\nline",1\nok,2\nx'), 0xc3, 0x28, ...bytes('y,3\n')];

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 5, column: 'name', value: 'x\\xC3(y', rule: 'invalid_utf8' }]);
    expect(result.errors[0]!.value).not.toContain('\uFFFD');
  });

  it('reports Latin-1 text (caf\\xE9) as invalid_utf8, also inside a quoted field', () => {
    // Prepare
    const input = Buffer.from('name,qty\ncaf\xe9,1\n"d\xe9j\xe0 ""vu""",2\n', 'latin1');

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([
      { line: 2, column: 'name', value: 'caf\\xE9', rule: 'invalid_utf8' },
      { line: 3, column: 'name', value: 'd\\xE9j\\xE0 "vu"', rule: 'invalid_utf8' },
    ]);
    expect(result.errors.map((e) => e.value).join('')).not.toContain('\uFFFD');
  });

  it('reports invalid UTF-8 in a header cell on line 1', () => {
    // Prepare
    const input = [0x6e, 0xe9, ...bytes(',qty\nx,1\n')];

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([
      { line: 1, column: null, value: 'n\\xE9', rule: 'invalid_utf8' },
      { line: 1, column: 'name', value: null, rule: 'missing_column' },
    ]);
  });

  it('accepts multi-byte characters cut by every chunk boundary', () => {
    // Prepare
    const input = 'name,qty\ncafé 日本 😀,1\n"€""👍🏽",2\n';

    // Act
    const results = [1, 2, 3, 5].map((chunkSize) => run(NAME_QTY, input, { chunkSize }));

    // Assess
    for (const { result, records } of results) {
      expect(result).toMatchObject({ valid: true, rows: 2 });
      expect(records.map((r) => r.fields[0])).toEqual(['name', 'café 日本 😀', '€"👍🏽']);
    }
  });
});

describe('header', () => {
  const ORDERS = dataset([
    { name: 'order_id', type: 'int' },
    { name: 'customer', type: 'string', header: 'Customer Name' },
    { name: 'amount', type: 'decimal', precision: 6, scale: 2 },
  ]);

  it('maps columns given in another order to the right checks', () => {
    // Prepare
    const input = 'amount,Customer Name,order_id\n1.5,Ann,x\n';

    // Act
    const result = validate(ORDERS, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'order_id', value: 'x', rule: 'type' }]);
  });

  it('matches a column by its header text or by its name', () => {
    // Act
    const byHeader = validate(ORDERS, 'order_id,Customer Name,amount\n1,Ann,2.50\n');
    const byName = validate(ORDERS, 'order_id,customer,amount\n1,Ann,2.50\n');

    // Assess
    expect(byHeader).toMatchObject({ valid: true, rows: 1 });
    expect(byName).toMatchObject({ valid: true, rows: 1 });
  });

  it('reports a missing column with the header text it expected', () => {
    // Act
    const result = validate(ORDERS, 'order_id,amount\n1,2.50\n');

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: 'customer', value: null, rule: 'missing_column' }]);
    expect(result.errors[0]!.message).toContain('"Customer Name"');
  });

  it('reports an unknown column by its header text', () => {
    // Act
    const result = validate(AB, 'a,b,zzz\n1,2,3\n');

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: 'zzz', value: 'zzz', rule: 'unknown_column' }]);
    expect(result.errors[0]!.message).not.toContain('did you mean');
  });

  it('hints at the declared header when an unknown column differs only in case', () => {
    // Act
    const result = validate(ORDERS, 'ORDER_ID,customer name,amount\n1,Ann,2.50\n');

    // Assess
    expect(brief(result)).toEqual([
      { line: 1, column: 'ORDER_ID', value: 'ORDER_ID', rule: 'unknown_column' },
      { line: 1, column: 'customer name', value: 'customer name', rule: 'unknown_column' },
      { line: 1, column: 'order_id', value: null, rule: 'missing_column' },
      { line: 1, column: 'customer', value: null, rule: 'missing_column' },
    ]);
    expect(result.errors[0]!.message).toContain('did you mean "order_id"?');
    expect(result.errors[1]!.message).toContain('did you mean "Customer Name"?');
  });

  it('reports a column named twice (once by name, once by header text) as duplicate_column', () => {
    // Act
    const result = validate(ORDERS, 'order_id,customer,amount,Customer Name\n1,Ann,2.50,Bob\n');

    // Assess
    expect(brief(result)).toEqual([
      { line: 1, column: 'customer', value: 'Customer Name', rule: 'duplicate_column' },
    ]);
  });

  it('reports an empty header cell as an unknown column that needs a name', () => {
    // Act
    const result = validate(AB, 'a,,b\n1,2,3\n');

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: '', value: '', rule: 'unknown_column' }]);
    expect(result.errors[0]!.message).toBe('an empty header cell: every column needs a name');
  });
});

describe('gzip', () => {
  const CSV = Buffer.from('name,qty\n"a\r\nb",1\nc,x\nd\ncafé,4\n', 'utf8');

  it('gives the same verdict for the gzipped file, with compressed: true and the stored byte count', async () => {
    // Prepare
    const gz = gzipSync(CSV);

    // Act
    const plain = await validateCsv(chunksOf(CSV, 64), NAME_QTY);
    const zipped = await validateCsv(chunksOf(gz, gz.length), NAME_QTY);

    // Assess
    expect(plain.errorCount).toBe(2);
    expect(plain).toMatchObject({ compressed: false, bytes: CSV.length });
    expect(zipped).toEqual({ ...plain, compressed: true, bytes: gz.length });
  });

  it('reads a .csv.gz fed in 7-byte chunks exactly as in one chunk', async () => {
    // Prepare
    const gz = gzipSync(Buffer.concat([CSV, Buffer.from('e,5\n'.repeat(5000))]));

    // Act
    const whole = await validateCsv(chunksOf(gz, gz.length), NAME_QTY);
    const sevens = await validateCsv(chunksOf(gz, 7), NAME_QTY);

    // Assess
    expect(whole.rows).toBe(5004);
    expect(sevens).toEqual(whole);
  });

  it('reports a truncated gzip stream as a gzip error instead of throwing', async () => {
    // Prepare
    const gz = gzipSync(Buffer.concat([CSV, Buffer.from('e,5\n'.repeat(5000))]));
    const truncated = gz.subarray(0, gz.length - 10);

    // Act
    const result = await validateCsv(chunksOf(truncated, 7), NAME_QTY);

    // Assess
    expect(result).toMatchObject({ valid: false, compressed: true, bytes: truncated.length });
    expect(result.errors.map((e) => e.rule)).toContain('gzip');
    expect(result.errorsByRule.gzip).toBe(1);
  });

  it('reports a gzip stream cut inside its header as a gzip error', async () => {
    // Prepare
    const truncated = gzipSync(CSV).subarray(0, 5);

    // Act
    const result = await validateCsv(chunksOf(truncated, 7), NAME_QTY);

    // Assess
    expect(result.errors[0]).toMatchObject({ line: 1, column: null, rule: 'gzip' });
    expect(result.valid).toBe(false);
  });
});

describe('custom dialect', () => {
  it('splits on the declared delimiter and quote, a comma being plain text', () => {
    // Prepare
    const ds = dataset(
      [
        { name: 'name', type: 'string' },
        { name: 'qty', type: 'int' },
      ],
      { delimiter: ';', quote: "'" },
    );
    const input = "name;qty\n1,5;2\n'a;''b''\nc';3\n\"x\";y\nshort\n";

    // Act
    const { result, records } = run(ds, input);

    // Assess
    expect(records.map((r) => r.fields)).toEqual([
      ['name', 'qty'],
      ['1,5', '2'],
      ["a;'b'\nc", '3'],
      ['"x"', 'y'],
      ['short'],
    ]);
    expect(brief(result)).toEqual([
      { line: 5, column: 'qty', value: 'y', rule: 'type' },
      { line: 6, column: null, value: null, rule: 'ragged_row' },
    ]);
  });
});

describe('error reporting limits', () => {
  it('lists at most maxErrors errors but counts all, by column and by rule', () => {
    // Prepare
    const ds = dataset([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'boolean' },
      { name: 'c', type: 'string' },
    ]);
    const input = `a,b,c\n${'x,y,ok\n'.repeat(10)}1,true\n`;

    // Act
    const result = validate(ds, input, { maxErrors: 5 });

    // Assess
    expect(result.errors).toHaveLength(5);
    expect(result.errorCount).toBe(21);
    expect(result.errorsByColumn).toEqual({ a: 10, b: 10 });
    expect(result.errorsByRule).toEqual({ type: 20, ragged_row: 1 });
    expect(result.errors.map((e) => `${e.line}:${e.column}`)).toEqual(['2:a', '2:b', '3:a', '3:b', '4:a']);
  });

  it('truncates a long value to 80 characters followed by an ellipsis', () => {
    // Prepare
    const long = `${'1234567890'.repeat(20)}x`;

    // Act
    const result = validate(NAME_QTY, `name,qty\nn,${long}\n`);

    // Assess
    expect(result.errors[0]).toMatchObject({ line: 2, column: 'qty', rule: 'type' });
    expect(result.errors[0]!.value).toBe(`${long.slice(0, 80)}…`);
  });

  // A lone surrogate in `value` would be written to errors.json as U+FFFD: cut before the emoji.
  it('never splits a character when truncating a value', () => {
    // Prepare
    const ds = dataset([{ name: 'a', type: 'string', maxLength: 10 }]);
    const long = `${'x'.repeat(79)}😀${'y'.repeat(20)}`;

    // Act
    const result = validate(ds, `a\n${long}\n`);

    // Assess
    expect(result.errors[0]).toMatchObject({ line: 2, column: 'a', rule: 'max_length' });
    const value = result.errors[0]!.value!;
    expect(Buffer.from(value, 'utf8').toString('utf8')).toBe(value);
  });
});

describe('records over maxRecordBytes', () => {
  it('reports a 1 MB line over a 1024-byte cap and keeps validating the rows after it', () => {
    // Prepare
    const input = `name,qty\nok,1\n${'x'.repeat(1_000_000)},2\nafter,bad\n"multi\nline",3\nlast,oops\n`;

    // Act
    const result = validate(NAME_QTY, input, { maxRecordBytes: 1024, chunkSize: 64 * 1024 });

    // Assess
    expect(brief(result)).toEqual([
      { line: 3, column: null, value: null, rule: 'record_too_large' },
      { line: 4, column: 'qty', value: 'bad', rule: 'type' },
      { line: 7, column: 'qty', value: 'oops', rule: 'type' },
    ]);
    expect(result.rows).toBe(5);
  });

  it('counts the lines inside a skipped quoted record', () => {
    // Prepare
    const big = `"${'y'.repeat(5000)}\n${'z'.repeat(5000)}\n""\n"`;
    const input = `name,qty\n${big},1\nafter,bad\n`;

    // Act
    const result = validate(NAME_QTY, input, { maxRecordBytes: 1024, chunkSize: 512 });

    // Assess
    expect(brief(result)).toEqual([
      { line: 2, column: null, value: null, rule: 'record_too_large' },
      { line: 6, column: 'qty', value: 'bad', rule: 'type' },
    ]);
  });

  // The verdict must not depend on the chunking: a record over the cap is reported whether it
  // arrived whole or in pieces.
  it.each([
    ['in one chunk', 1_000_000],
    ['in 7-byte chunks', 7],
  ])('reports a 1500-byte record over a 1024-byte cap fed %s', (_label, chunkSize) => {
    // Prepare
    const input = `a,b\n${'x'.repeat(1500)},1\n3,4\n`;

    // Act
    const result = validate(AB, input, { maxRecordBytes: 1024, chunkSize });

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: null, value: null, rule: 'record_too_large' }]);
  });

  // Skip mode ends a record where the tokenizer would: after an oversized record ended by a bare
  // CR, the next record is still read and checked.
  it('ends a skipped oversized record at a bare CR like the tokenizer does', () => {
    // Prepare
    const input = `name,qty\n${'x'.repeat(2000)},1\r3,x\n5,6\n`;

    // Act
    const result = validate(NAME_QTY, input, { maxRecordBytes: 1024, chunkSize: 100 });

    // Assess
    expect(result.rows).toBe(3);
    expect(result.errors.map((e) => `${e.rule}@${e.line}`)).toContain('type@3');
  });

  // An oversized record settles the blank lines before it: they are in the middle, not trailing.
  it('still reports a blank line in the middle when the record after it is oversized', () => {
    // Prepare
    const input = `a,b\n1,2\n\n${'x'.repeat(3000)},1\n`;

    // Act
    const result = validate(AB, input, { maxRecordBytes: 1024, chunkSize: 100 });

    // Assess
    expect(brief(result)).toEqual([
      { line: 3, column: null, value: null, rule: 'ragged_row' },
      { line: 4, column: null, value: null, rule: 'record_too_large' },
    ]);
    expect(result.rows).toBe(3);
  });
});

describe('chunk-size independence', () => {
  it('gives an identical result for every chunk size from 1 to 64 bytes', () => {
    // Prepare: BOM, quotes, CRLF, multi-byte characters cut anywhere, errors on several lines.
    const input = Buffer.concat([
      Buffer.from('\uFEFFname,qty\r\n"a,""b""\r\nc",1\r\ncafé 😀,x\n日本,2\n', 'utf8'),
      Buffer.from([0x62, 0xc3, 0x28, 0x2c, 0x33, 0x0a]),
      Buffer.from('short\n"q"z,4\nab"c,5\n\nlast,"6"\r\n"open,7\n', 'utf8'),
    ]);
    const whole = run(NAME_QTY, input);

    // Act
    const bySize = Array.from({ length: 64 }, (_, k) => run(NAME_QTY, input, { chunkSize: k + 1 }));

    // Assess
    expect(brief(whole.result)).toEqual([
      { line: 4, column: null, value: null, rule: 'mixed_line_endings' },
      { line: 4, column: 'qty', value: 'x', rule: 'type' },
      { line: 6, column: 'name', value: 'b\\xC3(', rule: 'invalid_utf8' },
      { line: 7, column: null, value: null, rule: 'ragged_row' },
      { line: 8, column: 'name', value: '"q"z', rule: 'invalid_quote' },
      { line: 10, column: null, value: null, rule: 'ragged_row' },
      { line: 12, column: 'name', value: '"open,7', rule: 'unterminated_quote' },
    ]);
    bySize.forEach((piecewise, k) => {
      expect({ chunkSize: k + 1, ...piecewise }).toEqual({ chunkSize: k + 1, ...whole });
    });
  });
});
