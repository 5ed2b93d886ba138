/**
 * The integ suite (integ-runner + integ-tests-alpha): deploys the lake's two stacks as bin/app.ts
 * builds them, under a stage of its own, plus a probe stack with one SQS queue per outcome
 * subscribed to the events topic; drops a valid and an invalid file into landing, and asserts the
 * executions, the zone objects, the report, the SNS messages, an Athena query and a clean
 * reconcile. `npm run test:aws` deploys it (an AWS account needed); `npm test` only compares its
 * synthesized templates with the committed snapshot (test/integ/snapshot.test.ts).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AwsApiCall, ExpectedResult, type IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import {
  App,
  Aspects,
  Aws,
  CfnResource,
  Duration,
  type IAspect,
  RemovalPolicy,
  Stack,
  Tags,
} from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { PipelineStatus } from '../../lambdas/shared/contract.ts';
import { parseConfig } from '../../lib/config.ts';
import { IngestWorkflow } from '../../lib/constructs/ingest-workflow.ts';
import { LakeFunction } from '../../lib/constructs/lake-function.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { buildLake } from '../../lib/lake.ts';
import { zoneBucketNames } from '../../lib/naming.ts';
import { INTEG_BASE, INTEG_CONTEXT, INVALID_KEY, invalidCsv, VALID_KEY, validCsv } from './integ-stage.ts';

const root = new URL('../../', import.meta.url);
const cdkJson = JSON.parse(readFileSync(new URL('cdk.json', root), 'utf8')) as {
  context: Record<string, unknown>;
};
// integ-runner passes its own feature flags (and no target partitions); the project's cdk.json wins
// over them, so the suite deploys the templates `cdk deploy` would.
// No stack traces in the metadata: they hold absolute paths, and the snapshot must be the same anywhere.
const noTraces = { 'aws:cdk:disable-stack-trace': true, 'aws:cdk:disable-creation-stack-traces': true };
const app = new App({
  postCliContext: { ...cdkJson.context, ...INTEG_CONTEXT, ...noTraces },
  stackTraces: false,
});
const config = parseConfig((key) => app.node.tryGetContext(key));
const datasetsDir = fileURLToPath(new URL(config.datasetsDir, root));
const datasets = [...(await loadDatasets(datasetsDir)).values()];
const { storage, pipeline } = buildLake(app, { config, datasets, datasetsDir });
Tags.of(app).add('project', INTEG_BASE);

/**
 * The integ stage is disposable: no termination protection, and every resource but the buckets is
 * deleted with its stack (the key after 7 days, the minimum). CloudFormation cannot delete a bucket
 * that holds objects, so the buckets stay retained and `npm run test:aws` empties and deletes them
 * after integ-runner's destroy (test/integ/run.ts).
 */
class Disposable implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType === 'AWS::S3::Bucket') return;
    node.applyRemovalPolicy(RemovalPolicy.DESTROY);
    if (node instanceof kms.CfnKey) node.pendingWindowInDays = 7;
  }
}
storage.terminationProtection = false;
for (const stack of [storage, pipeline]) Aspects.of(stack).add(new Disposable());

/** A construct the pipeline stack builds, found by id and checked by type. */
function child<T>(id: string, type: abstract new (...args: never[]) => T): T {
  const found = pipeline.node.tryFindChild(id);
  if (!(found instanceof type)) throw new Error(`the pipeline stack has no ${type.name} "${id}"`);
  return found;
}
const stateMachineArn = child('Ingest', IngestWorkflow).stateMachine.stateMachineArn;
const reconciler = child('Reconcile', LakeFunction).fn;
const key = storage.buckets.key;
const buckets = zoneBucketNames(config.prefix, config.stage);
const database = INTEG_BASE.replace(/-/g, '_');

// The probe: one queue per outcome, subscribed with a filter on the `status` attribute, so each
// receives exactly one message in a run. SQS-managed encryption: SNS needs a grant on a queue's
// key only when the queue uses a customer key (the topic's own key is SNS's to use).
const probe = new Stack(app, `${INTEG_BASE}-probe`, {
  description: 'CSV data lake integ suite: queues subscribed to the events topic',
});
const queueFor = (status: PipelineStatus) => {
  const queue = new sqs.Queue(probe, `${status}Messages`, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.hours(6),
  });
  storage.notifications.events.addSubscription(
    new subscriptions.SqsSubscription(queue, {
      rawMessageDelivery: true,
      filterPolicy: { status: sns.SubscriptionFilter.stringFilter({ allowlist: [status] }) },
    }),
  );
  return queue;
};
const queues = {
  VALIDATED: queueFor('VALIDATED'),
  REJECTED: queueFor('REJECTED'),
  CURATED: queueFor('CURATED'),
};

const integ = new IntegTest(app, 'Lake', {
  testCases: [storage, pipeline, probe],
  // No deploy of an earlier snapshot first (it holds no assets: they are bundled at synth).
  stackUpdateWorkflow: false,
  diffAssets: false,
});
const assert = integ.assertions;

/** What the assertion functions may touch beyond each call's own action (added by integ-tests). */
const lakeAccess = [
  {
    Effect: 'Allow',
    // The calls' own reads and writes, and Athena's on the results bucket (as the caller).
    Action: [
      's3:ListBucket',
      's3:GetBucketLocation',
      's3:GetObject',
      's3:PutObject',
      's3:AbortMultipartUpload',
      's3:ListBucketMultipartUploads',
      's3:ListMultipartUploadParts',
    ],
    Resource: Object.values(buckets).flatMap((b) => [
      `arn:${Aws.PARTITION}:s3:::${b}`,
      `arn:${Aws.PARTITION}:s3:::${b}/*`,
    ]),
  },
  { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: [key.keyArn] },
  {
    Effect: 'Allow',
    Action: [
      'glue:GetDatabase',
      'glue:GetTable',
      'glue:GetTableOptimizer',
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:BatchGetPartition',
    ],
    Resource: ['*'],
  },
  { Effect: 'Allow', Action: ['sqs:ReceiveMessage'], Resource: Object.values(queues).map((q) => q.queueArn) },
];
const granted = new Set<object>();
/** Gives the function making a call (and, for a waiter, the function polling) the access above. */
function grant<T extends IApiCall>(call: T): T {
  for (const provider of [call.provider, (call as unknown as AwsApiCall).waiterProvider]) {
    if (!provider || granted.has(provider)) continue;
    granted.add(provider);
    for (const statement of lakeAccess) provider.addToRolePolicy(statement);
  }
  return call;
}
const waitUpTo = (minutes: number) => ({
  totalTimeout: Duration.minutes(minutes),
  interval: Duration.seconds(20),
});
const api = (service: string, action: string, parameters: Record<string, unknown>) =>
  assert.awsApiCall(service, action, parameters);

// Act: drop both files.
const putValid = grant(api('S3', 'putObject', { Bucket: buckets.landing, Key: VALID_KEY, Body: validCsv() }));
const putInvalid = grant(
  api('S3', 'putObject', { Bucket: buckets.landing, Key: INVALID_KEY, Body: invalidCsv() }),
);

// Each file's execution (named `<dataset>-<file>-<hash>` by the trigger) ends SUCCEEDED: the
// terminal states Curated and Rejected both succeed; the messages below tell them apart.
const succeeded = (key: string) => {
  const file = key.slice(key.indexOf('/') + 1).replace(/\./g, '_');
  const name = `^orders-${file}-[0-9a-f]{32}$`;
  return grant(
    api('SFN', 'listExecutions', { stateMachineArn, statusFilter: 'SUCCEEDED' })
      .expect(
        ExpectedResult.objectLike({
          executions: Match.arrayWith([Match.objectLike({ name: Match.stringLikeRegexp(name) })]),
        }),
      )
      .waitForAssertions(waitUpTo(30)),
  );
};
const done = [putValid.next(succeeded(VALID_KEY)), putInvalid.next(succeeded(INVALID_KEY))];
/** A check that runs once both executions have ended. */
const afterRuns = <T extends IApiCall>(call: T): T => {
  for (const run of done) run.next(call);
  return grant(call);
};

afterRuns(
  api('SFN', 'listExecutions', { stateMachineArn, statusFilter: 'FAILED' }).expect(
    ExpectedResult.objectLike({ executions: [] }),
  ),
);

// The zones: exactly one raw copy; in failure the rejected file and its two report parts (keys sort
// as listed); in curated the Parquet data file under the Iceberg table's data folder and the
// table's metadata. `<tag>` is 8 hex characters (README, "Deploy", step 4).
const day = 'ingest_date=\\d{4}-\\d{2}-\\d{2}';
const listed = (bucket: string, contents: unknown) =>
  afterRuns(
    api('S3', 'listObjectsV2', { Bucket: bucket, Prefix: 'orders/' }).expect(
      ExpectedResult.objectLike({ Contents: contents }),
    ),
  );
const objectKey = (pattern: string) =>
  Match.objectLike({ Key: Match.stringLikeRegexp(`^orders/${day}/${pattern}$`) });
const rejected = 'integ-invalid\\.[0-9a-f]{8}\\.csv';
listed(buckets.raw, [objectKey('integ-valid\\.[0-9a-f]{8}\\.csv')]);
listed(buckets.failure, [
  objectKey(rejected),
  objectKey(`${rejected}\\.errors\\.00001\\.jsonl`),
  objectKey(`${rejected}\\.errors\\.json`),
]);
listed(
  buckets.curated,
  Match.arrayWith([
    Match.objectLike({ Key: Match.stringLikeRegexp(`^orders/iceberg/data/${day}/integ-valid.*\\.parquet$`) }),
    Match.objectLike({ Key: Match.stringLikeRegexp('^orders/iceberg/metadata/.*\\.metadata\\.json$') }),
  ]),
);

// The report's contents, read by the keys listed above.
const failureKeys = afterRuns(
  assert.awsApiCall('S3', 'listObjectsV2', { Bucket: buckets.failure, Prefix: 'orders/' }, [
    'Contents.1.Key',
    'Contents.2.Key',
  ]),
);
const theError = { line: 2, column: 'amount', value: '12.505', rule: 'decimal_scale' };
const body = (index: number, pattern: Record<string, unknown>) =>
  failureKeys.next(
    grant(
      api('S3', 'getObject', {
        Bucket: buckets.failure,
        Key: failureKeys.getAttString(`Contents.${index}.Key`),
      }).expect(ExpectedResult.objectLike({ Body: Match.serializedJson(Match.objectLike(pattern)) })),
    ),
  );
body(1, theError);
body(2, { errorCount: 1, errorsByRule: { decimal_scale: 1 }, errors: [Match.objectLike(theError)] });

// One message per outcome on the events topic, through the filtered subscriptions.
const message = (status: PipelineStatus, pattern: Record<string, unknown>) =>
  afterRuns(
    api('SQS', 'receiveMessage', {
      QueueUrl: queues[status as keyof typeof queues].queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 10,
      // Left visible, so a retry of this check sees the message again.
      VisibilityTimeout: 0,
    })
      .expect(
        ExpectedResult.objectLike({
          Messages: [
            Match.objectLike({
              Body: Match.serializedJson(Match.objectLike({ status, dataset: 'orders', ...pattern })),
            }),
          ],
        }),
      )
      .waitForAssertions(waitUpTo(5)),
  );
message('VALIDATED', { rows: 3, source: Match.objectLike({ key: VALID_KEY }) });
message('REJECTED', {
  rows: 1,
  errorCount: 1,
  errors: [Match.objectLike(theError)],
  source: Match.objectLike({ key: INVALID_KEY }),
});
message('CURATED', {
  rows: 3,
  table: `${database}.orders`,
  // The snapshot holding the rows (a 64-bit id as a decimal string), and the day's data folder.
  snapshotId: Match.stringLikeRegexp('^[0-9]+$'),
  location: Match.stringLikeRegexp(`^s3://${buckets.curated}/orders/iceberg/data/ingest_date=`),
});

/**
 * One Athena query through the lake's workgroup, run once both executions ended, whose result
 * must be exactly `rows` (the header row first).
 */
const athena = (queryString: string, rows: string[][]) => {
  const query = afterRuns(
    api('Athena', 'startQueryExecution', {
      WorkGroup: INTEG_BASE,
      QueryExecutionContext: { Database: database },
      QueryString: queryString,
    }),
  );
  const queryId = query.getAttString('QueryExecutionId');
  query
    .next(
      grant(
        api('Athena', 'getQueryExecution', { QueryExecutionId: queryId })
          .expect(ExpectedResult.objectLike({ QueryExecution: { Status: { State: 'SUCCEEDED' } } }))
          .waitForAssertions(waitUpTo(5)),
      ),
    )
    .next(
      grant(
        api('Athena', 'getQueryResults', { QueryExecutionId: queryId }).expect(
          ExpectedResult.objectLike({
            ResultSet: { Rows: rows.map((row) => ({ Data: row.map((VarCharValue) => ({ VarCharValue })) })) },
          }),
        ),
      ),
    );
};

// Athena reads the Iceberg table the committer wrote: the fixture's 3 rows, quantities
// 2 + 1 + 10000 and amounts 12.50 + 0.99 + 9999999999.99, exact (decimal(12,2) summed as a decimal).
athena('SELECT count(*) AS n, sum(quantity) AS q, sum(amount) AS total FROM orders', [
  ['n', 'q', 'total'],
  ['3', '10003', '10000000013.48'],
]);
// Our metadata as Athena's Iceberg library sees it: one append snapshot holding the 3 rows (the
// summary's counts are the committer's), and time travel to it by its time.
athena(
  `SELECT count(*) AS snapshots, max(operation) AS operation, max(summary['added-records']) AS added FROM "orders$snapshots"`,
  [
    ['snapshots', 'operation', 'added'],
    ['1', 'append', '3'],
  ],
);
athena("SELECT count(*) AS n FROM orders FOR TIMESTAMP AS OF (current_timestamp - interval '1' second)", [
  ['n'],
  ['3'],
]);
// orders_latest, the Presto view in the catalog (lib/constructs/latest-views.ts): Athena parses the
// generated SQL and its declared column types and reads it over the table: one row per order id,
// each with the one landed file's lineage. Which row wins when a key comes again is proven on the
// same SQL text in DuckDB (test/unit/latest-view.test.ts, test/local/query-versions.test.ts).
athena(
  'SELECT count(*) AS n, count(DISTINCT order_id) AS keys, max("_source_key") AS source, count("_ingested_at") AS stamped FROM orders_latest',
  [
    ['n', 'keys', 'source', 'stamped'],
    ['3', '3', VALID_KEY, '3'],
  ],
);
// The Glue table optimizers exist on the table the custom resource created, and are enabled: Glue
// accepted our table for compaction, retention and orphan-file deletion (a compaction run itself
// waits for enough small files, which this suite does not land).
for (const type of ['compaction', 'retention', 'orphan_file_deletion'])
  afterRuns(
    api('Glue', 'getTableOptimizer', {
      CatalogId: Aws.ACCOUNT_ID,
      DatabaseName: database,
      TableName: 'orders',
      Type: type,
    }).expect(ExpectedResult.objectLike({ TableOptimizer: { type, configuration: { enabled: true } } })),
  );

// A clean reconcile: both landed versions have an execution that ended; nothing to re-drive.
afterRuns(
  assert.invokeFunction({ functionName: reconciler.functionName }).expect(
    ExpectedResult.objectLike({
      Payload: Match.serializedJson(Match.objectLike({ objects: 2, orphans: [], redriven: 0 })),
    }),
  ),
);

// integ-runner 2.197.10, the newest published (checked 2026-12-02), bundles a toolkit that reads
// cloud assembly schema 53 at most and refuses the 55 that aws-cdk-lib 2.276 writes ("Cloud assembly
// schema version mismatch"), in snapshot mode too. The assembly uses nothing newer than 53 (stacks,
// asset manifests, the tree, the feature-flag report), so the version is written down to 53 here;
// remove this once integ-runner reads 55 (the aws-cdk CLI 2.1148 reads both).
const INTEG_RUNNER_SCHEMA = '53.0.0';
const assembly = app.synth();
const written = assembly.manifest.version;
for (const file of readdirSync(assembly.directory).filter((f) => f.endsWith('.json'))) {
  const path = join(assembly.directory, file);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
  // The assembly, integ and asset manifests carry the schema version; the tree and templates do not.
  if (manifest.version !== written) continue;
  writeFileSync(path, JSON.stringify({ ...manifest, version: INTEG_RUNNER_SCHEMA }, undefined, 2));
}
