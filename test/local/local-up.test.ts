/**
 * `datalake local up` as a user runs it: a child process on a lake folder of its own, an S3 client
 * of the user's (not the runtime's), the other commands finding it through `server.json`, and
 * Ctrl-C. Every wait is bounded, and afterEach kills whatever process group a test left running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../lib/cli/main.ts';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { executionNameFor } from '../../lib/local/runtime.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { versionTag } from '../unit/lambdas/helpers.ts';
import { tryConnect } from './try-connect.ts';

/** A bound for each wait: the server's start synthesizes the CDK app, slow on a busy machine. */
const WAIT_MS = 60_000;

const today = () => new Date().toISOString().slice(0, 10);

/** A `local up` child process and everything it printed so far. */
interface Up {
  readonly child: ChildProcess;
  readonly lake: string;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Up[] = [];

afterEach(async () => {
  // Whatever happened in the test, no server outlives it: the whole group (tsx and its node).
  for (const { child, lake, exited } of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    await rm(lake, { recursive: true, force: true });
  }
});

/**
 * Starts `local up --lake <new temp folder>` with `command`, in a process group of its own: the
 * group is what a terminal's Ctrl-C signals, and what afterEach kills.
 */
async function startUp(command: readonly string[]): Promise<Up> {
  const lake = await mkdtemp(join(tmpdir(), 'lake-up-'));
  const child = spawn(command[0]!, [...command.slice(1), 'local', 'up', '--lake', lake], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const up = { child, lake, output, exited };
  started.push(up);
  return up;
}

/**
 * Polls `probe` until it returns a value (not undefined or null), at most WAIT_MS or until the
 * server exits; the error names the wait and shows the server's output.
 */
async function until<T>(
  what: string,
  up: Up,
  probe: () => Promise<T | undefined | null> | T | undefined | null,
) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline || up.child.exitCode !== null) {
      throw new Error(
        `gave up waiting for ${what} (exit ${up.child.exitCode})\nstdout:\n${up.output.stdout}\nstderr:\n${up.output.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The process's exit, or an error after WAIT_MS. */
async function exitOf(up: Up) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`local up did not exit within ${WAIT_MS} ms`)), WAIT_MS);
  });
  try {
    return await Promise.race([up.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The endpoint line `local up` prints once it serves: `S3 endpoint: http://127.0.0.1:PORT (buckets: …)`. */
const ENDPOINT_LINE =
  /^S3 endpoint: +(http:\/\/127\.0\.0\.1:(\d+)) \(buckets: landing, raw, failure, curated\)$/m;

/** An S3 client set up as the README tells a user to, not the runtime's own factory. */
function userClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** `text` as a literal in a regular expression. */
const regexLiteral = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** True while a process of that id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * An HTTP proxy in front of the S3 endpoint that records each request as `METHOD /decoded/path`:
 * named in server.json, it shows which endpoint another command really talks to. The Host header is
 * passed on unchanged, so the request signatures (which cover it) still hold.
 */
async function recordingProxy(target: string): Promise<{ endpoint: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    seen.push(`${req.method} ${decodeURIComponent(url.pathname)}`);
    const upstream = request(url, { method: req.method, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    upstream.on('error', (error) => res.destroy(error));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, seen, server };
}

/** Runs a `datalake` command in this process and returns its exit code and stdout. */
async function datalake(argv: string[]): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), stderrIsTty: false };
  const code = await main(argv, io);
  return { code, stdout: out.join('') };
}

/** The pid of a process that has exited: a stale server.json after a crash names one. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('datalake local up', () => {
  it('prints its endpoint, serves an S3 client, is found by status and query through server.json, and stops cleanly on Ctrl-C', async () => {
    // The entry `npm run datalake` runs (package.json: node bin/datalake.js). Not the tsx CLI: it
    // gives the child 30 ms to acknowledge a Ctrl-C, then signals it again, which under load made
    // this test's clean stop a second Ctrl-C (exit 130).
    const up = await startUp([process.execPath, 'bin/datalake.js']);
    const [, endpoint, port] = await until('the endpoint line', up, () =>
      ENDPOINT_LINE.exec(up.output.stdout),
    );
    const serverFile = join(up.lake, 'server.json');
    const handshake = JSON.parse(await readFile(serverFile, 'utf8')) as { endpoint: string; pid: number };
    const s3 = userClient(endpoint!);
    const fixture = await readFile('test/fixtures/orders-valid.csv');
    const key = 'orders/orders-valid.csv';
    const proxy = await recordingProxy(endpoint!);
    try {
      // Prints where the lake is and where to send files; server.json names the same endpoint
      // and the live process serving it.
      expect(up.output.stdout.split('\n')[0]).toBe(`local lake running: ${up.lake}`);
      // The console: one line with its URL, on 127.0.0.1, serving config.json without sign-in.
      const consoleUrl = /^console: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(up.output.stdout)?.[1];
      expect(consoleUrl).toBeDefined();
      expect(up.output.stdout).toContain('no sign-in: it listens on 127.0.0.1 only');
      const config = (await (await fetch(`${consoleUrl}config.json`)).json()) as {
        auth: string;
        apiUrl: string;
      };
      expect(config).toMatchObject({ auth: 'none', apiUrl: consoleUrl!.slice(0, -1) });
      expect(up.output.stdout).toContain(
        `  aws --endpoint-url ${endpoint} s3 cp orders.csv s3://landing/orders/orders.csv\n`,
      );
      expect(handshake).toEqual({
        endpoint,
        ledger: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        pid: expect.any(Number),
        since: expect.stringMatching(/^\d+$/),
        datasets: resolve('datasets'),
      });
      expect(alive(handshake.pid)).toBe(true);

      // A valid file uploaded by the user's client reaches curated, run by this server.
      const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: fixture }));
      const tag = versionTag({ bucket: 'landing', key, versionId: null, etag: ETag!.replaceAll('"', '') });
      const listCurated = async () =>
        ((await s3.send(new ListObjectsV2Command({ Bucket: 'curated' }))).Contents ?? []).map((o) => o.Key!);
      // The data file is written, then committed to the table: the execution's end is the line the
      // server prints once its record is saved.
      const name = executionNameFor(key, fixture.length, ETag!);
      await until('the execution end line', up, () =>
        up.output.stdout.includes(` curated  ${key} (${name})\n`) ? true : undefined,
      );
      const curated = await listCurated();
      const dataFiles = curated.filter((k) => k.startsWith('orders/iceberg/data/'));
      expect(dataFiles).toEqual([
        expect.stringMatching(
          new RegExp(
            `^orders/iceberg/data/ingest_date=${today()}/orders-valid\\.${tag}-${name}-[0-9a-f]{16}-part-00000\\.parquet$`,
          ),
        ),
      ]);
      const parquet = dataFiles[0]!;

      // status and query use the endpoint server.json names while its pid lives: pointed at a
      // recording proxy, they send it every request.
      await writeFile(serverFile, JSON.stringify({ endpoint: proxy.endpoint, pid: handshake.pid }));
      const status = await datalake(['local', 'status', '--lake', up.lake, '--json']);
      expect(status.code).toBe(0);
      const { objects, executions } = JSON.parse(status.stdout) as {
        objects: Record<string, number>;
        executions: ExecutionRecord[];
      };
      // In curated, beside the data file: the tables' metadata and the commit request.
      expect(objects).toEqual({ landing: 1, raw: 1, failure: 0, curated: curated.length });
      expect(executions.map((e) => [e.name, e.outcome])).toEqual([[name, 'curated']]);
      expect(proxy.seen.splice(0)).toEqual(['GET /landing/', 'GET /raw/', 'GET /failure/', 'GET /curated/']);

      const query = await datalake([
        'local',
        'query',
        'SELECT order_id, customer, amount FROM orders ORDER BY order_id',
        '--lake',
        up.lake,
        '--json',
      ]);
      expect(query.code).toBe(0);
      const rows = parse(fixture, { columns: true }) as Record<string, string>[];
      expect(JSON.parse(query.stdout)).toEqual(
        rows.map((r) => ({ order_id: r.order_id, customer: r['Customer Name'], amount: r.amount })),
      );
      // The tables' metadata, then the data file, all read through up's endpoint.
      const seen = proxy.seen.splice(0);
      expect(seen.every((request) => request.startsWith('GET /curated/'))).toBe(true);
      expect(seen).toContain(`GET /curated/${parquet}`);

      // A server.json whose pid is gone (a crash) is ignored: status serves itself.
      await writeFile(serverFile, JSON.stringify({ endpoint: proxy.endpoint, pid: await deadPid() }));
      const stale = await datalake(['local', 'status', '--lake', up.lake, '--json']);
      expect(stale.code).toBe(0);
      expect(JSON.parse(stale.stdout).objects).toEqual(objects);
      expect(proxy.seen).toEqual([]);
      await writeFile(serverFile, JSON.stringify(handshake));

      // Ctrl-C: the terminal signals the foreground process group.
      process.kill(-up.child.pid!, 'SIGINT');
      const exit = await exitOf(up);

      expect(exit, up.output.stderr).toEqual({ code: 0, signal: null });
      expect(up.output.stdout).toMatch(/\nstopping: finishing the executions in flight…\nstopped\n$/);
      expect(existsSync(serverFile)).toBe(false);
      expect(alive(handshake.pid)).toBe(false);
      expect(await tryConnect('127.0.0.1', Number(port))).toBe('ECONNREFUSED');
    } finally {
      s3.destroy();
      proxy.server.close();
    }
  }, 180_000);

  it('on SIGINT with a file in flight, finishes its execution before it exits 0', async () => {
    // The package's `datalake` bin (tsx registered in-process). Through the tsx CLI, a SIGINT
    // while the server is busy does not get here: tsx gives the child 30 ms to acknowledge the
    // signal, then signals it again or kills it, and the command exits 130 with server.json left.
    const up = await startUp([process.execPath, 'bin/datalake.js']);
    const [, endpoint] = await until('the endpoint line', up, () => ENDPOINT_LINE.exec(up.output.stdout));
    const s3 = userClient(endpoint!);
    // Large enough that its execution (validation, Parquet, partition) outlasts the signal.
    const csv = ORDERS_HEADER + orderRows(5, 0, 20_000);
    const key = 'orders/in-flight.csv';
    try {
      const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'landing', Key: key, Body: csv }));
      const name = executionNameFor(key, Buffer.byteLength(csv), ETag!);

      up.child.kill('SIGINT');
      const exit = await exitOf(up);

      expect(exit, up.output.stderr).toEqual({ code: 0, signal: null });
      // The stop began before the execution ended, and waited for it.
      const tail = up.output.stdout.slice(up.output.stdout.indexOf('stopping: '));
      expect(tail).toMatch(
        new RegExp(
          `^stopping: finishing the executions in flight…\n(\\d\\d:\\d\\d:\\d\\d sns .*\n)*\\d\\d:\\d\\d:\\d\\d curated  ${regexLiteral(key)} \\(${name}\\)\nstopped\n$`,
        ),
      );
      expect(existsSync(join(up.lake, 'server.json'))).toBe(false);
      const record = JSON.parse(
        await readFile(join(up.lake, 'executions', `${name}.json`), 'utf8'),
      ) as ExecutionRecord;
      expect([record.status, record.outcome]).toEqual(['SUCCEEDED', 'curated']);
      // Every row made it, queried with the server gone.
      const query = await datalake([
        'local',
        'query',
        'SELECT count(*) AS n FROM orders',
        '--lake',
        up.lake,
        '--json',
      ]);
      expect(JSON.parse(query.stdout)).toEqual([{ n: String(parse(csv, { columns: true }).length) }]);
    } finally {
      s3.destroy();
    }
  }, 180_000);
});
