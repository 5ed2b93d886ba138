/**
 * The contract between the trigger, the workflow and its Lambda tasks: execution input, task
 * inputs and outputs, and the environment each handler reads. The CDK workflow (JSONPath only)
 * and the local runtime both build on these shapes, so they live in one place.
 */
import type { ConversionPlan } from '../../lib/conversion/plan.ts';
import type { ValidationCheckpoint } from '../../lib/validation/csv-validator.ts';

/** An S3 object, pinned to one version where the bucket is versioned. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
}

/**
 * The canonical workflow input the trigger starts an execution with. No event time and nothing
 * else that varies between deliveries: a re-delivered event yields the identical input, so a
 * duplicate StartExecution is recognised (ExecutionAlreadyExists) instead of running twice.
 */
export interface IngestRequest extends ObjectRef {
  /** The S3 version id, or null when the landing bucket is not versioned. */
  readonly versionId: string | null;
  /** The object's ETag without quotes; pins the read (If-Match) when there is no version id. */
  readonly etag: string | null;
  /** Object size in bytes, as the event reported it. */
  readonly size: number;
  /**
   * The object version as the ledger names it (the sort key of its item): the version id, or
   * `etag:<ETag>` where the bucket keeps no versions (`ledgerVersion`).
   */
  readonly version: string;
  /**
   * First path segment of the key: the dataset the producer meant (may be unknown), or
   * `NO_DATASET` for a key without one. Never empty: it is an SNS message attribute.
   */
  readonly dataset: string;
}

/** The dataset of a key that has no folder; not an identifier, so no declared dataset has it. */
export const NO_DATASET = 'no-dataset';

/** What the Validate task receives: the execution input and the execution's name. */
export interface ValidateTaskInput {
  readonly request: IngestRequest;
  /** `$$.Execution.Name`, passed to the Glue job as `--run-id`. */
  readonly executionName: string;
  /** Set on the large-file route: the file is validated in slices, one invocation each. */
  readonly slice?: SliceState;
}

/**
 * The large-file route's progress, carried in the state from one ValidateSlice invocation to the
 * next (the checkpoint is as small as the header is wide).
 */
export interface SliceState {
  /** Bytes one invocation validates: the workflow's large-file threshold. */
  readonly bytes: number;
  /** 1-based number of the slice to validate. */
  readonly index: number;
  /** Where the previous slice stopped; absent for the first. */
  readonly resume?: ValidationCheckpoint;
  /** Slices that found errors: each wrote its part of the complete error list. */
  readonly errorSlices?: readonly number[];
  /** The first errors found (at most `STATE_ERRORS`), for the report and the notification. */
  readonly preview?: readonly ReportedError[];
}

/** What a ValidateSlice invocation returns when the file is not finished: the next one's input. */
export interface SliceProgress extends ValidateTaskInput {
  readonly done: false;
  readonly slice: SliceState;
  /** Bytes validated so far (uncompressed). */
  readonly bytes: number;
  readonly rows: number;
  readonly errorCount: number;
}

/** One error as carried in the state (a few at most: the full report is in S3). */
export interface ReportedError {
  readonly line: number;
  readonly column: string | null;
  readonly value: string | null;
  readonly rule: string;
  readonly message: string;
}

/** Why a file was rejected when it never reached the row checks. */
export type RejectReason = 'invalid_rows' | 'unknown_dataset' | 'not_csv' | 'too_large';

/** What the Validate task returns: small whatever the file, far below the 256 KB state limit. */
export interface ValidateTaskOutput {
  readonly valid: boolean;
  readonly dataset: string;
  /** `YYYY-MM-DD`: the UTC date of the landed object version's LastModified (stable across re-runs). */
  readonly ingestDate: string;
  readonly rows: number;
  readonly bytes: number;
  readonly errorCount: number;
  /** The first few errors (at most `STATE_ERRORS`). */
  readonly errors: ReportedError[];
  readonly source: IngestRequest;
  /** Set when valid: the copy in the raw zone. */
  readonly raw: ObjectRef | null;
  /** Set when rejected: the copy in the failure zone and its `.errors.json` report beside it. */
  readonly failure: ObjectRef | null;
  readonly report: ObjectRef | null;
  /** Set when rejected. */
  readonly reason: RejectReason | null;
  /**
   * Set when valid: the Glue job's arguments, complete (JSONPath cannot merge maps, so the
   * workflow passes this object as `Arguments` unchanged). Every value is a string, as Glue wants.
   */
  readonly jobArguments: GlueJobArguments | null;
  /** Set when valid: which engine converts the file, and the Glue run's size should it go to Glue. */
  readonly conversion: ConversionPlan | null;
  /** The verdict is in: the workflow's slice loop (MoreSlices) ends. */
  readonly done: true;
  /**
   * The table version the file lands in (the declaration's `version`; 1 for a rejected file), for
   * whoever reads the execution; the CommitToTable step takes the table from `--target`.
   */
  readonly tableVersion: number;
}

/** The CSV→Parquet job's arguments (the job contract of glue-scripts/README.md). */
export interface GlueJobArguments {
  readonly '--dataset': string;
  /** `s3://raw-bucket/<dataset>/ingest_date=…/<file>` */
  readonly '--source': string;
  /**
   * The day's folder of the dataset's Iceberg table, `s3://curated-bucket/<dataset>/iceberg/data/ingest_date=…/`
   * (lib/iceberg/layout.ts `partitionPrefix`): data files are written under it at unique names, never overwritten.
   */
  readonly '--target': string;
  /** `YYYY-MM-DD`: the value of the `ingest_date` column (field id 1) of every row written. */
  readonly '--ingest-date': string;
  /** Where the engine puts its {@link CommitRequestFile} after its last data file (`commitRequestUri`). */
  readonly '--commit-request': string;
  /**
   * The Spark schema JSON derived from the dataset declaration (lib/datasets/derive.ts
   * `sparkSchema`): every column, retired ones included, with `metadata.header`, `aliases`,
   * `optional`, `retired` and the field id; then the lineage fields, whose `metadata.lineage`
   * (`source_key`, `source_version`, `ingested_at`) names the argument that fills them.
   */
  readonly '--schema': string;
  /** The landed object's key: the `_source_key` of every row. */
  readonly '--source-key'?: string;
  /** The landed object's version as the ledger names it: the `_source_version` of every row. */
  readonly '--source-version'?: string;
  /** When S3 received the landed object (its LastModified, ISO 8601 UTC): the `_ingested_at` of every row. */
  readonly '--ingested-at'?: string;
  readonly '--expected-rows': string;
  readonly '--run-id': string;
  /** The dataset's CSV delimiter (one character). */
  readonly '--delimiter': string;
  /** The dataset's CSV quote character (one character; it is also the escape: `''` inside quotes). */
  readonly '--quote': string;
  /**
   * `true` when some record holds a line break in a quoted value (the validator's
   * `recordSpansLines`): Spark must read the file whole. `false` lets it split the read across
   * tasks. Absent means `true`.
   */
  readonly '--multiline'?: string;
}

/** What the ConvertInLambda task receives: the Glue job's arguments, unchanged (one contract for both engines). */
export interface ConvertTaskInput {
  readonly arguments: GlueJobArguments;
}

/**
 * What the ConvertInLambda task returns into `$.conversion`: the fields the Glue task's result
 * selector keeps (`id`, `state`, `seconds`), and the engine.
 */
export interface ConvertTaskOutput {
  /** The Lambda request id (locally, the execution's). */
  readonly id: string;
  readonly state: 'SUCCEEDED';
  readonly seconds: number;
  readonly engine: 'lambda';
  readonly rows: number;
  /** The data files written, `s3://bucket/key` (one today): the files its commit request names. */
  readonly outputs: string[];
}

/**
 * What an engine (the Glue job or the DuckDB engine) writes at `--commit-request`
 * (lib/iceberg/layout.ts `commitRequestUri`) once its data files are all written: the files the
 * CommitToTable step appends. A Glue `.sync` task returns only its JobRun, so the files are named
 * here, the same way for both engines.
 */
export interface CommitRequestFile {
  readonly version: 1;
  readonly dataset: string;
  readonly runId: string;
  /** The raw object converted, `s3://bucket/key`. */
  readonly source: string;
  /** `YYYY-MM-DD`, the value of every row's `ingest_date`. */
  readonly ingestDate: string;
  /** Rows written, all files together. */
  readonly rows: number;
  /** Every data file written, at its final, unique path. */
  readonly files: readonly { readonly path: string; readonly rows: number; readonly bytes: number }[];
}

/**
 * What the CommitToTable step hands the committer (the SQS message body's `input`; locally the
 * in-process queue's item): one converted file's data files to append to its dataset's table.
 */
export interface CommitTaskInput {
  readonly dataset: string;
  /** The execution name (the engines' `--run-id`). */
  readonly runId: string;
  /** The landed object: with `version`, the idempotency tag of the append (`sourceTag`). */
  readonly key: string;
  readonly version: string;
  readonly ingestDate: string;
  /** Rows the validator counted: the data files must hold exactly these. */
  readonly rows: number;
  /** `s3://…/_commits/<dataset>/<run-id>.json`, a {@link CommitRequestFile}. */
  readonly request: string;
  /**
   * The engines' `--target`: the day's folder of the table version the run validated against,
   * which names the table to commit to (lib/iceberg/layout.ts `targetTableVersion`). Absent (a
   * message queued before issue 16) means version 1. Taken from the job arguments rather than a
   * field of its own because every Validate output since issue 15 has them: an execution on a new
   * definition with a Validate function from before it still finds the path.
   */
  readonly target?: string;
}

/** What the CommitToTable step returns into `$.commit` (SendTaskSuccess's output on AWS). */
export interface CommitTaskOutput {
  /** `<database>.<table>`. */
  readonly table: string;
  /** The snapshot that holds the file's rows, as a decimal string (a 64-bit id). */
  readonly snapshotId: string;
  readonly sequenceNumber: number;
  readonly metadataLocation: string;
  /** The day's data folder, `s3://…/<dataset>/iceberg/data/ingest_date=D/`. */
  readonly location: string;
  readonly files: number;
  readonly rows: number;
  /** `exists` when an earlier commit had appended this object version already (a re-run). */
  readonly status: 'committed' | 'exists';
}

/** Errors carried in the workflow state: enough to act on, small enough for any file. */
export const STATE_ERRORS = 5;
/**
 * Errors previewed in the `.errors.json` report in the failure zone; every error is in the
 * `.errors.jsonl` list beside it, however many there are.
 */
export const REPORT_ERRORS = 100;

/** Environment variables, by handler. Handlers read them once, at module scope. */
export const ENV = {
  trigger: { stateMachineArn: 'STATE_MACHINE_ARN' },
  validate: {
    rawBucket: 'RAW_BUCKET',
    failureBucket: 'FAILURE_BUCKET',
    curatedBucket: 'CURATED_BUCKET',
    /** Folder of the dataset declarations (bundled next to the handler on AWS). */
    datasetsDir: 'DATASETS_DIR',
    /** The conversion router's settings as JSON (lib/conversion/plan.ts, `ConversionSettings`). */
    conversion: 'CONVERSION_SETTINGS',
  },
  convert: {
    /** Set by Lambda itself: the function's memory, MB. */
    memoryMb: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
    /** The function's ephemeral storage (/tmp), MB: Lambda does not tell a function its size. */
    ephemeralMb: 'EPHEMERAL_STORAGE_MB',
  },
  /** The Commit function (CommitToTable's consumer) and the tables custom resource. */
  commit: { database: 'GLUE_DATABASE', curatedBucket: 'CURATED_BUCKET' },
  /**
   * The tables custom resource's function: the declarations bundled with it. The database, the
   * bucket and the settings come in the resource's properties, so a change of them re-runs it.
   */
  tables: { datasetsDir: 'DATASETS_DIR' },
  /** The console API's functions (lib/console/api.ts), one per route group, each with its own role. */
  apiRead: {
    /** Folder of the dataset declarations (bundled next to the handler on AWS). */
    datasetsDir: 'DATASETS_DIR',
    ledgerTable: 'LEDGER_TABLE',
  },
  apiUpload: {
    datasetsDir: 'DATASETS_DIR',
    landingBucket: 'LANDING_BUCKET',
    /** The largest file the upload route signs for, bytes. */
    maxUploadBytes: 'MAX_UPLOAD_BYTES',
  },
  apiQuery: {
    workgroup: 'ATHENA_WORKGROUP',
    database: 'GLUE_DATABASE',
    /** Rows a query's results are paged to at most. */
    maxRows: 'MAX_QUERY_ROWS',
  },
  reconcile: {
    landingBucket: 'LANDING_BUCKET',
    stateMachineArn: 'STATE_MACHINE_ARN',
    /** The ingest ledger's table: a file CURATED or REJECTED there has its outcome. */
    ledgerTable: 'LEDGER_TABLE',
    /** `true` to re-drive the orphans found, anything else to report them only. */
    redrive: 'REDRIVE',
  },
} as const;

/** The metric the scheduled reconciler publishes and the stack's orphan alarm watches. */
export const ORPHAN_METRIC = { namespace: 'CsvDataLake', name: 'Orphans' } as const;

/** Status attribute values of pipeline events published to SNS. */
export type PipelineStatus = 'VALIDATED' | 'REJECTED' | 'CURATED' | 'FAILED';
