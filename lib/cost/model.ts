/**
 * The cost and latency of one valid file through the pipeline on AWS, on each conversion path
 * (the Convert Lambda running DuckDB, or the Glue job), from the published prices
 * (lib/cost/prices.ts), the throughputs this repository measures, and what one execution of the
 * synthesized workflow does: the states it enters and the S3 commands its handlers send
 * ({@link PathProfile}, recorded from a run of the local runtime by bench/cost.ts).
 *
 * Pure: no I/O. Every figure not measured here is a named input below, with where it comes from.
 */
import { LAMBDA_MB_PER_VCPU, VALIDATE_VCPUS } from '../../lambdas/shared/vcpus.ts';
import { COPY_PART_BYTES, copyRanges, MAX_SINGLE_COPY_BYTES } from '../../lambdas/validate/s3-store.ts';
import { type LakeConfig, MEASURED_VALIDATE_MB_PER_S } from '../config.ts';
import { COMMIT_FUNCTION } from '../constructs/table-committer.ts';
import {
  GLUE_MB_PER_S_PER_WORKER,
  GLUE_MINIMUM_BILLED_SECONDS,
  GLUE_START_SECONDS,
  GLUE_WORKER_DPU,
  glueRunSize,
} from '../conversion/glue-sizing.ts';
import {
  CONVERT_FUNCTION,
  MEASURED_CONVERT_MB_PER_S,
  PARQUET_SHARE_OF_CSV,
  workBytes,
} from '../conversion/lambda-sizing.ts';
import { conversionSettings, planConversion } from '../conversion/plan.ts';
import { dollars, PRICES } from './prices.ts';

/** Decimal megabytes, as BENCHMARKS.md counts throughputs (MB/s). */
const MB = 1e6;
const MIB = 1024 ** 2;
/** AWS bills storage, log ingestion and Athena scans in binary units (its S3 example: 100 GB = 107,374,182,400 bytes); Lambda memory in MB / 1,024. */
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

/** The engine that converts a file. */
export type Engine = 'lambda' | 'glue';

/** A Lambda function's architecture, which sets its GB-second price. */
export type Architecture = 'arm64' | 'x86_64';

/** How long one invocation of a function takes and what it is billed at. */
export interface FunctionModel {
  readonly memoryMb: number;
  readonly architecture: Architecture;
  /** Seconds of work whatever the file's size. */
  readonly fixedSeconds: number;
  /** Throughput over the file's bytes, MB/s; absent when the work does not grow with the file. */
  readonly mbPerSecond?: number;
  /** Where memory, architecture and the figures come from. */
  readonly source: string;
}

/**
 * What one execution did for a valid file on one path, recorded from the local runtime running
 * the synthesized workflow (bench/cost.ts): nothing in it is typed in by hand.
 */
export interface PathProfile {
  readonly engine: Engine;
  /** The states entered, in order: each is one billed state transition. */
  readonly states: readonly string[];
  /** One entry per Lambda invocation by a Task state: the function's construct id. */
  readonly lambdaInvocations: readonly string[];
  /** Glue job runs started. */
  readonly glueRuns: number;
  /** SNS publishes. */
  readonly snsPublishes: number;
  /** The workflow's writes to the ingest ledger (DynamoDB UpdateItem). */
  readonly ledgerWrites: number;
  /**
   * Commit messages sent (CommitToTable: an SQS FIFO send with a task token). What the Commit
   * function then does is modelled per batch ({@link CommitModel}), not recorded.
   */
  readonly commitMessages: number;
  /** S3 commands the Task handlers sent (SDK command names without `Command`), by name. */
  readonly s3Commands: Readonly<Record<string, number>>;
  /** Size of the file the profile was recorded on. */
  readonly profiledBytes: number;
}

/** The workflow facts {@link profileFromRun} needs: each state's type and resource. */
export interface DefinitionStates {
  readonly States: Record<string, { readonly Type: string; readonly Resource?: string }>;
}

/** The local runtime names a Lambda Task's resource by this prefix and the function's construct id. */
export const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';

/**
 * A {@link PathProfile} from one execution: its states entered, the definition they belong to,
 * and the S3 commands its Task states sent.
 */
export function profileFromRun(
  engine: Engine,
  definition: DefinitionStates,
  states: readonly string[],
  s3Commands: readonly string[],
  profiledBytes: number,
): PathProfile {
  const lambdaInvocations: string[] = [];
  let glueRuns = 0;
  let snsPublishes = 0;
  let ledgerWrites = 0;
  let commitMessages = 0;
  for (const name of states) {
    const state = definition.States[name];
    if (!state) throw new Error(`state "${name}" is not in the definition`);
    const resource = state.Resource ?? '';
    if (state.Type !== 'Task') continue;
    if (resource.startsWith(LOCAL_FUNCTION_ARN))
      lambdaInvocations.push(resource.slice(LOCAL_FUNCTION_ARN.length));
    else if (resource.startsWith('arn:aws:states:::glue:startJobRun')) glueRuns += 1;
    else if (resource === 'arn:aws:states:::sns:publish') snsPublishes += 1;
    else if (resource === 'arn:aws:states:::dynamodb:updateItem') ledgerWrites += 1;
    else if (resource.startsWith('arn:aws:states:::sqs:sendMessage')) commitMessages += 1;
    else throw new Error(`state "${name}": no cost model for the resource ${resource}`);
  }
  const counts: Record<string, number> = {};
  for (const command of s3Commands) {
    const name = command.replace(/Command$/, '');
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return {
    engine,
    states: [...states],
    lambdaInvocations,
    glueRuns,
    snsPublishes,
    ledgerWrites,
    commitMessages,
    s3Commands: counts,
    profiledBytes,
  };
}

/**
 * What the Commit function does for one batch of commit messages (one invocation, one snapshot),
 * and for each file in it. The requests are those of a commit of one file as test/iam/iceberg-calls.test.ts
 * records it (the Iceberg core over s3rver and its Glue adapter): without a conflict S3 GET 3,
 * HEAD 1, PUT 3 and Glue GetTable 2, UpdateTable 1, on an empty table (a swap lost to another
 * committer costs its attempt again, and a DeleteObjects of its files: not modelled, rare behind
 * the FIFO queue). On a table with snapshots the append also reads the current manifest list:
 * one GET more a batch.
 */
export interface CommitModel {
  /** Files that share one invocation and one snapshot: 1 for a lone file (the upper bound), up to 10. */
  readonly filesPerBatch: number;
  /** GET/HEAD a file: its commit request, and its footer (a HEAD for the size and a ranged GET). */
  readonly s3GetPerFile: number;
  /** GET a batch: the current metadata JSON and the current manifest list. */
  readonly s3GetPerBatch: number;
  /** PUT a batch: the manifest, the manifest list, the metadata JSON. */
  readonly s3PutPerBatch: number;
  /** Glue Data Catalog requests a batch: GetTable to load, GetTable to check, UpdateTable to swap. */
  readonly catalogRequestsPerBatch: number;
  /** SQS FIFO requests a file: CommitToTable's SendMessage (a body far under 64 KB). */
  readonly sqsPerFile: number;
  /** SQS FIFO requests a batch: the poller's ReceiveMessage and its DeleteMessageBatch. */
  readonly sqsPerBatch: number;
}

/** The Commit function's construct id, as the cost inputs name it. */
export const COMMIT_FUNCTION_ID = 'Commit';

/** The Convert Lambda's construct id, as the cost inputs name it. */
export const CONVERT_FUNCTION_ID = 'Convert';

/** Everything the model assumes beyond the prices and the profiles. */
export interface ModelInputs {
  /** By construct id; `Trigger` runs once per file outside the workflow. */
  readonly functions: Readonly<Record<string, FunctionModel>>;
  /** Seconds a function's first invocation in a new environment adds (billed: init is billed). */
  readonly coldStartSeconds: Readonly<Record<string, number>>;
  /** Curated Parquet bytes / CSV bytes. */
  readonly parquetRatio: number;
  /** Bytes a one-column query reads / Parquet bytes (the Athena figure). */
  readonly oneColumnReadRatio: number;
  /** S3's server-side copy into raw, MB/s (inside Validate's time). */
  readonly rawCopyMbPerSecond: number;
  /** Seconds from the PUT into landing to the trigger's invocation (S3 event delivery). */
  readonly eventDelaySeconds: number;
  /** Seconds Step Functions adds per state entered (its own scheduling). */
  readonly secondsPerTransition: number;
  /** What a commit costs, per file and per batch of files (the Commit function's invocation). */
  readonly commit: CommitModel;
  /** KMS requests per SNS publish to the KMS-encrypted events topic. */
  readonly kmsRequestsPerPublish: number;
  /**
   * Write request units one ledger write costs: the item (under 1 KB) and both indexes, which
   * project every attribute; a write that changes the status moves the item in the by-status
   * index, a delete and a put there (DynamoDB bills index writes like table writes).
   */
  readonly ledgerUnitsPerWrite: number;
  /** CloudWatch Logs bytes per state entered (the workflow logs ALL, with execution data). */
  readonly logBytesPerState: number;
  /** CloudWatch Logs bytes per Lambda invocation (START/END/REPORT and the handler's lines). */
  readonly logBytesPerInvocation: number;
  /** Days a landed file stays in landing before its lifecycle rule expires it. */
  readonly landingDays: number;
  /** Part size lib-storage's Upload uses for the Parquet upload (its minimum, 5 MiB). */
  readonly uploadPartBytes: number;
  /** Lambda's limits, for whether the fast path can take a file at all. */
  readonly lambdaMaxSeconds: number;
  readonly lambdaMaxTmpBytes: number;
}

/** Validate's memory, MB: the vCPUs it is sized for (lambdas/shared/vcpus.ts, the stack's sizing). */
export const VALIDATE_MEMORY_MB = VALIDATE_VCPUS * LAMBDA_MB_PER_VCPU;

/** Curated Parquet bytes / CSV bytes on the orders file: 20.6% (BENCHMARKS.md, bench/conversion.ts). */
export const MEASURED_PARQUET_RATIO = 0.206;

/** Bytes `SELECT sum(amount)` reads / Parquet file bytes: 12.0% (BENCHMARKS.md, bench/conversion.ts). */
export const MEASURED_ONE_COLUMN_READ_RATIO = 0.12;

/** The inputs `npm run cost` uses; each assumption says so. */
export const DEFAULT_INPUTS: ModelInputs = {
  functions: {
    Trigger: {
      memoryMb: 256,
      architecture: 'arm64',
      fixedSeconds: 0.1,
      source: 'memory and arm64 from lib/stacks/pipeline-stack.ts; 0.1 s for one StartExecution: assumed',
    },
    Validate: {
      memoryMb: VALIDATE_MEMORY_MB,
      architecture: 'arm64',
      fixedSeconds: 0.2,
      mbPerSecond: MEASURED_VALIDATE_MB_PER_S,
      source: `validator ${MEASURED_VALIDATE_MB_PER_S} MB/s, its one-thread speed (lib/config.ts MEASURED_VALIDATE_MB_PER_S, npm run bench), on ${VALIDATE_VCPUS} vCPUs: a file of 16 MiB or more is validated on both, so this overstates its time and cost by up to the measured speed-up; 0.2 s of requests: assumed`,
    },
    [CONVERT_FUNCTION_ID]: {
      memoryMb: CONVERT_FUNCTION.memoryMb,
      architecture: 'x86_64',
      fixedSeconds: 0.2,
      mbPerSecond: MEASURED_CONVERT_MB_PER_S,
      source: `the Convert handler's bundle ${MEASURED_CONVERT_MB_PER_S} MB/s through a local S3 server on 2 cores (lib/conversion/lambda-sizing.ts MEASURED_CONVERT_MB_PER_S, npm run bench; the function has 6 vCPUs, so this is conservative); ${CONVERT_FUNCTION.memoryMb} MB x86_64 as deployed`,
    },
    [COMMIT_FUNCTION_ID]: {
      memoryMb: COMMIT_FUNCTION.memoryMb,
      architecture: 'arm64',
      fixedSeconds: 0.5,
      source: `memory and arm64 from lib/constructs/table-committer.ts; 0.5 s a batch for about ten S3 requests and three Glue calls: assumed, not measured on AWS`,
    },
  },
  coldStartSeconds: { Trigger: 0.5, Validate: 0.5, [CONVERT_FUNCTION_ID]: 1.5, [COMMIT_FUNCTION_ID]: 0.5 },
  parquetRatio: MEASURED_PARQUET_RATIO,
  oneColumnReadRatio: MEASURED_ONE_COLUMN_READ_RATIO,
  rawCopyMbPerSecond: 200,
  eventDelaySeconds: 1,
  secondsPerTransition: 0.05,
  commit: {
    filesPerBatch: 1,
    s3GetPerFile: 3,
    s3GetPerBatch: 2,
    s3PutPerBatch: 3,
    catalogRequestsPerBatch: 3,
    sqsPerFile: 1,
    sqsPerBatch: 2,
  },
  kmsRequestsPerPublish: 1,
  ledgerUnitsPerWrite: 4,
  logBytesPerState: 2_000,
  logBytesPerInvocation: 1_000,
  landingDays: 30,
  uploadPartBytes: 5 * MIB,
  lambdaMaxSeconds: CONVERT_FUNCTION.timeoutMinutes * 60,
  lambdaMaxTmpBytes: workBytes(CONVERT_FUNCTION),
};

/** {@link DEFAULT_INPUTS} for a configuration: the Convert function at its configured instruction set. */
export function inputsFor(config: Pick<LakeConfig, 'convertArchitecture'>): ModelInputs {
  const convert = DEFAULT_INPUTS.functions[CONVERT_FUNCTION_ID]!;
  return {
    ...DEFAULT_INPUTS,
    functions: {
      ...DEFAULT_INPUTS.functions,
      [CONVERT_FUNCTION_ID]: {
        ...convert,
        architecture: config.convertArchitecture,
        source: convert.source.replace(/x86_64 as deployed$/, `${config.convertArchitecture} as configured`),
      },
    },
  };
}

/** The assumptions behind {@link DEFAULT_INPUTS} that are not in a function's `source`, for the report. */
export const ASSUMPTIONS: readonly {
  readonly figure: string;
  readonly value: string;
  readonly why: string;
}[] = [
  {
    figure: 'Lambda cold start',
    value: '0.5 s (Node functions), 1.5 s (Convert, DuckDB)',
    why: 'assumed: every invocation cold (a lone file), so time and bill are upper bounds; the bundles import in 0.17–0.27 s on this machine (BENCHMARKS.md "Lambda bundles"), DuckDB loads a 68 MB native library',
  },
  {
    figure: 'S3 event delivery',
    value: '1 s',
    why: 'assumed: S3 delivers most events within seconds; not billed',
  },
  {
    figure: 'state transitions',
    value: 'the states entered in the recorded run',
    why: 'Step Functions bills a transition each time a step runs; a retry is one more (none modelled: a file that meets throttling costs a little more)',
  },
  {
    figure: 'S3 requests on the Glue path',
    value: "the local twin's commands",
    why: "the local runtime runs the Glue job's DuckDB twin under the same contract (read, staged upload, copy to the final name, list, delete); Spark's ranged reads and several output files add a few requests a file (well under $0.0001)",
  },
  {
    figure: 'commit',
    value: 'one Commit invocation and one snapshot a batch; 1 file a batch unless said',
    why: "the commit queue hands the Commit function up to 10 messages of one dataset at a time (lib/constructs/table-committer.ts); a lone file has its batch to itself, so its share is the upper bound; S3 and Glue requests a commit makes recorded in test/iam/iceberg-calls.test.ts; the S3 requests of the local commit are left out of the recorded profile (bench/cost.ts) so they are not counted twice; empty receives of the idle queue's long polling are not modelled (a fixed few a minute, not per file)",
  },
  {
    figure: 'Step Functions per state',
    value: '0.05 s',
    why: 'assumed scheduling overhead per state entered; a Glue .sync wait adds its polling delay (not modelled)',
  },
  {
    figure: 'raw copy',
    value: '200 MB/s',
    why: 'assumed speed of S3 server-side CopyObject (multipart above 5 GiB), inside Validate',
  },
  {
    figure: 'Parquet / CSV bytes',
    value: `${(MEASURED_PARQUET_RATIO * 100).toFixed(1)}%`,
    why: 'measured on the orders file (BENCHMARKS.md "CSV → Parquet")',
  },
  {
    figure: 'one-column query reads',
    value: `${(MEASURED_ONE_COLUMN_READ_RATIO * 100).toFixed(1)}% of the Parquet`,
    why: 'measured: SELECT sum(amount) (BENCHMARKS.md "CSV → Parquet"); Athena bills at least 10 MB',
  },
  {
    figure: 'Glue throughput',
    value: `${GLUE_MB_PER_S_PER_WORKER} MB/s per worker, ${GLUE_START_SECONDS} s start-up, ${GLUE_MINIMUM_BILLED_SECONDS} s minimum`,
    why: "lib/conversion/glue-sizing.ts (the Glue model; nothing Glue runs here); workers per run from glueRunSize(), the file taken as splittable (no record spans lines); the .sync wait adds Step Functions' polling delay (not modelled)",
  },
  {
    figure: 'KMS requests',
    value: '0 per S3 request, 1 per SNS publish',
    why: 'the zone buckets use S3 Bucket Keys (lib/constructs/lake-buckets.ts): S3 asks KMS for a bucket-level key and reuses it, not once per object; the events topic is KMS-encrypted: 1 GenerateDataKey per publish is an upper bound, not verified here',
  },
  {
    figure: 'CloudWatch Logs',
    value: '2 KB per state entered, 1 KB per Lambda invocation',
    why: 'assumed: the workflow logs every state with its data (LogLevel.ALL); Lambda writes START/END/REPORT and a few handler lines',
  },
  {
    figure: 'storage',
    value: 'landing 30 days, raw and curated kept',
    why: 'landingExpiryDays default (lib/config.ts); a month is 30 days',
  },
];

/** One priced line of a file's bill. */
export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** S3 requests by price class. */
export interface S3Requests {
  readonly putClass: number;
  readonly getClass: number;
  /** DELETE and abort: free. */
  readonly free: number;
}

/** The cost and time of one file on one path. */
export interface FileEstimate {
  readonly bytes: number;
  readonly engine: Engine;
  /** False when the fast path cannot take the file (Lambda's 15 minutes or /tmp). */
  readonly fits: boolean;
  readonly reason?: string;
  /** Ingest: everything from the landing event to the file's rows committed to its table. */
  readonly lines: readonly CostLine[];
  readonly ingestUsd: number;
  /** Storage of the file's data for one month (landing, raw, curated). */
  readonly storageUsdPerMonth: number;
  /** One Athena query reading one column of the file's Parquet. */
  readonly queryUsd: number;
  /** Drop → queryable, seconds, and where it goes. */
  readonly seconds: number;
  readonly timeline: readonly { readonly step: string; readonly seconds: number }[];
  readonly s3: S3Requests;
  readonly transitions: number;
  readonly glue?: { readonly workers: number; readonly runSeconds: number; readonly billedSeconds: number };
}

/** S3 commands by price class (S3 bills DELETE and abort nothing; HEAD as a GET). */
const PUT_CLASS = new Set([
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'ListObjectsV2',
  'ListObjects',
  'ListObjectVersions',
]);
const FREE = new Set(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload']);

/** Classifies counted S3 commands into S3's price classes. */
export function classifyS3(commands: Readonly<Record<string, number>>): S3Requests {
  let putClass = 0;
  let getClass = 0;
  let free = 0;
  for (const [name, count] of Object.entries(commands)) {
    if (PUT_CLASS.has(name)) putClass += count;
    else if (FREE.has(name)) free += count;
    else getClass += count;
  }
  return { putClass, getClass, free };
}

/** PUT-class requests lib-storage's Upload makes for `bytes`: one PutObject, or create + parts + complete. */
export function uploadRequests(bytes: number, partBytes: number): number {
  return bytes <= partBytes ? 1 : Math.ceil(bytes / partBytes) + 2;
}

/**
 * The S3 requests for a file of `bytes`: the profile's (recorded on a small file), with the
 * requests that grow with size added: the Parquet's multipart upload, and the copy into raw
 * above CopyObject's 5 GiB (a HEAD, create, one UploadPartCopy per part, complete).
 */
export function s3RequestsFor(profile: PathProfile, bytes: number, inputs: ModelInputs): S3Requests {
  const base = classifyS3(profile.s3Commands);
  const parquet = bytes * inputs.parquetRatio;
  const profiledParquet = profile.profiledBytes * inputs.parquetRatio;
  let putClass =
    base.putClass +
    uploadRequests(parquet, inputs.uploadPartBytes) -
    uploadRequests(profiledParquet, inputs.uploadPartBytes);
  let getClass = base.getClass;
  if (bytes > MAX_SINGLE_COPY_BYTES && profile.profiledBytes <= MAX_SINGLE_COPY_BYTES) {
    putClass += copyRanges(bytes, COPY_PART_BYTES).length + 2 - 1;
    getClass += 1;
  }
  return { putClass, getClass, free: base.free };
}

/** `requests` with the commit's own added: per file, and its batch's share of the batch's. */
export function commitS3(requests: S3Requests, profile: PathProfile, inputs: ModelInputs): S3Requests {
  const c = inputs.commit;
  const batches = profile.commitMessages / c.filesPerBatch;
  return {
    putClass: requests.putClass + batches * c.s3PutPerBatch,
    getClass: requests.getClass + profile.commitMessages * c.s3GetPerFile + batches * c.s3GetPerBatch,
    free: requests.free,
  };
}

/** Seconds one invocation of `fn` takes on `bytes` (cold). */
export function invocationSeconds(id: string, bytes: number, inputs: ModelInputs): number {
  const fn = functionModel(id, inputs);
  const work = fn.mbPerSecond ? bytes / (fn.mbPerSecond * MB) : 0;
  return (inputs.coldStartSeconds[id] ?? 0) + fn.fixedSeconds + work;
}

function functionModel(id: string, inputs: ModelInputs): FunctionModel {
  const fn = inputs.functions[id];
  if (!fn)
    throw new Error(
      `no cost model for the Lambda function "${id}" (known: ${Object.keys(inputs.functions).join(', ')})`,
    );
  return fn;
}

/** Seconds Glue bills for a run of `runSeconds`: per second, at least a minute (Glue 2.0 and later). */
export function glueBilledSeconds(runSeconds: number): number {
  return Math.max(GLUE_MINIMUM_BILLED_SECONDS, Math.ceil(runSeconds));
}

/**
 * The Glue run for `bytes`: workers and modelled seconds from glueRunSize() (the workflow's own
 * sizing), billed with the 1-minute minimum. The file is taken as splittable (no record spans lines).
 */
export function glueRun(
  bytes: number,
  config: Pick<LakeConfig, 'glueWorkers' | 'glueTimeoutMinutes' | 'glueWorkerType'>,
): { workers: number; runSeconds: number; billedSeconds: number } {
  const { workers, modelledSeconds: runSeconds } = glueRunSize(bytes, {
    workerType: config.glueWorkerType,
    maxWorkers: config.glueWorkers,
    maxTimeoutMinutes: config.glueTimeoutMinutes,
  });
  return { workers, runSeconds, billedSeconds: glueBilledSeconds(runSeconds) };
}

/** The engine the router picks for a plain file of `bytes` under `config` (the workflow's own plan). */
export function routedEngine(
  bytes: number,
  config: Pick<
    LakeConfig,
    'conversion' | 'fastPathMaxBytes' | 'glueWorkerType' | 'glueWorkers' | 'glueTimeoutMinutes'
  >,
): Engine {
  return planConversion(
    { bytes, csvBytes: bytes, compressed: false, recordSpansLines: false },
    conversionSettings(config),
  ).engine;
}

/** The part of the configuration the model reads. */
export type CostConfig = Pick<
  LakeConfig,
  | 'glueWorkers'
  | 'glueTimeoutMinutes'
  | 'glueWorkerType'
  | 'conversion'
  | 'fastPathMaxBytes'
  | 'largeFileBytes'
>;

/** The cost and drop → queryable time of one valid file of `bytes` on the path `profile` recorded. */
export function estimateFile(
  bytes: number,
  profile: PathProfile,
  config: CostConfig,
  inputs: ModelInputs = DEFAULT_INPUTS,
): FileEstimate {
  if (bytes > config.largeFileBytes)
    throw new Error(
      `${bytes} bytes is above largeFileBytes (${config.largeFileBytes}): the sliced route is not modelled`,
    );
  const lines: CostLine[] = [];
  const timeline: { step: string; seconds: number }[] = [];
  const add = (item: string, quantity: number, unit: string, usd: number) =>
    lines.push({ item, quantity, unit, usd });

  timeline.push({ step: 'S3 event', seconds: inputs.eventDelaySeconds });
  const invocations = ['Trigger', ...profile.lambdaInvocations];
  let requests = invocations.length;
  let fits = true;
  let reason: string | undefined;
  for (const id of invocations) {
    const fn = functionModel(id, inputs);
    const seconds =
      invocationSeconds(id, bytes, inputs) +
      (id === 'Validate' ? bytes / (inputs.rawCopyMbPerSecond * MB) : 0);
    const gbSeconds = (fn.memoryMb / 1024) * seconds;
    const price = fn.architecture === 'arm64' ? PRICES.lambdaGbSecondArm : PRICES.lambdaGbSecondX86;
    add(`Lambda ${id} (${fn.memoryMb} MB ${fn.architecture})`, gbSeconds, 'GB-s', dollars(price, gbSeconds));
    timeline.push({ step: id, seconds });
    if (seconds > inputs.lambdaMaxSeconds) {
      fits = false;
      reason = `${id} would run ${Math.round(seconds)} s, over Lambda's ${inputs.lambdaMaxSeconds} s`;
    }
  }
  if (profile.commitMessages > 0) {
    // The Commit function's invocation, shared by the files of its batch (its work is per batch).
    const share = profile.commitMessages / inputs.commit.filesPerBatch;
    const fn = functionModel(COMMIT_FUNCTION_ID, inputs);
    const seconds = invocationSeconds(COMMIT_FUNCTION_ID, 0, inputs);
    const gbSeconds = (fn.memoryMb / 1024) * seconds * share;
    const price = fn.architecture === 'arm64' ? PRICES.lambdaGbSecondArm : PRICES.lambdaGbSecondX86;
    add(
      `Lambda ${COMMIT_FUNCTION_ID} (${fn.memoryMb} MB ${fn.architecture}, a batch's share)`,
      gbSeconds,
      'GB-s',
      dollars(price, gbSeconds),
    );
    timeline.push({ step: COMMIT_FUNCTION_ID, seconds });
    requests += share;
  }
  add('Lambda requests', requests, 'requests', dollars(PRICES.lambdaRequests, requests));
  if (profile.engine === 'lambda') {
    // As the engine refuses a source (csv-to-parquet.ts): room for it and a Parquet of up to
    // PARQUET_SHARE_OF_CSV its size, not the measured share, since a file of random text may not shrink.
    const tmp = bytes * (1 + PARQUET_SHARE_OF_CSV);
    if (tmp > inputs.lambdaMaxTmpBytes) {
      fits = false;
      reason = `the CSV and room for its Parquet need ${(tmp / GIB).toFixed(1)} GiB of /tmp, over the function's ${(inputs.lambdaMaxTmpBytes / GIB).toFixed(1)} GiB for them`;
    }
  }

  let glue: FileEstimate['glue'];
  if (profile.glueRuns > 0) {
    const run = glueRun(bytes, config);
    glue = run;
    const dpuHours =
      (profile.glueRuns * run.workers * GLUE_WORKER_DPU[config.glueWorkerType] * run.billedSeconds) / 3600;
    add(
      `Glue job (${run.workers} × ${config.glueWorkerType}, ${run.billedSeconds} s billed)`,
      dpuHours,
      'DPU-hours',
      dollars(PRICES.glueDpuHour, dpuHours),
    );
    timeline.push({ step: 'Glue start-up', seconds: GLUE_START_SECONDS });
    timeline.push({ step: 'Glue run', seconds: run.runSeconds });
  }

  const transitions = profile.states.length;
  add('Step Functions', transitions, 'transitions', dollars(PRICES.stepFunctionsTransitions, transitions));
  timeline.push({ step: 'Step Functions', seconds: transitions * inputs.secondsPerTransition });

  const s3 = commitS3(s3RequestsFor(profile, bytes, inputs), profile, inputs);
  add('S3 PUT/COPY/POST/LIST', s3.putClass, 'requests', dollars(PRICES.s3PutCopyPostList, s3.putClass));
  add('S3 GET/HEAD', s3.getClass, 'requests', dollars(PRICES.s3Get, s3.getClass));
  const c = inputs.commit;
  const batches = profile.commitMessages / c.filesPerBatch;
  const catalog = batches * c.catalogRequestsPerBatch;
  add('Glue Data Catalog', catalog, 'requests', dollars(PRICES.glueCatalogRequests, catalog));
  const sqs = profile.commitMessages * c.sqsPerFile + batches * c.sqsPerBatch;
  add('SQS FIFO (commit queue)', sqs, 'requests', dollars(PRICES.sqsFifoRequests, sqs));
  add('SNS', profile.snsPublishes, 'publishes', dollars(PRICES.snsPublishes, profile.snsPublishes));
  const ledgerUnits = profile.ledgerWrites * inputs.ledgerUnitsPerWrite;
  add(
    'DynamoDB (ledger)',
    ledgerUnits,
    'write request units',
    dollars(PRICES.dynamodbWriteRequestUnits, ledgerUnits),
  );
  const kms = profile.snsPublishes * inputs.kmsRequestsPerPublish;
  add('KMS', kms, 'requests', dollars(PRICES.kmsRequests, kms));
  const logGb =
    (transitions * inputs.logBytesPerState + invocations.length * inputs.logBytesPerInvocation) / GIB;
  add('CloudWatch Logs', logGb, 'GB', dollars(PRICES.cloudWatchLogsIngestedGb, logGb));

  const parquet = bytes * inputs.parquetRatio;
  const storedGbMonth = (bytes * (inputs.landingDays / 30) + bytes + parquet) / GIB;
  // Rounded up to the MB, at least 10 MB a query.
  const scanned = Math.max(10 * MIB, Math.ceil((parquet * inputs.oneColumnReadRatio) / MIB) * MIB);

  return {
    bytes,
    engine: profile.engine,
    fits,
    ...(reason === undefined ? {} : { reason }),
    lines,
    ingestUsd: lines.reduce((sum, l) => sum + l.usd, 0),
    storageUsdPerMonth: dollars(PRICES.s3StandardGbMonth, storedGbMonth),
    queryUsd: dollars(PRICES.athenaTbScanned, scanned / TIB),
    seconds: timeline.reduce((sum, t) => sum + t.seconds, 0),
    timeline,
    s3,
    transitions,
    ...(glue === undefined ? {} : { glue }),
  };
}

/** What `files` files a day of one size cost: a day of ingest, a month (30 days) of ingest and storage. */
export interface DailyEstimate {
  readonly filesPerDay: number;
  readonly usdPerDay: number;
  /** 30 days of ingest, plus a month of storage for those 30 days' files. */
  readonly usdPerMonth: number;
}

/** A day and a month of `filesPerDay` files like `file`. */
export function daily(file: FileEstimate, filesPerDay: number): DailyEstimate {
  const usdPerDay = file.ingestUsd * filesPerDay;
  return {
    filesPerDay,
    usdPerDay,
    usdPerMonth: usdPerDay * 30 + file.storageUsdPerMonth * filesPerDay * 30,
  };
}
