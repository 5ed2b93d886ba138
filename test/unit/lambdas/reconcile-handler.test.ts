import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { attemptName, executionName } from '../../../lambdas/trigger/core.ts';
import { type ExecutionStatus, MAX_RETRIES, requestFor } from '../../../lib/reconcile/reconcile.ts';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ledger = mockClient(DynamoDBDocumentClient);
let handler: typeof import('../../../lambdas/reconcile/handler.ts')['handler'];

beforeAll(async () => {
  vi.stubEnv('LANDING_BUCKET', 'landing-bucket');
  vi.stubEnv('STATE_MACHINE_ARN', 'arn:aws:states:eu-west-1:123456789012:stateMachine:ingest');
  vi.stubEnv('REDRIVE', 'true');
  vi.stubEnv('LEDGER_TABLE', 'csvlake-dev-ledger');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ handler } = await import('../../../lambdas/reconcile/handler.ts'));
});

beforeEach(() => {
  // No ledger item unless a test gives one: the engine's word decides, as for a lost event.
  ledger.on(GetCommand).resolves({});
});

afterEach(() => {
  s3.reset();
  sfn.reset();
  ledger.reset();
  vi.restoreAllMocks();
});

afterAll(() => {
  vi.unstubAllEnvs();
});

const EXECUTION = executionName(
  requestFor('landing-bucket', { key: 'orders/a.csv', size: 5, etag: 'e', versionId: 'v1' })!,
);
const EXECUTION_ARN = `arn:aws:states:eu-west-1:123456789012:execution:ingest:${EXECUTION}`;

/** DescribeExecution: `status` for the trigger's execution, none for any later attempt. */
function firstAttempt(status: ExecutionStatus) {
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    if (executionArn === EXECUTION_ARN) return { status };
    throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
  });
}

/** The EMF lines the handler writes to stdout, parsed. */
function captureEmf(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const parsed = JSON.parse(String(chunk)) as Record<string, unknown>;
    if ('_aws' in parsed) lines.push(parsed);
    return true;
  });
  return lines;
}

describe('the scheduled reconciler', () => {
  it.each(['CURATED', 'REJECTED'])(
    'takes a file the ledger says is %s as ended without asking Step Functions, which may have forgotten it',
    async (status) => {
      // Prepare: the execution is past Step Functions' 90 days (it no longer exists).
      s3.on(ListObjectVersionsCommand).resolves({
        Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
      });
      ledger
        .on(GetCommand, {
          TableName: 'csvlake-dev-ledger',
          Key: { objectKey: 'orders/a.csv', objectVersion: 'v1' },
          ConsistentRead: false,
        })
        .resolves({ Item: { objectKey: 'orders/a.csv', objectVersion: 'v1', status } });
      firstAttempt('FAILED');
      captureEmf();

      // Act
      const report = await handler();

      // Assess
      expect(report).toMatchObject({ objects: 1, terminal: 1, orphans: [], redriven: 0 });
      expect(sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    },
  );

  it.each<[string, string, 'failed' | 'aborted', number | null]>([
    ['FAILED', 'the trigger’s execution', 'failed', 1],
    ['VALIDATED', 'the trigger’s execution', 'aborted', 1],
    ['FAILED', 'its second re-drive', 'failed', 3],
    ['FAILED', 'its last re-drive', 'failed', null],
  ])(
    'takes a %s item whose executions Step Functions has forgotten (%s) from the ledger, and keeps the retry cap',
    async (status, _which, reason, next) => {
      // Prepare: past 90 days Step Functions knows none of the file's executions.
      const last = next === null ? MAX_RETRIES : next === 3 ? 2 : 0;
      s3.on(ListObjectVersionsCommand).resolves({
        Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
      });
      ledger.on(GetCommand).resolves({
        Item: {
          objectKey: 'orders/a.csv',
          objectVersion: 'v1',
          status,
          execution: attemptName(EXECUTION, last),
        },
      });
      sfn
        .on(DescribeExecutionCommand)
        .rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));
      sfn.on(StartExecutionCommand).resolves({});
      captureEmf();

      // Act
      const report = await handler();

      // Assess
      expect(report.orphans).toEqual([
        expect.objectContaining({ key: 'orders/a.csv', reason, execution: EXECUTION }),
      ]);
      if (next === null) {
        expect(report.orphans[0]!.notRedriven).toContain(`4 executions of it ended without an outcome`);
        expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      } else {
        expect(report.redriven).toBe(1);
        expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
        expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: attemptName(EXECUTION, next) });
      }
    },
  );

  it('asks Step Functions about a file whose ledger item has not ended, and re-drives it when its execution failed', async () => {
    // Prepare: the ledger says VALIDATED; the execution failed without its FAILED write.
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
    });
    ledger
      .on(GetCommand)
      .resolves({ Item: { objectKey: 'orders/a.csv', objectVersion: 'v1', status: 'VALIDATED' } });
    firstAttempt('TIMED_OUT');
    sfn.on(StartExecutionCommand).resolves({});
    captureEmf();

    // Act
    const report = await handler();

    // Assess
    expect(report.orphans).toEqual([
      { key: 'orders/a.csv', versionId: 'v1', execution: EXECUTION, reason: 'timed out' },
    ]);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: attemptName(EXECUTION, 1) });
  });

  it('runs a failed file again as a new execution and publishes the orphan count as an EMF metric', async () => {
    // Prepare
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
    });
    firstAttempt('FAILED');
    sfn.on(StartExecutionCommand).resolves({});
    const emf = captureEmf();

    // Act
    const report = await handler();

    // Assess
    expect(report).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans: [{ key: 'orders/a.csv', versionId: 'v1', execution: EXECUTION, reason: 'failed' }],
      redriven: 1,
      errors: [],
    });
    expect(s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, { Bucket: 'landing-bucket' });
    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: attemptName(EXECUTION, 1) });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'CsvDataLake', Dimensions: [[]], Metrics: [{ Name: 'Orphans', Unit: 'Count' }] },
        ],
      },
      Orphans: 1,
    });
  });

  it.each<[ExecutionStatus, 'failed' | 'timed out' | 'aborted' | null]>([
    ['SUCCEEDED', null],
    ['RUNNING', null],
    ['PENDING_REDRIVE', null],
    ['FAILED', 'failed'],
    ['TIMED_OUT', 'timed out'],
    ['ABORTED', 'aborted'],
  ])('an execution %s: an orphan to re-drive only if it ended without an outcome', async (status, reason) => {
    // Prepare
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
    });
    firstAttempt(status);
    sfn.on(StartExecutionCommand).resolves({});
    const emf = captureEmf();

    // Act
    const report = await handler();

    // Assess: the Orphans metric, which the alarm watches, counts it too.
    const orphans = reason ? [{ key: 'orders/a.csv', versionId: 'v1', execution: EXECUTION, reason }] : [];
    expect(report.orphans).toEqual(orphans);
    expect(report.redriven).toBe(orphans.length);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, orphans.length);
    expect(emf.map((l) => l.Orphans)).toEqual([orphans.length]);
  });

  it('counts an object it could not check among the files without an outcome, and checks the rest', async () => {
    // Prepare: the first object's DescribeExecution is throttled; the second was never started.
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' },
        { Key: 'orders/b.csv', VersionId: 'v1', Size: 5, ETag: '"e"' },
      ],
    });
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
      if (executionArn === EXECUTION_ARN)
        throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
      throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    });
    sfn.on(StartExecutionCommand).resolves({});
    const emf = captureEmf();

    // Act
    const report = await handler();

    // Assess
    expect(report.errors.map((e) => e.key)).toEqual(['orders/a.csv']);
    expect(report.orphans.map((o) => o.key)).toEqual(['orders/b.csv']);
    expect(emf.map((l) => l.Orphans)).toEqual([2]);
  });

  it('counts a file it gave up on once in the metric: an orphan that says why', async () => {
    // Prepare: the trigger's execution and all three later attempts failed.
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const emf = captureEmf();

    // Act
    const report = await handler();

    // Assess
    expect(report.orphans.map((o) => o.notRedriven !== undefined)).toEqual([true]);
    expect(report.errors).toEqual([]);
    expect(emf.map((l) => l.Orphans)).toEqual([1]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('emits the metric when the listing breaks off, counting it, then fails so Lambda retries the run', async () => {
    // Prepare: one page of versions, then S3 refuses the next.
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        IsTruncated: true,
        NextKeyMarker: 'orders/a.csv',
        NextVersionIdMarker: 'v1',
        Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
      })
      .rejects(Object.assign(new Error('slow down'), { name: 'SlowDown' }));
    firstAttempt('FAILED');
    sfn.on(StartExecutionCommand).resolves({});
    const emf = captureEmf();

    // Act
    const run = handler();

    // Assess: the object listed before the break was still re-driven.
    // (rejects.toThrow passes on a rejection with undefined: match the error itself)
    await expect(run).rejects.toMatchObject({ name: 'SlowDown', message: 'slow down' });
    expect(emf.map((l) => l.Orphans)).toEqual([2]);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: attemptName(EXECUTION, 1) });
  });

  it('only counts, never starts anything, when the stack says not to re-drive (REDRIVE=false)', async () => {
    // Prepare: the handler reads its environment once, at import: import a fresh copy.
    vi.resetModules();
    vi.stubEnv('REDRIVE', 'false');
    const fresh = (await import('../../../lambdas/reconcile/handler.ts')).handler;
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
    });
    firstAttempt('FAILED');
    const emf = captureEmf();

    // Act
    const report = await fresh();
    vi.stubEnv('REDRIVE', 'true');

    // Assess
    expect(report.orphans.map((o) => o.reason)).toEqual(['failed']);
    expect(report.redriven).toBe(0);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(emf.map((l) => l.Orphans)).toEqual([1]);
  });
});
