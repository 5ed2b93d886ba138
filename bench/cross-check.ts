/**
 * A small orders file with a known number of bad values, for checking that the validator and the
 * two reference pipelines of the benchmark count the same thing before their speeds are compared.
 */
import { writeFile } from 'node:fs/promises';
import { ORDERS_HEADER, orderRows } from '../lib/samples/orders-generator.ts';

/** One replacement of a field by raw CSV text (quotes included when the field is quoted). */
interface Injection {
  readonly column: string;
  readonly text: string;
}

// Values that break exactly one rule each, many of them ones a lax parser or a cast lets through
// (DuckDB takes `1e3` as an integer and rounds `12.345`; coercion takes "" as 0).
const BAD: readonly Injection[] = [
  ...['', '0', '-5', '1e3', '9223372036854775808', '12a', '1.0', ' 7'].map((text) => ({
    column: 'order_id',
    text,
  })),
  ...['', `"${'é'.repeat(201)}"`].map((text) => ({ column: 'customer', text })),
  ...['AB-12345', 'abc-12345', 'ABC-1234', '', 'ABC-123456', '"ABC-12345 "'].map((text) => ({
    column: 'sku',
    text,
  })),
  ...['0', '10001', '1.0', '2147483648', '', ' 5', '1e2', '-1'].map((text) => ({ column: 'quantity', text })),
  ...['12.345', '12.340', '12345678901.00', '1e3', 'abc', '""', '.', '-', '1.2.3', '12 '].map((text) => ({
    column: 'amount',
    text,
  })),
  ...['usd', 'JPY', '"USD "', '""'].map((text) => ({ column: 'currency', text })),
  ...['1.5', '-0.1', 'NaN', 'abc', '1e400', 'Infinity', '0x1', '1.01', '""'].map((text) => ({
    column: 'discount',
    text,
  })),
  ...['yes', '1', 't', 'TRUEE', '""'].map((text) => ({ column: 'gift', text })),
  ...[
    '2023-02-29T10:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:00:00.1234567Z',
    '2024-01-01T10:00:00+0100',
    '2024-01-01',
    '',
    '2024-01-01T10:00:00z',
    '2024-01-01T10:60:00Z',
    '2024-01-01T10:00:00+19:00',
    '0001-01-01T00:30:00+01:00',
    '9999-12-31T23:30:00-01:00',
    '0000-06-01T00:00:00Z',
    '2024-01-01T10:00:00.Z',
    '1900-02-29 00:00:00',
  ].map((text) => ({ column: 'ordered_at', text })),
  ...[
    '2023-02-29',
    '2024-13-01',
    '2024-1-01',
    '0000-01-01',
    '2024-02-30',
    '2024-04-31',
    '20240101',
    '2024-01-01T00:00:00Z',
    '1900-02-29',
  ].map((text) => ({ column: 'ship_date', text })),
];

// Valid values at the edges of the rules: none of them may be counted.
const EDGE: readonly Injection[] = [
  ...['+7', '0001', '9223372036854775807'].map((text) => ({ column: 'order_id', text })),
  ...[`"${'é'.repeat(200)}"`, '""', '"He said ""hi"""', 'plain; unquoted'].map((text) => ({
    column: 'customer',
    text,
  })),
  ...['"ABC-12345"'].map((text) => ({ column: 'sku', text })),
  ...['+10', '010', '10000', '1'].map((text) => ({ column: 'quantity', text })),
  ...['-0.50', '+7', '007.10', '.5', '5.', '9999999999.99', '-9999999999.99', '0000000000012.3', '', '0'].map(
    (text) => ({ column: 'amount', text }),
  ),
  ...['', 'GBP', '"EUR"'].map((text) => ({ column: 'currency', text })),
  ...['1e-1', '.5', '0', '1', '1.0', '-0', '0.1E0', '5e-1', '+1'].map((text) => ({
    column: 'discount',
    text,
  })),
  ...['TRUE', 'False', 'tRuE', ''].map((text) => ({ column: 'gift', text })),
  ...[
    '2024-01-01 12:00:00.123456+05:30',
    '2024-02-29T23:59:59.999999-18:00',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-06-01T00:00:00',
    '0001-01-01T01:00:00+01:00',
    '9999-12-31T22:59:59.5-01:00',
  ].map((text) => ({ column: 'ordered_at', text })),
  ...['2024-02-29', '2000-02-29', '0001-01-01', '9999-12-31', ''].map((text) => ({
    column: 'ship_date',
    text,
  })),
];

/** Splits a generated CSV line into raw fields (quotes kept), honouring quoted commas. */
function rawFields(line: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(line.slice(start, i));
      start = i + 1;
    }
  }
  out.push(line.slice(start));
  return out;
}

/** What the cross-check file holds. */
export interface CrossCheckFile {
  readonly rows: number;
  /** Bad values injected, by column name (every column present, 0 included). */
  readonly expected: Record<string, number>;
  readonly expectedTotal: number;
}

/**
 * Writes `rows` generated orders to `path`, every 97th row carrying one bad value (cycling through
 * all columns and rules) and every 89th one a valid edge value; returns the bad counts to expect.
 * `columns` are the column names in file order.
 */
export async function writeCrossCheckFile(
  path: string,
  columns: readonly string[],
  rows = 20_000,
): Promise<CrossCheckFile> {
  const index = new Map(columns.map((name, i) => [name, i]));
  const expected: Record<string, number> = Object.fromEntries(columns.map((c) => [c, 0]));
  const lines = orderRows(42, 0, rows).split('\n').slice(0, rows);
  let nextBad = 0;
  let nextEdge = 0;
  const apply = (fields: string[], injection: Injection) => {
    const i = index.get(injection.column);
    if (i === undefined) throw new Error(`cross-check: no column "${injection.column}" in the file`);
    fields[i] = injection.text;
  };
  const out = lines.map((line, k) => {
    const n = k + 1;
    if (n % 97 !== 0 && n % 89 !== 0) return line;
    const fields = rawFields(line);
    // Edge first, then bad: when both land on the same field, the bad value is the one counted.
    if (n % 89 === 0) apply(fields, EDGE[nextEdge++ % EDGE.length]!);
    if (n % 97 === 0) {
      const bad = BAD[nextBad++ % BAD.length]!;
      apply(fields, bad);
      expected[bad.column]!++;
    }
    return fields.join(',');
  });
  await writeFile(path, `${ORDERS_HEADER}${out.join('\n')}\n`);
  const expectedTotal = Object.values(expected).reduce((a, b) => a + b, 0);
  return { rows, expected, expectedTotal };
}
