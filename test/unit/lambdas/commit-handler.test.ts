/**
 * The Commit function's adapter: SQS records in, one commit batch, every task token answered, the
 * transient failures (and answers that could not be sent) handed back to SQS for redelivery.
 */
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CommitOutcome } from '../../../lambdas/commit/core.ts';
import type { CommitTaskInput, CommitTaskOutput } from '../../../lambdas/shared/contract.ts';

const sfn = mockClient(SFNClient);
let mod: typeof import('../../../lambdas/commit/handler.ts');

beforeAll(async () => {
  vi.stubEnv('GLUE_DATABASE', 'lake');
  vi.stubEnv('CURATED_BUCKET', 'curated-bucket');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  mod = await import('../../../lambdas/commit/handler.ts');
});
afterEach(() => {
  sfn.reset();
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const input = (runId: string, dataset = 'orders'): CommitTaskInput => ({
  dataset,
  runId,
  key: `${dataset}/${runId}.csv`,
  version: 'v1',
  ingestDate: '2026-12-02',
  rows: 3,
  request: `s3://curated-bucket/_commits/${dataset}/${runId}.json`,
});
const output = (i: CommitTaskInput): CommitTaskOutput => ({
  table: `lake.${i.dataset}`,
  snapshotId: '9223372036854775807',
  sequenceNumber: 2,
  metadataLocation: `s3://curated-bucket/${i.dataset}/iceberg/metadata/00002-x.metadata.json`,
  location: `s3://curated-bucket/${i.dataset}/iceberg/data/ingest_date=${i.ingestDate}/`,
  files: 1,
  rows: i.rows,
  status: 'committed',
});
const record = (messageId: string, body: unknown): SQSRecord =>
  ({ messageId, body: typeof body === 'string' ? body : JSON.stringify(body) }) as SQSRecord;
const message = (runId: string, dataset?: string) =>
  record(runId, { taskToken: `token-${runId}`, input: input(runId, dataset) });

/** A recorder of the answers, and a commit that answers from a table of outcomes by run id. */
function harness(
  outcomes: Record<string, CommitOutcome>,
  failAnswer: (token: string) => Error | undefined = () => undefined,
) {
  const sent: string[] = [];
  const batches: string[][] = [];
  const answers = {
    async succeed(token: string, out: CommitTaskOutput) {
      const error = failAnswer(token);
      if (error) throw error;
      sent.push(`success ${token} ${out.snapshotId}`);
    },
    async fail(token: string, error: string, cause: string) {
      const e = failAnswer(token);
      if (e) throw e;
      sent.push(`failure ${token} ${error}: ${cause}`);
    },
  };
  const commit = async (inputs: readonly CommitTaskInput[]) => {
    batches.push(inputs.map((i) => i.runId));
    return inputs.map((i) => outcomes[i.runId]!);
  };
  const warnings: string[] = [];
  const log = { info() {}, warn: (message: string) => void warnings.push(message) };
  return { deps: { commit, answers, log }, sent, batches, warnings };
}

describe('answerBatch', () => {
  it('commits the whole batch in one call and answers each token with its own outcome', async () => {
    // Arrange
    const a = input('a');
    const { deps, sent, batches } = harness({
      a: { ok: output(a) },
      b: { error: { name: 'DataFileError', message: 'field id 7 unknown' }, transient: false },
    });

    // Act
    const response = await mod.answerBatch([message('a'), message('b')], deps);

    // Assess
    expect(batches).toEqual([['a', 'b']]);
    expect(sent).toEqual([
      'success token-a 9223372036854775807',
      'failure token-b DataFileError: field id 7 unknown',
    ]);
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('leaves transient outcomes unanswered and hands them back to SQS, the others done', async () => {
    const { deps, sent } = harness({
      a: { error: { name: 'CommitConflictError', message: 'kept conflicting' }, transient: true },
      b: { ok: output(input('b')) },
    });

    const response = await mod.answerBatch([message('a'), message('b')], deps);

    expect(sent).toEqual(['success token-b 9223372036854775807']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
  });

  it("fails the task of a message whose input is incomplete, without committing it; drops one without a token (nobody to answer) rather than holding the dataset's queue", async () => {
    const { deps, sent, batches, warnings } = harness({ c: { ok: output(input('c')) } });
    const { rows: _rows, ...noRows } = input('x');

    const response = await mod.answerBatch(
      [record('x', { taskToken: 'token-x', input: noRows }), record('y', 'not json'), message('c')],
      deps,
    );

    expect(batches).toEqual([['c']]);
    expect(sent).toEqual([
      `failure token-x ${mod.MALFORMED_MESSAGE}: input lacks rows`,
      'success token-c 9223372036854775807',
    ]);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(warnings).toContain('commit message without a task token, dropped');
  });

  it('redelivers every message when the commit throws', async () => {
    const { deps } = harness({});
    deps.commit = async () => {
      throw new Error('boom');
    };

    const response = await mod.answerBatch([message('a'), message('b')], deps);

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a', 'b']);
  });

  it('counts an answer to a task that is over as done, and redelivers one that could not be sent', async () => {
    const { deps, sent } = harness(
      { a: { ok: output(input('a')) }, b: { ok: output(input('b')) }, c: { ok: output(input('c')) } },
      (token) =>
        token === 'token-a'
          ? new TaskTimedOut({ message: 'timed out', $metadata: {} })
          : token === 'token-b'
            ? Object.assign(new Error('throttled'), { name: 'ThrottlingException' })
            : undefined,
    );

    const response = await mod.answerBatch([message('a'), message('b'), message('c')], deps);

    expect(sent).toEqual(['success token-c 9223372036854775807']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
  });
});

describe('sfnAnswers', () => {
  it('sends the output as JSON on success and the outcome name and message on failure', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    const answers = mod.sfnAnswers(new SFNClient({ region: 'eu-west-1' }));
    const out = output(input('a'));

    await answers.succeed('t1', out);
    await answers.fail('t2', 'DataFileError', 'row count 2, expected 3');

    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 't1',
      output: JSON.stringify(out),
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 't2',
      error: 'DataFileError',
      cause: 'row count 2, expected 3',
    });
    // The snapshot id stays exact: a string in the JSON, never a rounded number.
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!).snapshotId).toBe(
      '9223372036854775807',
    );
  });

  it('passes the SDK error on, so answerBatch can tell a task that is over from a failed send', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new InvalidToken({ message: 'bad token', $metadata: {} }));
    const answers = mod.sfnAnswers(new SFNClient({ region: 'eu-west-1' }));

    await expect(answers.succeed('t', output(input('a')))).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});
