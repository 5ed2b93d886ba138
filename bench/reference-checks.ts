/**
 * The value rules of DESIGN §2 written a second and a third time, for the two reference pipelines
 * of the benchmark: a zod row schema (fed by csv-parse) and DuckDB SQL over all-VARCHAR columns.
 *
 * Both are derived from the same dataset declaration as the validator but written from the rule
 * text, not from lib/datasets/values.ts: the cross-check of validate.bench.ts then compares three
 * implementations, which is what makes "they do the same work" a measured claim.
 */
import { z } from 'zod';
import type { Column, Dataset } from '../lib/datasets/model.ts';

// Shapes as the rules state them. No z.coerce anywhere: coercion accepts "" as 0 and misses errors.
const INTEGER = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL = /^[+-]?(\d*)(?:\.(\d*))?$/;
const BOOLEAN = /^(?:true|false)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|([+-])(\d{2}):(\d{2}))?$/;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MINUTES_PER_DAY = 1440;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** A proleptic Gregorian date of years 0001–9999 (year 0 does not exist in ISO calendar dates here). */
function isCalendarDate(y: number, m: number, d: number): boolean {
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** Whether `text` is a valid timestamp of the rules: shape, calendar, time of day, offset, UTC range. */
export function isTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!isCalendarDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return false;
  let offset = 0;
  if (m[7]) {
    const oh = Number(m[8]);
    const om = Number(m[9]);
    if (oh > 18 || om > 59) return false;
    offset = (m[7] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Stored as UTC within years 0001–9999: an offset (< 1 day) can only push the first or last
  // calendar day out of range, so whole minutes of that day decide it (seconds cannot cross).
  const utcMinutes = h * 60 + mi - offset;
  if (y === 1 && mo === 1 && d === 1 && utcMinutes < 0) return false;
  if (y === 9999 && mo === 12 && d === 31 && utcMinutes >= MINUTES_PER_DAY) return false;
  return true;
}

function isDate(text: string): boolean {
  const m = DATE.exec(text);
  return m !== null && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Plain notation, at most `scale` fraction digits (trailing zeros count), ≤ precision−scale integer digits. */
function isDecimal(text: string, precision: number, scale: number): boolean {
  const m = DECIMAL.exec(text);
  if (!m) return false;
  const whole = m[1] ?? '';
  const fraction = m[2] ?? '';
  if (whole === '' && fraction === '') return false;
  return fraction.length <= scale && whole.replace(/^0+/, '').length <= precision - scale;
}

/** A decimal as an integer count of 10^-scale units, for exact min/max comparison. */
function scaledDecimal(text: string, scale: number): bigint {
  const negative = text.startsWith('-');
  const [whole = '', fraction = ''] = text.replace(/^[+-]/, '').split('.');
  const units = BigInt(`${whole}${fraction.padEnd(scale, '0')}` || '0');
  return negative ? -units : units;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function unsupported(col: Column, what: string): Error {
  return new Error(`bench reference checks: ${what} on ${col.type} column "${col.name}" is not implemented`);
}

/** The zod schema of one column's non-null values (nullability is applied by `zodRowSchema`). */
export function zodColumn(col: Column): z.ZodString {
  const s = z.string();
  switch (col.type) {
    case 'string': {
      let out = s;
      const { maxLength, pattern } = col;
      // zod's .max() counts UTF-16 units; the rule counts code points.
      if (maxLength !== undefined)
        out = out.refine((v) => v.length <= maxLength || codePoints(v) <= maxLength);
      if (col.enum) {
        const allowed = new Set(col.enum);
        out = out.refine((v) => allowed.has(v));
      }
      if (pattern !== undefined) out = out.regex(new RegExp(pattern, 'u'));
      return out;
    }
    case 'int': {
      const lo = Math.max(INT32_MIN, col.min === undefined ? INT32_MIN : Number(col.min));
      const hi = Math.min(INT32_MAX, col.max === undefined ? INT32_MAX : Number(col.max));
      // abort: the range refinement must not run on text that is not an integer.
      return s.regex(INTEGER, { abort: true }).refine((v) => {
        const n = Number(v);
        return n >= lo && n <= hi;
      });
    }
    case 'bigint': {
      const lo = col.min === undefined ? INT64_MIN : BigInt(col.min);
      const hi = col.max === undefined ? INT64_MAX : BigInt(col.max);
      return s.regex(INTEGER, { abort: true }).refine((v) => {
        const n = BigInt(v);
        return n >= INT64_MIN && n <= INT64_MAX && n >= lo && n <= hi;
      });
    }
    case 'double': {
      const lo = col.min === undefined ? Number.NEGATIVE_INFINITY : Number(col.min);
      const hi = col.max === undefined ? Number.POSITIVE_INFINITY : Number(col.max);
      return s.regex(DOUBLE, { abort: true }).refine((v) => {
        const n = Number(v);
        return Number.isFinite(n) && n >= lo && n <= hi;
      });
    }
    case 'decimal': {
      const precision = col.precision!;
      const scale = col.scale!;
      const lo = col.min === undefined ? undefined : scaledDecimal(String(col.min), scale);
      const hi = col.max === undefined ? undefined : scaledDecimal(String(col.max), scale);
      return s.refine((v) => {
        if (!isDecimal(v, precision, scale)) return false;
        if (lo === undefined && hi === undefined) return true;
        const n = scaledDecimal(v, scale);
        return (lo === undefined || n >= lo) && (hi === undefined || n <= hi);
      });
    }
    case 'boolean':
      return s.regex(BOOLEAN);
    case 'date': {
      // Canonical YYYY-MM-DD strings order like the dates they name.
      const lo = col.min === undefined ? undefined : String(col.min);
      const hi = col.max === undefined ? undefined : String(col.max);
      return s.refine((v) => isDate(v) && (lo === undefined || v >= lo) && (hi === undefined || v <= hi));
    }
    case 'timestamp':
      if (col.min !== undefined || col.max !== undefined) throw unsupported(col, 'min/max');
      return s.refine(isTimestamp);
  }
}

/** A zod object schema of one row keyed by column name: null stands for an unquoted empty field. */
export function zodRowSchema(dataset: Dataset): z.ZodObject<Record<string, z.ZodType>> {
  const shape: Record<string, z.ZodType> = {};
  for (const col of dataset.columns) {
    const values = zodColumn(col);
    shape[col.name] = col.nullable ? values.nullable() : values;
  }
  return z.object(shape);
}

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const sqlIdent = (text: string): string => `"${text.replaceAll('"', '""')}"`;

// RE2 (DuckDB) spellings of the shapes above; regexp_full_match anchors them.
const SQL_INTEGER = sqlString('[+-]?[0-9]+');
const SQL_DOUBLE = sqlString('[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?');
const SQL_DATE = sqlString('[0-9]{4}-[0-9]{2}-[0-9]{2}');
// Time of day and offset ranges are in the pattern; the calendar part is checked with a DATE cast.
const SQL_TIMESTAMP = sqlString(
  '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-8]):[0-5][0-9])?',
);

function sqlBounds(value: string, col: Column, literal: (bound: string | number) => string): string {
  const parts: string[] = [];
  if (col.min !== undefined) parts.push(`${value} < ${literal(col.min)}`);
  if (col.max !== undefined) parts.push(`${value} > ${literal(col.max)}`);
  return parts.length ? ` OR ${parts.join(' OR ')}` : '';
}

/**
 * SQL that is true when the non-null VARCHAR `v` breaks one of the column's rules. DuckDB's casts
 * alone are laxer than the rules (`1e3` as an integer, `12.345` rounded into DECIMAL(12,2), `yes` as
 * boolean, `2024-1-1` as a date), so every cast is guarded by an exact pattern.
 */
function sqlViolation(col: Column, v: string): string {
  switch (col.type) {
    case 'string': {
      const parts: string[] = [];
      if (col.maxLength !== undefined) parts.push(`length(${v}) > ${col.maxLength}`); // code points
      if (col.enum) parts.push(`${v} NOT IN (${col.enum.map(sqlString).join(', ')})`);
      // Unanchored search, as JS RegExp.test; fine for the RE2-compatible patterns declared here.
      if (col.pattern !== undefined) parts.push(`NOT regexp_matches(${v}, ${sqlString(col.pattern)})`);
      return parts.length ? parts.join(' OR ') : 'false';
    }
    case 'int':
    case 'bigint': {
      const type = col.type === 'int' ? 'INTEGER' : 'BIGINT';
      // try_cast is NULL on overflow: that is the 32/64-bit range rule.
      const n = `try_cast(${v} AS ${type})`;
      return `NOT regexp_full_match(${v}, ${SQL_INTEGER}) OR ${n} IS NULL${sqlBounds(n, col, (b) => `${String(b)}::${type}`)}`;
    }
    case 'double': {
      const n = `try_cast(${v} AS DOUBLE)`;
      return `NOT regexp_full_match(${v}, ${SQL_DOUBLE}) OR ${n} IS NULL OR NOT isfinite(${n})${sqlBounds(n, col, (b) => `${sqlString(String(b))}::DOUBLE`)}`;
    }
    case 'decimal': {
      const p = col.precision!;
      const s = col.scale!;
      // One pattern for shape, scale and precision (leading zeros are not significant), with at
      // least one digit: `12.`, `.5` and `007.10` pass, `12.345` and `.` do not.
      const whole = p - s > 0 ? `0*[0-9]{1,${p - s}}` : '0+';
      const alternatives = [`${whole}${s > 0 ? `(\\.[0-9]{0,${s}})?` : '\\.?'}`];
      if (s > 0) alternatives.push(`\\.[0-9]{1,${s}}`);
      const shape = `NOT regexp_full_match(${v}, ${sqlString(`[+-]?(${alternatives.join('|')})`)})`;
      if (col.min === undefined && col.max === undefined) return shape;
      const n = `try_cast(${v} AS DECIMAL(${p},${s}))`;
      return `${shape} OR ${n} IS NULL${sqlBounds(n, col, (b) => `${sqlString(String(b))}::DECIMAL(${p},${s})`)}`;
    }
    case 'boolean':
      return `lower(${v}) NOT IN ('true', 'false')`;
    case 'date':
      // DuckDB accepts year 0000 as a date; the rules do not.
      return `NOT regexp_full_match(${v}, ${SQL_DATE}) OR starts_with(${v}, '0000') OR try_cast(${v} AS DATE) IS NULL${sqlBounds(v, col, (b) => sqlString(String(b)))}`;
    case 'timestamp': {
      if (col.min !== undefined || col.max !== undefined) throw unsupported(col, 'min/max');
      const day = `left(${v}, 10)`;
      const sign = `CASE regexp_extract(${v}, '([+-])[0-9]{2}:[0-9]{2}$', 1) WHEN '+' THEN 1 WHEN '-' THEN -1 END`;
      const offset = `coalesce(${sign} * (try_cast(substr(${v}, -5, 2) AS INTEGER) * 60 + try_cast(substr(${v}, -2, 2) AS INTEGER)), 0)`;
      const utcMinutes = `(try_cast(substr(${v}, 12, 2) AS INTEGER) * 60 + try_cast(substr(${v}, 15, 2) AS INTEGER) - ${offset})`;
      return [
        `NOT regexp_full_match(${v}, ${SQL_TIMESTAMP})`,
        `starts_with(${v}, '0000')`,
        `try_cast(${day} AS DATE) IS NULL`,
        `(starts_with(${v}, '0001-01-01') AND ${utcMinutes} < 0)`,
        `(starts_with(${v}, '9999-12-31') AND ${utcMinutes} >= ${MINUTES_PER_DAY})`,
      ].join(' OR ');
    }
  }
}

/**
 * The DuckDB flag column (0 or 1) of one column: 1 when its value breaks a rule, null included.
 *
 * Every term of a violation is non-NULL for a non-NULL value (each cast is paired with its own
 * `IS NULL` term, and a NULL inside an AND only occurs once an earlier term is already true), so the
 * condition needs no coalesce. Wrapping it in one would cost much: DuckDB then evaluates every term
 * on every row instead of only on rows not yet flagged (timestamp column: 68 vs 157 MB/s).
 */
export function sqlColumnFlag(col: Column, v: string = sqlIdent(col.name)): string {
  return `CASE WHEN ${v} IS NULL THEN ${col.nullable ? 0 : 1} WHEN ${sqlViolation(col, v)} THEN 1 ELSE 0 END`;
}

/**
 * One query that reads the CSV with every column as VARCHAR and returns the row count and the count
 * of bad values per column (`bad_0`, `bad_1`, …, declaration order). The sums consume every flag,
 * so DuckDB cannot skip the checks the way a bare count(*) skips unused casts. Assumes the file's
 * columns are in declaration order (the generated files are).
 */
export function duckdbCheckQuery(dataset: Dataset, csvPath: string): string {
  const { delimiter, quote } = dataset.dialect;
  const columns = dataset.columns.map((c) => `${sqlString(c.name)}: 'VARCHAR'`).join(', ');
  // allow_quoted_nulls=false: only an unquoted empty field is NULL ("" is an empty string).
  const source = `read_csv(${sqlString(csvPath)}, header = true, auto_detect = false, delim = ${sqlString(delimiter)}, quote = ${sqlString(quote)}, escape = ${sqlString(quote)}, allow_quoted_nulls = false, null_padding = false, columns = {${columns}})`;
  const flags = dataset.columns.map((c, i) => `${sqlColumnFlag(c)} AS f_${i}`).join(',\n  ');
  const sums = dataset.columns.map((_, i) => `sum(f_${i})::BIGINT AS bad_${i}`).join(', ');
  return `SELECT count(*)::BIGINT AS rows, ${sums}\nFROM (SELECT\n  ${flags}\nFROM ${source})`;
}
