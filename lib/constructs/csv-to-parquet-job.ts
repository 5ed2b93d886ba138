/** The Glue Spark job that turns a validated raw CSV into typed Parquet in the curated zone. */
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag.ts';

/** Properties of {@link CsvToParquetJob}. */
export interface CsvToParquetJobProps {
  /** Path of the PySpark script (`glue-scripts/csv_to_parquet.py`). */
  readonly scriptPath: string;
  readonly raw: s3.IBucket;
  readonly curated: s3.IBucket;
  readonly key: kms.IKey;
  /** The datasets whose raw prefixes the job may read and curated prefixes it may write. */
  readonly datasetNames: readonly string[];
  readonly workerType: glue.WorkerType;
  /** The job's default workers; the workflow sets each run's own (sized from its file), up to this. */
  readonly numberOfWorkers: number;
  readonly maxConcurrentRuns: number;
  /** The job's default timeout; the workflow sets each run's own, up to this. */
  readonly timeout: Duration;
}

/** The zone buckets, key and datasets a conversion works on. */
export interface ConversionObjects {
  readonly raw: s3.IBucket;
  readonly curated: s3.IBucket;
  readonly key: kms.IKey;
  readonly datasetNames: readonly string[];
}

/**
 * What either engine (this job, or the Convert Lambda running the same contract) may do to the
 * objects of a conversion: read the datasets' raw files, list and stage, publish and replace
 * Parquet under their curated prefixes, with the zones' key.
 */
export function grantConversionObjects(role: iam.IRole, props: ConversionObjects): void {
  const prefixes = props.datasetNames.map((name) => `${name}/*`);
  for (const p of prefixes) {
    acknowledgeWildcardResource(
      role,
      props.raw.arnForObjects(p),
      'a conversion reads raw files of its datasets only',
    );
    acknowledgeWildcardResource(
      role,
      props.curated.arnForObjects(p),
      'a conversion stages, publishes and replaces Parquet under its datasets only',
    );
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: prefixes.map((p) => props.raw.arnForObjects(p)),
    }),
  );
  // Staging, publishing (copy then delete) and replacing an earlier run's output.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: prefixes.map((p) => props.curated.arnForObjects(p)),
    }),
  );
  // Both list the output prefix (staging, publishing, replacing); Spark lists the input path too.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.raw.bucketArn, props.curated.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes } },
    }),
  );
  props.key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
}

/**
 * A Glue 5.0 PySpark job with a KMS security configuration and a role that reads only the raw
 * prefixes of the datasets and writes only their curated prefixes (staging included).
 */
export class CsvToParquetJob extends Construct {
  readonly job: glue.PySparkEtlJob;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CsvToParquetJobProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'CSV to Parquet job: reads raw, writes curated',
    });
    grantConversionObjects(this.role, props);
    // Hadoop's S3 filesystems probe each parent "directory" of an output path they create, up to
    // the dataset's folder: a HEAD of `<dataset>` (a file of that name?), then a listing of
    // `<dataset>/`, which the prefixes below cover (`*` matches nothing too). The HEAD of the bare
    // key needs its own grant (review R3; test/iam/recorded-calls.test.ts).
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: props.datasetNames.map((name) => props.curated.arnForObjects(name)),
      }),
    );
    // Glue writes its driver and executor logs to these groups (encrypted by the security configuration).
    const glueLogs = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws-glue/*`;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [glueLogs],
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      glueLogs,
      "Glue names its log groups under /aws-glue/ (one per job run's security configuration)",
    );
    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      'cloudwatch:PutMetricData has no resource; the statement is limited to the Glue namespace',
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );

    // It holds no data, and it has a fixed physical name: retained (CDK's default), it would block
    // the stateless pipeline stack from being created again after a destroy or a rolled-back create.
    const security = new glue.SecurityConfiguration(this, 'Security', {
      removalPolicy: RemovalPolicy.DESTROY,
      s3Encryption: glue.S3Encryption.kms(props.key),
      cloudWatchEncryption: glue.CloudWatchEncryption.kms(props.key),
      jobBookmarksEncryption: glue.JobBookmarksEncryption.clientSideKms(props.key),
    });

    // Code.fromAsset grants the role read access to the CDK assets bucket for the script.
    const assets =
      'Glue reads its script from the CDK bootstrap assets bucket (grant made by Code.fromAsset)';
    for (const finding of ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*']) {
      acknowledge(this.role, `IAM5[${finding}]`, assets);
    }
    acknowledge(
      this.role,
      'IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      assets,
    );
    this.job = new glue.PySparkEtlJob(this, 'Job', {
      description: 'Converts one validated raw CSV into typed Parquet in the curated zone',
      script: glue.Code.fromAsset(props.scriptPath),
      role: this.role,
      glueVersion: glue.GlueVersion.V5_0,
      workerConfiguration: { workerType: props.workerType, numberOfWorkers: props.numberOfWorkers },
      maxConcurrentRuns: props.maxConcurrentRuns,
      // Runs past the job's or the account's concurrency wait (WAITING) instead of failing: a
      // burst of files queues rather than spending the workflow's retries.
      jobRunQueuingEnabled: true,
      // The workflow retries on its own terms (ConcurrentRunsExceeded); a failed run fails the file.
      maxRetries: 0,
      timeout: props.timeout,
      securityConfiguration: security,
      continuousLogging: { enabled: true },
      enableMetrics: true,
      defaultArguments: {
        '--enable-job-insights': 'true',
        '--job-bookmark-option': 'job-bookmark-disable',
      },
    });
  }
}
