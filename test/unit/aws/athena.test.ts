/**
 * Athena queries through aws-sdk-client-mock: start in the workgroup, poll with backoff, page
 * through the results (header skipped, values typed as `local query --json` types them, the row
 * cap), FAILED and CANCELLED with Athena's reason, Ctrl-C stopping the query, and the cost.
 */
import {
  AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import {
  AthenaQueryError,
  AthenaQueryInterruptedError,
  athenaMaxQueryCost,
  athenaQueryCost,
  athenaValue,
  notASelect,
  runAthenaQuery,
} from '../../../lib/aws/athena.ts';
import { QueryError } from '../../../lib/local/query-error.ts';

const athena = mockClient(AthenaClient);
const client = () => new AthenaClient({ region: 'eu-west-1' });
const QUERY = {
  workgroup: 'csvlake-dev',
  database: 'csvlake_dev',
  sql: 'SELECT * FROM orders',
  pollMs: { first: 1, max: 1 },
};
const MIB = 1024 ** 2;
const TIB = 1024 ** 4;

afterEach(() => {
  athena.reset();
  vi.useRealTimers();
});

/** GetQueryExecution's answer for a state. */
const execution = (
  State: QueryExecutionState,
  extra: { reason?: string; error?: string; bytes?: number } = {},
) => ({
  QueryExecution: {
    QueryExecutionId: 'q-1',
    Status: {
      State,
      ...(extra.reason === undefined ? {} : { StateChangeReason: extra.reason }),
      ...(extra.error === undefined ? {} : { AthenaError: { ErrorMessage: extra.error } }),
    },
    ...(extra.bytes === undefined ? {} : { Statistics: { DataScannedInBytes: extra.bytes } }),
  },
});

/** A results page: rows of VarCharValues (undefined for NULL). */
const page = (columns: ColumnInfo[], rows: (string | undefined)[][], NextToken?: string) => ({
  ResultSet: {
    ResultSetMetadata: { ColumnInfo: columns },
    Rows: rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) })),
  },
  ...(NextToken === undefined ? {} : { NextToken }),
});

const ID_COLUMN: ColumnInfo[] = [{ Name: 'id', Type: 'integer' }];
const idRows = (from: number, count: number) => Array.from({ length: count }, (_, i) => [String(from + i)]);

describe('runAthenaQuery, a query that succeeds', () => {
  it('starts in the workgroup and database, polls until SUCCEEDED, pages through every result, and prices the bytes', async () => {
    // Prepare: two polls, then two pages; the first begins with the header row.
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED', { bytes: 123 * MIB }));
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page(ID_COLUMN, [['id'], ...idRows(1, 2)], 'next-1'))
      .resolvesOnce(page(ID_COLUMN, idRows(3, 2)));

    // Act
    const answer = await runAthenaQuery(client(), QUERY);

    // Assess
    expect(answer).toEqual({
      columns: ['id'],
      rows: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
      truncated: false,
      queryId: 'q-1',
      scannedBytes: 123 * MIB,
      costUsd: (123 * MIB * 5) / TIB,
    });
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT * FROM orders',
      WorkGroup: 'csvlake-dev',
      QueryExecutionContext: { Database: 'csvlake_dev' },
    });
    expect(athena).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 3);
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 2, {
      QueryExecutionId: 'q-1',
      NextToken: 'next-1',
    });
    expect(athena).not.toHaveReceivedCommand(StopQueryExecutionCommand);
  });

  it('types values as local query --json does', async () => {
    // Prepare: one row of each type, and one row of NULLs.
    const columns: ColumnInfo[] = [
      { Name: 'i', Type: 'integer' },
      { Name: 'b', Type: 'bigint' },
      { Name: 'd', Type: 'decimal', Precision: 12, Scale: 2 },
      { Name: 'f', Type: 'double' },
      { Name: 'ok', Type: 'boolean' },
      { Name: 'at', Type: 'timestamp' },
      { Name: 'day', Type: 'date' },
      { Name: 's', Type: 'varchar' },
    ];
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { bytes: 0 }));
    athena
      .on(GetQueryResultsCommand)
      .resolves(
        page(columns, [
          columns.map((c) => c.Name),
          [
            '-7',
            '9007199254740993',
            '12345678901.25',
            '2.5',
            'true',
            '2024-01-02 11:26:23.500',
            '2024-01-02',
            '',
          ],
          columns.map(() => undefined),
        ]),
      );

    // Act
    const { rows } = await runAthenaQuery(client(), QUERY);

    // Assess
    expect(rows).toEqual([
      {
        i: -7,
        b: '9007199254740993',
        d: '12345678901.25',
        f: 2.5,
        ok: true,
        at: '2024-01-02T11:26:23.500Z',
        day: '2024-01-02',
        s: '',
      },
      { i: null, b: null, d: null, f: null, ok: null, at: null, day: null, s: null },
    ]);
  });

  it('keeps every column when two share a name (`SELECT a.id, b.id`): id, id_2, past a column already named id_2', async () => {
    // Prepare
    const columns: ColumnInfo[] = [
      { Name: 'id', Type: 'integer' },
      { Name: 'id', Type: 'integer' },
      { Name: 'id_2', Type: 'varchar' },
      { Name: 'id', Type: 'integer' },
    ];
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED', { bytes: 0 }));
    athena
      .on(GetQueryResultsCommand)
      .resolves(page(columns, [columns.map((c) => c.Name), ['1', '2', 'x', '3']]));

    // Act
    const answer = await runAthenaQuery(client(), QUERY);

    // Assess
    expect(answer.columns).toEqual(['id', 'id_3', 'id_2', 'id_4']);
    expect(answer.rows).toEqual([{ id: 1, id_3: 2, id_2: 'x', id_4: 3 }]);
  });

  it('stops at maxRows with truncated, asking for one row more than it keeps', async () => {
    // Prepare: more rows than the cap.
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page(ID_COLUMN, [['id'], ...idRows(1, 2)], 'next-1'))
      .resolvesOnce(page(ID_COLUMN, idRows(3, 2), 'next-2'))
      .resolves(page(ID_COLUMN, idRows(5, 2)));

    // Act
    const answer = await runAthenaQuery(client(), { ...QUERY, maxRows: 3 });

    // Assess: the header plus four rows read; the third page never asked for.
    expect(answer.rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(answer.truncated).toBe(true);
    expect(athena).toHaveReceivedCommandTimes(GetQueryResultsCommand, 2);
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 1, { MaxResults: 5 });
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 2, { MaxResults: 2 });
  });

  it('reads one page more when a page ends exactly at maxRows, to see whether rows are left', async () => {
    // Prepare: the first page holds the header and exactly the cap; one more row follows.
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page(ID_COLUMN, [['id'], ...idRows(1, 2)], 'next-1'))
      .resolves(page(ID_COLUMN, idRows(3, 1)));

    // Act
    const answer = await runAthenaQuery(client(), { ...QUERY, maxRows: 2 });

    // Assess
    expect(answer.rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(answer.truncated).toBe(true);
    expect(athena).toHaveReceivedCommandTimes(GetQueryResultsCommand, 2);
  });

  it('exactly maxRows rows is not truncated', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves(page(ID_COLUMN, [['id'], ...idRows(1, 3)]));

    // Act
    const answer = await runAthenaQuery(client(), { ...QUERY, maxRows: 3 });

    // Assess
    expect(answer.rows).toHaveLength(3);
    expect(answer.truncated).toBe(false);
  });

  it('polls with exponential backoff up to the cap', async () => {
    // Prepare: record when each poll comes, on a fake clock.
    vi.useFakeTimers();
    const start = Date.now();
    const polls: number[] = [];
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).callsFake(() => {
      polls.push(Date.now() - start);
      return execution(polls.length < 5 ? 'RUNNING' : 'SUCCEEDED');
    });
    athena.on(GetQueryResultsCommand).resolves(page(ID_COLUMN, [['id']]));

    // Act
    const running = runAthenaQuery(client(), { ...QUERY, pollMs: { first: 100, max: 400 } });
    await vi.advanceTimersByTimeAsync(5_000);
    await running;

    // Assess: waits of 100, 200, 400, 400, 400 ms.
    expect(polls).toEqual([100, 300, 700, 1100, 1500]);
  });
});

describe('runAthenaQuery, a statement that is not one SELECT', () => {
  it.each([
    ['DROP TABLE orders', 'DROP'],
    ['  -- a comment\n/* another */ INSERT INTO orders SELECT * FROM orders', 'INSERT'],
    ["UNLOAD (SELECT * FROM orders) TO 's3://elsewhere/' WITH (format = 'CSV')", 'UNLOAD'],
  ])('refuses %j before Athena sees it', async (sql, word) => {
    // Act
    const run = runAthenaQuery(client(), { ...QUERY, sql });

    // Assess
    await expect(run).rejects.toBeInstanceOf(QueryError);
    await expect(run).rejects.toThrow(`this is a ${word} statement`);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('lets a SELECT or WITH through, after comments and parentheses', () => {
    expect(notASelect('-- totals\n(SELECT 1)')).toBeUndefined();
    expect(notASelect('/* x */ with t AS (SELECT 1) SELECT * FROM t')).toBeUndefined();
    expect(notASelect('  ')).toBe('an empty query: give one SELECT');
  });
});

describe('runAthenaQuery, a query Athena ends', () => {
  it('FAILED: an AthenaQueryError with the state, the reason and the error message', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        reason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
        error:
          "Column 'nope' cannot be resolved or requester is not authorized to access requested resources",
      }),
    );

    // Act
    const error = await runAthenaQuery(client(), QUERY).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryError);
    expect(error).toMatchObject({ state: 'FAILED', queryId: 'q-1' });
    expect((error as Error).message).toBe(
      "athena query q-1 FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved — Column 'nope' cannot be resolved or requester is not authorized to access requested resources",
    );
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('FAILED: an error message that repeats the reason is said once, and none at all says so', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('FAILED', { reason: 'TABLE_NOT_FOUND', error: 'TABLE_NOT_FOUND' }))
      .resolves(execution('FAILED'));

    // Act
    const repeated = await runAthenaQuery(client(), QUERY).catch((e: Error) => e.message);
    const silent = await runAthenaQuery(client(), QUERY).catch((e: Error) => e.message);

    // Assess
    expect(repeated).toBe('athena query q-1 FAILED: TABLE_NOT_FOUND');
    expect(silent).toBe('athena query q-1 FAILED: no reason given');
  });

  it("CANCELLED (the workgroup's scan cap): the reason in the message, the bytes it was billed for on the error", async () => {
    // Prepare
    const reason = 'Query cancelled! : Bytes scanned limit was exceeded';
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('CANCELLED', { reason, bytes: 10_000_000_000 }));

    // Act
    const error = await runAthenaQuery(client(), QUERY).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryError);
    expect(error).not.toBeInstanceOf(AthenaQueryInterruptedError);
    expect(error).toMatchObject({ state: 'CANCELLED', scannedBytes: 10_000_000_000 });
    expect((error as Error).message).toBe(`athena query q-2 CANCELLED: ${reason}`);
  });
});

describe('runAthenaQuery, interrupted (Ctrl-C)', () => {
  it('stops the running query in Athena, then rejects', async () => {
    // Prepare: the user presses Ctrl-C while the query runs.
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-3' });
    athena.on(GetQueryExecutionCommand).callsFake(() => {
      controller.abort();
      return execution('RUNNING');
    });
    athena.on(StopQueryExecutionCommand).resolves({});

    // Act
    const error = await runAthenaQuery(client(), {
      ...QUERY,
      pollMs: { first: 1, max: 60_000 },
      signal: controller.signal,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryInterruptedError);
    expect((error as Error).message).toBe('athena query q-3 interrupted: stopped');
    expect(athena).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: 'q-3' });
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('stops the query when Ctrl-C aborts a poll in flight', async () => {
    // Prepare: the abort cuts the GetQueryExecution request short, as the SDK does.
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-5' });
    athena.on(GetQueryExecutionCommand).callsFake(() => {
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    athena.on(StopQueryExecutionCommand).resolves({});

    // Act
    const error = await runAthenaQuery(client(), { ...QUERY, signal: controller.signal }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryInterruptedError);
    expect(athena).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: 'q-5' });
  });

  it('says so when the query could not be stopped', async () => {
    // Prepare
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-4' });
    athena.on(GetQueryExecutionCommand).callsFake(() => {
      controller.abort();
      return execution('RUNNING');
    });
    athena.on(StopQueryExecutionCommand).rejects(new Error('network down'));

    // Act
    const error = await runAthenaQuery(client(), { ...QUERY, signal: controller.signal }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect((error as Error).message).toMatch(
      /^athena query q-4 interrupted, but could not be stopped \(network down\)/,
    );
  });

  it('an already aborted signal starts nothing', async () => {
    // Act
    const error = await runAthenaQuery(client(), { ...QUERY, signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryInterruptedError);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });
});

describe('the cost of a query', () => {
  it('bills $5 a TB on the bytes rounded up to the MB, at least 10 MB', () => {
    // Assess
    expect(athenaQueryCost(0)).toBe((10 * MIB * 5) / TIB);
    expect(athenaQueryCost(10 * MIB)).toBe((10 * MIB * 5) / TIB);
    expect(athenaQueryCost(10 * MIB + 1)).toBe((11 * MIB * 5) / TIB);
    expect(athenaQueryCost(TIB)).toBe(5);
  });

  it("costs at most about $0.045 under the lake's default 10 GB scan cap", () => {
    // Assess: 10^10 bytes are 9,536.7 MiB, billed as 9,537 MiB.
    expect(athenaMaxQueryCost()).toBeCloseTo((9537 / 1024 / 1024) * 5, 12);
    expect(athenaMaxQueryCost()).toBeCloseTo(0.0455, 4);
    expect(athenaMaxQueryCost(TIB)).toBe(5);
  });
});

describe('athenaValue', () => {
  it.each([
    ['tinyint', '7', 7],
    ['smallint', '-3', -3],
    ['int', '12', 12],
    ['real', '0.5', 0.5],
    ['float', '1e3', 1000],
    ['double', 'NaN', 'NaN'],
    ['boolean', 'false', false],
    ['timestamp with time zone', '2024-01-02 11:26:23.500 UTC', '2024-01-02T11:26:23.500Z'],
    [
      'timestamp with time zone',
      '2024-01-02 12:26:23.500 Europe/Paris',
      '2024-01-02 12:26:23.500 Europe/Paris',
    ],
    ['decimal', '0.10', '0.10'],
    ['decimal(12,2)', '0.10', '0.10'],
    ['timestamp(3)', '2024-01-02 11:26:23.500', '2024-01-02T11:26:23.500Z'],
    ['timestamp( 3 )', '2024-01-02 11:26:23.500', '2024-01-02T11:26:23.500Z'],
    ['timestamp(3) with time zone', '2024-01-02 11:26:23.500 UTC', '2024-01-02T11:26:23.500Z'],
    ['INTEGER', '5', 5],
    ['array', '[1, 2]', '[1, 2]'],
  ])('%s %j → %j', (type, text, expected) => {
    // Assess
    expect(athenaValue(type, text)).toEqual(expected);
  });
});
