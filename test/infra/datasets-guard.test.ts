/**
 * `cdk synth` refuses a declaration change the tables cannot follow (lib/lake.ts buildLakeApp, the
 * builder bin/app.ts runs): against a git ref (default HEAD: the uncommitted change) or a folder
 * (context `datasetsBaseline`); a new version passes; `none` and a folder outside git skip it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { guardDatasetChanges } from '../../lib/datasets/baseline.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { buildLakeApp } from '../../lib/lake.ts';
import { tempDir, writeDeclarations } from '../declarations-scratch.ts';

const exec = promisify(execFile);
const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };
const ORDERS = {
  name: 'orders',
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
  ],
};
/** ORDERS with its amount's scale changed: breaking in place. */
const rescaled = (extra: Record<string, unknown> = {}) => ({
  ...ORDERS,
  ...extra,
  columns: [ORDERS.columns[0], { ...ORDERS.columns[1], precision: 13, scale: 3 }],
});

/** A fresh app with the recommended flags, no bundling and the given context. */
async function app(context: Record<string, unknown>): Promise<App> {
  const outdir = await tempDir('guard-cdk-out-');
  return new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

const stackNames = (a: App) => a.node.children.map((c) => c.node.id).sort();

describe('cdk synth: the dataset compatibility guard', () => {
  it('refuses an uncommitted breaking change in a git checkout (default baseline HEAD), listing rule and fix', async () => {
    const root = await tempDir('guard-git-');
    const datasets = join(root, 'datasets');
    await writeDeclarations(datasets, ORDERS);
    const git = (...args: string[]) =>
      exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: root });
    await git('init', '--quiet');
    await git('add', '.');
    await git('commit', '--quiet', '-m', 'orders');
    await writeDeclarations(datasets, rescaled());
    const lake = await app({ datasetsDir: datasets });
    await expect(buildLakeApp(lake, () => {})).rejects.toThrow(
      /compared with HEAD:datasets\):\n {2}- orders\.amount: decimal-scale-changed: .*declare "version": 2/,
    );
    expect(stackNames(lake)).toEqual([]);
  });

  it('builds the lake when the same change is a new version (folder baseline)', async () => {
    const dir = await tempDir('guard-dir-');
    await writeDeclarations(join(dir, 'before'), ORDERS);
    await writeDeclarations(join(dir, 'after'), rescaled({ version: 2 }));
    const lake = await app({ datasetsDir: join(dir, 'after'), datasetsBaseline: join(dir, 'before') });
    const warnings: string[] = [];
    const built = await buildLakeApp(lake, (m) => warnings.push(m));
    expect(built.datasets.map((d) => [d.name, d.version])).toEqual([['orders', 2]]);
    expect(stackNames(lake)).toEqual(['csvlake-dev-pipeline', 'csvlake-dev-storage']);
    expect(warnings).toEqual([]);
  }, 60_000);
});

describe('the guard itself', () => {
  it('refuses a breaking change against a folder, and lets it through with "none"', async () => {
    const dir = await tempDir('guard-none-');
    await writeDeclarations(join(dir, 'before'), ORDERS);
    await writeDeclarations(join(dir, 'after'), rescaled());
    const datasets = await loadDatasets(join(dir, 'after'));
    const inputs = { datasets, datasetsDir: join(dir, 'after'), warn: () => {} };
    await expect(guardDatasetChanges({ ...inputs, baseline: join(dir, 'before') })).rejects.toThrow(
      'decimal-scale-changed',
    );
    await expect(guardDatasetChanges({ ...inputs, baseline: 'none' })).resolves.toEqual([]);
  });

  it('outside a git checkout warns that it did not run with the default, and fails with an explicit ref', async () => {
    const dir = await tempDir('guard-nogit-');
    await writeDeclarations(dir, rescaled());
    const datasets = await loadDatasets(dir);
    const warnings: string[] = [];
    await expect(
      guardDatasetChanges({ datasets, datasetsDir: dir, warn: (m) => warnings.push(m) }),
    ).resolves.toEqual([]);
    expect(warnings).toEqual([expect.stringContaining('the dataset compatibility check did not run')]);
    await expect(
      guardDatasetChanges({ datasets, datasetsDir: dir, baseline: 'main', warn: () => {} }),
    ).rejects.toThrow(/datasetsBaseline: .*is not in a git checkout/);
  });
});
