/**
 * The reconciler: its core on every execution status, against an in-memory ledger (which stands in
 * for the workflow engine, not for the code under test), and its AWS adapter (S3 versions and Step
 * Functions through aws-sdk-client-mock), which must map each DescribeExecution status the same way.
 */

import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';
import { attemptName, executionName, MAX_EXECUTION_NAME } from '../../lambdas/trigger/core.ts';
import { PIPELINE_OUTPUTS, STORAGE_OUTPUTS } from '../../lib/aws/stack.ts';
import { landedVersions, MAX_RETRIES, stepFunctionsLedger } from '../../lib/reconcile/aws-ledger.ts';
import {
  type ExecutionStatus,
  type LandedObject,
  type Orphan,
  type ReconcileReport,
  reconcile,
  requestFor,
  type WorkflowLedger,
} from '../../lib/reconcile/reconcile.ts';
import { runCli } from './cli-run.ts';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ingest';

afterEach(() => {
  s3.reset();
  sfn.reset();
});

const nameOf = (key: string, versionId: string | null, etag = 'e') =>
  executionName(requestFor('landing', { key, size: 10, etag, versionId })!);
const arnOf = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:ingest:${name}`;

/** What the reconciler must make of one execution status: where it counts, and what it runs. */
interface StatusCase {
  readonly label: string;
  /** As the workflow engine reports it; undefined when no execution of that name exists. */
  readonly status: ExecutionStatus | undefined;
  readonly terminal: number;
  readonly running: number;
  readonly reason: Orphan['reason'] | null;
  /** What `--redrive` does about it: start the execution the trigger would have, or re-drive it. */
  readonly action: 'start' | 'redrive' | null;
}

// Every status Step Functions reports, and none: only SUCCEEDED is an outcome (raw and curated, or
// failure with a report); a FAILED, TIMED_OUT or ABORTED execution left its file without one.
const STATUS_CASES: StatusCase[] = [
  { label: 'SUCCEEDED', status: 'SUCCEEDED', terminal: 1, running: 0, reason: null, action: null },
  { label: 'RUNNING', status: 'RUNNING', terminal: 0, running: 1, reason: null, action: null },
  {
    label: 'PENDING_REDRIVE',
    status: 'PENDING_REDRIVE',
    terminal: 0,
    running: 1,
    reason: null,
    action: null,
  },
  { label: 'FAILED', status: 'FAILED', terminal: 0, running: 0, reason: 'failed', action: 'redrive' },
  {
    label: 'TIMED_OUT',
    status: 'TIMED_OUT',
    terminal: 0,
    running: 0,
    reason: 'timed out',
    action: 'redrive',
  },
  { label: 'ABORTED', status: 'ABORTED', terminal: 0, running: 0, reason: 'aborted', action: 'redrive' },
  {
    label: 'no execution',
    status: undefined,
    terminal: 0,
    running: 0,
    reason: 'never started',
    action: 'start',
  },
];

/** The listed object of a status case: one key per case, so a listing can hold them all. */
const objectOf = (c: StatusCase): LandedObject => ({
  key: `orders/${c.label.replace(' ', '-')}.csv`,
  size: 10,
  etag: 'e',
  versionId: 'v1',
});

/** The report one object of that status gives, with or without re-driving. */
function expectedReport(c: StatusCase, redrive: boolean): ReconcileReport {
  const object = objectOf(c);
  const execution = nameOf(object.key, 'v1');
  return {
    objects: 1,
    terminal: c.terminal,
    running: c.running,
    orphans: c.reason ? [{ key: object.key, versionId: 'v1', execution, reason: c.reason }] : [],
    redriven: redrive && c.action ? 1 : 0,
    errors: [],
  };
}

/** A workflow engine in memory: a status per execution name; it records what it is asked to run. */
function memoryLedger(statuses: ReadonlyMap<string, ExecutionStatus>) {
  const calls: { action: 'start' | 'redrive'; name: string; request: IngestRequest }[] = [];
  const ledger: WorkflowLedger = {
    status: async (name) => statuses.get(name),
    start: async (name, request) => void calls.push({ action: 'start', name, request }),
    redrive: async (name, request) => void calls.push({ action: 'redrive', name, request }),
  };
  return { ledger, calls };
}

async function* listing(objects: readonly LandedObject[]): AsyncGenerator<LandedObject> {
  yield* objects;
}

describe('reconcile, on each execution status', () => {
  it.each(STATUS_CASES.map((c) => [c.label, c] as const))(
    '%s: counted and re-driven as its outcome says',
    async (_label, c) => {
      // Prepare
      const object = objectOf(c);
      const name = nameOf(object.key, 'v1');
      const statuses = new Map(c.status ? [[name, c.status]] : []);
      const reporting = memoryLedger(statuses);
      const redriving = memoryLedger(statuses);

      // Act
      const report = await reconcile('landing', listing([object]), reporting.ledger);
      const redriven = await reconcile('landing', listing([object]), redriving.ledger, { redrive: true });

      // Assess
      expect(report).toEqual(expectedReport(c, false));
      expect(reporting.calls).toEqual([]);
      expect(redriven).toEqual(expectedReport(c, true));
      expect(redriving.calls).toEqual(
        c.action ? [{ action: c.action, name, request: requestFor('landing', object) }] : [],
      );
    },
  );

  it('starts only the never-started and re-drives exactly the failed, timed-out and aborted', async () => {
    // Prepare: one object of every status in one listing, and a folder marker.
    const objects = STATUS_CASES.map(objectOf);
    const statuses = new Map<string, ExecutionStatus>();
    for (const c of STATUS_CASES) if (c.status) statuses.set(nameOf(objectOf(c).key, 'v1'), c.status);
    const { ledger, calls } = memoryLedger(statuses);
    const marker: LandedObject = { key: 'orders/sub/', size: 0, etag: 'x', versionId: 'v9' };

    // Act
    const report = await reconcile('landing', listing([...objects, marker]), ledger, { redrive: true });

    // Assess
    const orphan = (key: string, reason: Orphan['reason']) => ({
      key,
      versionId: 'v1',
      execution: nameOf(key, 'v1'),
      reason,
    });
    expect(report).toEqual({
      objects: 7,
      terminal: 1,
      running: 2,
      orphans: [
        orphan('orders/FAILED.csv', 'failed'),
        orphan('orders/TIMED_OUT.csv', 'timed out'),
        orphan('orders/ABORTED.csv', 'aborted'),
        orphan('orders/no-execution.csv', 'never started'),
      ],
      redriven: 4,
      errors: [],
    });
    expect(calls.map((c) => [c.action, c.request.key])).toEqual([
      ['redrive', 'orders/FAILED.csv'],
      ['redrive', 'orders/TIMED_OUT.csv'],
      ['redrive', 'orders/ABORTED.csv'],
      ['start', 'orders/no-execution.csv'],
    ]);
  });
});

describe('reconcile, on keys ending in "/"', () => {
  it('skips an empty folder marker but starts an execution for one that holds data (F9)', async () => {
    // Prepare: the trigger ignores only empty markers, so the reconciler must count the other one
    const empty: LandedObject = { key: 'orders/sub/', size: 0, etag: 'x', versionId: 'v1' };
    const full: LandedObject = { key: 'orders/withbody/', size: 1523, etag: 'e', versionId: 'v1' };
    const { ledger, calls } = memoryLedger(new Map());

    // Act
    const report = await reconcile('landing', listing([empty, full]), ledger, { redrive: true });

    // Assess
    const execution = executionName(requestFor('landing', full)!);
    expect(requestFor('landing', empty)).toBeNull();
    expect(report).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans: [{ key: 'orders/withbody/', versionId: 'v1', execution, reason: 'never started' }],
      redriven: 1,
      errors: [],
    });
    expect(calls.map((c) => [c.action, c.request.key, c.request.size])).toEqual([
      ['start', 'orders/withbody/', 1523],
    ]);
  });
});

/** DescribeExecution answering from a table of execution names; any other name does not exist. */
function describeFrom(statuses: Readonly<Record<string, string>>) {
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    const found = statuses[executionArn.split(':').at(-1)!];
    if (!found) throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    return { status: found };
  });
}

/** One reconcile with re-driving of the landing bucket against the mocked S3 and Step Functions. */
const sweep = (redrive = true) =>
  reconcile(
    'landing',
    landedVersions(new S3Client({}), 'landing'),
    stepFunctionsLedger(new SFNClient({}), ARN),
    {
      redrive,
    },
  );

describe('reconcile against Step Functions, on each execution status', () => {
  it.each(STATUS_CASES.map((c) => [c.label, c] as const))(
    '%s: DescribeExecution maps to the same report, and --redrive starts the right execution',
    async (_label, c) => {
      // Prepare
      const object = objectOf(c);
      const name = nameOf(object.key, 'v1');
      s3.on(ListObjectVersionsCommand).resolves({
        Versions: [{ Key: object.key, VersionId: 'v1', Size: 10, ETag: '"e"' }],
      });
      describeFrom(c.status ? { [name]: c.status } : {});
      sfn.on(StartExecutionCommand).resolves({});

      // Act
      const report = await sweep();

      // Assess: a failed one is run again as a new execution, attempt 1 (never RedriveExecution,
      // which would only re-run the Fail state that caught the error).
      expect(report).toEqual(expectedReport(c, true));
      expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: arnOf(name) });
      expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, c.action ? 1 : 0);
      if (c.action)
        expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
          stateMachineArn: ARN,
          name: c.action === 'start' ? name : attemptName(name, 1),
          input: JSON.stringify(requestFor('landing', object)),
        });
    },
  );

  it.each(STATUS_CASES.map((c) => [c.label, c] as const))(
    '%s: asks about later attempts only after a run that ended without an outcome',
    async (_label, c) => {
      const object = objectOf(c);
      s3.on(ListObjectVersionsCommand).resolves({
        Versions: [{ Key: object.key, VersionId: 'v1', Size: 10, ETag: '"e"' }],
      });
      describeFrom(c.status ? { [nameOf(object.key, 'v1')]: c.status } : {});
      sfn.on(StartExecutionCommand).resolves({});

      await sweep();

      const failed = c.reason !== null && c.reason !== 'never started';
      expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, failed ? 2 : 1);
    },
  );

  it('treats a status it does not know as failed: reported and run again, never silently counted', async () => {
    // Prepare: Step Functions may add statuses; the adapter passes DescribeExecution's through.
    const object: LandedObject = { key: 'orders/a.csv', size: 10, etag: 'e', versionId: 'v1' };
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: object.key, VersionId: 'v1', Size: 10, ETag: '"e"' }],
    });
    const name = nameOf(object.key, 'v1');
    describeFrom({ [name]: 'PAUSED' });
    sfn.on(StartExecutionCommand).resolves({});

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans: [{ key: object.key, versionId: 'v1', execution: name, reason: 'failed' }],
      redriven: 1,
      errors: [],
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: attemptName(name, 1) });
  });

  it('reports an object whose DescribeExecution fails, starts nothing for it, and checks the next', async () => {
    // Prepare: throttling must not be mistaken for "never started" (that would start a duplicate),
    // nor end the sweep: the object after it is still checked and started.
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'orders/a.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
        { Key: 'orders/b.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
      ],
    });
    const throttled = nameOf('orders/a.csv', 'v1');
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
      if (executionArn.endsWith(throttled))
        throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
      throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    });
    sfn.on(StartExecutionCommand).resolves({});

    // Act
    const report = await sweep();

    // Assess
    expect(report.errors).toEqual([
      {
        key: 'orders/a.csv',
        versionId: 'v1',
        execution: throttled,
        message: 'ThrottlingException: rate exceeded',
      },
    ]);
    expect(report.orphans.map((o) => o.key)).toEqual(['orders/b.csv']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: nameOf('orders/b.csv', 'v1') });
  });
});

describe('reconcile against Step Functions, over several attempts at one object', () => {
  const KEY = 'orders/a.csv';
  const listed = () =>
    s3
      .on(ListObjectVersionsCommand)
      .resolves({ Versions: [{ Key: KEY, VersionId: 'v1', Size: 10, ETag: '"e"' }] });
  const attempts = (...statuses: string[]) =>
    Object.fromEntries(statuses.map((status, n) => [attemptName(nameOf(KEY, 'v1'), n), status]));

  it('reads the outcome of the latest attempt: a failure that a later attempt cured is ended', async () => {
    listed();
    describeFrom(attempts('FAILED', 'TIMED_OUT', 'SUCCEEDED'));

    const report = await sweep();

    expect(report).toMatchObject({ terminal: 1, orphans: [], redriven: 0, errors: [] });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('counts an attempt still running as running, not as the failure before it', async () => {
    listed();
    describeFrom(attempts('FAILED', 'RUNNING'));

    const report = await sweep();

    expect(report).toMatchObject({ running: 1, orphans: [], redriven: 0 });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('starts the attempt after the latest failed one', async () => {
    listed();
    describeFrom(attempts('FAILED', 'FAILED'));
    sfn.on(StartExecutionCommand).resolves({});

    const report = await sweep();

    expect(report.orphans).toEqual([
      { key: KEY, versionId: 'v1', execution: nameOf(KEY, 'v1'), reason: 'failed' },
    ]);
    expect(report.redriven).toBe(1);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: attemptName(nameOf(KEY, 'v1'), 2) });
  });

  it(`gives up after ${MAX_RETRIES} more attempts: one orphan saying why, naming the last, nothing started`, async () => {
    listed();
    const failed = Array.from({ length: MAX_RETRIES + 1 }, () => 'FAILED');
    describeFrom(attempts(...failed));

    const report = await sweep();

    expect(report.orphans).toHaveLength(1);
    expect(report.orphans[0]!.reason).toBe('failed');
    expect(report.orphans[0]!.notRedriven).toContain(`${MAX_RETRIES + 1} executions of it ended FAILED`);
    expect(report.orphans[0]!.notRedriven).toContain(attemptName(nameOf(KEY, 'v1'), MAX_RETRIES));
    // Counted once: an orphan, not also an error.
    expect(report.errors).toEqual([]);
    expect(report.redriven).toBe(0);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('asks Step Functions about each attempt once per sweep, re-driving included', async () => {
    listed();
    describeFrom(attempts('FAILED', 'FAILED'));
    sfn.on(StartExecutionCommand).resolves({});

    await sweep();

    // The trigger's execution, -r1, and -r2 found missing: three, however the sweep uses them.
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 3);
  });

  it('takes an attempt that already exists (another sweep started it since) as started, and goes on', async () => {
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: KEY, VersionId: 'v1', Size: 10, ETag: '"e"' },
        { Key: 'orders/b.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
      ],
    });
    describeFrom(attempts('FAILED'));
    sfn
      .on(StartExecutionCommand, { name: attemptName(nameOf(KEY, 'v1'), 1) })
      .rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    sfn.on(StartExecutionCommand, { name: nameOf('orders/b.csv', 'v1') }).resolves({});

    const report = await sweep();

    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => o.notRedriven)).toEqual([undefined, undefined]);
    expect(report.redriven).toBe(2);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
  });
});

describe('the Step Functions ledger on its own', () => {
  const KEY = 'orders/a.csv';
  const request = () => requestFor('landing', { key: KEY, size: 10, etag: 'e', versionId: 'v1' })!;

  it('starts nothing when asked to re-drive a file whose run has since succeeded', async () => {
    describeFrom({ [nameOf(KEY, 'v1')]: 'SUCCEEDED' });
    const ledger = stepFunctionsLedger(new SFNClient({}), ARN);

    await ledger.redrive(nameOf(KEY, 'v1'), request());

    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('passes on a StartExecution error other than ExecutionAlreadyExists', async () => {
    describeFrom({ [nameOf(KEY, 'v1')]: 'FAILED' });
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const ledger = stepFunctionsLedger(new SFNClient({}), ARN);

    await expect(ledger.redrive(nameOf(KEY, 'v1'), request())).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(ledger.start(nameOf(KEY, 'v1'), request())).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('lists an empty bucket (no Versions in the answer) as no object', async () => {
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });

    const report = await sweep();

    expect(report).toMatchObject({ objects: 0, orphans: [], errors: [] });
  });
});

describe('attempt names', () => {
  it('fit 80 characters of [A-Za-z0-9_-], keep the whole hash, and differ per attempt and object', () => {
    const names = ['orders/a.csv', `orders/${'x'.repeat(200)}.csv`, 'ß/é.csv'].flatMap((key) => {
      const base = nameOf(key, 'v1');
      return [0, 1, 2, MAX_RETRIES, 12].map((n) => ({ base, name: attemptName(base, n), n }));
    });
    for (const { base, name, n } of names) {
      expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
      expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME);
      expect(name).toContain(base.slice(-33));
      if (n === 0) expect(name).toBe(base);
      else expect(name.endsWith(`-r${n}`)).toBe(true);
    }
    expect(new Set(names.map((x) => x.name)).size).toBe(names.length);
  });

  it('keep a short name whole and cut only the readable prefix of a long one', () => {
    const short = nameOf('orders/a.csv', 'v1');
    expect(attemptName(short, 1)).toBe(`${short}-r1`);
    const long = nameOf(`orders/${'x'.repeat(200)}.csv`, 'v1');
    const [prefix, hash] = [long.slice(0, -33), long.slice(-32)];
    expect(prefix).toHaveLength(47);
    expect(attemptName(long, 3)).toBe(`${prefix.slice(0, 44)}-${hash}-r3`);
    expect(attemptName(long, 12)).toBe(`${prefix.slice(0, 43)}-${hash}-r12`);
  });
});

describe('reconcile against a deployed stack', () => {
  it('checks every version of every landed object and re-drives the ones without an outcome', async () => {
    // Prepare: two pages of versions; one ended, one running, one never started, one failed.
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({
        IsTruncated: true,
        NextKeyMarker: 'orders/b.csv',
        NextVersionIdMarker: 'v2',
        Versions: [
          { Key: 'orders/a.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
          { Key: 'orders/b.csv', VersionId: 'v2', Size: 10, ETag: '"e"' },
        ],
      })
      .resolvesOnce({
        IsTruncated: false,
        Versions: [
          { Key: 'orders/b.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
          { Key: 'orders/c d.csv', VersionId: 'v3', Size: 10, ETag: '"e"' },
          { Key: 'orders/sub/', VersionId: 'v4', Size: 0, ETag: '"x"' },
        ],
      });
    describeFrom({
      [nameOf('orders/a.csv', 'v1')]: 'SUCCEEDED',
      [nameOf('orders/b.csv', 'v2')]: 'RUNNING',
      [nameOf('orders/c d.csv', 'v3')]: 'FAILED',
    });
    sfn.on(StartExecutionCommand).resolves({});

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({
      objects: 4,
      terminal: 1,
      running: 1,
      orphans: [
        {
          key: 'orders/b.csv',
          versionId: 'v1',
          execution: nameOf('orders/b.csv', 'v1'),
          reason: 'never started',
        },
        {
          key: 'orders/c d.csv',
          versionId: 'v3',
          execution: nameOf('orders/c d.csv', 'v3'),
          reason: 'failed',
        },
      ],
      redriven: 2,
      errors: [],
    });
    expect(s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, {
      Bucket: 'landing',
      KeyMarker: 'orders/b.csv',
      VersionIdMarker: 'v2',
    });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: arnOf(nameOf('orders/a.csv', 'v1')),
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ARN,
      name: nameOf('orders/b.csv', 'v1'),
      input: JSON.stringify({
        bucket: 'landing',
        key: 'orders/b.csv',
        versionId: 'v1',
        etag: 'e',
        size: 10,
        dataset: 'orders',
        version: 'v1',
      }),
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ARN,
      name: attemptName(nameOf('orders/c d.csv', 'v3'), 1),
    });
    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
  });

  it('names the execution the trigger would: same name for the listing as for the S3 event', () => {
    // An S3 event carries the key URL-encoded ('+' for a space); the listing gives it plain.
    const fromListing = requestFor('landing', {
      key: 'orders/Q1 + é.csv',
      size: 3,
      etag: 'e',
      versionId: null,
    });
    expect(fromListing).toEqual({
      bucket: 'landing',
      key: 'orders/Q1 + é.csv',
      versionId: null,
      etag: 'e',
      size: 3,
      dataset: 'orders',
      version: 'etag:e',
    });
  });

  it('reports without touching anything when not asked to re-drive', async () => {
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/x.csv', VersionId: 'null', Size: 1, ETag: '"e"' }],
    });
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('none'), { name: 'ExecutionDoesNotExist' }));

    const report = await sweep(false);

    expect(report.orphans).toEqual([
      {
        key: 'orders/x.csv',
        versionId: null,
        execution: nameOf('orders/x.csv', null),
        reason: 'never started',
      },
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
  });
});

describe('datalake reconcile --aws', () => {
  const cfn = mockClient(CloudFormationClient);
  const ledger = mockClient(DynamoDBDocumentClient);
  afterEach(() => {
    cfn.reset();
    ledger.reset();
  });
  /** The two stacks of stage `test` as CloudFormation describes them: landing is `landing`, the machine ARN. */
  const deployed = () => {
    const values: Record<string, string> = { LandingBucketName: 'landing', StateMachineArn: ARN };
    const described = (StackName: string, names: Record<string, string>) => ({
      Stacks: [
        {
          StackName,
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE' as const,
          Outputs: Object.values(names).map((OutputKey) => ({
            OutputKey,
            OutputValue: values[OutputKey] ?? `${OutputKey}-value`,
          })),
        },
      ],
    });
    cfn
      .on(DescribeStacksCommand, { StackName: 'csvlake-test-storage' })
      .resolves(described('csvlake-test-storage', STORAGE_OUTPUTS));
    cfn
      .on(DescribeStacksCommand, { StackName: 'csvlake-test-pipeline' })
      .resolves(described('csvlake-test-pipeline', PIPELINE_OUTPUTS));
    // No ledger items: Step Functions decides each object's status.
    ledger.on(GetCommand).resolves({});
  };
  const run = (redrive: boolean) =>
    runCli([
      'reconcile',
      '--aws',
      '--stage',
      'test',
      '--region',
      'eu-west-1',
      ...(redrive ? ['--redrive'] : []),
    ]);

  it('finds the stack by its stage: the landing bucket and state machine from its outputs, the ledger table too', async () => {
    // Prepare
    deployed();
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 10, ETag: '"e"' }],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

    // Act
    const { code, out } = await run(false);

    // Assess
    expect(code).toBe(0);
    expect(out).toContain('objects: 1, ended: 1');
    expect(s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, { Bucket: 'landing' });
    expect(ledger).toHaveReceivedCommandWith(GetCommand, {
      TableName: `${STORAGE_OUTPUTS.ledgerTable}-value`,
      Key: { objectKey: 'orders/a.csv', objectVersion: 'v1' },
    });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: arnOf(nameOf('orders/a.csv', 'v1')),
    });
  });

  it('refuses --stage without --aws, and a stage the app could not have deployed', async () => {
    expect((await runCli(['reconcile', '--stage', 'test'])).code).toBe(2);
    // The names typed by hand before the stacks' outputs named them: refused, saying why.
    const old = await runCli(['reconcile', '--aws', '--landing-bucket', 'b', '--state-machine-arn', ARN]);
    expect(old.code).toBe(2);
    expect(old.err).toContain('finds them in the stacks’ outputs');
    expect((await runCli(['reconcile', '--aws', '--stage', 'Prod!'])).code).toBe(2);
    expect(cfn).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  it('names an object it could not check and one it gave up on, and exits 1', async () => {
    // Prepare: a throttled object, a file whose four executions failed, and one that ended.
    deployed();
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'orders/throttled.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
        { Key: 'orders/hopeless.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
        { Key: 'orders/done.csv', VersionId: 'v1', Size: 10, ETag: '"e"' },
      ],
    });
    const hopeless = nameOf('orders/hopeless.csv', 'v1');
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
      const name = executionArn.split(':').at(-1)!;
      if (name === nameOf('orders/throttled.csv', 'v1'))
        throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
      if (name === nameOf('orders/done.csv', 'v1')) return { status: 'SUCCEEDED' };
      if (name.startsWith(hopeless.slice(0, 20))) return { status: 'FAILED' };
      throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    });

    // Act
    const { code, out } = await run(true);

    // Assess
    expect(code).toBe(1);
    expect(out).toContain('objects: 3, ended: 1, running: 0, without an outcome: 1');
    expect(out).toMatch(/orders\/hopeless\.csv +failed, not re-driven +orders-hopeless/);
    expect(out).toContain(
      `not re-driven: orders/hopeless.csv: Error: not started again: 4 executions of it ended FAILED (the last: ${attemptName(hopeless, MAX_RETRIES)})`,
    );
    expect(out).toContain('could not check 1 (the others were checked):');
    expect(out).toMatch(/orders\/throttled\.csv +ThrottlingException: rate exceeded/);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
