/**
 * The Commit function: takes the commit queue a batch at a time (SQS FIFO, one message group per
 * dataset), commits the batch's files to their Iceberg tables (core.ts: one snapshot per dataset)
 * and answers each message's task token, so the CommitToTable state of its execution goes on.
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { glueTableCatalog } from '../../lib/iceberg/glue-catalog.ts';
import { s3ObjectStore } from '../../lib/iceberg/s3-store.ts';
import { type CommitTaskInput, type CommitTaskOutput, ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger, type Log } from '../shared/logger.ts';
import { type CommitOutcome, commitBatch } from './core.ts';

/** The body CommitToTable sends: its task token and the file's commit. */
export interface CommitMessage {
  readonly taskToken: string;
  readonly input: CommitTaskInput;
}

/** Where the answers go: Step Functions' SendTaskSuccess and SendTaskFailure. */
export interface TaskAnswers {
  succeed(taskToken: string, output: CommitTaskOutput): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

/** What {@link answerBatch} needs. */
export interface AnswerDeps {
  readonly commit: (inputs: readonly CommitTaskInput[]) => Promise<CommitOutcome[]>;
  readonly answers: TaskAnswers;
  readonly log: Log;
}

/** The error a message fails its task with when its input is not a commit (a bug, never retried). */
export const MALFORMED_MESSAGE = 'CommitMessageError';

/**
 * Step Functions' answers to a token whose task is over (timed out, its execution stopped):
 * nothing is left to tell, and the message is done. The commit itself stands; a re-drive of the
 * file finds it by its source tag.
 */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

const CAUSE_LIMIT = 32_768;

/** `body` as a commit message, or why not. */
export function parseMessage(body: string): { message: CommitMessage } | { token?: string; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { problem: 'body is not JSON' };
  }
  const o = (value ?? {}) as Record<string, unknown>;
  const token = typeof o.taskToken === 'string' && o.taskToken !== '' ? o.taskToken : undefined;
  if (!token) return { problem: 'no taskToken' };
  const input = (o.input ?? {}) as Record<string, unknown>;
  const missing: string[] = ['dataset', 'runId', 'key', 'version', 'ingestDate', 'request'].filter(
    (k) => typeof input[k] !== 'string' || input[k] === '',
  );
  if (typeof input.rows !== 'number' || !Number.isInteger(input.rows) || input.rows < 0) missing.push('rows');
  if (missing.length > 0) return { token, problem: `input lacks ${missing.join(', ')}` };
  return { message: { taskToken: token, input: input as unknown as CommitTaskInput } };
}

/**
 * Commits the records' files and answers their tokens; returns the records SQS should deliver
 * again: those whose outcome is transient (a catalog or storage failure, a commit that kept
 * conflicting), and those whose answer could not be sent. After `maxReceiveCount` receives a
 * message goes to the dead-letter queue, and its task times out into FAILED.
 *
 * Order within a message group does not matter here: appends to a table commute, so a later
 * message done while an earlier one is retried is no harm.
 */
export async function answerBatch(
  records: readonly SQSRecord[],
  deps: AnswerDeps,
): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  const parsed: { record: SQSRecord; message: CommitMessage }[] = [];
  for (const record of records) {
    const result = parseMessage(record.body);
    if ('message' in result) {
      parsed.push({ record, message: result.message });
      continue;
    }
    if (!result.token) {
      // Nobody waits on it (no execution can be answered), and redelivering it would hold its
      // message group, the dataset's every commit, for maxReceiveCount visibility timeouts: it is
      // logged, whole, and dropped.
      deps.log.warn('commit message without a task token, dropped', {
        messageId: record.messageId,
        problem: result.problem,
        body: record.body.slice(0, CAUSE_LIMIT),
      });
      continue;
    }
    deps.log.warn('malformed commit message', { messageId: record.messageId, problem: result.problem });
    if (
      !(await answered(deps, record, () =>
        deps.answers.fail(result.token!, MALFORMED_MESSAGE, result.problem),
      ))
    )
      failures.push(record.messageId);
  }
  if (parsed.length === 0)
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };

  let outcomes: CommitOutcome[];
  try {
    outcomes = await deps.commit(parsed.map((p) => p.message.input));
  } catch (error) {
    // The core answers per request; throwing means something it did not foresee: all again.
    deps.log.warn('commit batch failed', { error: String(error), messages: parsed.length });
    return {
      batchItemFailures: [...failures, ...parsed.map((p) => p.record.messageId)].map((itemIdentifier) => ({
        itemIdentifier,
      })),
    };
  }
  for (const [i, { record, message }] of parsed.entries()) {
    const outcome = outcomes[i];
    if (!outcome) {
      failures.push(record.messageId);
      continue;
    }
    if ('ok' in outcome) {
      if (!(await answered(deps, record, () => deps.answers.succeed(message.taskToken, outcome.ok))))
        failures.push(record.messageId);
      continue;
    }
    deps.log.warn('commit failed', {
      messageId: record.messageId,
      dataset: message.input.dataset,
      runId: message.input.runId,
      error: outcome.error.name,
      message: outcome.error.message,
      transient: outcome.transient,
    });
    if (outcome.transient) {
      failures.push(record.messageId);
      continue;
    }
    const cause = outcome.error.message.slice(0, CAUSE_LIMIT);
    if (
      !(await answered(deps, record, () => deps.answers.fail(message.taskToken, outcome.error.name, cause)))
    )
      failures.push(record.messageId);
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Sends one answer; false when it should be sent again (the message is then redelivered). */
async function answered(deps: AnswerDeps, record: SQSRecord, send: () => Promise<void>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && TASK_GONE.has(name)) {
      deps.log.warn('task already over', { messageId: record.messageId, error: name });
      return true;
    }
    deps.log.warn('answer not sent', { messageId: record.messageId, error: String(error) });
    return false;
  }
}

/** {@link TaskAnswers} over Step Functions. */
export function sfnAnswers(client: SFNClient): TaskAnswers {
  return {
    async succeed(taskToken, output) {
      await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    async fail(taskToken, error, cause) {
      // Step Functions caps `error` at 256 characters.
      await client.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause }));
    },
  };
}

const env = readEnv(ENV.commit);
const logger = createLogger('commit');
const store = s3ObjectStore(new S3Client({}));
const catalog = glueTableCatalog(new GlueClient({}));
const answers = sfnAnswers(new SFNClient({}));

/** Commits one batch of the commit queue; the transient failures are delivered again. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const response = await answerBatch(event.Records, {
    commit: (inputs) =>
      commitBatch(inputs, {
        store,
        catalog,
        database: env.database,
        curatedBucket: env.curatedBucket,
        log: logger,
      }),
    answers,
    log: logger,
  });
  logger.info('batch processed', {
    messages: event.Records.length,
    redelivered: response.batchItemFailures.length,
  });
  return response;
}
