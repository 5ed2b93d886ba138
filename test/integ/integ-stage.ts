/**
 * The integ suite's own lake: a prefix no user lake takes (the default is `csvlake`) and a fixed
 * stage, so its stacks, buckets, database and workgroup never collide with a user's, and the
 * snapshot is the same on every machine. Shared by the integ app and `npm run test:aws`.
 */
import { readFileSync } from 'node:fs';

/** CDK context of the integ lake: everything else keeps lib/config.ts's defaults. */
export const INTEG_CONTEXT = { prefix: 'csvlakeinteg', stage: 'integ' } as const;

/** `<prefix>-<stage>`: the start of every stack, bucket and workgroup name of the integ lake. */
export const INTEG_BASE = `${INTEG_CONTEXT.prefix}-${INTEG_CONTEXT.stage}`;

/** The test file's folder, where integ-runner finds `integ.*.ts` and writes `*.snapshot/`. */
export const INTEG_DIR = new URL('.', import.meta.url);

/** The exit code of `npm run test:aws` when it cannot run (no credentials): automake's "skipped", never 0. */
export const SKIPPED = 77;

/** Landing keys of the two files the suite drops (execution names start `orders-integ-…_csv-`). */
export const VALID_KEY = 'orders/integ-valid.csv';
export const INVALID_KEY = 'orders/integ-invalid.csv';

/** The valid sample: test/fixtures/orders-valid.csv, 3 rows. */
export function validCsv(): string {
  return readFileSync(new URL('../fixtures/orders-valid.csv', import.meta.url), 'utf8');
}

/**
 * One row, one broken rule: `12.505` has 3 fraction digits where orders.amount is decimal(12,2), so
 * the report holds exactly one error (line 2, column amount, rule decimal_scale; README, "Values").
 */
export function invalidCsv(): string {
  const header = validCsv().split('\n')[0];
  return `${header}\n1,Ann Lee,ABC-12345,2,12.505,USD,0.1,true,2024-02-29T10:00:00Z,2024-03-01\n`;
}
