/**
 * `datalake datasets check` (lib/cli/datasets-command.ts): the previous declarations from a folder
 * or a git ref of a real repository made for the test, the lines it prints and its exit codes.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir, writeDeclarations } from '../declarations-scratch.ts';
import { runCli } from './cli-run.ts';

const exec = promisify(execFile);

const ORDERS = {
  name: 'orders',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
  ],
};

type Json = Record<string, unknown>;

/** ORDERS with its columns changed by `patch` (by column name). */
function orders(patch: Record<string, Json> = {}, extra: Json = {}): Json {
  return { ...ORDERS, ...extra, columns: ORDERS.columns.map((c) => ({ ...c, ...patch[c.name] })) };
}

/** A git repository whose first commit holds `config/datasets/orders.json` as ORDERS. */
async function repository(): Promise<{
  root: string;
  datasets: string;
  git: (...a: string[]) => Promise<void>;
}> {
  const root = await tempDir('datasets-git-');
  const datasets = join(root, 'config', 'datasets');
  const git = async (...args: string[]) => {
    await exec('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: root });
  };
  await git('init', '--quiet', '--initial-branch=main');
  await writeDeclarations(datasets, ORDERS);
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'orders');
  return { root, datasets, git };
}

const run = (...argv: string[]) => runCli(['datasets', 'check', ...argv]);

describe('datalake datasets check against a folder', () => {
  it('exits 0 and says "no changes" when nothing changed', async () => {
    const dir = await tempDir('datasets-same-');
    await writeDeclarations(join(dir, 'a'), ORDERS);
    await writeDeclarations(join(dir, 'b'), ORDERS);
    const { code, out, err } = await run('--datasets', join(dir, 'b'), '--against', join(dir, 'a'));
    expect([code, err]).toEqual([0, '']);
    expect(out).toBe(`no changes: 1 dataset as in ${join(dir, 'a')}\n`);
  });

  it('exits 0 for compatible changes, one line each with verdict, target and rule', async () => {
    const dir = await tempDir('datasets-ok-');
    await writeDeclarations(join(dir, 'a'), ORDERS);
    const next = orders({ id: { type: 'bigint' } });
    (next.columns as Json[]).push({ name: 'note', type: 'string', optional: true });
    await writeDeclarations(join(dir, 'b'), next);
    const { code, out } = await run('--datasets', join(dir, 'b'), '--against', join(dir, 'a'));
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'compatible  orders.id    type-widened: type int → bigint: Iceberg promotes int to long in place',
      expect.stringMatching(
        /^compatible {2}orders\.note {2}column-appended: new column "note" \(string, field id 4\)/,
      ),
    ]);
    expect(lines[2]).toBe(`2 changes against ${join(dir, 'a')}: 2 compatible, 0 breaking`);
  });

  it('exits 1 when a change is breaking, with the rule and the fix', async () => {
    const dir = await tempDir('datasets-break-');
    await writeDeclarations(join(dir, 'a'), ORDERS);
    await writeDeclarations(join(dir, 'b'), orders({ amount: { scale: 3, precision: 13 } }));
    const { code, out } = await run('--datasets', join(dir, 'b'), '--against', join(dir, 'a'));
    expect(code).toBe(1);
    expect(out).toMatch(/^breaking {4}orders\.amount {2}decimal-scale-changed: .*declare "version": 2/m);
    expect(out).toMatch(/1 breaking: fix each as it says, or declare a higher "version"/);
  });

  it('--json prints one document with the counts and every change', async () => {
    const dir = await tempDir('datasets-json-');
    await writeDeclarations(join(dir, 'a'), ORDERS);
    await writeDeclarations(join(dir, 'b'), orders({ amount: { scale: 3, precision: 13 } }, { version: 2 }));
    const { code, out } = await run('--datasets', join(dir, 'b'), '--against', join(dir, 'a'), '--json');
    expect(code).toBe(0);
    const document = JSON.parse(out);
    expect(document).toMatchObject({ against: join(dir, 'a'), breaking: 0, compatible: 2 });
    expect(document.changes.map((c: Json) => [c.rule, c.newVersion])).toEqual([
      ['version-raised', undefined],
      ['decimal-scale-changed', 2],
    ]);
  });

  it('exits 2 for an invalid previous declaration, naming its file', async () => {
    const dir = await tempDir('datasets-badprev-');
    await writeDeclarations(join(dir, 'a'), orders({ id: { type: 'integer' } }));
    await writeDeclarations(join(dir, 'b'), ORDERS);
    const { code, err } = await run('--datasets', join(dir, 'b'), '--against', join(dir, 'a'));
    expect(code).toBe(2);
    expect(err).toContain('the previous declarations');
    expect(err).toContain('orders.json: invalid dataset declaration');
    expect(err).toContain('unknown type "integer"');
  });
});

describe('datalake datasets check against a git ref', () => {
  it('reads the folder at the ref, relative to the repository root', async () => {
    const repo = await repository();
    await writeDeclarations(repo.datasets, orders({ amount: { precision: 10 } }));
    const { code, out } = await run('--datasets', repo.datasets, '--against', 'HEAD');
    expect(code).toBe(1);
    expect(out).toMatch(
      /^breaking {4}orders\.amount {2}type-narrowed: type decimal\(12,2\) → decimal\(10,2\)/,
    );
    expect(out).toContain('1 change against HEAD:config/datasets: 0 compatible, 1 breaking');
  });

  it('compares with an older commit (HEAD~1) after the change is committed', async () => {
    const repo = await repository();
    await writeDeclarations(repo.datasets, orders({}, { version: 2, description: 'v2' }));
    await repo.git('commit', '--quiet', '-am', 'orders v2');
    const against = await run('--datasets', repo.datasets, '--against', 'HEAD~1');
    expect(against.code).toBe(0);
    expect(against.out).toMatch(/^compatible {2}orders {2}version-raised: version 1 → 2/);
    const same = await run('--datasets', repo.datasets, '--against', 'HEAD');
    expect(same.out).toMatch(/^no changes: 1 dataset as in HEAD:config\/datasets/);
  });

  it('a folder the ref does not have reads as no datasets: every dataset is new', async () => {
    const repo = await repository();
    const elsewhere = join(repo.root, 'other');
    await cp(repo.datasets, elsewhere, { recursive: true });
    const { code, out } = await run('--datasets', elsewhere, '--against', 'HEAD');
    expect(code).toBe(0);
    expect(out).toMatch(/^compatible {2}orders {2}dataset-added: /);
  });

  it('exits 2, loudly, when the ref has no previous commit (a first commit or a shallow clone)', async () => {
    const repo = await repository();
    const { code, out, err } = await run('--datasets', repo.datasets, '--against', 'HEAD~1');
    expect([code, out]).toEqual([2, '']);
    expect(err).toContain('--against "HEAD~1" is neither a folder nor a commit of the repository');
    expect(err).toContain('fetch the full history');
  });

  it('exits 2 for an unknown ref, and for a ref outside a git checkout', async () => {
    const repo = await repository();
    const unknown = await run('--datasets', repo.datasets, '--against', 'no-such-branch');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('"no-such-branch" is neither a folder nor a commit');
    const plain = await tempDir('datasets-nogit-');
    await writeDeclarations(plain, ORDERS);
    const outside = await run('--datasets', plain, '--against', 'HEAD');
    expect(outside.code).toBe(2);
    expect(outside.err).toContain('is not in a git checkout');
  });

  it('exits 2 naming REF:path for a previous declaration that does not load', async () => {
    const repo = await repository();
    const file = join(repo.datasets, 'orders.json');
    const good = await readFile(file, 'utf8');
    await writeFile(file, '{ "name": "orders", ');
    await repo.git('commit', '--quiet', '-am', 'broken');
    await writeFile(file, good);
    const { code, err } = await run('--datasets', repo.datasets, '--against', 'HEAD');
    expect(code).toBe(2);
    expect(err).toContain('HEAD:config/datasets/orders.json: invalid dataset declaration');
  });
});

describe('datalake datasets check usage', () => {
  it.each([
    [['--datasets', 'datasets'], 'datasets check needs --against DIR|GIT_REF'],
    [['--against', 'HEAD', '--bogus'], "Unknown option '--bogus'"],
    [['--against', 'HEAD', 'extra'], 'datasets check takes no arguments, not "extra"'],
  ])('%j exits 2 with the usage', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('usage: datalake datasets check');
  });

  it('exits 2 for an unknown datasets command and an unreadable datasets folder', async () => {
    const unknown = await runCli(['datasets', 'lint']);
    expect([unknown.code, unknown.err.split('\n')[0]]).toEqual([
      2,
      'datalake: unknown datasets command "lint"',
    ]);
    const missing = await run('--datasets', '/nonexistent/datasets', '--against', 'HEAD');
    expect(missing.code).toBe(2);
    expect(missing.err).toBe('datalake: cannot read the datasets folder "/nonexistent/datasets": ENOENT\n');
  });

  it('datasets check --help prints its usage only, exit 0', async () => {
    const { code, out, err } = await run('--help');
    expect([code, err]).toEqual([0, '']);
    expect(out.startsWith('usage: datalake datasets check --against DIR|GIT_REF')).toBe(true);
    expect(out).not.toContain('commands:');
  });

  it('the whole usage lists the command', async () => {
    const { out } = await runCli(['--help']);
    expect(out).toContain('datasets check --against DIR|GIT_REF');
  });
});

describe('npm test runs the check against the previous commit', () => {
  const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
  const entry = resolve('bin/datalake.js');

  /** Runs package.json's check:datasets command in `cwd`, as npm would (spawned). */
  async function npmCheck(cwd: string): Promise<{ code: number; out: string; err: string }> {
    const [node, script, ...args] = scripts['check:datasets']!.split(' ');
    expect([node, script]).toEqual(['node', 'bin/datalake.js']);
    try {
      const { stdout, stderr } = await exec(process.execPath, [entry, ...args], { cwd });
      return { code: 0, out: stdout, err: stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout, err: e.stderr };
    }
  }

  it('is part of the test script', () => {
    expect(scripts.test).toContain('npm run check:datasets');
  });

  it('fails loudly in a clone without a previous commit, and passes once there is one', async () => {
    const repo = await repository();
    const ordersDir = join(repo.root, 'datasets');
    await cp(repo.datasets, ordersDir, { recursive: true });
    await repo.git('add', '.');
    await repo.git('commit', '--quiet', '--amend', '-m', 'first');
    const first = await npmCheck(repo.root);
    expect(first.code).toBe(2);
    expect(first.err).toContain('"HEAD~1" is neither a folder nor a commit');
    await writeDeclarations(ordersDir, orders({ id: { type: 'bigint' } }));
    await repo.git('commit', '--quiet', '-am', 'widen id');
    const second = await npmCheck(repo.root);
    expect(second.code).toBe(0);
    expect(second.out).toContain('compatible  orders.id  type-widened');
  }, 30_000);
});
