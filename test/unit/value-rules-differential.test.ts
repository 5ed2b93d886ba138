/**
 * Differential test of the value rules: the validator against a specification-style reference.
 *
 * A seeded generator writes CSV files of several typed columns, each column declared from a
 * catalogue that covers every type and every constraint, and fills them with values near each
 * boundary (valid and invalid on either side), malformed look-alikes, nulls, quoted empty strings
 * and random values. The real validator (`validateCsv`, fed in random chunks) reads every file; each
 * cell's verdict, `ok` or the rule it breaks, keyed by line and column, must equal the verdict of
 * `test/reference/value-rules-reference.ts`, which shares no code with the validator.
 *
 * The seeds are fixed so that CI replays the same files; `VALUE_RULES_SEED=123` (or `1,2,3`)
 * runs others, and every failure names its seed. The generator's own coverage is asserted (each
 * type with valid and invalid values, each rule expected many times), so the test cannot shrink
 * to something that passes without looking.
 */
import { describe, expect, it } from 'vitest';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';
import {
  type ReferenceColumn,
  type ReferenceRule,
  type ReferenceType,
  type ReferenceVerdict,
  referenceVerdict,
} from '../reference/value-rules-reference.ts';
import { type Random as SeededRandom, random as seededRandom } from '../seeded-random.ts';

// ---------------------------------------------------------------------------------------------
// Seeds and randomness

const DEFAULT_SEEDS = [20261201, 4242];

/** The seeds of this run: `VALUE_RULES_SEED` (comma-separated integers) or the fixed defaults. */
function runSeeds(): number[] {
  const text = process.env.VALUE_RULES_SEED;
  if (!text) return DEFAULT_SEEDS;
  return text.split(',').map((part) => {
    const seed = Number(part.trim());
    if (!Number.isSafeInteger(seed)) throw new Error(`VALUE_RULES_SEED: "${part}" is not an integer`);
    return seed;
  });
}

/** The shared seeded choices, plus what these values need. */
interface Random extends SeededRandom {
  shuffle: <T>(items: readonly T[]) => T[];
  /** `length` random ASCII digits, the first one not 0 when `leading` is false. */
  digits: (length: number, leading?: boolean) => string;
}

function random(seed: number): Random {
  const base = seededRandom(seed);
  const { int } = base;
  return {
    ...base,
    shuffle: <T>(items: readonly T[]) => {
      const out = [...items];
      for (let k = out.length - 1; k > 0; k--) {
        const j = int(0, k);
        [out[k], out[j]] = [out[j]!, out[k]!];
      }
      return out;
    },
    digits: (length, leading = true) => {
      let s = '';
      for (let k = 0; k < length; k++) s += String(k === 0 && !leading ? int(1, 9) : int(0, 9));
      return s;
    },
  };
}

/** A random integer in [lo, hi] (near-uniform: 40 random digits reduced modulo the width). */
function between(r: Random, lo: bigint, hi: bigint): bigint {
  return lo + (BigInt(r.digits(40)) % (hi - lo + 1n));
}

/** How many random values a bounded column gets from within its bounds (inclusive). */
const INSIDE = 10;

// ---------------------------------------------------------------------------------------------
// The catalogue of column declarations: every type, every constraint, bounds at the edges.

/** One column declaration (as in `datasets/<name>.json`), with strings to try for its pattern or enum. */
interface Entry {
  readonly decl: ReferenceColumn;
  readonly samples?: readonly string[];
}

const CATALOGUE: readonly Entry[] = [
  { decl: { type: 'int' } },
  { decl: { type: 'int', nullable: false } },
  { decl: { type: 'int', min: -100, max: 100 } },
  { decl: { type: 'int', min: '-2147483648', max: 2147483646 } },
  { decl: { type: 'int', min: 0 } },
  { decl: { type: 'bigint' } },
  { decl: { type: 'bigint', nullable: false, min: 10, max: '9007199254740993' } },
  { decl: { type: 'bigint', min: '-9223372036854775807', max: '9223372036854775806' } },
  // Bounds that are exact doubles: short values may be compared as numbers.
  { decl: { type: 'bigint', min: '-1000000000000000', max: 999999999999999 } },
  { decl: { type: 'double' } },
  { decl: { type: 'double', nullable: false, min: 0, max: 1 } },
  { decl: { type: 'double', min: '-1e308', max: '1.7976931348623157e308' } },
  // 0.1 is not a double: a value compares as the double nearest its text.
  { decl: { type: 'double', min: '-2.5', max: '0.1' } },
  { decl: { type: 'double', min: '1e-300' } },
  { decl: { type: 'decimal', precision: 5, scale: 2 } },
  { decl: { type: 'decimal', precision: 38, scale: 0 } },
  { decl: { type: 'decimal', precision: 38, scale: 38 } },
  { decl: { type: 'decimal', precision: 1, scale: 0, nullable: false } },
  { decl: { type: 'decimal', precision: 3, scale: 3 } },
  { decl: { type: 'decimal', precision: 12, scale: 2, min: '-0.01', max: '99999999.99' } },
  { decl: { type: 'decimal', precision: 18, scale: 6, min: '-5.5', max: 1000 } },
  {
    decl: {
      type: 'decimal',
      precision: 38,
      scale: 10,
      min: '-9999999999999999999999999999.9999999999',
      max: '0.0000000001',
    },
  },
  { decl: { type: 'boolean' } },
  { decl: { type: 'boolean', nullable: false } },
  { decl: { type: 'date' } },
  { decl: { type: 'date', nullable: false, min: '2000-02-29', max: '2030-12-31' } },
  { decl: { type: 'date', min: '0001-01-01', max: '9999-12-31' } },
  { decl: { type: 'date', min: '1900-03-01', max: '2100-02-28' } },
  { decl: { type: 'timestamp' } },
  { decl: { type: 'timestamp', nullable: false } },
  { decl: { type: 'timestamp', min: '2024-01-01T00:00:00Z', max: '2024-12-31T23:59:59.999999Z' } },
  // Bounds with offsets: the instants compared are UTC.
  { decl: { type: 'timestamp', min: '2024-01-01T00:00:00+05:30', max: '2024-06-30 23:00:00-01:00' } },
  { decl: { type: 'timestamp', min: '0001-01-01T00:00:00', max: '9999-12-31T23:59:59.999999' } },
  // Around the epoch: negative instants, and a bound at +14:00.
  {
    decl: { type: 'timestamp', min: '1969-12-31T23:59:59.999999Z', max: '1970-01-01T14:00:00.000001+14:00' },
  },
  { decl: { type: 'string' } },
  { decl: { type: 'string', nullable: false } },
  {
    decl: { type: 'string', enum: ['USD', 'EUR', 'Ünïcode', 'café', '😀'] },
    samples: [
      'usd',
      'Usd',
      'EUR ',
      ' EUR',
      'EU',
      'EURO',
      'ÜNÏCODE',
      'ünïcode',
      'café'.normalize('NFD'),
      '😀 ',
    ],
  },
  {
    decl: { type: 'string', enum: Array.from({ length: 40 }, (_, k) => `v${k}`) },
    samples: ['v0', 'v39', 'v40', 'V1', 'v01', 'v-1', ' v7', 'v7 ', 'v'],
  },
  {
    decl: { type: 'string', pattern: '^[A-Z]{3}-\\d{5}$' },
    samples: [
      'ABC-12345',
      'ZZZ-00000',
      'ABC-1234',
      'ABC-123456',
      'xABC-12345',
      'ABC-12345x',
      'ABC-12345\n',
      '\nABC-12345',
      'abc-12345',
      'ABC-１２３４５',
      'ÄBC-12345',
      'AB-12345',
    ],
  },
  { decl: { type: 'string', pattern: '\\d' }, samples: ['a1b', '1', 'abc', 'a\n1', '١', '５', 'x9'] },
  // `.` matches a code point only with the u flag: 😀😀😀 is 3 characters, 6 UTF-16 units.
  {
    decl: { type: 'string', pattern: '^.{1,3}$' },
    samples: ['a', 'abc', 'abcd', '😀😀😀', '😀😀😀😀', 'a\nb'],
  },
  { decl: { type: 'string', maxLength: 1 } },
  { decl: { type: 'string', maxLength: 3 } },
  { decl: { type: 'string', maxLength: 8, nullable: false } },
  // An enum value longer than maxLength, and the empty string allowed: which rule wins.
  {
    decl: { type: 'string', enum: ['ab', 'abcdef', ''], maxLength: 4 },
    samples: ['abcde', 'abcdefg', 'ABCDEF'],
  },
  {
    decl: { type: 'string', enum: ['A1', 'B2', 'cc'], pattern: '\\d', maxLength: 2 },
    samples: ['cc', 'dd', 'C3', 'A12', 'ccc', 'a1'],
  },
];

// ---------------------------------------------------------------------------------------------
// Values near the boundaries, per type. A cell is the field's text, or null for an unquoted empty
// field; every list holds a null and a quoted empty string.

type Cell = string | null;

const INTEGER_LOOKALIKES = [
  ' ',
  ' 1',
  '1 ',
  '\t1',
  '1.0',
  '1.',
  '.1',
  '1e3',
  '1E3',
  '-',
  '+',
  '--1',
  '+-1',
  '-+1',
  '1-',
  '0x10',
  '0b1',
  '1_000',
  '1,000',
  '١٢', // Arabic-Indic digits
  '１２', // full-width digits
  '²',
  '12a',
  'a12',
  'NaN',
  'Infinity',
  '"1"',
  "'1'",
  '1\n',
];

/** An integer written as it is, with a plus, with leading zeros, and -0/+0 for zero. */
function integerSpellings(value: bigint, r: Random): string[] {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  const sign = negative ? '-' : '';
  const out = [`${sign}${digits}`, `${sign}${'0'.repeat(r.int(1, 25))}${digits}`];
  if (!negative) out.push(`+${digits}`);
  if (value === 0n) out.push('-0', '+0', '-000');
  return out;
}

function integerCells(decl: ReferenceColumn, bits: bigint, r: Random): Cell[] {
  const half = 2n ** (bits - 1n);
  const pivots = [
    0n,
    1n,
    -1n,
    -half,
    -half + 1n,
    -half - 1n,
    half - 1n,
    half - 2n,
    half,
    2n ** 31n - 1n,
    2n ** 31n,
    -(2n ** 31n) - 1n,
    2n ** 53n + 1n,
    2n ** 63n,
    -(2n ** 63n) - 1n,
    2n ** 64n,
  ];
  for (const bound of [decl.min, decl.max]) {
    if (bound === undefined) continue;
    const b = BigInt(bound);
    pivots.push(b - 1n, b, b + 1n);
  }
  const cells: Cell[] = [];
  for (const pivot of pivots) cells.push(...integerSpellings(pivot, r));
  cells.push(...INTEGER_LOOKALIKES);
  cells.push('9'.repeat(r.int(20, 400)), `-${'9'.repeat(r.int(20, 400))}`);
  const width = bits === 32n ? 10 : 19;
  for (let k = 0; k < 12; k++) {
    const sign = r.pick(['', '-', '+']);
    cells.push(`${sign}${r.digits(r.int(1, k < 8 ? width : width + 3), k % 3 !== 0)}`);
  }
  if (decl.min !== undefined || decl.max !== undefined) {
    const lo = decl.min === undefined ? -half : BigInt(decl.min);
    const hi = decl.max === undefined ? half - 1n : BigInt(decl.max);
    for (let k = 0; k < INSIDE; k++) cells.push(...integerSpellings(between(r, lo, hi), r).slice(0, 1));
  }
  return cells;
}

/** The least magnitude a double cannot hold (see the reference): values near it are the overflow edge. */
const OVERFLOW = 2n ** 1024n - 2n ** 970n;

const DOUBLE_EDGES = [
  '0',
  '-0',
  '+0',
  '0.0',
  '-0.0',
  '3.14',
  '.5',
  '-.5',
  '+.5',
  '5.',
  '1.',
  '-1.',
  '.',
  '-.',
  '+.',
  '-',
  '1e',
  '1e+',
  '1e-',
  'e5',
  '.e5',
  '1.e5',
  '1e5',
  '1E+5',
  '1e-3',
  '6.02E+23',
  '1e308',
  '1.7976931348623157e308',
  '1.7976931348623158e308',
  '1.7976931348623159e308',
  '1.8e308',
  '-1.8e308',
  '1e309',
  '-1e309',
  '1e-400',
  '-1e-400',
  '4.9e-324',
  '5e-324',
  '2.4e-324',
  '2.5e-324',
  '1e400000000000',
  '-1e400000000000',
  '0e400000000000',
  '1e-400000000000',
  '0.000e99999',
  `${'1'.padEnd(309, '0')}`, // 1e308 in plain notation
  `${'1'.padEnd(310, '0')}`, // 1e309
  `0.${'0'.repeat(400)}1`,
  `${'0'.repeat(400)}1`,
  OVERFLOW.toString(),
  (OVERFLOW - 1n).toString(),
  `${OVERFLOW - 1n}.999999999999`,
  `${OVERFLOW}.0`,
  `-${OVERFLOW}`,
  `-${OVERFLOW - 1n}`,
  `0.${OVERFLOW}e309`,
  `${OVERFLOW / 10n}.${OVERFLOW % 10n}e1`,
  `${OVERFLOW - 1n}0e-1`,
  'NaN',
  'nan',
  '-NaN',
  'Infinity',
  '-Infinity',
  '+Infinity',
  'inf',
  '0x10',
  '0X1p3',
  '0b1',
  '1_0',
  ' 1',
  '1 ',
  '1,5',
  '1d',
  '1f',
  '++1',
  '--1',
  '1e+-1',
  '1e1.5',
  '1ee1',
  '1.2.3',
  '١',
];

/** The double next to `x` towards +∞ (`up`) or −∞. */
function nextDouble(x: number, up: boolean): number {
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] = bits[0]! + (x > 0 === up ? 1n : -1n);
  return f[0]!;
}

function doubleCells(decl: ReferenceColumn, r: Random): Cell[] {
  const cells: Cell[] = [...DOUBLE_EDGES];
  for (const bound of [decl.min, decl.max]) {
    if (bound === undefined) continue;
    const text = String(bound);
    const b = Number(text);
    const below = nextDouble(b, false);
    const above = nextDouble(b, true);
    cells.push(text, `${text}0`, String(b), b.toExponential(), String(below), String(above));
    cells.push(below.toExponential(20), above.toExponential(20), `${text}000000000000000000001`);
  }
  for (let k = 0; k < 14; k++) {
    const sign = r.pick(['', '-', '+']);
    const whole = r.digits(r.int(k % 4 === 0 ? 0 : 1, 20));
    const fraction = r.chance(0.6) ? `.${r.digits(r.int(whole ? 0 : 1, 20))}` : '';
    const exponent = r.chance(0.5) ? `${r.pick(['e', 'E'])}${r.pick(['', '-', '+'])}${r.int(0, 400)}` : '';
    cells.push(`${sign}${whole}${fraction}${exponent}`);
  }
  // Values inside the bounds, scaled towards zero from one of them, at random precision.
  const finiteBounds = [decl.min, decl.max].filter((b) => b !== undefined).map(Number);
  for (let k = 0; k < (finiteBounds.length > 0 ? INSIDE : 0); k++) {
    const v = r.pick(finiteBounds) * (r.int(0, 1_000_000) / 1_000_000);
    cells.push(r.chance(0.5) ? v.toPrecision(r.int(1, 17)) : v.toExponential(r.int(0, 16)));
  }
  return cells;
}

/** A decimal bound as an integer count of 10^-scale. */
function scaledDecimal(text: string, scale: number): bigint {
  const negative = text.startsWith('-');
  const [whole = '', fraction = ''] = text.replace(/^[+-]/, '').split('.');
  const n = BigInt(`0${whole}${fraction.padEnd(scale, '0')}`);
  return negative ? -n : n;
}

/** A count of 10^-scale as plain notation; `trim` drops trailing fraction zeros. */
function formatScaled(n: bigint, scale: number, trim: boolean): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  let fraction = digits.slice(digits.length - scale);
  if (trim) fraction = fraction.replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

const DECIMAL_LOOKALIKES = [
  '.',
  '-.',
  '+.',
  '-',
  '+',
  '.5',
  '-.5',
  '+.5',
  '5.',
  '0',
  '-0',
  '+0',
  '00',
  '0.',
  '1e2',
  '1E-2',
  '1.5e0',
  '0e0',
  ' 1',
  '1 ',
  '1,5',
  '$1',
  '0x1',
  'NaN',
  'Infinity',
  '--1',
  '+-1',
  '1.2.3',
  '1..2',
  '١',
  '１',
];

function decimalCells(decl: ReferenceColumn, r: Random): Cell[] {
  const precision = decl.precision!;
  const scale = decl.scale!;
  const integer = precision - scale;
  const withFraction = (whole: string, fraction: string) => (fraction ? `${whole}.${fraction}` : whole);
  const largest = withFraction('9'.repeat(integer) || '0', '9'.repeat(scale));
  const cells: Cell[] = [
    ...DECIMAL_LOOKALIKES,
    largest,
    `-${largest}`,
    `+${largest}`,
    `000${largest}`,
    `-000${largest}`,
    withFraction(`1${'0'.repeat(integer)}`, '0'.repeat(scale)), // one integer digit too many
    '9'.repeat(integer + 1),
    withFraction('1', '0'.repeat(scale)),
    `1.${'0'.repeat(scale + 1)}`, // trailing zeros count
    `0.${'0'.repeat(scale + 1)}`,
    `-0.${'0'.repeat(scale)}`,
    `-0.${'0'.repeat(scale + 1)}`,
    `0.${'5'.repeat(scale)}`,
    `.${'1'.repeat(scale + 1)}`,
    `${'1'.repeat(integer + 1)}.${'1'.repeat(scale + 1)}`, // both scale and precision broken
    `${'0'.repeat(integer + 3)}.${'0'.repeat(scale)}`,
  ];
  for (const bound of [decl.min, decl.max]) {
    if (bound === undefined) continue;
    const b = scaledDecimal(String(bound), scale);
    for (const n of [b - 1n, b, b + 1n])
      cells.push(formatScaled(n, scale, false), formatScaled(n, scale, true));
    cells.push(String(bound), `${formatScaled(b, scale, false)}${scale > 0 ? '' : '.'}0`);
  }
  for (let k = 0; k < 14; k++) {
    const sign = r.pick(['', '', '-', '+']);
    const whole = r.digits(r.int(0, integer + (k % 3 === 0 ? 1 : 0)), false);
    const fraction = r.digits(r.int(0, scale + (k % 4 === 0 ? 1 : 0)));
    if (whole || fraction) cells.push(`${sign}${whole}${fraction ? `.${fraction}` : ''}`);
  }
  if (decl.min !== undefined || decl.max !== undefined) {
    const limit = 10n ** BigInt(precision) - 1n; // the largest decimal(p,s), in units of 10^-s
    const lo = decl.min === undefined ? -limit : scaledDecimal(String(decl.min), scale);
    const hi = decl.max === undefined ? limit : scaledDecimal(String(decl.max), scale);
    for (let k = 0; k < INSIDE; k++) cells.push(formatScaled(between(r, lo, hi), scale, r.chance(0.5)));
  }
  return cells;
}

const BOOLEAN_CELLS = [
  'true',
  'false',
  'TRUE',
  'FALSE',
  'True',
  'False',
  't',
  'f',
  'T',
  '1',
  '0',
  'yes',
  'no',
  'on',
  'truee',
  'tru',
  'fals',
  'falsey',
  ' true',
  'true ',
  'false\n',
  'null',
  'ｔｒｕｅ',
  'trUe',
  'tr ue',
];

function booleanCells(r: Random): Cell[] {
  const cells: Cell[] = [...BOOLEAN_CELLS];
  for (let k = 0; k < 8; k++) {
    const word = r.pick(['true', 'false']);
    cells.push([...word].map((c) => (r.chance(0.5) ? c.toUpperCase() : c)).join(''));
  }
  return cells;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A UTC calendar date as YYYY-MM-DD, years 0–9999; undefined outside. */
function formatDate(d: Date): string | undefined {
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) return undefined;
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** UTC midnight of a date (setUTCFullYear: Date.UTC maps years 0–99 to the 1900s). */
function utcDate(y: number, m: number, d: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return date;
}

const LEAP_AND_EDGE_YEARS = [0, 1, 4, 100, 400, 1582, 1900, 1970, 2000, 2023, 2024, 2100, 2400, 9999];
const MONTH_LAST_DAY = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Dates near month ends and leap days, as text (some not real dates: day 00, month 13, Feb 30). */
function nearCalendarEdges(r: Random, count: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const y = r.chance(0.6) ? r.pick(LEAP_AND_EDGE_YEARS) : r.int(1, 9999);
    const m = r.chance(0.4) ? 2 : r.chance(0.1) ? r.pick([0, 13, 99]) : r.int(1, 12);
    const last = MONTH_LAST_DAY[(m + 11) % 12]!;
    const d = r.pick([0, 1, 28, 29, 30, 31, last, last + 1, 32, 99]);
    out.push(`${pad(y, 4)}-${pad(m)}-${pad(d)}`);
  }
  return out;
}

const DATE_LOOKALIKES = [
  '10000-01-01',
  '-0001-01-01',
  '+2024-01-01',
  '2024-1-01',
  '2024-01-1',
  '2024/01/01',
  '20240101',
  '2024-01-01T00:00:00',
  '2024-01-01 00:00:00',
  ' 2024-01-01',
  '2024-01-01 ',
  '２０２４-01-01',
  '2024-0a-01',
  '2024-01-01Z',
  'yyyy-mm-dd',
  '24-01-01',
  '2024-001-01',
  '2024_01_01',
  '2024-01-0１',
];

function dateCells(decl: ReferenceColumn, r: Random): Cell[] {
  const cells: Cell[] = [
    ...DATE_LOOKALIKES,
    '1900-02-29',
    '2000-02-29',
    '2100-02-29',
    '2024-02-29',
    '2023-02-29',
    '0000-01-01',
    '0000-02-29',
    '0001-01-01',
    '9999-12-31',
    '2024-04-31',
    '2024-13-01',
    '2024-00-10',
    ...nearCalendarEdges(r, 40),
  ];
  for (const bound of [decl.min, decl.max]) {
    if (bound === undefined) continue;
    const [y, m, d] = String(bound).split('-').map(Number) as [number, number, number];
    for (const delta of [-1, 0, 1]) {
      const text = formatDate(utcDate(y, m, d + delta));
      if (text) cells.push(text);
    }
  }
  if (decl.min !== undefined && decl.max !== undefined) {
    const [lo, hi] = [decl.min, decl.max].map((b) => {
      const [y, m, d] = String(b).split('-').map(Number) as [number, number, number];
      return BigInt(utcDate(y, m, d).getTime() / 86_400_000);
    }) as [bigint, bigint];
    for (let k = 0; k < INSIDE; k++) {
      const text = formatDate(new Date(Number(between(r, lo, hi)) * 86_400_000));
      if (text) cells.push(text);
    }
  }
  return cells;
}

const MICROS_PER_SECOND = 1_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** A bound's UTC instant in epoch microseconds (the generator's own reading, to place neighbours). */
function boundInstant(text: string): bigint {
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|([+-])(\d\d):(\d\d))?$/.exec(
    text,
  );
  if (!m) throw new Error(`unreadable timestamp bound ${text}`);
  const d = utcDate(Number(m[1]), Number(m[2]), Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = m[9] ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) : 0;
  return (
    BigInt(d.getTime()) * 1000n +
    BigInt((m[7] ?? '').padEnd(6, '0')) -
    BigInt(offset) * 60n * MICROS_PER_SECOND
  );
}

function zoneText(offsetMinutes: number, r: Random): string {
  if (offsetMinutes === 0) return r.pick(['', 'Z', '+00:00', '-00:00']);
  const abs = Math.abs(offsetMinutes);
  return `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An instant written in local time at an offset, with 0–6 fraction digits; undefined beyond year 9999. */
function formatInstant(micros: bigint, offsetMinutes: number, r: Random): string | undefined {
  const local = micros + BigInt(offsetMinutes) * 60n * MICROS_PER_SECOND;
  const seconds = floorDiv(local, MICROS_PER_SECOND);
  const d = new Date(Number(seconds) * 1000);
  const date = formatDate(d);
  if (!date) return undefined;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const six = String(local - seconds * MICROS_PER_SECOND).padStart(6, '0');
  const shortest = six.replace(/0+$/, '').length;
  const digits = r.int(shortest, 6);
  const fraction = digits === 0 ? '' : `.${six.slice(0, digits)}`;
  return `${date}${r.pick(['T', 'T', ' '])}${time}${fraction}${zoneText(offsetMinutes, r)}`;
}

const OFFSETS = [0, 0, 60, -60, 330, 345, -480, 840, -720, 1080, -1080];

const TIMESTAMP_FIXED = [
  '2024-03-01T10:00:00Z',
  '2024-03-01 10:00:00',
  '2024-03-01T10:00:00.123456Z',
  '2024-03-01T10:00:00.1234567Z',
  '2024-03-01T10:00:00.Z',
  '2024-03-01T10:00:00.',
  '2024-03-01T10:00:00z',
  '2024-03-01t10:00:00',
  '2024-03-01_10:00:00',
  '2024-03-01T10:00',
  '2024-03-01T10:00Z',
  '2024-03-01T1:00:00',
  '2024-03-01T10:00:00 Z',
  '2024-03-01T10:00:00UTC',
  '2024-03-01T10:00:00+0530',
  '2024-03-01T10:00:00+05',
  '2024-03-01T10:00:00+5:30',
  '2024-03-01T10:00:00Z+01:00',
  '2024-03-01T10:00:00+05:30Z',
  '2024-03-01T24:00:00Z',
  '2024-03-01T23:59:60Z',
  '2024-03-01T23:60:00',
  '2024-03-01T25:00:00',
  '2024-02-30T10:00:00',
  '2024-02-30T10:00:00+0530', // a calendar error and a malformed offset: which wins
  '2024-02-30T10:00:00.1234567',
  '2024-02-29T23:59:59.999999+14:00',
  '2023-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '0000-12-31T23:59:59-00:01',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:00:00+00:01',
  '0001-01-01T00:00:00-00:01',
  '0001-01-01T00:30:00+01:00',
  '9999-12-31T23:59:59.999999Z',
  '9999-12-31T23:59:59.999999-00:01',
  '9999-12-31T23:59:59+00:01',
  '9999-12-31T23:30:00-01:00',
  '10000-01-01T00:00:00Z',
  '2024-03-01T10:00:00+14:00',
  '2024-03-01T10:00:00-12:00',
  '2024-03-01T10:00:00+18:00',
  '2024-03-01T10:00:00-18:00',
  '2024-03-01T10:00:00+18:01',
  '2024-03-01T10:00:00-18:01',
  '2024-03-01T10:00:00+19:00',
  '2024-03-01T10:00:00+24:00',
  '2024-03-01T10:00:00+99:00',
  '2024-03-01T10:00:00+00:60',
  '2024-03-01T10:00:00-00:00',
  '2024-03-01T10:00:00+ab:00',
  ' 2024-03-01T10:00:00',
  '2024-03-01T10:00:00 ',
  '2024-03-01',
  '2024-03-01T',
];

function timestampCells(decl: ReferenceColumn, r: Random): Cell[] {
  const cells: Cell[] = [...TIMESTAMP_FIXED];
  // Calendar edges in the date part, with random times, fractions and offsets.
  for (const date of nearCalendarEdges(r, 20)) {
    const time = `${pad(r.pick([0, 12, 23, 24, r.int(0, 23)]))}:${pad(r.pick([0, 59, 60, r.int(0, 59)]))}:${pad(r.pick([0, 59, 60, r.int(0, 59)]))}`;
    const fraction = r.chance(0.5) ? '' : `.${r.digits(r.int(0, 7))}`;
    cells.push(`${date}${r.pick(['T', ' '])}${time}${fraction}${zoneText(r.pick(OFFSETS), r)}`);
  }
  // Neighbours of each bound, written at several offsets: an offset moves the UTC instant across it.
  for (const bound of [decl.min, decl.max]) {
    if (bound === undefined) continue;
    const instant = boundInstant(String(bound));
    for (const delta of [-1_000_000n, -1n, 0n, 1n, 1_000_000n]) {
      for (const offset of r.shuffle(OFFSETS).slice(0, 3)) {
        const text = formatInstant(instant + delta, offset, r);
        if (text) cells.push(text);
      }
    }
    cells.push(String(bound));
  }
  for (let k = 0; k < 12; k++) {
    const instant = BigInt(r.int(-62135596800, 253402300799)) * MICROS_PER_SECOND + BigInt(r.int(0, 999999));
    const text = formatInstant(instant, r.pick(OFFSETS), r);
    if (text) cells.push(text);
  }
  if (decl.min !== undefined && decl.max !== undefined) {
    const [lo, hi] = [boundInstant(String(decl.min)), boundInstant(String(decl.max))] as const;
    for (let k = 0; k < INSIDE; k++) {
      const text = formatInstant(between(r, lo, hi), r.pick(OFFSETS), r);
      if (text) cells.push(text);
    }
  }
  return cells;
}

/** Characters of every UTF-8 width, and sequences of several code points that read as one. */
const UNITS = ['a', 'Z', '1', ' ', '\u00e9', 'ß', '日', '€', '😀', '🎉', 'e\u0301', '👍🏽', '\u200b'];
/** What makes a field need quotes (the delimiter and quote are added per file). */
const SPECIAL = [',', ';', '"', "'", '\n', '\r\n', '|', '\t'];

function text(r: Random, codePoints: number): string {
  let s = '';
  while ([...s].length < codePoints) {
    const unit = r.pick(UNITS);
    if ([...s].length + [...unit].length <= codePoints) s += unit;
    else s += 'x';
  }
  return s;
}

function stringCells(entry: Entry, r: Random): Cell[] {
  const { decl } = entry;
  const cells: Cell[] = [' ', ...(entry.samples ?? [])];
  for (let k = 0; k < 10; k++) {
    const special = r.chance(0.5) ? r.pick(SPECIAL) : '';
    cells.push(`${text(r, r.int(0, 6))}${special}${text(r, r.int(0, 3))}`);
  }
  if (decl.maxLength !== undefined) {
    const n = decl.maxLength;
    for (const unit of ['a', '\u00e9', '日', '😀', 'e\u0301', '👍🏽']) {
      for (const length of [n - 1, n, n + 1]) {
        const units = Math.max(0, Math.floor(length / [...unit].length));
        cells.push(unit.repeat(units));
      }
    }
    for (let k = 0; k < 10; k++) cells.push(text(r, r.int(Math.max(0, n - 1), n + 1)));
  }
  for (const value of decl.enum ?? []) {
    cells.push(value, value, value.toUpperCase(), value.toLowerCase(), ` ${value}`, `${value} `);
    cells.push(value.slice(0, -1), `${value}x`, value.normalize('NFD'));
  }
  return cells;
}

/** Nulls and quoted empty strings beside the type's own values: every column meets both, often. */
function cellsFor(entry: Entry, r: Random): Cell[] {
  return [null, null, null, null, '', '', ...typedCells(entry, r)];
}

function typedCells(entry: Entry, r: Random): Cell[] {
  const { decl } = entry;
  switch (decl.type) {
    case 'int':
      return integerCells(decl, 32n, r);
    case 'bigint':
      return integerCells(decl, 64n, r);
    case 'double':
      return doubleCells(decl, r);
    case 'decimal':
      return decimalCells(decl, r);
    case 'boolean':
      return booleanCells(r);
    case 'date':
      return dateCells(decl, r);
    case 'timestamp':
      return timestampCells(decl, r);
    case 'string':
      return stringCells(entry, r);
  }
}

// ---------------------------------------------------------------------------------------------
// Files

interface Dialect {
  readonly delimiter: string;
  readonly quote: string;
}

/** Dialects a producer may declare; `.` and `:` as delimiters force decimals and times into quotes. */
const ORDINARY_DIALECTS: readonly Dialect[] = [
  { delimiter: ',', quote: '"' },
  { delimiter: ',', quote: '"' },
  { delimiter: ';', quote: "'" },
  { delimiter: '\t', quote: '"' },
  { delimiter: '|', quote: '~' },
  { delimiter: '.', quote: '"' },
  { delimiter: ':', quote: "'" },
];

/** Quote characters that are also a value's first character: `++` is then a quoted empty field. */
const SIGN_QUOTE_DIALECTS: readonly Dialect[] = [
  { delimiter: ',', quote: '+' },
  { delimiter: ';', quote: '-' },
];

interface ExpectedCell {
  readonly line: number;
  readonly column: string;
  readonly entry: Entry;
  readonly cell: Cell;
  readonly field: string;
  readonly verdict: ReferenceVerdict;
}

interface GeneratedFile {
  readonly index: number;
  readonly dialect: Dialect;
  readonly json: unknown;
  readonly bytes: Buffer;
  readonly rows: number;
  readonly cells: readonly ExpectedCell[];
  /** Chunk sizes to feed the validator, or empty for the whole file at once. */
  readonly chunks: readonly number[];
}

/** Values of an ignored or retired column: each would break some rule if it were read. */
const UNREAD_CELLS: readonly Cell[] = [
  null,
  '',
  'x',
  'NaN',
  '99999999999999999999',
  '2024-02-30',
  '1.5',
  'a,b;c|d',
  '"q"',
];

/** An RFC 4180 field: quoted when it must be (or at random when it may), doubled quotes inside. */
function writeField(cell: Cell, dialect: Dialect, r: Random): string {
  if (cell === null) return '';
  const { delimiter, quote } = dialect;
  const must =
    cell === '' ||
    cell.includes(delimiter) ||
    cell.includes(quote) ||
    cell.includes('\n') ||
    cell.includes('\r');
  if (!must && !r.chance(0.15)) return cell;
  return `${quote}${cell.replaceAll(quote, quote + quote)}${quote}`;
}

function countLf(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function generateFile(
  index: number,
  entries: readonly Entry[],
  dialects: readonly Dialect[],
  r: Random,
): GeneratedFile {
  const dialect = r.pick(dialects);
  const columns = entries.map((entry, k) => {
    const header = r.chance(0.3) ? `Col ${k}` : undefined;
    // An alias (issue 16): the file names the column by it half the time.
    const alias = r.chance(0.2) ? `Alt ${k}` : undefined;
    const written = alias && r.chance(0.5) ? alias : (header ?? `c${k}`);
    return { entry, name: `c${k}`, header, alias, written, values: r.shuffle(cellsFor(entry, r)) };
  });
  // Cells no rule reads (issue 16): under "extraColumns": "ignore", an undeclared column and a
  // retired int column, filled with values that would break any rule. They must draw no error.
  const ignore = r.chance(0.25);
  const skipped = ignore ? [{ written: 'Extra field' }, { written: 'gone_col' }] : [];
  const json = {
    name: 'generated',
    dialect,
    ...(ignore ? { extraColumns: 'ignore' } : {}),
    columns: [
      ...columns.map(({ entry, name, header, alias }) => ({
        name,
        ...(header ? { header } : {}),
        ...(alias ? { aliases: [alias] } : {}),
        ...entry.decl,
      })),
      ...(ignore ? [{ name: 'gone_col', type: 'int', retired: true }] : []),
    ],
  };
  const order: { written: string; name?: string; entry?: Entry; values?: Cell[] }[] = r.shuffle([
    ...columns,
    ...skipped,
  ]);
  const rows = Math.max(...columns.map((c) => c.values.length)) + r.int(0, 5);
  const newline = r.chance(0.3) ? '\r\n' : '\n';
  let body = `${r.chance(0.1) ? '\uFEFF' : ''}${order.map((c) => writeField(c.written, dialect, r)).join(dialect.delimiter)}${newline}`;
  let line = 1 + countLf(body);
  const cells: ExpectedCell[] = [];
  for (let row = 0; row < rows; row++) {
    const fields: string[] = [];
    for (const c of order) {
      if (!c.values || !c.entry || !c.name) {
        fields.push(writeField(r.pick(UNREAD_CELLS), dialect, r));
        continue;
      }
      // Each value once in a random row, then random repeats to fill the file's rows.
      const cell = row < c.values.length ? c.values[row]! : r.pick(c.values);
      const field = writeField(cell, dialect, r);
      fields.push(field);
      cells.push({
        line,
        column: c.name,
        entry: c.entry,
        cell,
        field,
        verdict: referenceVerdict(c.entry.decl, cell),
      });
    }
    const record = `${fields.join(dialect.delimiter)}${newline}`;
    body += record;
    line += countLf(record);
  }
  const bytes = Buffer.from(body, 'utf8');
  // Whole, in small pieces (values and multi-byte characters split across chunks), or in medium ones.
  const mode = r.int(0, 3);
  const chunks: number[] = [];
  if (mode > 1) {
    for (let at = 0; at < bytes.length; ) {
      const size = mode === 2 ? r.int(1, 64) : r.int(1, 4096);
      chunks.push(size);
      at += size;
    }
  }
  return { index, dialect, json, bytes, rows, cells, chunks };
}

/**
 * The files of one seed: the catalogue shuffled and cut into files of 2–6 columns, `rounds`
 * times over, so that every declaration meets different neighbours, dialects and chunkings.
 */
function generateRun(seed: number, dialects: readonly Dialect[], rounds: number): GeneratedFile[] {
  const r = random(seed);
  const files: GeneratedFile[] = [];
  for (let round = 0; round < rounds; round++) {
    const entries = r.shuffle(CATALOGUE);
    while (entries.length > 0) {
      const width = Math.min(entries.length, r.int(2, 6));
      const group = entries.splice(0, entries.length - width === 1 ? width + 1 : width);
      files.push(generateFile(files.length, group, dialects, r));
    }
  }
  return files;
}

async function* chunked(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  if (sizes.length === 0) {
    yield bytes;
    return;
  }
  let at = 0;
  for (const size of sizes) {
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

interface Mismatch {
  readonly file: number;
  readonly line: number;
  readonly column: string;
  readonly declaration: string;
  readonly dialect: string;
  readonly value: string;
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

/** Runs the validator on every file; the cells (and stray errors) where it and the reference differ. */
async function differences(files: readonly GeneratedFile[]): Promise<Mismatch[]> {
  const mismatches: Mismatch[] = [];
  for (const file of files) {
    const dialect = JSON.stringify(file.dialect);
    let dataset: Dataset;
    try {
      dataset = parseDataset(file.json, 'generated.json');
    } catch (error) {
      // Every catalogue bound is a valid value of its column (the reference says so, below): a
      // refused declaration is a disagreement too, and the other files still get compared.
      mismatches.push({
        file: file.index,
        line: 0,
        column: '-',
        declaration: JSON.stringify(file.json),
        dialect,
        value: '-',
        field: '-',
        expected: 'declaration accepted',
        actual: (error as Error).message,
      });
      continue;
    }
    const actual = new Map<string, string[]>();
    const run = await validateCsv(chunked(file.bytes, file.chunks), dataset, {
      onError: (error) => {
        const key = `${error.line}\u0000${error.column}`;
        actual.set(key, [...(actual.get(key) ?? []), error.rule]);
      },
    });
    const seen = new Set<string>();
    for (const c of file.cells) {
      const key = `${c.line}\u0000${c.column}`;
      seen.add(key);
      const got = (actual.get(key) ?? ['ok']).join('+');
      if (got !== c.verdict) {
        mismatches.push({
          file: file.index,
          line: c.line,
          column: c.column,
          declaration: JSON.stringify(c.entry.decl),
          dialect,
          value: JSON.stringify(c.cell),
          field: JSON.stringify(c.field),
          expected: c.verdict,
          actual: got,
        });
      }
    }
    // An error on no generated cell (a structural one, a wrong line): the file itself was misread.
    for (const [key, rules] of actual) {
      if (seen.has(key)) continue;
      const [line, column] = key.split('\u0000');
      mismatches.push({
        file: file.index,
        line: Number(line),
        column: column ?? 'null',
        declaration: '-',
        dialect,
        value: '-',
        field: '-',
        expected: 'no error',
        actual: rules.join('+'),
      });
    }
    if (run.rows !== file.rows) {
      mismatches.push({
        file: file.index,
        line: 0,
        column: '-',
        declaration: '-',
        dialect,
        value: '-',
        field: '-',
        expected: `${file.rows} rows`,
        actual: `${run.rows} rows`,
      });
    }
  }
  return mismatches;
}

function describeMismatches(seed: number, mismatches: readonly Mismatch[]): string {
  const shown = mismatches
    .slice(0, 40)
    .map(
      (m) =>
        `  file ${m.file} line ${m.line} column ${m.column} ${m.declaration} dialect ${m.dialect}: value ${m.value} (written ${m.field}) reference ${m.expected}, validator ${m.actual}`,
    );
  return [
    `VALUE_RULES_SEED=${seed}: ${mismatches.length} cells where the validator and the reference disagree`,
    ...shown,
    mismatches.length > 40 ? `  … and ${mismatches.length - 40} more` : '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Coverage of the generator itself

interface Coverage {
  files: number;
  cells: number;
  byType: Record<string, { valid: number; invalid: number }>;
  byRule: Record<string, number>;
}

function coverage(files: readonly GeneratedFile[]): Coverage {
  const result: Coverage = { files: files.length, cells: 0, byType: {}, byRule: {} };
  for (const file of files) {
    for (const c of file.cells) {
      result.cells++;
      const type = c.entry.decl.type;
      const counts = result.byType[type] ?? { valid: 0, invalid: 0 };
      result.byType[type] = counts;
      if (c.verdict === 'ok') counts.valid++;
      else counts.invalid++;
      const key = `${type}:${c.verdict}`;
      result.byRule[key] = (result.byRule[key] ?? 0) + 1;
    }
  }
  return result;
}

/** Every verdict each type must be expected to give, many times per seed. */
const REQUIRED_VERDICTS: Record<ReferenceType, readonly ReferenceVerdict[]> = {
  int: ['ok', 'not_null', 'type', 'range', 'min', 'max'],
  bigint: ['ok', 'not_null', 'type', 'range', 'min', 'max'],
  double: ['ok', 'not_null', 'type', 'range', 'min', 'max'],
  decimal: ['ok', 'not_null', 'type', 'decimal_scale', 'decimal_precision', 'min', 'max'],
  boolean: ['ok', 'not_null', 'type'],
  date: ['ok', 'not_null', 'type', 'calendar_date', 'min', 'max'],
  timestamp: ['ok', 'not_null', 'type', 'calendar_date', 'range', 'min', 'max'],
  string: ['ok', 'not_null', 'enum', 'pattern', 'max_length'],
};

const ALL_RULES: readonly ReferenceRule[] = [
  'not_null',
  'type',
  'range',
  'calendar_date',
  'decimal_scale',
  'decimal_precision',
  'enum',
  'pattern',
  'min',
  'max',
  'max_length',
];

// ---------------------------------------------------------------------------------------------

const SEEDS = runSeeds();
/** Rounds over the catalogue per seed: every declaration lands in this many files. */
const ROUNDS = 4;

const runs = new Map<number, GeneratedFile[]>();
function filesOf(seed: number): GeneratedFile[] {
  let files = runs.get(seed);
  if (!files) {
    files = generateRun(seed, ORDINARY_DIALECTS, ROUNDS);
    runs.set(seed, files);
  }
  return files;
}

describe('value rules: the validator against the specification-style reference', () => {
  it.each(SEEDS)('seed %i: every generated cell gets the reference verdict', async (seed) => {
    // Prepare
    const files = filesOf(seed);
    // Act
    const mismatches = await differences(files);
    // Assess
    expect(mismatches.length, describeMismatches(seed, mismatches)).toBe(0);
  });

  // A dialect may declare any ASCII quote character. With `+` or `-`, the quoted empty field `++`
  // is still "a quoted empty field", not a number (README, Values). Kept apart from the test above
  // so that a failure here points at this one cause: values.ts reads the closing quote of an
  // empty int/bigint field as its sign (found by this test; see issue 11).
  it.each(SEEDS)('seed %i: a quote character that is also a sign (+, -) changes no verdict', async (seed) => {
    // Prepare: the whole catalogue once, every file declaring `+` or `-` as its quote character.
    const files = generateRun(seed, SIGN_QUOTE_DIALECTS, 1);
    console.info(`seed ${seed}, sign quotes: ${files.length} files, ${coverage(files).cells} cells`);
    // Act
    const mismatches = await differences(files);
    // Assess
    expect(mismatches.length, describeMismatches(seed, mismatches)).toBe(0);
  });

  it('every declared bound in the catalogue is a valid value of its column, by the reference', () => {
    const bounds = CATALOGUE.flatMap(({ decl }) =>
      [decl.min, decl.max].filter((b) => b !== undefined).map((b) => [JSON.stringify(decl), String(b)]),
    );
    expect(bounds.length).toBeGreaterThanOrEqual(20);
    for (const [decl, bound] of bounds) {
      expect(referenceVerdict(JSON.parse(decl!), bound!), `${bound} in ${decl}`).toBe('ok');
    }
  });

  it.each(SEEDS)('seed %i: the generator covers every type and rule near its boundaries', (seed) => {
    const c = coverage(filesOf(seed));
    const summary = `seed ${seed}: ${c.files} files, ${c.cells} cells; ${JSON.stringify(c.byType)}; ${JSON.stringify(c.byRule)}`;
    console.info(summary);
    expect(c.cells, summary).toBeGreaterThanOrEqual(15_000);
    expect(c.files, summary).toBeGreaterThanOrEqual(30);
    for (const [type, verdicts] of Object.entries(REQUIRED_VERDICTS)) {
      expect(c.byType[type]?.valid ?? 0, `${type} valid, seed ${seed}`).toBeGreaterThanOrEqual(200);
      expect(c.byType[type]?.invalid ?? 0, `${type} invalid, seed ${seed}`).toBeGreaterThanOrEqual(200);
      for (const verdict of verdicts) {
        expect(
          c.byRule[`${type}:${verdict}`] ?? 0,
          `${type}:${verdict}, seed ${seed}`,
        ).toBeGreaterThanOrEqual(15);
      }
    }
    for (const rule of ALL_RULES) {
      const total = Object.entries(c.byRule)
        .filter(([key]) => key.endsWith(`:${rule}`))
        .reduce((sum, [, n]) => sum + n, 0);
      expect(total, `${rule}, seed ${seed}`).toBeGreaterThanOrEqual(50);
    }
  });
});

describe('reference decisions where the README leaves a detail open', () => {
  // Each row pins a choice of the reference, so that it cannot drift to agree with a bug.
  it.each<[ReferenceColumn, Cell, ReferenceVerdict, string]>([
    [{ type: 'int' }, '+5', 'ok', '"optional sign"'],
    [{ type: 'int' }, '-0', 'ok', 'minus zero is zero'],
    [{ type: 'int' }, '0002147483647', 'ok', 'leading zeros are not significant'],
    [{ type: 'int', min: 5 }, '99999999999', 'range', 'the type range before the declared bounds'],
    [{ type: 'int' }, '', 'type', 'a quoted empty string is not a number'],
    [{ type: 'int', nullable: false }, null, 'not_null', 'an unquoted empty field is null'],
    [{ type: 'double' }, '.5', 'ok', 'README example'],
    [{ type: 'double' }, '5.', 'ok', 'a point without fraction digits'],
    [{ type: 'double' }, '1e-400', 'ok', 'underflow is not overflow: finite'],
    [{ type: 'double' }, '1.7976931348623158e308', 'ok', 'rounds down to the largest double'],
    [{ type: 'double' }, '1.8e308', 'range', 'not finite as a double'],
    [{ type: 'double' }, '0x10', 'type', 'hex is neither plain nor scientific'],
    [{ type: 'double', min: 0 }, '-1e-400', 'ok', 'the stored double is -0, which is not below 0'],
    [{ type: 'double', max: 1 }, '1.00000000000000001', 'ok', 'the stored double is 1'],
    [{ type: 'decimal', precision: 5, scale: 2 }, '12.500', 'decimal_scale', 'trailing zeros count'],
    [{ type: 'decimal', precision: 3, scale: 1 }, '123.45', 'decimal_scale', 'scale before precision'],
    [{ type: 'decimal', precision: 2, scale: 2 }, '0.12', 'ok', 'a leading 0 is not an integer digit'],
    [{ type: 'decimal', precision: 2, scale: 0 }, '5.', 'ok', 'no fraction digits'],
    [{ type: 'decimal', precision: 2, scale: 0 }, '.', 'type', 'no digits at all'],
    [{ type: 'decimal', precision: 9, scale: 2 }, '1e2', 'type', 'plain notation only'],
    [{ type: 'boolean' }, 'tRuE', 'ok', '"any case"'],
    [{ type: 'date' }, '0000-01-01', 'calendar_date', 'years 0001–9999: year 0 is not a date'],
    [{ type: 'date' }, '10000-01-01', 'type', 'not YYYY-MM-DD'],
    [{ type: 'date' }, '1900-02-29', 'calendar_date', 'not a leap year'],
    [{ type: 'timestamp' }, '2024-03-01T24:00:00', 'calendar_date', 'no 24:00'],
    [{ type: 'timestamp' }, '2024-03-01T23:59:60', 'calendar_date', 'no leap second'],
    [{ type: 'timestamp' }, '2024-03-01T10:00:00+14:00', 'ok', 'a real offset'],
    [{ type: 'timestamp' }, '2024-03-01T10:00:00+18:01', 'range', 'offsets end at ±18:00'],
    [{ type: 'timestamp' }, '2024-03-01T10:00:00+00:60', 'range', 'offset minutes end at 59'],
    [{ type: 'timestamp' }, '2024-02-30T10:00:00+0530', 'calendar_date', 'date and time before the rest'],
    [{ type: 'timestamp' }, '0001-01-01T00:30:00+01:00', 'range', 'before year 1 in UTC'],
    [{ type: 'timestamp', max: '2024-01-01T00:00:00Z' }, '2024-01-01T01:00:00+01:00', 'ok', 'UTC instants'],
    [{ type: 'timestamp', max: '2024-01-01T00:00:00Z' }, '2024-01-01T00:00:00-00:01', 'max', 'UTC instants'],
    [{ type: 'string', maxLength: 3 }, '😀😀😀', 'ok', 'characters are code points'],
    [{ type: 'string', maxLength: 1 }, 'e\u0301', 'max_length', 'e + combining acute is 2 code points'],
    [{ type: 'string', pattern: '^.{3}$' }, '😀😀😀', 'ok', 'patterns are Unicode-aware (u flag)'],
    [{ type: 'string', pattern: '\\d' }, 'a1b', 'ok', '"unanchored unless you anchor it"'],
    [{ type: 'string', enum: ['abcdef'], maxLength: 4 }, 'abcdef', 'max_length', 'maxLength before enum'],
    [{ type: 'string', enum: ['a'], pattern: 'b' }, 'c', 'enum', 'enum before pattern'],
    [{ type: 'string', enum: ['café'] }, 'café'.normalize('NFD'), 'enum', 'no Unicode normalisation'],
    [{ type: 'string', enum: ['a'] }, '', 'enum', 'an empty string is a value, checked'],
  ])('%j %j → %s (%s)', (column, cell, verdict) => {
    expect(referenceVerdict(column, cell)).toBe(verdict);
  });
});
