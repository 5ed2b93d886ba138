/**
 * The DuckDB CSV→Parquet engine: production code for the Convert Lambda (the fast path for files
 * that fit a function) and the local runtime's conversion, one module bound to both. It keeps the
 * Glue job's contract (glue-scripts/csv_to_parquet.py, glue-scripts/README.md): the same
 * arguments, guards, types, output names, staging and publish, so one conformance corpus holds
 * both engines.
 *
 * The raw object is streamed to a temp file (DuckDB has no httpfs offline, and none is bundled),
 * read by DuckDB's CSV reader with every column as text, converted by the guarded cast plan,
 * written as zstd Parquet to another temp file, uploaded to the run's staging prefix and published
 * under the names the Glue job uses. DuckDB streams the file, so memory stays flat; nothing of the
 * CSV is held in JS but its header record.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { GlueJobArguments } from '../../lambdas/shared/contract.ts';
import { isDelimiterCharacter, isQuoteCharacter } from '../datasets/model.ts';
import { errorText } from '../text.ts';
import { startsWithGzipMagic } from '../validation/validate-csv.ts';
import { PARQUET_SHARE_OF_CSV } from './lambda-sizing.ts';
import {
  type CastStep,
  castPlan,
  castSql,
  checkCounts,
  sqlIdentifier,
  sqlString,
} from './parquet-cast-plan.ts';

/** A run that must fail: bad arguments or input, failed conversions, a wrong row count. Nothing was published. */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
}

/**
 * The run needed more memory, disk or time than it was given: nothing was published, and another
 * engine with more of it (the Glue job) can convert the file. Its name is the error name the
 * workflow's Catch hands the file to Glue on, so it never changes.
 */
export class ResourceLimitError extends Error {
  override readonly name = 'ResourceLimitError';
  constructor(
    readonly resource: 'memory' | 'disk' | 'time',
    message: string,
  ) {
    super(`out of ${resource}: ${message}`);
  }
}

/** Options of {@link convertCsvToParquet}. */
export interface ConvertOptions {
  /** Folder for the run's temp files (a fresh subfolder, removed when the run ends). @default os.tmpdir() */
  readonly workDir?: string;
  /** A DuckDB instance to run on (a connection of its own is opened); by default one per run. */
  readonly instance?: DuckDBInstance;
  /**
   * Settings of the run's own DuckDB instance (`threads`, `memory_limit`,
   * `max_temp_directory_size`); ignored with `instance`. Spills go to the run's folder.
   * @default - DuckDB's defaults
   */
  readonly duckdb?: Readonly<Record<string, string>>;
  /**
   * Most bytes the run may put in its folder: a source (as stored) that, with room for a Parquet
   * of {@link PARQUET_SHARE_OF_CSV} its size, needs more is refused before it is downloaded.
   * @default - no limit
   */
  readonly maxWorkBytes?: number;
  /** `Date.now()` by which the conversion must be done, or it stops with a {@link ResourceLimitError}. @default - none */
  readonly deadline?: number;
}

/** DuckDB's words for running out of memory or of temp space (max_temp_directory_size), and the OS's for a full disk. */
const RESOURCE_MESSAGES: readonly [RegExp, ResourceLimitError['resource']][] = [
  [/max_temp_directory_size|No space left on device|ENOSPC/i, 'disk'],
  [/Out of Memory Error/, 'memory'],
];

/** The resource an error says ran out, if it says so. */
export function exhaustedResource(error: unknown): ResourceLimitError['resource'] | undefined {
  if (error instanceof ResourceLimitError) return error.resource;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOSPC') return 'disk';
  const message = error instanceof Error ? error.message : String(error);
  return RESOURCE_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}

/** What a successful run did. */
export interface ConversionResult {
  readonly rows: number;
  /** The published Parquet objects, `s3://bucket/key`. */
  readonly outputs: string[];
  /** Size of the source object as stored (compressed if gzip). */
  readonly bytesIn: number;
  /** Total size of the Parquet written. */
  readonly bytesOut: number;
  readonly seconds: number;
}

/** The job arguments, checked as the Glue script's `parse_args` checks them. */
export interface JobArgs {
  readonly dataset: string;
  readonly source: string;
  /** Ends with `/`. */
  readonly target: string;
  readonly schema: string;
  readonly expectedRows: number;
  readonly runId: string;
  readonly delimiter: string;
  /** The quote character, also the escape (a quote inside quotes is doubled). */
  readonly quote: string;
}

const REQUIRED_ARGS = ['dataset', 'source', 'target', 'schema', 'expected-rows', 'run-id'] as const;
/** A Step Functions execution name: it becomes part of an S3 key, so nothing else is accepted. */
const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;
const CSV_EXT = /\.csv(\.gz)?$/i;
const PART_DIGITS = 5;
/** A header record longer than this is not a header (the validator caps records at 1 MiB). */
const MAX_HEADER_BYTES = 4 << 20;
/** The error() text the conversion raises on the first failed check; the full counts come after. */
const CHECK_FAILED = 'csv_to_parquet: check failed';

/** Checks the job arguments; throws a {@link ConversionError} naming the bad one. */
export function parseJobArguments(args: GlueJobArguments): JobArgs {
  const get = (name: string): string | undefined => {
    const value = (args as unknown as Record<string, unknown>)[`--${name}`];
    return value === undefined || value === null ? undefined : String(value);
  };
  const missing = REQUIRED_ARGS.filter((name) => !get(name));
  if (missing.length > 0)
    throw new ConversionError(`missing job argument(s): ${missing.map((m) => `--${m}`).join(', ')}`);
  const expected = get('expected-rows')!;
  if (!/^[0-9]+$/.test(expected))
    throw new ConversionError(
      `--expected-rows must be a non-negative integer, got ${JSON.stringify(expected)}`,
    );
  const runId = get('run-id')!;
  if (!RUN_ID.test(runId))
    throw new ConversionError(
      `--run-id must be 1-80 characters of [A-Za-z0-9_-] (an execution name), got ${JSON.stringify(runId)}`,
    );
  let delimiter = get('delimiter') ?? ',';
  if (delimiter === '\\t') delimiter = '\t';
  const quote = get('quote') ?? '"';
  if (!isQuoteCharacter(quote))
    throw new ConversionError(
      `--quote must be one ASCII character above space, got ${JSON.stringify(quote)}`,
    );
  if (!isDelimiterCharacter(delimiter) || delimiter === quote)
    throw new ConversionError(
      `--delimiter must be one ASCII character other than NUL, CR, LF and the quote ${JSON.stringify(quote)}, got ${JSON.stringify(delimiter)}`,
    );
  // The Glue job's read mode (glue-scripts/README.md); DuckDB reads every file whole, so the twin
  // only checks it as the job does.
  const multiline = get('multiline');
  if (multiline !== undefined && multiline !== 'true' && multiline !== 'false')
    throw new ConversionError(`--multiline must be true or false, got ${JSON.stringify(multiline)}`);
  const source = get('source')!;
  const target = get('target')!;
  splitS3Uri(source);
  splitS3Uri(target);
  sourceStem(source);
  return {
    dataset: get('dataset')!,
    source,
    target: target.endsWith('/') ? target : `${target}/`,
    schema: get('schema')!,
    expectedRows: Number(expected),
    runId,
    delimiter,
    quote,
  };
}

/** `s3://bucket/key` → `[bucket, key]`; the key may be empty. */
export function splitS3Uri(uri: string): [string, string] {
  if (!uri.startsWith('s3://')) throw new ConversionError(`not an s3:// URI: ${JSON.stringify(uri)}`);
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!bucket) throw new ConversionError(`no bucket in S3 URI ${JSON.stringify(uri)}`);
  return [bucket, slash < 0 ? '' : rest.slice(slash + 1)];
}

/** The source file name without `.csv` / `.csv.gz` (any case). */
export function sourceStem(source: string): string {
  const [, key] = splitS3Uri(source);
  const name = key.slice(key.lastIndexOf('/') + 1);
  const match = CSV_EXT.exec(name);
  if (!match || match.index === 0)
    throw new ConversionError(
      `the source must be a .csv or .csv.gz file with a name, got ${JSON.stringify(source)}`,
    );
  return name.slice(0, match.index);
}

/**
 * The stem output files are named by: a leading `_`, `.` or `%` is percent-encoded, since Athena,
 * Hive and Spark skip files named `_…`/`.…`; the mapping stays one-to-one.
 */
export function outputStem(source: string): string {
  const stem = sourceStem(source);
  const first = stem[0]!;
  return '_.%'.includes(first)
    ? `%${first.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}${stem.slice(1)}`
    : stem;
}

function targetPrefix(target: string): [string, string] {
  const [bucket, key] = splitS3Uri(target);
  return [bucket, key && !key.endsWith('/') ? `${key}/` : key];
}

/** `s3://<target>_staging/<run-id>/`: the run's scratch space, deleted when the run ends. */
export function stagingPrefix(target: string, runId: string): string {
  const [bucket, key] = targetPrefix(target);
  if (!RUN_ID.test(runId)) throw new ConversionError(`invalid run id ${JSON.stringify(runId)}`);
  return `s3://${bucket}/${key}_staging/${runId}/`;
}

/** The key (in the target bucket) of output part `index`: `<prefix><stem>-part-NNNNN.parquet`. */
export function outputKey(target: string, source: string, index: number): string {
  if (!(index >= 0 && index < 10 ** PART_DIGITS))
    throw new ConversionError(`part index ${index} out of range`);
  const [, key] = targetPrefix(target);
  return `${key}${outputStem(source)}-part-${String(index).padStart(PART_DIGITS, '0')}.parquet`;
}

/** Matches exactly the output file names (not keys) of `source`, never another stem's. */
export function outputNamePattern(source: string): RegExp {
  const stem = outputStem(source).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${stem}-part-[0-9]{${PART_DIGITS}}\\.parquet$`);
}

/** The first record of a CSV file and how its lines end. */
export interface HeaderRecord {
  /** Header cells, a leading BOM dropped. */
  readonly cells: string[];
  /**
   * True when the file's first line break is CRLF: Spark's reader (univocity, line-separator
   * detection in multiLine mode) then takes CRLF as the separator and stores a CRLF inside a
   * quoted value as LF.
   */
  readonly crlf: boolean;
}

/**
 * Parses the first record of `text` (RFC 4180 with `quote` as the quote character, a quote inside
 * an unquoted field is literal); undefined when `text` may not hold all of it yet.
 */
export function parseFirstRecord(
  text: string,
  delimiter: string,
  atEnd: boolean,
  quote = '"',
): HeaderRecord | undefined {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const cells: string[] = [];
  for (;;) {
    let cell = '';
    if (text[i] === quote) {
      i++;
      for (;;) {
        const close = text.indexOf(quote, i);
        if (close < 0) {
          if (atEnd) throw new ConversionError('the header has a quoted field that is not closed');
          return undefined;
        }
        cell += text.slice(i, close);
        if (close + 1 === text.length && !atEnd) return undefined;
        if (text[close + 1] === quote) {
          cell += quote;
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      const next = text[i];
      if (next !== undefined && next !== delimiter && next !== '\r' && next !== '\n')
        throw new ConversionError('the header has text after a closing quote');
    } else {
      let end = i;
      while (end < text.length && text[end] !== delimiter && text[end] !== '\r' && text[end] !== '\n') end++;
      cell = text.slice(i, end);
      i = end;
    }
    cells.push(cell);
    if (i >= text.length && !atEnd) return undefined;
    if (text[i] === delimiter) {
      i++;
      continue;
    }
    break;
  }
  // univocity detects the separator from the first line break in the input.
  const lineBreak = text.search(/[\r\n]/);
  if (lineBreak >= 0 && lineBreak === text.length - 1 && text[lineBreak] === '\r' && !atEnd) return undefined;
  return { cells, crlf: lineBreak >= 0 && text[lineBreak] === '\r' && text[lineBreak + 1] === '\n' };
}

/** Reads the header record of a (possibly gzipped) CSV file, streaming only as far as it goes. */
export async function readHeaderRecord(
  path: string,
  gzip: boolean,
  delimiter: string,
  quote = '"',
): Promise<HeaderRecord> {
  const file = createReadStream(path, { highWaterMark: 1 << 16 });
  const gunzip = gzip ? createGunzip() : undefined;
  const stream: Readable = gunzip ? file.pipe(gunzip) : file;
  if (gunzip) file.on('error', (error) => gunzip.destroy(error));
  const decoder = new TextDecoder('utf-8');
  let text = '';
  try {
    for await (const chunk of stream) {
      text += decoder.decode(chunk as Buffer, { stream: true });
      const record = parseFirstRecord(text, delimiter, false, quote);
      if (record) return record;
      if (text.length > MAX_HEADER_BYTES)
        throw new ConversionError(`no end of the header record in the first ${MAX_HEADER_BYTES} bytes`);
    }
  } catch (error) {
    if (error instanceof ConversionError) throw error;
    throw new ConversionError(`the source could not be read: ${(error as Error).message}`);
  } finally {
    file.destroy();
    gunzip?.destroy();
  }
  text += decoder.decode();
  return parseFirstRecord(text, delimiter, true, quote) ?? { cells: [], crlf: false };
}

/**
 * The position in the file of each planned column, found by its header text or, as the validator
 * also accepts, its name (the script's `header_positions`).
 */
export function headerPositions(fileHeaders: readonly string[], plan: readonly CastStep[]): number[] {
  const headers = [...fileHeaders];
  if (headers.length > 0) headers[0] = headers[0]!.replace(/^\ufeff/, '');
  const positions: number[] = [];
  const missing: string[] = [];
  for (const step of plan) {
    const byHeader = headers.indexOf(step.header);
    const position = byHeader >= 0 ? byHeader : headers.indexOf(step.column);
    if (position >= 0) positions.push(position);
    else missing.push(step.header);
  }
  if (missing.length > 0)
    throw new ConversionError(
      `the file's header has no column ${missing.map(pyRepr).join(', ')} (file header: ${headers.map(pyRepr).join(', ')})`,
    );
  return positions;
}

/** Python's repr of a string (printable text), so that messages read the same from both engines. */
function pyRepr(text: string): string {
  const escaped = text
    .replaceAll('\\', '\\\\')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('\t', '\\t');
  return text.includes("'") && !text.includes('"') ? `"${escaped}"` : `'${escaped.replaceAll("'", "\\'")}'`;
}

/** Converts one raw CSV object to Parquet under the target, as the Glue job does (see the module doc). */
export async function convertCsvToParquet(
  args: GlueJobArguments,
  s3: S3Client,
  options: ConvertOptions = {},
): Promise<ConversionResult> {
  const started = performance.now();
  const job = parseJobArguments(args);
  let plan: CastStep[];
  try {
    plan = castPlan(job.schema);
  } catch (error) {
    throw new ConversionError((error as Error).message);
  }
  const base = options.workDir ?? os.tmpdir();
  await mkdir(base, { recursive: true });
  const workDir = await mkdtemp(join(base, 'csv-to-parquet-'));
  let instance = options.instance;
  const deadline = options.deadline;
  const timeLeft = new AbortController();
  const timer =
    deadline === undefined
      ? undefined
      : setTimeout(() => timeLeft.abort(), Math.max(0, deadline - Date.now()));
  try {
    // DuckDB spills to the run's folder, not to a .tmp in the working directory.
    instance ??= await DuckDBInstance.create(':memory:', {
      ...options.duckdb,
      temp_directory: join(workDir, 'duckdb-spill'),
    });
    const sourcePath = join(workDir, 'source');
    const bytesIn = await download(s3, job.source, sourcePath, {
      signal: timeLeft.signal,
      maxWorkBytes: options.maxWorkBytes,
    });
    const gzip = await fileIsGzip(sourcePath);
    const header = await readHeaderRecord(sourcePath, gzip, job.delimiter, job.quote);
    const positions = headerPositions(header.cells, plan);
    const parquetPath = join(workDir, 'part-00000.parquet');
    const connection = await instance.connect();
    // At the deadline DuckDB stops the query (INTERRUPT), which is then reported as out of time.
    const interrupt = () => connection.interrupt();
    timeLeft.signal.addEventListener('abort', interrupt);
    let rows: number;
    try {
      if (timeLeft.signal.aborted) throw outOfTime();
      rows = await writeParquet(connection, job, plan, {
        sourcePath,
        gzip,
        header,
        positions,
        parquetPath,
      });
    } catch (error) {
      if (timeLeft.signal.aborted) throw outOfTime();
      throw error;
    } finally {
      timeLeft.signal.removeEventListener('abort', interrupt);
      connection.closeSync();
    }
    const bytesOut = (await stat(parquetPath)).size;
    const outputs = await publish(s3, job, [parquetPath]);
    return { rows, outputs, bytesIn, bytesOut, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    // As the Glue job: the run's outcome stands; a leftover hidden staging folder is harmless.
    await cleanStaging(s3, job).catch(() => undefined);
    if (!options.instance) instance?.closeSync();
    await rm(workDir, { recursive: true, force: true });
  }
}

function outOfTime(): ResourceLimitError {
  return new ResourceLimitError('time', 'the conversion did not end before its deadline');
}

/**
 * Streams the source object to `path`; its size in bytes. A source too large for `maxWorkBytes`
 * is refused from its Content-Length; a full disk or the deadline stops it as a {@link ResourceLimitError}.
 */
async function download(
  s3: S3Client,
  source: string,
  path: string,
  limits: { readonly signal: AbortSignal; readonly maxWorkBytes: number | undefined },
): Promise<number> {
  const [bucket, key] = splitS3Uri(source);
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: limits.signal,
    });
    const body = response.Body as Readable | undefined;
    if (!body) throw new ConversionError(`the source ${source} has no body`);
    const size = response.ContentLength;
    if (limits.maxWorkBytes !== undefined && size !== undefined) {
      const needed = Math.ceil(size * (1 + PARQUET_SHARE_OF_CSV));
      if (needed > limits.maxWorkBytes) {
        body.destroy();
        throw new ResourceLimitError(
          'disk',
          `the source (${size} bytes) and its Parquet need about ${needed} bytes of the run's ${limits.maxWorkBytes}`,
        );
      }
    }
    await pipeline(body, createWriteStream(path), { signal: limits.signal });
  } catch (error) {
    if (limits.signal.aborted) throw outOfTime();
    if (exhaustedResource(error) === 'disk' && !(error instanceof ResourceLimitError))
      throw new ResourceLimitError('disk', `writing the source to the run's folder: ${errorText(error)}`);
    throw error;
  }
  return (await stat(path)).size;
}

/** Gzip is told by content, as the validator and the Glue job tell it, never by the name. */
async function fileIsGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return startsWithGzipMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

interface WriteInput {
  readonly sourcePath: string;
  readonly gzip: boolean;
  readonly header: HeaderRecord;
  readonly positions: readonly number[];
  readonly parquetPath: string;
}

/** What DuckDB's CSV reader needs to read a source as the job does. */
export interface CsvSource {
  readonly path: string;
  readonly gzip: boolean;
  readonly delimiter: string;
  readonly quote: string;
  /** Fields in the header record: the file's columns are read as text `c0`, `c1`, …. */
  readonly columns: number;
}

/**
 * The twin's reading of a source as a relation: the header skipped, every field as text `c<i>`,
 * NULL for an unquoted empty field only, the dataset's quote as quote and escape.
 */
export function csvReadSql(source: CsvSource): string {
  const columns = Array.from({ length: source.columns }, (_, i) => `${sqlString(`c${i}`)}: 'VARCHAR'`).join(
    ', ',
  );
  // Every dialect option is explicit: no sniffing. allow_quoted_nulls=false keeps a quoted "" an
  // empty string while an unquoted empty field is NULL. No new_line option: DuckDB then takes LF
  // and CRLF, whereas a new_line that does not match the file reads zero rows without an error.
  const read = `read_csv(${sqlString(source.path)}, auto_detect = false, header = true, delim = ${sqlString(source.delimiter)}, quote = ${sqlString(source.quote)}, escape = ${sqlString(source.quote)}, allow_quoted_nulls = false, strict_mode = true, compression = ${source.gzip ? "'gzip'" : "'none'"}, columns = {${columns}})`;
  // Spark skips blank lines; in a one-column file a blank line is the only way to write a NULL,
  // so dropping NULL rows there reads what Spark reads (the row count check decides the rest).
  return source.columns === 1 ? `(SELECT * FROM ${read} WHERE ${sqlIdentifier('c0')} IS NOT NULL)` : read;
}

/** The typed relation: each planned column's raw text as `r<k>` and its typed value as `t<k>`. */
function typedRelation(plan: readonly CastStep[], job: JobArgs, input: WriteInput): string {
  const read = csvReadSql({
    path: input.sourcePath,
    gzip: input.gzip,
    delimiter: job.delimiter,
    quote: job.quote,
    columns: input.header.cells.length,
  });
  const items = plan.flatMap((step, k) => {
    const raw = sqlIdentifier(`c${input.positions[k]}`);
    return [
      `${raw} AS r${k}`,
      `CAST(${castSql(step, raw, { normalizeCrlf: input.header.crlf })} AS ${step.duckdbType}) AS t${k}`,
    ];
  });
  return `(SELECT ${items.join(', ')} FROM ${read})`;
}

/**
 * Writes the Parquet file in one pass over the CSV; a failed conversion or a NULL in a
 * non-nullable column stops it (DuckDB's error()), and a second pass then counts every problem
 * for the message. Returns the row count, checked against `--expected-rows`.
 */
async function writeParquet(
  connection: DuckDBConnection,
  job: JobArgs,
  plan: readonly CastStep[],
  input: WriteInput,
): Promise<number> {
  // Timestamps without an offset are UTC; SET is scoped to this connection.
  await connection.run(`SET TimeZone = 'UTC'`);
  const relation = typedRelation(plan, job, input);
  const checked = plan.map((step, k) => {
    const failed = !step.nullable
      ? `t${k} IS NULL`
      : step.sparkType === 'STRING'
        ? undefined
        : `t${k} IS NULL AND r${k} IS NOT NULL`;
    const value = failed
      ? `CAST(CASE WHEN ${failed} THEN error(${sqlString(CHECK_FAILED)}) ELSE t${k} END AS ${step.duckdbType})`
      : `t${k}`;
    return `${value} AS ${sqlIdentifier(step.column)}`;
  });
  const copy = `COPY (SELECT ${checked.join(', ')} FROM ${relation}) TO ${sqlString(input.parquetPath)} (FORMAT parquet, COMPRESSION zstd)`;
  let rowCount: number;
  try {
    const result = await connection.runAndReadAll(copy);
    rowCount = Number(result.getRows()[0]?.[0] ?? 0);
  } catch (error) {
    const message = (error as Error).message;
    const resource = exhaustedResource(error);
    if (resource) throw new ResourceLimitError(resource, firstLine(message));
    if (!message.includes(CHECK_FAILED)) throw unreadable(job, message);
    throw new ConversionError(
      `dataset ${job.dataset}, source ${job.source}: ${await countProblems(connection, job, plan, relation)}`,
    );
  }
  const problem = checkCounts(plan, job.expectedRows, rowCount, new Map());
  if (problem) throw new ConversionError(`dataset ${job.dataset}, source ${job.source}: ${problem}`);
  return rowCount;
}

/** The script's `check_aggregates` pass: the row count, failed conversions and NULLs per column. */
async function countProblems(
  connection: DuckDBConnection,
  job: JobArgs,
  plan: readonly CastStep[],
  relation: string,
): Promise<string> {
  const items = ['COUNT(*) AS row_count'];
  plan.forEach((step, k) => {
    if (step.sparkType !== 'STRING')
      items.push(`SUM(CASE WHEN r${k} IS NOT NULL AND t${k} IS NULL THEN 1 ELSE 0 END) AS bad${k}`);
    if (!step.nullable) items.push(`SUM(CASE WHEN t${k} IS NULL THEN 1 ELSE 0 END) AS nul${k}`);
  });
  const [row] = (
    await connection.runAndReadAll(`SELECT ${items.join(', ')} FROM ${relation}`)
  ).getRowObjects();
  const count = (name: string) => Number(row?.[name] ?? 0);
  const bad = new Map<string, number>();
  const nul = new Map<string, number>();
  plan.forEach((step, k) => {
    if (count(`bad${k}`)) bad.set(step.column, count(`bad${k}`));
    if (count(`nul${k}`)) nul.set(step.column, count(`nul${k}`));
  });
  return checkCounts(plan, job.expectedRows, count('row_count'), bad, nul) ?? 'a check failed';
}

function firstLine(message: string): string {
  return message.split('\n').find((line) => line.trim() !== '') ?? message;
}

/** DuckDB could not read the CSV (FAILFAST in the Glue job): the first line of its message. */
function unreadable(job: JobArgs, message: string): ConversionError {
  return new ConversionError(
    `dataset ${job.dataset}, source ${job.source}: the CSV could not be read: ${firstLine(message)}`,
  );
}

/** CopySource as s3rver decodes it (decodeURI) and S3 accepts it: reserved characters such as `=` stay as they are. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURI(key)}`;
}

/** Every key under `prefix` (up to `delimiter`, when given), across all pages of the listing. */
export async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
  delimiter?: string,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: delimiter,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Deletes the keys, a thousand a request, going on past a failed batch: the keys not deleted and
 * the first reason (`[]` and `''` when every one went).
 */
export async function tryDelete(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<{ left: string[]; reason: string }> {
  const left: string[] = [];
  let reason = '';
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    try {
      const response = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const errors = response.Errors ?? [];
      left.push(...errors.map((e) => String(e.Key)));
      if (errors.length > 0) reason ||= `${errors[0]!.Code} ${errors[0]!.Message}`;
    } catch (error) {
      // The whole request failed: none of its keys is known to be gone.
      left.push(...batch);
      reason ||= errorText(error);
    }
  }
  return { left, reason };
}

/** Deletes the keys, a thousand a request; throws naming the first one left. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  const { left, reason } = await tryDelete(s3, bucket, keys);
  if (left.length > 0)
    throw new Error(
      `could not delete ${left.length} object(s) in s3://${bucket}/, first ${left[0]}: ${reason}`,
    );
}

/**
 * A publish that failed part-way: its message says exactly which parts of the source the
 * partition holds (the script's words), and that a re-run of the file repairs it.
 */
export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/**
 * Output keys as their file names, runs of consecutive parts shortened:
 * `orders-part-00000.parquet to orders-part-00002.parquet, orders-part-00005.parquet`.
 */
export function describeParts(keys: readonly string[]): string {
  const names = keys.map((k) => k.slice(k.lastIndexOf('/') + 1)).sort();
  if (names.length === 0) return 'none';
  const index = (name: string) => Number(name.slice(-'.parquet'.length - PART_DIGITS, -'.parquet'.length));
  const runs: string[][] = [];
  for (const name of names) {
    const run = runs.at(-1);
    if (run && index(name) === index(run.at(-1)!) + 1) run.push(name);
    else runs.push([name]);
  }
  return runs.map((r) => (r.length === 1 ? r[0] : `${r[0]} to ${r.at(-1)}`)).join(', ');
}

/** The way out of every partial publish: a re-run writes all its parts and deletes the source's others. */
const RERUN_REPAIRS =
  'a re-run of this file, under any run id, publishes its output whole and deletes the rest';

/** What a copy failing part-way leaves in the partition (the script's `copy_failure_message`). */
export function copyFailureMessage(
  target: string,
  total: number,
  copied: readonly string[],
  earlier: readonly string[],
  failedKey: string,
  reason: string,
): string {
  const head = `publishing to ${target} failed at part ${copied.length + 1} of ${total} (${failedKey.slice(failedKey.lastIndexOf('/') + 1)}: ${reason}). `;
  const ours = `${copied.length} of this run's ${total} parts (${describeParts(copied)})`;
  const state =
    copied.length === 0
      ? earlier.length === 0
        ? 'Nothing was published: the partition holds no output of this source.'
        : `Nothing was published: the partition still holds the earlier output of this source (${describeParts(earlier)}).`
      : earlier.length === 0
        ? `The partition holds ${ours} and no other part of this source: an incomplete output.`
        : `The partition holds a mix: ${ours} and ${earlier.length} part(s) of an earlier run of this source (${describeParts(earlier)}).`;
  return `${head}${state} It stays so until ${RERUN_REPAIRS}.`;
}

/** Every part of the run is live, but `left` (an earlier run's surplus) could not be deleted. */
export function deleteFailureMessage(
  target: string,
  published: readonly string[],
  left: readonly string[],
  reason: string,
): string {
  return `published this run's ${published.length} part(s) to ${target} (${describeParts(published)}), but could not delete ${left.length} part(s) of an earlier run of this source (${describeParts(left)}: ${reason}): readers see their rows beside this run's (duplicates) until ${RERUN_REPAIRS}.`;
}

/**
 * Uploads the parts to `<target>_staging/<run-id>/parquet/`, copies each to its final name in
 * part order (overwriting a previous run's), then deletes the source's leftover outputs that this
 * run did not write. Other sources' files are never touched. A failure part-way throws a
 * {@link PublishError} naming what the partition holds (glue-scripts/README.md, Publishing).
 */
async function publish(s3: S3Client, job: JobArgs, parts: readonly string[]): Promise<string[]> {
  const [stagingBucket, stagingKey] = splitS3Uri(`${stagingPrefix(job.target, job.runId)}parquet/`);
  const [bucket, prefix] = targetPrefix(job.target);
  const staged: string[] = [];
  let existing: string[];
  try {
    for (const [index, path] of parts.entries()) {
      const key = `${stagingKey}part-${String(index).padStart(PART_DIGITS, '0')}.parquet`;
      await new Upload({
        client: s3,
        params: {
          Bucket: stagingBucket,
          Key: key,
          Body: createReadStream(path),
          ContentType: 'application/vnd.apache.parquet',
        },
      }).done();
      staged.push(key);
    }
    existing = await listKeys(s3, bucket, `${prefix}${outputStem(job.source)}-part-`, '/');
  } catch (error) {
    throw new PublishError(
      `publishing to ${job.target} failed before its first copy (${errorText(error)}): nothing was published`,
      { cause: error },
    );
  }
  const pattern = outputNamePattern(job.source);
  const earlier = existing.filter((k) => k.startsWith(prefix) && pattern.test(k.slice(prefix.length)));
  const copied: string[] = [];
  for (const [index, key] of staged.entries()) {
    const final = outputKey(job.target, job.source, index);
    try {
      await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: final, CopySource: copySource(stagingBucket, key) }),
      );
    } catch (error) {
      // S3 makes each copy atomic: the failed key holds what it held before (if anything).
      const left = earlier.filter((k) => !copied.includes(k));
      throw new PublishError(
        copyFailureMessage(job.target, staged.length, copied, left, final, errorText(error)),
        { cause: error },
      );
    }
    copied.push(final);
  }
  const leftovers = earlier.filter((k) => !copied.includes(k)).sort();
  const { left, reason } = await tryDelete(s3, bucket, leftovers);
  if (left.length > 0) throw new PublishError(deleteFailureMessage(job.target, copied, left, reason));
  return copied.map((key) => `s3://${bucket}/${key}`);
}

async function cleanStaging(s3: S3Client, job: JobArgs): Promise<void> {
  const [bucket, prefix] = splitS3Uri(stagingPrefix(job.target, job.runId));
  await deleteKeys(s3, bucket, await listKeys(s3, bucket, prefix));
}
