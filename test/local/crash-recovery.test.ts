/**
 * Crash recovery: the process running the local lake is killed (SIGKILL, as kill -9 or a power
 * cut: no handler runs) at each step of the workflow, then the lake is started again over the
 * same folder and reconciled. Every time, the execution reads as ABORTED (not RUNNING forever),
 * `reconcile` reports it, and `reconcile --redrive` brings the file to exactly one outcome: every
 * row once, none twice, the file in exactly one terminal zone, its data file committed once, no
 * scratch left behind.
 *
 * Each crash is a real child process (test/local/crash-child.ts) on a lake of its own; the state
 * machine is synthesized once here and handed to every runtime.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { zoneFileName } from '../../lambdas/validate/core.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { history } from '../../lib/iceberg/scan.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import { dynamoLedgerReader } from '../../lib/ledger/dynamodb-reader.ts';
import { RUNTIME_DIED } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE, lakePaths } from '../../lib/local/lake-folder.ts';
import { executionNameFor, LocalRuntime } from '../../lib/local/runtime.ts';
import { localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { type AslDefinition, synthesizeLocalDefinition } from '../../lib/local/workflow.ts';
import { reconcile, requestFor } from '../../lib/reconcile/reconcile.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows, writeOrdersFile } from '../../lib/samples/orders-generator.ts';
import { runCli } from '../unit/cli-run.ts';
import type { CrashPoint, CrashSpec } from './crash-child.ts';
import { liveDataKeys } from './table-files.ts';

/** A reconcile report of one landed file that ended, nothing re-driven, nothing unchecked. */
const ONE_ENDED = { objects: 1, terminal: 1, running: 0, orphans: [], redriven: 0, errors: [] };

const ROWS = 500;
const VALID = ORDERS_HEADER + orderRows(11, 0, ROWS);
const INVALID = brokenOrdersCsv();

let work: string;
let definitionFile: string;
let definition: AslDefinition;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'crash-'));
  definition = await synthesizeLocalDefinition([...(await loadDatasets('datasets')).values()], 'datasets');
  definitionFile = join(work, 'definition.json');
  await writeFile(definitionFile, JSON.stringify(definition));
  await writeFile(join(work, 'valid.csv'), VALID);
  await writeFile(join(work, 'invalid.csv'), INVALID);
}, 60_000);

/** At most two children at once: the machine has two cores. */
let slots = 2;
const waiting: (() => void)[] = [];
async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  while (slots === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  slots--;
  try {
    return await work();
  } finally {
    slots++;
    waiting.shift()?.();
  }
}

/** Runs the child on a fresh lake until it kills itself; returns the lake and the child's pid. */
async function crash(at: CrashPoint, file: 'valid' | 'invalid', key: string) {
  const lake = await mkdtemp(join(work, 'lake-'));
  const spec: CrashSpec = { lake, definitionFile, key, file: join(work, `${file}.csv`), at };
  return inSlot(
    () =>
      new Promise<{ lake: string; pid: number }>((resolve, reject) => {
        // `node --import tsx`, not the tsx binary: that would run the script in a grandchild.
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', join('test', 'local', 'crash-child.ts'), JSON.stringify(spec)],
          (error, stdout, stderr) => {
            // Killed by its own SIGKILL is the only acceptable end.
            if (error?.signal === 'SIGKILL') resolve({ lake, pid: child.pid! });
            else
              reject(
                new Error(`the child was not killed (${error?.message ?? 'exit 0'}): ${stdout}${stderr}`),
              );
          },
        );
      }),
  );
}

/** Every object key of a zone bucket. */
async function keys(runtime: LocalRuntime, bucket: string): Promise<string[]> {
  const page = await runtime.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((o) => o.Key ?? '');
}

/** The orders table's snapshots. */
async function snapshotsOf(runtime: LocalRuntime): Promise<number> {
  const { metadata } = await loadTable(
    { store: runtime.store, catalog: runtime.tables },
    { database: LOCAL_DATABASE, name: 'orders' },
  );
  return history(metadata).length;
}

/** The SNS statuses published, in order. */
async function published(runtime: LocalRuntime): Promise<string[]> {
  const text = await readFile(runtime.paths.notifications, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { attributes: { status: string } }).attributes.status);
}

/** The version tag zone names carry for a body landed as `orders/crash.csv`. */
const tagOf = (body: string) =>
  zoneFileName(
    requestFor(LOCAL_BUCKETS.landing, {
      key: 'orders/crash.csv',
      size: Buffer.byteLength(body),
      etag: createHash('md5').update(body).digest('hex'),
      versionId: null,
    })!,
  ).split('.')[1];

const name = (key: string, body: string) =>
  executionNameFor(key, Buffer.byteLength(body), `"${createHash('md5').update(body).digest('hex')}"`);

interface Case {
  readonly at: CrashPoint;
  /** Where it dies, in words. */
  readonly when: string;
  /** The Task state the record says it died in. */
  readonly state: string;
  /** The notification statuses after the re-drive: at least once, so a crash after a publish repeats it. */
  readonly notified: string[];
  /**
   * Killed after the ledger's terminal write, the last step: the file has its outcome, told to
   * subscribers, so the reconciler counts it as ended and runs nothing again.
   */
  readonly ended?: true;
}

// Every step of a valid file's path, and inside the steps the S3 writes that move it between zones.
const VALID_CASES: Case[] = [
  {
    at: { task: 'Validate', phase: 'before' },
    state: 'Validate',
    when: 'before validation',
    notified: ['VALIDATED', 'CURATED'],
  },
  {
    at: { s3: 'CopyObjectCommand', nth: 1 },
    state: 'Validate',
    when: 'copying into raw',
    notified: ['VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'Validate', phase: 'after' },
    state: 'Validate',
    when: 'after validation',
    notified: ['VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'NotifyValidated', phase: 'after' },
    state: 'NotifyValidated',
    when: 'after the VALIDATED notification',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'ConvertInLambda', phase: 'before' },
    state: 'ConvertInLambda',
    when: 'before conversion',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  // The PUTs: 1 the landing upload, 2 the data file, 3 the commit request, then the commit's
  // manifest (4), manifest list (5) and metadata file (6) before the pointer's swap.
  {
    at: { s3: 'PutObjectCommand', nth: 2 },
    state: 'ConvertInLambda',
    when: 'uploading the data file',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { s3: 'PutObjectCommand', nth: 3 },
    state: 'ConvertInLambda',
    when: 'writing the commit request',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'ConvertInLambda', phase: 'after' },
    state: 'ConvertInLambda',
    when: 'after the data file, before the commit',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'CommitToTable', phase: 'before' },
    state: 'CommitToTable',
    when: 'sending the commit',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { s3: 'PutObjectCommand', nth: 4 },
    state: 'CommitToTable',
    when: "writing the commit's manifest",
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { s3: 'PutObjectCommand', nth: 6 },
    state: 'CommitToTable',
    when: "after the commit's metadata file, before the pointer's swap",
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'CommitToTable', phase: 'after' },
    state: 'CommitToTable',
    when: 'after the commit, before the notification',
    notified: ['VALIDATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'NotifyCurated', phase: 'after' },
    state: 'NotifyCurated',
    when: 'after the CURATED notification',
    notified: ['VALIDATED', 'CURATED', 'VALIDATED', 'CURATED'],
  },
  {
    at: { task: 'RecordCurated', phase: 'after' },
    state: 'RecordCurated',
    when: 'after the ledger says CURATED',
    notified: ['VALIDATED', 'CURATED'],
    ended: true,
  },
];

const INVALID_CASES: Case[] = [
  {
    at: { task: 'Validate', phase: 'after' },
    state: 'Validate',
    when: 'after writing the failure zone',
    notified: ['REJECTED'],
  },
  {
    at: { task: 'NotifyRejected', phase: 'after' },
    state: 'NotifyRejected',
    when: 'after the REJECTED notification',
    notified: ['REJECTED', 'REJECTED'],
  },
  {
    at: { task: 'RecordRejected', phase: 'after' },
    state: 'RecordRejected',
    when: 'after the ledger says REJECTED',
    notified: ['REJECTED'],
    ended: true,
  },
];

/** The ledger's status of the one version of `key` in the lake. */
async function ledgerStatus(runtime: LocalRuntime, key: string): Promise<string | undefined> {
  const [item] = await dynamoLedgerReader(runtime.ledger.client, runtime.ledger.tableName).versions(key);
  return item?.status;
}

/** Puts an object into a lake's landing while no runtime listens (the lake down, or S3's event lost). */
async function landWhileDown(lake: string, key: string, body: string): Promise<void> {
  const server = await startLocalS3({ directory: lakePaths(lake).s3, buckets: Object.values(LOCAL_BUCKETS) });
  const client = localS3Client(server.endpoint);
  try {
    await client.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: body }));
  } finally {
    client.destroy();
    await server.close();
  }
}

/** Restarts the lake after the crash, checks what it reports, re-drives, and returns the runtime. */
async function restartAndRedrive(lake: string, key: string, body: string, childPid: number) {
  const lines: string[] = [];
  const runtime = await LocalRuntime.start({ lakeDir: lake, definition, onLine: (l) => lines.push(l) });
  const execution = name(key, body);
  const before = await runtime.executions.get(execution);
  const found = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger());
  const redriven = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger(), {
    redrive: true,
  });
  await runtime.idle();
  const after = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger());
  const scratch = await readdir(lakePaths(lake).work).catch(() => [] as string[]);
  return { runtime, lines, execution, before, found, redriven, after, scratch, childPid };
}

describe.concurrent('a kill -9 at each step, then restart and reconcile --redrive', () => {
  for (const c of VALID_CASES) {
    it(`valid file, killed ${c.when}: every row once, one raw object, one data file committed once`, async () => {
      // Prepare: a valid file, and a process killed at the step.
      const key = 'orders/crash.csv';
      const { lake, pid } = await crash(c.at, 'valid', key);

      // Act
      const r = await restartAndRedrive(lake, key, VALID, pid);
      try {
        // Assess: the dead process's execution is reported, not RUNNING forever.
        expect(r.before?.status).toBe('ABORTED');
        expect(r.before?.error?.name).toBe(RUNTIME_DIED);
        expect(r.before?.error?.message).toBe(
          `the process running it (pid ${pid}) ended in state ${c.state}; \`datalake reconcile --redrive\` runs it again`,
        );
        expect(r.lines).toContain(`aborted  ${key} (${r.execution}): ${r.before?.error?.message}`);
        expect(r.found).toEqual(
          c.ended
            ? ONE_ENDED
            : {
                objects: 1,
                terminal: 0,
                running: 0,
                orphans: [{ key, versionId: null, execution: r.execution, reason: 'aborted' }],
                redriven: 0,
                errors: [],
              },
        );
        expect(r.redriven.redriven).toBe(c.ended ? 0 : 1);
        expect(r.after).toEqual(ONE_ENDED);
        // …and the re-drive (or the run before the kill) gave exactly one outcome.
        expect(await ledgerStatus(r.runtime, key)).toBe('CURATED');
        const record = await r.runtime.executions.get(r.execution);
        expect(record?.outcome).toBe(c.ended ? 'failed' : 'curated');
        const { rows } = await r.runtime.query(
          'SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM orders',
        );
        expect(rows).toEqual([{ n: String(ROWS), ids: String(ROWS) }]);
        const raw = await keys(r.runtime, LOCAL_BUCKETS.raw);
        expect(raw).toHaveLength(1);
        expect(await keys(r.runtime, LOCAL_BUCKETS.failure)).toEqual([]);
        // One data file in the table, one snapshot holding the version (a commit that happened
        // before the kill stands, and the re-run's finds it).
        expect(await liveDataKeys(r.runtime)).toEqual([
          expect.stringMatching(
            /^orders\/iceberg\/data\/ingest_date=[0-9-]{10}\/crash\.[0-9a-f]{8}-[A-Za-z0-9_-]+-[0-9a-f]{16}-part-00000\.parquet$/,
          ),
        ]);
        expect(await snapshotsOf(r.runtime)).toBe(1);
        expect(await published(r.runtime)).toEqual(c.notified);
        // The dead process's scratch folder is gone.
        expect(r.scratch).not.toContain(`pid-${pid}`);
      } finally {
        await r.runtime.close();
      }
    }, 60_000);
  }

  for (const c of INVALID_CASES) {
    it(`invalid file, killed ${c.when}: one failure copy and its report, nothing curated`, async () => {
      const key = 'orders/broken.csv';
      const { lake, pid } = await crash(c.at, 'invalid', key);

      const r = await restartAndRedrive(lake, key, INVALID, pid);
      try {
        expect(r.before?.status).toBe('ABORTED');
        expect(r.found.orphans).toEqual(
          c.ended ? [] : [{ key, versionId: null, execution: r.execution, reason: 'aborted' }],
        );
        expect(r.after).toEqual(ONE_ENDED);
        expect(await ledgerStatus(r.runtime, key)).toBe('REJECTED');
        expect((await r.runtime.executions.get(r.execution))?.outcome).toBe(c.ended ? 'failed' : 'rejected');
        expect(await keys(r.runtime, LOCAL_BUCKETS.raw)).toEqual([]);
        // No data file, no commit request: the tables' own metadata only.
        expect(
          (await keys(r.runtime, LOCAL_BUCKETS.curated)).filter(
            (k) => !/^[a-z_]+\/iceberg\/metadata\//.test(k),
          ),
        ).toEqual([]);
        expect(await snapshotsOf(r.runtime)).toBe(0);
        const failure = await keys(r.runtime, LOCAL_BUCKETS.failure);
        expect(failure.filter((k) => /\.[0-9a-f]{8}\.csv$/.test(k))).toHaveLength(1);
        expect(failure.filter((k) => k.endsWith('.errors.json'))).toHaveLength(1);
        expect(await published(r.runtime)).toEqual(c.notified);
      } finally {
        await r.runtime.close();
      }
    }, 60_000);
  }
});

describe('a re-drive on another day than the run it replaces', () => {
  it('files the rows under the new day only: what the killed run wrote under its day (never committed) is removed first', async () => {
    // Prepare: killed after publishing its Parquet under today; the landing object then dated
    // yesterday, as a copy or a re-upload of the same bytes moves LastModified (the other way).
    const key = 'orders/crash.csv';
    const { lake, pid } = await crash({ task: 'ConvertInLambda', phase: 'after' }, 'valid', key);
    const yesterday = new Date(Date.now() - 86_400_000);
    await utimes(
      join(lakePaths(lake).s3, 'landing', 'orders', 'crash.csv._S3rver_object'),
      yesterday,
      yesterday,
    );

    // Act
    const r = await restartAndRedrive(lake, key, VALID, pid);
    try {
      // Assess
      expect(r.after).toEqual(ONE_ENDED);
      const day = yesterday.toISOString().slice(0, 10);
      expect(await keys(r.runtime, LOCAL_BUCKETS.raw)).toEqual([
        expect.stringMatching(new RegExp(`^orders/ingest_date=${day}/`)),
      ]);
      expect(await liveDataKeys(r.runtime)).toEqual([
        expect.stringMatching(new RegExp(`^orders/iceberg/data/ingest_date=${day}/crash\\.[0-9a-f]{8}-`)),
      ]);
      // The killed run's uncommitted data file under today is gone too.
      expect(
        (await keys(r.runtime, LOCAL_BUCKETS.curated)).filter((k) => k.startsWith('orders/iceberg/data/')),
      ).toEqual([expect.stringMatching(new RegExp(`^orders/iceberg/data/ingest_date=${day}/`))]);
      const { rows } = await r.runtime.query(
        'SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM orders',
      );
      expect(rows).toEqual([{ n: String(ROWS), ids: String(ROWS) }]);
    } finally {
      await r.runtime.close();
    }
  }, 60_000);
});

describe('a kill -9, then the key replaced before the restart', () => {
  it('the dead version ends FAILED as replaced, its uncommitted data file deleted and its raw copy kept; the new one is curated', async () => {
    // Prepare: killed after converting the first upload; while the lake is down, a new upload of the key.
    const key = 'orders/crash.csv';
    const { lake, pid } = await crash({ task: 'ConvertInLambda', phase: 'after' }, 'valid', key);
    const newer = ORDERS_HEADER + orderRows(12, ROWS, ROWS + 3);
    await landWhileDown(lake, key, newer);

    // Act
    const r = await restartAndRedrive(lake, key, VALID, pid);
    try {
      // Assess: the dead version is settled, not left ABORTED with a promise no re-drive can keep…
      expect(r.before).toMatchObject({
        status: 'FAILED',
        outcome: 'failed',
        error: { name: 'ObjectReplaced' },
      });
      const oldRaw = (await keys(r.runtime, LOCAL_BUCKETS.raw)).filter((k) =>
        k.includes(`.${tagOf(VALID)}.`),
      );
      expect(oldRaw).toEqual([
        expect.stringMatching(/^orders\/ingest_date=[0-9-]{10}\/crash\.[0-9a-f]{8}\.csv$/),
      ]);
      expect(r.before?.error?.message).toBe(
        `the process running it (pid ${pid}) ended in state ConvertInLambda, and s3://landing/${key} was replaced since: the landing bucket keeps no versions, so that upload is gone and cannot run again; the newer upload has its own execution; its validated copy is kept at s3://raw/${oldRaw[0]} (upload it again to ingest it); the 1 data file(s) it had written, never committed, were deleted`,
      );
      // …and the newer upload is run; only its Parquet and its rows are in curated.
      expect(r.found.orphans).toEqual([
        { key, versionId: null, execution: name(key, newer), reason: 'never started' },
      ]);
      expect(r.after).toEqual(ONE_ENDED);
      expect(await liveDataKeys(r.runtime)).toEqual([
        expect.stringMatching(
          new RegExp(`/crash\\.${tagOf(newer)}-[A-Za-z0-9_-]+-[0-9a-f]{16}-part-00000\\.parquet$`),
        ),
      ]);
      const { rows } = await r.runtime.query('SELECT count(*) AS n, min(order_id) AS first FROM orders');
      expect(rows).toEqual([{ n: '3', first: String(ROWS + 1) }]);
    } finally {
      await r.runtime.close();
    }
  }, 60_000);
});

/** Runs the CLI in this process; what it printed on stdout, then stderr, as one text. */
async function run(...argv: string[]) {
  const { code, out, err } = await runCli(argv);
  return { code, out: out + err };
}

describe('the CLI after a crash', () => {
  it('reconcile exits 1 and names the aborted execution; --redrive curates it; status shows it aborted before', async () => {
    const key = 'orders/crash.csv';
    const { lake } = await crash({ task: 'ConvertInLambda', phase: 'after' }, 'valid', key);

    const status = await run('local', 'status', '--lake', lake);
    const found = await run('reconcile', '--lake', lake, '--json');
    const redriven = await run('reconcile', '--lake', lake, '--redrive');
    const again = await run('reconcile', '--lake', lake);

    expect(status.out).toMatch(new RegExp(`aborted\\s+\\|?\\s*${key}`));
    expect(found.code).toBe(1);
    expect(JSON.parse(found.out).orphans).toEqual([
      { key, versionId: null, execution: name(key, VALID), reason: 'aborted' },
    ]);
    expect(redriven.code).toBe(0);
    expect(again).toEqual({ code: 0, out: 'objects: 1, ended: 1, running: 0, without an outcome: 0\n' });
  }, 90_000);
});

/** Resolves once a `local up` child serves. */
function serving(up: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    up.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('local lake running') && resolve());
    up.once('exit', (code) => reject(new Error(`local up ended (${code})`)));
  });
}

describe('reconcile --redrive while local up runs', () => {
  it('re-drives through up: an aborted execution and a lost event both end curated, rows exact', async () => {
    // Prepare: an execution killed after its conversion, and an object whose event was lost.
    const { lake } = await crash({ task: 'ConvertInLambda', phase: 'after' }, 'valid', 'orders/crash.csv');
    const lost = ORDERS_HEADER + orderRows(13, 1000, 1004);
    await landWhileDown(lake, 'orders/lost.csv', lost);
    const up = spawn(process.execPath, [join('bin', 'datalake.js'), 'local', 'up', '--lake', lake], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await serving(up);

      // Act
      const found = await run('reconcile', '--lake', lake, '--json');
      const redriven = await run('reconcile', '--redrive', '--lake', lake, '--json');
      const rows = await run(
        'local',
        'query',
        'SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM orders',
        '--lake',
        lake,
        '--json',
      );

      // Assess
      expect(found.code).toBe(1);
      expect(
        JSON.parse(found.out)
          .orphans.map((o: { key: string; reason: string }) => [o.key, o.reason])
          .sort(),
      ).toEqual([
        ['orders/crash.csv', 'aborted'],
        ['orders/lost.csv', 'never started'],
      ]);
      expect(redriven.code).toBe(0);
      expect(JSON.parse(redriven.out)).toMatchObject({
        redriven: 2,
        after: { objects: 2, terminal: 2, orphans: [] },
      });
      expect(JSON.parse(rows.out)).toEqual([{ n: String(ROWS + 4), ids: String(ROWS + 4) }]);
      // up ran them: their records name its process.
      const records = await readdir(lakePaths(lake).executions);
      const owners = await Promise.all(
        records
          .filter((f) => f.endsWith('.json'))
          .map(
            async (f) =>
              (
                JSON.parse(await readFile(join(lakePaths(lake).executions, f), 'utf8')) as {
                  owner: { pid: number };
                }
              ).owner.pid,
          ),
      );
      expect(owners).toEqual([up.pid, up.pid]);
    } finally {
      up.kill('SIGKILL');
    }
  }, 120_000);
});

describe('local ingest when the local up running its file dies', () => {
  it('stops waiting: exit 1, failed, naming the dead process, instead of waiting 15 minutes', async () => {
    // Prepare: `local up` in a child process, and a file big enough to be still running when killed.
    const lake = await mkdtemp(join(work, 'lake-'));
    const big = join(work, 'big.csv');
    await writeOrdersFile(big, 10 * 1024 * 1024);
    const up = spawn(process.execPath, [join('bin', 'datalake.js'), 'local', 'up', '--lake', lake], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await serving(up);

      // Act: ingest through the running up, and kill -9 it once the execution has started.
      const ingest = run('local', 'ingest', big, '--dataset', 'orders', '--lake', lake, '--json');
      const executions = lakePaths(lake).executions;
      while (!(await readdir(executions).catch(() => [] as string[])).some((f) => f.endsWith('.json')))
        await new Promise((r) => setTimeout(r, 20));
      up.kill('SIGKILL');
      const { code, out } = await ingest;

      // Assess
      expect(code).toBe(1);
      const outcome = JSON.parse(out) as {
        status: string;
        errors: { rule: string; message: string }[];
      };
      expect(outcome.status).toBe('failed');
      expect(outcome.errors).toEqual([
        expect.objectContaining({ rule: RUNTIME_DIED, message: expect.stringContaining(`(pid ${up.pid})`) }),
      ]);
    } finally {
      up.kill('SIGKILL');
    }
  }, 120_000);
});
