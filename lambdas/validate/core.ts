/**
 * The Validate task's pure core: stream a landed object through the validator, then copy it to
 * the raw zone (valid) or to the failure zone with an `.errors.json` report beside it (anything
 * else). Every landed object ends in exactly one of the two, and the task output stays small.
 */
import { createHash } from 'node:crypto';
import { type ConversionSettings, type ConvertedFile, planConversion } from '../../lib/conversion/plan.ts';
import { sparkSchema } from '../../lib/datasets/derive.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import { commitRequestUri, partitionPrefix } from '../../lib/iceberg/layout.ts';
import type { ValidationError } from '../../lib/validation/csv-validator.ts';
import { type ByteSource, PARALLEL_MIN_BYTES, validateParallel } from '../../lib/validation/parallel.ts';
import { startsWithGzipMagic, validateCsv } from '../../lib/validation/validate-csv.ts';
import {
  type GlueJobArguments,
  type IngestRequest,
  NO_DATASET,
  type ObjectRef,
  REPORT_ERRORS,
  type RejectReason,
  type ReportedError,
  type SliceProgress,
  STATE_ERRORS,
  type ValidateTaskInput,
  type ValidateTaskOutput,
} from '../shared/contract.ts';
import type { Log } from '../shared/logger.ts';
import { versionDigest } from '../shared/object-version.ts';

/** A landed object opened for reading, pinned to the version the request names. */
export interface OpenedObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly lastModified: Date;
  /** Releases the connection; called whether or not the body was read to its end. */
  close(): void;
}

/** The object storage the core works on; the adapter maps it onto S3. Errors propagate. */
export interface ObjectStore {
  /** Opens the request's object version (by version id, else by ETag), from byte `from` on. */
  open(request: IngestRequest, from?: number): Promise<OpenedObject>;
  /** The LastModified of the request's object version, for files rejected without reading. */
  head(request: IngestRequest): Promise<{ readonly lastModified: Date }>;
  /** Server-side copy of the request's object version (`request.size` bytes) to `to`. */
  copy(from: IngestRequest, to: ObjectRef): Promise<void>;
  /** Writes `value` as a JSON object. */
  putJson(to: ObjectRef, value: unknown): Promise<void>;
  /** Opens a JSON Lines object written as lines come (a multipart upload, for any length). */
  writeLines(to: ObjectRef): LineSink;
}

/** An object being written line by line; nothing is visible until `end()` resolves. */
export interface LineSink {
  /** Queues a line (ending in `\n`); false when the caller should await `drained()` first. */
  write(line: string): boolean;
  /** Resolves once queued lines are on their way; rejects if the upload failed. */
  drained(): Promise<void>;
  /** Completes the object. */
  end(): Promise<void>;
  /** Abandons the object, leaving nothing behind. */
  abort(): Promise<void>;
}

/** The zone buckets. */
export interface ValidateBuckets {
  readonly rawBucket: string;
  readonly failureBucket: string;
  readonly curatedBucket: string;
}

/** What the core needs from its surroundings. */
export interface ValidateDeps {
  readonly store: ObjectStore;
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly buckets: ValidateBuckets;
  /** The conversion router's settings: a valid file's output says which engine converts it. */
  readonly conversion: ConversionSettings;
  readonly log: Log;
  /** Milliseconds the invocation has left (Lambda's context); no limit when unset. */
  readonly remainingMs?: () => number;
  /**
   * Validate a large plain file in parallel ranges (single route only: a slice of the large-file
   * route is validated in one pass from its checkpoint).
   * @default - one pass
   */
  readonly parallel?: ParallelValidation;
}

/** How the core validates in parallel (see lib/validation/parallel.ts). */
export interface ParallelValidation {
  /** Threads, this one included. */
  readonly threads: number;
  /** The worker entry: the handler's bundle, which serves ranges when started as a worker. */
  readonly workerEntry?: URL | undefined;
  /**
   * Run the ranges in this thread (guessed and merged as on threads): for tests, whose object
   * store lives in this thread.
   * @default false
   */
  readonly inThread?: boolean;
}

/** The spec of a landed object version a range worker opens (see {@link objectSource}). */
export type ObjectSpec = {
  readonly kind: 'object';
  readonly size: number;
  readonly request: IngestRequest;
};

/** A landed object version as a byte source: each range is a ranged read pinned to the same version. */
export function objectSource(store: ObjectStore, request: IngestRequest): ByteSource {
  return {
    size: request.size,
    async *read(start) {
      const opened = await store.open(request, start);
      try {
        yield* opened.body;
      } finally {
        opened.close();
      }
    },
  };
}

/** The `.errors.json` report written beside a rejected file. */
export interface ErrorReport {
  readonly source: IngestRequest;
  readonly dataset: string;
  readonly ingestDate: string;
  readonly reason: RejectReason;
  readonly rows: number;
  readonly errorCount: number;
  readonly errorsByColumn: Record<string, number>;
  readonly errorsByRule: Record<string, number>;
  /**
   * A preview: the first `REPORT_ERRORS` errors (`STATE_ERRORS` on the large-file route, whose
   * slices carry their preview in the state).
   */
  readonly errors: readonly ReportedError[];
  /** True when `errorCount` exceeds the errors previewed here. */
  readonly truncated: boolean;
  /** JSON Lines objects holding every one of the `errorCount` errors, one per line, in file order. */
  readonly errorFiles: readonly ObjectRef[];
}

/** Suffix of the report object, appended to the rejected file's key. */
export const REPORT_SUFFIX = '.errors.json';
/** The longest suffix a zone key is given (the error list of a validation slice). */
const LONGEST_SUFFIX = '.errors.00000.jsonl';
/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/**
 * The longest last key segment (file name) the local S3 endpoint stores, in UTF-8 bytes: s3rver
 * keeps a key as a file path, the last segment plus up to 22 bytes of suffix in one file name,
 * and ext4, APFS and NTFS allow 255. S3 has no such limit; zone file names stay within it (with
 * their report suffixes) so that a landing key the local endpoint took reaches a zone there too.
 */
export const MAX_NAME_BYTES = 255 - '._S3rver_metadata.json'.length;
/** The failure-zone folder of a file whose key names no usable dataset folder. */
export const UNKNOWN_FOLDER = NO_DATASET;
/** Longest column name or message carried in the state; the report keeps them whole. */
const STATE_TEXT_CHARS = 300;

const CSV_KEY = /\.csv(\.gz)?$/i;

/** Whether a key has an extension this pipeline reads: `.csv` or `.csv.gz`, any case. */
export function isCsvKey(key: string): boolean {
  return CSV_KEY.test(key);
}

/** `YYYY-MM-DD` of an instant, in UTC. */
export function ingestDateOf(lastModified: Date): string {
  return lastModified.toISOString().slice(0, 10);
}

/**
 * The file name a landing key gets in a zone: the key after its dataset segment with every `/`
 * replaced by `__`, so partitions stay flat and a `../` in a key cannot climb out of them.
 */
export function flatFileName(key: string): string {
  const slash = key.indexOf('/');
  const file = (slash < 0 ? key : key.slice(slash + 1)).replaceAll('/', '__');
  // `.` and `..` as a whole name are path navigation to many S3 tools; an empty name is no name.
  if (file === '' || file === '.' || file === '..') return `_${file}`;
  return file;
}

/** Hex characters of the version tag in a zone file name: one key's versions never share one. */
export const VERSION_TAG_CHARS = 8;
const OTHER_EXTENSION = /\.[A-Za-z0-9]{1,10}$/;

/**
 * The file name an object version gets in a zone: its flat name with a tag of its version before
 * the extension (`daily.csv` → `daily.1f0c9a2e.csv`). Each version of a key is an ingest of its
 * own, so two versions landed on one day (events in any order) keep one raw, one failure or one
 * curated result each instead of replacing each other; and keys that flatten alike (`a/b.csv`,
 * `a__b.csv`) stay apart, the tag being of the whole key.
 */
export function zoneFileName(request: IngestRequest): string {
  const flat = flatFileName(request.key);
  const tag = versionDigest(request).slice(0, VERSION_TAG_CHARS);
  const ext = CSV_KEY.exec(flat)?.[0] ?? OTHER_EXTENSION.exec(flat)?.[0] ?? '';
  return `${flat.slice(0, flat.length - ext.length)}.${tag}${ext}`;
}

/**
 * The zone key `<folder>/ingest_date=<date>/<file>`. When the file name, with room for the report
 * suffixes, would exceed `MAX_NAME_BYTES`, the name is cut and a hash of the whole name appended, keeping the extension, so a long landing key (or a deeply nested one,
 * flattened into one name) still reaches a terminal zone at a deterministic key.
 */
export function zoneKey(folder: string, ingestDate: string, file: string): string {
  const prefix = `${folder}/ingest_date=${ingestDate}/`;
  // The key stays far below S3's limit: a folder has at most 255 bytes (datasets, unknownFolder).
  const budget = MAX_NAME_BYTES - LONGEST_SUFFIX.length;
  if (Buffer.byteLength(file) <= budget) return prefix + file;
  const ext = CSV_KEY.exec(file)?.[0] ?? '';
  const tag = `~${createHash('sha256').update(file).digest('hex').slice(0, 16)}`;
  const head = cutUtf8(file.slice(0, file.length - ext.length), budget - tag.length - ext.length);
  return `${prefix}${head}${tag}${ext}`;
}

/** The longest prefix of `text` (whole code points) that fits in `maxBytes` of UTF-8. */
function cutUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > maxBytes) break;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** The failure-zone folder of a file whose dataset is unknown: its first segment, when usable. */
function unknownFolder(dataset: string): string {
  const unusable = dataset === '' || dataset === '.' || dataset === '..' || Buffer.byteLength(dataset) > 255;
  return unusable ? UNKNOWN_FOLDER : dataset;
}

/**
 * The Validate task: validates one landed object and files it: valid → raw zone, with the Glue
 * job's arguments; unknown dataset, not a CSV, or invalid rows → failure zone plus report.
 *
 * On the large-file route (`input.slice` set) it validates the next slice only: a ranged read from
 * the previous slice's checkpoint, stopping once `slice.bytes` are read, at the next record
 * boundary or inside a record over the size cap that is being skipped. Either route also stops
 * when the invocation nears its end (`remainingMs`), so a file that reads slower than the
 * threshold assumed goes on in slices instead of timing out. A run that stops returns the next
 * slice's input (`done: false`); the last returns the verdict (`done: true`). Each run streams its
 * errors to a part of the complete list; the report names every part.
 *
 * On the single route a plain file over {@link PARALLEL_MIN_BYTES} is validated in parallel
 * ranges when `deps.parallel` has threads to spare (same result; it can stop and hand over to
 * slices between ranges); a slice is always one pass from its checkpoint.
 *
 * A gzip stream cannot be resumed: one above the threshold is rejected as `too_large` after two
 * bytes are read, one that runs out of time likewise. S3 errors (NoSuchKey, a replaced object,
 * throttling) propagate, for the workflow's Retry and Catch to decide.
 */
export async function validateIngest(
  input: ValidateTaskInput,
  deps: ValidateDeps,
): Promise<ValidateTaskOutput | SliceProgress> {
  const { request, slice } = input;
  const dataset = deps.datasets.get(request.dataset);
  const early = earlyRejection(request, deps.datasets);
  if (!dataset || early) {
    const { lastModified } = await deps.store.head(request);
    return rejectUnread(deps, {
      request,
      folder: dataset ? dataset.name : unknownFolder(request.dataset),
      ingestDate: ingestDateOf(lastModified),
      reason: early?.reason ?? 'unknown_dataset',
      errors: early?.errors ?? [],
    });
  }
  const start = slice?.resume?.offset ?? 0;
  if (slice && start === 0 && (await startsLikeGzip(request, deps))) {
    return rejectTooLarge(deps, request, dataset, `over the ${slice.bytes}-byte limit of one validation run`);
  }

  const opened = await deps.store.open(request, start);
  const ingestDate = ingestDateOf(opened.lastModified);
  const index = slice?.index ?? 1;
  const failure = failureRef(deps, dataset.name, ingestDate, request);
  const errorPart = (n: number): ObjectRef => ({
    bucket: failure.bucket,
    key: failure.key + errorLinesSuffix(n),
  });
  // Every error streams to this run's part of the complete list; the part exists once one does.
  const errorFile = new ErrorLines(deps.store, errorPart(index));
  const preview = [...(slice?.preview ?? [])];
  const remainingMs = deps.remainingMs;
  let run: Awaited<ReturnType<typeof validateCsv>>;
  const options = {
    maxErrors: REPORT_ERRORS,
    onError: (error: ValidationError) => {
      const reported = toReported(error);
      errorFile.add(reported);
      if (preview.length < STATE_ERRORS) preview.push(forState(reported));
    },
    pace: () => errorFile.pace(),
    stopWhen: (read: number) =>
      (slice !== undefined && read >= slice.bytes) ||
      (remainingMs !== undefined && remainingMs() < SLICE_RESERVE_MS),
  };
  const parallel = deps.parallel;
  try {
    if (
      !slice &&
      parallel &&
      parallel.threads > 1 &&
      (parallel.workerEntry || parallel.inThread) &&
      request.size >= PARALLEL_MIN_BYTES
    ) {
      // The body opened above only gave the version's LastModified: the ranges read their own.
      opened.close();
      const spec: ObjectSpec = { kind: 'object', size: request.size, request };
      run = await validateParallel(spec, dataset, {
        ...options,
        threads: parallel.threads,
        workerEntry: parallel.workerEntry,
        ...(parallel.inThread ? { inThread: true } : {}),
        open: () => objectSource(deps.store, request),
      });
    } else {
      run = await validateCsv(opened.body, dataset, {
        ...options,
        ...(slice?.resume ? { resume: slice.resume } : {}),
      });
    }
    await errorFile.end();
  } catch (error) {
    await errorFile.abort();
    throw error;
  } finally {
    // validateCsv may stop reading early (a corrupt gzip stream); an unread body would hold its socket.
    opened.close();
  }
  const errorParts = [...(slice?.errorSlices ?? []), ...(errorFile.started ? [index] : [])];
  const bytes = start + run.bytes;

  if (!run.complete) {
    // Only a gzip stream stops without a checkpoint: on the single route, out of time.
    if (!run.checkpoint) {
      return rejectTooLarge(deps, request, dataset, 'too large to validate within one invocation');
    }
    deps.log.info('validation stopped: the next slice goes on from its checkpoint', {
      source: request,
      slice: index,
      offset: run.checkpoint.offset,
      rows: run.rows,
      errorCount: run.errorCount,
    });
    return {
      done: false,
      request,
      executionName: input.executionName,
      slice: {
        // The single route hands over with no byte limit: its slices are bounded by time alone.
        bytes: slice?.bytes ?? Number.MAX_SAFE_INTEGER,
        index: index + 1,
        resume: run.checkpoint,
        errorSlices: errorParts,
        preview,
      },
      bytes,
      rows: run.rows,
      errorCount: run.errorCount,
    };
  }
  if (run.valid)
    return accept(
      deps,
      input,
      dataset,
      { ingestDate, lastModified: opened.lastModified },
      {
        rows: run.rows,
        bytes,
        // As `bytes`, from the file's start, but of CSV: inflated for gzip (read in one run, from 0).
        csvBytes: start + run.csvBytes,
        recordSpansLines: run.recordSpansLines,
        compressed: run.compressed,
      },
    );
  return reject(deps, {
    request,
    folder: dataset.name,
    ingestDate,
    reason: 'invalid_rows',
    rows: run.rows,
    bytes,
    errorCount: run.errorCount,
    // A file read in one run previews its first errors; slices carry a shorter preview in the state.
    errors: index === 1 ? run.errors.map(toReported) : preview,
    errorsByColumn: run.errorsByColumn,
    errorsByRule: run.errorsByRule as Record<string, number>,
    errorFiles: errorParts.map(errorPart),
  });
}

/** Where a Glue run reads and writes, and what it must find: the parts of its arguments a dataset does not give. */
export interface GlueRun {
  /** `s3://raw-bucket/<dataset>/ingest_date=…/<file>` */
  readonly source: string;
  /** The day's data folder of the dataset's table, `s3://curated-bucket/<dataset>/iceberg/data/ingest_date=…/` */
  readonly target: string;
  /** `YYYY-MM-DD`: the `ingest_date` value of every row written. */
  readonly ingestDate: string;
  /** Where the engine writes its commit request, `s3://curated-bucket/_commits/<dataset>/<run-id>.json`. */
  readonly commitRequest: string;
  /** The validator's row count. */
  readonly rows: number;
  /** The execution name. */
  readonly runId: string;
  /** The validator's `recordSpansLines`: Spark must read the file whole. */
  readonly recordSpansLines: boolean;
  /** The landed object version the rows come from: its key and version fill the lineage columns. */
  readonly landed: Pick<IngestRequest, 'key' | 'version'>;
  /** The landed version's LastModified: the `_ingested_at` of every row. */
  readonly lastModified: Date;
}

/**
 * The CSV→Parquet job's arguments (glue-scripts/README.md): the schema and the whole CSV dialect
 * come from the dataset declaration, so the job reads the file with the delimiter and quote the
 * validator read it with; the lineage arguments name the landed object version (not the raw
 * copy) and when S3 received it.
 */
export function glueJobArguments(dataset: Dataset, run: GlueRun): GlueJobArguments {
  return {
    '--dataset': dataset.name,
    '--source': run.source,
    '--target': run.target,
    '--ingest-date': run.ingestDate,
    '--commit-request': run.commitRequest,
    '--schema': JSON.stringify(sparkSchema(dataset)),
    '--expected-rows': String(run.rows),
    '--run-id': run.runId,
    '--delimiter': dataset.dialect.delimiter,
    '--quote': dataset.dialect.quote,
    '--multiline': run.recordSpansLines ? 'true' : 'false',
    '--source-key': run.landed.key,
    '--source-version': run.landed.version,
    '--ingested-at': run.lastModified.toISOString(),
  };
}

/** Files a valid object in the raw zone and returns the Glue job's arguments. */
async function accept(
  deps: ValidateDeps,
  input: ValidateTaskInput,
  dataset: Dataset,
  landed: { readonly ingestDate: string; readonly lastModified: Date },
  result: ConvertedFile & { readonly rows: number },
): Promise<ValidateTaskOutput> {
  const { ingestDate, lastModified } = landed;
  const { request } = input;
  const raw: ObjectRef = {
    bucket: deps.buckets.rawBucket,
    key: zoneKey(dataset.name, ingestDate, zoneFileName(request)),
  };
  await deps.store.copy(request, raw);
  const jobArguments = glueJobArguments(dataset, {
    source: `s3://${raw.bucket}/${raw.key}`,
    target: partitionPrefix(deps.buckets.curatedBucket, dataset.name, ingestDate, dataset.version),
    ingestDate,
    commitRequest: commitRequestUri(deps.buckets.curatedBucket, dataset.name, input.executionName),
    rows: result.rows,
    runId: input.executionName,
    recordSpansLines: result.recordSpansLines,
    landed: request,
    lastModified,
  });
  deps.log.info('file is valid: copied to the raw zone', { source: request, raw, rows: result.rows });
  return {
    valid: true,
    dataset: dataset.name,
    ingestDate,
    rows: result.rows,
    bytes: result.bytes,
    errorCount: 0,
    errors: [],
    source: request,
    raw,
    failure: null,
    report: null,
    reason: null,
    jobArguments,
    conversion: planConversion(result, deps.conversion),
    done: true,
    tableVersion: dataset.version,
  };
}

/** Time a run leaves, once it stops reading, for the copy to its zone and the report. */
export const SLICE_RESERVE_MS = 5 * 60_000;

/** Suffix of part `index` of a rejected file's complete error list (one part per validation run). */
export function errorLinesSuffix(index: number): string {
  return `.errors.${String(index).padStart(5, '0')}.jsonl`;
}

/** Whether the object starts with the gzip magic bytes (two bytes read). */
async function startsLikeGzip(request: IngestRequest, deps: ValidateDeps): Promise<boolean> {
  const opened = await deps.store.open(request);
  const magic: number[] = [];
  try {
    for await (const chunk of opened.body) {
      magic.push(...chunk.subarray(0, 2 - magic.length));
      if (magic.length >= 2) break;
    }
  } finally {
    opened.close();
  }
  return startsWithGzipMagic(magic);
}

/** Rejects a gzip file that one invocation cannot validate: a gzip stream cannot be resumed. */
async function rejectTooLarge(
  deps: ValidateDeps,
  request: IngestRequest,
  dataset: Dataset,
  why: string,
): Promise<ValidateTaskOutput> {
  const { lastModified } = await deps.store.head(request);
  return rejectUnread(deps, {
    request,
    folder: dataset.name,
    ingestDate: ingestDateOf(lastModified),
    reason: 'too_large',
    errors: [
      {
        line: 0,
        column: null,
        value: null,
        rule: 'too_large',
        message: `a gzip file of ${request.size} bytes is ${why}, and a gzip stream cannot be validated in slices: land it uncompressed, or split it`,
      },
    ],
  });
}

/** Rejects a file for reasons found without reading its rows: the errors are known up front. */
async function rejectUnread(
  deps: ValidateDeps,
  r: {
    readonly request: IngestRequest;
    readonly folder: string;
    readonly ingestDate: string;
    readonly reason: RejectReason;
    readonly errors: readonly ReportedError[];
  },
): Promise<ValidateTaskOutput> {
  const errorFile = new ErrorLines(deps.store, errorLinesRef(deps, r.folder, r.ingestDate, r.request));
  for (const error of r.errors) errorFile.add(error);
  await errorFile.end();
  return reject(deps, {
    ...r,
    rows: 0,
    // The rows were not read: report the object's size as the event gave it.
    bytes: r.request.size,
    errorCount: r.errors.length,
    errorsByColumn: {},
    errorsByRule: countByRule(r.errors),
    errorFiles: [errorFile.ref],
  });
}

/** Where a rejected object version goes in the failure zone. */
function failureRef(
  deps: ValidateDeps,
  folder: string,
  ingestDate: string,
  request: IngestRequest,
): ObjectRef {
  return { bucket: deps.buckets.failureBucket, key: zoneKey(folder, ingestDate, zoneFileName(request)) };
}

/** The complete error list of an object version rejected unread: one part, beside it in the failure zone. */
function errorLinesRef(
  deps: ValidateDeps,
  folder: string,
  ingestDate: string,
  request: IngestRequest,
): ObjectRef {
  const failure = failureRef(deps, folder, ingestDate, request);
  return { bucket: failure.bucket, key: failure.key + errorLinesSuffix(1) };
}

/**
 * A complete error list written as JSON Lines while the file is read: opened at the first error,
 * so a valid file leaves nothing behind; memory stays flat however many errors a file has.
 */
class ErrorLines {
  private sink: LineSink | null = null;
  private full = false;

  constructor(
    private readonly store: ObjectStore,
    readonly ref: ObjectRef,
  ) {}

  add(error: ReportedError): void {
    this.sink ??= this.store.writeLines(this.ref);
    if (!this.sink.write(`${JSON.stringify(error)}\n`)) this.full = true;
  }

  /** A promise to await before reading on, when the upload is behind. */
  pace(): Promise<void> | undefined {
    if (!this.full || !this.sink) return undefined;
    this.full = false;
    return this.sink.drained();
  }

  /** True once an error was added: the list exists (after `end()`). */
  get started(): boolean {
    return this.sink !== null;
  }

  async end(): Promise<void> {
    await this.sink?.end();
  }

  async abort(): Promise<void> {
    await this.sink?.abort();
  }
}

/** Why a file is rejected before it is read (both reasons listed when both apply), or null. */
function earlyRejection(
  request: IngestRequest,
  datasets: ReadonlyMap<string, Dataset>,
): { reason: RejectReason; errors: ReportedError[] } | null {
  const errors: ReportedError[] = [];
  let reason: RejectReason | null = null;
  if (!datasets.has(request.dataset)) {
    reason = 'unknown_dataset';
    const known = [...datasets.keys()].join(', ') || 'none';
    errors.push({
      // Line 0: the error is about the file as a whole, not one of its lines.
      line: 0,
      column: null,
      value: clip(request.dataset, 80),
      rule: 'unknown_dataset',
      message:
        request.dataset === NO_DATASET
          ? `the key "${clip(request.key, 200)}" names no dataset folder: land files as <dataset>/<file>.csv (known: ${known})`
          : `unknown dataset "${clip(request.dataset, 200)}" (known: ${known})`,
    });
  }
  if (!isCsvKey(request.key)) {
    reason ??= 'not_csv';
    const name = request.key.slice(request.key.lastIndexOf('/') + 1);
    // A key ending in `/` names a folder: the trigger passes it on only when it holds data.
    const folder = request.key.endsWith('/');
    errors.push({
      line: 0,
      column: null,
      value: clip(folder ? request.key : name, 80),
      rule: 'not_csv',
      message: folder
        ? `"${clip(request.key, 200)}" ends in "/", a folder name, yet holds ${request.size} bytes: land files as <dataset>/<file>.csv or .csv.gz`
        : `"${clip(name, 200)}" is not a CSV file: the accepted extensions are .csv and .csv.gz`,
    });
  }
  return reason ? { reason, errors } : null;
}

interface Rejection {
  readonly request: IngestRequest;
  readonly folder: string;
  readonly ingestDate: string;
  readonly reason: RejectReason;
  readonly rows: number;
  readonly bytes: number;
  readonly errorCount: number;
  readonly errors: readonly ReportedError[];
  readonly errorsByColumn: Record<string, number>;
  readonly errorsByRule: Record<string, number>;
  readonly errorFiles: readonly ObjectRef[];
}

/**
 * Files a rejected object in the failure zone: its complete error list is written already; then
 * the report, then the copy of the file.
 */
async function reject(deps: ValidateDeps, r: Rejection): Promise<ValidateTaskOutput> {
  const failure = failureRef(deps, r.folder, r.ingestDate, r.request);
  const report: ObjectRef = { bucket: failure.bucket, key: failure.key + REPORT_SUFFIX };
  const body: ErrorReport = {
    source: r.request,
    dataset: r.request.dataset,
    ingestDate: r.ingestDate,
    reason: r.reason,
    rows: r.rows,
    errorCount: r.errorCount,
    errorsByColumn: r.errorsByColumn,
    errorsByRule: r.errorsByRule,
    errors: r.errors.slice(0, REPORT_ERRORS),
    truncated: r.errorCount > Math.min(r.errors.length, REPORT_ERRORS),
    errorFiles: r.errorFiles,
  };
  // Report before file: whoever finds the file in the failure zone also finds why it is there.
  await deps.store.putJson(report, body);
  await deps.store.copy(r.request, failure);
  deps.log.info('file rejected: copied to the failure zone', {
    source: r.request,
    failure,
    reason: r.reason,
    errorCount: r.errorCount,
  });
  return {
    valid: false,
    dataset: r.request.dataset,
    ingestDate: r.ingestDate,
    rows: r.rows,
    bytes: r.bytes,
    errorCount: r.errorCount,
    errors: r.errors.slice(0, STATE_ERRORS).map(forState),
    source: r.request,
    raw: null,
    failure,
    report,
    reason: r.reason,
    jobArguments: null,
    conversion: null,
    done: true,
    // A rejected file is committed to no table.
    tableVersion: 1,
  };
}

function toReported(error: ValidationError): ReportedError {
  const { line, column, value, rule, message } = error;
  return { line, column, value, rule, message };
}

/**
 * An error as carried in the state. The validator truncates values, but the column of an
 * unknown header cell is the cell's whole text, so texts are clipped here to keep the state small.
 */
function forState(error: ReportedError): ReportedError {
  return {
    line: error.line,
    column: error.column === null ? null : clip(error.column, STATE_TEXT_CHARS),
    value: error.value === null ? null : clip(error.value, STATE_TEXT_CHARS),
    rule: error.rule,
    message: clip(error.message, STATE_TEXT_CHARS),
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function countByRule(errors: readonly ReportedError[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of errors) counts[e.rule] = (counts[e.rule] ?? 0) + 1;
  return counts;
}
