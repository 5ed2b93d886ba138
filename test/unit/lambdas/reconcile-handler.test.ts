import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
let handler: typeof import('../../../lambdas/reconcile/handler.ts')['handler'];

beforeAll(async () => {
  vi.stubEnv('LANDING_BUCKET', 'landing-bucket');
  vi.stubEnv('STATE_MACHINE_ARN', 'arn:aws:states:eu-west-1:123456789012:stateMachine:ingest');
  vi.stubEnv('REDRIVE', 'true');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ handler } = await import('../../../lambdas/reconcile/handler.ts'));
});

afterEach(() => {
  s3.reset();
  sfn.reset();
  vi.restoreAllMocks();
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('the scheduled reconciler', () => {
  it('re-drives a failed execution and publishes the orphan count as an EMF metric', async () => {
    // Prepare
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'orders/a.csv', VersionId: 'v1', Size: 5, ETag: '"e"' }],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    sfn.on(RedriveExecutionCommand).resolves({});
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    const report = await handler();

    // Assess
    expect(report).toMatchObject({
      objects: 1,
      orphans: [{ key: 'orders/a.csv', reason: 'failed' }],
      redriven: 1,
    });
    expect(s3).toHaveReceivedCommandWith(ListObjectVersionsCommand, { Bucket: 'landing-bucket' });
    expect(sfn).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => '_aws' in l);
    expect(emf).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Namespace: 'CsvDataLake', Metrics: [{ Name: 'Orphans', Unit: 'Count' }] }],
      },
      Orphans: 1,
    });
  });

  it('lets an S3 error fail the run, so the schedule retries it', async () => {
    s3.on(ListObjectVersionsCommand).rejects(Object.assign(new Error('slow down'), { name: 'SlowDown' }));

    await expect(handler()).rejects.toThrow('slow down');
  });
});
