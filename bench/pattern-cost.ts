/**
 * What the pattern rule costs: the load-time backtracking check per pattern (shipped, common and
 * refused shapes), and the validator's speed on a pattern-heavy file with and without its patterns
 * (matching stays V8's, so the check adds nothing per value). `npx tsx bench/pattern-cost.ts`
 */
import { Readable } from 'node:stream';
import { parseDataset } from '../lib/datasets/model.ts';
import { patternProblem } from '../lib/datasets/patterns.ts';
import { validateCsv } from '../lib/validation/validate-csv.ts';

const PATTERNS = [
  '^[A-Z]{3}-\\d{5}$',
  '^[0-9a-f]{12}$',
  '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})$',
  '^(a+)+$',
  '(a|a)*$',
  '(a*)*b',
  '(\\w+\\s?)*$',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
  '^\\S+@\\S+$',
  'a'.repeat(3000),
];

console.log('load-time check (first call, uncached)');
for (const pattern of PATTERNS) {
  const started = performance.now();
  const problem = patternProblem(pattern);
  const ms = performance.now() - started;
  const shown = pattern.length > 40 ? `${pattern.slice(0, 39)}…` : pattern;
  console.log(`  ${shown.padEnd(42)} ${problem ? 'refused ' : 'accepted'} ${ms.toFixed(1).padStart(7)} ms`);
}

// Four pattern columns of the shapes above that are accepted, 200,000 valid rows.
const ROWS = 200_000;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);
const lines = ['sku,device,uuid,ts'];
for (let i = 0; i < ROWS; i++) {
  const sku = `${String.fromCharCode(65 + (i % 26))}BC-${String(10000 + (i % 90000))}`;
  const uuid = `${hex(i * 2654435761, 8)}-${hex(i, 4)}-4${hex(i, 3)}-a${hex(i, 3)}-${hex(i * 40503, 12)}`;
  lines.push(`${sku},${hex(i * 97, 12)},${uuid},2026-12-01T10:${String(i % 60).padStart(2, '0')}:00Z`);
}
const file = Buffer.from(`${lines.join('\n')}\n`);
const columns = (withPatterns: boolean) =>
  ['sku', 'device', 'uuid', 'ts'].map((name, k) => ({
    name,
    type: 'string',
    ...(withPatterns ? { pattern: PATTERNS[k] } : {}),
  }));

console.log(
  `validator on ${(file.length / 1e6).toFixed(1)} MB, ${ROWS.toLocaleString('en-US')} rows, 4 string columns`,
);
for (const withPatterns of [false, true, false, true, false, true]) {
  const dataset = parseDataset({ name: 'p', columns: columns(withPatterns) }, 'pattern-cost.json');
  const started = performance.now();
  const run = await validateCsv(Readable.from([file]), dataset);
  const seconds = (performance.now() - started) / 1000;
  if (run.errorCount !== 0) throw new Error(`expected a valid file, got ${run.errorCount} errors`);
  console.log(
    `  ${withPatterns ? 'with 4 patterns' : 'no patterns    '} ${(file.length / 1e6 / seconds).toFixed(1)} MB/s`,
  );
}
