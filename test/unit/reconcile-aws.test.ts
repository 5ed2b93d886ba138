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
import { executionName } from '../../lambdas/trigger/core.ts';
import { landedVersions, stepFunctionsLedger } from '../../lib/reconcile/aws-ledger.ts';
import { reconcile, requestFor } from '../../lib/reconcile/reconcile.ts';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ingest';

afterEach(() => {
  s3.reset();
  sfn.reset();
});

const nameOf = (key: string, versionId: string | null, etag = 'e') =>
  executionName(requestFor('landing', { key, size: 10, etag, versionId })!);

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
    expect(report).toMatchObject({ objects: 4, terminal: 1, running: 1, redriven: 2 });
    expect(report.orphans.map((o) => [o.key, o.versionId, o.reason])).toEqual([
      ['orders/b.csv', 'v1', 'never started'],
      ['orders/c d.csv', 'v3', 'failed'],
    ]);
    expect(s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, {
      Bucket: 'landing',
      KeyMarker: 'orders/b.csv',
      VersionIdMarker: 'v2',
    });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: `arn:aws:states:eu-west-1:123456789012:execution:ingest:${nameOf('orders/a.csv', 'v1')}`,
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
    expect(sfn).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: expect.stringContaining(nameOf('orders/c d.csv', 'v3')),
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
