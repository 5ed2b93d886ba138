import { describe, expect, it } from 'vitest';
import { parseDataset } from '../../lib/datasets/model.ts';
import { CsvValidator } from '../../lib/validation/csv-validator.ts';

/**
 * Edges of the value rules that the broad tables (`value-rules.test.ts`) and the seeded differential
 * leave open: a single wrong byte inside a date or time, bounds one day apart across 1 March (where
 * the day count restarts its year), fraction digits compared against bounds, and fields whose
 * neighbouring bytes would complete them.
 */

/** The first rule broken by the one record `record` under a header `header`, or 'ok'. */
function ruleOfRecord(
  columns: Record<string, unknown>[],
  header: string,
  record: string,
  dialect?: Record<string, string>,
): string {
  const ds = parseDataset({ name: 'd', ...(dialect ? { dialect } : {}), columns }, 'd.json');
  const validator = new CsvValidator(ds);
  validator.push(Buffer.from(`${header}\n${record}\n`, 'utf8'));
  const result = validator.finish(0, false);
  expect(result.errorCount).toBeLessThanOrEqual(1);
  return result.errors[0]?.rule ?? 'ok';
}

/** Validates one value of column `v` (a second column keeps an empty value from being a blank line). */
function ruleFor(column: Record<string, unknown>, field: string): string {
  return ruleOfRecord(
    [
      { name: 'v', ...column },
      { name: 'k', type: 'string' },
    ],
    'v,k',
    `${field},x`,
  );
}

type Case = [value: string, expected: string];

function rulesTable(column: Record<string, unknown>, cases: Case[]) {
  it.each(cases)(`${JSON.stringify(column)} %s → %s`, (value, expected) => {
    expect(ruleFor(column, value)).toBe(expected);
  });
}

describe('date: every position of YYYY-MM-DD must hold a digit or its dash', () => {
  rulesTable({ type: 'date' }, [
    ['2024-01-15', 'ok'],
    ['2x24-01-01', 'type'], // a non-digit in the century
    ['20x4-01-01', 'type'], // in the year within the century
    ['2024-01-x1', 'type'], // in the day's tens
    ['2024-01-1/', 'type'], // '/' sits just below '0'
    ['2024-01-A0', 'type'], // 'A' sits above '9': still not a digit, so not a day number
    ['2024-A0-01', 'type'],
    ['2024x01-01', 'type'], // separators are dashes
    ['2024-01x01', 'type'],
  ]);
});

describe('timestamp: a wrong byte in the date or time is a type error, not a calendar or range one', () => {
  rulesTable({ type: 'timestamp' }, [
    ['2024-01-01T00:00:00', 'ok'],
    ['2024-0x-01T00:00:00', 'type'],
    ['2x24-01-01T00:00:00', 'type'],
    ['2024-01-01Tx0:00:00', 'type'],
    ['2024-01-01T00:x0:00', 'type'],
    ['2024-01-01T00:00:x0', 'type'],
    ['2024-01-01T00x00:00', 'type'], // separators are colons
    ['2024-01-01T00:00x00', 'type'],
  ]);
});

describe('timestamp offsets are ±HH:MM up to ±18:00', () => {
  rulesTable({ type: 'timestamp' }, [
    ['2024-01-01T00:00:00+05:59', 'ok'], // 59 minutes is a valid minute
    ['2024-01-01T00:00:00-05:59', 'ok'],
    ['2024-01-01T00:00:00x05:00', 'type'], // the sign is + or -
    ['2024-01-01T00:00:00+05x00', 'type'],
    ['2024-01-01T00:00:00+05:x0', 'type'],
  ]);
});

describe('timestamp fractions are read as fractions of a second against the bounds', () => {
  rulesTable({ type: 'timestamp', min: '2024-01-01T00:00:00.1Z', max: '2024-01-01T00:00:00.49Z' }, [
    ['2024-01-01T00:00:00.1Z', 'ok'],
    ['2024-01-01T00:00:00.12Z', 'ok'], // .12 s lies between .1 s and .49 s
    ['2024-01-01T00:00:00.09Z', 'min'],
    ['2024-01-01T00:00:00.490000Z', 'ok'],
    ['2024-01-01T00:00:00.5Z', 'max'], // .5 s is more than .49 s although 5 < 49
    ['2024-01-01T00:00:00.490001Z', 'max'],
  ]);
});

describe('timestamp instants stay ordered across 1 March, in common, leap, century and 400-year years', () => {
  for (const [year, lastOfFebruary] of [
    ['2023', '28'],
    ['2024', '29'],
    ['2000', '29'],
    ['2100', '28'],
  ] as const) {
    const feb = `${year}-02-${lastOfFebruary}`;
    rulesTable({ type: 'timestamp', min: `${year}-03-01T00:00:00Z` }, [
      [`${year}-03-01T00:00:00Z`, 'ok'],
      [`${feb}T23:59:59.999999Z`, 'min'],
      [`${year}-03-01T00:30:00+01:00`, 'min'], // 23:30 UTC the day before
      [`${feb}T23:30:00-01:00`, 'ok'], // 00:30 UTC on 1 March
    ]);
    rulesTable({ type: 'timestamp', max: `${feb}T23:59:59.999999Z` }, [
      [`${feb}T23:59:59.999999Z`, 'ok'],
      [`${year}-03-01T00:00:00Z`, 'max'],
      [`${year}-03-01T00:30:00+01:00`, 'ok'],
      [`${feb}T23:30:00-01:00`, 'max'],
    ]);
  }
});

describe('a value is read within its field, whatever bytes follow it', () => {
  it('a timestamp cut short by a colon delimiter is not completed by the next fields', () => {
    const columns = [
      { name: 'v', type: 'timestamp' },
      { name: 'a', type: 'string' },
      { name: 'b', type: 'string' },
    ];
    const colons = { delimiter: ':', quote: "'" };
    // Fields "2024-01-01T00", "00" and "00": the first is not a timestamp on its own.
    expect(ruleOfRecord(columns, 'v:a:b', '2024-01-01T00:00:00', colons)).toBe('type');
    expect(ruleOfRecord(columns, 'v:a:b', "'2024-01-01T00:00:00':a:b", colons)).toBe('ok');
  });
});

describe('enum membership is by the declared strings, however long the list', () => {
  // Short lists compare bytes, long ones a string set: both give the declared strings' verdicts.
  for (const length of [16, 17, 21]) {
    const values = ['é', ...Array.from({ length: length - 1 }, (_, k) => `v${k}`)];
    rulesTable({ type: 'string', enum: values }, [
      ['é', 'ok'],
      [`v${length - 2}`, 'ok'],
      ['e\u0301', 'enum'],
      ['\ufffd', 'enum'],
    ]);
  }

  it('refuses a declared value holding a lone surrogate, which no UTF-8 text can match', () => {
    expect(() =>
      parseDataset({ name: 'd', columns: [{ name: 'v', type: 'string', enum: ['\ud800', 'a'] }] }, 'd.json'),
    ).toThrow(
      'd.json: invalid dataset declaration\n  - columns[0].enum[0]: enum values must be valid Unicode text (this one holds a lone surrogate)',
    );
  });
});
