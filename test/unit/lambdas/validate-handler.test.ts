import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ledgerVersion } from '../../../lib/ledger/model.ts';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type IngestRequest,
  REPORT_ERRORS,
  type SliceProgress,
  type ValidateTaskInput,
  type ValidateTaskOutput,
} from '../../../lambdas/shared/contract.ts';
import { SLICE_RESERVE_MS } from '../../../lambdas/validate/core.ts';
import { COPY_PART_BYTES, copyRanges, copySource } from '../../../lambdas/validate/s3-store.ts';
import { GLUE_MIN_TIMEOUT_MINUTES } from '../../../lib/conversion/glue-sizing.ts';
import { sparkSchema } from '../../../lib/datasets/derive.ts';
import { loadDatasets } from '../../../lib/datasets/load.ts';
import { validateCsv } from '../../../lib/validation/validate-csv.ts';
import { DATASETS_DIR, DEFAULT_CONVERSION, ORDERS_INVALID, ORDERS_VALID, versionTag } from './helpers.ts';

const s3 = mockClient(S3Client);
const LAST_MODIFIED = new Date('2024-03-01T10:00:00Z');
const GIB = 1024 ** 3;
/** The handler on whole files (no `slice` in the input), whose output is always a verdict. */
let handler: (input: ValidateTaskInput) => Promise<ValidateTaskOutput>;

beforeAll(async () => {
  vi.stubEnv('RAW_BUCKET', 'raw');
  vi.stubEnv('FAILURE_BUCKET', 'failure');
  vi.stubEnv('CURATED_BUCKET', 'curated');
  vi.stubEnv('DATASETS_DIR', DATASETS_DIR);
  vi.stubEnv('CONVERSION_SETTINGS', JSON.stringify(DEFAULT_CONVERSION));
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  // Lambda sets it; lib-storage's Upload asks the client for its region.
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  handler = (await import('../../../lambdas/validate/handler.ts')).handler as typeof handler;
});

afterEach(() => {
  s3.reset();
});

afterAll(() => {
  vi.unstubAllEnvs();
});

/**
 * A GetObject body as the SDK returns it in Node: a Readable, here in small chunks. The SDK's
 * type adds helper methods (sdkStreamMixin) the adapter never calls, hence the cast.
 */
function body(bytes: Buffer, chunkBytes = 5): GetObjectCommandOutput['Body'] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  return Readable.from(chunks) as unknown as GetObjectCommandOutput['Body'];
}

function input(key: string, extra: Partial<IngestRequest> = {}): ValidateTaskInput {
  const slash = key.indexOf('/');
  const request = {
    bucket: 'landing',
    key,
    versionId: 'v1',
    etag: 'e1',
    size: 1000,
    dataset: slash < 0 ? '' : key.slice(0, slash),
    ...extra,
  };
  return {
    request: { ...request, version: extra.version ?? ledgerVersion(request) },
    executionName: 'orders-a_csv-0123456789abcdef0123456789abcdef',
  };
}

/** The version tag of a landing key as `input()` pins it (version v1). */
function tag(key: string): string {
  return versionTag({ bucket: 'landing', key, versionId: 'v1', etag: 'e1' });
}

/** GetObject answers with `file` from the byte its `Range: bytes=N-` names, in 16-byte chunks. */
function serveRanges(file: Buffer): void {
  s3.on(GetObjectCommand).callsFake(async ({ Range }: { Range?: string }) => {
    const from = Range ? Number(/^bytes=(\d+)-$/.exec(Range)![1]) : 0;
    return { Body: body(file.subarray(from), 16), LastModified: LAST_MODIFIED };
  });
}

/** The body of the one PutObject whose key ends with `suffix`, as text. */
function putBody(suffix: string): string {
  const puts = s3.commandCalls(PutObjectCommand).filter((c) => c.args[0].input.Key?.endsWith(suffix));
  expect(puts).toHaveLength(1);
  return Buffer.from(puts[0]!.args[0].input.Body as Uint8Array | string).toString('utf8');
}

function s3Error(name: string, httpStatusCode: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message });
}

describe('validate handler: valid files', () => {
  it('reads the pinned version, copies it to raw with a version-pinned CopySource and returns job arguments', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(readFileSync(ORDERS_VALID)), LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).resolves({});
    const orders = (await loadDatasets(DATASETS_DIR)).get('orders')!;
    const event = input('orders/2024/café menu +1.csv');

    // Act
    const out = await handler(event);

    // Assess
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'landing',
      Key: 'orders/2024/café menu +1.csv',
      VersionId: 'v1',
    });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.IfMatch).toBeUndefined();
    const rawKey = `orders/ingest_date=2024-03-01/2024__café menu +1.${tag('orders/2024/café menu +1.csv')}.csv`;
    expect(s3).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: 'raw',
      Key: rawKey,
      CopySource: 'landing/orders/2024/caf%C3%A9%20menu%20%2B1.csv?versionId=v1',
    });
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input.CopySourceIfMatch).toBeUndefined();
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(out).toMatchObject({
      valid: true,
      rows: 3,
      ingestDate: '2024-03-01',
      raw: { bucket: 'raw', key: rawKey },
    });
    expect(out.jobArguments).toEqual({
      '--dataset': 'orders',
      '--source': `s3://raw/${rawKey}`,
      '--target': 's3://curated/orders/iceberg/data/ingest_date=2024-03-01/',
      '--ingest-date': '2024-03-01',
      '--commit-request': `s3://curated/_commits/orders/${event.executionName}.json`,
      '--schema': JSON.stringify(sparkSchema(orders)),
      '--expected-rows': '3',
      '--run-id': event.executionName,
      '--delimiter': ',',
      '--quote': '"',
      '--multiline': 'false',
      // The landed key as the event gave it (decoded), its version, and the GetObject's LastModified.
      '--source-key': 'orders/2024/café menu +1.csv',
      '--source-version': 'v1',
      '--ingested-at': '2024-03-01T10:00:00.000Z',
    });
    // Sized within the environment's limits: a small file gets the minimum.
    expect(out.conversion).toEqual({
      engine: 'lambda',
      glueWorkers: 2,
      glueTimeoutMinutes: GLUE_MIN_TIMEOUT_MINUTES,
    });
  });

  it('pins reads and copies with If-Match on the ETag when there is no version id', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(readFileSync(ORDERS_VALID)), LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).resolves({});

    // Act
    await handler(input('orders/a.csv', { versionId: null, etag: 'abc123' }));

    // Assess
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'landing',
      Key: 'orders/a.csv',
      IfMatch: '"abc123"',
    });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.VersionId).toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      CopySource: 'landing/orders/a.csv',
      CopySourceIfMatch: '"abc123"',
    });
  });

  it('validates a gzip file and copies it unchanged', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({
      Body: body(gzipSync(readFileSync(ORDERS_VALID))),
      LastModified: LAST_MODIFIED,
    });
    s3.on(CopyObjectCommand).resolves({});

    // Act
    const out = await handler(input('orders/a.csv.gz'));

    // Assess
    expect(out).toMatchObject({ valid: true, rows: 3 });
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Key: `orders/ingest_date=2024-03-01/a.${tag('orders/a.csv.gz')}.csv.gz`,
      CopySource: 'landing/orders/a.csv.gz?versionId=v1',
    });
  });
});

describe('validate handler: rejected files', () => {
  it('copies an invalid file to the failure zone and writes its report beside it', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({
      Body: body(readFileSync(ORDERS_INVALID)),
      LastModified: LAST_MODIFIED,
    });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const event = input('orders/bad.csv');

    // Act
    const out = await handler(event);

    // Assess
    const failureKey = `orders/ingest_date=2024-03-01/bad.${tag('orders/bad.csv')}.csv`;
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: 'failure',
      Key: failureKey,
      CopySource: 'landing/orders/bad.csv?versionId=v1',
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'failure',
      Key: `${failureKey}.errors.json`,
      ContentType: 'application/json',
    });
    const report = JSON.parse(putBody('.errors.json'));
    expect(Object.keys(report).sort()).toEqual(
      [
        'source',
        'dataset',
        'ingestDate',
        'reason',
        'rows',
        'errorCount',
        'errorsByColumn',
        'errorsByRule',
        'errors',
        'truncated',
        'errorFiles',
      ].sort(),
    );
    expect(report.errorFiles).toEqual([{ bucket: 'failure', key: `${failureKey}.errors.00001.jsonl` }]);
    const lines = putBody('.errors.00001.jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(report.errors);
    expect(report).toMatchObject({
      source: event.request,
      dataset: 'orders',
      ingestDate: '2024-03-01',
      reason: 'invalid_rows',
      rows: 4,
      errorCount: 10,
      truncated: false,
    });
    expect(report.errors).toHaveLength(10);
    expect(report.errors).toContainEqual({
      line: 5,
      column: null,
      value: null,
      rule: 'ragged_row',
      message: 'expected 10 fields, found 4',
    });
    expect(out).toMatchObject({
      valid: false,
      reason: 'invalid_rows',
      failure: { bucket: 'failure', key: failureKey },
      report: { bucket: 'failure', key: `${failureKey}.errors.json` },
    });
    expect(out.errors).toHaveLength(5);
  });

  it('rejects an unknown dataset after a pinned HeadObject, without reading the file', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ LastModified: LAST_MODIFIED, ContentLength: 1000 });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});

    // Act
    const out = await handler(input('ordrs/a.csv'));

    // Assess
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: 'landing',
      Key: 'ordrs/a.csv',
      VersionId: 'v1',
    });
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: 'failure',
      Key: `ordrs/ingest_date=2024-03-01/a.${tag('ordrs/a.csv')}.csv`,
    });
    const report = JSON.parse(putBody('.errors.json'));
    expect(report).toMatchObject({ reason: 'unknown_dataset', rows: 0, errorCount: 1 });
    expect(report.errors[0].message).toBe('unknown dataset "ordrs" (known: orders, sensor_readings)');
    expect(out).toMatchObject({ valid: false, reason: 'unknown_dataset', dataset: 'ordrs' });
  });

  it('rejects a file that is not a CSV without reading it', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});

    // Act
    const out = await handler(input('orders/export.json'));

    // Assess
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    expect(out).toMatchObject({
      valid: false,
      reason: 'not_csv',
      failure: {
        bucket: 'failure',
        key: `orders/ingest_date=2024-03-01/export.${tag('orders/export.json')}.json`,
      },
    });
    expect(out.errors[0]).toMatchObject({ rule: 'not_csv' });
  });

  it('keeps the output under 10 KB and streams all 900,000 errors of 100,000 bad rows as a multipart upload', async () => {
    // Prepare
    const header = 'order_id,Customer Name,sku,quantity,amount,currency,discount,gift,ordered_at,ship_date\n';
    const row = 'x,Ann,ABC-1234,0,1.005,XXX,2,yes,2024-13-01T00:00:00Z,2024-02-30\n';
    const file = Buffer.from(header + row.repeat(100_000));
    s3.on(GetObjectCommand).resolves({ Body: body(file, 1 << 20), LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'lines-1' });
    const parts: { number: number; lines: number; first: string }[] = [];
    s3.on(UploadPartCommand).callsFake(
      async ({ PartNumber, Body }: { PartNumber: number; Body: Uint8Array }) => {
        const text = Buffer.from(Body).toString('utf8');
        parts.push({ number: PartNumber, lines: text.split('\n').length - 1, first: text.slice(0, 200) });
        return { ETag: `"part-${PartNumber}"` };
      },
    );
    s3.on(CompleteMultipartUploadCommand).resolves({});

    // Act
    const out = await handler(input('orders/huge.csv', { size: file.length }));

    // Assess
    expect(out).toMatchObject({ valid: false, rows: 100_000, errorCount: 900_000 });
    expect(JSON.stringify(out).length).toBeLessThan(10_000);
    const report = JSON.parse(putBody('.errors.json'));
    expect(report.errors).toHaveLength(REPORT_ERRORS);
    expect(report.truncated).toBe(true);
    const linesKey = `orders/ingest_date=2024-03-01/huge.${tag('orders/huge.csv')}.csv.errors.00001.jsonl`;
    expect(report.errorFiles).toEqual([{ bucket: 'failure', key: linesKey }]);
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, { Bucket: 'failure', Key: linesKey });
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.reduce((n, p) => n + p.lines, 0)).toBe(900_000);
    const first = parts.find((p) => p.number === 1)!.first.split('\n')[0]!;
    expect(JSON.parse(first)).toEqual(report.errors[0]);
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Key: linesKey,
      UploadId: 'lines-1',
    });
  });
});

describe('validate handler: connections', () => {
  it('releases the body of a corrupt gzip file that the validator stops reading', async () => {
    // Prepare
    const gz = gzipSync(readFileSync(ORDERS_VALID));
    gz[20]! ^= 0xff;
    const tail = Array.from({ length: 100 }, () => Buffer.alloc(1 << 16, 1));
    const stream = Readable.from([gz, ...tail]);
    s3.on(GetObjectCommand).resolves({
      Body: stream as unknown as GetObjectCommandOutput['Body'],
      LastModified: LAST_MODIFIED,
    });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});

    // Act
    const out = await handler(input('orders/a.csv.gz'));

    // Assess
    expect(out).toMatchObject({ valid: false, reason: 'invalid_rows', errors: [{ rule: 'gzip' }] });
    expect(stream.destroyed).toBe(true);
  });
});

describe('validate handler: S3 errors propagate for the workflow to retry or catch', () => {
  it.each([
    [
      'NoSuchKey',
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }),
    ],
    ['SlowDown', s3Error('SlowDown', 503, 'Please reduce your request rate.')],
  ])('%s on GetObject', async (_what, error) => {
    // Prepare
    s3.on(GetObjectCommand).rejects(error);

    // Act
    const act = handler(input('orders/a.csv', { versionId: null }));

    // Assess
    await expect(act).rejects.toBe(error);
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('PreconditionFailed (412: the unversioned object was replaced) as ObjectReplaced, saying the upload is gone', async () => {
    // Prepare
    const error = s3Error(
      'PreconditionFailed',
      412,
      'At least one of the pre-conditions you specified did not hold',
    );
    s3.on(GetObjectCommand).rejects(error);

    // Act
    const act = handler(input('orders/a.csv', { versionId: null, etag: 'e1' }));

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ObjectReplaced',
      message: expect.stringContaining('s3://landing/orders/a.csv was replaced before it was read'),
      cause: error,
    });
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
  });

  it('a failed copy to raw', async () => {
    // Prepare
    const error = s3Error('AccessDenied', 403, 'Access Denied');
    s3.on(GetObjectCommand).resolves({ Body: body(readFileSync(ORDERS_VALID)), LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).rejects(error);

    // Act
    const act = handler(input('orders/a.csv'));

    // Assess
    await expect(act).rejects.toBe(error);
  });
});

describe('validate handler: two versions of one key, events out of order', () => {
  it('reads each version by its id and gives each its own raw object, whichever event comes first', async () => {
    // Prepare: v2 replaced v1 in a versioned landing bucket; v2's event is handled first
    const bodies: Record<string, Buffer> = {
      v1: readFileSync(ORDERS_VALID),
      v2: Buffer.from(readFileSync(ORDERS_VALID, 'utf8').replaceAll('USD', 'EUR')),
    };
    s3.on(GetObjectCommand).callsFake(async ({ VersionId }: { VersionId?: string }) => ({
      Body: body(bodies[VersionId ?? '']!),
      LastModified: LAST_MODIFIED,
    }));
    s3.on(CopyObjectCommand).resolves({});

    // Act
    const second = await handler(input('orders/daily.csv', { versionId: 'v2', etag: 'e2' }));
    const first = await handler(input('orders/daily.csv', { versionId: 'v1', etag: 'e1' }));

    // Assess
    const key = (version: string) =>
      `orders/ingest_date=2024-03-01/daily.${versionTag({ bucket: 'landing', key: 'orders/daily.csv', versionId: version, etag: null })}.csv`;
    expect([first.raw?.key, second.raw?.key]).toEqual([key('v1'), key('v2')]);
    expect(key('v1')).not.toBe(key('v2'));
    const copies = s3
      .commandCalls(CopyObjectCommand)
      .map((c) => [c.args[0].input.CopySource, c.args[0].input.Key]);
    expect(copies).toEqual([
      ['landing/orders/daily.csv?versionId=v2', key('v2')],
      ['landing/orders/daily.csv?versionId=v1', key('v1')],
    ]);
    expect(first.jobArguments?.['--source']).toBe(`s3://raw/${key('v1')}`);
    expect(second.jobArguments?.['--source']).toBe(`s3://raw/${key('v2')}`);
  });
});

describe('validate handler: the large-file route', () => {
  it('stops a slice early at a record boundary when the invocation nears its end, and the next one reads on from there with a Range', async () => {
    // Prepare
    const file = readFileSync(ORDERS_VALID);
    serveRanges(file);
    s3.on(CopyObjectCommand).resolves({});
    const slice = { bytes: 1 << 30, index: 1 };
    const lambda = (await import('../../../lambdas/validate/handler.ts')).handler;
    const nearlyOut = { getRemainingTimeInMillis: () => SLICE_RESERVE_MS - 1 };
    const plenty = { getRemainingTimeInMillis: () => 10 * 60_000 };

    // Act
    const first = await lambda({ ...input('orders/a.csv', { size: file.length }), slice }, nearlyOut);
    const second = await lambda(first as SliceProgress, plenty);

    // Assess
    expect(first).toMatchObject({ done: false, slice: { bytes: 1 << 30, index: 2 }, errorCount: 0 });
    const offset = (first as SliceProgress).slice.resume!.offset;
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(file.length);
    expect(file[offset - 1]).toBe(0x0a);
    const ranges = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Range);
    expect(ranges).toContain(`bytes=${offset}-`);
    expect(second).toMatchObject({ done: true, valid: true, rows: 3, bytes: file.length });
  });
});

describe('validate handler: the single-invocation route running short of time', () => {
  it('hands over to the slices (no byte limit) with the errors found so far, and the slices finish the verdict', async () => {
    // Prepare
    const file = readFileSync(ORDERS_INVALID);
    serveRanges(file);
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const lambda = (await import('../../../lambdas/validate/handler.ts')).handler;
    // Time runs short after 18 chunks of 16 bytes: lines 3 and 4 and their errors are parsed, line 5 is not.
    let asked = 0;
    const running = { getRemainingTimeInMillis: () => (++asked >= 18 ? SLICE_RESERVE_MS - 1 : 600_000) };
    const fresh = { getRemainingTimeInMillis: () => 600_000 };

    // Act
    const first = await lambda(input('orders/bad.csv', { size: file.length }), running);
    let out = first;
    while (!out.done) out = await lambda(out, fresh);

    // Assess
    expect(first).toMatchObject({
      done: false,
      slice: { bytes: Number.MAX_SAFE_INTEGER, index: 2, errorSlices: [1] },
    });
    expect(out).toMatchObject({ done: true, valid: false, reason: 'invalid_rows', rows: 4, errorCount: 10 });
    const report = JSON.parse(putBody('.errors.json'));
    const parts = s3
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input.Key!)
      .filter((k) => /\.errors\.\d{5}\.jsonl$/.test(k));
    expect(report.errorFiles.map((f: { key: string }) => f.key)).toEqual(parts);
    expect(parts.length).toBeGreaterThan(1);
    const listed = parts.flatMap((k) =>
      putBody(k.slice(k.lastIndexOf('.errors.')))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    // The oracle: one pass of the validator over the whole file.
    const oracle: unknown[] = [];
    const orders = (await loadDatasets(DATASETS_DIR)).get('orders')!;
    await validateCsv(Readable.from([file]), orders, {
      onError: ({ line, column, value, rule, message }) =>
        oracle.push({ line, column, value, rule, message }),
    });
    expect(listed).toEqual(oracle);
  });

  it('rejects a gzip file that runs out of time as too_large: gzip cannot go on in slices', async () => {
    // Prepare
    const gz = gzipSync(readFileSync(ORDERS_VALID));
    s3.on(GetObjectCommand).resolves({ Body: body(gz, 16), LastModified: LAST_MODIFIED });
    s3.on(HeadObjectCommand).resolves({ LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const lambda = (await import('../../../lambdas/validate/handler.ts')).handler;

    // Act
    const out = await lambda(input('orders/a.csv.gz', { size: gz.length }), {
      getRemainingTimeInMillis: () => SLICE_RESERVE_MS - 1,
    });

    // Assess
    expect(out).toMatchObject({
      done: true,
      valid: false,
      reason: 'too_large',
      errors: [{ rule: 'too_large', message: expect.stringContaining('within one invocation') }],
    });
  });
});

describe('validate handler: objects above 5 GB', () => {
  const SIZE = 12 * GIB + 12_345;

  function mockMultipart(failPart?: number): void {
    s3.on(GetObjectCommand).resolves({ Body: body(readFileSync(ORDERS_VALID)), LastModified: LAST_MODIFIED });
    s3.on(HeadObjectCommand).resolves({
      LastModified: LAST_MODIFIED,
      ContentLength: SIZE,
      ContentType: 'text/csv',
      Metadata: { producer: 'shop' },
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCopyCommand).callsFake(async (part: { PartNumber?: number }) => {
      if (part.PartNumber === failPart)
        throw s3Error('InternalError', 500, 'We encountered an internal error.');
      return { CopyPartResult: { ETag: `"etag-${part.PartNumber}"` } };
    });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
  }

  it('copies with UploadPartCopy parts whose ranges cover the object exactly once', async () => {
    // Prepare
    mockMultipart();

    // Act
    const out = await handler(input('orders/big.csv', { size: SIZE }));

    // Assess
    const rawKey = `orders/ingest_date=2024-03-01/big.${tag('orders/big.csv')}.csv`;
    expect(out.raw).toEqual({ bucket: 'raw', key: rawKey });
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: 'raw',
      Key: rawKey,
      ContentType: 'text/csv',
      Metadata: { producer: 'shop' },
    });
    const parts = s3
      .commandCalls(UploadPartCopyCommand)
      .map((call) => call.args[0].input)
      .sort((a, b) => a.PartNumber! - b.PartNumber!);
    expect(parts).toHaveLength(Math.ceil(SIZE / COPY_PART_BYTES));
    let next = 0;
    for (const [index, part] of parts.entries()) {
      expect(part).toMatchObject({
        Bucket: 'raw',
        Key: rawKey,
        UploadId: 'upload-1',
        PartNumber: index + 1,
        CopySource: 'landing/orders/big.csv?versionId=v1',
      });
      const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(part.CopySourceRange!)!.map(Number);
      expect(first).toBe(next);
      expect(last! - first! + 1).toBeLessThanOrEqual(COPY_PART_BYTES);
      next = last! + 1;
    }
    expect(next).toBe(SIZE);
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Bucket: 'raw',
      Key: rawKey,
      UploadId: 'upload-1',
      MultipartUpload: {
        Parts: parts.map((p) =>
          expect.objectContaining({ PartNumber: p.PartNumber, ETag: `"etag-${p.PartNumber}"` }),
        ),
      },
    });
    expect(s3).not.toHaveReceivedCommand(AbortMultipartUploadCommand);
  });

  it('aborts the upload and fails when a part copy fails', async () => {
    // Prepare
    mockMultipart(3);

    // Act
    const act = handler(input('orders/big.csv', { size: SIZE }));

    // Assess
    await expect(act).rejects.toThrow('We encountered an internal error.');
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      Bucket: 'raw',
      Key: `orders/ingest_date=2024-03-01/big.${tag('orders/big.csv')}.csv`,
      UploadId: 'upload-1',
    });
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('uses a single CopyObject at exactly 5 GB', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(readFileSync(ORDERS_VALID)), LastModified: LAST_MODIFIED });
    s3.on(CopyObjectCommand).resolves({});

    // Act
    await handler(input('orders/big.csv', { size: 5 * GIB }));

    // Assess
    expect(s3).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(s3).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });
});

describe('copyRanges and copySource', () => {
  it('covers an object exactly, the last part shorter', () => {
    // Act
    const ranges = copyRanges(10, 4);

    // Assess
    expect(ranges).toEqual([
      { first: 0, last: 3 },
      { first: 4, last: 7 },
      { first: 8, last: 9 },
    ]);
  });

  it('grows parts to stay within 10,000 for a 5 TiB object', () => {
    // Prepare
    const size = 5 * 1024 ** 4;

    // Act
    const ranges = copyRanges(size);

    // Assess
    expect(ranges.length).toBeLessThanOrEqual(10_000);
    expect(ranges.at(-1)!.last).toBe(size - 1);
  });

  it('encodes each key segment and the version id', () => {
    // Act
    const source = copySource({
      bucket: 'landing',
      key: 'orders/a b/c+d#é?.csv',
      versionId: 'v/1',
      version: 'v/1',
      etag: null,
      size: 1,
      dataset: 'orders',
    });

    // Assess
    expect(source).toBe('landing/orders/a%20b/c%2Bd%23%C3%A9%3F.csv?versionId=v%2F1');
  });
});

describe('validate handler configuration', () => {
  it('fails on import, naming every missing variable', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('RAW_BUCKET', '');
    vi.stubEnv('CURATED_BUCKET', '');

    // Act
    const act = import('../../../lambdas/validate/handler.ts');

    // Assess
    await expect(act).rejects.toThrow('missing environment variables: RAW_BUCKET, CURATED_BUCKET');
  });

  it('fails an invocation when the datasets folder cannot be read, naming it', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('RAW_BUCKET', 'raw');
    vi.stubEnv('CURATED_BUCKET', 'curated');
    vi.stubEnv('DATASETS_DIR', '/nonexistent/datasets');
    const fresh = await import('../../../lambdas/validate/handler.ts');

    // Act
    const act = fresh.handler(input('orders/a.csv'));

    // Assess
    await expect(act).rejects.toThrow('cannot read the datasets folder "/nonexistent/datasets": ENOENT');
    expect(s3).not.toHaveReceivedAnyCommand();
  });
});
