/**
 * The soak's crash part: `datalake local up` runs as a child process and is killed with SIGKILL at
 * random moments while producers keep uploading (each retries an upload the kill interrupted, as a
 * producer would), some of them two different files to one key at the same time. After the last
 * restart the lake is stopped cleanly, started again and reconciled with re-drive; then every
 * object version that ever landed must be accounted for: curated once, rejected once, or (only a
 * version replaced by a concurrent upload of its key, as S3 without versioning would) failed with
 * with "replaced before it was read" and nothing of it in any zone; every row of each curated version once.
 * The ledger is sampled through the kills and checked at the end (bench/ledger-invariants.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ValidateTaskOutput } from '../lambdas/shared/contract.ts';
import { versionDigest } from '../lambdas/shared/object-version.ts';
import { VERSION_TAG_CHARS } from '../lambdas/validate/core.ts';
import { LOCAL_BUCKETS } from '../lib/local/lake-folder.ts';
import { localLedgerClient, localLedgerTable } from '../lib/local/ledger.ts';
import { LocalRuntime } from '../lib/local/runtime.ts';
import { localS3Client } from '../lib/local/s3-server.ts';
import { reconcile } from '../lib/reconcile/reconcile.ts';
import { listKeys } from '../lib/s3-keys.ts';
import { brokenOrdersCsv } from '../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows, prng } from '../lib/samples/orders-generator.ts';
import { ordersTable } from './iceberg-table.ts';
import { checkRuntimeLedger, watchLedger } from './ledger-invariants.ts';

/** Options of {@link crashSoak}. */
export interface CrashSoakOptions {
  readonly files: number;
  /** Kills of the `local up` process, spread over the uploads. */
  readonly kills: number;
  readonly seed: number;
  readonly largeFileBytes: number;
}

/** What the crash soak counted; `ok` when every check held. */
export interface CrashSoakFigures extends Record<string, number | string | boolean> {
  readonly ok: boolean;
}

/** A free TCP port on 127.0.0.1, for `local up` to take again at every restart. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** `local up` in a child process; resolves once it serves. Its lines go to `lines`. */
async function up(
  lake: string,
  port: number,
  largeFileBytes: number,
  lines: string[],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join('bin', 'datalake.js'),
      'local',
      'up',
      '--lake',
      lake,
      '--port',
      String(port),
      '--large-file-bytes',
      String(largeFileBytes),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      if (parts.some((l) => l.startsWith('local lake running'))) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    child.once('exit', (code, signal) =>
      reject(new Error(`local up ended before serving (${code ?? signal})`)),
    );
  });
  child.removeAllListeners('exit');
  return child;
}

const md5 = (body: string) => createHash('md5').update(body).digest('hex');

/** Runs the crash soak and returns its figures. */
export async function crashSoak(options: CrashSoakOptions): Promise<CrashSoakFigures> {
  const rand = prng(options.seed + 7);
  const lake = await mkdtemp(join(tmpdir(), 'lake-soak-crash-'));
  const port = await freePort();
  const lines: string[] = [];
  const started = performance.now();
  let server = await up(lake, port, options.largeFileBytes, lines);
  const client: S3Client = localS3Client(`http://127.0.0.1:${port}`);
  // The ledger, sampled through every kill: each `up` serves it on a port of its own, named on
  // its banner; scans while it is down fail and are counted.
  const ledgerClients = new Map<string, DynamoDBClient>();
  const ledgerClient = () => {
    const banner = lines.findLast((l) => l.startsWith('ledger (DynamoDB):'));
    const endpoint = banner?.match(/http:\/\/[\d.:]+/)?.[0];
    if (!endpoint) return undefined;
    if (!ledgerClients.has(endpoint)) ledgerClients.set(endpoint, localLedgerClient(endpoint));
    return ledgerClients.get(endpoint);
  };
  const tableName = localLedgerTable();
  let watch = watchLedger(ledgerClient, tableName);

  /** Rows of every body uploaded, by its MD5 (a single-part upload's ETag). */
  const rowsOf = new Map<string, number>();
  let uploads = 0;
  let retries = 0;
  let sameKeyPairs = 0;
  let multipart = 0;
  const body = (i: number, variant: number): string => {
    if (rand() < 0.2) return `${brokenOrdersCsv()}${'\n'.repeat(variant)}`;
    const n = 1 + Math.floor(rand() * 5);
    const from = (i * 10 + variant) * 1000;
    const text = ORDERS_HEADER + orderRows(i, from, from + n);
    rowsOf.set(md5(text), n);
    return text;
  };
  /** Uploads until the server answers (a kill makes the request fail; the producer tries again). */
  const put = async (key: string, text: string, viaMultipart: boolean) => {
    for (let attempt = 0; ; attempt++) {
      try {
        if (viaMultipart) {
          await new Upload({
            client,
            params: { Bucket: LOCAL_BUCKETS.landing, Key: key, Body: Buffer.from(text) },
            partSize: 5 * 1024 * 1024,
          }).done();
        } else {
          await client.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: text }));
        }
        uploads++;
        return;
      } catch {
        retries++;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  };

  // The killer: at random moments, SIGKILL the server and start it again on the same lake and port
  // (while the producers upload, and after, while the last files are processed).
  let kills = 0;
  const killer = (async () => {
    while (kills < options.kills) {
      await new Promise((r) => setTimeout(r, 300 + rand() * 1500));
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      kills++;
      server = await up(lake, port, options.largeFileBytes, lines);
    }
  })();

  // The producers: batches of files, one in ten a pair of different files to one key at once,
  // one in fifty a multipart upload of a file above 5 MB.
  const batch = 10;
  for (let first = 0; first < options.files; first += batch) {
    const jobs: Promise<void>[] = [];
    for (let i = first; i < Math.min(first + batch, options.files); i++) {
      const key = `orders/crash-${String(i).padStart(5, '0')}.csv`;
      if (rand() < 0.1) {
        sameKeyPairs++;
        jobs.push(put(key, body(i, 0), false), put(key, body(i, 1), false));
      } else if (rand() < 0.02) {
        multipart++;
        // Ids of their own range: a multipart file holds tens of thousands of rows.
        const from = 1_000_000_000 + i * 100_000;
        let text = ORDERS_HEADER;
        let n = 0;
        while (text.length < 6 * 1024 * 1024) {
          text += orderRows(i, from + n, from + n + 1000);
          n += 1000;
        }
        // A multipart ETag is not the body's MD5: key the rows by the parts' ETag as S3 forms it.
        rowsOf.set(`multipart:${key}`, n);
        jobs.push(put(key, text, true));
      } else {
        jobs.push(put(key, body(i, 0), false));
      }
    }
    await Promise.all(jobs);
  }
  await killer;
  // A clean stop finishes what is in flight; then recovery, reconcile and re-drive in this process.
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  client.destroy();
  const watchedUp = await watch.stop();
  for (const c of ledgerClients.values()) c.destroy();
  const runtime = await LocalRuntime.start({ lakeDir: lake, largeFileBytes: options.largeFileBytes });
  watch = watchLedger(() => runtime.ledger.client, tableName);
  const aborted = (await runtime.executions.list()).filter((r) => r.status === 'ABORTED');
  const before = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger(), {
    redrive: true,
  });
  await runtime.idle();
  const after = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger());
  const watchedRedrive = await watch.stop();

  const list = async (bucket: string) => new Set(await listKeys(runtime.client, bucket, ''));
  // Curated is what the orders table holds: its live data files (a killed run's uncommitted file
  // is invisible, and left to the orphan-file deletion), and the object versions its snapshots name.
  const table = await ordersTable(runtime, join(lake, 'soak-read'));
  const sources = table.snapshots.flatMap((snapshot) => snapshot.sources);
  const curated = new Set(table.live);
  const [raw, failure] = await Promise.all([list(LOCAL_BUCKETS.raw), list(LOCAL_BUCKETS.failure)]);
  // Every execution that stands (re-driven ones replaced theirs), checked against the zones.
  const records = await runtime.executions.list();
  let misplaced = 0;
  const problems: string[] = [];
  const wrong = (record: { name: string; input: { key: string } }, why: string) => {
    misplaced++;
    problems.push(`${record.input.key} (${record.name}): ${why}`);
  };
  let expectedRows = 0;
  let replaced = 0;
  let keptInRaw = 0;
  const claimed = { raw: 0, curated: 0, failure: 0 };
  const tagOf = (key: string) =>
    /\.([0-9a-f]{8})(?:\.csv|-[A-Za-z0-9_-]+-[0-9a-f]{16}-part-\d+\.parquet)$/.exec(key)?.[1];
  for (const record of records) {
    const validation = (record.output as { validation?: ValidateTaskOutput } | undefined)?.validation;
    if (record.outcome === 'curated' && validation?.raw && record.curated) {
      const etag = (record.input.etag ?? '').replace(/"/g, '');
      const rows = rowsOf.get(etag) ?? rowsOf.get(`multipart:${record.input.key}`);
      if (rows === undefined) wrong(record, 'curated, but its body was never uploaded');
      if (!raw.has(validation.raw.key)) wrong(record, `curated, but no raw object ${validation.raw.key}`);
      expectedRows += rows ?? 0;
      claimed.raw++;
      for (const uri of record.curated) {
        claimed.curated++;
        if (!curated.has(uri.replace(`s3://${LOCAL_BUCKETS.curated}/`, '')))
          wrong(record, `no curated ${uri}`);
      }
    } else if (record.outcome === 'rejected' && validation?.failure) {
      claimed.failure++;
      if (!failure.has(validation.failure.key)) wrong(record, `rejected, but no ${validation.failure.key}`);
    } else if (record.outcome === 'failed' && record.error?.message.includes('was replaced')) {
      // Replaced before it was read, or (its process killed) before a restart: it has no outcome,
      // so nothing of it may be in curated; a validated copy may be kept in raw, and is then named.
      replaced++;
      const tag = versionDigest(record.input).slice(0, VERSION_TAG_CHARS);
      for (const key of curated) if (tagOf(key) === tag) wrong(record, `replaced, yet ${key} is there`);
      for (const key of raw) {
        if (tagOf(key) !== tag) continue;
        if (!record.error?.message.includes(`kept at s3://${LOCAL_BUCKETS.raw}/${key}`))
          wrong(record, `replaced, yet ${key} is there, unnamed`);
        claimed.raw++;
        keptInRaw++;
      }
    } else {
      wrong(
        record,
        `ended ${record.status} ${record.outcome ?? ''} ${record.error?.name ?? ''}: ${record.error?.message ?? ''}`,
      );
    }
  }
  const failureCopies = [...failure].filter((k) => /\.[0-9a-f]{8}\.csv$/.test(k)).length;
  const curatedParts = [...curated].filter((k) => k.endsWith('.parquet')).length;
  const duplicates =
    Math.max(0, raw.size - claimed.raw) +
    Math.max(0, curatedParts - claimed.curated) +
    Math.max(0, failureCopies - claimed.failure);
  const { problems: ledgerProblems, ...ledger } = await checkRuntimeLedger(runtime, records);
  const backwards = [...watchedUp.backwards, ...watchedRedrive.backwards];
  const { rows } = await runtime.query('SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM orders');
  await runtime.close();
  await rm(lake, { recursive: true, force: true });

  const steps = new Map<string, number>();
  for (const r of aborted) {
    const state = r.error?.message.match(/in state (\w+)/)?.[1] ?? 'before its first task';
    steps.set(state, (steps.get(state) ?? 0) + 1);
  }
  const figures = {
    files: options.files,
    kills,
    killedExecutions: aborted.length,
    killedIn: [...steps].map(([s, n]) => `${s} ${n}`).join(', ') || 'none',
    uploads,
    uploadRetries: retries,
    sameKeyPairs,
    multipartUploads: multipart,
    replacedVersions: replaced,
    keptInRaw,
    landed: before.objects,
    redriven: before.redriven,
    orphans: after.orphans.length,
    duplicates,
    misplaced,
    curatedRows: Number(rows[0]?.n),
    distinctIds: Number(rows[0]?.ids),
    expectedRows,
    tableRows: table.n,
    commits: table.snapshots.length,
    sourceTags: sources.length,
    distinctSourceTags: new Set(sources).size,
    ...ledger,
    ledgerScans: watchedUp.scans + watchedRedrive.scans,
    ledgerScansFailed: watchedUp.failedScans + watchedRedrive.failedScans,
    ledgerObservations: watchedUp.observations + watchedRedrive.observations,
    ledgerMoves: watchedUp.moves + watchedRedrive.moves,
    backwardsMoves: backwards.length,
    wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  for (const problem of problems) process.stderr.write(`misplaced: ${problem}\n`);
  for (const problem of [...ledgerProblems, ...backwards].slice(0, 20)) {
    process.stderr.write(`ledger: ${problem}\n`);
  }
  const ok =
    ledgerProblems.length === 0 &&
    backwards.length === 0 &&
    figures.orphans === 0 &&
    duplicates === 0 &&
    misplaced === 0 &&
    figures.curatedRows === expectedRows &&
    figures.distinctIds === expectedRows &&
    figures.tableRows === expectedRows &&
    // Each curated object version appended once, whatever was killed and re-driven.
    figures.sourceTags === figures.distinctSourceTags &&
    kills === options.kills;
  return { ...figures, ok };
}
