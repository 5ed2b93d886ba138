/**
 * The reconciler: its core on every execution status, against an in-memory ledger (which stands in
 * for the workflow engine, not for the code under test), and its AWS adapter (S3 versions and Step
 * Functions through aws-sdk-client-mock), which must map each DescribeExecution status the same way.
 */
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';
import { executionName } from '../../lambdas/trigger/core.ts';
import { landedVersions, stepFunctionsLedger } from '../../lib/reconcile/aws-ledger.ts';
import {
  type ExecutionStatus,
  type LandedObject,
  type Orphan,
  type ReconcileReport,
  reconcile,
  requestFor,
  type WorkflowLedger,
} from '../../lib/reconcile/reconcile.ts';

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
    });
    expect(calls.map((c) => [c.action, c.request.key, c.request.size])).toEqual([
      ['start', 'orders/withbody/', 1523],
    ]);
  });
});

describe('reconcile against Step Functions, on each execution status', () => {
  it.each(STATUS_CASES.map((c) => [c.label, c] as const))(
    '%s: DescribeExecution maps to the same report, and --redrive sends the right command',
    async (_label, c) => {
      // Prepare
      const object = objectOf(c);
      const name = nameOf(object.key, 'v1');
      s3.on(ListObjectVersionsCommand).resolves({
        Versions: [{ Key: object.key, VersionId: 'v1', Size: 10, ETag: '"e"' }],
      });
      if (c.status) sfn.on(DescribeExecutionCommand).resolves({ status: c.status });
      else
        sfn
          .on(DescribeExecutionCommand)
          .rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));
      sfn.on(StartExecutionCommand).resolves({});
      sfn.on(RedriveExecutionCommand).resolves({});

      // Act
      const report = await reconcile(
        'landing',
        landedVersions(new S3Client({}), 'landing'),
        stepFunctionsLedger(new SFNClient({}), ARN),
        { redrive: true },
      );

      // Assess
      expect(report).toEqual(expectedReport(c, true));
      expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 1);
      expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: arnOf(name) });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, c.action === 'start' ? 1 : 0);
      expect(sfn).toHaveReceivedCommandTimes(RedriveExecutionCommand, c.action === 'redrive' ? 1 : 0);
      if (c.action === 'start')
        expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
          stateMachineArn: ARN,
          name,
          input: JSON.stringify(requestFor('landing', object)),
        });
      if (c.action === 'redrive')
        expect(sfn).toHaveReceivedCommandWith(RedriveExecutionCommand, { executionArn: arnOf(name) });
    },
  );

  it('treats a status it does not know as failed: reported and re-driven, never silently counted', async () => {
    // Prepare: Step Functions may add statuses; the adapter passes DescribeExecution's through.
    const object: LandedObject = { key: 'orders/a.csv', size: 10, etag: 'e', versionId: 'v1' };
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: object.key, VersionId: 'v1', Size: 10, ETag: '"e"' }],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'PAUSED' as never });
    sfn.on(RedriveExecutionCommand).resolves({});

    // Act
    const report = await reconcile(
      'landing',
      landedVersions(new S3Client({}), 'landing'),
      stepFunctionsLedger(new SFNClient({}), ARN),
      { redrive: true },
    );

    // Assess
    const name = nameOf(object.key, 'v1');
    expect(report).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans: [{ key: object.key, versionId: 'v1', execution: name, reason: 'failed' }],
      redriven: 1,
    });
    expect(sfn).toHaveReceivedCommandWith(RedriveExecutionCommand, { executionArn: arnOf(name) });
  });

  it('lets a DescribeExecution error other than a missing execution fail the run', async () => {
    // Prepare: throttling must not be mistaken for "never started" (that would start a duplicate).
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 10, ETag: '"e"' }],
    });
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const run = reconcile(
      'landing',
      landedVersions(new S3Client({}), 'landing'),
      stepFunctionsLedger(new SFNClient({}), ARN),
      { redrive: true },
    );

    // Assess
    await expect(run).rejects.toThrow('rate exceeded');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
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
    const status: Record<string, string> = {
      [nameOf('orders/a.csv', 'v1')]: 'SUCCEEDED',
      [nameOf('orders/b.csv', 'v2')]: 'RUNNING',
      [nameOf('orders/c d.csv', 'v3')]: 'FAILED',
    };
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
      const found = status[executionArn.split(':').at(-1)!];
      if (!found) throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
      return { status: found };
    });
    sfn.on(StartExecutionCommand).resolves({});
    sfn.on(RedriveExecutionCommand).resolves({});

    // Act
    const report = await reconcile(
      'landing',
      landedVersions(new S3Client({}), 'landing'),
      stepFunctionsLedger(new SFNClient({}), ARN),
      {
        redrive: true,
      },
    );

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
      }),
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: arnOf(nameOf('orders/c d.csv', 'v3')),
    });
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
    });
  });

  it('reports without touching anything when not asked to re-drive', async () => {
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/x.csv', VersionId: 'null', Size: 1, ETag: '"e"' }],
    });
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('none'), { name: 'ExecutionDoesNotExist' }));

    const report = await reconcile(
      'landing',
      landedVersions(new S3Client({}), 'landing'),
      stepFunctionsLedger(new SFNClient({}), ARN),
    );

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
