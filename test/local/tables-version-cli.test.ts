/**
 * The `tables` commands act on the table of the dataset's current version (issue 16): with
 * orders declared at `"version": 2`, history, tag and compact work on `orders_v2` (compaction
 * writes under its own data folder), and the version 1 table is left as it is.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatasetTable } from '../../lib/iceberg/dataset-tables.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import { runCli } from '../unit/cli-run.ts';
import { appendOrders, type IcebergLake, icebergLake, tableRef } from './iceberg-lake.ts';

let datasetsDir: string;
let lake: IcebergLake;

beforeAll(async () => {
  datasetsDir = join(await mkdtemp(join(tmpdir(), 'tables-version-ds-')), 'datasets');
  await mkdir(datasetsDir);
  await copyFile('datasets/sensor_readings.json', join(datasetsDir, 'sensor_readings.json'));
  const orders = JSON.parse(await readFile('datasets/orders.json', 'utf8'));
  await writeFile(join(datasetsDir, 'orders.json'), JSON.stringify({ ...orders, version: 2 }));
  lake = await icebergLake('tables-version-', undefined, datasetsDir);
  // The version 1 table of an earlier declaration, still there.
  await lake.withDeps((deps) =>
    ensureDatasetTable(
      deps,
      { database: LOCAL_DATABASE, curatedBucket: LOCAL_BUCKETS.curated },
      {
        ...lake.datasets.get('orders')!,
        version: 1,
      },
    ),
  );
  await appendOrders(lake, '2024-06-01', [[[1, 'A', '1.00']], [[2, 'B', '2.00']]]);
}, 120_000);

afterAll(async () => {
  await lake?.remove();
  await rm(join(datasetsDir, '..'), { recursive: true, force: true });
});

describe('tables commands on a version-2 dataset', () => {
  it('history, tag and compact act on orders_v2; orders (version 1) stays as it was', async () => {
    const v1Before = await lake.withDeps((deps) => deps.catalog.load(LOCAL_DATABASE, 'orders'));
    const cli = (...args: string[]) =>
      runCli(['tables', ...args, '--lake', lake.dir, '--datasets', datasetsDir]);

    const history = await cli('history', 'orders', '--json');
    const tag = await cli('tag', 'orders', 'train', '--json');
    const compact = await cli('compact', 'orders', '--json');
    const after = await lake.withDeps(async (deps) => ({
      v1: await deps.catalog.load(LOCAL_DATABASE, 'orders'),
      v2: (await loadTable(deps, tableRef('orders', 2))).metadata,
    }));

    expect(history.code, history.err).toBe(0);
    expect(JSON.parse(history.out)).toHaveLength(1);
    expect(tag.code, tag.err).toBe(0);
    expect(compact.code, compact.err).toBe(0);
    expect(JSON.parse(compact.out).partitions[0].file).toMatch(
      /^s3:\/\/curated\/orders\/v2\/iceberg\/data\/ingest_date=2024-06-01\/compacted-.+\.parquet$/,
    );
    expect(Object.keys(after.v2.refs ?? {}).sort()).toEqual(['main', 'train']);
    expect(after.v2.snapshots?.map((s) => s.summary.operation)).toEqual(['append', 'replace']);
    expect(after.v1).toEqual(v1Before);
  });
});
