/**
 * At least once, and sometimes not at all: duplicate S3 events and re-driven executions give one
 * raw and one curated result per object, and faults injected into the local runtime (S3 throttling,
 * crashes, a failing Glue job, a failing SNS publish) end in a terminal place the reconciler heals.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { executionNameFor, LocalRuntime, landingEvent } from '../../lib/local/runtime.ts';
import { reconcile } from '../../lib/reconcile/reconcile.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { rewindLedgerItem } from './ledger-state.ts';
import { liveDataKeys } from './table-files.ts';

const today = () => new Date().toISOString().slice(0, 10);

/** An orders file whose order ids are `from + 1` to `to`. */
const ordersFile = (from: number, to: number) => ORDERS_HEADER + orderRows(from, from, to);

/** What a test needs of one runtime: upload, list, count, re-drive. */
function lake(get: () => LocalRuntime) {
  const upload = async (key: string, body: string) => {
    const put = await get().client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: body }),
    );
    return { name: executionNameFor(key, Buffer.byteLength(body), put.ETag ?? ''), etag: put.ETag ?? '' };
  };
  const keys = async (bucket: string, prefix: string) => {
    const page = await get().client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key ?? '');
  };
  /** The raw, curated and failure objects of every version of a landed `orders/<base>.csv`. */
  const zones = async (base: string) => {
    // Zone names are `<base>.<version tag>.csv`; curated is the table's live data files of the
    // base (`<base>.<version tag>-<run>-<random>-part-NNNNN.parquet` in the day's data folder).
    const prefix = `orders/ingest_date=${today()}/${base}.`;
    const data = `orders/iceberg/data/ingest_date=${today()}/${base}.`;
    const csv = (k: string) => /\.[0-9a-f]{8}\.csv$/.test(k);
    return {
      raw: (await keys(LOCAL_BUCKETS.raw, prefix)).filter(csv),
      curated: (await liveDataKeys(get())).filter((k) => k.startsWith(data)),
      failure: (await keys(LOCAL_BUCKETS.failure, prefix)).filter(csv),
    };
  };
  /** Curated rows with order ids in `(from, to]`, and the distinct ids among them. */
  const rows = async (from: number, to: number) => {
    const runtime = get();
    const { rows: result } = await runtime.query(
      `SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM orders WHERE order_id > ${from} AND order_id <= ${to}`,
    );
    return { n: Number(result[0]?.n), ids: Number(result[0]?.ids) };
  };
  const redrive = async () => {
    const runtime = get();
    const report = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger(), {
      redrive: true,
    });
    await runtime.idle();
    return report;
  };
  const notifications = async (): Promise<{ attributes: Record<string, string>; message: unknown }[]> =>
    (await readFile(get().paths.notifications, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  /** The notifications of one execution, in order. */
  const notifiedOf = async (name: string) =>
    (await notifications()).filter(
      (n) => (n.message as { execution?: string }).execution?.endsWith(`:${name}`) ?? false,
    );
  return { upload, keys, zones, rows, redrive, notifications, notifiedOf };
}

describe('duplicates', () => {
  let runtime: LocalRuntime;
  const { upload, zones, rows, redrive, notifications } = lake(() => runtime);

  beforeAll(async () => {
    runtime = await LocalRuntime.start({ lakeDir: await mkdtemp(join(tmpdir(), 'lake-dup-')) });
  }, 60_000);

  afterAll(async () => {
    await runtime?.close();
  });

  it('gives one execution, one raw, one curated object and no duplicated rows for an event delivered three times', async () => {
    // Prepare
    const body = ordersFile(1000, 1007);
    const { name, etag } = await upload('orders/thrice.csv', body); // the first delivery
    const record = landingEvent({ key: 'orders/thrice.csv', size: Buffer.byteLength(body), etag: etag });

    // Act: two more deliveries while the first may still run
    await Promise.all([runtime.deliver(record), runtime.deliver(record)]);
    await runtime.idle();

    // Assess
    const executions = (await runtime.executions.list()).filter((r) => r.input.key === 'orders/thrice.csv');
    expect(executions.map((r) => [r.name, r.outcome])).toEqual([[name, 'curated']]);
    const files = await readdir(runtime.paths.executions);
    expect(files.filter((f) => f.startsWith(name))).toEqual([`${name}.json`]);
    const ran = (await notifications()).filter(
      (n) => (n.message as { execution?: string }).execution?.endsWith(`:${name}`) ?? false,
    );
    expect(ran.map((n) => n.attributes.status)).toEqual(['VALIDATED', 'CURATED']);
    const { raw, curated } = await zones('thrice');
    expect(raw).toHaveLength(1);
    expect(curated).toHaveLength(1);
    expect(await rows(1000, 1007)).toEqual({ n: 7, ids: 7 });
  }, 60_000);

  it('keeps one raw and one curated object with no duplicated rows when a finished execution is re-driven', async () => {
    // Prepare: a curated file whose record is then marked failed and its ledger item put back at
    // VALIDATED, as a crash before its last write would leave them
    const { name } = await upload('orders/redriven.csv', ordersFile(2000, 2005));
    await runtime.idle();
    const file = join(runtime.paths.executions, `${name}.json`);
    const done = JSON.parse(await readFile(file, 'utf8')) as ExecutionRecord;
    await writeFile(file, JSON.stringify({ ...done, status: 'FAILED', outcome: 'failed' }));
    await rewindLedgerItem(runtime.ledger, done.input.key, done.input.version, 'VALIDATED');

    // Act
    const report = await redrive();

    // Assess
    expect(done.outcome).toBe('curated');
    expect(report.orphans.map((o) => o.key)).toEqual(['orders/redriven.csv']);
    expect(report.redriven).toBe(1);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const { raw, curated } = await zones('redriven');
    expect(raw).toHaveLength(1);
    expect(curated).toHaveLength(1);
    expect(await rows(2000, 2005)).toEqual({ n: 5, ids: 5 });
    expect((await redrive()).orphans).toEqual([]);
  }, 60_000);
});

describe('two versions of one key', () => {
  let runtime: LocalRuntime;
  const { upload, zones, rows, redrive, notifications } = lake(() => runtime);
  const event = (key: string, body: string, etag: string) =>
    landingEvent({ key, size: Buffer.byteLength(body), etag });

  beforeAll(async () => {
    // Events are delivered by hand, in the order each test chooses.
    runtime = await LocalRuntime.start({
      lakeDir: await mkdtemp(join(tmpdir(), 'lake-versions-')),
      autoTrigger: false,
    });
  }, 60_000);

  afterAll(async () => {
    await runtime?.close();
  });

  it('keeps one raw and one curated result per version when the first version’s event comes again late', async () => {
    // Prepare: v1 lands and is curated, then v2 replaces it and is curated
    const v1Body = ordersFile(5000, 5003);
    const v2Body = ordersFile(5100, 5105);
    const v1 = await upload('orders/kept.csv', v1Body);
    await runtime.deliver(event('orders/kept.csv', v1Body, v1.etag));
    await runtime.idle();
    const v2 = await upload('orders/kept.csv', v2Body);
    await runtime.deliver(event('orders/kept.csv', v2Body, v2.etag));
    await runtime.idle();

    // Act: v1's event delivered again, after v2's
    await runtime.deliver(event('orders/kept.csv', v1Body, v1.etag));
    await runtime.idle();

    // Assess
    expect(v1.name).not.toBe(v2.name);
    expect((await runtime.finished(v1.name))?.outcome).toBe('curated');
    expect((await runtime.finished(v2.name))?.outcome).toBe('curated');
    const executions = (await runtime.executions.list()).filter((r) => r.input.key === 'orders/kept.csv');
    expect(executions.map((r) => r.name).sort()).toEqual([v1.name, v2.name].sort());
    const { raw, curated, failure } = await zones('kept');
    expect([raw.length, curated.length, failure.length]).toEqual([2, 2, 0]);
    expect(await rows(5000, 5003)).toEqual({ n: 3, ids: 3 });
    expect(await rows(5100, 5105)).toEqual({ n: 5, ids: 5 });
  }, 60_000);

  it('curates the newer version once and fails the older one loudly when their events arrive reversed after both uploads', async () => {
    // Prepare: v2 replaces v1 before either event is delivered (the local server keeps no versions)
    const v1Body = ordersFile(5200, 5204);
    const v2Body = ordersFile(5300, 5302);
    const v1 = await upload('orders/reversed.csv', v1Body);
    const v2 = await upload('orders/reversed.csv', v2Body);

    // Act: v2's event first, then v1's
    await runtime.deliver(event('orders/reversed.csv', v2Body, v2.etag));
    await runtime.deliver(event('orders/reversed.csv', v1Body, v1.etag));
    await runtime.idle();

    // Assess
    expect(await runtime.finished(v2.name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const older = await runtime.finished(v1.name);
    expect(older).toMatchObject({ status: 'FAILED', outcome: 'failed' });
    expect(older?.error?.message).toContain('was replaced before it was read');
    const failed = (await notifications()).filter(
      (n) => (n.message as { execution?: string }).execution?.endsWith(`:${v1.name}`) ?? false,
    );
    expect(failed.map((n) => [n.attributes.status, (n.message as { error?: string }).error])).toEqual([
      ['FAILED', 'ObjectReplaced'],
    ]);
    const { raw, curated, failure } = await zones('reversed');
    expect([raw.length, curated.length, failure.length]).toEqual([1, 1, 0]);
    expect(await rows(5300, 5302)).toEqual({ n: 2, ids: 2 });
    expect(await rows(5200, 5204)).toEqual({ n: 0, ids: 0 });
    // The older upload no longer exists to re-drive: the lake holds no orphan.
    expect((await redrive()).orphans).toEqual([]);
  }, 60_000);
});

/** S3's throttling reply, as the SDK builds it from a 503. */
/** S3's reply `name` with HTTP `status`, as the SDK raises it (a 503 is retried, a 403 is not). */
const s3Error = (name: string, status: number, message: string) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
const slowDown = () => s3Error('SlowDown', 503, 'Please reduce your request rate.');

/** An error of a given name (the name is what Retry and Catch match). */
const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('faults', () => {
  let runtime: LocalRuntime;
  const { upload, zones, rows, redrive, notifiedOf } = lake(() => runtime);
  let s3Fault: (command: string) => Error | undefined = () => undefined;
  let taskFault: (state: string, attempt: number, phase: 'before' | 'after') => Error | undefined = () =>
    undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    runtime = await LocalRuntime.start({
      lakeDir: await mkdtemp(join(tmpdir(), 'lake-faults-')),
      onLine: (line) => void lines.push(line),
      faults: {
        s3: (command) => s3Fault(command),
        tasks: (state, attempt, phase) => taskFault(state, attempt, phase),
        // Faults here last until the retries run out: their count matters, not the waits.
        retryDelayMs: 10,
      },
    });
  }, 60_000);

  afterEach(() => {
    s3Fault = () => undefined;
    taskFault = () => undefined;
  });

  afterAll(async () => {
    await runtime?.close();
  });

  /** Every S3 request attempt, by command, since the last `throttle`. */
  const calls = new Map<string, number>();

  /** Fails the first `times` requests of each of `commands` with SlowDown; counts the injections. */
  const throttle = (times: number, ...commands: string[]) => {
    calls.clear();
    const injected = new Map<string, number>();
    s3Fault = (command) => {
      calls.set(command, (calls.get(command) ?? 0) + 1);
      if (!commands.includes(command)) return undefined;
      const count = injected.get(command) ?? 0;
      if (count >= times) return undefined;
      injected.set(command, count + 1);
      return slowDown();
    };
    return injected;
  };

  /** Counts the attempts of every Task state, injecting nothing (or `also`'s error). */
  const countAttempts = (
    also: (state: string, attempt: number, phase: 'before' | 'after') => Error | undefined = () => undefined,
  ) => {
    const attempts = new Map<string, number>();
    taskFault = (state, attempt, phase) => {
      if (phase === 'before') attempts.set(state, attempt);
      return also(state, attempt, phase);
    };
    return attempts;
  };

  it('retries S3 SlowDown on GetObject and CopyObject in the SDK, and the file ends curated', async () => {
    // Prepare
    const injected = throttle(2, 'GetObjectCommand', 'CopyObjectCommand');
    const attempts = countAttempts();

    // Act
    const { name } = await upload('orders/throttled.csv', ordersFile(3000, 3004));
    await runtime.idle();

    // Assess
    expect(Object.fromEntries(injected)).toEqual({ GetObjectCommand: 2, CopyObjectCommand: 2 });
    expect(attempts.get('Validate')).toBe(1); // the SDK absorbed the throttling…
    // …with two retries each: Validate's read (then the conversion's and the commit's reads) and
    // Validate's copy to raw (the only copy: the engines write their data files in place).
    expect(calls.get('CopyObjectCommand')).toBe(3);
    expect(calls.get('GetObjectCommand')).toBeGreaterThanOrEqual(4);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const { raw, curated } = await zones('throttled');
    expect([raw.length, curated.length]).toEqual([1, 1]);
    expect(await rows(3000, 3004)).toEqual({ n: 4, ids: 4 });
  }, 60_000);

  it('retries SlowDown beyond the SDK in Step Functions (Validate Retry), and the file ends curated', async () => {
    // Prepare: three SlowDowns exhaust the SDK's three attempts of Validate's GetObject
    const injected = throttle(3, 'GetObjectCommand');
    const attempts = countAttempts();

    // Act
    const { name } = await upload('orders/throttled-more.csv', ordersFile(3100, 3103));
    await runtime.idle();

    // Assess
    expect(Object.fromEntries(injected)).toEqual({ GetObjectCommand: 3 });
    expect(attempts.get('Validate')).toBe(2);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const { raw, curated } = await zones('throttled-more');
    expect([raw.length, curated.length]).toEqual([1, 1]);
    expect(await rows(3100, 3103)).toEqual({ n: 3, ids: 3 });
  }, 60_000);

  it('converges to one raw and one curated result when Validate crashes after its copy and is retried', async () => {
    // Prepare: the first attempt copies to raw, then its Lambda dies (a retried service error)
    const attempts = countAttempts((state, attempt, phase) =>
      state === 'Validate' && attempt === 1 && phase === 'after'
        ? named('Lambda.ServiceException', 'the function crashed after the copy')
        : undefined,
    );

    // Act
    const { name } = await upload('orders/crash-retried.csv', ordersFile(4000, 4006));
    await runtime.idle();

    // Assess
    expect(attempts.get('Validate')).toBe(2);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const { raw, curated, failure } = await zones('crash-retried');
    expect([raw.length, curated.length, failure.length]).toEqual([1, 1, 0]);
    expect(await rows(4000, 4006)).toEqual({ n: 6, ids: 6 });
  }, 60_000);

  it('converges to one raw and one curated result when a crash after the copy fails the execution and the reconciler re-drives it', async () => {
    // Prepare: an error no Retry matches, in the first execution only
    let crashed = false;
    taskFault = (state, _attempt, phase) => {
      if (state !== 'Validate' || phase !== 'after' || crashed) return undefined;
      crashed = true;
      return named('Error', 'the function crashed after the copy');
    };
    const { name } = await upload('orders/crash-redriven.csv', ordersFile(4100, 4105));
    await runtime.idle();
    const failed = await runtime.finished(name);
    const before = await zones('crash-redriven');

    // Act
    const report = await redrive();

    // Assess
    expect(failed).toMatchObject({ status: 'FAILED' });
    expect(failed?.states.slice(-3)).toEqual(['RecordFailed', 'NotifyFailed', 'Failed']);
    expect([before.raw.length, before.curated.length]).toEqual([1, 0]);
    expect(report.orphans.map((o) => o.key)).toEqual(['orders/crash-redriven.csv']);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const { raw, curated, failure } = await zones('crash-redriven');
    expect([raw.length, curated.length, failure.length]).toEqual([1, 1, 0]);
    expect(await rows(4100, 4105)).toEqual({ n: 5, ids: 5 });
  }, 60_000);

  it('fails and notifies when the Glue job fails, keeps the file in raw, and re-drives it once lifted', async () => {
    // Prepare: the Convert Lambda runs out of time and hands the file to Glue, whose run fails.
    taskFault = (state, _attempt, phase) =>
      phase !== 'before'
        ? undefined
        : state === 'ConvertInLambda'
          ? named('Sandbox.Timedout', 'Task timed out after 900.00 seconds')
          : state === 'ConvertToParquet'
            ? named('Glue.JobRunFailed', 'the job run failed')
            : undefined;
    const { name } = await upload('orders/glue-failed.csv', ordersFile(5000, 5008));
    await runtime.idle();
    const failed = await runtime.finished(name);
    const before = await zones('glue-failed');
    const notified = await notifiedOf(name);

    // Act: the fault lifted, the reconciler re-drives
    taskFault = () => undefined;
    const report = await redrive();

    // Assess
    expect(failed).toMatchObject({ status: 'FAILED', outcome: 'failed' });
    expect(failed?.states.slice(-6)).toEqual([
      'ConvertInLambda',
      'SizeGlueAtMost',
      'ConvertToParquet',
      'RecordFailed',
      'NotifyFailed',
      'Failed',
    ]);
    expect(notified.map((n) => n.attributes.status)).toEqual(['VALIDATED', 'FAILED']);
    expect(notified[1]?.message).toMatchObject({
      status: 'FAILED',
      dataset: 'orders',
      source: { key: 'orders/glue-failed.csv' },
      error: 'Glue.JobRunFailed',
    });
    expect([before.raw.length, before.curated.length]).toEqual([1, 0]);
    expect(report.orphans).toEqual([
      { key: 'orders/glue-failed.csv', versionId: null, execution: name, reason: 'failed' },
    ]);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const { raw, curated } = await zones('glue-failed');
    expect([raw.length, curated.length]).toEqual([1, 1]);
    expect(await rows(5000, 5008)).toEqual({ n: 8, ids: 8 });
  }, 60_000);

  it('publishes again when SNS refuses a notification once: the file is curated, not failed', async () => {
    // Prepare: the first attempt of NotifyCurated fails, as a throttled or briefly unavailable
    // topic would (AWS review L4: without a Retry it went to NotifyFailed).
    const attempts = countAttempts((state, attempt, phase) =>
      state === 'NotifyCurated' && attempt === 1 && phase === 'before'
        ? named('SNS.ThrottledException', 'rate exceeded')
        : undefined,
    );

    // Act
    const { name } = await upload('orders/sns-once.csv', ordersFile(6200, 6203));
    await runtime.idle();

    // Assess
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    expect(attempts.get('NotifyCurated')).toBe(2);
    expect(await rows(6200, 6203)).toEqual({ n: 3, ids: 3 });
  });

  it("fails with the commit's error when S3 refuses the table's writes until the queue gives up, commits nothing, and a re-drive curates the file once", async () => {
    // Prepare: S3 refuses every PutObject once CommitToTable has started (the data file and the
    // commit request are written by then): the commit fails before its swap, the queue tries it
    // again (a transient outcome) until its attempts run out.
    let committing = false;
    let refused = 0;
    countAttempts((state, _attempt, phase) => {
      if (state === 'CommitToTable' && phase === 'before') committing = true;
      return undefined;
    });
    s3Fault = (command) => {
      if (!committing || command !== 'PutObjectCommand') return undefined;
      refused++;
      return s3Error('AccessDenied', 403, 'Access Denied');
    };
    const retriesBefore = runtime.commits.stats().retries;
    const { name } = await upload('orders/commit-refused.csv', ordersFile(7000, 7006));
    await runtime.idle();
    const failed = await runtime.finished(name);
    const before = await zones('commit-refused');
    const notified = await notifiedOf(name);
    const retried = runtime.commits.stats().retries - retriesBefore;
    s3Fault = () => undefined;

    // Act: the reconciler re-drives the failed file
    const report = await redrive();

    // Assess: a failed run named after S3's refusal, nothing of it in the table…
    expect(retried).toBe(4);
    expect(refused).toBeGreaterThanOrEqual(5);
    expect(failed).toMatchObject({ status: 'FAILED', outcome: 'failed' });
    expect(failed?.snapshotId).toBeUndefined();
    expect(failed?.states.slice(-4)).toEqual(['CommitToTable', 'RecordFailed', 'NotifyFailed', 'Failed']);
    expect(notified[1]?.message).toMatchObject({ status: 'FAILED', error: 'AccessDenied' });
    expect([before.raw.length, before.curated.length]).toEqual([1, 0]);
    // …and the re-drive commits it once.
    expect(report.redriven).toBe(1);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const after = await zones('commit-refused');
    expect(after.curated).toHaveLength(1);
    expect(await rows(7000, 7006)).toEqual({ n: 6, ids: 6 });
  }, 60_000);

  it('fails loudly when the curated notification cannot be published, and the data stays intact', async () => {
    // Prepare
    taskFault = (state, _attempt, phase) =>
      state === 'NotifyCurated' && phase === 'before'
        ? named('SNS.InternalErrorException', 'the topic is unavailable')
        : undefined;

    // Act
    const { name } = await upload('orders/sns-failed.csv', ordersFile(6000, 6004));
    await runtime.idle();

    // Assess
    const failed = await runtime.finished(name);
    expect(failed).toMatchObject({ status: 'FAILED', outcome: 'failed' });
    expect(failed?.states.slice(-4)).toEqual(['NotifyCurated', 'RecordFailed', 'NotifyFailed', 'Failed']);
    expect(lines).toContain(`failed   orders/sns-failed.csv (${name})`);
    const { raw, curated } = await zones('sns-failed');
    expect([raw.length, curated.length]).toEqual([1, 1]);
    expect(await rows(6000, 6004)).toEqual({ n: 4, ids: 4 });
    // and a re-drive once SNS is back writes the same objects again, no duplicated rows
    taskFault = () => undefined;
    expect((await redrive()).redriven).toBe(1);
    expect(await runtime.finished(name)).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
    const after = await zones('sns-failed');
    expect([after.raw.length, after.curated.length]).toEqual([1, 1]);
    expect(await rows(6000, 6004)).toEqual({ n: 4, ids: 4 });
  }, 60_000);

  it('fails with the publish error when SNS is down for every notification, keeping the raw copy', async () => {
    // Prepare
    taskFault = (state, _attempt, phase) =>
      state.startsWith('Notify') && phase === 'before'
        ? named('SNS.InternalErrorException', 'the topic is unavailable')
        : undefined;

    // Act
    const { name } = await upload('orders/sns-down.csv', ordersFile(6100, 6102));
    await runtime.idle();

    // Assess
    const failed = await runtime.finished(name);
    expect(failed).toMatchObject({ status: 'FAILED', outcome: 'failed' });
    // The record names the error that failed the execution, as Step Functions reports it.
    expect(failed?.error).toEqual({
      name: 'SNS.InternalErrorException',
      message: 'the topic is unavailable',
    });
    expect(failed?.states.slice(-3)).toEqual(['NotifyValidated', 'RecordFailed', 'NotifyFailed']);
    const { raw } = await zones('sns-down');
    expect(raw).toHaveLength(1);
    taskFault = () => undefined;
    expect((await redrive()).redriven).toBe(1);
    expect(await rows(6100, 6102)).toEqual({ n: 2, ids: 2 });
    expect((await redrive()).orphans).toEqual([]);
  }, 60_000);
});
