#!/usr/bin/env node
/**
 * `npm run demo`: the whole pipeline on this machine, on sample data. Makes a fresh lake in
 * .lake/demo, ingests a valid and a broken orders file through the local runtime (S3 server, the
 * synthesized state machine, DuckDB as Glue and Athena), then queries the curated table.
 *
 * `npm run demo -- --lake DIR` makes the lake in DIR instead (the tests use it, so that they never
 * wipe your .lake/demo); DIR must be missing or empty, since the demo never deletes a folder it
 * was handed.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliIo, main } from '../lib/cli/main.ts';
import { quietSdkNodeVersionWarning } from '../lib/cli/node-warnings.ts';
import { brokenOrdersCsv } from '../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../lib/samples/orders-generator.ts';

quietSdkNodeVersionWarning();
let values: { lake?: string | undefined };
try {
  ({ values } = parseArgs({ options: { lake: { type: 'string' } } }));
} catch (error) {
  process.stderr.write(`demo: ${(error as Error).message}\nusage: npm run demo [-- --lake DIR]\n`);
  process.exit(2);
}
const lake = values.lake ?? join('.lake', 'demo');
const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: false,
};
const step = (title: string) => process.stdout.write(`\n━━ ${title}\n\n`);

/** True when `dir` does not exist or holds nothing: the only folders the demo may fill. */
async function missingOrEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

if (values.lake === undefined) {
  await rm(lake, { recursive: true, force: true });
} else if (!(await missingOrEmpty(lake))) {
  process.stderr.write(
    `demo: --lake "${lake}" must be a missing or empty folder: the demo never wipes a folder it is given\n`,
  );
  process.exit(2);
}
const input = join(lake, 'input');
await mkdir(input, { recursive: true });
const valid = join(input, 'orders-2024-11.csv');
const broken = join(input, 'orders-broken.csv');
await writeFile(valid, ORDERS_HEADER + orderRows(42, 0, 1_000));
await writeFile(broken, brokenOrdersCsv());

step(`1/3 a valid file: 1,000 orders → landing/orders/ (lake: ${lake})`);
const first = await main(['local', 'ingest', valid, '--dataset', 'orders', '--lake', lake], io);

step('2/3 a broken file: five rows break five rules → the failure zone, with a report');
const second = await main(['local', 'ingest', broken, '--dataset', 'orders', '--lake', lake], io);

step('3/3 query the curated table (DuckDB standing in for Athena)');
const sql =
  'SELECT currency, count(*) AS orders, sum(amount) AS revenue, min(ordered_at) AS first_order FROM orders GROUP BY currency ORDER BY currency';
process.stdout.write(`${sql}\n\n`);
const third = await main(['local', 'query', sql, '--lake', lake], io);

const ok = first === 0 && second === 1 && third === 0;
process.stdout.write(
  ok
    ? `\nDone. Explore it: npm run datalake -- files --lake ${lake} (the ledger), or -- local status --lake ${lake};\nin a browser: npm run datalake -- local up --lake ${lake}, then open the console: address it prints\n`
    : `\nThe demo did not go as expected (exit codes ${first}, ${second}, ${third}).\n`,
);
process.exit(ok ? 0 : 1);
