/** The Glue Spark job that turns a validated raw CSV into typed Parquet in the curated zone. */
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMMIT_REQUESTS_PREFIX, tableVersions } from '../iceberg/layout.ts';
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
  /**
   * Each dataset's current table version: the job may write the data folders of every version up
   * to it (a run validated before a deploy that raised the version writes for its own table).
   * @default - every dataset at version 1
   */
  readonly tableVersions?: Readonly<Record<string, number>>;
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
  /** Each dataset's current table version. @default - every dataset at version 1 */
  readonly tableVersions?: Readonly<Record<string, number>>;
}

/** The data folders (keys, no trailing slash) of every table version of the datasets: `<ds>/[v<N>/]iceberg/data`. */
function dataFolders(props: Pick<ConversionObjects, 'datasetNames' | 'tableVersions'>): string[] {
  return props.datasetNames.flatMap((n) =>
    tableVersions(n, props.tableVersions?.[n]).map((t) => `${t.keyPrefix}/data`),
  );
}

/**
 * What either engine (this job, or the Convert Lambda running the same contract) may do to the
 * objects of a conversion: read the datasets' raw files, write data files under their Iceberg
 * tables' data folders and the commit request naming them, with the zones' key. Nothing is
 * deleted or overwritten: every data file has a fresh name, invisible until the committer appends
 * it, and a table's metadata is the committer's alone.
 */
export function grantConversionObjects(role: iam.IRole, props: ConversionObjects): void {
  const raw = props.datasetNames.map((name) => props.raw.arnForObjects(`${name}/*`));
  const data = dataFolders(props).map((folder) => props.curated.arnForObjects(`${folder}/*`));
  const requests = props.datasetNames.map((name) =>
    props.curated.arnForObjects(`${COMMIT_REQUESTS_PREFIX}${name}/*`),
  );
  for (const arn of raw)
    acknowledgeWildcardResource(role, arn, 'a conversion reads raw files of its datasets only');
  for (const arn of data) {
    acknowledgeWildcardResource(
      role,
      arn,
      "a conversion writes data files under its datasets' Iceberg data folders only, at fresh names",
    );
  }
  for (const arn of requests) {
    acknowledgeWildcardResource(
      role,
      arn,
      "a conversion writes its run's commit request for its datasets only",
    );
  }
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: raw }));
  // Data files (read back for their row counts and footers), and the commit requests.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      resources: data,
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: requests }),
  );
  // Spark lists the input path; both list the run's data folder (its files and sizes).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.raw.bucketArn],
      conditions: { StringLike: { 's3:prefix': props.datasetNames.map((n) => `${n}/*`) } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.curated.bucketArn],
      conditions: { StringLike: { 's3:prefix': dataFolders(props).map((folder) => `${folder}/*`) } },
    }),
  );
  props.key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
}

/**
 * A Glue 5.0 PySpark job with a KMS security configuration and a role that reads only the raw
 * prefixes of the datasets and writes only their tables' data folders and commit requests.
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
    // the dataset's folder: a HEAD of `<dataset>`, `<dataset>/iceberg` and `<dataset>/iceberg/data`
    // (`<dataset>/v<N>`, … for a later table version; a file of that name?), and a listing of each
    // as a folder. The HEADs of the bare keys need their own grants (review R3), the listings a
    // prefix of the dataset's folder.
    const parents = [
      ...new Set(
        dataFolders(props).flatMap((folder) =>
          folder.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')),
        ),
      ),
    ];
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: parents.map((key) => props.curated.arnForObjects(key)),
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.curated.bucketArn],
        conditions: { StringLike: { 's3:prefix': props.datasetNames.map((n) => `${n}/*`) } },
      }),
    );
    // What Spark and the script clear away, and only that: the copy of an input Spark cannot read
    // by its own name (`<target>_staging/<run>/input/`), and a committer's `_temporary` folder.
    const scratch = dataFolders(props).flatMap((data) =>
      ['_staging', '_temporary'].map((folder) => props.curated.arnForObjects(`${data}/*/${folder}/*`)),
    );
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: scratch }));
    for (const arn of scratch) {
      acknowledgeWildcardResource(
        this.role,
        arn,
        "the job clears its scratch folders (the input copy, Spark's _temporary) under its datasets' data folders, never a data file",
      );
    }
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
