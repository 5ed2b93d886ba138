/**
 * The value rules of DESIGN §2, compiled once per column into byte-level checks.
 *
 * A check reads the field's bytes in place (no string is made unless a rule needs one: enum,
 * pattern, min/max of a double, bigint or decimal) and answers the rule a value breaks, or
 * `undefined`. Null handling (an unquoted empty field) is the caller's: checks see non-null values.
 */
import type { Column, ColumnShape } from './model.ts';
import { compilePattern } from './patterns.ts';

/** The rules a single value can break. */
export type ValueRule =
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

/** A compiled check over `bytes[start, end)`: the broken rule, or `undefined` when the value is valid. */
export type ValueCheck = (bytes: Buffer, start: number, end: number) => ValueRule | undefined;

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const COLON = 0x3a;

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
const INT64_MAX_DIGITS = '9223372036854775807';
const INT64_MIN_DIGITS = '9223372036854775808';
const MAX_TS_FRACTION_DIGITS = 6;

/** Integer value of an optionally signed digit run, or NaN when it is not one. Exact up to 2^53. */
function integerValue(b: Buffer, s: number, e: number): number {
  // An empty field must not read the byte after it as a sign: with `+` or `-` as the quote
  // character, that byte is the closing quote of `++` (a quoted empty string, not a number).
  if (s === e) return Number.NaN;
  let i = s;
  let negative = false;
  const first = b[i];
  if (first === MINUS) {
    negative = true;
    i++;
  } else if (first === PLUS) {
    i++;
  }
  if (i === e) return Number.NaN;
  let v = 0;
  for (; i < e; i++) {
    const d = b[i]! - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/** 0 valid, 1 not an integer, 2 outside the signed 64-bit range. */
function bigintStatus(b: Buffer, s: number, e: number): 0 | 1 | 2 {
  if (s === e) return 1; // as in integerValue: the byte at e is not part of the field
  let i = s;
  const negative = b[i] === MINUS;
  if (negative || b[i] === PLUS) i++;
  if (i === e) return 1;
  while (i < e - 1 && b[i] === ZERO) i++; // leading zeros do not count towards the range
  const digits = e - i;
  for (let k = i; k < e; k++) {
    const d = b[k]! - ZERO;
    if (d < 0 || d > 9) return 1;
  }
  if (digits < 19) return 0;
  if (digits > 19) return 2;
  const limit = negative ? INT64_MIN_DIGITS : INT64_MAX_DIGITS;
  for (let k = 0; k < 19; k++) {
    const d = b[i + k]!;
    const l = limit.charCodeAt(k);
    if (d !== l) return d < l ? 0 : 2;
  }
  return 0;
}

/** Shape of a plain or scientific decimal number: -1 when malformed, else its flags. */
const HAS_EXPONENT = 1;
function doubleShape(b: Buffer, s: number, e: number): number {
  let i = s;
  if (b[i] === MINUS || b[i] === PLUS) i++;
  let digits = 0;
  while (i < e && b[i]! >= ZERO && b[i]! <= 0x39) {
    i++;
    digits++;
  }
  if (i < e && b[i] === DOT) {
    i++;
    while (i < e && b[i]! >= ZERO && b[i]! <= 0x39) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return -1;
  if (i === e) return 0;
  if ((b[i]! | 0x20) !== 0x65) return -1; // e or E
  i++;
  if (i < e && (b[i] === MINUS || b[i] === PLUS)) i++;
  if (i === e) return -1;
  while (i < e) {
    const d = b[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
    i++;
  }
  return HAS_EXPONENT;
}

/** Fraction digits of the decimal read last by `decimalIntDigits` (module state: no allocation per value). */
let fractionDigits = 0;

/**
 * Significant integer digits of a plain-notation decimal, or -1 when malformed; its fraction digits
 * land in `fractionDigits`. `12.50` has 2 and 2: trailing zeros count, since a value is never
 * rounded to fit.
 */
function decimalIntDigits(b: Buffer, s: number, e: number): number {
  let i = s;
  if (b[i] === MINUS || b[i] === PLUS) i++;
  while (i < e - 1 && b[i] === ZERO && b[i + 1] !== DOT) i++;
  const intStart = i;
  while (i < e && b[i]! >= ZERO && b[i]! <= 0x39) i++;
  let intDigits = i - intStart;
  const anyInt = intDigits > 0;
  if (intDigits === 1 && b[intStart] === ZERO) intDigits = 0;
  let fracDigits = 0;
  if (i < e && b[i] === DOT) {
    i++;
    const fracStart = i;
    while (i < e && b[i]! >= ZERO && b[i]! <= 0x39) i++;
    fracDigits = i - fracStart;
  }
  if (i !== e || (!anyInt && fracDigits === 0)) return -1;
  fractionDigits = fracDigits;
  return intDigits;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The double of a well-formed plain decimal of at most 15 digits, without making a string: an
 * integer below 2^53 divided by an exact power of ten is correctly rounded (Clinger's fast path),
 * so it equals `Number(text)`.
 */
function shortDecimalValue(b: Buffer, s: number, e: number): number {
  let i = s;
  const negative = b[i] === MINUS;
  if (negative || b[i] === PLUS) i++;
  let m = 0;
  let scale = -1;
  for (; i < e; i++) {
    const c = b[i]!;
    if (c === DOT) scale = 0;
    else {
      m = m * 10 + (c - ZERO);
      if (scale >= 0) scale++;
    }
  }
  const v = scale > 0 ? m / POWERS_OF_TEN[scale]! : m;
  return negative ? -v : v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(b: Buffer, i: number): number {
  const h = b[i]! - ZERO;
  const l = b[i + 1]! - ZERO;
  return h >= 0 && h <= 9 && l >= 0 && l <= 9 ? h * 10 + l : -1;
}

/** `YYYY-MM-DD` at `s` → y*10000+m*100+d; -1 malformed, -2 not a calendar date. */
function dateKey(b: Buffer, s: number): number {
  const y1 = twoDigits(b, s);
  const y2 = twoDigits(b, s + 2);
  const m = twoDigits(b, s + 5);
  const d = twoDigits(b, s + 8);
  if (y1 < 0 || y2 < 0 || m < 0 || d < 0 || b[s + 4] !== MINUS || b[s + 7] !== MINUS) return -1;
  const y = y1 * 100 + y2;
  if (y === 0 || m === 0 || m > 12 || d === 0 || d > daysInMonth(y, m)) return -2;
  return y * 10000 + m * 100 + d;
}

const MS_PER_DAY = 86_400_000;
const FIRST_MS = daysFromCivil(1, 1, 1) * MS_PER_DAY;
const END_MS = daysFromCivil(10000, 1, 1) * MS_PER_DAY;

/** The UTC instant of the timestamp read last: epoch milliseconds and microseconds within the ms. */
let instantMs = 0;
let instantMicros = 0;

/**
 * Reads an ISO 8601 timestamp `YYYY-MM-DD(T| )HH:MM:SS[.f{1,6}][Z|±HH:MM]` (no offset means UTC):
 * the rule it breaks, or undefined with its instant in `instantMs`/`instantMicros`.
 */
function readTimestamp(b: Buffer, s: number, e: number): ValueRule | undefined {
  if (e - s < 19) return 'type';
  const sep = b[s + 10];
  if (sep !== 0x54 && sep !== 0x20) return 'type'; // T or space
  const key = dateKey(b, s);
  if (key === -1) return 'type';
  const h = twoDigits(b, s + 11);
  const mi = twoDigits(b, s + 14);
  const se = twoDigits(b, s + 17);
  if (h < 0 || mi < 0 || se < 0 || b[s + 13] !== COLON || b[s + 16] !== COLON) return 'type';
  if (key === -2 || h > 23 || mi > 59 || se > 59) return 'calendar_date';
  let i = s + 19;
  let micros = 0;
  if (i < e && b[i] === DOT) {
    i++;
    const start = i;
    while (i < e && b[i]! >= ZERO && b[i]! <= 0x39) {
      micros = micros * 10 + (b[i]! - ZERO);
      i++;
    }
    const n = i - start;
    if (n === 0 || n > MAX_TS_FRACTION_DIGITS) return 'type';
    for (let k = n; k < MAX_TS_FRACTION_DIGITS; k++) micros *= 10;
  }
  let offsetMinutes = 0;
  if (i < e) {
    const c = b[i];
    if (c === 0x5a && i + 1 === e) {
      i++;
    } else if ((c === PLUS || c === MINUS) && e - i === 6 && b[i + 3] === COLON) {
      const oh = twoDigits(b, i + 1);
      const om = twoDigits(b, i + 4);
      if (oh < 0 || om < 0) return 'type';
      if (oh > 18 || om > 59 || (oh === 18 && om > 0)) return 'range';
      offsetMinutes = (c === MINUS ? -1 : 1) * (oh * 60 + om);
      i = e;
    } else {
      return 'type';
    }
  }
  const y = Math.floor(key / 10000);
  const days = daysFromCivil(y, Math.floor(key / 100) % 100, key % 100);
  const ms = days * MS_PER_DAY + ((h * 60 + mi - offsetMinutes) * 60 + se) * 1000 + Math.floor(micros / 1000);
  if (ms < FIRST_MS || ms >= END_MS) return 'range';
  instantMs = ms;
  instantMicros = micros % 1000;
  return undefined;
}

/** Number of Unicode code points in UTF-8 bytes (continuation bytes are not counted). */
function codePoints(b: Buffer, s: number, e: number): number {
  let n = 0;
  for (let i = s; i < e; i++) if ((b[i]! & 0xc0) !== 0x80) n++;
  return n;
}

/** Compiles the checks of one column into a single function (null handling excluded). */
export function compileValueCheck(col: Column): ValueCheck {
  const typeCheck = compileTypeCheck(col);
  if (col.type !== 'string') return typeCheck;
  const { maxLength, pattern } = col;
  const inEnum = col.enum ? enumMatcher(col.enum) : undefined;
  const regex = pattern === undefined ? undefined : compilePattern(pattern);
  if (maxLength === undefined && !inEnum && !regex) return () => undefined;
  return (b, s, e) => {
    if (maxLength !== undefined && e - s > maxLength && codePoints(b, s, e) > maxLength) return 'max_length';
    if (inEnum && !inEnum(b, s, e)) return 'enum';
    if (regex && !regex.test(b.toString('utf8', s, e))) return 'pattern';
    return undefined;
  };
}

/** Membership in an enum: bytes compared in place for short lists, a string set for long ones. */
function enumMatcher(values: readonly string[]): (b: Buffer, s: number, e: number) => boolean {
  if (values.length > 16) {
    const set = new Set(values);
    return (b, s, e) => set.has(b.toString('utf8', s, e));
  }
  const encoded = values.map((v) => Buffer.from(v, 'utf8'));
  return (b, s, e) => {
    const n = e - s;
    for (const v of encoded) {
      if (v.length !== n) continue;
      let k = 0;
      while (k < n && v[k] === b[s + k]) k++;
      if (k === n) return true;
    }
    return false;
  };
}

/** Type and min/max checks for every type; strings pass (their own rules are added above). */
function compileTypeCheck(col: Column): ValueCheck {
  const hasMin = col.min !== undefined;
  const hasMax = col.max !== undefined;
  const bounded = hasMin || hasMax;
  switch (col.type) {
    case 'string':
      return () => undefined;
    case 'boolean':
      return (b, s, e) => {
        const n = e - s;
        if (n === 4) {
          return (b[s]! | 0x20) === 0x74 &&
            (b[s + 1]! | 0x20) === 0x72 &&
            (b[s + 2]! | 0x20) === 0x75 &&
            (b[s + 3]! | 0x20) === 0x65
            ? undefined
            : 'type';
        }
        if (n === 5) {
          return (b[s]! | 0x20) === 0x66 &&
            (b[s + 1]! | 0x20) === 0x61 &&
            (b[s + 2]! | 0x20) === 0x6c &&
            (b[s + 3]! | 0x20) === 0x73 &&
            (b[s + 4]! | 0x20) === 0x65
            ? undefined
            : 'type';
        }
        return 'type';
      };
    case 'int': {
      const min = hasMin ? Number(col.min) : INT32_MIN;
      const max = hasMax ? Number(col.max) : INT32_MAX;
      return (b, s, e) => {
        const v = integerValue(b, s, e);
        if (Number.isNaN(v)) return 'type';
        if (v < INT32_MIN || v > INT32_MAX) return 'range';
        if (v < min) return 'min';
        if (v > max) return 'max';
        return undefined;
      };
    }
    case 'bigint': {
      const min = hasMin ? BigInt(col.min!) : undefined;
      const max = hasMax ? BigInt(col.max!) : undefined;
      // Below 16 digits a value is an exact double: compare it as one when the bounds are too.
      const minNumber = min === undefined ? Number.NEGATIVE_INFINITY : Number(min);
      const maxNumber = max === undefined ? Number.POSITIVE_INFINITY : Number(max);
      const exactBounds =
        (min === undefined || BigInt(minNumber) === min) && (max === undefined || BigInt(maxNumber) === max);
      return (b, s, e) => {
        const status = bigintStatus(b, s, e);
        if (status === 1) return 'type';
        if (status === 2) return 'range';
        if (!bounded) return undefined;
        if (exactBounds && e - s < 16) {
          const n = integerValue(b, s, e);
          return n < minNumber ? 'min' : n > maxNumber ? 'max' : undefined;
        }
        const v = BigInt(b.toString('latin1', s, e));
        if (min !== undefined && v < min) return 'min';
        if (max !== undefined && v > max) return 'max';
        return undefined;
      };
    }
    case 'double': {
      const min = hasMin ? Number(col.min) : Number.NEGATIVE_INFINITY;
      const max = hasMax ? Number(col.max) : Number.POSITIVE_INFINITY;
      return (b, s, e) => {
        const shape = doubleShape(b, s, e);
        if (shape < 0) return 'type';
        // Only an exponent or a very long digit run can overflow a double.
        if (!bounded && shape === 0 && e - s < 300) return undefined;
        const v =
          shape === 0 && e - s <= 15 ? shortDecimalValue(b, s, e) : Number(b.toString('latin1', s, e));
        if (!Number.isFinite(v)) return 'range';
        if (v < min) return 'min';
        if (v > max) return 'max';
        return undefined;
      };
    }
    case 'decimal': {
      const precision = col.precision!;
      const scale = col.scale!;
      const scaled = (text: string) => {
        const [whole = '', fraction = ''] = text.replace('+', '').split('.');
        const negative = whole.startsWith('-');
        const digits = `${negative ? whole.slice(1) : whole}${fraction.padEnd(scale, '0')}` || '0';
        return negative ? -BigInt(digits) : BigInt(digits);
      };
      const min = hasMin ? scaled(String(col.min)) : undefined;
      const max = hasMax ? scaled(String(col.max)) : undefined;
      return (b, s, e) => {
        const intDigits = decimalIntDigits(b, s, e);
        if (intDigits < 0) return 'type';
        if (fractionDigits > scale) return 'decimal_scale';
        if (intDigits > precision - scale) return 'decimal_precision';
        if (!bounded) return undefined;
        const v = scaled(b.toString('latin1', s, e));
        if (min !== undefined && v < min) return 'min';
        if (max !== undefined && v > max) return 'max';
        return undefined;
      };
    }
    case 'date': {
      const min = hasMin ? literalDateKey(String(col.min)) : 0;
      const max = hasMax ? literalDateKey(String(col.max)) : Number.POSITIVE_INFINITY;
      return (b, s, e) => {
        if (e - s !== 10) return 'type';
        const key = dateKey(b, s);
        if (key === -1) return 'type';
        if (key === -2) return 'calendar_date';
        if (key < min) return 'min';
        if (key > max) return 'max';
        return undefined;
      };
    }
    case 'timestamp': {
      const min = hasMin ? literalInstant(String(col.min)) : undefined;
      const max = hasMax ? literalInstant(String(col.max)) : undefined;
      if (!bounded) return readTimestamp;
      return (b, s, e) => {
        const rule = readTimestamp(b, s, e);
        if (rule !== undefined) return rule;
        if (min && (instantMs < min[0] || (instantMs === min[0] && instantMicros < min[1]))) return 'min';
        if (max && (instantMs > max[0] || (instantMs === max[0] && instantMicros > max[1]))) return 'max';
        return undefined;
      };
    }
  }
}

function literalDateKey(text: string): number {
  return dateKey(Buffer.from(text, 'latin1'), 0);
}

/** The UTC instant of a valid timestamp literal: epoch milliseconds and microseconds within the ms. */
export function literalInstant(text: string): [number, number] {
  if (readTimestamp(Buffer.from(text, 'latin1'), 0, text.length))
    throw new Error(`invalid timestamp ${text}`);
  return [instantMs, instantMicros];
}

/**
 * Checks a literal (a declared min/max) against a column's type rules; the problem as text, or
 * `undefined` when valid. Shares the compiled checks, so declarations obey the same rules as data.
 */
export function checkLiteral(col: ColumnShape, text: string): string | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const rule = compileTypeCheck({ ...col, nullable: true, name: 'literal' } as Column)(
    bytes,
    0,
    bytes.length,
  );
  return rule === undefined ? undefined : describeRule(col, rule);
}

/** What a value rule demands of a column, as a sentence fragment for error messages. */
export function describeRule(col: Column | ColumnShape, rule: ValueRule): string {
  const c = col as Partial<Column> & ColumnShape;
  switch (rule) {
    case 'not_null':
      return 'the column is not nullable and the field is empty';
    case 'type':
      return TYPE_EXPECTATION[c.type](c);
    case 'range':
      return RANGE_EXPECTATION[c.type];
    case 'calendar_date':
      return 'not a real calendar date or time of day';
    case 'decimal_scale':
      return `more than ${c.scale} fraction digits (values are never rounded)`;
    case 'decimal_precision':
      return `more than ${c.precision! - c.scale!} integer digits for decimal(${c.precision},${c.scale})`;
    case 'enum':
      return `not one of ${(c.enum ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `does not match the pattern /${c.pattern}/`;
    case 'min':
      return `less than the minimum ${c.min}`;
    case 'max':
      return `greater than the maximum ${c.max}`;
    case 'max_length':
      return `longer than ${c.maxLength} characters`;
  }
}

const TYPE_EXPECTATION: Record<Column['type'], (c: ColumnShape) => string> = {
  string: () => 'expected a string',
  int: () => 'expected a whole number (32-bit), e.g. 42 or -7',
  bigint: () => 'expected a whole number (64-bit), e.g. 9000000000',
  double: () => 'expected a number in plain or scientific notation, e.g. 3.14 or 1e-3',
  decimal: (c) => `expected a plain decimal number for decimal(${c.precision},${c.scale}), e.g. 12.34`,
  boolean: () => 'expected true or false',
  date: () => 'expected a date as YYYY-MM-DD',
  timestamp: () =>
    'expected an ISO 8601 timestamp YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM] (at most 6 fraction digits)',
};

const RANGE_EXPECTATION: Record<Column['type'], string> = {
  string: '',
  int: 'outside the 32-bit integer range -2147483648..2147483647',
  bigint: 'outside the 64-bit integer range -9223372036854775808..9223372036854775807',
  double: 'too large for a double',
  decimal: '',
  boolean: '',
  date: '',
  timestamp: 'outside years 0001–9999 in UTC, or an offset beyond ±18:00',
};
