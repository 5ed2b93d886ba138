/**
 * The operator commands over a stand-in target: what they print of what only a deployed stack
 * answers (bytes scanned and their cost, a failed Athena query, a subscription waiting for
 * confirmation) and of a report the failure zone no longer holds. The AWS target itself is tested
 * in test/unit/aws.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AthenaQueryError } from '../../lib/aws/athena.ts';
import { putCommand, queryCommand, reportCommand, subscribeCommand } from '../../lib/cli/lake-commands.ts';
import type { CliIo } from '../../lib/cli/main.ts';
import type { LakeTarget, QueryAnswer } from '../../lib/cli/target.ts';
import type { LedgerItem } from '../../lib/ledger/model.ts';

/** A deployed lake that answers what the test gives it. */
function stack(overrides: Partial<LakeTarget>): LakeTarget {
  return {
    kind: 'aws',
    label: 'stack csvlake-dev (eu-west-1)',
    s3: {} as S3Client,
    buckets: { landing: 'l', raw: 'r', failure: 'f', curated: 'c' },
    ledger: { get: async () => undefined, versions: async () => [], list: async () => [] },
    query: async () => ({ columns: [], rows: [], truncated: false }),
    subscribe: async () => ({ subscription: 'arn', pendingConfirmation: false, filterPolicy: {} }),
    close: async () => {},
    ...overrides,
  };
}

/** An IO that keeps what a command prints. */
function captured(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    stderrIsTty: false,
    out: () => out,
    err: () => err,
  };
}

const ANSWER: QueryAnswer = {
  columns: ['n'],
  rows: [{ n: '3' }],
  truncated: false,
  queryId: 'q-1',
  scannedBytes: 12_345_678,
  costUsd: 0.0000625,
};

describe('query on a deployed stack', () => {
  it('the table, then the bytes scanned, what they cost and the query id', async () => {
    // Prepare
    const io = captured();
    // Act
    const code = await queryCommand(
      { sql: 'SELECT 1', json: false },
      stack({ query: async () => ANSWER }),
      io,
    );
    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe('n\n3\n(1 rows)\nscanned 12.3 MB, $0.000063 (query q-1)\n');
  });

  it('--json: stdout the row array alone; the scan on stderr', async () => {
    const io = captured();
    const code = await queryCommand(
      { sql: 'SELECT 1', json: true },
      stack({ query: async () => ANSWER }),
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toEqual(ANSWER.rows);
    expect(io.err()).toBe('datalake: scanned 12.3 MB, $0.000063 (query q-1)\n');
  });

  it('a query Athena failed: its reason and what it scanned, one line, exit 1', async () => {
    // Prepare
    const failed = new AthenaQueryError(
      'SYNTAX_ERROR: line 1:8: Column nope cannot be resolved',
      'q-2',
      'FAILED',
      5e6,
    );
    const io = captured();
    // Act
    const code = await queryCommand(
      { sql: 'SELECT nope', json: false },
      stack({ query: () => Promise.reject(failed) }),
      io,
    );
    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toBe(
      'datalake: query failed: SYNTAX_ERROR: line 1:8: Column nope cannot be resolved (after scanning 5.0 MB)\n',
    );
  });

  it("interrupted: the query's fate as the target tells it, and the signal's exit code", async () => {
    const stop = new AbortController();
    stop.abort('SIGINT');
    const io = { ...captured(), signal: stop.signal };
    const stopped = new AthenaQueryError('query q-3 stopped in Athena', 'q-3', 'CANCELLED');
    const code = await queryCommand(
      { sql: 'SELECT 1', json: false },
      stack({ query: () => Promise.reject(stopped) }),
      io,
    );
    expect(code).toBe(130);
    expect(io.err()).toBe('datalake: query q-3 stopped in Athena\n');
  });
});

describe('subscribe on a deployed stack', () => {
  it('an e-mail subscription waits for its confirmation, and says how', async () => {
    // Prepare
    const io = captured();
    const target = stack({
      subscribe: async () => ({
        subscription: 'pending confirmation',
        pendingConfirmation: true,
        filterPolicy: { status: ['FAILED'] },
      }),
    });
    // Act
    const code = await subscribeCommand(
      {
        endpoint: 'ops@example.com',
        protocol: 'email',
        statuses: ['FAILED'],
        datasets: [],
        json: false,
        datasetsDir: 'datasets',
      },
      target,
      io,
    );
    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(
      [
        'subscribed ops@example.com (email) on stack csvlake-dev (eu-west-1)',
        '  subscription:  pending confirmation',
        '  filter policy: status in FAILED',
        '  pending confirmation: the address receives an e-mail whose link confirms it',
        '',
      ].join('\n'),
    );
  });
});

describe('report of a rejected file whose report is gone', () => {
  it('says so on stderr and still reports what the ledger says, exit 1', async () => {
    // Prepare: the failure zone answers NoSuchKey.
    const item: LedgerItem = {
      key: 'orders/x.csv',
      version: 'v1',
      dataset: 'orders',
      bucket: 'l',
      size: 10,
      status: 'REJECTED',
      execution: 'e',
      executionStartedAt: '2026-01-01T00:00:00Z',
      receivedAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:01Z',
      rows: 4,
      errorCount: 10,
      reason: 'invalid_rows',
      report: 's3://f/orders/x.csv.errors.json',
    };
    const gone = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    const s3 = { send: () => Promise.reject(gone) } as unknown as S3Client;
    const target = stack({
      s3,
      ledger: { get: async () => item, versions: async () => [item], list: async () => [] },
    });
    const io = captured();

    // Act
    const code = await reportCommand({ key: 'orders/x.csv', all: false, json: false }, target, io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toBe(
      'datalake: the report s3://f/orders/x.csv.errors.json cannot be read (NoSuchKey): its errors are not listed\n',
    );
    expect(io.out().split('\n')[0]).toBe(
      '✗ orders/x.csv → REJECTED: invalid_rows (dataset orders, 4 rows, 10 errors)',
    );
  });
});

describe('put following a file the workflow does not start', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says after a minute that no ledger item exists and where to look, and goes on waiting', async () => {
    // Prepare: an upload S3 takes, then a ledger without the file for 90 s (a late S3 event).
    const file = join(tmpdir(), `put-unseen-${process.pid}.csv`);
    await writeFile(file, 'a\n1\n');
    const s3 = new S3Client({ region: 'eu-west-1' });
    mockClient(s3).on(PutObjectCommand).resolves({ ETag: '"e"', VersionId: 'v1' });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const started = Date.now();
    const item = { key: 'orders/a.csv', version: 'v1', status: 'CURATED', rows: 1 } as LedgerItem;
    const target = stack({
      s3,
      ledger: {
        get: async () => (Date.now() - started > 90_000 ? item : undefined),
        versions: async () => [],
        list: async () => [],
      },
    });
    const io = captured();

    // Act
    const done = putCommand(
      {
        file,
        dataset: 'orders',
        force: false,
        wait: true,
        json: false,
        checked: { key: 'orders/a.csv', size: 4, rows: 1, valid: true },
      },
      target,
      io,
    );
    // The upload reads the file (real I/O, not timers): let it finish first.
    while (!io.out().includes('uploaded')) await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(59_000);
    const before = io.err();
    await vi.advanceTimersByTimeAsync(40_000);
    const code = await done;

    // Assess
    expect(before).toBe('');
    expect(io.err()).toContain('no ledger item for orders/a.csv after 60 s');
    expect(io.err()).toContain('`datalake reconcile` finds and starts such files');
    expect(code).toBe(0);
    expect(io.out()).toContain('CURATED');
  });
});

describe('put --timeout', () => {
  it('stops following a file that stays RECEIVED, says where it stands, and exits 1', async () => {
    // Prepare: an upload S3 takes, and a file the workflow never gets past RECEIVED.
    const file = join(tmpdir(), `put-timeout-${process.pid}.csv`);
    await writeFile(file, 'a\n1\n');
    const s3 = new S3Client({ region: 'eu-west-1' });
    mockClient(s3).on(PutObjectCommand).resolves({ ETag: '"e"', VersionId: 'v1' });
    const item = { key: 'orders/a.csv', version: 'v1', status: 'RECEIVED' } as LedgerItem;
    const target = stack({
      s3,
      ledger: { get: async () => item, versions: async () => [], list: async () => [] },
    });
    const io = captured();

    // Act
    const started = Date.now();
    const code = await putCommand(
      {
        file,
        dataset: 'orders',
        force: false,
        wait: true,
        json: false,
        timeoutSeconds: 1,
        checked: { key: 'orders/a.csv', size: 4, rows: 1, valid: true },
      },
      target,
      io,
    );

    // Assess
    expect(code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(io.out()).toContain('RECEIVED');
    expect(io.err()).toContain('stopped waiting after --timeout 1 s; the file is uploaded');
    expect(io.err()).toContain('last RECEIVED');
  });
});

describe('report --all --json, a part that cannot be read', () => {
  it('still prints one JSON document, the errors read before it, and fails', async () => {
    // Prepare: a report naming two parts; the first reads, the second is gone.
    const error = (line: number) => ({ line, column: 'amount', value: 'x', rule: 'type', message: 'm' });
    const report = {
      errorCount: 3,
      rows: 3,
      reason: 'invalid_rows',
      errors: [error(2)],
      errorsByColumn: { amount: 3 },
      errorsByRule: { type: 3 },
      errorFiles: [
        { bucket: 'f', key: 'orders/x.csv.errors.00001.jsonl' },
        { bucket: 'f', key: 'orders/x.csv.errors.00002.jsonl' },
      ],
    };
    const item = {
      key: 'orders/x.csv',
      version: 'v1',
      dataset: 'orders',
      status: 'REJECTED',
      rows: 3,
      errorCount: 3,
      reason: 'invalid_rows',
      report: 's3://f/orders/x.csv.errors.json',
    } as LedgerItem;
    const s3 = {
      send: async (command: { input: { Key: string } }) => {
        const key = command.input.Key;
        if (key.endsWith('.errors.json'))
          return { Body: { transformToString: async () => JSON.stringify(report) } };
        if (key.endsWith('00001.jsonl'))
          return { Body: Readable.from([`${JSON.stringify(error(2))}\n${JSON.stringify(error(3))}\n`]) };
        throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      },
    } as unknown as S3Client;
    const target = stack({
      s3,
      ledger: { get: async () => item, versions: async () => [item], list: async () => [] },
    });
    const io = captured();

    // Act
    const outcome = await reportCommand({ key: 'orders/x.csv', all: true, json: true }, target, io).then(
      (code) => ({ code }),
      (thrown: Error) => ({ code: undefined, thrown }),
    );

    // Assess
    expect(JSON.parse(io.out())).toEqual([error(2), error(3)]);
    expect(outcome.code === undefined || outcome.code !== 0).toBe(true);
  });
});
