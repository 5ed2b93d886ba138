/**
 * A dataset at table version 2 (issue 16), simulated against the policies synthesized from a
 * declaration with `"version": 2`: the tables function evolves `orders_v2` (recorded: the
 * IcebergTables core over a local S3 server and the core's Glue adapter on an in-memory Glue),
 * the Commit function commits to `orders_v2` and, for a run validated before the deploy, to
 * `orders` (recorded: the commit core itself), the engines write both versions' data folders, and
 * the optimizers maintain `orders_v2`. The tables function and the optimizers may not touch the
 * old version's table.
 */
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GlueClient } from '@aws-sdk/client-glue';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { commitBatch } from '../../lambdas/commit/core.ts';
import { handleTables } from '../../lambdas/tables/core.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { ensureDatasetTable } from '../../lib/iceberg/dataset-tables.ts';
import { glueTableCatalog } from '../../lib/iceberg/glue-catalog.ts';
import { commitRequestUri, partitionPrefix } from '../../lib/iceberg/layout.ts';
import type { ObjectStore } from '../../lib/iceberg/ports.ts';
import { s3ObjectStore } from '../../lib/iceberg/s3-store.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { setUpOrFailEach } from '../infra/synth.ts';
import { curatedCaller, glueRequests, icebergRecorder } from './iceberg-recording.ts';
import type { LakePolicies } from './lake-policies.ts';
import { type LakeResources, lakeResources } from './lake-resources.ts';
import { type S3Command, s3Requests } from './s3-requests.ts';
import { type IamCall, lakePolicies, synthLakeTemplates, unexpected } from './simulate.ts';

const CURATED = 'curated';
const DATABASE = 'lake';
const DAY = '2026-12-02';

let lake: LakePolicies;
let res: LakeResources;
let server: LocalS3 | undefined;
const recorded: Record<'tables' | 'commit', { s3: S3Command[]; glue: S3Command[] }> = {
  tables: { s3: [], glue: [] },
  commit: { s3: [], glue: [] },
};
let outcomes: Awaited<ReturnType<typeof commitBatch>> = [];
let readCatalog = '';
let optimizers: { TableName: string; Type: string; TableOptimizerConfiguration: unknown }[] = [];

setUpOrFailEach(async () => {
  // The repo's declarations, orders at version 2 with one column more.
  const dir = await mkdtemp(join(tmpdir(), 'iam-versions-'));
  const datasetsDir = join(dir, 'datasets');
  await mkdir(datasetsDir);
  await copyFile('datasets/sensor_readings.json', join(datasetsDir, 'sensor_readings.json'));
  const orders = JSON.parse(await readFile('datasets/orders.json', 'utf8'));
  await writeFile(join(datasetsDir, 'orders.json'), JSON.stringify({ ...orders, version: 2 }));
  const synth = await synthLakeTemplates({ datasetsDir });
  lake = lakePolicies(synth.templates);
  // The operators' Athena reads: the catalog statement of the operator policy, as JSON text.
  readCatalog = JSON.stringify(
    Object.values(synth.templates)
      .flatMap((t) => Object.values(t.Resources ?? {}))
      .flatMap(
        (r) =>
          (r.Properties as { PolicyDocument?: { Statement?: { Sid?: string }[] } })?.PolicyDocument
            ?.Statement ?? [],
      )
      .filter((st) => st.Sid === 'ReadCatalog'),
  );
  optimizers = Object.values(synth.templates)
    .flatMap((t) => Object.values(t.Resources ?? {}))
    .filter((r) => r.Type === 'AWS::Glue::TableOptimizer')
    .map((r) => r.Properties as (typeof optimizers)[number]);
  res = lakeResources(lake, synth.storage.stackName, synth.pipeline.stackName);

  server = await startLocalS3({ directory: join(dir, 's3'), buckets: [CURATED] });
  const client = localS3Client(server.endpoint);
  const store = s3ObjectStore(client);
  const recorder = icebergRecorder(client);
  const catalog = glueTableCatalog(new GlueClient({ region: 'eu-west-1' }));
  const datasets = await loadDatasets(datasetsDir);
  const v2 = datasets.get('orders')!;
  const iceberg = { store, catalog };
  // Before: the version 1 table, and orders_v2 as an earlier deploy made it (one column fewer).
  await ensureDatasetTable(iceberg, { database: DATABASE, curatedBucket: CURATED }, { ...v2, version: 1 });
  await ensureDatasetTable(
    iceberg,
    { database: DATABASE, curatedBucket: CURATED },
    { ...v2, columns: v2.columns.slice(0, -1) },
  );
  for (const ds of datasets.values()) {
    if (ds.name !== 'orders')
      await ensureDatasetTable(iceberg, { database: DATABASE, curatedBucket: CURATED }, ds);
  }
  recorder.take();

  // The tables function's Update: orders_v2 evolves (its last column is added).
  await handleTables(
    {
      requestType: 'Update',
      physicalResourceId: `${DATABASE}/iceberg-tables`,
      properties: {
        database: DATABASE,
        curatedBucket: CURATED,
        datasets: [...datasets.keys()],
        snapshotRetentionDays: '90',
        declarationsHash: 'v2',
      },
    },
    { iceberg, datasets, log: { info() {}, warn() {} } },
  );
  recorded.tables = recorder.take();

  // Two runs' files and requests: one validated for version 2, one for version 1 before the deploy.
  const inputs = [];
  for (const version of [2, 1]) {
    const runId = `orders-a_csv-v${version}`;
    const spec = await ordersFile(
      store,
      `${partitionPrefix(CURATED, 'orders', DAY, version)}${runId}.parquet`,
    );
    const request = commitRequestUri(CURATED, 'orders', runId);
    await store.put(
      request,
      new TextEncoder().encode(
        JSON.stringify({ version: 1, dataset: 'orders', runId, ingestDate: DAY, rows: 1, files: [spec] }),
      ),
    );
    inputs.push({
      dataset: 'orders',
      runId,
      key: `orders/${runId}.csv`,
      version: 'v1',
      ingestDate: DAY,
      rows: 1,
      request,
      target: partitionPrefix(CURATED, 'orders', DAY, version),
    });
  }
  recorder.take();
  outcomes = await commitBatch(inputs, {
    store,
    catalog,
    database: DATABASE,
    curatedBucket: CURATED,
    log: { info() {}, warn() {} },
  });
  recorded.commit = recorder.take();
  recorder.glue.restore();
});

afterAll(async () => {
  await server?.close();
});

/** A data file of the orders declaration (one row, every column), written by DuckDB with field ids. */
async function ordersFile(store: ObjectStore, uri: string) {
  const local = join(await mkdtemp(join(tmpdir(), 'iam-orders-')), 'f.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`COPY (SELECT 1::BIGINT AS order_id, 'Ann' AS customer, 'ABC-00001' AS sku, 2::INTEGER AS quantity,
      12.50::DECIMAL(12, 2) AS amount, 'EUR' AS currency, 0.1::DOUBLE AS discount, true AS gift,
      TIMESTAMPTZ '2026-12-01 10:00:00+00' AS ordered_at, DATE '2026-12-03' AS ship_date, DATE '${DAY}' AS ingest_date)
    TO '${local}' (FORMAT parquet, FIELD_IDS {order_id: 2, customer: 3, sku: 4, quantity: 5, amount: 6, currency: 7,
      discount: 8, gift: 9, ordered_at: 10, ship_date: 11, ingest_date: 1})`);
  conn.closeSync();
  const bytes = new Uint8Array(await readFile(local));
  await store.put(uri, bytes);
  return { path: uri, rows: 1, bytes: bytes.byteLength };
}

const glueArn = () => `arn:${res.partition}:glue:${res.region}:${res.account}`;
const bucketArn = () => `arn:${res.partition}:s3:::${res.buckets.curated}`;

function callsOf(phase: 'tables' | 'commit', who: string, principal: string): IamCall[] {
  const r = recorded[phase];
  return [
    ...r.s3.flatMap((c) => s3Requests(c, curatedCaller(res, who, principal, CURATED))),
    ...r.glue.flatMap((c) => glueRequests(res, who, principal, c, res.databaseName)),
  ];
}

const put = (who: string, principal: string, key: string, action = 's3:PutObject'): IamCall => ({
  who,
  principal,
  action,
  resource: `${bucketArn()}/${key}`,
});

describe('a dataset at table version 2', () => {
  it("runs the optimizers on each dataset's current table version, the orphan deleter on its data folder", () => {
    const orders = optimizers.filter((o) => o.TableName.startsWith('orders'));
    expect(orders.map((o) => `${o.TableName} ${o.Type}`).sort()).toEqual([
      'orders_v2 compaction',
      'orders_v2 orphan_file_deletion',
      'orders_v2 retention',
    ]);
    expect(JSON.stringify(orders.find((o) => o.Type === 'orphan_file_deletion'))).toContain(
      '/orders/v2/iceberg/data/',
    );
    // Old versions stay queryable: the operators may read both tables' definitions.
    expect(readCatalog).toContain(':table/csvlake_dev/orders"');
    expect(readCatalog).toContain(':table/csvlake_dev/orders_v2"');
  });

  it('recorded an evolution of orders_v2 and commits to orders_v2 and orders', () => {
    const tables = (name: string, calls: S3Command[]) =>
      new Set(
        calls
          .filter((c) => c.command === name)
          .map((c) => (c.input as { TableInput: { Name: string } }).TableInput.Name),
      );
    expect(tables('UpdateTableCommand', recorded.tables.glue)).toEqual(new Set(['orders_v2']));
    // The Glue table's columns (Athena's and the console's view) show the evolved schema.
    const update = recorded.tables.glue.find((c) => c.command === 'UpdateTableCommand')!;
    const columns = (
      update.input as { TableInput: { StorageDescriptor: { Columns: { Name: string }[] } } }
    ).TableInput.StorageDescriptor.Columns.map((c) => c.Name);
    expect(columns.slice(-5)).toEqual([
      'ship_date',
      'ingest_date',
      '_source_key',
      '_source_version',
      '_ingested_at',
    ]);
    expect(tables('UpdateTableCommand', recorded.commit.glue)).toEqual(new Set(['orders', 'orders_v2']));
    expect(outcomes.map((o) => ('ok' in o ? o.ok.table : o.error.message))).toEqual([
      `${DATABASE}.orders_v2`,
      `${DATABASE}.orders`,
    ]);
  });

  it('is allowed: the tables function on orders_v2, the committer on both versions, the engines, the optimizers on orders_v2', async () => {
    const data = (version: number) =>
      `${partitionPrefix('x', 'orders', DAY, version).replace('s3://x/', '')}f-run-00/part-00000.parquet`;
    const calls = [
      ...callsOf('tables', 'IcebergTables', res.roles.tables),
      ...callsOf('commit', 'Commit', res.roles.commit),
      ...[1, 2].flatMap((v) => [
        put('Glue job', res.roles.glue, data(v)),
        put('Convert', res.roles.convert, data(v)),
      ]),
      ...['orders/v2', 'orders/v2/iceberg', 'orders/v2/iceberg/data'].map((key) =>
        put('Glue job (parent probe)', res.roles.glue, key, 's3:GetObject'),
      ),
      put('Glue optimizer', res.optimizerRole!, 'orders/v2/iceberg/metadata/00003-x.metadata.json'),
      put('Glue optimizer', res.optimizerRole!, data(2), 's3:DeleteObject'),
      ...['glue:GetTable', 'glue:UpdateTable'].map((action) => ({
        who: 'Glue optimizer',
        principal: res.optimizerRole!,
        action,
        resource: `${glueArn()}:table/${res.databaseName}/orders_v2`,
      })),
    ];
    expect(calls.filter((c) => c.who.startsWith('IcebergTables')).length).toBeGreaterThan(0);
    expect(
      calls.filter((c) => c.resource.includes('orders/iceberg/metadata/') && c.who.startsWith('Commit'))
        .length,
    ).toBeGreaterThan(0);
    expect(await unexpected(lake, calls, 'Allowed')).toEqual([]);
  });

  it('refuses the tables function and the optimizers on the old version, which stays as it is', async () => {
    const calls: IamCall[] = [
      {
        ...put('IcebergTables', res.roles.tables, 'orders/iceberg/metadata/00009-x.metadata.json'),
        why: 'the current version only',
      },
      {
        who: 'IcebergTables',
        principal: res.roles.tables,
        action: 'glue:UpdateTable',
        resource: `${glueArn()}:table/${res.databaseName}/orders`,
        why: 'the current version only',
      },
      {
        who: 'Glue optimizer',
        principal: res.optimizerRole!,
        action: 'glue:UpdateTable',
        resource: `${glueArn()}:table/${res.databaseName}/orders`,
        why: 'the current version only',
      },
      {
        ...put('Commit', res.roles.commit, 'orders/v3/iceberg/metadata/00001-x.metadata.json'),
        why: 'no version beyond the declared one',
      },
    ];
    expect(await unexpected(lake, calls, 'Denied')).toEqual([]);
  });
});
