/**
 * Tokenizer behaviours the other suites reached without pinning (found by mutation testing, part 1
 * of lib/validation/csv-validator.ts): the byte order marks, the messages a user reads, resume
 * refusals, records wider than the field buffers, quoting problems and single-field records, the
 * line ending of an oversized record, and the size cap on a partial record. Each test asserts
 * exact errors (with their messages where a user reads them), rows or records.
 */
import { describe, expect, it } from 'vitest';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import {
  CsvValidator,
  type ValidateOptions,
  type ValidationError,
  type ValidationResult,
} from '../../lib/validation/csv-validator.ts';

type ColumnDecl = { name: string; type: string } & Record<string, unknown>;

function dataset(columns: ColumnDecl[]): Dataset {
  return parseDataset({ name: 'd', columns }, 'test.json');
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

/** The errors without their messages. */
function brief(result: ValidationResult): Omit<ValidationError, 'message'>[] {
  return result.errors.map(({ line, column, value, rule }) => ({ line, column, value, rule }));
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
    const inputs = [[0xff, ...Buffer.from('a,b\n1,2\n')], [0xfe, ...Buffer.from('a,b\n1,2\n')]];

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
    const second = () => new CsvValidator(NAME_QTY, { resume: { ...checkpoint, columns: ['name', 'price'] } });
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
