/**
 * The Iceberg side's calls, simulated against the synthesized policies: recorded where the code
 * runs here, listed from the documentation where AWS makes them.
 *
 * - The tables function: the IcebergTables core run over a local S3 server and the core's Glue
 *   adapter (over an in-memory Glue behind aws-sdk-client-mock); every S3 and Glue command it
 *   sends is recorded.
 * - The Commit function: what a commit does, with the core's own pieces (read the commit request,
 *   check the data file's footer, append, swap the Glue pointer), recorded the same way; plus its
 *   SQS event source's polling and its answers to the task tokens.
 * - CommitToTable: the state machine's send to the commit queue (workflow-calls.ts).
 * - The Glue table optimizers' role: the calls "Table optimization prerequisites" (AWS Glue)
 *   lists, on each table's prefix, table and log groups.
 * And what none of them may do is refused.
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { afterAll, describe, expect, it } from 'vitest';
import { handleTables } from '../../lambdas/tables/core.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { checkDataFile } from '../../lib/iceberg/datafile.ts';
import { glueTableCatalog } from '../../lib/iceberg/glue-catalog.ts';
import { commitRequestUri, partitionPrefix, sourceTag, tableLocation } from '../../lib/iceberg/layout.ts';
import { s3ObjectStore } from '../../lib/iceberg/s3-store.ts';
import { icebergSchema } from '../../lib/iceberg/schema.ts';
import { appendFiles } from '../../lib/iceberg/table.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { setUpOrFailEach } from '../infra/synth.ts';
import { writeOrders } from '../unit/iceberg/harness.ts';
import { curatedCaller, glueRequests, icebergRecorder } from './iceberg-recording.ts';
import type { LakePolicies } from './lake-policies.ts';
import { type LakeResources, lakeResources } from './lake-resources.ts';
import { type S3Command, s3Requests } from './s3-requests.ts';
import { describeCall, type IamCall, lakePolicies, synthLakeTemplates, unexpected } from './simulate.ts';
import { taskCalls, taskStates } from './workflow-calls.ts';

/** The local bucket standing for the curated zone. */
const CURATED = 'curated';
const DATABASE = 'lake';

let lake: LakePolicies;
let res: LakeResources;
let pipeline: string;
let server: LocalS3 | undefined;
const recorded: { phase: 'tables' | 'commit'; s3: S3Command[]; glue: S3Command[] }[] = [];

setUpOrFailEach(async () => {
  const synth = await synthLakeTemplates();
  lake = lakePolicies(synth.templates);
  pipeline = synth.pipeline.stackName;
  res = lakeResources(lake, synth.storage.stackName, synth.pipeline.stackName);

  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  server = await startLocalS3({
    directory: await mkdtemp(join(tmpdir(), 'iam-iceberg-')),
    buckets: [CURATED],
  });
  const client = localS3Client(server.endpoint);
  const store = s3ObjectStore(client);
  const conflicts = { conflicts: 0 };
  const recorder = icebergRecorder(client, conflicts);
  const catalog = glueTableCatalog(new GlueClient({ region: 'eu-west-1' }));
  const datasets = await loadDatasets('datasets');

  // The tables function: Create, then an Update (everything exists).
  for (const requestType of ['Create', 'Update'] as const) {
    await handleTables(
      {
        requestType,
        properties: {
          database: DATABASE,
          curatedBucket: CURATED,
          datasets: [...datasets.keys()],
          snapshotRetentionDays: '90',
          declarationsHash: requestType,
        },
      },
      { iceberg: { store, catalog }, datasets, log: { info() {}, warn() {} } },
    );
  }
  recorded.push({ phase: 'tables', ...recorder.take() });

  // What the engines leave: a data file with field ids in the day's folder, and the commit request.
  const ds = datasets.get('orders')!;
  const schema = icebergSchema(ds);
  const ingestDate = '2026-12-02';
  const runId = 'orders-a_csv-0123';
  // The harness's order columns: the footer check's verdict against the declared schema does not
  // matter here, only the reads it makes.
  const spec = await writeOrders(
    store,
    `${partitionPrefix(CURATED, 'orders', ingestDate)}a-${runId}-00/part-00000.parquet`,
    {
      firstId: 1,
      rows: 5,
      ingestDate,
    },
  );
  const request = commitRequestUri(CURATED, 'orders', runId);
  await store.put(request, new TextEncoder().encode(JSON.stringify({ version: 1, files: [spec] })));
  recorder.take();

  // The Commit function: read the request, check the footer, append, swap (after losing one swap).
  conflicts.conflicts = 1;
  await store.get(request);
  await checkDataFile(store, spec, schema).catch(() => undefined);
  await appendFiles(
    { store, catalog },
    { database: DATABASE, name: 'orders', location: tableLocation(CURATED, 'orders') },
    [{ tag: sourceTag('orders/a.csv', 'v1'), files: [spec] }],
  );
  recorded.push({ phase: 'commit', ...recorder.take() });
  recorder.glue.restore();
});

afterAll(async () => {
  await server?.close();
});

/** The Glue database the stacks name (the recorded runs used a local name). */
const database = () => res.databaseName;

function callsOf(phase: 'tables' | 'commit', who: string, principal: string): IamCall[] {
  const r = recorded.find((x) => x.phase === phase)!;
  return [
    ...r.s3.flatMap((c) => s3Requests(c, curatedCaller(res, who, principal, CURATED))),
    ...r.glue.flatMap((c) => glueRequests(res, who, principal, c, database())),
  ];
}

/** The Commit function's other calls: its event source's polling, and its answers. */
function commitServiceCalls(): IamCall[] {
  const principal = res.roles.commit;
  const queue = res.queues.commit;
  const sqs = [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
  ].map((action) => ({ who: 'Commit (SQS event source)', principal, action, resource: queue }));
  const kms: IamCall = {
    who: 'Commit (SQS event source, queue key)',
    principal,
    action: 'kms:Decrypt',
    resource: res.keyArn,
    context: {
      'kms:ViaService': `sqs.${res.region}.amazonaws.com`,
      'kms:EncryptionContext:aws:sqs:arn': queue,
    },
  };
  const answers = ['states:SendTaskSuccess', 'states:SendTaskFailure'].map((action) => ({
    who: 'Commit answers',
    principal,
    action,
    // Step Functions authorizes the answers on no resource (the simulator refuses an ARN).
    resource: '*',
  }));
  return [...sqs, kms, ...answers];
}

/** The optimizers' calls on one table, per "Table optimization prerequisites" (AWS Glue). */
function optimizerCalls(dataset: string): IamCall[] {
  const principal = res.optimizerRole!;
  const who = `Glue optimizer (${dataset})`;
  const bucket = `arn:${res.partition}:s3:::${res.buckets.curated}`;
  const objects = [
    `${dataset}/iceberg/data/ingest_date=2026-12-02/f.parquet`,
    `${dataset}/iceberg/metadata/00002-x.metadata.json`,
    `${dataset}/iceberg/metadata/snap-1-x.avro`,
  ];
  const glue = `arn:${res.partition}:glue:${res.region}:${res.account}`;
  const logs = ['iceberg-compaction', 'iceberg-retention', 'iceberg-orphan-file-deletion'].map(
    (g) =>
      `arn:${res.partition}:logs:${res.region}:${res.account}:log-group:/aws-glue/${g}/logs:log-stream:x`,
  );
  return [
    ...objects.flatMap((key) =>
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].map((action) => ({
        who,
        principal,
        action,
        resource: `${bucket}/${key}`,
      })),
    ),
    ...[`${dataset}/iceberg/data/`, `${dataset}/iceberg/metadata/`].map((prefix) => ({
      who,
      principal,
      action: 's3:ListBucket',
      resource: bucket,
      context: { 's3:prefix': prefix },
    })),
    ...['glue:GetTable', 'glue:UpdateTable'].flatMap((action) =>
      [`${glue}:catalog`, `${glue}:database/${database()}`, `${glue}:table/${database()}/${dataset}`].map(
        (resource) => ({
          who,
          principal,
          action,
          resource,
        }),
      ),
    ),
    ...logs.flatMap((resource) =>
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
        who,
        principal,
        action,
        resource,
      })),
    ),
    ...['kms:Decrypt', 'kms:GenerateDataKey'].map((action) => ({
      who: `${who} (lake key)`,
      principal,
      action,
      resource: res.keyArn,
      context: { 'kms:ViaService': `s3.${res.region}.amazonaws.com` },
    })),
  ];
}

describe('the Iceberg side’s calls', () => {
  it('recorded what the tables function and a commit do: S3 reads and writes, and the Glue calls', () => {
    const tables = recorded.find((r) => r.phase === 'tables')!;
    const commit = recorded.find((r) => r.phase === 'commit')!;
    expect(new Set(tables.glue.map((c) => c.command))).toEqual(
      new Set(['GetTableCommand', 'CreateTableCommand']),
    );
    expect(tables.s3.map((c) => c.command)).toContain('PutObjectCommand');
    expect(new Set(commit.glue.map((c) => c.command))).toEqual(
      new Set(['GetTableCommand', 'UpdateTableCommand']),
    );
    for (const name of ['GetObjectCommand', 'PutObjectCommand'])
      expect(commit.s3.map((c) => c.command)).toContain(name);
    // The commit wrote metadata only, and deleted only the metadata of the attempt that lost.
    const keys = (name: RegExp) =>
      commit.s3
        .filter((c) => name.test(c.command))
        .flatMap((c) =>
          c.input.Key !== undefined
            ? [String(c.input.Key)]
            : ((c.input.Delete as { Objects: { Key: string }[] } | undefined)?.Objects ?? []).map(
                (o) => o.Key,
              ),
        );
    expect(keys(/^PutObject/).length).toBeGreaterThan(0);
    for (const key of keys(/^PutObject/)) expect(key).toMatch(/^orders\/iceberg\/metadata\//);
    expect(keys(/^DeleteObject/).length).toBeGreaterThan(0);
    for (const key of keys(/^DeleteObject/)) expect(key).toMatch(/^orders\/iceberg\/metadata\//);
    expect(commit.glue.filter((c) => c.command === 'UpdateTableCommand')).toHaveLength(2);
    const count = (cs: { command: string }[]) =>
      Object.fromEntries(
        [...new Set(cs.map((c) => c.command))].map((n) => [n, cs.filter((c) => c.command === n).length]),
      );
    console.info(
      `a commit of one file that lost its first swap: S3 ${JSON.stringify(count(commit.s3))}, Glue ${JSON.stringify(count(commit.glue))}`,
    );
  });

  it('are all allowed for the role that makes them on AWS', async () => {
    const calls = [
      ...callsOf('tables', 'IcebergTables', res.roles.tables),
      ...callsOf('commit', 'Commit', res.roles.commit),
      ...commitServiceCalls(),
      ...[...taskStates(lake, pipeline)]
        .filter(([name]) => name === 'CommitToTable')
        .flatMap(([name, state]) => taskCalls(name, state, res)),
      ...['orders', 'sensor_readings'].flatMap(optimizerCalls),
    ];
    const denied = await unexpected(lake, calls, 'Allowed');
    console.info(
      `IAM: ${calls.length} Iceberg calls simulated (${new Set(calls.map(describeCall)).size} distinct)`,
    );
    expect(denied).toEqual([]);
    expect(calls.some((c) => c.action === 'sqs:SendMessage')).toBe(true);
  });

  it('refuses what none of them may do', async () => {
    const bucket = `arn:${res.partition}:s3:::${res.buckets.curated}`;
    const glue = `arn:${res.partition}:glue:${res.region}:${res.account}`;
    const calls: IamCall[] = [
      {
        who: 'Commit',
        principal: res.roles.commit,
        action: 's3:DeleteObject',
        resource: `${bucket}/orders/iceberg/data/x.parquet`,
        why: 'a commit deletes no data',
      },
      {
        who: 'Commit',
        principal: res.roles.commit,
        action: 's3:PutObject',
        resource: `${bucket}/orders/iceberg/data/x.parquet`,
        why: 'data files are the engines’',
      },
      {
        who: 'Glue job',
        principal: res.roles.glue,
        action: 's3:PutObject',
        resource: `${bucket}/orders/iceberg/metadata/00001-x.metadata.json`,
        why: 'metadata is the committer’s',
      },
      {
        who: 'Glue job',
        principal: res.roles.glue,
        action: 's3:DeleteObject',
        resource: `${bucket}/orders/iceberg/data/ingest_date=2026-12-02/f-run-00/part-00000.parquet`,
        why: 'only its scratch folders',
      },
      {
        who: 'Convert',
        principal: res.roles.convert,
        action: 's3:PutObject',
        resource: `${bucket}/orders/iceberg/metadata/00001-x.metadata.json`,
        why: 'metadata is the committer’s',
      },
      {
        who: 'Convert',
        principal: res.roles.convert,
        action: 's3:DeleteObject',
        resource: `${bucket}/orders/iceberg/data/x.parquet`,
        why: 'nothing is deleted',
      },
      {
        who: 'IcebergTables',
        principal: res.roles.tables,
        action: 'glue:DeleteTable',
        resource: `${glue}:table/${database()}/orders`,
        why: 'Delete leaves the tables',
      },
      {
        who: 'IcebergTables',
        principal: res.roles.tables,
        action: 's3:PutObject',
        resource: `${bucket}/orders/iceberg/data/x.parquet`,
        why: 'it writes metadata only',
      },
      {
        who: 'Glue optimizer',
        principal: res.optimizerRole!,
        action: 's3:DeleteObject',
        resource: `${bucket}/_commits/orders/run.json`,
        why: 'the tables’ prefixes only',
      },
      {
        who: 'Glue optimizer',
        principal: res.optimizerRole!,
        action: 's3:GetObject',
        resource: `arn:${res.partition}:s3:::${res.buckets.raw}/orders/a.csv`,
        why: 'the curated tables only',
      },
      {
        who: 'Glue optimizer',
        principal: res.optimizerRole!,
        action: 'glue:DeleteTable',
        resource: `${glue}:table/${database()}/orders`,
        why: 'it updates tables, never drops them',
      },
    ];
    expect(await unexpected(lake, calls, 'Denied')).toEqual([]);
  });
});
