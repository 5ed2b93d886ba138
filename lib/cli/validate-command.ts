/** `datalake validate`: a producer checks a file on their laptop with the exact rules of the lake. */
import { createReadStream, open } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { basename } from 'node:path';
import { addAbortSignal } from 'node:stream';
import { loadDatasets, pickDataset, UnknownDatasetError } from '../datasets/load.ts';
import { type Dataset, DatasetDeclarationError } from '../datasets/model.ts';
import { escapeControl } from '../text.ts';
import type { ValidationResult } from '../validation/csv-validator.ts';
import { PARALLEL_MIN_BYTES, validateParallel } from '../validation/parallel.ts';
import { sourceWorkerEntry } from '../validation/source-worker.ts';
import { type ValidateCsvOptions, type ValidationRun, validateCsv } from '../validation/validate-csv.ts';
import { CliError, untilAborted } from './failures.ts';
import { fileHint } from './file-hint.ts';
import { errorTable, table } from './format.ts';
import { type CliIo, EXIT, type ValidateArgs } from './main.ts';

/** Files at least this large get a progress line (when stderr is a terminal). */
const PROGRESS_MIN_BYTES = 32 << 20;
const PROGRESS_EVERY_MS = 200;

/** Validates one file; returns the exit code (0 valid, 1 invalid, 2 usage or unknown dataset). */
export async function validateCommand(args: ValidateArgs, io: CliIo): Promise<number> {
  const { result, dataset, seconds } = await validateFile(args, io);
  if (args.json) io.stdout(`${JSON.stringify(result)}\n`);
  else io.stdout(humanReport(basename(args.file), dataset, result, seconds));
  await printHint(args.file, result, io);
  return result.valid ? EXIT.ok : EXIT.invalid;
}

/** What {@link validateFile} found. */
export interface FileVerdict {
  /** The verdict as `validate --json` prints it. */
  readonly result: ValidationResult;
  /** The dataset's name. */
  readonly dataset: string;
  /** How long the validation took. */
  readonly seconds: number;
}

/**
 * The core of `validate` (and of `put`'s check before it uploads): the file against the dataset's
 * declaration with the lake's rules, a progress line on a terminal for a large file, nothing
 * printed; an unknown dataset, a broken declaration or an unreadable file is a {@link CliError}.
 */
export async function validateFile(args: ValidateArgs, io: CliIo): Promise<FileVerdict> {
  let dataset: Awaited<ReturnType<typeof pickDataset>>;
  try {
    dataset = pickDataset(await loadDatasets(args.datasetsDir), args.dataset);
  } catch (error) {
    if (
      error instanceof UnknownDatasetError ||
      error instanceof DatasetDeclarationError ||
      (error instanceof Error && error.message.startsWith('cannot read the datasets folder'))
    ) {
      throw new CliError(error.message);
    }
    throw error;
  }
  const info = await stat(args.file).catch(() => undefined);
  if (!info) throw new CliError(`cannot read "${args.file}": no such file`);
  // A pipe is read as a file: `validate <(zcat export.gz)` (its size is unknown: no progress line).
  if (!info.isFile() && !info.isFIFO())
    throw new CliError(`cannot read "${args.file}": ${info.isDirectory() ? 'is a directory' : 'not a file'}`);
  const size = info.size;

  const progress = io.stderrIsTty && size >= PROGRESS_MIN_BYTES ? progressLine(io, size) : undefined;
  const started = performance.now();
  const options = {
    maxErrors: args.maxErrors,
    ...(args.maxRecordBytes === undefined ? {} : { maxRecordBytes: args.maxRecordBytes }),
    ...(progress ? { onProgress: progress.update } : {}),
  };
  let run: ValidationRun;
  const parallel = args.threads > 1 && info.isFile() && size >= PARALLEL_MIN_BYTES;
  const workerEntry = parallel ? await sourceWorkerEntry() : undefined;
  // Said, not silent: --threads was asked for and the file is read on one thread.
  if (parallel && !workerEntry)
    io.stderr(
      'datalake: note: worker threads are unavailable (esbuild could not build their entry): one thread validates the file\n',
    );
  try {
    // Raced: a read blocked on a pipe holds the stream's destruction until it returns.
    run = await untilAborted(
      // A pipe cannot be read at an offset: one pass.
      args.threads > 1 && info.isFile()
        ? validateParallel({ kind: 'file', path: args.file, size }, dataset, {
            ...options,
            threads: args.threads,
            workerEntry,
            ...(io.signal ? { signal: io.signal } : {}),
          })
        : onePass(args.file, info.isFIFO(), dataset, options, io.signal),
      io.signal,
    );
  } finally {
    progress?.clear();
  }
  // A signal after the last read: the verdict is not printed as if the user had waited for it.
  io.signal?.throwIfAborted();
  const seconds = (performance.now() - started) / 1000;
  // A whole file in one run: no checkpoint to resume from, so only the verdict is printed.
  const { checkpoint: _checkpoint, complete: _complete, csvBytes: _csvBytes, ...result } = run;
  return { result, dataset: dataset.name, seconds };
}

/** For an invalid file that is not CSV text at all (an archive, a spreadsheet, UTF-16), a hint on stderr. */
export async function printHint(file: string, result: ValidationResult, io: CliIo): Promise<void> {
  const hint = result.valid ? undefined : await fileHint(file);
  if (hint) io.stderr(`datalake: hint: ${hint}\n`);
}

/** The whole file in one pass, as a stream. */
async function onePass(
  file: string,
  pipe: boolean,
  dataset: Dataset,
  options: ValidateCsvOptions,
  signal: AbortSignal | undefined,
): Promise<ValidationRun> {
  const source = pipe ? await pipeSource(file) : createReadStream(file, { highWaterMark: 1 << 20 });
  // Ctrl-C destroys the stream: the validator's next read throws and the command ends there.
  if (signal) addAbortSignal(signal, source);
  return validateCsv(source, dataset, options);
}

/**
 * A named pipe (or `<(…)`) read through libuv's pipe handle, which reads without blocking. A file
 * stream reads it in the thread pool, where a read waiting for data that never comes keeps the
 * process from exiting after Ctrl-C (Node joins the pool's threads at exit). The open itself waits
 * for a writer, as a file stream's does.
 */
async function pipeSource(file: string): Promise<Socket> {
  const fd = await new Promise<number>((resolve, reject) =>
    open(file, 'r', (error, descriptor) => (error ? reject(error) : resolve(descriptor))),
  );
  return new Socket({ fd, readable: true, writable: false });
}

function progressLine(io: CliIo, size: number) {
  let last = 0;
  return {
    update(bytesRead: number) {
      const now = performance.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      const pct = Math.min(100, Math.floor((bytesRead / size) * 100));
      io.stderr(`\rvalidating… ${pct}% (${megabytes(bytesRead)} of ${megabytes(size)})`);
    },
    clear() {
      io.stderr('\r\x1b[2K');
    },
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A size for people: B, KB, MB or GB (decimal units, as the rates are). */
export function sizeText(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} KB`;
  return bytes < 1e9 ? megabytes(bytes) : `${(bytes / 1e9).toFixed(2)} GB`;
}

/** The human report: a one-line verdict, the first errors as a table, the counts per column. */
export function humanReport(
  file: string,
  dataset: string,
  result: ValidationResult,
  seconds: number,
): string {
  // The rate of the bytes read (compressed ones for gzip); slow rates keep a decimal, not "0 MB/s".
  const mbPerSecond = result.bytes / 1e6 / seconds;
  const rate =
    result.bytes >= 1e6 && seconds > 0
      ? `, ${mbPerSecond.toFixed(mbPerSecond < 10 ? 1 : 0)} MB/s${result.compressed ? ' compressed' : ''}`
      : '';
  const size = `${result.rows.toLocaleString('en-US')} rows, ${sizeText(result.bytes)}${result.compressed ? ' gzip' : ''} in ${seconds.toFixed(2)} s${rate}`;
  if (result.valid) return `✓ ${escapeControl(file)} is valid for dataset "${dataset}" (${size})\n`;

  const plural = result.errorCount === 1 ? 'error' : 'errors';
  const lines = [
    `✗ ${escapeControl(file)} is invalid for dataset "${dataset}": ${result.errorCount.toLocaleString('en-US')} ${plural} (${size})`,
    '',
  ];
  lines.push(...errorTable(result.errors));
  if (result.errors.length < result.errorCount) {
    lines.push(
      `… and ${(result.errorCount - result.errors.length).toLocaleString('en-US')} more (raise --max-errors to list them)`,
    );
  }
  const byColumn = Object.entries(result.errorsByColumn).sort((a, b) => b[1] - a[1]);
  if (byColumn.length > 0) {
    lines.push('', 'errors by column:');
    lines.push(
      ...table(
        ['column', 'errors'],
        byColumn.map(([c, n]) => [c, n.toLocaleString('en-US')]),
      ),
    );
  }
  const recordLevel = Object.entries(result.errorsByRule).filter(([rule]) =>
    result.errors.some((e) => e.rule === rule && e.column === null),
  );
  if (recordLevel.length > 0) {
    lines.push('', 'file and record errors:');
    lines.push(
      ...table(
        ['rule', 'errors'],
        recordLevel.map(([r, n]) => [r, (n ?? 0).toLocaleString('en-US')]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
