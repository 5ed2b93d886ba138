/**
 * The CLI around a lake folder: one `local up` per lake, what the other commands do while it runs,
 * a folder that holds no lake, a busy port, and an ingest stopped by Ctrl-C (issue 12, item 5;
 * adversarial findings F6, F10, F12–F15).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLake, releaseLake, type ServerInfo } from '../../lib/cli/lake-server.ts';
import { thisProcess } from '../../lib/local/executions.ts';
import { lakePaths } from '../../lib/local/lake-folder.ts';
import { runCli } from '../unit/cli-run.ts';

const VALID = 'test/fixtures/orders-valid.csv';

/** Runs the CLI in-process (aborted by `signal`, when given) and captures what it prints. */
const run = (argv: string[], signal?: AbortSignal) => runCli(argv, signal ? { signal } : {});

const scratch = () => mkdtemp(join(tmpdir(), 'cli-lake-'));

/** Polls until `read` gives a value (the server writes its file once it listens). */
async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const serverJson = (lake: string) =>
  readFile(join(lake, 'server.json'), 'utf8').then(
    (text) => JSON.parse(text) as ServerInfo,
    () => undefined,
  );

/** A process that lives until killed, and one that has exited. */
async function livePid(): Promise<{ pid: number; kill: () => void }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  await new Promise((r) => child.once('spawn', r));
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('with local up running on a lake', () => {
  let lake: string;
  let datasets: string;
  let stop: AbortController;
  let up: Promise<{ code: number; out: string; err: string }>;
  let info: ServerInfo;

  beforeAll(async () => {
    // Prepare: up reads a datasets folder of its own, with a dataset the default folder lacks.
    const dir = await scratch();
    lake = join(dir, 'lake');
    datasets = join(dir, 'datasets');
    await mkdir(datasets);
    const orders = JSON.parse(await readFile('datasets/orders.json', 'utf8')) as { name: string };
    await writeFile(join(datasets, 'extra.json'), JSON.stringify({ ...orders, name: 'extra' }));
    stop = new AbortController();
    up = run(['local', 'up', '--lake', lake, '--datasets', datasets], stop.signal);
    info = await until(() => serverJson(lake));
  }, 60_000);

  afterAll(async () => {
    stop.abort('SIGINT');
    await up;
  });

  it('server.json names the endpoint, the ledger’s, this process (pid and start time) and the datasets folder up reads', () => {
    expect(info).toEqual({
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      ledger: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      ...thisProcess(),
      datasets,
    });
  });

  it('a second local up is refused in one line, exit 2, and the first one’s claim stays', async () => {
    const second = await run(['local', 'up', '--lake', lake]);
    expect(second.code).toBe(2);
    expect(second.err).toBe(
      `datalake: local up is already running on this lake (pid ${process.pid}, endpoint ${info.endpoint})\n`,
    );
    expect(await serverJson(lake)).toEqual(info);
  });

  // Re-driving through up, with orphans to re-drive, is tested in crash-recovery.test.ts.
  it('reconcile --redrive runs while up runs (exit 0, nothing to re-drive here), and up keeps its claim', async () => {
    const { code, out, err } = await run(['reconcile', '--redrive', '--lake', lake, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ orphans: [], redriven: 0 });
    expect(await serverJson(lake)).toEqual(info);
  });

  it('local ingest --datasets naming another folder than up reads is a usage error naming both', async () => {
    const { code, err } = await run([
      'local',
      'ingest',
      VALID,
      '--dataset',
      'orders',
      '--datasets',
      'datasets',
      '--lake',
      lake,
    ]);
    expect(code).toBe(2);
    expect(err.split('\n')[0]).toBe(
      `datalake: --datasets ${resolve('datasets')} is not the folder the running local up reads (${datasets}): leave --datasets out, or restart local up with it`,
    );
    const status = await run(['local', 'status', '--lake', lake, '--json']);
    expect(JSON.parse(status.out).objects.landing).toBe(0);
  });

  it('local ingest without --datasets checks the dataset against the folder up reads', async () => {
    const key = 'extra/orders-valid.csv';
    const { code, out } = await run([
      'local',
      'ingest',
      VALID,
      '--dataset',
      'extra',
      '--lake',
      lake,
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ status: 'curated', dataset: 'extra', key, rows: 3 });
  });

  it('stops on the signal and removes its server.json', async () => {
    stop.abort('SIGINT');
    const { code, out } = await up;
    expect(code).toBe(0);
    expect(out).toMatch(/stopped\n$/);
    expect(existsSync(join(lake, 'server.json'))).toBe(false);
  });
});

describe('server.json: one claim per lake', () => {
  it('a claim whose process is gone (a crash) is replaced; a live one is refused', async () => {
    const paths = lakePaths(await scratch());
    await writeFile(paths.server, JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: await deadPid() }));
    const ours = { endpoint: 'http://127.0.0.1:2', pid: process.pid };
    await claimLake(paths, ours);
    expect(JSON.parse(await readFile(paths.server, 'utf8'))).toEqual(ours);
    await expect(claimLake(paths, ours)).rejects.toThrow(
      `local up is already running on this lake (pid ${process.pid}, endpoint http://127.0.0.1:2)`,
    );
  });

  it('a claim naming a live pid that another process holds now (reused after a reboot) is replaced', async () => {
    // As in a new container: the pid in the file is this very process's, its start time is not.
    const paths = lakePaths(await scratch());
    await writeFile(
      paths.server,
      JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: process.pid, since: '1' }),
    );
    const ours = { endpoint: 'http://127.0.0.1:2', ...thisProcess() };

    await claimLake(paths, ours);

    expect(JSON.parse(await readFile(paths.server, 'utf8'))).toEqual(ours);
  });

  it('stopping removes server.json only when this process wrote it', async () => {
    const paths = lakePaths(await scratch());
    const other = await livePid();
    try {
      const theirs = { endpoint: 'http://127.0.0.1:3', pid: other.pid };
      await writeFile(paths.server, JSON.stringify(theirs));
      await releaseLake(paths);
      expect(JSON.parse(await readFile(paths.server, 'utf8'))).toEqual(theirs);
      await writeFile(paths.server, JSON.stringify({ endpoint: 'http://127.0.0.1:4', pid: process.pid }));
      await releaseLake(paths);
      expect(existsSync(paths.server)).toBe(false);
    } finally {
      other.kill();
    }
  });
});

describe('a folder that holds no lake', () => {
  it.each([
    [['local', 'status']],
    [['local', 'query', 'SELECT count(*) FROM orders']],
    [['reconcile']],
    [['reconcile', '--redrive']],
  ])('%j says so, exit 2, and creates nothing', async (argv) => {
    const dir = await scratch();
    for (const lake of [join(dir, 'typo-lake'), dir]) {
      const { code, out, err } = await run([...argv, '--lake', lake]);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toBe(`datalake: no lake at ${lake}: run \`datalake local up\` or \`local ingest\` first\n`);
    }
    expect(existsSync(join(dir, 'typo-lake'))).toBe(false);
    expect(existsSync(join(dir, 's3'))).toBe(false);
  });
});

describe('a busy port', () => {
  it('local up --port <in use>: one line naming the port, exit 2, no stack trace', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address() as { port: number };
    try {
      const child = spawn(process.execPath, [
        'bin/datalake.js',
        'local',
        'up',
        '--port',
        String(port),
        '--lake',
        join(await scratch(), 'lake'),
      ]);
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      const code = await new Promise((r) => child.once('exit', r));
      expect(err).toBe(`datalake: the port is already in use (127.0.0.1:${port})\n`);
      expect(code).toBe(2);
    } finally {
      busy.close();
    }
  }, 60_000);
});

describe('local ingest stopped by Ctrl-C', () => {
  it('stops waiting at once: "interrupted", no outcome', async () => {
    // Prepare: a stand-in for local up that takes the upload and never answers.
    const lake = await scratch();
    const stop = new AbortController();
    const server = createServer(() => stop.abort('SIGINT'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await writeFile(
      join(lake, 'server.json'),
      JSON.stringify({
        endpoint: `http://127.0.0.1:${port}`,
        pid: process.pid,
        datasets: resolve('datasets'),
      }),
    );
    try {
      // Act
      const { code, out, err } = await run(
        ['local', 'ingest', VALID, '--dataset', 'orders', '--lake', lake],
        stop.signal,
      );

      // Assess
      expect(code).toBe(130);
      expect(err).toBe('datalake: interrupted\n');
      expect(out).toBe('');
    } finally {
      server.closeAllConnections();
      server.close();
      await rm(lake, { recursive: true, force: true });
    }
  });
});

describe('local query output', () => {
  it('the table tells SQL NULL from the text NULL, keeps -0 and escapes control characters', async () => {
    const lake = await scratch();
    await mkdir(join(lake, 's3'));
    const sql = "SELECT NULL AS a, 'NULL' AS b, -0.0::DOUBLE AS c, 'x' || chr(27) || '[31m' AS d";
    const { code, out } = await run(['local', 'query', sql, '--lake', lake]);
    expect(code).toBe(0);
    expect(out).toBe("a     b       c   d\nNULL  'NULL'  -0  x\\x1b[31m\n(1 rows)\n");
  });

  it('says when the row cap cut the result: in the table, and on stderr beside --json', async () => {
    const lake = await scratch();
    await mkdir(join(lake, 's3'));
    const sql = 'SELECT unnest(range(10005)) AS n';
    const table = await run(['local', 'query', sql, '--lake', lake]);
    expect(table.out.endsWith('\n(10,000 rows)\n(truncated at 10,000 rows)\n')).toBe(true);
    const json = await run(['local', 'query', sql, '--lake', lake, '--json']);
    expect(JSON.parse(json.out)).toHaveLength(10_000);
    expect(json.err).toBe('datalake: truncated at 10,000 rows\n');
    const small = await run(['local', 'query', 'SELECT 1 AS n', '--lake', lake, '--json']);
    expect(small.err).toBe('');
  });
});

describe('a damaged lake', () => {
  it.each([[['local', 'status']], [['reconcile']]])(
    '%j: one line naming the store, exit 2, no stack trace',
    async (argv) => {
      // Prepare: an object whose metadata file is not JSON (as a crash or a hand edit leaves it).
      const lake = await scratch();
      const folder = join(lake, 's3', 'landing', 'orders');
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, 'x.csv._S3rver_object'), 'a,b\n');
      await writeFile(join(folder, 'x.csv._S3rver_metadata.json'), '{broken');

      const { code, out, err } = await run([...argv, '--lake', lake]);

      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toBe(
        `datalake: the lake's S3 store failed: InternalError: We encountered an internal error. Please try again. (${join(lake, 's3')}; is the lake damaged?)\n`,
      );
    },
  );
});

describe('a read-only lake', () => {
  /** Runs the CLI as a user who cannot write the lake (as root, root can: run as nobody then). */
  async function asReader(argv: string[]): Promise<{ code: number | null; err: string }> {
    const command = [process.execPath, 'bin/datalake.js', ...argv];
    const [file, ...args] =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...command]
        : command;
    const child = spawn(file!, args, { env: { ...process.env, HOME: tmpdir() } });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    return { code, err };
  }

  it.each([
    [['local', 'up']],
    [['local', 'ingest', VALID, '--dataset', 'orders']],
    [['reconcile', '--redrive']],
  ])(
    '%j: one line saying so, exit 2, before anything runs',
    async (argv) => {
      const lake = await scratch();
      await mkdir(join(lake, 's3'));
      await chmod(join(lake, 's3'), 0o555);
      await chmod(lake, 0o555);
      const { code, err } = await asReader([...argv, '--lake', lake]);
      expect(err).toBe(`datalake: the lake folder is read-only for this user (${lake})\n`);
      expect(code).toBe(2);
    },
    60_000,
  );
});
