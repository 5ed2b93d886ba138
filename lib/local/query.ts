/**
 * The local Athena: DuckDB over the curated Parquet of the registered partitions, one view per
 * dataset named as the dataset (with its `ingest_date`), as Athena sees the Glue tables. DuckDB
 * has no S3 access offline, so the objects are first copied out of the S3 server into a cache.
 *
 * The engine is confined the way Athena is: DuckDB's own settings allow reading only the files
 * behind the views (no other file, no network, no extension install or load) and are then
 * locked; DuckDB's parser admits one SELECT statement; rows and time are capped.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  StatementType,
} from '@duckdb/node-api';
import { duckdbType } from '../datasets/derive.ts';
import type { Dataset } from '../datasets/model.ts';
import type { LocalPartition } from './catalog.ts';

/** A query's answer: column names and rows of JSON-safe values. */
export interface QueryResult {
  readonly columns: string[];
  /** Decimals and 64-bit integers as exact strings, timestamps as ISO 8601 UTC, dates as YYYY-MM-DD. */
  readonly rows: Record<string, unknown>[];
  /** The query had more rows than the row cap: `rows` holds the first `maxRows` of them. */
  readonly truncated: boolean;
}

import { QueryError } from './query-error.ts';

export { QueryError };

/** What a query runs over. */
export interface QueryScope {
  readonly s3: S3Client;
  readonly curatedBucket: string;
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly partitions: readonly LocalPartition[];
  readonly cacheDir: string;
}

/** How much one query may return and how long it may run. */
export interface QueryLimits {
  /**
   * Rows returned at most; a query with more rows returns the first ones and `truncated: true`.
   * @default 10000
   */
  readonly maxRows?: number;
  /**
   * Milliseconds the statement may run (parse, plan, execute, read) before DuckDB interrupts it.
   * @default 60000
   */
  readonly timeoutMs?: number;
}

/** The default row cap of a query. */
export const DEFAULT_MAX_ROWS = 10_000;
/** The default time limit of a query, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Runs one read-only SQL statement over the lake's tables, and nothing else: a second statement,
 * a statement other than SELECT, a file outside the tables and an extension are refused with a
 * {@link QueryError}, before anything runs.
 */
export async function queryLake(
  scope: QueryScope,
  sql: string,
  limits: QueryLimits = {},
): Promise<QueryResult> {
  const maxRows = limits.maxRows ?? DEFAULT_MAX_ROWS;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const views: string[] = [];
  const files: string[] = [];
  for (const ds of scope.datasets.values()) {
    const parts = await syncDataset(scope, ds);
    views.push(viewSql(ds, parts));
    files.push(...parts.map((p) => p.path));
  }
  // Spills stay in the lake: an in-memory DuckDB otherwise spills into `.tmp` of the working directory.
  const cacheRoot = dirname(resolve(scope.cacheDir));
  await mkdir(cacheRoot, { recursive: true });
  const spillDir = await mkdtemp(join(cacheRoot, 'spill-'));
  try {
    const { instance, conn } = await openConfined(files, spillDir);
    try {
      for (const view of views) await conn.run(view);
      return await runConfined(conn, sql, maxRows, timeoutMs);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  } finally {
    await rm(spillDir, { recursive: true, force: true });
  }
}

/**
 * Opens an in-memory DuckDB that reads only `files` (by their exact paths), installs and loads no
 * extension, spills into `spillDir`, and whose configuration is locked so that no statement can
 * undo any of it.
 */
export async function openConfined(
  files: readonly string[],
  spillDir: string,
): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(':memory:', {
    // Without these, a function of a known extension (read_xlsx, sqlite_scan) downloads and loads it.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    temp_directory: spillDir,
  });
  const conn = await instance.connect();
  try {
    // TimeZone belongs to the ICU extension, unknown when the instance is created.
    await conn.run("SET TimeZone = 'UTC'");
    // List settings cannot be passed at creation, and the allowed paths only while access is on.
    // Exact paths, not the cache folder: other files there (etags, partitions no longer
    // registered) are not tables.
    await conn.run(`SET allowed_paths = [${files.map((f) => quoteString(f)).join(', ')}]`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
  } catch (error) {
    conn.closeSync();
    instance.closeSync();
    throw error;
  }
  return { instance, conn };
}

/** Parses `sql` with DuckDB, admits one SELECT, and runs it under the row cap and the time limit. */
async function runConfined(conn: DuckDBConnection, sql: string, maxRows: number, timeoutMs: number) {
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
    conn.interrupt();
  }, timeoutMs);
  const stoppedError = () => new QueryError(`query stopped after ${timeoutMs / 1000} s (its time limit)`);
  let prepared: DuckDBPreparedStatement | undefined;
  try {
    prepared = await prepareOne(conn, sql);
    if (prepared.statementType !== StatementType.SELECT) {
      const kind = StatementType[prepared.statementType] ?? String(prepared.statementType);
      throw new QueryError(`only select queries run over the lake: ${excerpt(sql)} is a ${kind} statement`);
    }
    if (stopped) throw stoppedError();
    // Streamed, so that a large result is not materialized beyond the cap; one row more tells truncation.
    const reader = await prepared.streamAndReadUntil(maxRows + 1);
    const columns = reader.columnNames();
    const rows = (reader.getRowObjectsJson() as Record<string, unknown>[]).slice(0, maxRows);
    // DuckDB renders instants as `2024-01-02 11:26:23.5+00`; ISO 8601 with `T` and `Z` reads anywhere.
    const instants = reader
      .columnTypes()
      .flatMap((type, i) => (String(type).startsWith('TIMESTAMP') ? [columns[i]!] : []));
    for (const row of rows) {
      for (const column of instants) {
        const value = row[column];
        if (typeof value === 'string') row[column] = isoInstant(value);
      }
    }
    return { columns, rows, truncated: reader.currentRowCount > maxRows };
  } catch (error) {
    if (error instanceof QueryError) throw error;
    if (stopped) throw stoppedError();
    throw new QueryError(firstLine((error as Error).message));
  } finally {
    clearTimeout(timer);
    prepared?.destroySync();
  }
}

/** The one statement of `sql`, prepared (bound, not run): none or several are refused, and nothing runs. */
async function prepareOne(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
  try {
    extracted = await conn.extractStatements(sql);
  } catch {
    throw new QueryError(await whyNoStatement(conn, sql));
  }
  if (extracted.count !== 1) throw new QueryError(`one statement per query: found ${extracted.count}`);
  return extracted.prepare(0);
}

/**
 * Why DuckDB extracted no statement from `sql`: extraction gives no reason for an empty text, so
 * DuckDB's prepare words it (a parse error, or no statement). Preparing binds and runs nothing.
 */
async function whyNoStatement(conn: DuckDBConnection, sql: string): Promise<string> {
  try {
    (await conn.prepare(sql)).destroySync();
  } catch (error) {
    const message = firstLine((error as Error).message);
    if (!/no statement to prepare/i.test(message)) return message;
  }
  return `empty query: no sql statement in ${excerpt(sql)}`;
}

/** The query as quoted in a message: JSON-quoted, cut at 80 characters. */
function excerpt(sql: string): string {
  const text = sql.trim();
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** `2024-01-02 11:26:23.5+00` (or without zone: a UTC wall time) → `2024-01-02T11:26:23.5Z`. */
export function isoInstant(text: string): string {
  const m = /^(-?\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:\+00(?::?00)?)?$/.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : text;
}

function firstLine(message: string): string {
  return message.split('\n').find((l) => l.trim() !== '') ?? message;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The view of one dataset: its Parquet files with `ingest_date`, or an empty relation of its columns. */
function viewSql(ds: Dataset, files: readonly { path: string; ingestDate: string }[]): string {
  const view = quoteIdent(ds.name);
  const columns = ds.columns.map((c) => quoteIdent(c.name)).join(', ');
  if (files.length === 0) {
    const typed = ds.columns.map((c) => `CAST(NULL AS ${duckdbType(c)}) AS ${quoteIdent(c.name)}`);
    return `CREATE VIEW ${view} AS SELECT ${typed.join(', ')}, CAST(NULL AS DATE) AS ingest_date WHERE false`;
  }
  const list = files.map((f) => quoteString(f.path)).join(', ');
  return `CREATE VIEW ${view} AS SELECT ${columns}, CAST(ingest_date AS DATE) AS ingest_date FROM read_parquet([${list}], hive_partitioning = true, hive_types = {'ingest_date': VARCHAR})`;
}

/** Copies the dataset's curated Parquet of registered partitions into the cache (changed files only). */
async function syncDataset(scope: QueryScope, ds: Dataset): Promise<{ path: string; ingestDate: string }[]> {
  const files: { path: string; ingestDate: string }[] = [];
  for (const partition of scope.partitions.filter((p) => p.table === ds.name)) {
    const prefix = `${ds.name}/ingest_date=${partition.values[0]}/`;
    let token: string | undefined;
    do {
      const page = await scope.s3.send(
        new ListObjectsV2Command({ Bucket: scope.curatedBucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        // Only published parts directly in the partition: not staging folders, not other files.
        if (!key.endsWith('.parquet') || key.slice(prefix.length).includes('/')) continue;
        const path = join(scope.cacheDir, key);
        await syncObject(scope, key, path, object.ETag ?? '');
        files.push({ path, ingestDate: partition.values[0]! });
      }
      token = page.NextContinuationToken;
    } while (token);
  }
  return files;
}

async function syncObject(scope: QueryScope, key: string, path: string, etag: string): Promise<void> {
  const tagFile = `${path}.etag`;
  const cached = await readFile(tagFile, 'utf8').catch(() => undefined);
  if (cached === etag && (await stat(path).catch(() => undefined))) return;
  await mkdir(dirname(path), { recursive: true });
  const object = await scope.s3.send(new GetObjectCommand({ Bucket: scope.curatedBucket, Key: key }));
  await pipeline(object.Body as NodeJS.ReadableStream, createWriteStream(path));
  await writeFile(tagFile, etag);
}
