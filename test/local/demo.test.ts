/**
 * `npm run demo` as a newcomer runs it: tsx over bin/demo.ts, a child process, on a lake folder of
 * its own (`--lake`), so that the test never wipes the user's .lake/demo. What it must end with,
 * the per-currency table of its final query, is computed here from the demo's input file alone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';

/** A bound on one demo run (about 5 s on an idle machine; the CDK synthesis dominates). */
const DEMO_MS = 120_000;

/** The user's own demo lake, which the test must leave exactly as it was. */
const USER_DEMO_LAKE = join('.lake', 'demo');

const folders: string[] = [];

afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

/** A new temporary folder, removed after the test. */
async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'demo-test-'));
  folders.push(folder);
  return folder;
}

/** Runs the demo as `npm run demo -- <args>` does, killed after DEMO_MS. */
function runDemo(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/tsx', ['bin/demo.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: DEMO_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Identity and last change of a path, or null when it does not exist. */
async function fingerprint(path: string) {
  const s = await stat(path).catch(() => null);
  return s && { ino: s.ino, mtimeMs: s.mtimeMs };
}

/**
 * The demo's final query, computed from its valid file: per currency, the count of orders, the
 * exact sum of `amount` (decimal(12,2), summed in cents) and the earliest `ordered_at` (ISO 8601
 * UTC, as `local query` prints instants), ordered by currency.
 */
function expectedTable(csv: string): string[][] {
  const groups = new Map<string, { orders: number; cents: bigint; first: number }>();
  for (const row of parse(csv, { columns: true }) as Record<string, string>[]) {
    const group = groups.get(row.currency!) ?? { orders: 0, cents: 0n, first: Number.POSITIVE_INFINITY };
    // The generator writes amounts with exactly two fraction digits.
    expect(row.amount).toMatch(/^\d+\.\d\d$/);
    group.orders += 1;
    group.cents += BigInt(row.amount!.replace('.', ''));
    group.first = Math.min(group.first, Date.parse(row.ordered_at!));
    groups.set(row.currency!, group);
  }
  return [...groups.keys()].sort().map((currency) => {
    const { orders, cents, first } = groups.get(currency)!;
    return [
      currency,
      String(orders),
      `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`,
      new Date(first).toISOString().replace('.000Z', 'Z'),
    ];
  });
}

describe('npm run demo', () => {
  it('exits 0 and ends with the exact per-currency table of its query, then "Done."', async () => {
    const lake = join(await tempFolder(), 'lake');
    const userLake = await fingerprint(USER_DEMO_LAKE);
    // The demo's valid file, as bin/demo.ts writes it.
    const csv = ORDERS_HEADER + orderRows(42, 0, 1_000);
    const expected = expectedTable(csv);
    const rows = expected.reduce((n, r) => n + Number(r[1]), 0);

    const { code, stdout, stderr } = await runDemo(['--lake', lake]);

    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain(
      `✓ orders/orders-2024-11.csv → curated (dataset orders, ${rows.toLocaleString('en-US')} rows)`,
    );
    expect(stdout).toContain('✗ orders/orders-broken.csv → rejected (dataset orders, 20 rows)');
    // From the last step's heading to the end: the query, its table, the row count, "Done.".
    const tail = stdout.slice(stdout.lastIndexOf('━━ 3/3')).split('\n');
    expect(tail.slice(0, 4)).toEqual([
      '━━ 3/3 query the curated table (DuckDB standing in for Athena)',
      '',
      expect.stringMatching(/^SELECT .+ FROM orders /),
      '',
    ]);
    // The table's columns are aligned with two or more spaces; no cell holds two spaces.
    expect(tail.slice(4, -5).map((line) => line.split(/ {2,}/))).toEqual([
      ['currency', 'orders', 'revenue', 'first_order'],
      ...expected,
    ]);
    expect(tail.slice(-5)).toEqual([
      `(${expected.length} rows)`,
      '',
      `Done. Explore it: npm run datalake -- files --lake ${lake} (the ledger), or -- local status --lake ${lake};`,
      `in a browser: npm run datalake -- local up --lake ${lake}, then open the console: address it prints`,
      '',
    ]);
    // The lake was made where it was asked for, and the user's .lake/demo was not touched.
    expect(await readFile(join(lake, 'input', 'orders-2024-11.csv'), 'utf8')).toBe(csv);
    expect(await fingerprint(USER_DEMO_LAKE)).toEqual(userLake);
  }, 150_000);

  it('refuses a --lake folder that is not empty, and leaves it as it was', async () => {
    const lake = await tempFolder();
    await writeFile(join(lake, 'keep.txt'), 'mine');

    const { code, stdout, stderr } = await runDemo(['--lake', lake]);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `demo: --lake "${lake}" must be a missing or empty folder: the demo never wipes a folder it is given\n`,
    );
    expect(await readFile(join(lake, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(lake, 'input'))).toBe(false);
  }, 60_000);
});
