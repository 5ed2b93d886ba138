/**
 * Validation of one plain CSV file on every core: byte ranges validated at once in worker threads,
 * merged into the result of a single pass.
 *
 * A range cannot know the state of the file where it begins (inside a quoted field or not, the
 * line number, blank lines before it), so it guesses, as DuckDB's parallel CSV reader and the
 * "speculative" parsers (ParPaRaw) do: it starts after the first line break past its nominal
 * start, as if that break were outside quotes, with the header mapping read before the ranges
 * start, line 1, zero counts and no blank lines pending. The ranges are then merged in file order.
 * When range i-1 ends, its true state there is known: if it ends exactly where range i began and
 * its state matches the guess, range i's result is exact once its lines are shifted and its counts
 * added; otherwise range i's result is dropped and that part of the file is validated again from
 * the true checkpoint. Correctness never depends on the guess, only speed does.
 *
 * The machinery is the validator's checkpoint (`resume`): a range is a run resumed from a state,
 * so there is one tokenizer. gzip has no byte offsets to start from and is read in one pass.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Dataset } from '../datasets/model.ts';
import {
  addCount,
  CsvValidator,
  DEFAULT_MAX_ERRORS,
  type Rule,
  type ValidationCheckpoint,
  type ValidationError,
  type ValidationResult,
} from './csv-validator.ts';
import { startsWithGzipMagic, type ValidationRun, validateCsv } from './validate-csv.ts';

/** Bytes read at a time by a range. Small enough that the errors of one chunk stay few. */
export const RANGE_CHUNK_BYTES = 256 << 10;
/** Files smaller than this are read in one pass: starting threads costs more than it saves. */
export const PARALLEL_MIN_BYTES = 16 << 20;
/**
 * Ranges per thread: a wrong guess then costs a fraction of a thread's share, not all of it, and
 * where this thread (going forward) meets the workers (going backward), it waits for at most one
 * short range.
 */
const RANGES_PER_THREAD = 16;
/**
 * Errors a range holds before it stops (when every error is streamed out, `onError`, they wait for
 * the ranges before them): memory stays bounded for a file where every row is wrong, at about
 * 2 MB a range even when all the ranges wait on this thread. The rest of such a range is
 * validated in file order by this thread, streaming its errors as it goes: a file with errors on
 * most rows gains little from the threads.
 */
export const RANGE_ERROR_BUFFER = 5_000;
/** A worker's V8 heap limit: with the buffers outside it, a thread stays under 128 MB. */
const WORKER_HEAP_MB = 64;

/** A file that can be read from any byte: each range opens its own read. */
export interface ByteSource {
  readonly size: number;
  /** The file's bytes from `start` to its end; the reader stops iterating when it has enough. */
  read(start: number): AsyncIterable<Uint8Array>;
}

/**
 * A source a worker thread can open (plain data: it crosses to the thread by structured clone).
 * `bytes` is for tests; other kinds (an S3 object version) are opened by the worker's `open`.
 */
export type SourceSpec =
  | FileSpec
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: string; readonly size: number; readonly [key: string]: unknown };

/** A local file; its size is taken once, so that every range sees the same length. */
export interface FileSpec {
  readonly kind: 'file';
  readonly path: string;
  readonly size: number;
}

/** Opens a {@link SourceSpec} in the thread that reads it. */
export type OpenSource = (spec: SourceSpec, chunkBytes: number) => ByteSource;

/** Options of {@link validateParallel}: those of a single pass, and how to split the work. */
export interface ParallelOptions {
  readonly maxErrors?: number;
  readonly maxRecordBytes?: number;
  /** Receives every error in file order, as in a single pass (errors of later ranges wait). */
  readonly onError?: (error: ValidationError) => void;
  /** Called with the bytes validated so far, in file order. */
  readonly onProgress?: (bytesDone: number) => void;
  /**
   * Asked after each range is merged, with the bytes validated so far: true stops the run there,
   * at a record boundary, with `complete: false` and the checkpoint to resume from (as
   * `validateCsv`'s `stopWhen`, at the coarser steps of the ranges).
   * @default - the file is read to its end
   */
  readonly stopWhen?: (bytesDone: number) => boolean;
  /** Awaited after each chunk validated in this thread and each range merged (see `validateCsv`). */
  readonly pace?: () => Promise<void> | undefined;
  /**
   * Threads to validate on; 1 is the single pass.
   * @default - os.availableParallelism()
   */
  readonly threads?: number;
  /**
   * Ranges to split the file into.
   * @default - 16 per thread
   */
  readonly ranges?: number;
  /**
   * Bytes a range reads at a time.
   * @default RANGE_CHUNK_BYTES
   */
  readonly chunkBytes?: number;
  /**
   * Run the ranges one after another in this thread, with the same guesses and merge: the
   * differential test checks many tiny ranges this way without starting threads.
   * @default false
   */
  readonly inThread?: boolean;
  /**
   * Files under this size are read in one pass.
   * @default PARALLEL_MIN_BYTES
   */
  readonly minBytes?: number;
  /**
   * The worker thread's entry: a module that calls {@link serveRanges} when started as a worker.
   * A bundled function passes its own bundle file (see lambdas/validate/handler.ts); code run
   * from source passes `sourceWorkerEntry()` (source-worker.ts).
   * @default - none: the file is read in one pass (unless `inThread`)
   */
  readonly workerEntry?: URL | undefined;
  /**
   * Errors a range holds before it stops when every error is streamed out (see `onError`).
   * @default 5,000
   */
  readonly errorBuffer?: number;
  /**
   * Told, in file order, how each range went: for logs, and for the tests to show that every
   * path is taken.
   */
  readonly onRange?: (range: RangeReport) => void;
  /** Stops the run: the threads are ended and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Opens the source in this thread (the worker opens it again from the spec). */
  readonly open?: OpenSource;
}

/** Marks the workerData of a range worker, so a bundle started as a worker knows its role. */
export const RANGE_WORKER = 'csvRangeWorker';

/**
 * The worker entry of a bundled program: its own file, when `moduleUrl` (its `import.meta.url`)
 * is a bundle rather than TypeScript source. The bundle's top level must call {@link serveRanges}
 * first: started as a worker, it serves ranges. From source the default entry is used (undefined).
 */
export function bundleEntry(moduleUrl: string): URL | undefined {
  const url = new URL(moduleUrl);
  return url.pathname.endsWith('.ts') ? undefined : url;
}

/** The threads used when none are asked for: one per core. */
export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * Validates a plain CSV file in parallel ranges; the run is that of one pass (`validateCsv`):
 * verdict, rows, every error with its line, the error list and its `maxErrors` cut, the counts,
 * `recordSpansLines`, and the order in which `onError` sees the errors. A gzip file, a file under
 * `minBytes` and one thread are read in one pass.
 */
export async function validateParallel(
  spec: SourceSpec,
  dataset: Dataset,
  options: ParallelOptions = {},
): Promise<ValidationRun> {
  const open = options.open ?? openLocalSource;
  const chunkBytes = options.chunkBytes ?? RANGE_CHUNK_BYTES;
  const source = open(spec, chunkBytes);
  const threads = Math.max(1, options.threads ?? defaultThreads());
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const single = () =>
    validateCsv(source.read(0), dataset, {
      maxErrors,
      ...pick(options, ['maxRecordBytes', 'onError', 'onProgress', 'stopWhen', 'pace']),
    });
  if (threads === 1 || source.size < (options.minBytes ?? PARALLEL_MIN_BYTES)) return single();
  if (startsWithGzipMagic(await firstBytes(source, 2))) return single();
  const workerEntry = options.inThread ? undefined : options.workerEntry;
  if (!options.inThread && !workerEntry) return single();

  const merged = new Merged(maxErrors, options.onError, options.pace, options.signal);
  const settings: RangeSettings = {
    maxRecordBytes: options.maxRecordBytes,
    maxErrors,
    errorBuffer: options.onError ? (options.errorBuffer ?? RANGE_ERROR_BUFFER) : 0,
  };
  // Started first: the threads load their code while this one reads the header. This thread
  // validates too (the ranges in file order), so one thread fewer is started.
  const pool = workerEntry
    ? new RangePool(threads - 1, { spec, dataset, settings, chunkBytes }, workerEntry)
    : undefined;
  const stop = () => void pool?.close();
  options.signal?.addEventListener('abort', stop);
  try {
    return await mergeRanges(source, dataset, settings, merged, pool, options);
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await pool?.close();
  }
}

/** How each range went (see {@link ParallelOptions.onRange}). */
export type RangeReport = {
  readonly start: number;
  /**
   * `confirmed`: validated from a guess that proved right; `redone`: the guess was wrong, so that
   * part was validated again from the true state; `in order`: no thread had taken it yet when its
   * turn came, so this thread validated it from the true state, with no guess.
   */
  readonly outcome: 'confirmed' | 'redone' | 'in order';
};

/**
 * Reads the header, splits the rest into ranges, hands them to the pool (or runs them all here,
 * `inThread`) and merges them in file order, validating in this thread each range no worker has
 * taken yet and each wrong guess.
 */
async function mergeRanges(
  source: ByteSource,
  dataset: Dataset,
  settings: RangeSettings,
  merged: Merged,
  pool: RangePool | undefined,
  options: ParallelOptions,
): Promise<ValidationRun> {
  const chunkBytes = options.chunkBytes ?? RANGE_CHUNK_BYTES;
  const threads = Math.max(1, options.threads ?? defaultThreads());
  // The header and the first records, in this thread: every range needs the header mapping.
  const head = await validateRange(source, dataset, settings, { start: null, until: chunkBytes }, merged);
  if (!head.end) return merged.final(head.result, head.bytesRead);
  let at: ValidationCheckpoint = head.end;
  options.onProgress?.(at.offset);

  const count = options.ranges ?? RANGES_PER_THREAD * threads;
  // Before the header is read (blank lines only so far) there is no mapping to guess with.
  const starts = at.columns === 'pending' ? [] : await rangeStarts(source, at.offset, count, options);
  const guesses = starts.map((offset) => guessAt(at, offset));
  const jobs = guesses.map((start, k) => ({ start, until: starts[k + 1] ?? null }));
  const outcomes: (Promise<RangeOutcome> | undefined)[] = pool
    ? pool.runAll(jobs)
    : jobs.map((job) => validateRange(source, dataset, settings, job, undefined));
  // A failed range must not leave an unhandled rejection while an earlier one is awaited.
  for (const outcome of outcomes) outcome?.catch(() => {});
  for (let k = 0; k < jobs.length; k++) {
    options.signal?.throwIfAborted();
    const next = starts[k + 1] ?? null;
    const guess = guesses[k]!;
    if (next !== null && at.offset >= next) continue; // an earlier range ran past this one
    const inOrder = pool?.take(k) ?? false;
    const fix = inOrder ? undefined : confirm(at, guess);
    options.onRange?.({ start: guess.offset, outcome: inOrder ? 'in order' : fix ? 'confirmed' : 'redone' });
    const outcome = outcomes[k];
    // Let go of a merged range's errors (up to errorBuffer of them): memory stays bounded.
    outcomes[k] = undefined;
    const confirmed = fix ? merged.add(at, await outcome!, fix) : undefined;
    if (confirmed && !confirmed.end) return merged.final(confirmed.result, source.size);
    const from = confirmed?.end ?? at;
    if (!confirmed || next === null || from.offset < next) {
      // Not taken by a thread, or the guess was wrong (a quoted line break, blank lines at the
      // edge, a record over the cap), or the range stopped early holding too many errors: this
      // part of the file from the true state, its errors going straight out.
      const again = await validateRange(source, dataset, settings, { start: from, until: next }, merged);
      if (!again.end) return merged.final(again.result, source.size);
      at = again.end;
    } else {
      at = from;
    }
    options.onProgress?.(at.offset);
    await merged.pace?.();
    if (options.stopWhen?.(at.offset)) return merged.stopped(at);
  }
  // No ranges (the header never came): the rest of the file, from the true state.
  const rest = await validateRange(source, dataset, settings, { start: at, until: null }, merged);
  return merged.final(rest.result, source.size);
}

/** The settings every range of one run shares. */
interface RangeSettings {
  readonly maxRecordBytes: number | undefined;
  readonly maxErrors: number;
  /**
   * When every error is streamed out (`onError`), not just the first `maxErrors`: the errors a
   * range holds before it stops (see {@link RANGE_ERROR_BUFFER}); 0 otherwise.
   */
  readonly errorBuffer: number;
}

/** One range: from a state (null: the file's first byte) to the first record boundary at or past `until`. */
interface RangeJob {
  readonly start: ValidationCheckpoint | null;
  /** null: to the end of the file. */
  readonly until: number | null;
}

/** What a range found. */
interface RangeOutcome {
  /** Its counts (from its start state on) and the errors it kept, in order. */
  readonly result: ValidationResult;
  /** Its state where it stopped; null when it read to the end of the file (`result` is final). */
  readonly end: ValidationCheckpoint | null;
  readonly bytesRead: number;
}

/**
 * Validates one range. With `sink`, the range starts from a true state: its errors go to the
 * sink at once and its counts are the file's. Without, it starts from a guess: it keeps its
 * errors (all of them when streaming, stopping early once it holds `errorBuffer` of them;
 * else the first `maxErrors`: when the merge drops the range's mixed-line-endings report, the
 * file's own one is already listed, so the rest still fill the list).
 */
async function validateRange(
  source: ByteSource,
  dataset: Dataset,
  settings: RangeSettings,
  job: RangeJob,
  sink: Merged | undefined,
): Promise<RangeOutcome> {
  const kept: ValidationError[] = [];
  const keep = sink || settings.errorBuffer > 0 ? Number.POSITIVE_INFINITY : settings.maxErrors;
  const validator = new CsvValidator(dataset, {
    maxErrors: 0,
    ...(settings.maxRecordBytes === undefined ? {} : { maxRecordBytes: settings.maxRecordBytes }),
    ...(job.start ? { resume: job.start } : {}),
    onError: sink
      ? (error) => sink.emit(error)
      : (error) => {
          if (kept.length < keep) kept.push(error);
        },
  });
  const from = job.start?.offset ?? 0;
  const until = job.until;
  let pos = from;
  const stopped = (end: ValidationCheckpoint): RangeOutcome => ({
    result: { ...validator.resultSoFar(pos - from, false), errors: kept },
    end,
    bytesRead: pos - from,
  });
  for await (const bytes of source.read(from)) {
    let chunk = bytes;
    if (until !== null && pos < until && pos + chunk.length >= until) {
      // Push exactly to the next range's start: does a record end there?
      validator.push(chunk.subarray(0, until - pos));
      validator.flush();
      chunk = chunk.subarray(until - pos);
      pos = until;
      const end = validator.checkpoint();
      if (end && end.offset === until) return stopped(end);
    }
    validator.push(chunk);
    pos += chunk.length;
    const wait = sink?.pace?.();
    if (wait) await wait;
    sink?.signal?.throwIfAborted(); // this thread's ranges stop at once, not at their end
    if (!validator.wantsMore) break;
    if (until !== null && pos > until) {
      // The next range's start is inside a record: stop at the first boundary past it. (Flushed:
      // push waits for a long partial record to double before parsing it again; the wait here is
      // bounded, as a record past the size cap is skipped, not held.)
      validator.flush();
      const end = validator.checkpoint();
      if (end && end.offset >= until) return stopped(end);
    }
    if (!sink && settings.errorBuffer > 0 && kept.length >= settings.errorBuffer) {
      const end = validator.checkpoint();
      if (end && end.offset > from) return stopped(end);
    }
  }
  return {
    result: { ...validator.finish(pos - from, false), errors: kept },
    end: null,
    bytesRead: pos - from,
  };
}

/** How a confirmed guess is made exact: lines shifted, and a mixed-line-ending report dropped. */
interface Fix {
  readonly lineShift: number;
  /** The true state had already reported mixed line endings; the guess had not. */
  readonly dropMixed: boolean;
}

/** The state a range starting at `offset` assumes, from the true state after the header. */
function guessAt(after: ValidationCheckpoint, offset: number): ValidationCheckpoint {
  return {
    ...after,
    offset,
    line: 1,
    rows: 0,
    blankRunStart: 0,
    blankRunLength: 0,
    errorCount: 0,
    errorsByColumn: {},
    errorsByRule: {},
    recordSpansLines: false,
    skip: null,
  };
}

/**
 * Whether the range guessed from `guess` parsed exactly what a single pass parses from the true
 * state `at`: the same byte, outside any record, and every state that changes how records are
 * judged the same. Lines and counts are relative and fixed up; the one report that depends on
 * the past, mixed line endings (once per file), is dropped when it was made before.
 */
function confirm(at: ValidationCheckpoint, guess: ValidationCheckpoint): Fix | undefined {
  if (at.offset !== guess.offset || at.skip || at.blankRunLength > 0) return undefined;
  if (at.ending !== guess.ending || at.expectedFields !== guess.expectedFields) return undefined;
  if (JSON.stringify(at.columns) !== JSON.stringify(guess.columns)) return undefined;
  if (guess.mixedReported && !at.mixedReported) return undefined;
  return { lineShift: at.line - guess.line, dropMixed: at.mixedReported && !guess.mixedReported };
}

/** The merged result: the error list, `onError` in file order, and the counts. */
class Merged {
  private readonly errors: ValidationError[] = [];

  constructor(
    private readonly maxErrors: number,
    private readonly onError: ((error: ValidationError) => void) | undefined,
    readonly pace: (() => Promise<void> | undefined) | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  emit(error: ValidationError): void {
    if (this.errors.length < this.maxErrors) this.errors.push(error);
    this.onError?.(error);
  }

  /** Adds a confirmed range after the true state `at`: its state and result, made absolute. */
  add(
    at: ValidationCheckpoint,
    outcome: RangeOutcome,
    fix: Fix,
  ): { end: ValidationCheckpoint | null; result: ValidationResult } {
    const local = outcome.end ?? outcome.result;
    const dropped = fix.dropMixed && (local.errorsByRule.mixed_line_endings ?? 0) > 0 ? 1 : 0;
    let skipMixed = dropped === 1;
    for (const error of outcome.result.errors) {
      if (skipMixed && error.rule === 'mixed_line_endings') {
        skipMixed = false;
        continue;
      }
      this.emit({ ...error, line: error.line + fix.lineShift });
    }
    const byRule = sumCounts(at.errorsByRule, local.errorsByRule);
    if (dropped) byRule.mixed_line_endings = (byRule.mixed_line_endings ?? 0) - 1;
    if (byRule.mixed_line_endings === 0) delete byRule.mixed_line_endings;
    const counts = {
      rows: at.rows + local.rows,
      errorCount: at.errorCount + local.errorCount - dropped,
      errorsByColumn: sumCounts(at.errorsByColumn, local.errorsByColumn),
      errorsByRule: byRule as Partial<Record<Rule, number>>,
      recordSpansLines: (at.recordSpansLines ?? true) || (local.recordSpansLines ?? true),
    };
    const end = outcome.end;
    if (!end) return { end: null, result: { ...outcome.result, ...counts, valid: counts.errorCount === 0 } };
    return {
      end: {
        ...end,
        ...counts,
        line: end.line + fix.lineShift,
        blankRunStart: end.blankRunLength > 0 ? end.blankRunStart + fix.lineShift : 0,
        mixedReported: at.mixedReported || end.mixedReported,
        skip: end.skip ? { ...end.skip, startLine: end.skip.startLine + fix.lineShift } : null,
      },
      result: outcome.result,
    };
  }

  /** The file's result, from the last range's (absolute) counts. */
  final(last: ValidationResult, bytes: number): ValidationRun {
    return { ...last, bytes, errors: this.errors, checkpoint: null, complete: true, csvBytes: bytes };
  }

  /** The result of a run stopped at the true state `at` (see `stopWhen`). */
  stopped(at: ValidationCheckpoint): ValidationRun {
    return {
      valid: at.errorCount === 0,
      rows: at.rows,
      bytes: at.offset,
      compressed: false,
      errorCount: at.errorCount,
      errors: this.errors,
      errorsByColumn: at.errorsByColumn,
      errorsByRule: at.errorsByRule,
      recordSpansLines: at.recordSpansLines ?? true,
      checkpoint: at,
      complete: false,
      csvBytes: at.offset,
    };
  }
}

/**
 * Sums two count maps. The keys are header texts (any string, `__proto__` included), so they are
 * added as the validator counts them (addCount), never by assignment to a prototype member.
 */
function sumCounts(
  a: Readonly<Record<string, number | undefined>>,
  b: Readonly<Record<string, number | undefined>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of [a, b]) {
    for (const [key, n] of Object.entries(counts)) addCount(out, key, n ?? 0);
  }
  return out;
}

/**
 * Where the ranges start: after the first line break past each nominal start (an equal share of
 * the bytes after the header). A share without a line break within the record size cap is joined
 * to the range before it.
 */
async function rangeStarts(
  source: ByteSource,
  after: number,
  count: number,
  options: ParallelOptions,
): Promise<number[]> {
  const starts = [after];
  const share = (source.size - after) / count;
  const window = options.maxRecordBytes ?? 1 << 20;
  for (let k = 1; k < count; k++) {
    const nominal = Math.floor(after + k * share);
    if (nominal <= starts[starts.length - 1]!) continue;
    const start = await lineStartAfter(source, nominal, window);
    if (start !== undefined && start > starts[starts.length - 1]! && start < source.size) starts.push(start);
  }
  return starts;
}

/** The offset after the first LF at or past `from`, looking `window` bytes at most. */
async function lineStartAfter(source: ByteSource, from: number, window: number): Promise<number | undefined> {
  let pos = from;
  for await (const chunk of source.read(from)) {
    const lf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).indexOf(0x0a);
    if (lf >= 0) return pos + lf + 1;
    pos += chunk.length;
    if (pos - from > window) return undefined;
  }
  return undefined;
}

async function firstBytes(source: ByteSource, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source.read(0)) {
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    length += chunk.length;
    if (length >= n) break;
  }
  return Buffer.concat(parts);
}

/** Opens a local file or bytes in memory. */
export const openLocalSource: OpenSource = (spec, chunkBytes) => {
  if (spec.kind === 'bytes') {
    const bytes = (spec as { bytes: Uint8Array }).bytes;
    return {
      size: bytes.length,
      async *read(start) {
        for (let p = start; p < bytes.length; p += chunkBytes) yield bytes.subarray(p, p + chunkBytes);
      },
    };
  }
  if (spec.kind === 'file') {
    const { path, size } = spec as { path: string; size: number };
    return {
      size,
      read: (start) => createReadStream(path, { start, highWaterMark: chunkBytes }),
    };
  }
  throw new Error(`cannot open a source of kind "${spec.kind}" here`);
};

/** The spec of a local file: its size is read once, so every range sees the same length. */
export async function fileSource(path: string): Promise<FileSpec> {
  return { kind: 'file', path, size: (await stat(path)).size };
}

/** What a range worker receives once, at its start. */
interface WorkerSetup {
  readonly [RANGE_WORKER]: true;
  readonly spec: SourceSpec;
  readonly dataset: Dataset;
  readonly settings: RangeSettings;
  readonly chunkBytes: number;
}

/**
 * A worker's answer. A failure keeps its error's name (`ObjectReplaced`, an S3 error's name), which
 * the workflow's Retry and Catch match on, as they would in a single pass.
 */
type WorkerReply =
  | { id: number; outcome: RangeOutcome }
  | { id: number; error: { name: string; message: string } };

/** A fixed set of worker threads taking range jobs in order. */
class RangePool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; job: RangeJob }[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (o: RangeOutcome) => void; reject: (e: Error) => void }
  >();

  constructor(size: number, setup: Omit<WorkerSetup, typeof RANGE_WORKER>, entry: URL) {
    const data: WorkerSetup = { [RANGE_WORKER]: true, ...setup };
    for (let k = 0; k < size; k++) {
      const worker = new Worker(entry, {
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      });
      worker.on('message', (reply: WorkerReply) => this.settle(worker, reply));
      worker.on('error', (error) => this.failAll(error));
      worker.on('exit', (code) => {
        if (this.waiting.size > 0) this.failAll(new Error(`a validation worker exited (code ${code})`));
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Queues the jobs (their ids are their indexes), then hands them out, the last first. */
  runAll(jobs: readonly RangeJob[]): Promise<RangeOutcome>[] {
    const outcomes = jobs.map(
      (job, id) =>
        new Promise<RangeOutcome>((resolve, reject) => {
          this.waiting.set(id, { resolve, reject });
          this.queue.push({ id, job });
        }),
    );
    this.dispatch();
    return outcomes;
  }

  /**
   * Takes back job `id` if no worker has started it: its promise then never
   * settles, and the caller validates the range itself.
   */
  take(id: number): boolean {
    const index = this.queue.findIndex((queued) => queued.id === id);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    this.waiting.delete(id);
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    // From the end of the file: this thread works from its start, and they meet.
    while (this.idle.length > 0 && this.queue.length > 0) this.idle.pop()!.postMessage(this.queue.pop()!);
  }

  private settle(worker: Worker, reply: WorkerReply): void {
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if ('error' in reply)
      waiter?.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
    else waiter?.resolve(reply.outcome);
    this.idle.push(worker);
    this.dispatch();
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

/**
 * The body of a range worker: validates the ranges it is sent and posts back their outcomes. A
 * module started as a worker calls it (returns false when this thread is not a range worker).
 */
export function serveRanges(open: OpenSource = openLocalSource): boolean {
  const setup = workerData as WorkerSetup | undefined;
  if (isMainThread || !parentPort || !setup?.[RANGE_WORKER]) return false;
  const port = parentPort;
  const source = open(setup.spec, setup.chunkBytes);
  port.on('message', ({ id, job }: { id: number; job: RangeJob }) => {
    validateRange(source, setup.dataset, setup.settings, job, undefined).then(
      (outcome) => port.postMessage({ id, outcome } satisfies WorkerReply),
      (error: unknown) => {
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        port.postMessage({ id, error: { name, message } } satisfies WorkerReply);
      },
    );
  });
  return true;
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (obj[key] !== undefined) out[key] = obj[key];
  return out;
}
