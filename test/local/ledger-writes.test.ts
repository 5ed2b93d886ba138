/**
 * The ledger's conditional writes as the workflow makes them: the synthesized Record* states,
 * copied out of the state machine definition, run by aws-local-stepfunctions (so their parameters
 * are what Step Functions would send, `$$.Execution.StartTime` included) against a real DynamoDB
 * API (dynalite). Each case reads the item back: a retried, late or older write never moves it
 * back, and a re-drive after a failure starts over without losing when the file was received.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE } from '../../lib/constructs/ingest-workflow.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { ATTR, STATUS_RANK } from '../../lib/ledger/model.ts';
import { failAbandonedItem, type LocalLedger, ledgerCall, serveLocalLedger } from '../../lib/local/ledger.ts';
import {
  type AslDefinition,
  type ExecutionResult,
  runLocalExecution,
  synthesizeLocalDefinition,
} from '../../lib/local/workflow.ts';

/** The Record* states a case chains, by their state names. */
type RecordState =
  | typeof STATE.recordReceived
  | typeof STATE.recordValidated
  | typeof STATE.recordRejected
  | typeof STATE.recordCurated
  | typeof STATE.recordFailed;

/** What a ledger write did: the item was written, or its condition refused it. */
interface Write {
  readonly state: string;
  readonly outcome: 'written' | 'refused';
}

/** A state after which the chain ends; a write error no Catch of the copy takes ends here. */
const DONE = 'Done';
const ERRORED = 'Errored';

/**
 * A definition of the synthesized `states`, in order: each goes on to the next whether its write
 * was made or refused (their own Next and ConditionalCheckFailed Catch, pointed at the next
 * state, as the workflow's `onward` does), and an error the workflow would send to RecordFailed
 * ends the execution FAILED here.
 */
function chain(source: AslDefinition, states: readonly RecordState[]): AslDefinition {
  const copies: AslDefinition['States'] = {};
  // A state may come twice (a retried write): each copy gets its own name.
  const names = states.map((s, i) => `${s}-${i}`);
  states.forEach((state, i) => {
    const original = source.States[state];
    if (original?.Type !== 'Task') throw new Error(`no Task state ${state} in the definition`);
    const next = names[i + 1] ?? DONE;
    const catches = (original.Catch ?? []) as { ResultPath?: string | null; Next: string }[];
    copies[names[i]!] = {
      ...original,
      Next: next,
      Catch: catches.map((c) => ({
        ...c,
        // The catches that go on keep the input (ResultPath null): ConditionalCheckFailed's, and
        // RecordFailed's catch of everything; the others lead to RecordFailed in the workflow.
        Next: c.ResultPath === null ? next : ERRORED,
      })),
    };
  });
  copies[DONE] = { Type: 'Succeed' };
  copies[ERRORED] = { Type: 'Fail', Error: 'LedgerWriteFailed' };
  return { StartAt: names[0]!, States: copies };
}

/** The execution input: a request as the trigger builds it, and what the earlier states left. */
function input(key: string) {
  return {
    bucket: 'landing',
    key,
    versionId: 'v1',
    etag: 'e1',
    size: 1234,
    version: 'v1',
    dataset: 'orders',
    validation: {
      rows: 17,
      errorCount: 3,
      reason: 'invalid_rows',
      raw: { bucket: 'raw', key: `orders/ingest_date=2026-01-02/${key}` },
      failure: { bucket: 'failure', key: `failure/${key}` },
      report: { bucket: 'failure', key: `failure/${key}.errors.json` },
    },
    // CommitToTable's output; the id above 2^53, as snapshot ids are (kept exact as a string).
    commit: {
      table: 'local.orders',
      snapshotId: '3055729675574597004',
      location: 's3://curated/orders/iceberg/data/ingest_date=2026-01-02/',
    },
    conversion: { engine: 'lambda' },
    error: { Error: 'States.TaskFailed', Cause: 'the Glue job died' },
  };
}

describe('the ledger writes of the synthesized workflow, against dynalite', () => {
  let dir: string;
  let ledger: LocalLedger;
  let doc: DynamoDBDocumentClient;
  let definition: AslDefinition;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledger-writes-'));
    ledger = await serveLocalLedger(join(dir, 'ledger'));
    doc = DynamoDBDocumentClient.from(ledger.client);
    definition = await synthesizeLocalDefinition([...(await loadDatasets('datasets')).values()], 'datasets');
  });

  afterAll(async () => {
    await ledger?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The item of `key` (version v1) as stored, every attribute. */
  const item = async (key: string) =>
    (
      await doc.send(
        new GetCommand({
          TableName: ledger.tableName,
          Key: { [ATTR.key]: key, [ATTR.version]: 'v1' },
          ConsistentRead: true,
        }),
      )
    ).Item;

  /**
   * Runs one execution of `states` on `key`. Each write's outcome goes to `writes` with the item
   * read back after it; `before(state)` may hold a write back (it is awaited before the call).
   */
  async function run(
    name: string,
    key: string,
    states: readonly RecordState[],
    before?: (state: string) => Promise<void>,
  ) {
    const writes: Write[] = [];
    const items: (Record<string, unknown> | undefined)[] = [];
    const result: ExecutionResult = await runLocalExecution(
      chain(definition, states),
      { name, input: input(key) },
      {
        lambda: {},
        glueJob: () => Promise.reject(new Error('no Glue here')),
        publish: () => Promise.reject(new Error('no SNS here')),
        sendMessageForToken: () => Promise.reject(new Error('no SQS here')),
        dynamodb: async (action, parameters, stateName) => {
          await before?.(stateName);
          try {
            const response = await ledgerCall(ledger.client, action, parameters);
            writes.push({ state: stateName, outcome: 'written' });
            return response;
          } catch (error) {
            if ((error as Error).name !== 'DynamoDB.ConditionalCheckFailedException') throw error;
            writes.push({ state: stateName, outcome: 'refused' });
            throw error;
          } finally {
            items.push(await item(key));
          }
        },
      },
    );
    return { result, writes, items };
  }

  /** Lets the clock move on, so that the next execution starts at a later millisecond. */
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('records RECEIVED → VALIDATED → CURATED with every field, receivedAt set once', async () => {
    // Arrange
    const key = 'orders/happy.csv';

    // Act
    const { result, writes, items } = await run('happy', key, [
      STATE.recordReceived,
      STATE.recordValidated,
      STATE.recordCurated,
    ]);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(writes.map((w) => w.outcome)).toEqual(['written', 'written', 'written']);
    expect(items.map((i) => i?.[ATTR.status])).toEqual(['RECEIVED', 'VALIDATED', 'CURATED']);
    const final = items[2]!;
    expect(final).toEqual({
      [ATTR.key]: key,
      [ATTR.version]: 'v1',
      [ATTR.dataset]: 'orders',
      [ATTR.bucket]: 'landing',
      [ATTR.size]: 1234,
      [ATTR.status]: 'CURATED',
      [ATTR.rank]: STATUS_RANK.CURATED,
      [ATTR.execution]: 'happy',
      [ATTR.executionStartedAt]: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      [ATTR.receivedAt]: items[0]?.[ATTR.receivedAt],
      [ATTR.validatedAt]: items[1]?.[ATTR.validatedAt],
      [ATTR.curatedAt]: expect.any(String),
      [ATTR.updatedAt]: final[ATTR.curatedAt],
      [ATTR.rows]: 17,
      // What Validate counted, written with VALIDATED (this stand-in output serves every path).
      [ATTR.errorCount]: 3,
      [ATTR.raw]: `s3://raw/orders/ingest_date=2026-01-02/${key}`,
      [ATTR.curated]: 's3://curated/orders/iceberg/data/ingest_date=2026-01-02/',
      [ATTR.snapshotId]: '3055729675574597004',
      [ATTR.engine]: 'lambda',
    });
    // One attempt: every write names the same start, and the steps' times are in order.
    expect(new Set(items.map((i) => i?.[ATTR.executionStartedAt])).size).toBe(1);
    const times = [ATTR.receivedAt, ATTR.validatedAt, ATTR.curatedAt].map((a) => final[a] as string);
    expect([...times].sort()).toEqual(times);
    expect((final[ATTR.executionStartedAt] as string) <= times[0]!).toBe(true);
  });

  it('refuses a retried write of the same step and goes on, the item unchanged', async () => {
    // Arrange
    const key = 'orders/retried.csv';

    // Act
    const { result, writes, items } = await run('retried', key, [
      STATE.recordReceived,
      STATE.recordValidated,
      STATE.recordValidated,
    ]);

    // Assess: the copy after the refused write was entered (caught onward), and the item is as
    // the first VALIDATED left it.
    expect(result.status).toBe('SUCCEEDED');
    expect(result.states).toContain(DONE);
    expect(writes.map((w) => w.outcome)).toEqual(['written', 'written', 'refused']);
    expect(items[2]).toEqual(items[1]);
    expect(items[2]?.[ATTR.status]).toBe('VALIDATED');
  });

  it('refuses a late VALIDATED after CURATED of the same attempt', async () => {
    // Arrange
    const key = 'orders/late-validated.csv';

    // Act
    const { result, writes, items } = await run('late', key, [
      STATE.recordReceived,
      STATE.recordValidated,
      STATE.recordCurated,
      STATE.recordValidated,
    ]);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(writes.map((w) => w.outcome)).toEqual(['written', 'written', 'written', 'refused']);
    expect(items[3]).toEqual(items[2]);
    expect(items[3]?.[ATTR.status]).toBe('CURATED');
  });

  it('moves a FAILED item back to RECEIVED on a re-drive, clearing the failed attempt’s writes, keeping receivedAt', async () => {
    // Arrange: the first attempt validates the file, then fails.
    const key = 'orders/redriven.csv';
    const first = await run('redriven', key, [
      STATE.recordReceived,
      STATE.recordValidated,
      STATE.recordFailed,
    ]);
    const failed = first.items[2]!;
    await tick();

    // Act: the re-drive, a later execution.
    const second = await run('redriven-r1', key, [STATE.recordReceived]);

    // Assess
    expect(failed).toMatchObject({
      [ATTR.status]: 'FAILED',
      [ATTR.validatedAt]: expect.any(String),
      [ATTR.rows]: 17,
      [ATTR.raw]: expect.any(String),
      [ATTR.reason]: 'States.TaskFailed',
      [ATTR.cause]: 'the Glue job died',
      [ATTR.failedAt]: expect.any(String),
    });
    expect(second.writes.map((w) => w.outcome)).toEqual(['written']);
    const redriven = second.items[0]!;
    expect(redriven[ATTR.status]).toBe('RECEIVED');
    expect(redriven[ATTR.rank]).toBe(STATUS_RANK.RECEIVED);
    expect(redriven[ATTR.execution]).toBe('redriven-r1');
    expect((redriven[ATTR.executionStartedAt] as string) > (failed[ATTR.executionStartedAt] as string)).toBe(
      true,
    );
    expect(redriven[ATTR.receivedAt]).toBe(failed[ATTR.receivedAt]);
    // The new attempt validates again (and may reject the file): nothing of the failed one stays.
    for (const gone of [
      ATTR.failedAt,
      ATTR.reason,
      ATTR.cause,
      ATTR.validatedAt,
      ATTR.rows,
      ATTR.errorCount,
      ATTR.raw,
    ])
      expect(redriven).not.toHaveProperty(gone);
  });

  it.each([
    { final: 'CURATED', states: [STATE.recordReceived, STATE.recordValidated, STATE.recordCurated] },
    { final: 'REJECTED', states: [STATE.recordReceived, STATE.recordRejected] },
  ] as const)('never lets a later attempt overwrite $final', async ({ final, states }) => {
    // Arrange: an attempt ends the file for good.
    const key = `orders/final-${final.toLowerCase()}.csv`;
    const first = await run(`final-${final}`, key, states);
    const ended = first.items.at(-1);
    await tick();

    // Act: a later attempt (a duplicate event's execution, a mistaken re-drive) writes every step.
    const later = await run(`final-${final}-r1`, key, [
      STATE.recordReceived,
      STATE.recordValidated,
      STATE.recordFailed,
    ]);

    // Assess
    expect(ended?.[ATTR.status]).toBe(final);
    expect(later.result.status).toBe('SUCCEEDED');
    expect(later.writes.map((w) => w.outcome)).toEqual(['refused', 'refused', 'refused']);
    expect(await item(key)).toEqual(ended);
  });

  it.each([
    { late: STATE.recordReceived, newer: [STATE.recordReceived] },
    { late: STATE.recordFailed, newer: [STATE.recordReceived, STATE.recordValidated] },
  ] as const)(
    'refuses a late $late from an older attempt after a newer attempt wrote',
    async ({ late, newer }) => {
      // Arrange: the older execution starts first; its write of `late` is held back.
      const key = `orders/older-${late}.csv`;
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      let holding!: () => void;
      const held = new Promise<void>((r) => {
        holding = r;
      });
      const olderStates = late === STATE.recordReceived ? [late] : [STATE.recordReceived, late];
      const lateState = `${late}-${olderStates.length - 1}`;
      const older = run('older', key, olderStates, async (state) => {
        if (state !== lateState) return;
        holding();
        await released;
      });
      await held;
      await tick();

      // Act: the newer execution writes, then the older one's held write goes.
      const newest = await run('older-r1', key, newer);
      release();
      const old = await older;

      // Assess
      expect(newest.writes.every((w) => w.outcome === 'written')).toBe(true);
      expect(old.result.status).toBe('SUCCEEDED');
      expect(old.writes.at(-1)).toEqual({ state: lateState, outcome: 'refused' });
      const stored = await item(key);
      expect(stored).toEqual(newest.items.at(-1));
      expect(stored?.[ATTR.execution]).toBe('older-r1');
      expect(stored).not.toHaveProperty(ATTR.failedAt);
    },
  );

  describe('failAbandonedItem (an execution whose process died and whose object was replaced)', () => {
    const abandoned = (name: string, key: string) => ({
      name,
      input: input(key),
      error: { name: 'ObjectReplaced', message: 'replaced since its process died' },
    });

    it('ends the execution’s own item FAILED with its reason', async () => {
      // Arrange: the attempt died after VALIDATED.
      const key = 'orders/abandoned.csv';
      const { items } = await run('abandoned', key, [STATE.recordReceived, STATE.recordValidated]);

      // Act
      await failAbandonedItem(ledger, abandoned('abandoned', key));

      // Assess
      expect(await item(key)).toEqual({
        ...items[1],
        [ATTR.status]: 'FAILED',
        [ATTR.rank]: STATUS_RANK.FAILED,
        [ATTR.failedAt]: expect.any(String),
        [ATTR.updatedAt]: expect.any(String),
        [ATTR.reason]: 'ObjectReplaced',
        [ATTR.cause]: 'replaced since its process died',
      });
    });

    it.each([
      { what: 'a later attempt’s item', states: [STATE.recordReceived], writer: 'abandoned-later-r1' },
      {
        what: 'an item that ended',
        states: [STATE.recordReceived, STATE.recordRejected],
        writer: 'abandoned-ended',
      },
    ] as const)('leaves $what as it is', async ({ states, writer }) => {
      // Arrange
      const key = `orders/${writer}.csv`;
      const { items } = await run(writer, key, states);

      // Act: the abandoned execution is `abandoned-later` (not the writer) or the writer that ended.
      await failAbandonedItem(ledger, abandoned(writer.replace(/-r1$/, ''), key));

      // Assess
      expect(await item(key)).toEqual(items.at(-1));
    });
  });
});
