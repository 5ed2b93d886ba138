/**
 * The committer of the datasets' Iceberg tables: a FIFO queue the workflow's CommitToTable state
 * sends one message to per converted file (with its task token), and the Commit function that
 * takes the queue a batch at a time, appends each dataset's files in one snapshot
 * (lambdas/commit/core.ts) and answers every task token.
 *
 * One message group per dataset: Lambda hands a FIFO group to one invocation at a time, so two
 * commits of one table never race (the catalog's compare-and-swap still guards against anything
 * else that writes it), while the datasets commit in parallel.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contract.ts';
import { COMMIT_REQUESTS_PREFIX, tableVersions } from '../iceberg/layout.ts';
import { acknowledge, acknowledgeWildcardResource, REASON_NO_RESOURCE_LEVEL } from '../nag.ts';
import { LakeFunction } from './lake-function.ts';

/**
 * The Commit function's sizing and the queue's redelivery, in one place (test/infra holds them
 * together). A batch commits in seconds: a commit request and one Parquet footer per data file
 * read, a manifest, a manifest list and a metadata file written, two Glue calls. A minute leaves
 * room for retries of conflicting commits.
 */
export const COMMIT_FUNCTION = {
  memoryMb: 512,
  timeoutSeconds: 60,
  /** Messages per invocation: SQS FIFO's most, and what one snapshot then takes at most. */
  batchSize: 10,
  /**
   * Lambda's advice for an SQS event source: a visibility timeout of at least six times the
   * function's timeout, so a message is not delivered again while its batch is still running
   * (throttled and retried invocations included).
   */
  visibilityTimeoutSeconds: 6 * 60,
  /** Receives before a message goes to the dead-letter queue: a transient failure is retried twice. */
  maxReceiveCount: 3,
} as const;

/**
 * How long CommitToTable waits for its token to be answered: longer than every receive of its
 * message can take (3 × 6 minutes), so the state does not time out on a commit still under way.
 * A message that outlives it (it went to the dead-letter queue) fails the file, and the
 * reconciler re-drives it; a late commit of the same object version is found by its source tag.
 */
export const COMMIT_TASK_TIMEOUT = Duration.minutes(20);

/** Properties of {@link TableCommitter}. */
export interface TableCommitterProps {
  /** The curated zone: commit requests under `_commits/`, the tables under `<dataset>/[v<N>/]iceberg/`. */
  readonly curated: s3.IBucket;
  /** The lake key: the zones' objects, the queues and the function's logs. */
  readonly key: kms.IKey;
  readonly datasetNames: readonly string[];
  /**
   * Each dataset's current table version (a declaration's `version`): the committer may commit to
   * every version up to it (`<name>`, `<name>_v2`, …), since a run validated before a deploy that
   * raised the version commits to the table it was validated for.
   * @default - every dataset at version 1
   */
  readonly tableVersions?: Readonly<Record<string, number>>;
  /** The Glue database of the tables. */
  readonly databaseName: string;
  readonly logRetention: logs.RetentionDays;
  /** Path of the Commit function's handler (`lambdas/commit/handler.ts`). */
  readonly entry: string;
}

/** The commit queue, its dead-letter queue and the Commit function that consumes it. */
export class TableCommitter extends Construct {
  /** Where CommitToTable sends: FIFO, one message group per dataset. */
  readonly queue: sqs.Queue;
  /** Messages whose every receive failed: their files failed, and the reconciler re-drives them. */
  readonly deadLetterQueue: sqs.Queue;
  readonly fn: lambda.Function;

  constructor(scope: Construct, id: string, props: TableCommitterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'SQS3',
      'this queue is itself the dead-letter queue of the commit queue',
    );
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      // The workflow names each message (execution and retry): a send it repeats within five
      // minutes is dropped, while identical bodies of different attempts are not.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(COMMIT_FUNCTION.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: COMMIT_FUNCTION.maxReceiveCount },
    });

    this.fn = new LakeFunction(this, 'Commit', {
      entry: props.entry,
      serviceName: 'commit',
      memorySize: COMMIT_FUNCTION.memoryMb,
      timeout: Duration.seconds(COMMIT_FUNCTION.timeoutSeconds),
      logKey: props.key,
      logRetention: props.logRetention,
      environment: {
        [ENV.commit.database]: props.databaseName,
        [ENV.commit.curatedBucket]: props.curated.bucketName,
      },
    }).fn;
    this.fn.addEventSource(
      new sources.SqsEventSource(this.queue, {
        batchSize: COMMIT_FUNCTION.batchSize,
        // Transient failures come back one by one; the batch's other messages are done.
        reportBatchItemFailures: true,
      }),
    );

    const role = this.fn.role!;
    const names = props.datasetNames;
    // What the committer reads: the engines' commit requests, and the data files' footers (and
    // the table's own metadata: manifests, manifest lists, metadata JSON).
    const requests = names.map((n) => props.curated.arnForObjects(`${COMMIT_REQUESTS_PREFIX}${n}/*`));
    const versions = names.flatMap((n) => tableVersions(n, props.tableVersions?.[n]));
    const tables = versions.map((t) => props.curated.arnForObjects(`${t.keyPrefix}/*`));
    const metadata = versions.map((t) => props.curated.arnForObjects(`${t.keyPrefix}/metadata/*`));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [...requests, ...tables] }),
    );
    // It writes the table's metadata only, never a data file. It deletes only metadata files of its
    // own attempts that lost a compare-and-swap (the core's clean-up; the orphan-file deleter
    // looks at the data folder only, so nothing else would), never a data file.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        resources: metadata,
      }),
    );
    // Without ListBucket a missing object (a commit request not written) reads as 403, not 404.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.curated.bucketArn],
        conditions: {
          StringLike: {
            's3:prefix': [
              ...names.map((n) => `${COMMIT_REQUESTS_PREFIX}${n}/*`),
              ...versions.map((t) => `${t.keyPrefix}/*`),
            ],
          },
        },
      }),
    );
    props.key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    // The pointer swap: GetTable then UpdateTable (with VersionId) on the datasets' tables.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:UpdateTable'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.databaseName }),
          ...versions.map((t) =>
            stack.formatArn({
              service: 'glue',
              resource: 'table',
              resourceName: `${props.databaseName}/${t.name}`,
            }),
          ),
        ],
      }),
    );
    for (const arn of requests) {
      acknowledgeWildcardResource(
        role,
        arn,
        "the committer reads its datasets' commit requests, one object per run, named by the run",
      );
    }
    for (const arn of [...tables, ...metadata]) {
      acknowledgeWildcardResource(
        role,
        arn,
        "the committer reads a table's data footers and metadata, and writes its metadata files, of its datasets only",
      );
    }
  }

  /**
   * Lets the Commit function answer task tokens (success or failure, nothing else). Step Functions
   * authorizes SendTaskSuccess and SendTaskFailure on no resource (the Service Authorization
   * Reference lists no resource type for them; a state machine ARN would allow nothing, as the IAM
   * simulation in test/iam/iceberg-calls.test.ts shows): the token itself names the task.
   */
  answersTokens(): void {
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: ['*'],
      }),
    );
    acknowledge(
      this.fn.role!,
      'IAM5[Resource::*]',
      `${REASON_NO_RESOURCE_LEVEL}; nor do Step Functions' SendTaskSuccess and SendTaskFailure, whose task token names the task`,
    );
  }
}
