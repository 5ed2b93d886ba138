import { describe, expect, it } from 'vitest';
import { DatasetDeclarationError, parseDataset } from '../../lib/datasets/model.ts';
import { CsvValidator } from '../../lib/validation/csv-validator.ts';
import { valueColumnDataset } from './value-column.ts';

/**
 * The messages of the value rules, exactly: they are what the person who sent a file reads in its
 * report (README, "Bad input gets a clear error"), and what the author of a declaration reads when
 * a bound is not a valid value of its column ("must themselves be valid values of the column").
 */

/** Validates the CSV `text` against columns `v` (declared by `column`) and `k`; the errors found. */
function errorsOf(column: Record<string, unknown>, text: string) {
  const ds = valueColumnDataset(column);
  const validator = new CsvValidator(ds);
  validator.push(Buffer.from(text, 'utf8'));
  return validator.finish(0, false).errors.map(({ rule, message }) => ({ rule, message }));
}

/** The one error of a field written verbatim as the value of `v`, or 'ok'. */
function errorOf(column: Record<string, unknown>, field: string) {
  const errors = errorsOf(column, `v,k\n${field},x\n`);
  expect(errors.length).toBeLessThanOrEqual(1);
  return errors[0] ?? 'ok';
}

type Case = [field: string, expected: 'ok' | { rule: string; message: string }];

/** An error whose message shows the value, as every value error but `not_null` does. */
const bad = (rule: string, field: string, text: string) => ({
  rule,
  message: `${JSON.stringify(field)}: ${text}`,
});

function messagesTable(column: Record<string, unknown>, cases: Case[]) {
  it.each(cases)(`${JSON.stringify(column)} %s`, (field, expected) => {
    expect(errorOf(column, field)).toEqual(expected);
  });
}

const INT_TYPE = 'expected a whole number (32-bit), e.g. 42 or -7';
const BIGINT_TYPE = 'expected a whole number (64-bit), e.g. 9000000000';
const DOUBLE_TYPE = 'expected a number in plain or scientific notation, e.g. 3.14 or 1e-3';
const BOOLEAN_TYPE = 'expected true or false';
const DATE_TYPE = 'expected a date as YYYY-MM-DD';
const TIMESTAMP_TYPE =
  'expected an ISO 8601 timestamp YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM] (at most 6 fraction digits)';
const decimalType = (p: number, s: number) =>
  `expected a plain decimal number for decimal(${p},${s}), e.g. 12.34`;
const NOT_A_DATE = 'not a real calendar date or time of day';

describe('a null in a column that is not nullable', () => {
  it.each([
    ['int', { type: 'int' }],
    ['string', { type: 'string' }],
  ])('%s: the message says why, without a value to show', (_, column) => {
    expect(errorOf({ ...column, nullable: false }, '')).toEqual({
      rule: 'not_null',
      message: 'the column is not nullable and the field is empty',
    });
  });
});

describe('int: type, range, min and max', () => {
  messagesTable({ type: 'int' }, [
    ['12', 'ok'],
    ['1.5', bad('type', '1.5', INT_TYPE)],
    ['2147483648', bad('range', '2147483648', 'outside the 32-bit integer range -2147483648..2147483647')],
  ]);
  messagesTable({ type: 'int', min: 1, max: 10 }, [
    ['0', bad('min', '0', 'less than the minimum 1')],
    ['11', bad('max', '11', 'greater than the maximum 10')],
  ]);
});

describe('bigint: type, range, min and max', () => {
  messagesTable({ type: 'bigint' }, [
    ['x', bad('type', 'x', BIGINT_TYPE)],
    [
      '9223372036854775808',
      bad(
        'range',
        '9223372036854775808',
        'outside the 64-bit integer range -9223372036854775808..9223372036854775807',
      ),
    ],
  ]);
  // Bounds a double holds exactly: short values are compared as doubles.
  messagesTable({ type: 'bigint', min: -5, max: 5 }, [
    ['-5', 'ok'],
    ['5', 'ok'],
    ['-6', bad('min', '-6', 'less than the minimum -5')],
    ['6', bad('max', '6', 'greater than the maximum 5')],
    ['+0006', bad('max', '+0006', 'greater than the maximum 5')],
  ]);
  // 2^53 is an exact double, but 2^53 + 1 is not: a value of 16 digits is compared exactly.
  messagesTable({ type: 'bigint', max: 9007199254740992 }, [
    ['9007199254740992', 'ok'],
    ['9007199254740993', bad('max', '9007199254740993', 'greater than the maximum 9007199254740992')],
    ['-9007199254740993', 'ok'],
  ]);
  messagesTable({ type: 'bigint', min: '-9007199254740992' }, [
    ['-9007199254740993', bad('min', '-9007199254740993', 'less than the minimum -9007199254740992')],
  ]);
});

describe('double: type, range, min and max', () => {
  messagesTable({ type: 'double' }, [
    ['NaN', bad('type', 'NaN', DOUBLE_TYPE)],
    ['1e400', bad('range', '1e400', 'too large for a double')],
  ]);
  messagesTable({ type: 'double', min: 0.5, max: '1e3' }, [
    ['0.25', bad('min', '0.25', 'less than the minimum 0.5')],
    ['1000.5', bad('max', '1000.5', 'greater than the maximum 1e3')],
  ]);
});

describe('decimal: type, scale, precision, min and max', () => {
  messagesTable({ type: 'decimal', precision: 5, scale: 2 }, [
    ['1.5e3', bad('type', '1.5e3', decimalType(5, 2))],
    ['1.234', bad('decimal_scale', '1.234', 'more than 2 fraction digits (values are never rounded)')],
    ['1234.5', bad('decimal_precision', '1234.5', 'more than 3 integer digits for decimal(5,2)')],
  ]);
  messagesTable({ type: 'decimal', precision: 12, scale: 0 }, [
    ['1.5', bad('decimal_scale', '1.5', 'more than 0 fraction digits (values are never rounded)')],
  ]);
  messagesTable({ type: 'decimal', precision: 6, scale: 2, min: '-0.50', max: 100 }, [
    ['-0.51', bad('min', '-0.51', 'less than the minimum -0.50')],
    ['100.01', bad('max', '100.01', 'greater than the maximum 100')],
  ]);
});

describe('boolean: true or false, in any case, and nothing close to them', () => {
  messagesTable({ type: 'boolean' }, [
    ['TRUE', 'ok'],
    ['fAlSe', 'ok'],
    // Each letter on its own decides: one wrong letter, at each position, or all but one wrong.
    ...['xrue', 'txue', 'trxe', 'trux', 'xxxe', 'xxue', 'xrxx', 'txxx', 'xxux'].map(
      (field): Case => [field, bad('type', field, BOOLEAN_TYPE)],
    ),
    ...['xalse', 'fxlse', 'faxse', 'falxe', 'falsx', 'xxxxe', 'xxxse', 'xxlxx', 'xaxxx', 'fxxxx'].map(
      (field): Case => [field, bad('type', field, BOOLEAN_TYPE)],
    ),
  ]);
});

describe('date: type, calendar date, min and max', () => {
  messagesTable({ type: 'date' }, [
    ['2024-1-01', bad('type', '2024-1-01', DATE_TYPE)],
    ['2023-02-29', bad('calendar_date', '2023-02-29', NOT_A_DATE)],
  ]);
  messagesTable({ type: 'date', min: '2024-01-01', max: '2024-12-31' }, [
    ['2023-12-31', bad('min', '2023-12-31', 'less than the minimum 2024-01-01')],
    ['2025-01-01', bad('max', '2025-01-01', 'greater than the maximum 2024-12-31')],
  ]);
});

describe('timestamp: type, calendar date, range, min and max', () => {
  messagesTable({ type: 'timestamp' }, [
    ['2024-01-01', bad('type', '2024-01-01', TIMESTAMP_TYPE)],
    ['2024-01-01T24:00:00', bad('calendar_date', '2024-01-01T24:00:00', NOT_A_DATE)],
    [
      '2024-01-01T00:00:00+19:00',
      bad('range', '2024-01-01T00:00:00+19:00', 'outside years 0001–9999 in UTC, or an offset beyond ±18:00'),
    ],
  ]);
  messagesTable({ type: 'timestamp', min: '2024-01-01T00:00:00Z', max: '2024-12-31 23:59:59.5' }, [
    ['2023-12-31T23:59:59', bad('min', '2023-12-31T23:59:59', 'less than the minimum 2024-01-01T00:00:00Z')],
    [
      '2024-12-31T23:59:59.6',
      bad('max', '2024-12-31T23:59:59.6', 'greater than the maximum 2024-12-31 23:59:59.5'),
    ],
  ]);
});

describe('string: enum, pattern and maxLength', () => {
  messagesTable({ type: 'string', enum: ['EUR', 'USD', 'say "hi"'] }, [
    ['EUR', 'ok'],
    ['GBP', bad('enum', 'GBP', 'not one of "EUR", "USD", "say \\"hi\\""')],
  ]);
  messagesTable({ type: 'string', pattern: '^[A-Z]{3}$' }, [
    ['eur', bad('pattern', 'eur', 'does not match the pattern /^[A-Z]{3}$/')],
  ]);
  messagesTable({ type: 'string', maxLength: 3 }, [
    ['abc', 'ok'],
    ['abcd', bad('max_length', 'abcd', 'longer than 3 characters')],
  ]);

  it('an enum value is accepted as the last bytes of a file without a final line break', () => {
    const ds = parseDataset(
      {
        name: 'd',
        columns: [
          { name: 'k', type: 'string' },
          { name: 'v', type: 'string', enum: ['EUR', 'USD'] },
        ],
      },
      'd.json',
    );
    for (const text of ['k,v\nx,USD', 'k,v\r\nx,EUR\r\ny,USD']) {
      const validator = new CsvValidator(ds);
      validator.push(Buffer.from(text, 'utf8'));
      expect(validator.finish(0, false).errors).toEqual([]);
    }
  });
});

/** The problems a declaration of column `c` is rejected with (fails the test when it is accepted). */
function problemsOf(column: Record<string, unknown>): string[] {
  try {
    parseDataset({ name: 'd', columns: [{ name: 'c', ...column }] }, 'datasets/d.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetDeclarationError);
    return [...(error as DatasetDeclarationError).problems];
  }
  throw new Error('declaration was accepted');
}

describe('a declared bound must be a valid value of its column', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'an int min with a fraction',
      { type: 'int', min: 1.5 },
      [`columns[0].min: min 1.5 is not a valid int: ${INT_TYPE}`],
    ],
    [
      'an int max beyond 32 bits',
      { type: 'int', max: 2147483648 },
      [
        'columns[0].max: max 2147483648 is not a valid int: outside the 32-bit integer range -2147483648..2147483647',
      ],
    ],
    [
      'a bigint min in hexadecimal',
      { type: 'bigint', min: '0x10' },
      [`columns[0].min: min "0x10" is not a valid bigint: ${BIGINT_TYPE}`],
    ],
    [
      'a bigint max beyond 64 bits',
      { type: 'bigint', max: '9223372036854775808' },
      [
        'columns[0].max: max "9223372036854775808" is not a valid bigint: outside the 64-bit integer range -9223372036854775808..9223372036854775807',
      ],
    ],
    [
      'a double min that is not a number',
      { type: 'double', min: 'NaN' },
      [`columns[0].min: min "NaN" is not a valid double: ${DOUBLE_TYPE}`],
    ],
    [
      'a double max beyond a double',
      { type: 'double', max: '1e999' },
      ['columns[0].max: max "1e999" is not a valid double: too large for a double'],
    ],
    [
      'a decimal min of a sign alone',
      { type: 'decimal', precision: 5, scale: 0, min: '+' },
      [`columns[0].min: min "+" is not a valid decimal(5,0): ${decimalType(5, 0)}`],
    ],
    [
      'a decimal min with too many fraction digits',
      { type: 'decimal', precision: 5, scale: 2, min: '1.250' },
      [
        'columns[0].min: min "1.250" is not a valid decimal(5,2): more than 2 fraction digits (values are never rounded)',
      ],
    ],
    [
      'a decimal max with too many integer digits',
      { type: 'decimal', precision: 5, scale: 2, max: 1000 },
      ['columns[0].max: max 1000 is not a valid decimal(5,2): more than 3 integer digits for decimal(5,2)'],
    ],
    [
      'a date min that is no calendar date',
      { type: 'date', min: '2023-02-29' },
      [`columns[0].min: min "2023-02-29" is not a valid date: ${NOT_A_DATE}`],
    ],
    [
      // Only the bad bound is named: the good one is not measured against it.
      'a date max with a character outside ASCII',
      { type: 'date', min: '2020-01-05', max: '2020-01-1İ' },
      [`columns[0].max: max "2020-01-1İ" is not a valid date: ${DATE_TYPE}`],
    ],
    [
      'a timestamp max with a character outside ASCII',
      { type: 'timestamp', max: '2020-01-01T00:00:0İ' },
      [`columns[0].max: max "2020-01-01T00:00:0İ" is not a valid timestamp: ${TIMESTAMP_TYPE}`],
    ],
    [
      'a min above the max',
      { type: 'int', min: 10, max: 5 },
      [
        'columns[0].min: min 10 is not a valid int: greater than the maximum 5',
        'columns[0].max: max 5 is not a valid int: less than the minimum 10',
      ],
    ],
  ])('%s', (_, column, expected) => {
    expect(problemsOf(column)).toEqual(expected);
  });
});
