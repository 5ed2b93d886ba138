/**
 * The tokenizer's record size cap, line endings of oversized records, header and blank-line
 * accounting, quoting problems and error messages, each pinned with exact values: the cases the
 * other tokenizer tests left open. Inputs are generated here; no fixture files.
 */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../lib/datasets/model.ts';
import {
  CsvValidator,
  type ValidateOptions,
  type ValidationError,
  type ValidationResult,
} from '../../lib/validation/csv-validator.ts';
import { AB, brief, dataset, NAME_QTY } from './tokenizer-harness.ts';

/** One string column that must not be empty. */
const REQUIRED = dataset([{ name: 'a', type: 'string', nullable: false }]);
/** A string column that must not be empty, and a nullable one. */
const REQUIRED_B = dataset([
  { name: 'a', type: 'string', nullable: false },
  { name: 'b', type: 'string' },
]);

interface Run {
  readonly result: ValidationResult;
  readonly records: { fields: (string | null)[]; line: number }[];
}

/** Pushes each chunk as given, then finishes. */
function runChunks(ds: Dataset, chunks: readonly (string | Buffer)[], options: ValidateOptions = {}): Run {
  const records: Run['records'] = [];
  const validator = new CsvValidator(ds, {
    ...options,
    onRecord: (fields, line) => records.push({ fields, line }),
  });
  let total = 0;
  for (const chunk of chunks) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    total += data.length;
    validator.push(data);
  }
  return { result: validator.finish(total, false), records };
}

function validate(ds: Dataset, input: string | Buffer, options: ValidateOptions = {}): ValidationResult {
  return runChunks(ds, [input], options).result;
}

/** The errors with every field. */
function errorsOf(result: ValidationResult): ValidationError[] {
  return result.errors.map(({ line, column, value, rule, message }) => ({
    line,
    column,
    value,
    rule,
    message,
  }));
}

const TOO_LARGE_10 = 'a record is longer than 10 bytes (the record size cap): it is not checked';
const UNTERMINATED = 'a quoted field is not closed before the end of the file';
const MIXED_CRLF_AFTER_LF =
  'this line ends with CRLF where the lines before end with LF: use one line ending throughout the file';
const MIXED_LF_AFTER_CRLF =
  'this line ends with LF where the lines before end with CRLF: use one line ending throughout the file';

describe('the record size cap measures a record without its line ending', () => {
  it('counts every byte of an unterminated quoted field, its final CR included', () => {
    // Prepare: a record of 11 bytes (opening quote, 9 x, CR) that never closes its quote; cap 10.
    const input = `a,b\n"${'x'.repeat(9)}\r`;

    // Act
    const result = validate(AB, input, { maxRecordBytes: 10 });

    // Assess: too large (the CR is part of the quoted text), and unterminated, at its line.
    expect(errorsOf(result)).toEqual([
      { line: 2, column: null, value: null, rule: 'record_too_large', message: TOO_LARGE_10 },
      { line: 2, column: null, value: null, rule: 'unterminated_quote', message: UNTERMINATED },
    ]);
    expect(result.rows).toBe(1);
  });

  it('counts every byte of a last record without a line ending, gathered from small chunks', () => {
    // Prepare: the last record is 11 bytes with no line ending; its second chunk is smaller than
    // its first, so it is parsed whole only at the end of the file.
    const chunks = ['a,b\nxxxxxx', 'yyyyy'];

    // Act
    const { result, records } = runChunks(AB, chunks, { maxRecordBytes: 10 });

    // Assess
    expect(errorsOf(result)).toEqual([
      { line: 2, column: null, value: null, rule: 'record_too_large', message: TOO_LARGE_10 },
    ]);
    expect(result.rows).toBe(1);
    expect(records).toEqual([{ fields: ['a', 'b'], line: 1 }]);
  });

  it('accepts a record of exactly the cap that ends with a bare CR (the CR is its line ending)', () => {
    // Prepare: "xy,z" is 4 bytes, then a bare CR; cap 4.
    const input = 'a,b\nxy,z\rq,r\n';

    // Act
    const { result, records } = runChunks(AB, [input], { maxRecordBytes: 4 });

    // Assess: only the bare CR is reported; the record is read and checked.
    expect(brief(result)).toEqual([{ line: 2, column: null, value: null, rule: 'bare_cr' }]);
    expect(records).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['xy', 'z'], line: 2 },
      { fields: ['q', 'r'], line: 3 },
    ]);
    expect(result.rows).toBe(2);
  });

  it('treats a lone CRLF line as blank even under a zero cap: a file of one is empty', () => {
    // Prepare
    const input = '\r\n';

    // Act
    const result = validate(AB, input, { maxRecordBytes: 0 });

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: null, value: null, rule: 'empty_file' }]);
    expect(result.rows).toBe(0);
  });
});

describe('an oversized record counts for the file line ending like any other line', () => {
  it('reports a CRLF oversized record after LF lines as mixed, once', () => {
    // Prepare: LF header, a 12-byte record ending CRLF (cap 10) arriving whole, then more CRLF lines.
    const input = `a,b\n${'x'.repeat(10)},y\r\np,q\r\nr,s\r\n`;

    // Act
    const result = validate(AB, input, { maxRecordBytes: 10 });

    // Assess: mixed is reported at the oversized record, and not again at the later CRLF lines.
    expect(errorsOf(result)).toEqual([
      { line: 2, column: null, value: null, rule: 'record_too_large', message: TOO_LARGE_10 },
      { line: 2, column: null, value: null, rule: 'mixed_line_endings', message: MIXED_CRLF_AFTER_LF },
    ]);
  });

  it('reports a CRLF oversized record that arrives in pieces after LF lines as mixed', () => {
    // Prepare: the oversized record is cut over several chunks, so it is skipped unread.
    const chunks = ['a,b\nxxxxxx', 'xxxxxx', 'xxxxxx,y\r', '\nz,w\r\n'];

    // Act
    const result = validate(AB, Buffer.from(chunks.join('')), { maxRecordBytes: 10 });
    const pieces = runChunks(AB, chunks, { maxRecordBytes: 10 }).result;

    // Assess
    const expected = [
      { line: 2, column: null, value: null, rule: 'record_too_large', message: TOO_LARGE_10 },
      { line: 2, column: null, value: null, rule: 'mixed_line_endings', message: MIXED_CRLF_AFTER_LF },
    ];
    expect(errorsOf(result)).toEqual(expected);
    expect(errorsOf(pieces)).toEqual(expected);
  });

  it('takes no line ending from an oversized last record that has none', () => {
    // Prepare: CRLF lines, then an 11-byte last record without a line ending, gathered at the end.
    const chunks = ['a,b\r\np,q\r\nxxxxxx', 'yyyyy'];

    // Act
    const result = runChunks(AB, chunks, { maxRecordBytes: 10 }).result;

    // Assess: too large only, no mixed line endings.
    expect(errorsOf(result)).toEqual([
      { line: 3, column: null, value: null, rule: 'record_too_large', message: TOO_LARGE_10 },
    ]);
  });

  it('reports an LF line after CRLF lines as mixed at that line', () => {
    // Prepare
    const input = 'a,b\r\np,q\nr,s\n';

    // Act
    const result = validate(AB, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      { line: 2, column: null, value: null, rule: 'mixed_line_endings', message: MIXED_LF_AFTER_CRLF },
    ]);
  });
});

describe('an oversized record before the header', () => {
  it('after blank lines: the header is missing, and the record counts as a row', () => {
    // Prepare: a blank line, then a 12-byte first record (cap 10), then a row.
    const input = `\n${'x'.repeat(12)}\np,q\n`;

    // Act
    const result = validate(AB, input, { maxRecordBytes: 10 });

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 1,
        column: null,
        value: null,
        rule: 'missing_header',
        message: 'the file starts with a blank line: the first line must be the header',
      },
      { line: 2, column: null, value: null, rule: 'record_too_large', message: TOO_LARGE_10 },
    ]);
    expect(result.rows).toBe(2);
  });
});

describe('a record with a quoting problem is not checked further; one with a bare CR is', () => {
  it('checks no value of a record with text after a closing quote', () => {
    // Prepare: the name field has text after its closing quote; qty is not an int.
    const input = 'name,qty\n"x"y,abc\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 2,
        column: 'name',
        value: '"x"y',
        rule: 'invalid_quote',
        message: 'text after a closing quote: a quoted field must end at a delimiter or line end',
      },
    ]);
  });

  it('names the column and text of an unterminated quoted field', () => {
    // Prepare
    const input = 'name,qty\nx,"12\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      { line: 2, column: 'qty', value: '"12', rule: 'unterminated_quote', message: UNTERMINATED },
    ]);
  });

  it('still checks the values of a record that ends with a bare CR', () => {
    // Prepare
    const input = 'name,qty\nx,abc\ry,1\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([
      { line: 2, column: null, value: null, rule: 'bare_cr' },
      { line: 2, column: 'qty', value: 'abc', rule: 'type' },
    ]);
  });
});

describe('a header with a quoting problem', () => {
  it('is reported and makes the header missing: rows are counted, not checked', () => {
    // Prepare: text after the closing quote of the first header cell; a row with a bad value.
    const input = '"name"x,qty\ny,abc\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 1,
        column: null,
        value: '"name"x',
        rule: 'invalid_quote',
        message: 'text after a closing quote: a quoted field must end at a delimiter or line end',
      },
    ]);
    expect(result.rows).toBe(1);
  });

  it('with a bare CR is reported, and the header is still read and its rows checked', () => {
    // Prepare
    const input = 'name,qty\ry,abc\r\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([
      { line: 1, column: null, value: null, rule: 'bare_cr' },
      { line: 2, column: 'qty', value: 'abc', rule: 'type' },
    ]);
  });
});

describe('header cells are read as their text', () => {
  it('undoes doubled quotes in a quoted header cell', () => {
    // Prepare
    const input = 'name,qty,"a""b"\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: 'a"b', value: 'a"b', rule: 'unknown_column' }]);
  });

  it('keeps a quote inside an unquoted header cell as it is', () => {
    // Prepare
    const input = 'name,qty,x"yz\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: 'x"yz', value: 'x"yz', rule: 'unknown_column' }]);
  });

  it('reports a duplicate header cell with its message', () => {
    // Prepare
    const input = 'name,qty,name\n';

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 1,
        column: 'name',
        value: 'name',
        rule: 'duplicate_column',
        message: 'column "name" appears twice in the header',
      },
    ]);
  });

  it('reports a header cell that is not UTF-8 with its message', () => {
    // Prepare
    const input = Buffer.concat([Buffer.from('name,qty,x'), Buffer.from([0xff]), Buffer.from('\n')]);

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 1,
        column: null,
        value: 'x\\xFF',
        rule: 'invalid_utf8',
        message: 'the header cell is not valid UTF-8',
      },
    ]);
  });
});

describe('blank lines inside the data', () => {
  it('are each a ragged row of a one-column file too, at their own lines: the engines skip them', () => {
    // Prepare
    const input = 'a\n1\n\n\n2\n';

    // Act
    const result = validate(REQUIRED, input);

    // Assess
    const message =
      'blank line inside the data: Spark skips blank lines (and the DuckDB twin drops them), so its empty value would be lost (write "" for an empty string)';
    expect(errorsOf(result)).toEqual([
      { line: 3, column: null, value: null, rule: 'ragged_row', message },
      { line: 4, column: null, value: null, rule: 'ragged_row', message },
    ]);
    expect(result.rows).toBe(4);
  });

  it('are each a ragged row of a wider file, at their own lines', () => {
    // Prepare
    const input = 'a,b\n1,2\n\n\n3,4\n';

    // Act
    const result = validate(AB, input);

    // Assess
    const message = 'blank line inside the data: expected 2 fields';
    expect(errorsOf(result)).toEqual([
      { line: 3, column: null, value: null, rule: 'ragged_row', message },
      { line: 4, column: null, value: null, rule: 'ragged_row', message },
    ]);
  });
});

describe('value error messages', () => {
  it('states a missing value without quoting it', () => {
    // Prepare
    const input = 'a,b\n,x\n';

    // Act
    const result = validate(REQUIRED_B, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 2,
        column: 'a',
        value: '',
        rule: 'not_null',
        message: 'the column is not nullable and the field is empty',
      },
    ]);
  });

  it('states a value that is not UTF-8', () => {
    // Prepare
    const input = Buffer.concat([Buffer.from('name,qty\nx'), Buffer.from([0xc3]), Buffer.from(',1\n')]);

    // Act
    const result = validate(NAME_QTY, input);

    // Assess
    expect(errorsOf(result)).toEqual([
      {
        line: 2,
        column: 'name',
        value: 'x\\xC3',
        rule: 'invalid_utf8',
        message: 'the value is not valid UTF-8',
      },
    ]);
  });
});

describe('quoted fields with doubled quotes', () => {
  it('are read whole when longer than the 4 KiB scratch space', () => {
    // Prepare: a quoted field of 5000 bytes with a doubled quote in it.
    const text = `${'x'.repeat(3000)}""${'y'.repeat(1998)}`;
    const input = `a,b\n"${text}",z\n`;

    // Act
    const { result, records } = runChunks(AB, [input]);

    // Assess
    expect(result.errorCount).toBe(0);
    expect(records[1]).toEqual({ fields: [`${'x'.repeat(3000)}"${'y'.repeat(1998)}`, 'z'], line: 2 });
  });
});
