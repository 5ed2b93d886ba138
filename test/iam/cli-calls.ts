/**
 * The AWS calls the `datalake` CLI makes with `--aws`, per command, as IAM authorizes them: read
 * from lib/aws/*.ts (and lib/ledger/dynamodb-reader.ts, lib/reconcile/aws-ledger.ts), including
 * what Athena, S3 and DynamoDB then do with the caller's credentials (the Glue catalog, the curated
 * objects, the results, the lake key). The operator policy must allow every one of them.
 */
import { lakeStackNames } from '../../lib/aws/stack.ts';
import { LEDGER_INDEXES } from '../../lib/ledger/model.ts';
import type { LakePolicies } from './lake-policies.ts';
import { arnsOf, type LakeResources } from './lake-resources.ts';
import type { IamCall } from './simulate.ts';

/** One call of one command. */
export type CliCall = IamCall & { readonly command: string };

/** What the calls address beyond {@link LakeResources}: read from the stacks' outputs. */
export interface CliTargets {
  readonly prefix: string;
  readonly stage: string;
  readonly ledgerTable: string;
  readonly database: string;
  readonly workgroup: string;
}

/** The targets of {@link cliCalls}, from the synthesized stacks' outputs (as discoverLake reads them). */
export function cliTargets(
  lake: LakePolicies,
  stacks: { storage: string; pipeline: string },
  config: { prefix: string; stage: string },
): CliTargets {
  const output = (stack: string, name: string) => {
    const value = lake.cfn.templates[stack]?.Outputs?.[name];
    if (!value) throw new Error(`no output ${name} in ${stack}`);
    return lake.cfn.text(stack, value.Value);
  };
  // The output is the database's Ref: its name, which the resolver does not read (it is nested).
  const [databaseId] = lake.logicalIds(stacks.storage, 'AWS::Glue::Database');
  const databaseInput = lake.cfn.templates[stacks.storage]?.Resources[databaseId ?? '']?.Properties
    ?.DatabaseInput as { Name?: unknown } | undefined;
  return {
    ...config,
    ledgerTable: output(stacks.storage, 'LedgerTableName'),
    database: lake.cfn.text(stacks.storage, databaseInput?.Name),
    workgroup: output(stacks.pipeline, 'AthenaWorkgroup'),
  };
}

/** Every call of every command, made by `principal` (the operator). */
export function cliCalls(res: LakeResources, targets: CliTargets, principal: string): CliCall[] {
  const { arn, object, bucket, via } = arnsOf(res);
  const table = arn('dynamodb', `table/${targets.ledgerTable}`);
  const day = 'ingest_date=2026-12-02';
  const calls: CliCall[] = [];
  const call = (command: string, action: string, resource: string, extra: Partial<IamCall> = {}) =>
    calls.push({ command, who: `datalake ${command}`, principal, action, resource, ...extra });

  // discoverLake, before every --aws command: DescribeStacks on the two stacks by name (a stack's
  // ARN ends in its id).
  const stacks = lakeStackNames(targets.prefix, targets.stage);
  for (const name of [stacks.storage, stacks.pipeline]) {
    call(
      '(every)',
      'cloudformation:DescribeStacks',
      arn('cloudformation', `stack/${name}/0f1e2d3c-aaaa-bbbb`),
    );
  }

  // put: lib-storage's PutObject, or CreateMultipartUpload, UploadPart, CompleteMultipartUpload
  // (all authorized as s3:PutObject) and AbortMultipartUpload on failure; S3 asks KMS for a data
  // key, and to decrypt the parts' keys when it completes a multipart upload. Then put follows the
  // file's ledger item until it is terminal.
  const landed = object('landing', 'orders/2026-12-02.csv');
  for (const action of ['s3:PutObject', 's3:AbortMultipartUpload']) call('put', action, landed);
  for (const action of ['kms:GenerateDataKey', 'kms:Decrypt'])
    call('put', action, res.keyArn, { context: via('s3') });
  call('put', 'dynamodb:GetItem', table);
  call('put', 'kms:Decrypt', res.keyArn, {
    context: via('dynamodb'),
    why: 'the ledger is encrypted with the lake key',
  });

  // files: the ledger's indexes (by dataset, by status) and a key's versions (the table).
  for (const index of Object.values(LEDGER_INDEXES))
    call('files', 'dynamodb:Query', `${table}/index/${index.name}`);
  call('files', 'dynamodb:Query', table);

  // report: the item (where the report is), then the report and its JSON Lines parts.
  call('report', 'dynamodb:GetItem', table);
  const copy = `orders/${day}/2026-12-02.0a1b2c3d.csv`;
  for (const key of [`${copy}.errors.json`, `${copy}.errors.00001.jsonl`])
    call('report', 's3:GetObject', object('failure', key));
  call('report', 'kms:Decrypt', res.keyArn, { context: via('s3') });

  // query: Athena in the workgroup; Athena then reads the catalog, the curated Parquet and writes
  // and reads the results with the caller's credentials.
  const workgroup = arn('athena', `workgroup/${targets.workgroup}`);
  for (const action of ['StartQueryExecution', 'GetQueryExecution', 'GetQueryResults', 'StopQueryExecution'])
    call('query', `athena:${action}`, workgroup);
  const glue = [
    arn('glue', 'catalog'),
    arn('glue', `database/${targets.database}`),
    arn('glue', `table/${targets.database}/orders`),
  ];
  for (const resource of glue.slice(0, 2)) call('query', 'glue:GetDatabase', resource, { why: 'Athena' });
  for (const action of ['glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'])
    for (const resource of glue) call('query', action, resource, { why: 'Athena' });
  // A query of orders_latest: Athena reads the view's definition, then the table it reads (above).
  call('query', 'glue:GetTable', arn('glue', `table/${targets.database}/orders_latest`), {
    why: 'Athena reads the view',
  });
  for (const action of ['s3:GetBucketLocation', 's3:ListBucket'])
    call('query', action, bucket('curated'), { why: 'Athena' });
  call('query', 's3:GetObject', object('curated', `orders/${day}/2026-12-02.0a1b2c3d-part-00000.parquet`), {
    why: 'Athena',
  });
  for (const action of ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'])
    call('query', action, bucket('results'), { why: 'Athena' });
  for (const action of [
    's3:PutObject',
    's3:GetObject',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
  ])
    call('query', action, object('results', 'results/1b2c3d4e-0000.csv'), { why: 'Athena' });
  for (const action of ['kms:GenerateDataKey', 'kms:Decrypt'])
    call('query', action, res.keyArn, { context: via('s3'), why: 'Athena through S3' });

  // subscribe: the events topic, by each protocol the CLI offers.
  for (const protocol of ['email', 'https', 'sqs'])
    call('subscribe', 'sns:Subscribe', res.topics.events, { context: { 'sns:Protocol': protocol } });
  call('subscribe', 'sns:GetSubscriptionAttributes', res.topics.events);

  // reconcile --aws: the landing versions, each version's item and execution, a re-drive.
  call('reconcile', 's3:ListBucketVersions', bucket('landing'));
  call('reconcile', 'dynamodb:GetItem', table);
  call(
    'reconcile',
    'states:DescribeExecution',
    arn('states', `execution:${res.stateMachine.name}:ingest-0a1b2c3d`),
  );
  call('reconcile', 'states:StartExecution', res.stateMachine.arn);
  return calls;
}

/** Calls the operator policy must refuse: the CLI never makes them. */
export function operatorForbiddenCalls(
  res: LakeResources,
  targets: CliTargets,
  principal: string,
): CliCall[] {
  const { partition, region, account } = res;
  const arn = (service: string, resource: string) =>
    `arn:${partition}:${service}:${region}:${account}:${resource}`;
  const object = (zone: keyof LakeResources['buckets'], key: string) =>
    `arn:${partition}:s3:::${res.buckets[zone]}/${key}`;
  const table = arn('dynamodb', `table/${targets.ledgerTable}`);
  const day = 'ingest_date=2026-12-02';
  const deny = (
    command: string,
    action: string,
    resource: string,
    why: string,
    context?: IamCall['context'],
  ) => ({
    command,
    who: 'operator',
    principal,
    action,
    resource,
    why,
    ...(context ? { context } : {}),
  });
  return [
    deny(
      '-',
      's3:DeleteObject',
      object('curated', `orders/${day}/x-part-00000.parquet`),
      'curated is the workflow’s',
    ),
    deny(
      '-',
      's3:PutObject',
      object('curated', `orders/${day}/x-part-00000.parquet`),
      'only the workflow writes curated',
    ),
    deny('-', 's3:PutObject', object('raw', `orders/${day}/x.csv`), 'put writes landing only'),
    deny('-', 's3:PutObject', object('landing', 'undeclared/x.csv'), 'landing takes declared datasets only'),
    deny(
      '-',
      's3:GetObject',
      object('failure', `orders/${day}/x.0a1b2c3d.csv`),
      'report reads the reports, not the rejected copies',
    ),
    deny(
      '-',
      's3:GetObject',
      object('raw', `orders/${day}/x.csv`),
      'raw copies are not the operator’s to read',
    ),
    deny('-', 'dynamodb:PutItem', table, 'only the workflow writes the ledger'),
    deny('-', 'dynamodb:UpdateItem', table, 'only the workflow writes the ledger'),
    deny('-', 'dynamodb:DeleteItem', table, 'only the workflow writes the ledger'),
    deny('-', 'dynamodb:Scan', table, 'the CLI reads through the indexes'),
    deny('-', 'sns:Subscribe', res.topics.alarms, 'the alarm topic is for on-call', {
      'sns:Protocol': 'email',
    }),
    deny('-', 'sns:Subscribe', res.topics.events, 'plain http carries events unencrypted', {
      'sns:Protocol': 'http',
    }),
    deny('-', 'sns:Subscribe', res.topics.events, 'SMS costs money and leaks cell values', {
      'sns:Protocol': 'sms',
    }),
    deny('-', 'sns:Publish', res.topics.events, 'only the workflow publishes events'),
    deny(
      '-',
      'athena:StartQueryExecution',
      arn('athena', 'workgroup/primary'),
      'another workgroup has no scan cap',
    ),
    deny(
      '-',
      'states:StopExecution',
      arn('states', `execution:${res.stateMachine.name}:ingest-0a1b2c3d`),
      'reconcile never stops one',
    ),
    deny('-', 'kms:Decrypt', res.keyArn, 'the key only through S3 and DynamoDB'),
    deny('-', 'kms:Decrypt', res.keyArn, 'the key only through S3 and DynamoDB', {
      'kms:ViaService': `sqs.${region}.${partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`,
    }),
  ];
}
