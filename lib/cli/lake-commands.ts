/**
 * The operator commands, each written once against a {@link LakeTarget} (the local lake or a
 * deployed stack): `put` checks and uploads a file and follows it in the ledger, `files` lists the
 * ledger, `report` says what became of one file (a rejected one's errors), `query` runs SQL over
 * the curated tables, `subscribe` adds a subscriber to the pipeline's events.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { SingleBar } from 'cli-progress';
import type { PipelineStatus, ReportedError } from '../../lambdas/shared/contract.ts';
import type { ErrorReport } from '../../lambdas/validate/core.ts';
import { AthenaQueryError } from '../aws/athena.ts';
import { loadDatasets } from '../datasets/load.ts';
import type { SnapshotSelector } from '../iceberg/scan.ts';
import { isTerminal, type LedgerItem, type LedgerStatus, ledgerVersion } from '../ledger/model.ts';
import { QueryError } from '../local/query-error.ts';
import { escapeControl } from '../text.ts';
import { defaultThreads } from '../validation/parallel.ts';
import { readReport as readStoredReport, reportErrors } from '../validation/reports.ts';
import { CliError, EXIT, exitCodeOf, type StopSignal, UsageError, untilAborted } from './failures.ts';
import { ERROR_COLUMNS, errorCells, errorTable, printRows, table } from './format.ts';
import type { CliIo } from './main.ts';
import type { LakeTarget, QueryAnswer } from './target.ts';
import { humanReport, printHint, sizeText, validateFile } from './validate-command.ts';

/** Options of `datalake put`. */
export interface PutArgs {
  readonly file: string;
  readonly dataset: string;
  /** The landing key. @default - `<dataset>/<file name>` */
  readonly key?: string;
  /** Upload a file the lake's rules find invalid (it will be REJECTED, with its report). */
  readonly force: boolean;
  /** Follow the ledger until the file is terminal. */
  readonly wait: boolean;
  /** Seconds to follow the ledger at most (exit 1 when the file is not terminal by then); no limit when absent. */
  readonly timeoutSeconds?: number;
  readonly json: boolean;
}

/** Errors `put` and `report` list before pointing at `report --all` (as `local ingest` lists). */
const LISTED_ERRORS = 100;

/** How long `put` waits for the file's first ledger item before it says where to look. */
const UNSEEN_HINT_MS = 60_000;

/** The first and the longest pause between two reads of the ledger while `put` waits. */
const FOLLOW_FIRST_MS = 200;
const FOLLOW_MAX_MS = 5_000;

/** A file `put` checked and may upload. */
export interface CheckedFile {
  readonly key: string;
  readonly size: number;
  readonly rows: number;
  readonly valid: boolean;
}

/**
 * The first half of `put`, before any lake or stack is touched: validates the file with the
 * declarations in `datasetsDir` (the lake's rules); an invalid one is refused (its report printed
 * as `validate` prints it, and exit 1) unless `force`. Returns the exit code when refused.
 */
export async function checkFile(
  args: PutArgs,
  datasetsDir: string,
  io: CliIo,
): Promise<CheckedFile | number> {
  const say = (text: string) => (args.json ? io.stderr(text) : io.stdout(text));
  const { result, dataset, seconds } = await validateFile(
    {
      file: args.file,
      dataset: args.dataset,
      datasetsDir,
      json: false,
      maxErrors: LISTED_ERRORS,
      maxRecordBytes: undefined,
      threads: defaultThreads(),
    },
    io,
  );
  // validate reads a pipe; an upload would need to read it again.
  const info = await stat(args.file);
  if (!info.isFile())
    throw new CliError(`cannot upload "${args.file}": not a file (a pipe is read once: save it first)`);
  const key = args.key ?? `${dataset}/${basename(args.file)}`;
  if (!result.valid && !args.force) {
    if (args.json) io.stdout(`${JSON.stringify({ uploaded: false, key, validation: result })}\n`);
    else io.stdout(humanReport(basename(args.file), dataset, result, seconds));
    await printHint(args.file, result, io);
    io.stderr('datalake: not uploaded: the lake would reject it (--force uploads it anyway)\n');
    return EXIT.invalid;
  }
  if (result.valid) say(humanReport(basename(args.file), dataset, result, seconds));
  else {
    await printHint(args.file, result, io);
    io.stderr(
      `datalake: uploading an invalid file (--force): ${result.errorCount.toLocaleString('en-US')} errors; the lake will reject it\n`,
    );
  }
  return { key, size: info.size, rows: result.rows, valid: result.valid };
}

/**
 * `put`, once {@link checkFile} let the file through: uploads it to landing and follows its
 * ledger item until it is terminal; exit 0 CURATED, 1 otherwise.
 */
export async function putCommand(
  args: PutArgs & { readonly checked: CheckedFile },
  target: LakeTarget,
  io: CliIo,
): Promise<number> {
  const say = (text: string) => (args.json ? io.stderr(text) : io.stdout(text));
  const { key, size } = args.checked;
  const version = await upload(target, key, args.file, size, io);
  const where = `s3://${target.buckets.landing}/${key}`;
  say(`uploaded ${escapeControl(where)} (${sizeText(size)}, version ${version}) to ${target.label}\n`);
  if (!args.wait) {
    if (args.json) io.stdout(`${JSON.stringify({ uploaded: true, key, version, status: null })}\n`);
    return EXIT.ok;
  }
  let item: LedgerItem;
  // No item for a minute: the workflow never started (an S3 event lost or late, a trigger that
  // failed). Waiting goes on, but the person waiting is told where to look.
  const unseen = setTimeout(
    () =>
      io.stderr(
        `datalake: no ledger item for ${escapeControl(key)} after ${UNSEEN_HINT_MS / 1000} s: the workflow has not started it yet (S3's event may be late or lost; \`datalake reconcile\` finds and starts such files); still waiting (Ctrl-C stops waiting)\n`,
      ),
    UNSEEN_HINT_MS,
  );
  // Waiting stops on Ctrl-C, or at --timeout (for scripts and CI, which no one is watching).
  const signals = [
    ...(io.signal ? [io.signal] : []),
    ...(args.timeoutSeconds === undefined ? [] : [AbortSignal.timeout(args.timeoutSeconds * 1000)]),
  ];
  const waiting = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  let last: LedgerStatus | undefined;
  const stoppedWaiting = (why: string) =>
    io.stderr(
      `datalake: ${why}; the file is uploaded (${escapeControl(where)}, version ${version}${last ? `, last ${last}` : ''}): \`datalake report ${escapeControl(key)}\` tells what became of it\n`,
    );
  try {
    item = await follow(
      target,
      key,
      version,
      (status) => {
        clearTimeout(unseen);
        last = status;
        say(`  ${clock()} ${status}\n`);
      },
      waiting,
    );
  } catch (error) {
    if (io.signal?.aborted) {
      stoppedWaiting('stopped waiting');
      return exitCodeOf(io.signal.reason as StopSignal);
    }
    if (!waiting?.aborted) throw error;
    stoppedWaiting(`stopped waiting after --timeout ${args.timeoutSeconds} s`);
    return EXIT.invalid;
  } finally {
    clearTimeout(unseen);
  }
  if (args.json)
    io.stdout(`${JSON.stringify({ uploaded: true, key, version, status: item.status, item })}\n`);
  else io.stdout(`${escapeControl(verdict(item))}\n`);
  if (item.status === 'REJECTED' && !args.json)
    io.stdout(`  \`datalake report ${escapeControl(key)}\` lists its errors\n`);
  return item.status === 'CURATED' ? EXIT.ok : EXIT.invalid;
}

/**
 * Uploads the file with lib-storage (multipart above its part size), a progress bar on stderr
 * when it is a terminal; returns the ledger's version of the object. Ctrl-C aborts the upload.
 */
async function upload(
  target: LakeTarget,
  key: string,
  file: string,
  size: number,
  io: CliIo,
): Promise<string> {
  const upload = new Upload({
    client: target.s3,
    params: { Bucket: target.buckets.landing, Key: key, Body: createReadStream(file) },
  });
  const bar = io.stderrIsTty ? progressBar(io, size) : undefined;
  upload.on('httpUploadProgress', (progress) => bar?.update(progress.loaded ?? 0));
  io.signal?.addEventListener('abort', () => void upload.abort(), { once: true });
  try {
    const done = await untilAborted(upload.done(), io.signal);
    bar?.update(size);
    return ledgerVersion({
      versionId: done.VersionId ?? null,
      etag: done.ETag ? done.ETag.replace(/"/g, '') : null,
    });
  } finally {
    bar?.stop();
  }
}

/** A progress bar as `upload` moves it. */
interface Progress {
  update(loaded: number): void;
  stop(): void;
}

/** A cli-progress bar drawn through `io.stderr` (a terminal: the caller checked). */
function progressBar(io: CliIo, size: number): Progress {
  // cli-progress writes to a stream and moves the cursor with readline, which only calls write().
  const stream = {
    isTTY: true,
    columns: 80,
    write: (text: string) => {
      io.stderr(text);
      return true;
    },
  };
  const bar = new SingleBar({
    stream: stream as unknown as NodeJS.WritableStream,
    format: 'uploading [{bar}] {percentage}% | {done} of {size}',
    clearOnComplete: true,
    hideCursor: true,
  });
  bar.start(size, 0, { done: sizeText(0), size: sizeText(size) });
  return {
    update: (loaded) => bar.update(loaded, { done: sizeText(loaded) }),
    stop: () => bar.stop(),
  };
}

/**
 * Reads the item of `key` at `version` until its status is terminal, calling `onStatus` at each
 * change; the pause between two reads doubles up to {@link FOLLOW_MAX_MS}.
 */
async function follow(
  target: LakeTarget,
  key: string,
  version: string,
  onStatus: (status: LedgerStatus) => void,
  signal: AbortSignal | undefined,
): Promise<LedgerItem> {
  let last: LedgerStatus | undefined;
  for (let pause = FOLLOW_FIRST_MS; ; pause = Math.min(pause * 2, FOLLOW_MAX_MS)) {
    const item = await untilAborted(target.ledger.get(key, version), signal);
    if (item && item.status !== last) {
      last = item.status;
      onStatus(item.status);
      // A change: the next one may follow soon.
      pause = FOLLOW_FIRST_MS / 2;
    }
    if (item && isTerminal(item.status)) return item;
    await untilAborted(new Promise((r) => setTimeout(r, pause)), signal);
  }
}

/** One line saying where a file ended. */
function verdict(item: LedgerItem): string {
  const rows = item.rows === undefined ? '' : `, ${item.rows.toLocaleString('en-US')} rows`;
  const errors = item.errorCount ? `, ${item.errorCount.toLocaleString('en-US')} errors` : '';
  const reason = item.reason ? `: ${item.reason}${item.cause ? ` (${item.cause})` : ''}` : '';
  const mark = item.status === 'CURATED' ? '✓' : isTerminal(item.status) ? '✗' : '…';
  return `${mark} ${item.key} → ${item.status}${reason} (dataset ${item.dataset}${rows}${errors})`;
}

/** Options of `datalake files`. */
export interface FilesArgs {
  readonly dataset?: string;
  readonly status?: LedgerStatus;
  /** Received at or after (ISO 8601). */
  readonly since?: string;
  readonly limit: number;
  readonly json: boolean;
}

/**
 * `files`: the ledger, newest first. `--json` prints an array of the items, each with at least
 * `dataset`, `key`, `status`, `rows` and `errorCount` (null when the ledger has none yet).
 */
export async function filesCommand(args: FilesArgs, target: LakeTarget, io: CliIo): Promise<number> {
  const items = await untilAborted(
    target.ledger.list({
      limit: args.limit,
      ...(args.dataset ? { dataset: args.dataset } : {}),
      ...(args.status ? { status: args.status } : {}),
      ...(args.since ? { since: args.since } : {}),
    }),
    io.signal,
  );
  if (args.json) {
    const rows = items.map((item) => ({
      ...item,
      rows: item.rows ?? null,
      errorCount: errorCountOf(item),
      reason: item.reason ?? null,
    }));
    io.stdout(`${JSON.stringify(rows)}\n`);
    return EXIT.ok;
  }
  if (items.length === 0) {
    io.stdout(
      `no files in the ledger of ${target.label}${args.dataset || args.status || args.since ? ' that match' : ''}\n`,
    );
    return EXIT.ok;
  }
  const lines = table(
    ['received', 'status', 'dataset', 'key', 'rows', 'errors', 'reason'],
    items.map((i) => [
      i.receivedAt.replace('T', ' ').slice(0, 19),
      i.status,
      i.dataset,
      i.key,
      i.rows === undefined ? '' : i.rows.toLocaleString('en-US'),
      errorCountOf(i)?.toLocaleString('en-US') ?? '',
      i.reason ?? '',
    ]),
  );
  const more = items.length === args.limit ? `\n(the newest ${args.limit}; --limit shows more)` : '';
  io.stdout(`${lines.join('\n')}${more}\n`);
  return EXIT.ok;
}

/** A file's error count, as the workflow wrote it with its verdict; null before the verdict. */
function errorCountOf(item: LedgerItem): number | null {
  return item.errorCount ?? null;
}

/** Options of `datalake report`. */
export interface ReportArgs {
  readonly key: string;
  /** The version to report. @default - the newest */
  readonly version?: string;
  /** Stream every error of a rejected file from its JSON Lines parts. */
  readonly all: boolean;
  readonly json: boolean;
}

/**
 * `report`: what became of one file. A REJECTED one's report: reason, counts and first errors (or,
 * with `all`, every error, streamed); exit 0 CURATED or still running, 1 REJECTED, FAILED or a key
 * the ledger does not know.
 */
export async function reportCommand(args: ReportArgs, target: LakeTarget, io: CliIo): Promise<number> {
  const item = await untilAborted(
    args.version === undefined
      ? target.ledger.versions(args.key).then((versions) => versions[0])
      : target.ledger.get(args.key, args.version),
    io.signal,
  );
  if (!item) {
    const which = args.version === undefined ? '' : ` at version ${args.version}`;
    io.stderr(
      `datalake: no file ${escapeControl(JSON.stringify(args.key))}${which} in the ledger of ${target.label}\n`,
    );
    return EXIT.invalid;
  }
  const code = item.status === 'REJECTED' || item.status === 'FAILED' ? EXIT.invalid : EXIT.ok;
  const report =
    item.status === 'REJECTED' && item.report ? await readReport(target, item.report, io) : undefined;
  if (args.all && report) {
    if (!args.json) io.stdout(`${escapeControl(describeItem(item, report).join('\n'))}\n\n`);
    await streamErrors(target, report, args.json, io);
    return code;
  }
  if (args.json) {
    io.stdout(`${JSON.stringify({ item, ...(report ? { report } : {}) })}\n`);
    return code;
  }
  const lines = describeItem(item, report);
  if (report && report.errors.length > 0) {
    const listed = report.errors.slice(0, LISTED_ERRORS);
    lines.push('', ...errorTable(listed));
    if (listed.length < report.errorCount) {
      lines.push(
        `… and ${(report.errorCount - listed.length).toLocaleString('en-US')} more (--all lists every one)`,
      );
    }
  }
  io.stdout(`${escapeControl(lines.join('\n'))}\n`);
  return code;
}

/** The head of a report: the verdict, the version and what the zones hold. */
function describeItem(item: LedgerItem, report: ErrorReport | undefined): string[] {
  const lines = [verdict(item), `  version:   ${item.version}`, `  received:  ${item.receivedAt}`];
  if (report) {
    lines.push(
      `  rows:      ${report.rows.toLocaleString('en-US')}, errors: ${report.errorCount.toLocaleString('en-US')}`,
    );
    const byColumn = Object.entries(report.errorsByColumn).sort((a, b) => b[1] - a[1]);
    if (byColumn.length > 0)
      lines.push(`  by column: ${byColumn.map(([c, n]) => `${c} ${n.toLocaleString('en-US')}`).join(', ')}`);
  }
  if (item.status === 'RECEIVED' || item.status === 'VALIDATED') lines.push('  still running');
  for (const [label, uri] of [
    ['raw:      ', item.raw],
    ['curated:  ', item.curated],
    ['failure:  ', item.failure],
    ['report:   ', item.report],
  ] as const) {
    if (uri) lines.push(`  ${label} ${uri}`);
  }
  // The table version that holds the file's rows: the id to pin a read or a training set to.
  if (item.snapshotId)
    lines.push(`  snapshot:  ${item.snapshotId} (datalake query --snapshot ${item.snapshotId})`);
  if (item.execution) lines.push(`  execution: ${item.execution}`);
  return lines;
}

/** A rejected file's `.errors.json` report; a note on stderr when it is gone or archived. */
async function readReport(target: LakeTarget, uri: string, io: CliIo): Promise<ErrorReport | undefined> {
  const read = await untilAborted(readStoredReport(target.s3, uri), io.signal);
  if ('report' in read) return read.report;
  io.stderr(
    `datalake: the report ${escapeControl(uri)} cannot be read (${read.problem}): its errors are not listed\n`,
  );
  return undefined;
}

/**
 * Every error of a report, read line by line from its JSON Lines parts (never a whole part in
 * memory): table rows of fixed widths, or one JSON array written as it is read.
 */
async function streamErrors(
  target: LakeTarget,
  report: ErrorReport,
  json: boolean,
  io: CliIo,
): Promise<void> {
  let count = 0;
  io.stdout(json ? '[' : `${ERROR_HEAD}\n`);
  try {
    for await (const { error } of reportErrors(target.s3, report.errorFiles, undefined, io.signal)) {
      io.stdout(json ? `${count === 0 ? '' : ','}\n${JSON.stringify(error)}` : `${errorRow(error)}\n`);
      count++;
    }
  } finally {
    // Stopped part-way (a part that cannot be read, Ctrl-C), the array still closes: stdout stays
    // one JSON document, of the errors read, and the failure says on stderr and in the exit code
    // that they are not all.
    if (json) io.stdout(`${count === 0 ? '' : '\n'}]\n`);
  }
  if (!json) io.stdout(`(${count.toLocaleString('en-US')} errors)\n`);
}

/** Column widths of a streamed error table (a streamed table cannot measure its rows first). */
const ERROR_WIDTHS = [8, 20, 20, 20] as const;
const fixed = (cells: readonly string[]) =>
  cells
    .map((cell, i) => {
      const flat = escapeControl(cell.replace(/[\r\n\t]/g, ' '));
      const width = ERROR_WIDTHS[i];
      if (width === undefined) return flat;
      return (flat.length > width ? `${flat.slice(0, width - 1)}…` : flat).padEnd(width);
    })
    .join('  ')
    .trimEnd();
const ERROR_HEAD = fixed(ERROR_COLUMNS);

/** One streamed error row, cut as {@link errorTable} cuts its cells. */
function errorRow(e: ReportedError): string {
  return fixed(errorCells(e));
}

/** Options of `datalake query`. */
export interface QueryArgs {
  readonly sql: string;
  readonly json: boolean;
  /** The version of every table the query names (`--snapshot`, `--as-of`, `--tag`; local lake). */
  readonly snapshot?: SnapshotSelector;
}

/**
 * `query`: one SELECT over the curated tables. `--json` prints the row array `local query --json`
 * prints; the table adds, on AWS, the bytes scanned and their cost. Exit 1 for a failed query.
 */
export async function queryCommand(args: QueryArgs, target: LakeTarget, io: CliIo): Promise<number> {
  let answer: QueryAnswer;
  try {
    // Not raced with the signal here: the target stops the query itself (Athena's StopQueryExecution).
    answer = await target.query(args.sql, {
      ...(io.signal ? { signal: io.signal } : {}),
      ...(args.snapshot ? { snapshot: args.snapshot } : {}),
    });
  } catch (error) {
    if (!(error instanceof QueryError || error instanceof AthenaQueryError)) throw error;
    if (io.signal?.aborted) {
      // The interrupted query's fate (stopped in Athena, or why not).
      io.stderr(`datalake: ${escapeControl(error.message)}\n`);
      return exitCodeOf(io.signal.reason as StopSignal);
    }
    const scanned =
      error instanceof AthenaQueryError && error.scannedBytes !== undefined
        ? ` (after scanning ${sizeText(error.scannedBytes)})`
        : '';
    io.stderr(`datalake: query failed: ${escapeControl(error.message)}${scanned}\n`);
    return EXIT.invalid;
  }
  printRows(answer, args.json, io);
  // On stderr, so stdout stays the rows: the snapshot ids to pin the same read again (--snapshot).
  for (const v of answer.versions ?? [])
    io.stderr(`datalake: read ${escapeControl(v.table)} at snapshot ${v.snapshotId} (${v.timestamp})\n`);
  if (answer.scannedBytes !== undefined) {
    const cost = answer.costUsd === undefined ? '' : `, $${answer.costUsd.toFixed(6)}`;
    const text = `scanned ${sizeText(answer.scannedBytes)}${cost}${answer.queryId ? ` (query ${answer.queryId})` : ''}\n`;
    // Beside --json, on stderr: stdout stays the one array.
    if (args.json) io.stderr(`datalake: ${text}`);
    else io.stdout(text);
  }
  return EXIT.ok;
}

/** Options of `datalake subscribe`. */
export interface SubscribeArgs {
  readonly endpoint: string;
  readonly protocol: 'email' | 'https' | 'sqs';
  readonly statuses: readonly PipelineStatus[];
  readonly datasets: readonly string[];
  readonly json: boolean;
  /** The declarations the datasets are checked against, when the target names none. */
  readonly datasetsDir: string;
}

/** `subscribe`: a subscriber to the pipeline's events, filtered by status and dataset. */
export async function subscribeCommand(args: SubscribeArgs, target: LakeTarget, io: CliIo): Promise<number> {
  if (args.datasets.length > 0) {
    const known = await loadDatasets(target.datasetsDir ?? args.datasetsDir);
    const unknown = args.datasets.filter((d) => !known.has(d));
    if (unknown.length > 0) {
      throw new UsageError(
        `--dataset ${unknown.map((d) => JSON.stringify(d)).join(', ')}: no such dataset (known: ${[...known.keys()].join(', ')})`,
      );
    }
  }
  const answer = await untilAborted(
    target.subscribe({
      endpoint: args.endpoint,
      protocol: args.protocol,
      statuses: args.statuses,
      datasets: args.datasets,
    }),
    io.signal,
  );
  if (args.json) {
    io.stdout(`${JSON.stringify({ endpoint: args.endpoint, protocol: args.protocol, ...answer })}\n`);
    return EXIT.ok;
  }
  const policy = Object.entries(answer.filterPolicy);
  const lines = [
    `subscribed ${args.endpoint} (${args.protocol}) on ${target.label}`,
    `  subscription:  ${answer.subscription}`,
    `  filter policy: ${policy.length === 0 ? 'every event' : policy.map(([k, v]) => `${k} in ${v.join(', ')}`).join('; ')}`,
  ];
  if (answer.pendingConfirmation) {
    lines.push(
      args.protocol === 'email'
        ? '  pending confirmation: the address receives an e-mail whose link confirms it'
        : '  pending confirmation: the endpoint receives a SubscriptionConfirmation request to answer',
    );
  }
  io.stdout(`${escapeControl(lines.join('\n'))}\n`);
  return EXIT.ok;
}

/** The time of day, for the status lines `put` prints as it follows a file. */
const clock = () => new Date().toISOString().slice(11, 19);
