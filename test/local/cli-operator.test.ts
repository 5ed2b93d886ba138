/**
 * The operator commands (`put`, `files`, `report`, `query`, `subscribe`) on the local lake, end
 * to end through `main()` as a person or a script runs them (issue 14, item 2), and the parsing
 * of their `--aws` options (the AWS target itself is tested with mocks elsewhere).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, main, targetChoice } from '../../lib/cli/main.ts';
import { lakePaths } from '../../lib/local/lake-folder.ts';
import { deliverToSubscribers, type OutboxEntry, outboxFile } from '../../lib/local/subscriptions.ts';
import { runCli } from '../unit/cli-run.ts';

const VALID = 'test/fixtures/orders-valid.csv';
const INVALID = 'test/fixtures/orders-invalid.csv';

const run = (...argv: string[]) => runCli(argv);
const scratch = () => mkdtemp(join(tmpdir(), 'cli-operator-'));

/** The usage error's first line, and its exit code. */
async function usageError(...argv: string[]): Promise<{ code: number; line: string }> {
  const { code, err } = await run(...argv);
  return { code, line: err.split('\n')[0]! };
}

/** An orders file of `n` rows, each with one error (quantity 0, under the minimum 1). */
async function manyErrors(n: number): Promise<string> {
  const [header, row] = (await readFile(VALID, 'utf8')).split('\n');
  const bad = row!.replace(',ABC-12345,2,', ',ABC-12345,0,');
  const file = join(await scratch(), 'many-errors.csv');
  await writeFile(file, `${header}\n${Array.from({ length: n }, () => bad).join('\n')}\n`);
  return file;
}

/** The lines of a JSON Lines file (none when it is absent). */
async function jsonLines<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

describe('usage errors: exit 2 with one line, before any lake or stack is touched', () => {
  it.each([
    [
      ['files', '--status', 'DONE'],
      '--status takes one of RECEIVED, VALIDATED, REJECTED, CURATED, FAILED, not "DONE"',
    ],
    [['files', '--limit', '0'], '--limit takes a whole number ≥ 1, not "0"'],
    [['files', '--limit', '1001'], '--limit takes at most 1,000, not "1001"'],
    [
      ['files', '--since', 'yesterday'],
      '--since takes a date (YYYY-MM-DD) or an ISO 8601 time, not "yesterday"',
    ],
    [['put', VALID], 'put needs --dataset <name>'],
    [
      ['put', VALID, '--dataset', 'orders', '--key', 'other/x.csv'],
      '--key "other/x.csv" is in folder "other" but --dataset is "orders": the pipeline picks the dataset by the key\'s first folder',
    ],
    [['report'], 'report takes exactly one key (a landing key, as `files` lists it)'],
    [['query', 'SELECT 1', 'SELECT 2'], 'query takes exactly one SQL statement (quote it)'],
    [
      ['subscribe', 'ops@example.com', '--status', 'CURATED,RECEIVED'],
      '--status takes VALIDATED, REJECTED, CURATED, FAILED (the statuses published), not "RECEIVED"',
    ],
    [
      ['subscribe', 'ftp://example.com/x'],
      'cannot subscribe "ftp://example.com/x": give an e-mail address, an https:// url or an sqs queue arn',
    ],
    [
      ['files', '--aws', '--lake', 'x'],
      '--lake names a local lake and --aws a deployed stack: give one of them',
    ],
    [['query', 'SELECT 1', '--stage', 'prod'], '--stage names a deployed stack: it goes with --aws'],
    [
      ['files', '--aws', '--stage', 'Prod'],
      'stage: stage must be 1–10 characters of [a-z0-9], starting with a letter',
    ],
  ])('%j', async (argv, message) => {
    // Act
    const { code, line } = await usageError(...argv);
    // Assess
    expect({ code, line }).toEqual({ code: 2, line: `datalake: ${message}` });
  });
});

describe('--aws options', () => {
  it("name the stack by the app's prefix and stage (its defaults when left out), with the region and profile", () => {
    // Act
    const given = targetChoice({
      aws: true,
      prefix: 'shop',
      stage: 'prod',
      region: 'eu-west-1',
      profile: 'ops',
    });
    const defaults = targetChoice({ aws: true });
    // Assess
    expect(given).toEqual({
      kind: 'aws',
      prefix: 'shop',
      stage: 'prod',
      region: 'eu-west-1',
      profile: 'ops',
    });
    expect(defaults).toEqual({ kind: 'aws', prefix: 'csvlake', stage: 'dev' });
  });

  it('without --aws, the local lake: --lake (default .lake), --datasets only when given', () => {
    expect(targetChoice({})).toEqual({ kind: 'local', lakeDir: '.lake' });
    expect(targetChoice({ lake: 'x', datasets: 'd' })).toEqual({
      kind: 'local',
      lakeDir: 'x',
      datasetsDir: 'd',
    });
  });
});

describe('on a folder that holds no lake', () => {
  it.each([[['files']], [['report', 'orders/x.csv']], [['query', 'SELECT 1']]])(
    '%j says so, exit 2, and creates nothing',
    async (argv) => {
      // Prepare
      const lake = join(await scratch(), 'typo-lake');
      // Act
      const { code, out, err } = await run(...argv, '--lake', lake);
      // Assess
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toBe(`datalake: no lake at ${lake}: run \`datalake local up\` or \`local ingest\` first\n`);
      expect(existsSync(lake)).toBe(false);
    },
  );
});

describe('put refusing an invalid file', () => {
  it('prints its errors as validate does, exit 1, and uploads nothing', async () => {
    // Prepare: a lake (subscribe makes one) and what validate says of the file.
    const lake = join(await scratch(), 'lake');
    await run('subscribe', 'ops@example.com', '--lake', lake);
    const validate = await run('validate', INVALID, '--dataset', 'orders');

    // Act
    const put = await run('put', INVALID, '--dataset', 'orders', '--lake', lake);

    // Assess: validate's report, minus its timing; the landing bucket stays empty.
    const untimed = (text: string) => text.replace(/ in [\d.]+ s(, [\d.]+ MB\/s)?\)/, ')');
    expect(put.code).toBe(1);
    expect(untimed(put.out)).toBe(untimed(validate.out));
    expect(put.err).toBe('datalake: not uploaded: the lake would reject it (--force uploads it anyway)\n');
    const status = await run('local', 'status', '--lake', lake, '--json');
    expect(JSON.parse(status.out).objects.landing).toBe(0);
  }, 60_000);

  it('with --json, one document saying it was not uploaded, with the verdict of validate --json; no lake is made', async () => {
    const lake = join(await scratch(), 'lake');
    const validate = await run('validate', INVALID, '--dataset', 'orders', '--json');
    const put = await run('put', INVALID, '--dataset', 'orders', '--lake', lake, '--json');
    expect(put.code).toBe(1);
    expect(existsSync(lake)).toBe(false);
    expect(JSON.parse(put.out)).toEqual({
      uploaded: false,
      key: 'orders/orders-invalid.csv',
      validation: JSON.parse(validate.out),
    });
  }, 60_000);
});

describe('put without waiting, and stopped while waiting', () => {
  it('--no-wait: a progress bar on a terminal (stderr), the upload line, exit 0', async () => {
    // Prepare
    const lake = join(await scratch(), 'lake');
    // Act
    const { code, out, err } = await runCli(
      ['put', VALID, '--dataset', 'orders', '--lake', lake, '--no-wait'],
      {
        tty: true,
      },
    );
    // Assess
    expect(code).toBe(0);
    expect(err).toContain('uploading [');
    expect(out).toMatch(
      /\nuploaded s3:\/\/landing\/orders\/orders-valid\.csv \(370 B, version etag:[0-9a-f]{32}\)/,
    );
    const plain = await run(
      'put',
      VALID,
      '--dataset',
      'orders',
      '--lake',
      lake,
      '--no-wait',
      '--key',
      'orders/b.csv',
    );
    expect(plain.err).toBe('');
  }, 60_000);

  it('Ctrl-C while following the ledger: says the file is uploaded and how to see its outcome, exit 130', async () => {
    // Prepare: Ctrl-C as soon as the upload is reported.
    const lake = join(await scratch(), 'lake');
    const stop = new AbortController();
    let out = '';
    let err = '';
    const io: CliIo = {
      stdout: (text) => {
        out += text;
        if (text.startsWith('uploaded ')) stop.abort('SIGINT');
      },
      stderr: (text) => {
        err += text;
      },
      stderrIsTty: false,
      signal: stop.signal,
    };

    // Act
    const code = await main(['put', VALID, '--dataset', 'orders', '--lake', lake], io);

    // Assess
    expect(code).toBe(130);
    expect(out).toMatch(/^uploaded /m);
    expect(err).toMatch(
      /^datalake: stopped waiting; the file is uploaded \(s3:\/\/landing\/orders\/orders-valid\.csv, version etag:[0-9a-f]{32}\): `datalake report orders\/orders-valid\.csv` tells what became of it\n$/,
    );
  }, 60_000);
});

describe('subscriptions delivered by the local notifier', () => {
  it('a message goes to the outbox of each subscription whose filter policy it passes, and no other', async () => {
    // Prepare
    const paths = lakePaths(await scratch());
    await run(
      'subscribe',
      'rejects@example.com',
      '--status',
      'REJECTED',
      '--dataset',
      'orders',
      '--lake',
      paths.root,
    );
    await run('subscribe', 'all@example.com', '--lake', paths.root);
    // The same subscription again is the one there is (as SNS answers it), not a second delivery.
    await run('subscribe', 'all@example.com', '--lake', paths.root);
    const message = { status: 'CURATED', dataset: 'orders', rows: 3 };

    // Act
    const delivered = await deliverToSubscribers(paths, message, { status: 'CURATED', dataset: 'orders' });

    // Assess
    expect(delivered).toEqual(['all@example.com']);
    expect(await jsonLines<OutboxEntry>(outboxFile(paths, 'all@example.com'))).toMatchObject([
      { attributes: { status: 'CURATED', dataset: 'orders' }, message },
    ]);
    expect(existsSync(outboxFile(paths, 'rejects@example.com'))).toBe(false);
  });

  it('POSTs to an https endpoint; one that cannot be reached is logged, not thrown, and the outbox keeps the message', async () => {
    // Prepare: a port nothing listens on.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as { port: number };
    await new Promise((r) => closed.close(r));
    const paths = lakePaths(await scratch());
    const endpoint = `https://127.0.0.1:${port}/hook`;
    await run('subscribe', endpoint, '--lake', paths.root);
    const log: string[] = [];

    // Act
    const delivered = await deliverToSubscribers(
      paths,
      { status: 'FAILED' },
      { status: 'FAILED' },
      {
        log: (line) => void log.push(line),
      },
    );

    // Assess
    expect(delivered).toEqual([endpoint]);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(new RegExp(`^subscriber ${endpoint} unreachable: `));
    expect(await jsonLines(outboxFile(paths, endpoint))).toHaveLength(1);
  });

  it('two endpoints that differ only in characters a file name cannot hold get two outbox files', () => {
    const paths = lakePaths('/lake');
    expect(outboxFile(paths, 'https://a.example/x?y')).not.toBe(outboxFile(paths, 'https://a.example/x/y'));
  });
});

describe('local ingest and local query, deprecated', () => {
  it('say so on a terminal, on stderr only; stdout is what it was', async () => {
    // Prepare: a lake folder (an empty store), no tables needed.
    const lake = await scratch();
    await mkdir(join(lake, 's3'));

    // Act
    const plain = await runCli(['local', 'query', 'SELECT 1 AS n', '--lake', lake, '--json']);
    const tty = await runCli(['local', 'query', 'SELECT 1 AS n', '--lake', lake, '--json'], { tty: true });

    // Assess
    expect(plain.err).toBe('');
    expect(tty.err).toBe('datalake: note: `local query` is deprecated: use `datalake query`\n');
    expect(tty.out).toBe(plain.out);
  });

  it('local ingest too, before it does anything else', async () => {
    const { err } = await runCli(['local', 'ingest', 'no/such.csv', '--dataset', 'orders'], { tty: true });
    expect(err).toBe(
      'datalake: note: `local ingest` is deprecated: use `datalake put`\ndatalake: cannot read "no/such.csv": no such file\n',
    );
  });
});

/**
 * The lake the workflow runs on: put, files, report, query and subscribe together, as a person
 * uses them (these need the workflow's ledger writes).
 */
describe('put, files, report, query and subscribe on one lake', () => {
  let lake: string;
  let many: string;
  const puts: Record<string, { code: number; out: string; err: string }> = {};

  beforeAll(async () => {
    // Prepare: subscribers to rejections and to curated files, then three files put.
    lake = join(await scratch(), 'lake');
    many = await manyErrors(250);
    await run('subscribe', 'rejects@example.com', '--status', 'rejected', '--lake', lake);
    await run(
      'subscribe',
      'curated@example.com',
      '--status',
      'CURATED',
      '--dataset',
      'orders',
      '--lake',
      lake,
    );
    puts.valid = await run('put', VALID, '--dataset', 'orders', '--lake', lake);
    puts.forced = await run('put', INVALID, '--dataset', 'orders', '--lake', lake, '--force');
    puts.many = await run('put', many, '--dataset', 'orders', '--lake', lake, '--force', '--json');
  }, 180_000);

  it('put of a valid file follows it to CURATED, printing each status, exit 0', () => {
    const { code, out } = puts.valid!;
    expect(code).toBe(0);
    expect(out).toMatch(
      /^uploaded s3:\/\/landing\/orders\/orders-valid\.csv \(370 B, version etag:[0-9a-f]{32}\)/m,
    );
    expect(out).toMatch(/^ {2}\d\d:\d\d:\d\d CURATED$/m);
    expect(out).toMatch(/^✓ orders\/orders-valid\.csv → CURATED \(dataset orders, 3 rows\)$/m);
  });

  it('put --force of an invalid file uploads it and follows it to REJECTED, exit 1', () => {
    const { code, out, err } = puts.forced!;
    expect(code).toBe(1);
    expect(err).toMatch(
      /^datalake: uploading an invalid file \(--force\): 10 errors; the lake will reject it$/m,
    );
    expect(out).toMatch(/^ {2}\d\d:\d\d:\d\d REJECTED$/m);
    expect(out).toMatch(/^✗ orders\/orders-invalid\.csv → REJECTED: invalid_rows /m);
  });

  it('files --json: every version newest first, each with dataset, key, status, rows and errorCount', async () => {
    // Act
    const { code, out } = await run('files', '--lake', lake, '--json');
    // Assess
    expect(code).toBe(0);
    const files = JSON.parse(out) as Record<string, unknown>[];
    expect(files.map((f) => [f.key, f.status, f.rows, f.errorCount])).toEqual([
      ['orders/many-errors.csv', 'REJECTED', 250, 250],
      ['orders/orders-invalid.csv', 'REJECTED', 4, 10],
      ['orders/orders-valid.csv', 'CURATED', 3, 0],
    ]);
    for (const f of files)
      expect(f).toMatchObject({ dataset: 'orders', version: expect.stringMatching(/^etag:/) });
  });

  it('files --status and --limit filter the ledger', async () => {
    const rejected = JSON.parse((await run('files', '--lake', lake, '--json', '--status', 'rejected')).out);
    const newest = JSON.parse((await run('files', '--lake', lake, '--json', '--limit', '1')).out);
    expect(rejected.map((f: { key: string }) => f.key)).toEqual([
      'orders/many-errors.csv',
      'orders/orders-invalid.csv',
    ]);
    expect(newest.map((f: { key: string }) => f.key)).toEqual(['orders/many-errors.csv']);
  });

  it('report of the rejected file: its reason, counts and first errors as a table, exit 1', async () => {
    // Act
    const { code, out } = await run('report', 'orders/orders-invalid.csv', '--lake', lake);
    // Assess: the rows validate lists for the same file.
    const validate = await run('validate', INVALID, '--dataset', 'orders');
    expect(code).toBe(1);
    expect(out).toMatch(/^✗ orders\/orders-invalid\.csv → REJECTED: invalid_rows/);
    expect(out).toMatch(/^ {2}rows: {6}4, errors: 10$/m);
    const firstError = validate.out.split('\n').find((l) => /^3\s+sku/.test(l));
    expect(firstError).toBeDefined();
    expect(out.split('\n')).toContain(firstError);
  });

  it('report --all --json streams every error of a file with many, as one array', async () => {
    // Act
    const { code, out } = await run('report', 'orders/many-errors.csv', '--lake', lake, '--all', '--json');
    // Assess: the errors validate finds in the same file, every one.
    const validate = JSON.parse(
      (await run('validate', many, '--dataset', 'orders', '--json', '--max-errors', '10000')).out,
    );
    expect(code).toBe(1);
    expect(validate.errors).toHaveLength(250);
    expect(JSON.parse(out)).toEqual(validate.errors);
  });

  it('report --all as a table: one row per error, and the count', async () => {
    const { out } = await run('report', 'orders/many-errors.csv', '--lake', lake, '--all');
    expect(out.split('\n').filter((l) => /^\d+\s+quantity\s+min\s/.test(l))).toHaveLength(250);
    expect(out).toMatch(/\n\(250 errors\)\n$/);
  });

  it('report of a curated file says so, exit 0; of an unknown key, one line, exit 1', async () => {
    const curated = await run('report', 'orders/orders-valid.csv', '--lake', lake);
    const unknown = await run('report', 'orders/nope.csv', '--lake', lake);
    expect(curated.code).toBe(0);
    expect(curated.out).toMatch(/^✓ orders\/orders-valid\.csv → CURATED/);
    // Where its rows are: the table's day folder, and the snapshot that holds them (one of the table's).
    expect(curated.out).toMatch(
      /^ {2}curated: {3}s3:\/\/curated\/orders\/iceberg\/data\/ingest_date=[0-9-]{10}\/$/m,
    );
    const snapshot = /^ {2}snapshot: {2}(\d+) \(datalake query --snapshot \1\)$/m.exec(curated.out)?.[1];
    const history = await run('tables', 'history', 'orders', '--lake', lake, '--json');
    expect((JSON.parse(history.out) as { snapshotId: string }[]).map((s) => s.snapshotId)).toContain(
      snapshot,
    );
    expect(unknown).toEqual({
      code: 1,
      out: '',
      err: `datalake: no file "orders/nope.csv" in the ledger of local lake ${lake}\n`,
    });
  });

  it('report --version names one version; files --since keeps what was received since then', async () => {
    // Prepare: the version files lists for the rejected file.
    const files = JSON.parse((await run('files', '--lake', lake, '--json')).out) as {
      key: string;
      version: string;
    }[];
    const { version } = files.find((f) => f.key === 'orders/orders-invalid.csv')!;
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

    // Act
    const named = await run(
      'report',
      'orders/orders-invalid.csv',
      '--version',
      version,
      '--lake',
      lake,
      '--json',
    );
    const other = await run('report', 'orders/orders-invalid.csv', '--version', 'etag:0', '--lake', lake);
    const since = await run('files', '--since', tomorrow, '--lake', lake, '--json');

    // Assess
    expect(JSON.parse(named.out).item).toMatchObject({
      key: 'orders/orders-invalid.csv',
      version,
      status: 'REJECTED',
    });
    expect(other).toEqual({
      code: 1,
      out: '',
      err: `datalake: no file "orders/orders-invalid.csv" at version etag:0 in the ledger of local lake ${lake}\n`,
    });
    expect(JSON.parse(since.out)).toEqual([]);
  });

  it('query --json prints what local query --json prints', async () => {
    const sql = 'SELECT order_id, amount, ingest_date FROM orders ORDER BY order_id';
    const query = await run('query', sql, '--lake', lake, '--json');
    const local = await run('local', 'query', sql, '--lake', lake, '--json');
    expect(query.code).toBe(0);
    expect(JSON.parse(query.out)).toHaveLength(3);
    expect(query.out).toBe(local.out);
  });

  it('a failed query: one line, exit 1', async () => {
    const { code, out, err } = await run('query', 'SELECT nope FROM orders', '--lake', lake);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/^datalake: query failed: .*nope/);
  });

  it('subscribers received the events their filter policy lets through, and no others', async () => {
    const paths = lakePaths(lake);
    const rejects = await jsonLines<OutboxEntry>(outboxFile(paths, 'rejects@example.com'));
    const curated = await jsonLines<OutboxEntry>(outboxFile(paths, 'curated@example.com'));
    expect(rejects.map((e) => e.attributes.status)).toEqual(['REJECTED', 'REJECTED']);
    expect(curated.map((e) => e.attributes.status)).toEqual(['CURATED']);
    expect(await readdir(join(lake, 'outbox'))).toHaveLength(2);
  });
});

describe('with local up running on the lake', () => {
  let lake: string;
  let stop: AbortController;
  let up: Promise<{ code: number }>;

  beforeAll(async () => {
    // Prepare: local up on a new lake, and its server.json once it listens.
    lake = join(await scratch(), 'lake');
    stop = new AbortController();
    up = runCli(['local', 'up', '--lake', lake], { signal: stop.signal });
    while (!existsSync(join(lake, 'server.json'))) await new Promise((r) => setTimeout(r, 50));
  }, 60_000);

  afterAll(async () => {
    stop.abort('SIGINT');
    await up;
  });

  it("put uploads through up and follows up's ledger to CURATED; files and query read the same lake", async () => {
    // Act
    const put = await run('put', VALID, '--dataset', 'orders', '--lake', lake, '--json');
    const files = await run('files', '--lake', lake, '--json');
    const query = await run('query', 'SELECT count(*) AS n FROM orders', '--lake', lake, '--json');

    // Assess
    expect(put.code).toBe(0);
    const outcome = JSON.parse(put.out);
    expect(outcome).toMatchObject({ uploaded: true, key: 'orders/orders-valid.csv', status: 'CURATED' });
    expect(JSON.parse(files.out)).toMatchObject([
      { key: 'orders/orders-valid.csv', version: outcome.version },
    ]);
    expect(JSON.parse(query.out)).toEqual([{ n: '3' }]);
  }, 60_000);
});
