/**
 * The large-file route, end to end through the local runtime with the threshold lowered to
 * 32 KiB: files above it are validated in slices (one ValidateSlice invocation each, resumed from a
 * checkpoint carried in the state), and end exactly as a single validation would have ended them.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportedError, ValidateTaskOutput } from '../../lambdas/shared/contract.ts';
import type { ErrorReport } from '../../lambdas/validate/core.ts';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import type { ValidationError } from '../../lib/validation/csv-validator.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';

const THRESHOLD = 32 * 1024;

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await LocalRuntime.start({
    lakeDir: await mkdtemp(join(tmpdir(), 'lake-large-')),
    largeFileBytes: THRESHOLD,
  });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
});

function validationOf(record: ExecutionRecord): ValidateTaskOutput {
  return (record.output as { validation: ValidateTaskOutput }).validation;
}

async function text(bucket: string, key: string): Promise<string> {
  const object = await runtime.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

/** Every error of one single pass over the whole file: the oracle of the sliced run. */
async function singlePass(bytes: Buffer): Promise<ValidationError[]> {
  const errors: ValidationError[] = [];
  const orders = runtime.datasets.get('orders')!;
  await validateCsv(Readable.from([bytes]), orders, { maxErrors: 0, onError: (e) => errors.push(e) });
  return errors;
}

describe('the large-file route (threshold lowered to 32 KiB)', () => {
  it('validates a file above the threshold in slices and curates every row once', async () => {
    // Prepare: ≈ 300 KB of orders with quoted fields, so ten slices or so
    const rows = 2000;
    const body = Buffer.from(ORDERS_HEADER + orderRows(7, 0, rows));

    // Act
    const record = await runtime.land('orders/big-valid.csv', body);

    // Assess
    expect(record.outcome).toBe('curated');
    const slices = record.states.filter((s) => s === 'ValidateSlice').length;
    expect(record.states.slice(0, 4)).toEqual([
      'RecordReceived',
      'RouteBySize',
      'PlanSlices',
      'ValidateSlice',
    ]);
    expect(record.states).not.toContain('Validate');
    // A slice stops at the first record boundary after THRESHOLD bytes, read in the server's
    // chunks (64 KiB), so each covers between THRESHOLD and THRESHOLD + one chunk.
    expect(slices).toBeGreaterThanOrEqual(Math.ceil(body.length / (THRESHOLD + 64 * 1024)));
    expect(slices).toBeLessThanOrEqual(Math.ceil(body.length / THRESHOLD));
    expect(slices).toBeGreaterThan(2);
    const validation = validationOf(record);
    expect(validation).toMatchObject({ valid: true, rows, bytes: body.length, done: true });
    expect(await text(LOCAL_BUCKETS.raw, validation.raw!.key)).toBe(body.toString('utf8'));
    const { rows: counted } = await runtime.query(
      'SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM orders WHERE order_id <= 2000',
    );
    expect(counted.map((r) => [Number(r.n), Number(r.ids)])).toEqual([[rows, rows]]);
  }, 120_000);

  it('rejects a file with errors in several slices with the same errors, lines and counts as one pass', async () => {
    // Prepare: bad values far apart, a ragged row, and a CRLF line among LF ones
    const lines = (ORDERS_HEADER + orderRows(8, 5000, 7000)).split('\n');
    for (const at of [10, 700, 1400, 1999]) lines[at] = lines[at]!.replace(/,(USD|EUR|GBP),/, ',XXX,');
    lines[1200] = '6200,too,few';
    lines[1600] = `${lines[1600]}\r`;
    const body = Buffer.from(lines.join('\n'));
    const oracle = await singlePass(body);

    // Act
    const record = await runtime.land('orders/big-broken.csv', body);

    // Assess
    expect(record.outcome).toBe('rejected');
    expect(record.states.filter((s) => s === 'ValidateSlice').length).toBeGreaterThan(2);
    const validation = validationOf(record);
    const report = JSON.parse(await text(LOCAL_BUCKETS.failure, validation.report!.key)) as ErrorReport;
    expect(report.errorCount).toBe(oracle.length);
    expect(report.rows).toBe(2000);
    expect(report.errorFiles.length).toBeGreaterThan(1);
    const listed: ReportedError[] = [];
    for (const file of report.errorFiles) {
      expect(file.key).toMatch(/\.errors\.\d{5}\.jsonl$/);
      const part = (await text(file.bucket, file.key)).trimEnd().split('\n');
      listed.push(...part.map((l) => JSON.parse(l) as ReportedError));
    }
    expect(listed).toEqual(
      oracle.map(({ line, column, value, rule, message }) => ({ line, column, value, rule, message })),
    );
    expect(listed.map((e) => `${e.line}:${e.rule}`)).toEqual([
      '11:enum',
      '701:enum',
      '1201:ragged_row',
      '1401:enum',
      '1601:mixed_line_endings',
      '2000:enum',
    ]);
    expect(validation.errors.map((e) => e.line)).toEqual(
      listed.slice(0, validation.errors.length).map((e) => e.line),
    );
  }, 120_000);

  it('refuses a gzip file above the threshold as too_large: gzip cannot be resumed mid-stream', async () => {
    // Prepare: random-ish rows compress poorly enough to stay above 32 KiB
    const body = gzipSync(ORDERS_HEADER + orderRows(9, 0, 3000));
    expect(body.length).toBeGreaterThan(THRESHOLD);

    // Act
    const record = await runtime.land('orders/big.csv.gz', body);

    // Assess
    expect(record.outcome).toBe('rejected');
    expect(record.states.filter((s) => s === 'ValidateSlice')).toHaveLength(1);
    expect(validationOf(record)).toMatchObject({
      reason: 'too_large',
      errors: [{ line: 0, rule: 'too_large', message: expect.stringContaining('land it uncompressed') }],
    });
  }, 60_000);

  it('keeps files at or below the threshold on the single-invocation route', async () => {
    // Act
    const record = await runtime.land('orders/small.csv', ORDERS_HEADER + orderRows(10, 9000, 9010));

    // Assess
    expect(record.outcome).toBe('curated');
    expect(record.states.slice(0, 3)).toEqual(['RecordReceived', 'RouteBySize', 'Validate']);
    expect(record.states).not.toContain('ValidateSlice');
  }, 60_000);
});
