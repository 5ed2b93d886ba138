import {
  ExecutionAlreadyExists,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { executionName, toIngestRequest } from '../../../lambdas/trigger/core.ts';
import { s3Event, s3Record } from './helpers.ts';

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ingest';
const sfn = mockClient(SFNClient);
let handler: typeof import('../../../lambdas/trigger/handler.ts')['handler'];

beforeAll(async () => {
  vi.stubEnv('STATE_MACHINE_ARN', ARN);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ handler } = await import('../../../lambdas/trigger/handler.ts'));
});

afterEach(() => {
  sfn.reset();
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('trigger handler', () => {
  it('starts an execution with a deterministic name and the request as JSON input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x`, startDate: new Date() });
    const event = s3Event({ key: 'orders/caf%C3%A9+menu+%2B1.csv', versionId: 'v1', eTag: '"e1"', size: 99 });
    const request = toIngestRequest(event.Records[0]!)!;

    // Act
    await handler(event);

    // Assess
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ARN,
      name: executionName(request),
      input: JSON.stringify({
        bucket: 'landing',
        key: 'orders/café menu +1.csv',
        versionId: 'v1',
        etag: 'e1',
        size: 99,
        dataset: 'orders',
        version: 'v1',
      }),
    });
  });

  it('treats ExecutionAlreadyExists as a duplicate delivery: success', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    // Act
    const act = handler(s3Event({ key: 'orders/a.csv', versionId: 'v1' }));

    // Assess
    await expect(act).resolves.toBeUndefined();
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('starts nothing for an empty folder marker', async () => {
    // Act (a key ending in / that holds data is a file the lake files as failed: trigger-core tests)
    await handler(s3Event({ key: 'orders/2024/', size: 0 }));

    // Assess
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('accepts an event without records (s3:TestEvent)', async () => {
    // Act
    const act = handler({} as Parameters<typeof handler>[0]);

    // Assess
    await expect(act).resolves.toBeUndefined();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('starts every record and then fails the invocation when one of them failed', async () => {
    // Prepare
    const throttled = new SFNServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'rate exceeded',
    });
    sfn.on(StartExecutionCommand).callsFake(async (input: { input?: string }) => {
      if (input.input?.includes('"orders/b.csv"')) throw throttled;
      return { executionArn: `${ARN}:x`, startDate: new Date() };
    });
    const event = s3Event({ key: 'orders/a.csv' }, { key: 'orders/b.csv' }, { key: 'orders/c.csv' });

    // Act
    const act = handler(event);

    // Assess
    await expect(act).rejects.toThrow(
      'could not start 1 of 3 executions: "orders/b.csv" (ThrottlingException: rate exceeded)',
    );
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 3);
    for (const key of ['orders/a.csv', 'orders/c.csv']) {
      expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
        input: expect.stringContaining(`"${key}"`),
      });
    }
  });

  it('gives different versions of one key different names, and duplicates the same name', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x`, startDate: new Date() });
    const v1 = s3Record({ key: 'orders/a.csv', versionId: 'v1' });
    const v1Again = s3Record({ key: 'orders/a.csv', versionId: 'v1', eventTime: '2024-03-02T00:00:00Z' });
    const v2 = s3Record({ key: 'orders/a.csv', versionId: 'v2' });

    // Act
    await handler({ Records: [v1, v1Again, v2] });

    // Assess
    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(names[0]).toBe(names[1]);
    expect(names[2]).not.toBe(names[0]);
  });
});

describe('trigger handler configuration', () => {
  it('fails on import, naming the missing variable', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('STATE_MACHINE_ARN', '');

    // Act
    const act = import('../../../lambdas/trigger/handler.ts');

    // Assess
    await expect(act).rejects.toThrow('missing environment variables: STATE_MACHINE_ARN');
  });
});
