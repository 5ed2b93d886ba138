import { describe, expect, it } from 'vitest';
import { parseDataset } from '../../lib/datasets/model.ts';
import { CsvValidator } from '../../lib/validation/csv-validator.ts';
import { valueColumnDataset } from './value-column.ts';

/**
 * Validates one value (written verbatim into the CSV) of column `v`; the rule broken, or 'ok'. A
 * second column keeps an empty value from being a blank line.
 */
function ruleFor(column: Record<string, unknown>, field: string): string {
  const ds = valueColumnDataset(column);
  const validator = new CsvValidator(ds);
  validator.push(Buffer.from(`v,k\n${field},x\n`, 'utf8'));
  const result = validator.finish(0, false);
  expect(result.errorCount).toBeLessThanOrEqual(1);
  return result.errors[0]?.rule ?? 'ok';
}

type Case = [value: string, expected: string];

function rulesTable(column: Record<string, unknown>, cases: Case[]) {
  it.each(cases)(`${JSON.stringify(column)} %s → %s`, (value, expected) => {
    expect(ruleFor(column, value)).toBe(expected);
  });
}

describe('int is a 32-bit whole number', () => {
  rulesTable({ type: 'int' }, [
    ['0', 'ok'],
    ['-7', 'ok'],
    ['+7', 'ok'],
    ['007', 'ok'],
    ['2147483647', 'ok'],
    ['2147483648', 'range'],
    ['-2147483648', 'ok'],
    ['-2147483649', 'range'],
    ['99999999999999999999999', 'range'],
    ['1.0', 'type'],
    ['1e3', 'type'],
    [' 1', 'type'],
    ['1 ', 'type'],
    ['-', 'type'],
    ['0x10', 'type'],
    ['١٢', 'type'], // Arabic-Indic digits are not ASCII digits
  ]);
});

describe('bigint is a 64-bit whole number', () => {
  rulesTable({ type: 'bigint' }, [
    ['9223372036854775807', 'ok'],
    ['9223372036854775808', 'range'],
    ['-9223372036854775808', 'ok'],
    ['-9223372036854775809', 'range'],
    ['00000009223372036854775807', 'ok'],
    ['12345678901234567890', 'range'],
    ['2147483648', 'ok'],
    ['1.5', 'type'],
    ['', 'ok'],
  ]);
  rulesTable({ type: 'bigint', min: 10, max: '9007199254740993' }, [
    ['9', 'min'],
    ['10', 'ok'],
    ['9007199254740993', 'ok'],
    ['9007199254740994', 'max'], // beyond 2^53: compared exactly, not as a double
  ]);
});

describe('double is a finite number in plain or scientific notation', () => {
  rulesTable({ type: 'double' }, [
    ['3.14', 'ok'],
    ['-0.5', 'ok'],
    ['.5', 'ok'],
    ['5.', 'ok'],
    ['1e-3', 'ok'],
    ['6.02E+23', 'ok'],
    ['1e308', 'ok'],
    ['1e309', 'range'],
    ['NaN', 'type'],
    ['Infinity', 'type'],
    ['"1,5"', 'type'],
    ['e5', 'type'],
    ['1e', 'type'],
    ['.', 'type'],
  ]);
  rulesTable({ type: 'double', min: 0, max: 1 }, [
    ['0', 'ok'],
    ['1', 'ok'],
    ['1.0000000000001', 'max'],
    ['-0.0000001', 'min'],
    ['0.3', 'ok'],
  ]);
});

describe('decimal is plain notation within precision and scale, never rounded', () => {
  rulesTable({ type: 'decimal', precision: 5, scale: 2 }, [
    ['123.45', 'ok'],
    ['-123.45', 'ok'],
    ['0.5', 'ok'],
    ['.5', 'ok'],
    ['12', 'ok'],
    ['12.50', 'ok'],
    ['12.500', 'decimal_scale'], // trailing zeros count: the value would have to be rounded
    ['1.234', 'decimal_scale'],
    ['1234.5', 'decimal_precision'],
    ['999.99', 'ok'],
    ['1000', 'decimal_precision'],
    ['000123.45', 'ok'], // leading zeros are not significant
    ['1e2', 'type'],
    ['12.3.4', 'type'],
    ['$12', 'type'],
  ]);
  rulesTable({ type: 'decimal', precision: 38, scale: 0 }, [
    ['99999999999999999999999999999999999999', 'ok'],
    ['100000000000000000000000000000000000000', 'decimal_precision'],
  ]);
  rulesTable({ type: 'decimal', precision: 38, scale: 38 }, [
    ['0.12345678901234567890123456789012345678', 'ok'],
    ['1.1', 'decimal_precision'],
  ]);
  rulesTable({ type: 'decimal', precision: 12, scale: 2, min: '-0.01', max: '99999999.99' }, [
    ['-0.01', 'ok'],
    ['-0.02', 'min'],
    ['99999999.99', 'ok'],
    ['100000000.00', 'max'],
  ]);
});

describe('boolean is true or false, in any case', () => {
  rulesTable({ type: 'boolean' }, [
    ['true', 'ok'],
    ['FALSE', 'ok'],
    ['True', 'ok'],
    ['yes', 'type'],
    ['1', 'type'],
    ['t', 'type'],
    ['truee', 'type'],
  ]);
});

describe('date is YYYY-MM-DD and a real calendar date', () => {
  rulesTable({ type: 'date' }, [
    ['2024-02-29', 'ok'], // leap year
    ['2023-02-29', 'calendar_date'],
    ['2000-02-29', 'ok'], // divisible by 400
    ['1900-02-29', 'calendar_date'], // divisible by 100, not 400
    ['2024-04-31', 'calendar_date'],
    ['2024-13-01', 'calendar_date'],
    ['2024-00-10', 'calendar_date'],
    ['0000-01-01', 'calendar_date'],
    ['0001-01-01', 'ok'],
    ['9999-12-31', 'ok'],
    ['2024-1-01', 'type'],
    ['2024/01/01', 'type'],
    ['20240101', 'type'],
    ['2024-01-01T00:00:00', 'type'],
  ]);
  rulesTable({ type: 'date', min: '2000-01-01', max: '2030-12-31' }, [
    ['1999-12-31', 'min'],
    ['2000-01-01', 'ok'],
    ['2031-01-01', 'max'],
  ]);
});

describe('timestamp is ISO 8601 with an optional offset (none means UTC)', () => {
  rulesTable({ type: 'timestamp' }, [
    ['2024-03-01T10:00:00Z', 'ok'],
    ['2024-03-01T10:00:00', 'ok'],
    ['2024-03-01 10:00:00', 'ok'],
    ['2024-03-01T10:00:00.1Z', 'ok'],
    ['2024-03-01T10:00:00.123456Z', 'ok'],
    ['2024-03-01T10:00:00.1234567Z', 'type'], // more than microseconds would be truncated
    ['2024-03-01T10:00:00+05:30', 'ok'],
    ['2024-03-01T10:00:00-08:00', 'ok'],
    ['2024-03-01T10:00:00+0530', 'type'],
    ['2024-03-01T10:00:00+19:00', 'range'],
    ['2024-02-29T23:59:59Z', 'ok'],
    ['2023-02-29T00:00:00Z', 'calendar_date'],
    ['2024-03-01T24:00:00Z', 'calendar_date'],
    ['2024-03-01T10:60:00Z', 'calendar_date'],
    ['2024-03-01T10:00:60Z', 'calendar_date'],
    ['2024-03-01T10:00Z', 'type'],
    ['2024-03-01T10:00:00.Z', 'type'],
    ['2024-03-01T10:00:00z', 'type'],
    ['0001-01-01T00:30:00+01:00', 'range'], // before year 1 in UTC
    ['9999-12-31T23:30:00-01:00', 'range'], // after year 9999 in UTC
    ['9999-12-31T23:59:59.999999Z', 'ok'],
  ]);
  rulesTable({ type: 'timestamp', min: '2024-01-01T00:00:00Z', max: '2024-12-31T23:59:59.999999Z' }, [
    ['2024-01-01T01:00:00+01:00', 'ok'], // the same instant as the minimum
    ['2024-01-01T00:59:59.999999+01:00', 'min'],
    ['2024-12-31T23:59:59.999999Z', 'ok'],
    ['2025-01-01T00:00:00.000001+00:00', 'max'],
  ]);
});

describe('strings: enum, pattern, maxLength', () => {
  rulesTable({ type: 'string', enum: ['USD', 'EUR', 'Ünïcode'] }, [
    ['USD', 'ok'],
    ['Ünïcode', 'ok'],
    ['usd', 'enum'],
    ['USD ', 'enum'],
  ]);
  rulesTable({ type: 'string', enum: Array.from({ length: 40 }, (_, k) => `v${k}`) }, [
    ['v39', 'ok'],
    ['v40', 'enum'],
  ]);
  rulesTable({ type: 'string', pattern: '^[A-Z]{3}-\\d{5}$' }, [
    ['ABC-12345', 'ok'],
    ['ABC-1234', 'pattern'],
    ['abc-12345', 'pattern'],
  ]);
  rulesTable({ type: 'string', pattern: '\\d' }, [
    ['a1b', 'ok'], // unanchored, as in JSON Schema
    ['abc', 'pattern'],
  ]);
  rulesTable({ type: 'string', maxLength: 3 }, [
    ['abc', 'ok'],
    ['abcd', 'max_length'],
    ['été', 'ok'], // 3 characters in 5 bytes
    ['😀😀😀', 'ok'],
    ['😀😀😀😀', 'max_length'],
  ]);
});

describe('nulls: an unquoted empty field is null, a quoted one an empty string', () => {
  it.each([
    [{ type: 'int', nullable: false }, '', 'not_null'],
    [{ type: 'int' }, '', 'ok'],
    [{ type: 'int' }, '""', 'type'], // an empty string is not a number
    [{ type: 'string', nullable: false }, '', 'not_null'],
    [{ type: 'string', nullable: false }, '""', 'ok'],
    [{ type: 'string', enum: ['a'] }, '', 'ok'], // null is not checked against the enum
    [{ type: 'date', nullable: false }, '"2024-01-01"', 'ok'],
  ])('%j with %j → %s', (column, field, expected) => {
    expect(ruleFor(column, field)).toBe(expected);
  });
});

describe('error reports', () => {
  it('name the line, column, value and rule, with a message that shows the value', () => {
    const ds = parseDataset(
      {
        name: 'd',
        columns: [
          { name: 'id', type: 'int' },
          { name: 'amount', type: 'decimal', precision: 5, scale: 2 },
        ],
      },
      'd.json',
    );
    const validator = new CsvValidator(ds);
    validator.push(Buffer.from('id,amount\n1,1.00\n2,"multi\nline"\n3,12.345\n'));
    const result = validator.finish(0, false);
    expect(result.errors).toEqual([
      {
        line: 3,
        column: 'amount',
        value: 'multi\nline',
        rule: 'type',
        message: expect.stringContaining('"multi\\nline"'),
      },
      {
        line: 5,
        column: 'amount',
        value: '12.345',
        rule: 'decimal_scale',
        message: '"12.345": more than 2 fraction digits (values are never rounded)',
      },
    ]);
    expect(result.rows).toBe(3);
    expect(result.errorsByColumn).toEqual({ amount: 2 });
  });
});
