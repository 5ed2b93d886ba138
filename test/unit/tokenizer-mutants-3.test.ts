/**
 * The tokenizer's helpers at the end of lib/validation/csv-validator.ts, pinned through the
 * validator: which bytes of a chunk are checked as UTF-8 before the chunk's end, how invalid bytes
 * and long texts are shown in an error, the hint of an unknown header cell, and the counts under a
 * `__proto__` key. Inputs are generated here; no fixture files.
 */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../lib/datasets/model.ts';
import { CsvValidator, MAX_VALUE_CHARS, type ValidationResult } from '../../lib/validation/csv-validator.ts';
import { AB, brief, dataset } from './tokenizer-harness.ts';

const bytes = (...parts: (string | readonly number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Validates the chunks, pushed one by one as given (no chunk is the last until finish). */
function validate(ds: Dataset, ...chunks: Buffer[]): ValidationResult {
  const validator = new CsvValidator(ds);
  let total = 0;
  for (const chunk of chunks) {
    validator.push(chunk);
    total += chunk.length;
  }
  return validator.finish(total, false);
}

/** The value shown for invalid UTF-8 in column b of the only record after the header. */
function shownValue(...field: (string | readonly number[])[]): string | null {
  const result = validate(AB, bytes('a,b\nok,', ...field, '\n'));
  expect(brief(result).map(({ line, column, rule }) => ({ line, column, rule }))).toEqual([
    { line: 2, column: 'b', rule: 'invalid_utf8' },
  ]);
  return result.errors[0]!.value;
}

describe('UTF-8 at the end of a chunk that is not the last', () => {
  it('reports a 3-byte lead byte followed by the line ending that closes the chunk', () => {
    // Prepare: the chunk ends "\xE2\n": the record is complete, and \xE2 is no character cut by
    // the chunk end (an LF follows it), so it must be checked now.
    const first = bytes('a,b\nok,', [0xe2], '\n');
    const second = bytes('fine,too\n');

    // Act
    const result = validate(AB, first, second);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'b', value: '\\xE2', rule: 'invalid_utf8' }]);
    expect(result.rows).toBe(2);
  });

  it('reports a 4-byte lead byte two bytes before the line ending that closes the chunk', () => {
    // Prepare
    const first = bytes('a,b\nok,', [0xf0], 'x\n');

    // Act
    const result = validate(AB, first, bytes('fine,too\n'));

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'b', value: '\\xF0x', rule: 'invalid_utf8' }]);
  });
});

describe('invalid UTF-8 shown in an error', () => {
  it('shows each valid character as text between invalid bytes, whatever its length and lead byte', () => {
    // Prepare: é (C3), £ (C2, the lowest 2-byte lead), € (E2), ࠀ (E0, the lowest 3-byte lead),
    // 😀 (F0, the lowest 4-byte lead), each followed by an invalid 0xFF.
    const ff = [0xff];

    // Act
    const value = shownValue('é', ff, '£', ff, '€', ff, '\u0800', ff, '😀', ff);

    // Assess
    expect(value).toBe('é\\xFF£\\xFF€\\xFF\u0800\\xFF😀\\xFF');
  });

  it('shows a character cut by the end of an unescaped value as \\xNN, never completed by bytes beyond it', () => {
    // Prepare: both fields have doubled quotes, so each is unescaped into the same scratch buffer:
    // a's `"é` (22 C3 A9) first, then b's `"` + C3, which leaves A9 just past b's end.
    const input = bytes('a,b\n"""é","""', [0xc3], '"\n');

    // Act
    const result = validate(AB, input);

    // Assess
    expect(brief(result)).toEqual([{ line: 2, column: 'b', value: '"\\xC3', rule: 'invalid_utf8' }]);
  });

  it('shows bytes that can never start a character (0x80, 0xBF, 0xC0, 0xC1) one by one as \\xNN', () => {
    // Act
    const value = shownValue('a', [0x80], 'b', [0xbf, 0xc0, 0xc1], 'c');

    // Assess
    expect(value).toBe('a\\x80b\\xBF\\xC0\\xC1c');
  });

  it(`shows ${MAX_VALUE_CHARS} characters in full when the escapes fill them exactly`, () => {
    // Act: 20 invalid bytes are 20 four-character escapes, 80 characters.
    const value = shownValue(Array(20).fill(0xff));

    // Assess
    expect(value).toBe('\\xFF'.repeat(20));
  });

  it('cuts a longer value before the first escape that would pass the limit, and marks the cut with …', () => {
    // Act
    const exact = shownValue(Array(25).fill(0xff));
    const offByOne = shownValue('a', Array(25).fill(0xff));

    // Assess: 80 characters then …; 'a' and 19 escapes (77 characters) as a 20th would be 81.
    expect(exact).toBe(`${'\\xFF'.repeat(20)}…`);
    expect(offByOne).toBe(`a${'\\xFF'.repeat(19)}…`);
  });
});

describe('long text quoted in an error', () => {
  /** The unknown header cell's text as reported (column and value), given the cell. */
  function reportedCell(cell: string): { column: string | null; value: string | null } {
    const result = validate(AB, bytes(`a,b,${cell}\n1,2,3\n`));
    const unknown = result.errors.filter((e) => e.rule === 'unknown_column');
    expect(unknown).toHaveLength(1);
    return { column: unknown[0]!.column, value: unknown[0]!.value };
  }

  it(`quotes a text of exactly ${MAX_VALUE_CHARS} characters whole, without …`, () => {
    // Prepare
    const cell = 'x'.repeat(MAX_VALUE_CHARS);

    // Act
    const reported = reportedCell(cell);

    // Assess
    expect(reported).toEqual({ column: cell, value: cell });
  });

  it('cuts before a surrogate pair that straddles the limit, whatever its high surrogate (D800 to DBFF)', () => {
    // Prepare: 79 characters, then a pair at positions 79–80, then more.
    const head = 'a'.repeat(MAX_VALUE_CHARS - 1);

    // Act
    const lowest = reportedCell(`${head}\u{10000}bc`); // D800 DC00
    const highest = reportedCell(`${head}\u{10FFFD}bc`); // DBFF DFFD
    const emoji = reportedCell(`${head}😀bc`); // D83D DE00

    // Assess
    expect(lowest.value).toBe(`${head}…`);
    expect(highest.value).toBe(`${head}…`);
    expect(emoji).toEqual({ column: `${head}…`, value: `${head}…` });
  });

  it('keeps a character above the surrogates (U+FF21) that ends at the limit', () => {
    // Prepare
    const head = 'a'.repeat(MAX_VALUE_CHARS - 1);

    // Act
    const reported = reportedCell(`${head}\uFF21bc`);

    // Assess
    expect(reported.value).toBe(`${head}\uFF21…`);
  });
});

describe('the hint of an unknown header cell', () => {
  const AMOUNT = dataset([
    { name: 'id', type: 'int' },
    { name: 'amount', type: 'string', header: 'Amount (EUR)' },
    { name: 'kelvin', type: 'string' },
  ]);

  /** The message of the unknown_column error the header cell `cell` gets. */
  function messageFor(cell: string): string {
    const result = validate(AMOUNT, bytes(`id,Amount (EUR),kelvin,${cell}\n1,2,3,4\n`));
    const unknown = result.errors.filter((e) => e.rule === 'unknown_column');
    expect(unknown).toHaveLength(1);
    return unknown[0]!.message;
  }

  it('names no column when none is near', () => {
    // Act / Assess
    expect(messageFor('zzz')).toBe('the header names an unknown column "zzz"');
  });

  it('suggests the declared header of a column whose name the cell spells in another case', () => {
    // Act / Assess
    expect(messageFor('AMOUNT')).toBe(
      'the header names an unknown column "AMOUNT" (did you mean "Amount (EUR)"?)',
    );
  });

  it('suggests a column whose header the cell spells with spaces around it', () => {
    // Act / Assess
    expect(messageFor(' ID ')).toBe('the header names an unknown column " ID " (did you mean "id"?)');
  });

  it('folds case by lower-casing: the Kelvin sign (U+212A) is a k', () => {
    // Prepare: without the kelvin cell (beside it, the Kelvin cell repeats it up to case, which is
    // a duplicate_column: Spark, lower-casing as Java does, would rename both).
    const result = validate(AMOUNT, bytes('id,Amount (EUR),\u212Aelvin\n1,2,3\n'));

    // Act / Assess
    expect(result.errors.filter((e) => e.rule === 'unknown_column').map((e) => e.message)).toEqual([
      'the header names an unknown column "\u212Aelvin" (did you mean "kelvin"?)',
    ]);
    const beside = validate(AMOUNT, bytes('id,Amount (EUR),kelvin,\u212Aelvin\n1,2,3,4\n'));
    expect(beside.errors.map((e) => e.rule)).toEqual(['duplicate_column']);
  });
});

describe('counts under a __proto__ key', () => {
  it('counts a second error under __proto__ like any other column', () => {
    // Prepare: two header cells "__proto__": the first unknown, the second also a repeat.
    const input = bytes('a,b,__proto__,__proto__\n1,2,3,4\n');

    // Act
    const result = validate(AB, input);

    // Assess
    expect(result.errorCount).toBe(2);
    expect(Object.entries(result.errorsByColumn)).toEqual([['__proto__', 2]]);
    expect(result.errorsByRule).toEqual({ unknown_column: 1, duplicate_column: 1 });
  });

  it('leaves the __proto__ count a plain data property that a caller may update, like any other count', () => {
    // Prepare
    const input = bytes('a,b,__proto__,c\n1,2,3,4\n');
    const result = validate(AB, input);

    // Act: a caller adding the counts of another run in place.
    const counts = result.errorsByColumn;
    for (const key of ['__proto__', 'c']) counts[key] = (counts[key] ?? 0) + 5;

    // Assess
    expect(Object.getOwnPropertyDescriptor(counts, '__proto__')).toEqual(
      Object.getOwnPropertyDescriptor(counts, 'c'),
    );
    expect(Object.entries(counts)).toEqual([
      ['__proto__', 6],
      ['c', 6],
    ]);
    expect(Object.getPrototypeOf(counts)).toBe(Object.prototype);
  });
});
