/** The stateless half of the lake: functions, workflow, Glue job, Athena workgroup and monitoring. */
import { ArnFormat, CfnOutput, Duration, Size, Stack } from 'aws-cdk-lib';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contract.ts';
import { LAMBDA_MB_PER_VCPU, VALIDATE_VCPUS } from '../../lambdas/shared/vcpus.ts';
import { CsvToParquetJob, grantConversionObjects } from '../constructs/csv-to-parquet-job.ts';
import { IngestWorkflow } from '../constructs/ingest-workflow.ts';
import {
  BUNDLED_DATASETS_DIR,
  bundleDatasets,
  DUCKDB_EXTERNALS,
  duckdbAssetCommands,
  LakeFunction,
} from '../constructs/lake-function.ts';
import { OperatorPolicy } from '../constructs/operator-policy.ts';
import { PipelineMonitoring } from '../constructs/pipeline-monitoring.ts';
import { QueryWorkgroup, RESULTS_PREFIX } from '../constructs/query-workgroup.ts';
import { COMMIT_TASK_TIMEOUT, TableCommitter } from '../constructs/table-committer.ts';
import { CONVERT_FUNCTION } from '../conversion/lambda-sizing.ts';
import { conversionSettings } from '../conversion/plan.ts';
import { queryableTables } from '../datasets/latest-view.ts';
import { acknowledge, acknowledgeNotificationsHandler, acknowledgeWildcardResource } from '../nag.ts';
import type { Zone } from '../naming.ts';
import { handlerEntry, type LakeRefsProps, ledgerTable, REPO_ROOT, zoneBucket } from './lake-refs.ts';

/** Properties of {@link PipelineStack}: the stateful resources it works on, as interfaces. */
export interface PipelineStackProps extends LakeRefsProps {
  readonly events: sns.ITopic;
  readonly alarms: sns.ITopic;
  /** The storage stack's name: the operator policy lets the CLI describe it. */
  readonly storageStackName: string;
}

const ROOT = REPO_ROOT;
const entry = handlerEntry;

/**
 * Landing event → trigger → ingest workflow (Validate, Convert or Glue, CommitToTable, SNS), plus the
 * Athena workgroup and the alarms. Each function's role reaches only the prefixes it needs.
 */
export class PipelineStack extends Stack {
  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, key } = props;
    const bucket = (id: string, zone: Zone) => zoneBucket(this, id, props, zone);
    const landingBucket = bucket('LandingBucket', 'landing');
    const rawBucket = bucket('RawBucket', 'raw');
    const failureBucket = bucket('FailureBucket', 'failure');
    const curatedBucket = bucket('CuratedBucket', 'curated');
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const names = props.datasets.map((d) => d.name);
    // Each dataset's current table version: the committer and the engines may write every version up to it.
    const tableVersions = Object.fromEntries(props.datasets.map((d) => [d.name, d.version]));
    const datasetObjects = (bucket: s3.IBucket) => names.map((n) => bucket.arnForObjects(`${n}/*`));

    // Validate streams the file through the validator, CPU-bound: a plain file over 16 MB is
    // validated in parallel ranges, one thread per vCPU, so it gets two full vCPUs (2 × 1,769 MB;
    // `npm run bench` measures the speed-up: GB-seconds stay level when the time halves as the
    // memory doubles). 15 minutes is the Lambda maximum. Each thread holds one record at a time
    // (under 128 MB), so neither memory nor /tmp grows with the file.
    const validate = new LakeFunction(this, 'Validate', {
      entry: entry('validate'),
      serviceName: 'validate',
      memorySize: VALIDATE_VCPUS * LAMBDA_MB_PER_VCPU,
      timeout: Duration.minutes(15),
      logKey: key,
      logRetention,
      environment: {
        [ENV.validate.rawBucket]: rawBucket.bucketName,
        [ENV.validate.failureBucket]: failureBucket.bucketName,
        [ENV.validate.curatedBucket]: curatedBucket.bucketName,
        [ENV.validate.datasetsDir]: BUNDLED_DATASETS_DIR,
        [ENV.validate.conversion]: JSON.stringify(conversionSettings(config)),
      },
      // The declarations travel with the code, so a deployed validator applies exactly these.
      afterBundling: bundleDatasets(props.datasetsDir),
    }).fn;
    const landedObjects = landingBucket.arnForObjects('*');
    validate.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [landedObjects],
      }),
    );
    // Without ListBucket a missing object reads as 403 instead of NoSuchKey.
    validate.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [landingBucket.bucketArn] }),
    );
    const failedObjects = failureBucket.arnForObjects('*');
    validate.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [...datasetObjects(rawBucket), failedObjects],
      }),
    );
    key.grant(validate, 'kms:Decrypt', 'kms:GenerateDataKey');
    acknowledgeWildcardResource(
      validate.role!,
      landedObjects,
      'validate reads any landed object: producers choose the keys',
    );
    acknowledgeWildcardResource(
      validate.role!,
      failedObjects,
      'a rejected file is kept under its own first path segment, which may name no known dataset',
    );
    for (const arn of datasetObjects(rawBucket)) {
      acknowledgeWildcardResource(
        validate.role!,
        arn,
        'validate writes valid files under their dataset prefix in raw, and only there',
      );
    }

    // Appends each converted file to its dataset's Iceberg table: the workflow's CommitToTable
    // sends to its FIFO queue, the Commit function answers the task token.
    const committer = new TableCommitter(this, 'Commit', {
      entry: entry('commit'),
      curated: curatedBucket,
      key,
      datasetNames: names,
      tableVersions,
      databaseName: props.databaseName,
      logRetention,
    });

    const job = new CsvToParquetJob(this, 'CsvToParquet', {
      scriptPath: `${ROOT}glue-scripts/csv_to_parquet.py`,
      raw: rawBucket,
      curated: curatedBucket,
      key,
      datasetNames: names,
      tableVersions,
      workerType: config.glueWorkerType as glue.WorkerType,
      numberOfWorkers: config.glueWorkers,
      maxConcurrentRuns: config.glueMaxConcurrentRuns,
      timeout: Duration.minutes(config.glueTimeoutMinutes),
    }).job;

    // The fast path (conversion: auto): DuckDB in a function sized by lib/conversion/lambda-sizing.ts.
    // x86_64 by default, the architecture of the binding the tests and the bench run here (README).
    let convert: lambda.IFunction | undefined;
    if (config.conversion === 'auto') {
      convert = new LakeFunction(this, 'Convert', {
        entry: entry('convert'),
        serviceName: 'convert',
        memorySize: CONVERT_FUNCTION.memoryMb,
        ephemeralStorageSize: Size.mebibytes(CONVERT_FUNCTION.ephemeralMb),
        timeout: Duration.minutes(CONVERT_FUNCTION.timeoutMinutes),
        architecture:
          config.convertArchitecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        externalModules: DUCKDB_EXTERNALS,
        afterBundling: (_input, output) => duckdbAssetCommands(output, config.convertArchitecture),
        logKey: key,
        logRetention,
        environment: { [ENV.convert.ephemeralMb]: String(CONVERT_FUNCTION.ephemeralMb) },
      }).fn;
      grantConversionObjects(convert.role!, {
        raw: rawBucket,
        curated: curatedBucket,
        key,
        datasetNames: names,
        tableVersions,
      });
    }

    // The ledger lives in the storage stack; referred to by its name, as the buckets are.
    const ledger = ledgerTable(this, props);
    const workflow = new IngestWorkflow(this, 'Ingest', {
      ledger,
      validate,
      commitQueue: committer.queue,
      commitTimeout: COMMIT_TASK_TIMEOUT,
      ...(convert ? { convert } : {}),
      job,
      events: props.events,
      logKey: key,
      logRetention,
      largeFileBytes: config.largeFileBytes,
      glueWorkerType: config.glueWorkerType,
      glueMaxWorkers: config.glueWorkers,
      glueMaxTimeoutMinutes: config.glueTimeoutMinutes,
    });
    props.events.grantPublish(workflow.stateMachine);
    committer.answersTokens();

    // Events the trigger cannot turn into executions after Lambda's retries land here.
    const triggerFailures = new sqs.Queue(this, 'TriggerFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      triggerFailures,
      'SQS3',
      'this queue is itself the dead-letter destination of the trigger function (Lambda on-failure destination)',
    );
    // Starts one execution per S3 record: milliseconds of work.
    const trigger = new LakeFunction(this, 'Trigger', {
      entry: entry('trigger'),
      serviceName: 'trigger',
      memorySize: 256,
      timeout: Duration.seconds(30),
      logKey: key,
      logRetention,
      environment: { [ENV.trigger.stateMachineArn]: workflow.stateMachine.stateMachineArn },
    }).fn;
    trigger.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(triggerFailures),
    });
    workflow.stateMachine.grantStartExecution(trigger);
    // The on-failure destination's grant on the queue's key (CDK's SQS send grant).
    acknowledge(
      trigger.role!,
      'IAM5[Action::kms:GenerateDataKey*]',
      'sending to the KMS-encrypted failure queue needs data keys',
    );
    acknowledge(
      trigger.role!,
      'IAM5[Action::kms:ReEncrypt*]',
      'CDK grants ReEncrypt with SQS send on a KMS-encrypted queue',
    );
    // The landing bucket lives in the storage stack; subscribing through a reference keeps the
    // notification (and its dependency on this stack's function) here, so the stacks do not cycle.
    landingBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(trigger));
    acknowledgeNotificationsHandler(this);

    // Every hour (by default) every landing object version must have an execution that ended:
    // the reconciler re-drives the ones that do not (a lost S3 event, a failed run).
    const reconciler = new LakeFunction(this, 'Reconcile', {
      entry: entry('reconcile'),
      serviceName: 'reconcile',
      memorySize: 256,
      // Lists and describes one execution per object version: minutes for large landing zones.
      timeout: Duration.minutes(10),
      logKey: key,
      logRetention,
      environment: {
        [ENV.reconcile.landingBucket]: landingBucket.bucketName,
        [ENV.reconcile.stateMachineArn]: workflow.stateMachine.stateMachineArn,
        [ENV.reconcile.redrive]: String(config.reconcileRedrive),
        [ENV.reconcile.ledgerTable]: ledger.tableName,
      },
    }).fn;
    // One GetItem per landed object version (the table's key is the object's key and version).
    reconciler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [ledger.tableArn] }),
    );
    // The table's key, only as DynamoDB uses it for the reconciler's reads.
    reconciler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${this.region}.${this.urlSuffix}` } },
      }),
    );
    reconciler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucketVersions'], resources: [landingBucket.bucketArn] }),
    );
    const executions = this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${workflow.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    reconciler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [executions],
      }),
    );
    workflow.stateMachine.grantStartExecution(reconciler);
    acknowledgeWildcardResource(
      reconciler.role!,
      executions,
      'the reconciler describes the executions of the ingest state machine, whose names follow the landed objects',
    );
    new scheduler.Schedule(this, 'ReconcileSchedule', {
      description: 'Re-drives landed files without a terminal outcome',
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(config.reconcileEveryHours)),
      target: new schedulerTargets.LambdaInvoke(reconciler, { retryAttempts: 2 }),
    });
    // The target's role (a singleton CDK makes per stack) may invoke the reconciler's versions.
    const schedulerRole = this.node.children.find((c) => c.node.id.startsWith('SchedulerRoleForTarget'));
    if (schedulerRole) {
      acknowledgeWildcardResource(
        schedulerRole,
        `${reconciler.functionArn}:*`,
        'the schedule may invoke any version of the one reconciler function',
      );
    }

    const resultsBucket = bucket('ResultsBucket', 'results');
    const workgroup = new QueryWorkgroup(this, 'Query', {
      name: `${config.prefix}-${config.stage}`,
      results: resultsBucket,
      key,
      bytesScannedCutoff: config.athenaBytesScannedCutoff,
    });

    new PipelineMonitoring(this, 'Monitoring', {
      stateMachine: workflow.stateMachine,
      workflowLogs: workflow.logGroup,
      functions: { Trigger: trigger, Validate: validate, Commit: committer.fn, Reconcile: reconciler },
      // Alarmed on its error rate: its errors include the hand-offs to Glue, which are no fault.
      ...(convert ? { convert } : {}),
      triggerFailures,
      commitDeadLetters: committer.deadLetterQueue,
      alarmTopic: props.alarms,
      dashboardName: `${config.prefix}-${config.stage}`,
    });

    // What the datalake CLI needs with --aws, for an administrator to attach to the operators.
    const operator = new OperatorPolicy(this, 'Operator', {
      stackNames: [props.storageStackName, this.stackName],
      datasets: names,
      tables: props.datasets.flatMap(queryableTables),
      landing: landingBucket,
      failure: failureBucket,
      curated: curatedBucket,
      results: resultsBucket,
      resultsPrefix: RESULTS_PREFIX,
      ledger,
      workgroupName: workgroup.name,
      databaseName: props.databaseName,
      events: props.events,
      stateMachine: workflow.stateMachine,
      key,
    });

    new CfnOutput(this, 'StateMachineArn', { value: workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AthenaWorkgroup', { value: workgroup.name });
    new CfnOutput(this, 'GlueJobName', { value: job.jobName });
    new CfnOutput(this, 'TriggerFailureQueueUrl', { value: triggerFailures.queueUrl });
    new CfnOutput(this, 'OperatorPolicyArn', { value: operator.policy.managedPolicyArn });
  }
}
