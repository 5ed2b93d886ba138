/**
 * CommitToTable as the local engine runs it: the synthesized `sqs:sendMessage.waitForTaskToken`
 * state bound to `sendMessageForToken`. Its message carries a task token (`$$.Task.Token`, which
 * aws-local-stepfunctions reads from the context the runtime gives it: a fresh one per attempt)
 * and the commit's input from the state; the binding's answer lands in `$.commit`, and a rejection
 * is matched by its Error's name, as SendTaskFailure's error is on AWS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CommitTaskInput } from '../../lambdas/shared/contract.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { TaskFailure } from '../../lib/local/commit-queue.ts';
import {
  type AslDefinition,
  runLocalExecution,
  synthesizeLocalDefinition,
} from '../../lib/local/workflow.ts';

let definition: AslDefinition;
beforeAll(async () => {
  definition = await synthesizeLocalDefinition([...(await loadDatasets('datasets')).values()], 'datasets');
}, 60_000);

const REQUEST = 's3://curated/_commits/orders/run-1.json';
/** A valid file's Validate output, routed to the Convert Lambda. */
/** The day folder of the table the run was validated for: the committer's table (issue 16). */
const TARGET = 's3://curated/orders/iceberg/data/ingest_date=2024-01-05/';
const validation = {
  valid: true,
  done: true,
  dataset: 'orders',
  ingestDate: '2024-01-05',
  rows: 3,
  errorCount: 0,
  errors: [],
  source: {},
  raw: { bucket: 'raw', key: 'orders/ingest_date=2024-01-05/a.csv' },
  jobArguments: { '--dataset': 'orders', '--commit-request': REQUEST, '--target': TARGET },
  conversion: { engine: 'lambda', glueWorkers: 2, glueTimeoutMinutes: 15 },
};
const COMMITTED = {
  table: 'local.orders',
  snapshotId: '9223372036854775807',
  sequenceNumber: 4,
  metadataLocation: 's3://curated/orders/iceberg/metadata/00004-x.metadata.json',
  location: 's3://curated/orders/iceberg/data/ingest_date=2024-01-05/',
  files: 1,
  rows: 3,
  status: 'committed',
};

/** One execution with stubbed tasks; CommitToTable's sends and the SNS messages recorded. */
async function run(name: string, commit: (message: unknown) => Promise<unknown>) {
  const sends: {
    QueueUrl: string;
    MessageBody: unknown;
    MessageGroupId?: string;
    MessageDeduplicationId?: string;
  }[] = [];
  const published: { status?: string; message: Record<string, unknown> }[] = [];
  const result = await runLocalExecution(
    definition,
    {
      name,
      input: { dataset: 'orders', bucket: 'landing', key: 'orders/a.csv', size: 10, version: 'etag:e' },
    },
    {
      lambda: {
        Validate: async () => validation,
        Convert: async () => ({
          id: 'c',
          state: 'SUCCEEDED',
          seconds: 1,
          engine: 'lambda',
          rows: 3,
          outputs: [],
        }),
      },
      glueJob: () => Promise.reject(new Error('no Glue here')),
      dynamodb: async () => ({}),
      publish: async ({ Message, MessageAttributes }) => {
        published.push({
          status: MessageAttributes?.status?.StringValue,
          message: (typeof Message === 'string' ? JSON.parse(Message) : Message) as Record<string, unknown>,
        });
        return { MessageId: 'm' };
      },
      sendMessageForToken: async (parameters, stateName) => {
        expect(stateName).toBe('CommitToTable');
        sends.push(parameters);
        return commit(parameters.MessageBody);
      },
    },
  );
  return { result, sends, published };
}

describe('CommitToTable bound locally', () => {
  it('sends the commit input with a task token per attempt, grouped by dataset, and puts the answer in $.commit', async () => {
    // Act
    const first = await run('exec-1', async () => COMMITTED);
    const second = await run('exec-2', async () => COMMITTED);

    // Assess
    expect(first.result.status).toBe('SUCCEEDED');
    const [send] = first.sends;
    const body = send!.MessageBody as { taskToken: string; input: CommitTaskInput };
    expect(body.input).toEqual({
      dataset: 'orders',
      runId: 'exec-1',
      key: 'orders/a.csv',
      version: 'etag:e',
      ingestDate: '2024-01-05',
      rows: 3,
      request: REQUEST,
      target: TARGET,
    });
    expect(send!.MessageGroupId).toBe('orders');
    expect(send!.MessageDeduplicationId).toBe('exec-1-0');
    const token = (second.sends[0]!.MessageBody as { taskToken: string }).taskToken;
    expect(body.taskToken).toMatch(/^local-task-token-/);
    expect(token).not.toBe(body.taskToken);
    expect((first.result.output as { commit: unknown }).commit).toEqual(COMMITTED);
    // The snapshot id reaches the CURATED message exactly (a 64-bit id, as a string).
    const curated = first.published.find((p) => p.status === 'CURATED');
    expect(curated?.message).toMatchObject({ snapshotId: COMMITTED.snapshotId, table: 'local.orders' });
  });

  it("fails the file with the answer's error name when the commit is refused, as SendTaskFailure's error", async () => {
    // Act
    const { result, published } = await run('exec-3', async () => {
      throw new TaskFailure('DataFileError', 'orders/x.parquet: no field ids');
    });

    // Assess
    expect(result.status).toBe('FAILED');
    const failed = published.find((p) => p.status === 'FAILED');
    expect(failed?.message).toMatchObject({ error: 'DataFileError' });
    expect(JSON.stringify(failed?.message)).toContain('no field ids');
    expect(published.some((p) => p.status === 'CURATED')).toBe(false);
  });
});
