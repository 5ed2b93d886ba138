/**
 * Tokenizer behaviours the other suites reached without pinning (found by mutation testing, part 1
 * of lib/validation/csv-validator.ts): the byte order marks, the messages a user reads, resume
 * refusals, records wider than the field buffers, quoting problems and single-field records, the
 * line ending of an oversized record, and the size cap on a partial record. Each test asserts
 * exact errors (with their messages where a user reads them), rows or records.
 */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../lib/datasets/model.ts';
import {
  CsvValidator,
  type ValidateOptions,
  type ValidationResult,
} from '../../lib/validation/csv-validator.ts';
import { AB, brief, dataset, NAME_QTY } from './tokenizer-harness.ts';

/** One required string column: a blank line is a missing value there, a quoted "" is not. */
const ONE_REQUIRED = dataset([{ name: 'v', type: 'string', nullable: false }]);

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
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
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

describe('byte order marks', () => {
  it('strips only EF BB BF: a header starting with U+FFFF (EF BF BF) or U+FEC0 (EF BB 80) keeps it', () => {
    // Prepare
    const inputs = ['\uFFFFa,b\n1,2\n', '\uFEC0a,b\n1,2\n'];

    // Act
    const results = inputs.map((input) => run(AB, input));

    // Assess
    expect(results.map(({ records }) => records[0]?.fields)).toEqual([
      ['\uFFFFa', 'b'],
      ['\uFEC0a', 'b'],
    ]);
    expect(brief(results[0]!.result)).toEqual([
      { line: 1, column: '\uFFFFa', value: '\uFFFFa', rule: 'unknown_column' },
      { line: 1, column: 'a', value: null, rule: 'missing_column' },
    ]);
    expect(brief(results[1]!.result)).toEqual([
      { line: 1, column: '\uFEC0a', value: '\uFEC0a', rule: 'unknown_column' },
      { line: 1, column: 'a', value: null, rule: 'missing_column' },
    ]);
  });

  it('reads a leading FF or FE byte without its UTF-16 partner as invalid UTF-8, not as UTF-16', () => {
    // Prepare: FF then "a" (not FF FE), FE then "a" (not FE FF).
    const inputs = [
      [0xff, ...Buffer.from('a,b\n1,2\n')],
      [0xfe, ...Buffer.from('a,b\n1,2\n')],
    ];

    // Act
    const results = inputs.map((input) => run(AB, input).result);

    // Assess
    expect(brief(results[0]!)).toEqual([
      { line: 1, column: null, value: '\\xFFa', rule: 'invalid_utf8' },
      { line: 1, column: 'a', value: null, rule: 'missing_column' },
    ]);
    expect(brief(results[1]!)).toEqual([
      { line: 1, column: null, value: '\\xFEa', rule: 'invalid_utf8' },
      { line: 1, column: 'a', value: null, rule: 'missing_column' },
    ]);
    expect(results.map((r) => r.rows)).toEqual([1, 1]);
  });

  it('takes a byte order mark only from the first bytes: BB BF, FE or FF after another first byte are the header', () => {
    // Prepare: a first byte that is not EF before BB BF; FE after a first byte that is not FF; FF after one not FE.
    const inputs = [
      [0x61, 0xbb, 0xbf, ...Buffer.from('a,b\n1,2\n')],
      [0x61, 0xfe, ...Buffer.from('a,b\n1,2\n')],
      [0x61, 0xff, ...Buffer.from('a,b\n1,2\n')],
    ];

    // Act
    const results = inputs.map((input) => run(AB, input).result);

    // Assess: read as a header with invalid UTF-8, never as a BOM or as UTF-16
    expect(results.map((r) => r.errors[0]?.rule)).toEqual(['invalid_utf8', 'invalid_utf8', 'invalid_utf8']);
    expect(results.map((r) => r.errors[0]?.value)).toEqual(['a\\xBB\\xBFa', 'a\\xFEa', 'a\\xFFa']);
  });

  it('looks for a byte order mark once: EF BB BF at the start of a later chunk is data', () => {
    // Prepare: the second chunk starts with U+FEFF inside a value of column a.
    const input = Buffer.concat([Buffer.from('a,b\n'), Buffer.from('\uFEFF1,2\n')]);

    // Act: fed as the two chunks
    const { records } = run(AB, input, { chunkSize: 4 });

    // Assess
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['\uFEFF1', '2'],
    ]);
  });

  it('tells the user of a UTF-16 file to save it as UTF-8', () => {
    // Prepare
    const input = [0xff, 0xfe, ...Buffer.from('a,b\n1,2\n', 'utf16le')];

    // Act
    const { result } = run(AB, input);

    // Assess
    expect(result.errors).toEqual([
      {
        line: 1,
        column: null,
        value: null,
        rule: 'encoding',
        message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8',
      },
    ]);
  });
});

describe('resume refusals', () => {
  it('names the 1-based field a checkpoint maps to an undeclared column', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);
    validator.push(Buffer.from('name,qty\n'));
    const checkpoint = validator.checkpoint()!;

    // Act
    const second = () =>
      new CsvValidator(NAME_QTY, { resume: { ...checkpoint, columns: ['name', 'price'] } });
    const first = () => new CsvValidator(NAME_QTY, { resume: { ...checkpoint, columns: ['price', 'qty'] } });

    // Assess
    expect(second).toThrow(
      'cannot resume: the checkpoint maps field 2 to column "price", which dataset "d" does not declare',
    );
    expect(first).toThrow(
      'cannot resume: the checkpoint maps field 1 to column "price", which dataset "d" does not declare',
    );
  });

  it('lists the known skip states, comma-separated, when a checkpoint has another', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);
    validator.push(Buffer.from('name,qty\n'));
    const checkpoint = validator.checkpoint()!;
    const skip = { state: 'Elsewhere' as 'Cr', lines: 0, startLine: 2 };

    // Act
    const resume = () => new CsvValidator(NAME_QTY, { resume: { ...checkpoint, skip } });

    // Assess
    expect(resume).toThrow(
      'cannot resume: unknown skip state "Elsewhere" (known: FieldStart, Unquoted, Quoted, QuoteInQuoted, Cr)',
    );
  });
});

describe('file errors', () => {
  it('reports a broken input alone: no empty_file after it, and no checkpoint', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);

    // Act
    validator.reportFileError('gzip', 'the gzip stream is corrupt');
    const checkpoint = validator.checkpoint();
    const result = validator.finish(10, true);

    // Assess
    expect(checkpoint).toBeNull();
    expect(result.errors).toEqual([
      { line: 1, column: null, value: null, rule: 'gzip', message: 'the gzip stream is corrupt' },
    ]);
    expect(result).toMatchObject({ valid: false, errorCount: 1, errorsByRule: { gzip: 1 } });
  });
});

describe('records wider than the field buffers', () => {
  it('checks every field of a 70-field record (past the 64 the buffers start with)', () => {
    // Prepare: 70 int columns; the row's 70th value is wrong.
    const wide = dataset(Array.from({ length: 70 }, (_, k) => ({ name: `c${k + 1}`, type: 'int' })));
    const header = Array.from({ length: 70 }, (_, k) => `c${k + 1}`).join(',');
    const row = [...Array.from({ length: 69 }, (_, k) => String(k + 1)), 'x70'].join(',');

    // Act
    const { result, records } = run(wide, `${header}\n${row}\n`);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'c70', value: 'x70', rule: 'type' }]);
    expect(result.rows).toBe(1);
    expect(records[1]?.fields.slice(62)).toEqual(['63', '64', '65', '66', '67', '68', '69', 'x70']);
  });
});

describe('unterminated quotes', () => {
  it('passes the unterminated field from after its opening quote to the end of the file', () => {
    // Prepare
    const input = 'a,b\n1,"x\ny\n';

    // Act
    const { result, records } = run(AB, input);

    // Assess
    expect(records).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', 'x\ny\n'], line: 2 },
    ]);
    expect(brief(result)).toEqual([{ line: 2, column: 'b', value: '"x\ny', rule: 'unterminated_quote' }]);
  });

  it('shows the unterminated value without the CRLF that ends the file', () => {
    // Prepare
    const input = 'a,b\r\n1,"x\r\ny\r\n';

    // Act
    const { result } = run(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'b', value: '"x\r\ny', rule: 'unterminated_quote' }]);
  });
});

describe('text after a closing quote', () => {
  it('names the first field with text after its closing quote when several have it', () => {
    // Prepare
    const input = 'a,b\n"x"y,"p"q\n';

    // Act
    const { result, records } = run(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'a', value: '"x"y', rule: 'invalid_quote' }]);
    expect(result.errorCount).toBe(1);
    expect(records[1]).toEqual({ fields: ['x', 'p'], line: 2 });
  });
});

describe('single-field records', () => {
  it('reads a quoted empty field as an empty value, not a blank line, with or without a line ending', () => {
    // Prepare: one required column; "" is an empty string, which a blank line is not.
    const inputs = ['v\n""\n', 'v\n""', 'v\n""\nx\n'];

    // Act
    const results = inputs.map((input) => run(ONE_REQUIRED, input));

    // Assess
    for (const { result } of results) expect(brief(result)).toEqual([]);
    expect(results.map(({ result }) => result.rows)).toEqual([1, 1, 2]);
    expect(results[1]!.records).toEqual([
      { fields: ['v'], line: 1 },
      { fields: [''], line: 2 },
    ]);
  });

  it('counts a last single-field record without a line ending as a row', () => {
    // Prepare
    const input = 'v\nx';

    // Act
    const { result, records } = run(ONE_REQUIRED, input);

    // Assess
    expect(result).toMatchObject({ valid: true, rows: 1 });
    expect(records).toEqual([
      { fields: ['v'], line: 1 },
      { fields: ['x'], line: 2 },
    ]);
  });

  it('still forgives a trailing blank line and reports one in the middle of a single-column file', () => {
    // Prepare
    const input = 'v\nx\n\ny\n\n';

    // Act
    const { result } = run(ONE_REQUIRED, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'ragged_row' }]);
    expect(result.rows).toBe(3);
  });
});

describe('quotes inside an unquoted field', () => {
  it('checks an unquoted value with a quote in it byte for byte (nothing is unescaped)', () => {
    // Prepare
    const input = 'name,qty\nx,1"23\n';

    // Act
    const { result, records } = run(NAME_QTY, input);

    // Assess
    expect(records[1]).toEqual({ fields: ['x', '1"23'], line: 2 });
    expect(brief(result)).toEqual([{ line: 2, column: 'qty', value: '1"23', rule: 'type' }]);
  });
});

describe('mixed line endings', () => {
  const CRLF_AFTER_LF =
    'this line ends with CRLF where the lines before end with LF: use one line ending throughout the file';
  const LF_AFTER_CRLF =
    'this line ends with LF where the lines before end with CRLF: use one line ending throughout the file';

  it('names the line ending found and the one before it, either way round', () => {
    // Prepare
    const crlfInLf = 'a,b\n1,2\r\n3,4\n';
    const lfInCrlf = 'a,b\r\n1,2\n3,4\r\n';

    // Act
    const results = [run(AB, crlfInLf).result, run(AB, lfInCrlf).result];

    // Assess
    expect(results.map((r) => r.errors)).toEqual([
      [{ line: 2, column: null, value: null, rule: 'mixed_line_endings', message: CRLF_AFTER_LF }],
      [{ line: 2, column: null, value: null, rule: 'mixed_line_endings', message: LF_AFTER_CRLF }],
    ]);
  });

  it.each([
    ['whole', 1_000_000],
    ['in 7-byte chunks', 7],
  ])('counts the line ending of a record over the cap (%s)', (_label, chunkSize) => {
    // Prepare: an LF file with one oversized record ended by CRLF, and a CRLF file begun by one ended by LF.
    const crlfInLf = `name,qty\nok,1\n${'x'.repeat(40)},2\r\nb,3\n`;
    const lfFirst = `${'n'.repeat(40)}\nb,3\r\n`;

    // Act
    const first = run(NAME_QTY, crlfInLf, { maxRecordBytes: 20, chunkSize }).result;
    const second = run(NAME_QTY, lfFirst, { maxRecordBytes: 20, chunkSize }).result;

    // Assess
    expect(brief(first)).toEqual([
      { line: 3, column: null, value: null, rule: 'record_too_large' },
      { line: 3, column: null, value: null, rule: 'mixed_line_endings' },
    ]);
    expect(first.errors[1]!.message).toBe(CRLF_AFTER_LF);
    expect(brief(second)).toEqual([
      { line: 1, column: null, value: null, rule: 'record_too_large' },
      { line: 2, column: null, value: null, rule: 'mixed_line_endings' },
    ]);
    expect(second.errors[1]!.message).toBe(CRLF_AFTER_LF);
  });
});

describe('the size cap on a partial record', () => {
  it('reports a partial record one byte over the cap at once, unless that byte is a CR', () => {
    // Prepare: a 10-byte cap; after the header, 11 bytes of a record not yet ended (a CRLF file
    // for the one whose 11th byte is a CR).
    const plain = new CsvValidator(AB, { maxRecordBytes: 10 });
    const withCr = new CsvValidator(AB, { maxRecordBytes: 10 });

    // Act
    plain.push(Buffer.from('a,b\n12345,67890'));
    withCr.push(Buffer.from('a,b\r\n12345,6789\r'));

    // Assess: the CR may be the first half of a CRLF that ends a record of exactly the cap.
    expect(brief(plain.resultSoFar(15, false))).toEqual([
      { line: 2, column: null, value: null, rule: 'record_too_large' },
    ]);
    expect(plain.checkpoint()).toMatchObject({
      offset: 15,
      line: 2,
      rows: 1,
      skip: { state: 'Unquoted', lines: 0, startLine: 2 },
    });
    expect(withCr.resultSoFar(16, false).errorCount).toBe(0);
    expect(withCr.checkpoint()).toMatchObject({ offset: 5, line: 2, rows: 0, skip: null });
    withCr.push(Buffer.from('\n'));
    expect(withCr.finish(17, false)).toMatchObject({ valid: true, rows: 1, errorCount: 0 });
  });
});

describe('an empty file and a checkpoint after blank lines', () => {
  it('says what an empty file lacks', () => {
    const { result } = run(AB, '');
    expect(result.errors.map((e) => e.message)).toEqual([
      'the file is empty: expected a header line naming the columns',
    ]);
  });

  it('a checkpoint after a run of blank lines that data ended has no blank run, and starts none', () => {
    // Prepare: two blank lines inside the data, then a record that ends the run.
    const validator = new CsvValidator(AB);
    validator.push(Buffer.from('a,b\n1,2\n\n\n3,4\n'));

    // Act
    const checkpoint = validator.checkpoint()!;

    // Assess
    expect(checkpoint).toMatchObject({ blankRunStart: 0, blankRunLength: 0 });
  });
});

describe('a resumed validation', () => {
  it('looks for no byte order mark: EF BB BF at the offset it resumes from is data', () => {
    // Prepare: the first run stops after line 2; the line it resumes at starts with U+FEFF.
    const file = Buffer.from('a,b\n1,2\n\uFEFF3,4\n');
    const first = new CsvValidator(AB);
    first.push(file.subarray(0, 8));
    const checkpoint = first.checkpoint()!;
    const records: (string | null)[][] = [];

    // Act
    const second = new CsvValidator(AB, { resume: checkpoint, onRecord: (fields) => records.push(fields) });
    second.push(file.subarray(checkpoint.offset));
    second.finish(file.length, false);

    // Assess
    expect(checkpoint.offset).toBe(8);
    expect(records).toEqual([['\uFEFF3', '4']]);
  });
});
