/**
 * A specification-style reference for the value rules, kept only in tests: the oracle of
 * `test/unit/value-rules-differential.test.ts`.
 *
 * Written from README.md ("Datasets: declared once", "The rules a file must meet") and nothing
 * else: it imports nothing from `lib/` or `lambdas/`, not even a type. It is deliberately built
 * unlike `lib/datasets/values.ts` (a byte-level scanner with double arithmetic and a civil-day
 * formula) so that one mistake cannot sit in both:
 * - every shape is a regular expression over the decoded text, matched whole;
 * - integer ranges, decimal digits, decimal and timestamp bounds are exact BigInt arithmetic;
 * - a double's overflow is decided exactly against the rounding boundary 2^1024 − 2^970, not by
 *   parsing it;
 * - a calendar date is one that survives a round trip through a JavaScript `Date` (UTC), and a
 *   timestamp's instant is that `Date`'s epoch milliseconds, in BigInt microseconds.
 *
 * Where the README leaves a detail open, the choice below follows the validator's documented
 * behaviour (its error messages and `test/unit/value-rules.test.ts`) and is pinned, with the
 * reason, in the differential test's "reference decisions" table:
 * - one verdict per value: when several rules are broken, the first in the order of the checks
 *   below wins (shape before meaning; for strings `max_length`, then `enum`, then `pattern`);
 * - a timestamp's first 19 characters (date, separator, time of day) are judged before the rest,
 *   so `2024-02-30T00:00:00+0530` is a `calendar_date` error, not a `type` one;
 * - a timestamp offset is at most ±18:00 (minutes 00–59), beyond it a `range` error;
 * - "length in characters" counts Unicode code points; a pattern is compiled with the `u` flag;
 * - min/max of a double compare the stored double (the value rounded to binary64), not the text.
 */

/** The rules a single value can break, as README.md names them. */
export type ReferenceRule =
  | 'not_null'
  | 'type'
  | 'range'
  | 'calendar_date'
  | 'decimal_scale'
  | 'decimal_precision'
  | 'enum'
  | 'pattern'
  | 'min'
  | 'max'
  | 'max_length';

/** The reference's answer for one value: `ok` or the one rule it breaks. */
export type ReferenceVerdict = 'ok' | ReferenceRule;

/** A column type of README.md. */
export type ReferenceType =
  | 'string'
  | 'int'
  | 'bigint'
  | 'double'
  | 'decimal'
  | 'boolean'
  | 'date'
  | 'timestamp';

/** A column declaration as written in `datasets/<name>.json`: the fields the value rules read. */
export interface ReferenceColumn {
  readonly type: ReferenceType;
  /** README: "default `true`". */
  readonly nullable?: boolean;
  readonly precision?: number;
  readonly scale?: number;
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly maxLength?: number;
  readonly min?: number | string;
  readonly max?: number | string;
}

/**
 * The verdict on one CSV cell of a column: `cell` is the field's text after RFC 4180 unquoting,
 * or null for an unquoted empty field (README: "an unquoted empty field is null; a quoted empty
 * field `""` is an empty string").
 */
export function referenceVerdict(column: ReferenceColumn, cell: string | null): ReferenceVerdict {
  if (cell === null) return column.nullable === false ? 'not_null' : 'ok';
  switch (column.type) {
    case 'string':
      return judgeString(column, cell);
    case 'boolean':
      return /^(?:true|false)$/i.test(cell) ? 'ok' : 'type';
    case 'int':
      return judgeInteger(column, cell, 32n);
    case 'bigint':
      return judgeInteger(column, cell, 64n);
    case 'double':
      return judgeDouble(column, cell);
    case 'decimal':
      return judgeDecimal(column, cell);
    case 'date':
      return judgeDate(column, cell);
    case 'timestamp':
      return judgeTimestamp(column, cell);
  }
}

// ---------------------------------------------------------------------------------------------
// Bounds: "min, max: numbers, dates and timestamps; inclusive".

/** The rule a value breaks against the column's inclusive bounds, given a three-way comparison. */
function judgeBounds<T>(
  column: ReferenceColumn,
  value: T,
  read: (literal: string) => T,
  compare: (a: T, b: T) => number,
): ReferenceVerdict {
  if (column.min !== undefined && compare(value, read(String(column.min))) < 0) return 'min';
  if (column.max !== undefined && compare(value, read(String(column.max))) > 0) return 'max';
  return 'ok';
}

const compareBigInt = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// int / bigint: "optional sign and ASCII digits; 32-bit / 64-bit range".

const INTEGER_SHAPE = /^[+-]?[0-9]+$/;

function judgeInteger(column: ReferenceColumn, cell: string, bits: bigint): ReferenceVerdict {
  if (!INTEGER_SHAPE.test(cell)) return 'type';
  const value = BigInt(cell); // the shape is checked: BigInt reads a sign and leading zeros exactly
  const half = 2n ** (bits - 1n);
  if (value < -half || value > half - 1n) return 'range';
  return judgeBounds(column, value, (text) => BigInt(text), compareBigInt);
}

// ---------------------------------------------------------------------------------------------
// double: "plain or scientific notation (3.14, .5, 1e-3); finite; no NaN/Infinity".

/** Sign, digits with an optional point (at least one digit on a side), optional exponent. */
const DOUBLE_SHAPE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;

/**
 * The least magnitude that rounds to infinity in binary64: halfway between the largest double
 * (2^1024 − 2^971) and 2^1024, where round-half-to-even goes up (the largest double's significand
 * is odd).
 */
const OVERFLOW_THRESHOLD = 2n ** 1024n - 2n ** 970n;
const OVERFLOW_DIGITS = OVERFLOW_THRESHOLD.toString().length; // 309

function judgeDouble(column: ReferenceColumn, cell: string): ReferenceVerdict {
  const m = DOUBLE_SHAPE.exec(cell);
  if (!m) return 'type';
  const [, , whole = '', fraction = '', exponentText = '0'] = m;
  if (whole.length + fraction.length === 0) return 'type'; // `.`, `e5`, `+.e1`
  const significand = BigInt(`${whole}${fraction}`);
  // value = significand × 10^exponent, exactly
  const exponent = BigInt(exponentText) - BigInt(fraction.length);
  if (significand !== 0n && overflows(significand, exponent)) return 'range';
  // Bounds compare what is stored: the double nearest the text, as JavaScript's Number reads it.
  return judgeBounds(column, Number(cell), Number, (a, b) => a - b);
}

/** Whether |significand × 10^exponent| (significand > 0) rounds to infinity as a double. */
function overflows(significand: bigint, exponent: bigint): boolean {
  // Order of magnitude first, so that `1e999999999` never builds a billion-digit power of ten.
  const magnitude = BigInt(significand.toString().length) + exponent; // value < 10^magnitude
  if (magnitude < BigInt(OVERFLOW_DIGITS)) return false;
  if (magnitude > BigInt(OVERFLOW_DIGITS) + 1n) return true;
  return exponent >= 0n
    ? significand * 10n ** exponent >= OVERFLOW_THRESHOLD
    : significand >= OVERFLOW_THRESHOLD * 10n ** -exponent;
}

// ---------------------------------------------------------------------------------------------
// decimal(p,s): "plain notation, at most s fraction digits (trailing zeros count) and p − s integer
// digits: never rounded".

const DECIMAL_SHAPE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;

/** An exact decimal as a rational: numerator / 10^denominatorExponent. */
interface Rational {
  readonly numerator: bigint;
  readonly denominatorExponent: bigint;
}

/** Reads a plain-notation decimal as an exact rational, or undefined when it is not one. */
function readDecimal(text: string): { value: Rational; whole: string; fraction: string } | undefined {
  const m = DECIMAL_SHAPE.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', fraction = ''] = m;
  if (whole.length + fraction.length === 0) return undefined; // ``, `-`, `.`
  const magnitude = BigInt(`0${whole}${fraction}`);
  return {
    value: {
      numerator: sign === '-' ? -magnitude : magnitude,
      denominatorExponent: BigInt(fraction.length),
    },
    whole,
    fraction,
  };
}

/** a/10^i against b/10^j, cross-multiplied: no scale is assumed. */
function compareRational(a: Rational, b: Rational): number {
  return compareBigInt(
    a.numerator * 10n ** b.denominatorExponent,
    b.numerator * 10n ** a.denominatorExponent,
  );
}

function judgeDecimal(column: ReferenceColumn, cell: string): ReferenceVerdict {
  const read = readDecimal(cell);
  if (!read) return 'type';
  const precision = column.precision ?? 38;
  const scale = column.scale ?? 0;
  if (read.fraction.length > scale) return 'decimal_scale';
  // Leading zeros are not significant: `000123.45` has 3 integer digits, `0.5` none.
  const integerDigits = read.whole.replace(/^0+/, '').length;
  if (integerDigits > precision - scale) return 'decimal_precision';
  return judgeBounds(column, read.value, (text) => readDecimal(text)!.value, compareRational);
}

// ---------------------------------------------------------------------------------------------
// date: "YYYY-MM-DD, a real calendar date, years 0001–9999".

const DATE_SHAPE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/**
 * The UTC midnight of a proleptic Gregorian date as epoch milliseconds, or undefined when the
 * day does not exist: `Date` rolls 2023-02-29 over to March 1st, so a date is real exactly when
 * it reads back unchanged. `setUTCFullYear`, because `Date.UTC` maps years 0–99 to 1900–1999.
 */
function calendarMillis(year: number, month: number, day: number): number | undefined {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  const same = d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
  return same ? d.getTime() : undefined;
}

function judgeDate(column: ReferenceColumn, cell: string): ReferenceVerdict {
  const m = DATE_SHAPE.exec(cell);
  if (!m) return 'type';
  if (calendarMillis(Number(m[1]), Number(m[2]), Number(m[3])) === undefined) return 'calendar_date';
  // Fixed-width YYYY-MM-DD orders as text exactly as it does as a date.
  return judgeBounds(
    column,
    cell,
    (text) => text,
    (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  );
}

// ---------------------------------------------------------------------------------------------
// timestamp: "YYYY-MM-DDTHH:MM:SS (T or space), optional .f up to 6 digits, optional Z or ±HH:MM
// (none = UTC); stored as UTC".

const TIMESTAMP_HEAD = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})/;
const TIMESTAMP_TAIL = /^(?:\.([0-9]{1,6}))?(Z|([+-])([0-9]{2}):([0-9]{2}))?$/;

const MICROS_PER_MILLI = 1000n;
/** The stored range, as UTC instants: [0001-01-01T00:00:00Z, 10000-01-01T00:00:00Z). */
const FIRST_MICROS = BigInt(calendarMillis(1, 1, 1)!) * MICROS_PER_MILLI;
const END_MICROS = (BigInt(calendarMillis(9999, 12, 31)!) + 86_400_000n) * MICROS_PER_MILLI;

/** A timestamp's UTC instant in epoch microseconds, or the rule it breaks. */
function readTimestamp(text: string): bigint | ReferenceRule {
  const head = TIMESTAMP_HEAD.exec(text);
  if (!head) return 'type';
  const [y, mo, d, h, mi, s] = head.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const midnight = calendarMillis(y, mo, d);
  // No 24:00:00 and no leap second: a time of day is 00:00:00–23:59:59.
  if (midnight === undefined || h > 23 || mi > 59 || s > 59) return 'calendar_date';
  const tail = TIMESTAMP_TAIL.exec(text.slice(head[0].length));
  if (!tail) return 'type';
  const [, fraction = '', zone = 'Z', offsetSign, offsetHours = '0', offsetMinutes = '0'] = tail;
  const oh = Number(offsetHours);
  const om = Number(offsetMinutes);
  if (om > 59 || oh * 60 + om > 18 * 60) return 'range';
  const offsetMicros =
    BigInt((oh * 60 + om) * 60) * 1_000_000n * (zone !== 'Z' && offsetSign === '-' ? -1n : 1n);
  const local =
    BigInt(midnight) * MICROS_PER_MILLI +
    BigInt((h * 60 + mi) * 60 + s) * 1_000_000n +
    BigInt(fraction.padEnd(6, '0'));
  const instant = local - offsetMicros; // 10:00+05:30 is 04:30Z
  if (instant < FIRST_MICROS || instant >= END_MICROS) return 'range';
  return instant;
}

function judgeTimestamp(column: ReferenceColumn, cell: string): ReferenceVerdict {
  const instant = readTimestamp(cell);
  if (typeof instant === 'string') return instant;
  return judgeBounds(
    column,
    instant,
    (text) => {
      const bound = readTimestamp(text);
      if (typeof bound === 'string') throw new Error(`invalid timestamp bound ${JSON.stringify(text)}`);
      return bound;
    },
    compareBigInt,
  );
}

// ---------------------------------------------------------------------------------------------
// string: "any UTF-8 text"; enum "allowed values", pattern "a JavaScript regular expression
// (unanchored unless you anchor it, as in JSON Schema)", maxLength "length in characters".

const compiledPatterns = new Map<string, RegExp>();

function judgeString(column: ReferenceColumn, cell: string): ReferenceVerdict {
  if (column.maxLength !== undefined && [...cell].length > column.maxLength) return 'max_length';
  if (column.enum !== undefined && !column.enum.includes(cell)) return 'enum';
  if (column.pattern !== undefined) {
    let regex = compiledPatterns.get(column.pattern);
    if (!regex) {
      regex = new RegExp(column.pattern, 'u');
      compiledPatterns.set(column.pattern, regex);
    }
    // search, not test: no lastIndex state, and "unanchored" is literally "found anywhere".
    if (cell.search(regex) < 0) return 'pattern';
  }
  return 'ok';
}
