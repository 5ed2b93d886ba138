/**
 * The DuckDB CSV→Parquet engine: production code for the Convert Lambda (the fast path for files
 * that fit a function) and the local runtime's conversion, one module bound to both. It keeps the
 * Glue job's contract (glue-scripts/csv_to_parquet.py, glue-scripts/README.md): the same
 * arguments, guards, types, field ids, `ingest_date` column and commit request, so one
 * conformance corpus holds both engines.
 *
 * The raw object is streamed to a temp file (DuckDB has no httpfs offline, and none is bundled),
 * read by DuckDB's CSV reader with every column as text, converted by the guarded cast plan,
 * written as zstd Parquet with Iceberg field ids to another temp file, uploaded straight to its
 * final, unique name under the target (a data file of the dataset's Iceberg table, invisible until
 * the committer appends it), and named in the commit request written last. DuckDB streams the
 * file, so memory stays flat; nothing of the CSV is held in JS but its header record.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { CommitRequestFile, GlueJobArguments } from '../../lambdas/shared/contract.ts';
import type { LineageSource } from '../datasets/derive.ts';
import { isDelimiterCharacter, isQuoteCharacter } from '../datasets/model.ts';
import { ICEBERG_SCHEMA_KEY, INGEST_DATE_FIELD_ID } from '../iceberg/schema.ts';
import { errorText } from '../text.ts';
import { startsWithGzipMagic } from '../validation/validate-csv.ts';
import { PARQUET_SHARE_OF_CSV } from './lambda-sizing.ts';
import {
  type CastStep,
  castPlan,
  castSql,
  checkCounts,
  INGEST_DATE_COLUMN,
  planIcebergSchema,
  sqlIdentifier,
  sqlString,
  writtenOrder,
} from './parquet-cast-plan.ts';

/** A run that must fail: bad arguments or input, failed conversions, a wrong row count. No commit request was written. */
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
  /** The data files written (one today), `s3://bucket/key`: the files the commit request names. */
  readonly outputs: string[];
  /** The commit request written, `--commit-request`. */
  readonly request: string;
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
  /** `YYYY-MM-DD`, the `ingest_date` of every row. */
  readonly ingestDate: string;
  /** `s3://bucket/<key>.json`: where the commit request goes. */
  readonly commitRequest: string;
  readonly schema: string;
  readonly expectedRows: number;
  readonly runId: string;
  readonly delimiter: string;
  /** The quote character, also the escape (a quote inside quotes is doubled). */
  readonly quote: string;
  /** `--source-key`: the landed object's key, the `_source_key` of every row. */
  readonly sourceKey?: string;
  /** `--source-version`: the landed object's version as the ledger names it. */
  readonly sourceVersion?: string;
  /** `--ingested-at`: when S3 received the landed object, ISO 8601 UTC with milliseconds. */
  readonly ingestedAt?: string;
}

const REQUIRED_ARGS = [
  'dataset',
  'source',
  'target',
  'ingest-date',
  'commit-request',
  'schema',
  'expected-rows',
  'run-id',
] as const;
/** A Step Functions execution name: it becomes part of an S3 key, so nothing else is accepted. */
const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;
const CSV_EXT = /\.csv(\.gz)?$/i;
const PART_DIGITS = 5;
/** Hex digits of a run's random part in its data file names. */
const UNIQUE_DIGITS = 16;
const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const UTC_INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$/;
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
  const ingestDate = get('ingest-date')!;
  if (!isCalendarDate(ingestDate))
    throw new ConversionError(`--ingest-date must be a date YYYY-MM-DD, got ${JSON.stringify(ingestDate)}`);
  const commitRequest = get('commit-request')!;
  const [, requestKey] = splitS3Uri(commitRequest);
  if (!requestKey.endsWith('.json') || requestKey.endsWith('/.json'))
    throw new ConversionError(
      `--commit-request must name a .json object, got ${JSON.stringify(commitRequest)}`,
    );
  const ingestedAt = get('ingested-at') || undefined;
  if (ingestedAt !== undefined && !isUtcInstant(ingestedAt))
    throw new ConversionError(
      `--ingested-at must be an ISO 8601 UTC instant with milliseconds (2024-01-05T10:00:00.000Z, an S3 LastModified), got ${JSON.stringify(ingestedAt)}`,
    );
  // The lineage arguments are required only by a schema with lineage fields (lineageValues): an
  // execution started before they existed carries a schema without them, and still converts.
  const sourceKey = get('source-key') || undefined;
  const sourceVersion = get('source-version') || undefined;
  return {
    dataset: get('dataset')!,
    source,
    target: target.endsWith('/') ? target : `${target}/`,
    ingestDate,
    commitRequest,
    schema: get('schema')!,
    expectedRows: Number(expected),
    runId,
    delimiter,
    quote,
    ...(sourceKey !== undefined ? { sourceKey } : {}),
    ...(sourceVersion !== undefined ? { sourceVersion } : {}),
    ...(ingestedAt !== undefined ? { ingestedAt } : {}),
  };
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ` naming a real instant (`Date.prototype.toISOString`, years 0001–9999). */
export function isUtcInstant(text: string): boolean {
  return (
    UTC_INSTANT.test(text) &&
    isCalendarDate(text.slice(0, 10)) &&
    !Number.isNaN(Date.parse(text)) &&
    new Date(text).toISOString() === text
  );
}

/**
 * The value of each lineage field of the plan (`metadata.lineage` → its argument's text; the
 * script's `lineage_values`). A schema with lineage fields needs their arguments; one without
 * them (an execution started before they existed) needs none.
 */
export function lineageValues(
  plan: readonly CastStep[],
  job: Pick<JobArgs, 'sourceKey' | 'sourceVersion' | 'ingestedAt'>,
): Partial<Record<LineageSource, string>> {
  const given: Record<LineageSource, string | undefined> = {
    source_key: job.sourceKey,
    source_version: job.sourceVersion,
    ingested_at: job.ingestedAt,
  };
  const lineage = plan.flatMap((step) => (step.lineage === null ? [] : [step.lineage]));
  const missing = lineage.filter((source) => given[source] === undefined);
  if (missing.length > 0)
    throw new ConversionError(
      `the schema has lineage fields, so the job needs ${missing.map((m) => `--${m.replaceAll('_', '-')}`).join(', ')} (the landed object's key, version and LastModified)`,
    );
  return Object.fromEntries(lineage.map((source) => [source, given[source]!]));
}

/** `YYYY-MM-DD` naming a day of the proleptic Gregorian calendar, years 0001–9999. */
export function isCalendarDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return (
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
  );
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

/** A fresh random part for a run's data file names: a re-run, or a retry under the same run id, never meets an earlier name. */
export function uniquePart(): string {
  return randomBytes(UNIQUE_DIGITS / 2).toString('hex');
}

/**
 * Most UTF-8 bytes of a data file name: the local S3 server's limit on a name
 * (lambdas/validate/core.ts `MAX_NAME_BYTES`, which test/local/s3-keys.test.ts holds this to).
 */
const MAX_DATA_FILE_NAME_BYTES = 255 - '._S3rver_metadata.json'.length;

/**
 * The stem a run's data files are named by: {@link outputStem}, cut (whole code points) and given
 * `~` and 16 hex digits of its SHA-256 when the name with `suffix` would pass the name limit. The
 * name need not map back to the source (the commit request names the files); it only reads well.
 */
export function dataFileStem(source: string, suffix: string): string {
  const stem = outputStem(source);
  const budget = MAX_DATA_FILE_NAME_BYTES - Buffer.byteLength(suffix);
  if (Buffer.byteLength(stem) <= budget) return stem;
  const tag = `~${createHash('sha256').update(stem).digest('hex').slice(0, 16)}`;
  let bytes = 0;
  let end = 0;
  for (const ch of stem) {
    bytes += Buffer.byteLength(ch);
    if (bytes > budget - tag.length) break;
    end += ch.length;
  }
  return `${stem.slice(0, end)}${tag}`;
}

/**
 * The key (in the target bucket) of data file `index` of a run:
 * `<prefix><stem>-<run-id>-<unique>-part-NNNNN.parquet` (lib/iceberg/layout.ts; the stem cut as
 * {@link dataFileStem} says). Written once, never overwritten; invisible to readers until the
 * committer appends it to the table.
 */
export function dataFileKey(
  target: string,
  source: string,
  runId: string,
  unique: string,
  index: number,
): string {
  if (!(index >= 0 && index < 10 ** PART_DIGITS))
    throw new ConversionError(`part index ${index} out of range`);
  if (!RUN_ID.test(runId)) throw new ConversionError(`invalid run id ${JSON.stringify(runId)}`);
  if (!new RegExp(`^[0-9a-f]{${UNIQUE_DIGITS}}$`).test(unique))
    throw new ConversionError(`invalid unique part ${JSON.stringify(unique)}`);
  const [, key] = targetPrefix(target);
  const suffix = `-${runId}-${unique}-part-${String(index).padStart(PART_DIGITS, '0')}.parquet`;
  return `${key}${dataFileStem(source, suffix)}${suffix}`;
}

/**
 * Matches the data file names (not keys) the twin writes for `source`, under any run. A stem that
 * is another's plus `-…` could match too: the pipeline's stems end in a version tag
 * (`zoneFileName`), so they never do.
 */
export function outputNamePattern(source: string): RegExp {
  const stem = outputStem(source).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${stem}-[A-Za-z0-9_-]{1,80}-[0-9a-f]{${UNIQUE_DIGITS}}-part-[0-9]{${PART_DIGITS}}\\.parquet$`,
  );
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
 * also accepts, its name or one of its aliases; null for a column the file does not give: a
 * retired column or a lineage field (never read), an optional column the header lacks. A file
 * column no step finds (an extra one the dataset ignores) is not read. (The script's
 * `header_positions`.)
 */
export function headerPositions(
  fileHeaders: readonly string[],
  plan: readonly CastStep[],
): (number | null)[] {
  const headers = [...fileHeaders];
  if (headers.length > 0) headers[0] = headers[0]!.replace(/^\ufeff/, '');
  const positions: (number | null)[] = [];
  const missing: string[] = [];
  for (const step of plan) {
    const read = !step.retired && step.lineage === null;
    const text = read
      ? [step.header, step.column, ...step.aliases].find((t) => headers.includes(t))
      : undefined;
    positions.push(text === undefined ? null : headers.indexOf(text));
    if (text === undefined && read && !step.optional) missing.push(step.header);
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
  // Before anything is read: a schema with lineage fields and no lineage arguments fails here.
  const lineage = lineageValues(plan, job);
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
        lineage,
        parquetPath,
      });
    } catch (error) {
      if (timeLeft.signal.aborted) throw outOfTime();
      throw error;
    } finally {
      timeLeft.signal.removeEventListener('abort', interrupt);
      connection.closeSync();
    }
    const { outputs, bytes: bytesOut } = await writeDataFiles(s3, job, [{ path: parquetPath, rows }]);
    return {
      rows,
      outputs,
      request: job.commitRequest,
      bytesIn,
      bytesOut,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    clearTimeout(timer);
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
  /** Per step: its file column, or null for a typed NULL or a lineage value. */
  readonly positions: readonly (number | null)[];
  /** The lineage fields' values ({@link lineageValues}). */
  readonly lineage: Partial<Record<LineageSource, string>>;
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

/**
 * The typed relation: each planned column's raw text as `r<k>` and its typed value as `t<k>` (the
 * script's `projection`). A lineage field's raw text is its argument, cast as a file's text is; a
 * column the file does not give is a typed NULL.
 */
function typedRelation(plan: readonly CastStep[], job: JobArgs, input: WriteInput): string {
  const read = csvReadSql({
    path: input.sourcePath,
    gzip: input.gzip,
    delimiter: job.delimiter,
    quote: job.quote,
    columns: input.header.cells.length,
  });
  const items = plan.flatMap((step, k) => {
    const position = input.positions[k] ?? null;
    if (step.lineage === null && position === null)
      return [`CAST(NULL AS VARCHAR) AS r${k}`, `CAST(NULL AS ${step.duckdbType}) AS t${k}`];
    const raw =
      step.lineage !== null ? sqlString(input.lineage[step.lineage]!) : sqlIdentifier(`c${position}`);
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
  const checked = writtenOrder(plan).map((k) => {
    if (k === null)
      return `CAST(${sqlString(job.ingestDate)} AS DATE) AS ${sqlIdentifier(INGEST_DATE_COLUMN)}`;
    const step = plan[k]!;
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
  const copy = `COPY (SELECT ${checked.join(', ')} FROM ${relation}) TO ${sqlString(input.parquetPath)} (${parquetOptions(plan)})`;
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

/**
 * The COPY options of a data file: zstd, every column's Iceberg field id (`ingest_date` 1), and
 * the Iceberg schema in the footer under `iceberg.schema` (icebird maps columns by it).
 */
export function parquetOptions(plan: readonly CastStep[]): string {
  const ids = [
    ...plan.map((step) => `${sqlString(step.column)}: ${step.fieldId}`),
    `${sqlString(INGEST_DATE_COLUMN)}: ${INGEST_DATE_FIELD_ID}`,
  ];
  const schema = JSON.stringify(planIcebergSchema(plan));
  return `FORMAT parquet, COMPRESSION zstd, FIELD_IDS {${ids.join(', ')}}, KV_METADATA {${sqlString(ICEBERG_SCHEMA_KEY)}: ${sqlString(schema)}}`;
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

/** The commit request of a run (`CommitRequestFile`): the data files it wrote, with their true rows and sizes. */
export function commitRequest(
  job: Pick<JobArgs, 'dataset' | 'runId' | 'source' | 'ingestDate'>,
  files: readonly { readonly path: string; readonly rows: number; readonly bytes: number }[],
): CommitRequestFile {
  return {
    version: 1,
    dataset: job.dataset,
    runId: job.runId,
    source: job.source,
    ingestDate: job.ingestDate,
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    files: files.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes })),
  };
}

/**
 * Uploads the data file straight to its final, unique key under the target (never an existing
 * one: the name holds the run id and a random part), then puts the commit request naming it.
 * Nothing is copied or deleted: the file is invisible until the committer appends it, so a run
 * that stops between the two leaves an unreferenced file, which the table's orphan-file removal
 * deletes (glue-scripts/README.md, Output).
 */
async function writeDataFiles(
  s3: S3Client,
  job: JobArgs,
  parts: readonly { readonly path: string; readonly rows: number }[],
): Promise<{ outputs: string[]; bytes: number }> {
  const [bucket] = targetPrefix(job.target);
  const unique = uniquePart();
  const files: { path: string; rows: number; bytes: number }[] = [];
  for (const [index, part] of parts.entries()) {
    const key = dataFileKey(job.target, job.source, job.runId, unique, index);
    const bytes = (await stat(part.path)).size;
    await new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: createReadStream(part.path),
        ContentType: 'application/vnd.apache.parquet',
      },
    }).done();
    files.push({ path: `s3://${bucket}/${key}`, rows: part.rows, bytes });
  }
  const [requestBucket, requestKey] = splitS3Uri(job.commitRequest);
  await s3.send(
    new PutObjectCommand({
      Bucket: requestBucket,
      Key: requestKey,
      Body: JSON.stringify(commitRequest(job, files)),
      ContentType: 'application/json',
    }),
  );
  return { outputs: files.map((f) => f.path), bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}
