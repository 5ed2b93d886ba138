/**
 * The ingest workflow (standard, JSONPath only so the local runtime can execute the same ASL):
 * by size → Validate (or, above the large-file threshold, ValidateSlice) → ValidateSlice again
 * until done (a Validate that ran short of time hands over to it too) → valid? →
 * VALIDATED → by the Validate output's `conversion.engine`: the Convert Lambda (DuckDB; out of
 * memory, disk or time it hands the file to Glue) or the Glue CSV→Parquet job (.sync, workers
 * and timeout sized per file by Validate) → CommitToTable (the files appended to the dataset's
 * Iceberg table by the Commit function, through a FIFO queue and a task token) → CURATED, or
 * REJECTED; any other
 * error → FAILED → Fail. Each status is written to the ingest ledger (Record* states) as well as
 * published. Without a Convert function (`conversion: glue`) every valid file goes to
 * Glue, as in the seed.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { CommitTaskInput, PipelineStatus } from '../../lambdas/shared/contract.ts';
import { ATTR, type LedgerStatus, STATUS_RANK, WRITE_CONDITION, WRITE_NAMES } from '../ledger/model.ts';
import { acknowledge, acknowledgeWildcardResource, REASON_NO_RESOURCE_LEVEL } from '../nag.ts';

/** Properties of {@link IngestWorkflow}. */
export interface IngestWorkflowProps {
  readonly validate: lambda.IFunction;
  /**
   * The commit queue (lib/constructs/table-committer.ts): CommitToTable sends each converted file's
   * commit there with its task token, and waits for the Commit function's answer.
   */
  readonly commitQueue: sqs.IQueue;
  /** How long CommitToTable waits for its answer before the file fails (the reconciler re-drives it). */
  readonly commitTimeout: Duration;
  /**
   * The Convert Lambda: files the Validate output routes to `lambda` are converted by it.
   * @default - none: every valid file goes to the Glue job
   */
  readonly convert?: lambda.IFunction;
  readonly job: glue.IJob;
  readonly events: sns.ITopic;
  /** The ingest ledger (lib/ledger/model.ts): each step writes the file's item itself. */
  readonly ledger: dynamodb.ITable;
  readonly logKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /**
   * Objects above this many bytes are validated in slices of this size, one invocation each:
   * one invocation of a larger file would run into Lambda's 15 minutes.
   */
  readonly largeFileBytes: number;
  /**
   * The Glue job's worker type, repeated on each run: StartJobRun takes NumberOfWorkers only with
   * WorkerType. Each run's workers and timeout come from the Validate output (`conversion`).
   */
  readonly glueWorkerType: string;
  /**
   * The most workers and the longest timeout (minutes) of a Glue run (config `glueWorkers`,
   * `glueTimeoutMinutes`): what a run gets when no size fits it (see SizeGlueAtMost).
   */
  readonly glueMaxWorkers: number;
  readonly glueMaxTimeoutMinutes: number;
}

/** State names the monitoring metric filters and the local runtime refer to. */
export const STATE = {
  recordReceived: 'RecordReceived',
  routeBySize: 'RouteBySize',
  validate: 'Validate',
  planSlices: 'PlanSlices',
  validateSlice: 'ValidateSlice',
  moreSlices: 'MoreSlices',
  isValid: 'IsValid',
  recordValidated: 'RecordValidated',
  notifyValidated: 'NotifyValidated',
  chooseConversion: 'ChooseConversion',
  convertInLambda: 'ConvertInLambda',
  sizeGlueAtMost: 'SizeGlueAtMost',
  convert: 'ConvertToParquet',
  commit: 'CommitToTable',
  recordCurated: 'RecordCurated',
  notifyCurated: 'NotifyCurated',
  curated: 'Curated',
  recordRejected: 'RecordRejected',
  notifyRejected: 'NotifyRejected',
  rejected: 'Rejected',
  recordFailed: 'RecordFailed',
  notifyFailed: 'NotifyFailed',
  failed: 'Failed',
} as const;

/** Errors a Lambda task retries beyond the service errors LambdaInvoke retries by default. */
const TRANSIENT_TASK_ERRORS = [
  'Lambda.TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
];

/**
 * Errors of the SQS send that CommitToTable retries (Step Functions prefixes the service's error
 * names with `SQS.`): throttling and the service's own failures. A send retried after one that
 * did go through is a second message under another deduplication id (it names the retry): the
 * commit of an object version already appended is found by its source tag and changes nothing.
 */
export const SQS_TRANSIENT_ERRORS = [
  'SQS.ThrottlingException',
  'SQS.RequestThrottledException',
  'SQS.KmsThrottledException',
  'SQS.InternalErrorException',
  'SQS.ServiceUnavailableException',
  'SQS.KmsUnavailableException',
];

/**
 * Glue refusing to start a run for the job's concurrency, or throttling the call. The job queues
 * runs (`jobRunQueuingEnabled`), so these are rare; when they happen, ConvertToParquet waits and
 * tries again for long enough to drain a burst (see {@link CONVERT_RETRY}).
 */
export const GLUE_START_ERRORS = ['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException'];

/**
 * ConvertToParquet's retry of {@link GLUE_START_ERRORS}: a minute, doubling to a cap of ten, with
 * full jitter, 36 attempts. Full jitter makes each wait uniform between 0 and its cap, so the
 * expected total wait is half the sum of the caps, 2 h 47 min, and the longest the whole sum,
 * 5 h 35 min (test/infra holds both): far beyond a burst of 200 files draining through 10
 * concurrent runs of a few minutes each (about 1 h), and within the state machine's 6 hours.
 */
export const CONVERT_RETRY = {
  intervalSeconds: 60,
  backoffRate: 2,
  maxDelaySeconds: 600,
  maxAttempts: 36,
} as const;

/**
 * An account quota (DPUs, job runs): with queuing on, Glue queues runs past the concurrency
 * quotas, so what still answers this is more likely lasting (a job asking for more than the
 * account allows). Retried briefly, then the file fails and the alarm tells someone.
 */
export const GLUE_QUOTA_ERRORS = ['Glue.ResourceNumberLimitExceededException'];

/**
 * Errors on which ConvertInLambda hands its file to the Glue job instead of failing it: the
 * engine's own `ResourceLimitError` (DuckDB out of memory or temp space, /tmp full, the deadline
 * before the function's timeout), and what Lambda reports when the function dies of its limits:
 * `Sandbox.Timedout` (the timeout; Lambda's troubleshooting guide), `Runtime.OutOfMemory` (the
 * process killed for memory, as reported in nasa-gcn/gcn.nasa.gov#3628) and `Runtime.ExitError`
 * (the runtime exited, e.g. status 137: aws/aws-lambda-dotnet#480), and `Lambda.Unknown`, under
 * which Step Functions' documentation says out-of-memory errors and timeouts may arrive ("Handle
 * Lambda service exceptions"). A function short of memory may also run on to its timeout. A file
 * whose data is bad fails with `ConversionError`, which is not among them: Glue would fail it too.
 */
export const CONVERT_HANDOFF_ERRORS = [
  'ResourceLimitError',
  'Sandbox.Timedout',
  'Runtime.OutOfMemory',
  'Runtime.ExitError',
  'Lambda.Unknown',
];

/**
 * DynamoDB errors a ledger write retries (Step Functions prefixes the service's error names with
 * `DynamoDB.`). ConditionalCheckFailedException is not among them: it means the write was made
 * already or would move the item back, and the workflow goes on.
 */
export const LEDGER_TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.InternalServerErrorException',
];

/** The error a ledger write whose condition does not hold raises: a duplicate, retried or late write. */
export const LEDGER_CONDITION_FAILED = 'DynamoDB.ConditionalCheckFailedException';

/** The ingest state machine and its log group. */
export class IngestWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IngestWorkflowProps) {
    super(scope, id);
    const J = sfn.JsonPath;

    // A publish that fails (SNS or KMS throttling, a service error) is tried again: it must not
    // turn a file that is curated or rejected into a FAILED one. Step Functions cannot match
    // `SNS.*`, so any task error is retried a few times; a lasting one still ends in Catch.
    const notify = (stateId: string, status: PipelineStatus, message: Record<string, unknown>) =>
      new tasks.SnsPublish(this, stateId, {
        stateName: stateId,
        topic: props.events,
        message: sfn.TaskInput.fromObject({ status, execution: J.stringAt('$$.Execution.Id'), ...message }),
        messageAttributes: {
          dataset: { value: J.stringAt('$.dataset') },
          status: { value: status },
        },
        resultPath: J.DISCARD,
      }).addRetry({
        errors: [sfn.Errors.TASKS_FAILED],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 5,
        jitterStrategy: sfn.JitterType.FULL,
      });

    // The ledger: each step writes the file's item (lib/ledger/model.ts); RECEIVED and VALIDATED
    // before the step's notification, a terminal status after it (see below). Every write sets the status, its rank and time, and names this execution and its start;
    // WRITE_CONDITION refuses a write that would move the item back (a retried write that had
    // succeeded, a late one from an earlier attempt), and that refusal is caught as done.
    const S = tasks.DynamoAttributeValue.fromString;
    const N = (path: string) => tasks.DynamoAttributeValue.numberFromString(J.jsonToString(J.objectAt(path)));
    const uri = (ref: string) =>
      S(J.format('s3://{}/{}', J.stringAt(`${ref}.bucket`), J.stringAt(`${ref}.key`)));
    const record = (
      stateId: string,
      status: LedgerStatus,
      at: string,
      set: Record<string, tasks.DynamoAttributeValue>,
      remove: readonly string[] = [],
    ) => {
      const names: Record<string, string> = {
        ...WRITE_NAMES,
        '#execution': ATTR.execution,
        '#updatedAt': ATTR.updatedAt,
        '#receivedAt': ATTR.receivedAt,
        '#dataset': ATTR.dataset,
        '#bucket': ATTR.bucket,
        '#size': ATTR.size,
      };
      // RECEIVED's time is receivedAt, which only the first attempt sets (below).
      if (at !== ATTR.receivedAt) names['#at'] = at;
      const values: Record<string, tasks.DynamoAttributeValue> = {
        ':status': S(status),
        ':rank': tasks.DynamoAttributeValue.fromNumber(STATUS_RANK[status]),
        ':startedAt': S(J.stringAt('$$.Execution.StartTime')),
        ':execution': S(J.stringAt('$$.Execution.Name')),
        ':now': S(J.stringAt('$$.State.EnteredTime')),
        ':dataset': S(J.stringAt('$.dataset')),
        ':bucket': S(J.stringAt('$.bucket')),
        ':size': N('$.size'),
        ':curated': S('CURATED'),
        ':rejected': S('REJECTED'),
      };
      const assignments = [
        '#status = :status',
        '#rank = :rank',
        '#startedAt = :startedAt',
        '#execution = :execution',
        '#updatedAt = :now',
        ...(at === ATTR.receivedAt ? [] : ['#at = :now']),
        '#receivedAt = if_not_exists(#receivedAt, :now)',
        '#dataset = :dataset',
        '#bucket = :bucket',
        '#size = :size',
      ];
      for (const [i, [attribute, value]] of Object.entries(set).entries()) {
        names[`#a${i}`] = attribute;
        values[`:a${i}`] = value;
        assignments.push(`#a${i} = :a${i}`);
      }
      for (const [i, attribute] of remove.entries()) names[`#r${i}`] = attribute;
      const removals = remove.map((_, i) => `#r${i}`);
      const task = new tasks.DynamoUpdateItem(this, stateId, {
        stateName: stateId,
        table: props.ledger,
        key: {
          [ATTR.key]: S(J.stringAt('$.key')),
          [ATTR.version]: S(J.stringAt('$.version')),
        },
        updateExpression: `SET ${assignments.join(', ')}${removals.length ? ` REMOVE ${removals.join(', ')}` : ''}`,
        conditionExpression: WRITE_CONDITION,
        expressionAttributeNames: names,
        expressionAttributeValues: values,
        resultPath: J.DISCARD,
      });
      task.addRetry({
        errors: LEDGER_TRANSIENT_ERRORS,
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: 6,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };
    /**
     * The write is made (a condition that fails means it was, or that a later one stands): go on.
     * Added before catchAll's States.ALL, which must come last.
     */
    const onward = (task: tasks.DynamoUpdateItem, next: sfn.IChainable) => {
      task.addCatch(next, { errors: [LEDGER_CONDITION_FAILED], resultPath: J.DISCARD });
      task.next(next);
      return task;
    };

    const failed = notify(STATE.notifyFailed, 'FAILED', {
      dataset: J.stringAt('$.dataset'),
      source: { bucket: J.stringAt('$.bucket'), key: J.stringAt('$.key') },
      error: J.stringAt('$.error.Error'),
      cause: J.stringAt('$.error.Cause'),
    }).next(
      new sfn.Fail(this, STATE.failed, {
        stateName: STATE.failed,
        error: 'IngestFailed',
        causePath: '$.error.Cause',
      }),
    );

    const retryTransient = (task: sfn.TaskStateBase): void => {
      task.addRetry({
        errors: TRANSIENT_TASK_ERRORS,
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 4,
      });
    };

    // A ledger that cannot be written must not keep the failure from being told: NotifyFailed
    // goes on, and the reconciler finds the item without a terminal status.
    const recordFailed = record(STATE.recordFailed, 'FAILED', ATTR.failedAt, {
      [ATTR.reason]: S(J.stringAt('$.error.Error')),
      [ATTR.cause]: S(J.stringAt('$.error.Cause')),
    });
    recordFailed.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: J.DISCARD });
    recordFailed.next(failed);

    const catchAll = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(recordFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return task;
    };

    const validate = catchAll(
      new tasks.LambdaInvoke(this, STATE.validate, {
        stateName: STATE.validate,
        lambdaFunction: props.validate,
        payload: sfn.TaskInput.fromObject({
          request: J.entirePayload,
          executionName: J.stringAt('$$.Execution.Name'),
        }),
        payloadResponseOnly: true,
        resultPath: '$.validation',
      }),
    );
    retryTransient(validate);

    // The large-file route: the same function, given the previous slice's output as its input
    // until it answers done. Each invocation reads one slice from a checkpoint in the state.
    const validateSlice = catchAll(
      new tasks.LambdaInvoke(this, STATE.validateSlice, {
        stateName: STATE.validateSlice,
        lambdaFunction: props.validate,
        // The previous slice's output, whole, is this invocation's payload.
        inputPath: '$.validation',
        payloadResponseOnly: true,
        resultPath: '$.validation',
      }),
    );
    retryTransient(validateSlice);
    const planSlices = new sfn.Pass(this, STATE.planSlices, {
      stateName: STATE.planSlices,
      parameters: {
        request: J.entirePayload,
        executionName: J.stringAt('$$.Execution.Name'),
        slice: { bytes: props.largeFileBytes, index: 1 },
        done: false,
      },
      resultPath: '$.validation',
    });

    const convert = catchAll(
      new tasks.GlueStartJobRun(this, STATE.convert, {
        stateName: STATE.convert,
        glueJobName: props.job.jobName,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        arguments: sfn.TaskInput.fromJsonPathAt('$.validation.jobArguments'),
        // Sized per file by the Validate core (glueRunSize). Glue takes Timeout in minutes; CDK
        // passes a taskTimeout path to it as is (Timeout.$), and sets no state timeout of its own.
        workerConfiguration: {
          workerTypeV2: tasks.WorkerTypeV2.of(props.glueWorkerType),
          numberOfWorkers: sfn.JsonPath.numberAt('$.validation.conversion.glueWorkers'),
        },
        taskTimeout: sfn.Timeout.at('$.validation.conversion.glueTimeoutMinutes'),
        resultSelector: {
          id: J.stringAt('$.Id'),
          state: J.stringAt('$.JobRunState'),
          seconds: J.numberAt('$.ExecutionTime'),
          engine: 'glue',
        },
        resultPath: '$.conversion',
      }),
    );
    // Glue refuses runs past the job's or the account's concurrency: wait and try again, never
    // treat it as success.
    convert.addRetry({
      errors: GLUE_START_ERRORS,
      interval: Duration.seconds(CONVERT_RETRY.intervalSeconds),
      backoffRate: CONVERT_RETRY.backoffRate,
      maxAttempts: CONVERT_RETRY.maxAttempts,
      maxDelay: Duration.seconds(CONVERT_RETRY.maxDelaySeconds),
      jitterStrategy: sfn.JitterType.FULL,
    });
    convert.addRetry({
      errors: GLUE_QUOTA_ERRORS,
      interval: Duration.seconds(60),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: sfn.JitterType.FULL,
    });

    // A run that no size from the Validate output fits gets the configured most: a file the
    // Convert Lambda handed over after running out of memory, disk or time (it has just spent up
    // to its 15 minutes on it, so the model's size for the file is no guide), and a Validate output
    // without the plan (a function older than this definition, mid-deploy), whose missing path
    // would otherwise fail ConvertToParquet with an error no Catch takes.
    const glueAtMost = new sfn.Pass(this, STATE.sizeGlueAtMost, {
      stateName: STATE.sizeGlueAtMost,
      result: sfn.Result.fromObject({
        engine: 'glue',
        glueWorkers: props.glueMaxWorkers,
        glueTimeoutMinutes: props.glueMaxTimeoutMinutes,
      }),
      resultPath: '$.validation.conversion',
    }).next(convert);

    // The fast path: a valid file the Validate output routes to the Lambda. Its result has the
    // Glue task's shape under $.conversion; a hand-off keeps why under $.handoff.
    const choose = new sfn.Choice(this, STATE.chooseConversion, { stateName: STATE.chooseConversion });
    let convertInLambda: tasks.LambdaInvoke | undefined;
    if (props.convert) {
      convertInLambda = new tasks.LambdaInvoke(this, STATE.convertInLambda, {
        stateName: STATE.convertInLambda,
        lambdaFunction: props.convert,
        payload: sfn.TaskInput.fromObject({ arguments: J.objectAt('$.validation.jobArguments') }),
        payloadResponseOnly: true,
        resultPath: '$.conversion',
      });
      retryTransient(convertInLambda);
      convertInLambda.addCatch(glueAtMost, { errors: CONVERT_HANDOFF_ERRORS, resultPath: '$.handoff' });
      catchAll(convertInLambda);
      choose.when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.validation.conversion.engine'),
          sfn.Condition.stringEquals('$.validation.conversion.engine', 'lambda'),
        ),
        convertInLambda,
      );
    }
    // Not(IsPresent) rather than `IsPresent: false`, which means the same on AWS: the local engine
    // (aws-local-stepfunctions 3.0.0) reads `IsPresent: false` as never matching.
    const convertStart = choose
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.validation.conversion.glueWorkers')), glueAtMost)
      .otherwise(convert);

    // The converted files are appended to the dataset's Iceberg table by the Commit function:
    // one message per file, grouped by dataset (one commit of a table at a time, the datasets in
    // parallel), its task token answered when the snapshot is in. The engines named their files
    // in the commit request at `--commit-request` (bracket notation: the key has hyphens).
    const commitInput: Record<keyof CommitTaskInput, string | number> = {
      dataset: J.stringAt('$.validation.dataset'),
      runId: J.stringAt('$$.Execution.Name'),
      key: J.stringAt('$.key'),
      version: J.stringAt('$.version'),
      ingestDate: J.stringAt('$.validation.ingestDate'),
      rows: J.numberAt('$.validation.rows'),
      request: J.stringAt("$.validation.jobArguments['--commit-request']"),
      target: J.stringAt("$.validation.jobArguments['--target']"),
    };
    const commit = catchAll(
      new tasks.SqsSendMessage(this, STATE.commit, {
        stateName: STATE.commit,
        queue: props.commitQueue,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        messageBody: sfn.TaskInput.fromObject({ taskToken: J.taskToken, input: commitInput }),
        messageGroupId: J.stringAt('$.validation.dataset'),
        // One message per attempt of the state: a send SQS repeats is dropped as a duplicate, a
        // retry of the state (a new token) is not.
        messageDeduplicationId: J.format(
          '{}-{}',
          J.stringAt('$$.Execution.Name'),
          J.stringAt('$$.State.RetryCount'),
        ),
        taskTimeout: sfn.Timeout.duration(props.commitTimeout),
        resultPath: '$.commit',
      }),
    );
    commit.addRetry({
      errors: SQS_TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      jitterStrategy: sfn.JitterType.FULL,
    });

    const validated = catchAll(
      notify(STATE.notifyValidated, 'VALIDATED', {
        dataset: J.stringAt('$.validation.dataset'),
        source: J.objectAt('$.validation.source'),
        raw: J.objectAt('$.validation.raw'),
        rows: J.numberAt('$.validation.rows'),
      }),
    );
    const curated = catchAll(
      notify(STATE.notifyCurated, 'CURATED', {
        dataset: J.stringAt('$.validation.dataset'),
        rows: J.numberAt('$.validation.rows'),
        table: J.stringAt('$.commit.table'),
        snapshotId: J.stringAt('$.commit.snapshotId'),
        location: J.stringAt('$.commit.location'),
      }),
    );
    const rejected = catchAll(
      notify(STATE.notifyRejected, 'REJECTED', {
        dataset: J.stringAt('$.validation.dataset'),
        reason: J.stringAt('$.validation.reason'),
        source: J.objectAt('$.validation.source'),
        failure: J.objectAt('$.validation.failure'),
        report: J.objectAt('$.validation.report'),
        rows: J.numberAt('$.validation.rows'),
        errorCount: J.numberAt('$.validation.errorCount'),
        errors: J.listAt('$.validation.errors'),
      }),
    );

    const recordValidated = record(STATE.recordValidated, 'VALIDATED', ATTR.validatedAt, {
      [ATTR.rows]: N('$.validation.rows'),
      [ATTR.errorCount]: N('$.validation.errorCount'),
      [ATTR.raw]: uri('$.validation.raw'),
    });
    const recordRejected = record(STATE.recordRejected, 'REJECTED', ATTR.rejectedAt, {
      [ATTR.rows]: N('$.validation.rows'),
      [ATTR.errorCount]: N('$.validation.errorCount'),
      [ATTR.reason]: S(J.stringAt('$.validation.reason')),
      [ATTR.failure]: uri('$.validation.failure'),
      [ATTR.report]: uri('$.validation.report'),
    });
    const recordCurated = record(STATE.recordCurated, 'CURATED', ATTR.curatedAt, {
      [ATTR.rows]: N('$.validation.rows'),
      [ATTR.curated]: S(J.stringAt('$.commit.location')),
      [ATTR.snapshotId]: S(J.stringAt('$.commit.snapshotId')),
      [ATTR.engine]: S(J.stringAt('$.conversion.engine')),
    });
    // A later attempt (a re-drive after a failure) starts over: what the failed attempt wrote goes
    // (its failure, and what it had validated: the new attempt validates again and may reject).
    const recordReceived = record(STATE.recordReceived, 'RECEIVED', ATTR.receivedAt, {}, [
      ATTR.failedAt,
      ATTR.reason,
      ATTR.cause,
      ATTR.validatedAt,
      ATTR.rows,
      ATTR.errorCount,
      ATTR.raw,
    ]);

    const isValid = new sfn.Choice(this, STATE.isValid, { stateName: STATE.isValid });
    // Both routes go through it: a Validate that ran short of time hands over to the slices too.
    const moreSlices = new sfn.Choice(this, STATE.moreSlices, { stateName: STATE.moreSlices })
      .when(sfn.Condition.booleanEquals('$.validation.done', false), validateSlice)
      .otherwise(isValid);
    const routeBySize = new sfn.Choice(this, STATE.routeBySize, { stateName: STATE.routeBySize })
      .when(
        sfn.Condition.numberGreaterThan('$.size', props.largeFileBytes),
        planSlices.next(validateSlice).next(moreSlices),
      )
      .otherwise(validate.next(moreSlices));
    const definition = catchAll(onward(recordReceived, routeBySize));
    // A terminal status is written last, after its notification: an item CURATED or REJECTED is
    // one whose subscribers were told, so the reconciler, which takes such an item as ended, never
    // leaves a notification unsent (a run that stops before the write is run again, and notifies
    // again: at least once). VALIDATED is written before its notification, as the file's progress.
    isValid
      .when(
        sfn.Condition.booleanEquals('$.validation.valid', true),
        catchAll(onward(recordValidated, validated)),
      )
      .otherwise(rejected);
    validated.next(convertStart);
    rejected.next(
      catchAll(onward(recordRejected, new sfn.Succeed(this, STATE.rejected, { stateName: STATE.rejected }))),
    );
    // Both engines go on to the commit.
    convert.next(commit);
    convertInLambda?.next(commit);
    commit.next(curated);
    curated.next(
      catchAll(onward(recordCurated, new sfn.Succeed(this, STATE.curated, { stateName: STATE.curated }))),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const role = this.stateMachine.role;
    acknowledge(role, 'IAM5[Resource::*]', REASON_NO_RESOURCE_LEVEL);
    acknowledge(
      role,
      'IAM5[Action::kms:GenerateDataKey*]',
      'publishing to the KMS-encrypted events topic needs data keys',
    );
    for (const fn of [props.validate, ...(props.convert ? [props.convert] : [])]) {
      acknowledgeWildcardResource(
        role,
        `${fn.functionArn}:*`,
        'LambdaInvoke may call any version or alias of this one function',
      );
    }
  }
}
