import { execFile } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { PARALLEL_MIN_BYTES } from '../../lib/validation/parallel.ts';
import { runCli } from './cli-run.ts';

const VALID = 'test/fixtures/orders-valid.csv';
const INVALID = 'test/fixtures/orders-invalid.csv';

/** Runs the CLI in-process and captures what it prints. */
const run = (...argv: string[]) => runCli(argv);
const runWith = (tty: boolean, argv: string[]) => runCli(argv, { tty });

/**
 * 20 MB of orders with errors and quoted line breaks throughout, so that range starts land in
 * every kind of place: over the size that is validated in parallel.
 */
async function largeOrdersFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'threads-'));
  const file = join(dir, 'big.csv');
  const broken = brokenOrdersCsv().slice(ORDERS_HEADER.length);
  const rows = orderRows(11, 0, 2_000).split('\n');
  const quoted = rows.map((line, i) => (i % 3 === 0 ? line.replace(/, /g, ',\n') : line)).join('\n');
  await writeFile(file, ORDERS_HEADER + `${broken}${quoted}`.repeat(62));
  return file;
}

describe('datalake validate', () => {
  it('exits 0 and says valid for a valid file', async () => {
    const { code, out, err } = await run('validate', VALID, '--dataset', 'orders');
    expect(code).toBe(0);
    expect(out).toMatch(/^✓ orders-valid\.csv is valid for dataset "orders" \(3 rows, /);
    expect(err).toBe('');
  });

  it('exits 1 with a verdict, an error table and counts per column for an invalid file', async () => {
    const { code, out } = await run('validate', INVALID, '--dataset', 'orders');
    expect(code).toBe(1);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^✗ orders-invalid\.csv is invalid for dataset "orders": 10 errors \(4 rows/);
    expect(lines[2]).toMatch(/^line\s+column\s+rule\s+value\s+message$/);
    expect(out).toMatch(/\n3\s+amount\s+decimal_scale\s+12\.505\s+more than 2 fraction digits/);
    expect(out).toMatch(/\n4\s+customer\s+not_null\s+the column is not nullable/);
    expect(out).toMatch(/\n5\s+-\s+ragged_row\s+expected 10 fields, found 4/);
    expect(out).toMatch(/errors by column:\ncolumn\s+errors\n/);
    expect(out).toMatch(/\nragged_row\s+1\n/);
  });

  it('prints exactly one JSON object with --json', async () => {
    const { code, out } = await run(
      'validate',
      INVALID,
      '--dataset',
      'orders',
      '--json',
      '--max-errors',
      '2',
    );
    expect(code).toBe(1);
    const result = JSON.parse(out);
    expect(Object.keys(result).sort()).toEqual(
      [
        'bytes',
        'compressed',
        'errorCount',
        'errors',
        'errorsByColumn',
        'errorsByRule',
        'recordSpansLines',
        'rows',
        'valid',
      ].sort(),
    );
    expect(result).toMatchObject({ valid: false, rows: 4, errorCount: 10, compressed: false });
    expect(result.errors).toHaveLength(2);
    expect(result.errors[0]).toEqual({
      line: 3,
      column: 'sku',
      value: 'ABC-1234',
      rule: 'pattern',
      message: '"ABC-1234": does not match the pattern /^[A-Z]{3}-\\d{5}$/',
    });
    expect(result.errorsByColumn.ship_date).toBe(1);
  });

  it.each([
    [['validate', VALID], 'validate needs --dataset <name>'],
    [['validate', '--dataset', 'orders'], 'validate takes exactly one file'],
    [['validate', VALID, '--dataset', 'orders', '--max-errors', 'many'], '--max-errors takes a whole number'],
    [['validate', VALID, '--dataset', 'orders', '--bogus'], "Unknown option '--bogus'"],
    [
      ['validate', VALID, '--dataset', 'orders', '--threads', '0'],
      '--threads takes a whole number ≥ 1, not "0"',
    ],
    [['validate', VALID, '--dataset', 'orders', '--threads', 'all'], '--threads takes a whole number ≥ 1'],
    [['validate', VALID, '--dataset', 'orders', '--threads', '257'], '--threads takes at most 256'],
    [['frobnicate'], 'unknown command "frobnicate"'],
  ])('exits 2 with the usage for %j', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('usage: datalake');
  });

  it('exits 2 for an unknown dataset, listing the known ones', async () => {
    const { code, err } = await run('validate', VALID, '--dataset', 'ordrs');
    expect(code).toBe(2);
    expect(err).toBe('datalake: unknown dataset "ordrs" (known: orders, sensor_readings)\n');
  });

  it('exits 2 for a missing file', async () => {
    const { code, err } = await run('validate', 'no/such.csv', '--dataset', 'orders');
    expect(code).toBe(2);
    expect(err).toContain('cannot read "no/such.csv"');
  });

  it('exits 2 when a declaration in --datasets is broken, naming the file', async () => {
    const { code, err } = await run(
      'validate',
      VALID,
      '--dataset',
      'orders',
      '--datasets',
      'test/fixtures/bad-datasets',
    );
    expect(code).toBe(2);
    expect(err).toMatch(
      /bad-datasets\/orders\.json: invalid dataset declaration\n {2}- columns\[0\]\.type: unknown type "integer"/,
    );
  });

  it('draws a progress line on a terminal for a large file, and clears it before the verdict', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'progress-'));
    const file = join(dir, 'big.csv');
    await writeFile(file, ORDERS_HEADER + orderRows(7, 0, 250_000)); // ≈ 35 MB
    const onTerminal = await runWith(true, ['validate', file, '--dataset', 'orders']);
    expect(onTerminal.code).toBe(0);
    expect(onTerminal.err).toMatch(/^\rvalidating… \d+% \([\d.]+ MB of [\d.]+ MB\)/);
    expect(onTerminal.err.endsWith('\r\x1b[2K')).toBe(true);
    const piped = await runWith(false, ['validate', file, '--dataset', 'orders']);
    expect(piped.err).toBe('');
  });

  it('validates a large file in parallel ranges, from the package bin too, with the result of one pass', async () => {
    // Prepare
    const file = await largeOrdersFile();
    const argv = ['validate', file, '--dataset', 'orders', '--json', '--max-errors', '500'];

    // Act
    const one = await run(...argv, '--threads', '1');
    const two = await run(...argv, '--threads', '2');
    const exec = promisify(execFile);
    const bin = await exec('node', ['bin/datalake.js', ...argv, '--threads', '3']).catch(
      (error: { code: number; stdout: string }) => error,
    );

    // Assess
    expect(one.code).toBe(1);
    expect((await stat(file)).size).toBeGreaterThan(PARALLEL_MIN_BYTES);
    expect(JSON.parse(one.out)).toMatchObject({ valid: false, recordSpansLines: true });
    expect(JSON.parse(one.out).errorCount).toBeGreaterThan(100);
    expect(two).toEqual(one);
    expect('code' in bin ? bin.code : 0).toBe(1);
    expect(bin.stdout).toBe(one.out);
  });

  it('stops validating in parallel when aborted: "interrupted", exit 130, no verdict', async () => {
    // Prepare
    const file = await largeOrdersFile();
    const stop = new AbortController();

    // Act
    const command = runCli(['validate', file, '--dataset', 'orders', '--threads', '2'], {
      signal: stop.signal,
    });
    setTimeout(() => stop.abort('SIGINT'), 50);

    // Assess
    expect(await command).toEqual({ code: 130, out: '', err: 'datalake: interrupted\n' });
  });

  it('runs as the package bin, through npm run datalake', async () => {
    const exec = promisify(execFile);
    const { stdout } = await exec('npm', [
      'run',
      '-s',
      'datalake',
      '--',
      'validate',
      VALID,
      '--dataset',
      'orders',
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, rows: 3 });
    const bin = await exec('node', ['bin/datalake.js', 'validate', INVALID, '--dataset', 'orders']).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect('code' in bin ? bin.code : 0).toBe(1);
    expect(bin.stdout).toContain('is invalid for dataset "orders"');
  });
});
