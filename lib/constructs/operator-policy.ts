/**
 * The operator's policy: a customer-managed IAM policy granting exactly what the `datalake` CLI
 * needs against this lake with `--aws` (lib/aws/*.ts): find the stacks, put files in landing,
 * read the ledger and the failure reports, query through the workgroup, subscribe to the events,
 * and reconcile. An administrator attaches it to the people's or the CI's role; nothing in the
 * lake uses it.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { LEDGER_INDEXES } from '../ledger/model.ts';
import { acknowledgeWildcardResource } from '../nag.ts';

/** Properties of {@link OperatorPolicy}: the lake's resources the CLI reaches. */
export interface OperatorPolicyProps extends Omit<QueryGrantsProps, 'tables'> {
  /** The two stacks the CLI describes to find the lake (lib/aws/stack.ts). */
  readonly stackNames: readonly string[];
  /** The declared datasets: landing takes files under their folders only. */
  readonly datasets: readonly string[];
  /**
   * The Glue tables and views queries read (every table version, the `_latest` views).
   * @default - one table per dataset, named as the dataset
   */
  readonly tables?: readonly string[];
  readonly landing: s3.IBucket;
  readonly failure: s3.IBucket;
  readonly ledger: dynamodb.ITable;
  readonly events: sns.ITopic;
  readonly stateMachine: sfn.StateMachine;
}

/** The managed policy an operator of the lake is given. */
export class OperatorPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arn = (service: string, resource: string, resourceName?: string, colon = false) =>
      stack.formatArn({
        service,
        resource,
        ...(resourceName === undefined ? {} : { resourceName }),
        ...(colon ? { arnFormat: ArnFormat.COLON_RESOURCE_NAME } : {}),
      });
    const landingObjects = props.datasets.map((d) => props.landing.arnForObjects(`${d}/*`));
    // Validate writes a rejected file's report beside its copy: `<copy>.errors.json`, and the
    // parts of a long one `<copy>.errors.NNNNN.jsonl`.
    const reports = ['*.errors.json', '*.errors.*.jsonl'].map((p) => props.failure.arnForObjects(p));
    const query = queryGrants(this, { ...props, tables: props.tables ?? props.datasets });
    const executions = arn('states', 'execution', `${props.stateMachine.stateMachineName}:*`, true);
    const stacks = props.stackNames.map((name) => arn('cloudformation', 'stack', `${name}/*`));

    const statements = [
      // discoverLake: the stacks' outputs.
      new iam.PolicyStatement({
        sid: 'FindTheLake',
        actions: ['cloudformation:DescribeStacks'],
        resources: stacks,
      }),
      // put: PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload;
      // lib-storage aborts an upload that failed.
      new iam.PolicyStatement({
        sid: 'PutLandingFiles',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: landingObjects,
      }),
      // report: a rejected file's report and its parts.
      new iam.PolicyStatement({ sid: 'ReadReports', actions: ['s3:GetObject'], resources: reports }),
      // files, put's follow-up, reconcile: the ledger and its two indexes, read only.
      ledgerReadStatement(props.ledger),
      // query: the workgroup, the catalog and the curated data, as Athena reads them for the caller.
      ...query.statements,
      // subscribe: the events topic, by the protocols the CLI offers (no plain http, SMS or
      // Lambda behind its back); GetSubscriptionAttributes is authorized on the topic.
      new iam.PolicyStatement({
        sid: 'SubscribeToEvents',
        actions: ['sns:Subscribe'],
        resources: [props.events.topicArn],
        conditions: { StringEquals: { 'sns:Protocol': ['email', 'https', 'sqs'] } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadSubscriptions',
        actions: ['sns:GetSubscriptionAttributes'],
        resources: [props.events.topicArn],
      }),
      // reconcile --aws: the landing versions, the ingest executions, and a re-drive.
      new iam.PolicyStatement({
        sid: 'ListLandingVersions',
        actions: ['s3:ListBucketVersions'],
        resources: [props.landing.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeIngestExecutions',
        actions: ['states:DescribeExecution'],
        resources: [executions],
      }),
      new iam.PolicyStatement({
        sid: 'RedriveIngest',
        actions: ['states:StartExecution'],
        resources: [props.stateMachine.stateMachineArn],
      }),
      // The lake key, only as S3 (landing, failure, curated, results) and DynamoDB (the ledger)
      // use it on the caller's behalf.
      lakeKeyStatement(props.key, ['s3', 'dynamodb'], ['kms:Decrypt', 'kms:GenerateDataKey']),
    ];
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'What the datalake CLI needs against this lake with --aws (attach to operators)',
      statements,
    });

    const because = (resource: string, reason: string) =>
      acknowledgeWildcardResource(this.policy, resource, reason);
    for (const objects of landingObjects) {
      because(objects, 'put uploads files under a declared dataset folder of landing, named by the operator');
    }
    for (const report of reports) {
      because(report, "report reads rejected files' reports, named after the rejected copies");
    }
    query.acknowledge(this.policy);
    because(executions, 'reconcile describes the ingest executions, named after the landed objects');
    for (const s of stacks) because(s, 'a stack ARN ends in its id, which changes with each creation');
  }
}

/** What {@link queryGrants} reaches: the workgroup, the catalog and the data its queries read and write. */
export interface QueryGrantsProps {
  readonly curated: s3.IBucket;
  readonly results: s3.IBucket;
  /** The prefix of the workgroup's results in `results` (the workgroup's output location). */
  readonly resultsPrefix: string;
  readonly workgroupName: string;
  readonly databaseName: string;
  /** The Glue tables and views queries read (every table version, the `_latest` views). */
  readonly tables: readonly string[];
  readonly key: kms.IKey;
}

/**
 * What a caller of Athena needs to run queries in the lake's workgroup: Athena reads the catalog
 * and the curated objects, and writes the results, with the caller's credentials. The operator's
 * policy and the console's query function both get these statements; `acknowledge` justifies
 * their object wildcards to cdk-nag on the policy or role that carries them.
 */
export function queryGrants(scope: Construct, props: QueryGrantsProps) {
  const stack = Stack.of(scope);
  const arn = (service: string, resource: string, resourceName?: string) =>
    stack.formatArn({ service, resource, ...(resourceName === undefined ? {} : { resourceName }) });
  const curatedObjects = props.curated.arnForObjects('*');
  const resultObjects = props.results.arnForObjects(`${props.resultsPrefix}*`);
  const statements = [
    // The workgroup only (its settings are enforced: results location, key, scan cap).
    new iam.PolicyStatement({
      sid: 'QueryInWorkgroup',
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
      ],
      resources: [arn('athena', 'workgroup', props.workgroupName)],
    }),
    // Athena reads the catalog with the caller's credentials.
    new iam.PolicyStatement({
      sid: 'ReadCatalog',
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
      ],
      resources: [
        arn('glue', 'catalog'),
        arn('glue', 'database', props.databaseName),
        ...props.tables.map((t) => arn('glue', 'table', `${props.databaseName}/${t}`)),
      ],
    }),
    // ... and the curated Parquet, with the caller's credentials too.
    new iam.PolicyStatement({
      sid: 'ReadCurated',
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resources: [props.curated.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadCuratedObjects',
      actions: ['s3:GetObject'],
      resources: [curatedObjects],
    }),
    // ... and writes the results, which GetQueryResults then reads.
    new iam.PolicyStatement({
      sid: 'QueryResultsBucket',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [props.results.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'QueryResults',
      actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [resultObjects],
    }),
  ];
  return {
    statements,
    acknowledge(holder: IConstruct) {
      acknowledgeWildcardResource(
        holder,
        curatedObjects,
        "Athena reads the curated tables' Parquet objects with the caller's credentials",
      );
      acknowledgeWildcardResource(
        holder,
        resultObjects,
        "Athena writes each query's results under the workgroup's output prefix",
      );
    },
  };
}

/** The ledger table and its indexes, read only (GetItem, Query). */
export function ledgerReadStatement(ledger: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadLedger',
    actions: ['dynamodb:GetItem', 'dynamodb:Query'],
    resources: [
      ledger.tableArn,
      ...Object.values(LEDGER_INDEXES).map((i) => `${ledger.tableArn}/index/${i.name}`),
    ],
  });
}

/**
 * The lake key, only as the named services (`s3`, `dynamodb`) use it on the caller's behalf: a
 * caller can read and write encrypted objects and items, never decrypt a ciphertext itself.
 */
export function lakeKeyStatement(
  key: kms.IKey,
  services: readonly string[],
  actions: readonly string[],
): iam.PolicyStatement {
  const stack = Stack.of(key);
  return new iam.PolicyStatement({
    sid: `UseLakeKeyThrough${services.map((s) => (s === 'dynamodb' ? 'DynamoDB' : s.toUpperCase())).join('And')}`,
    actions: [...actions],
    resources: [key.keyArn],
    conditions: {
      StringEquals: {
        'kms:ViaService': services.map((s) => `${s}.${stack.region}.${stack.urlSuffix}`),
      },
    },
  });
}
