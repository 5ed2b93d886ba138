/**
 * The local Athena: DuckDB over each dataset's Iceberg tables, one view per table version named as
 * Athena names the Glue table (`orders` for version 1, `orders_v2`, …; with `ingest_date` and the
 * lineage columns), and `<dataset>_latest` for a dataset with a key (lib/datasets/latest-view.ts,
 * the same SQL text as the Athena view). A table view reads the live data
 * files of the table's current snapshot, or of the snapshot a selector names (`--snapshot`,
 * `--as-of`, `--tag`: time travel), with columns mapped by Parquet field id. DuckDB has no S3
 * access offline, so the files are first copied out of the S3 server into a cache.
 *
 * The engine is confined the way Athena is: DuckDB's own settings allow reading only the files
 * behind the views (no other file, no network, no extension install or load) and are then
 * locked; DuckDB's parser admits one SELECT statement; rows and time are capped.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  StatementType,
} from '@duckdb/node-api';
import { latestView, latestViewColumns, latestViewSql } from '../datasets/latest-view.ts';
import type { Dataset } from '../datasets/model.ts';
import { tableName, tableVersions } from '../iceberg/layout.ts';
import { idString } from '../iceberg/metadata.ts';
import type { ObjectStore, TableCatalog } from '../iceberg/ports.ts';
import { s3ObjectStore } from '../iceberg/s3-store.ts';
import {
  liveFiles,
  readParquetSql,
  type SnapshotSelector,
  schemaOf,
  selectSnapshot,
} from '../iceberg/scan.ts';
import { type IcebergSchema, icebergSchema } from '../iceberg/schema.ts';
import { loadTable } from '../iceberg/table.ts';
import { uniqueNames } from '../text.ts';

/** A query's answer: column names and rows of JSON-safe values. */
export interface QueryResult {
  readonly columns: string[];
  /** Decimals and 64-bit integers as exact strings, timestamps as ISO 8601 UTC, dates as YYYY-MM-DD. */
  readonly rows: Record<string, unknown>[];
  /** The query had more rows than the row cap: `rows` holds the first `maxRows` of them. */
  readonly truncated: boolean;
  /** At a version (`scope.snapshot`): the snapshot each table the query named was read at. */
  readonly versions?: readonly TableVersion[];
}

/** The snapshot a table was read at. */
export interface TableVersion {
  readonly table: string;
  readonly snapshotId: string;
  /** When the snapshot was committed (ISO 8601). */
  readonly timestamp: string;
}

import { QueryError } from './query-error.ts';

export { QueryError };

/** What a query runs over. */
export interface QueryScope {
  readonly s3: S3Client;
  readonly curatedBucket: string;
  readonly datasets: ReadonlyMap<string, Dataset>;
  /** The catalog of the datasets' Iceberg tables (`localTableCatalog(lakePaths().tables)`). */
  readonly catalog: TableCatalog;
  /** The catalog's database of the tables (`LOCAL_DATABASE`). */
  readonly database: string;
  readonly cacheDir: string;
  /**
   * The version of every table the query names (time travel); a table without it fails the query.
   * @default - each table's current snapshot
   */
  readonly snapshot?: SnapshotSelector;
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
  const versions: TableVersion[] = [];
  const store = s3ObjectStore(scope.s3);
  // At a version, only the tables the query names are read (another table may not have it); a
  // table the query names and that a parse here missed has no view, so the query fails rather
  // than read the current version.
  const named = scope.snapshot ? await tablesNamed(sql) : undefined;
  for (const ds of scope.datasets.values()) {
    const latest = latestView(ds);
    const latestNamed = latest !== undefined && (!named || named.has(latest.name));
    let currentColumns: readonly string[] = [];
    // Every table version is a view under its Athena name: `orders` (version 1), `orders_v2`, …
    for (const { version, name } of tableVersions(ds.name, ds.version)) {
      const current = version === ds.version;
      if (named && !named.has(name) && !(current && latestNamed)) continue;
      const view = await datasetView(scope, store, ds, version);
      if (!view) continue;
      views.push(view.sql);
      files.push(...view.files);
      if (view.version) versions.push(view.version);
      if (current) currentColumns = view.columns;
    }
    // Only over a table that has every column the view names: a table not yet evolved to the
    // declaration (no lineage yet), or a snapshot from before a column, has no `_latest` view.
    if (latest && latestNamed && latestViewColumns(ds).every((c) => currentColumns.includes(c.name)))
      views.push(`CREATE VIEW ${quoteIdent(latest.name)} AS ${latestViewSql(ds)}`);
  }
  // Spills stay in the lake: an in-memory DuckDB otherwise spills into `.tmp` of the working directory.
  const cacheRoot = dirname(resolve(scope.cacheDir));
  await mkdir(cacheRoot, { recursive: true });
  const spillDir = await mkdtemp(join(cacheRoot, 'spill-'));
  try {
    const { instance, conn } = await openConfined(files, spillDir);
    try {
      for (const view of views) await conn.run(view);
      const result = await runConfined(conn, sql, maxRows, timeoutMs);
      return scope.snapshot ? { ...result, versions } : result;
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
    // Unique, so that rows keyed by name keep every column (`SELECT a.id, b.id` → `id`, `id_2`).
    const columns = uniqueNames(reader.columnNames());
    // DuckDB renders instants as `2024-01-02 11:26:23.5+00`; ISO 8601 with `T` and `Z` reads anywhere.
    const instant = reader.columnTypes().map((type) => String(type).startsWith('TIMESTAMP'));
    const rows = reader
      .getRowsJson()
      .slice(0, maxRows)
      .map((values) =>
        Object.fromEntries(
          values.map((value, i) => [
            columns[i]!,
            instant[i] && typeof value === 'string' ? isoInstant(value) : (value as unknown),
          ]),
        ),
      );
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

/**
 * The names (lower case) of the tables `sql` reads, from DuckDB's parse tree (CTE names among
 * them; they only add a table to read). Empty for a text DuckDB cannot parse: the query then
 * fails on its parse error, with no table read.
 */
async function tablesNamed(sql: string): Promise<Set<string>> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    enable_external_access: 'false',
  });
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [sql]);
    const tree = JSON.parse(String(reader.getRowObjectsJson()[0]?.tree ?? '{}')) as unknown;
    const names = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) for (const item of node) walk(item);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'BASE_TABLE' && typeof record.table_name === 'string')
          names.add(record.table_name.toLowerCase());
        for (const value of Object.values(record)) walk(value);
      }
    };
    walk(tree);
    return names;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * The view of one table version of a dataset (its live files at the scope's snapshot, copied into
 * the cache) and the files it reads. A table without a snapshot (or, at the current time and the
 * declared version, without a table yet) is an empty view of the schema's columns; an older
 * version without a table has no view.
 */
async function datasetView(
  scope: QueryScope,
  store: ObjectStore,
  ds: Dataset,
  tableVersion: number,
): Promise<{ sql: string; files: string[]; columns: string[]; version?: TableVersion } | undefined> {
  const name = tableName(ds.name, tableVersion);
  const view = quoteIdent(name);
  if (!(await scope.catalog.load(scope.database, name))) {
    if (scope.snapshot)
      throw new QueryError(`table ${name} does not exist yet: no file of the dataset was curated`);
    // An older version without a table never held a row, and its declaration is gone: no view.
    if (tableVersion !== ds.version) return undefined;
    const schema = icebergSchema(ds);
    return { sql: emptyView(view, schema), files: [], columns: names(schema) };
  }
  const table = await loadTable({ store, catalog: scope.catalog }, { database: scope.database, name });
  const { metadata } = table;
  let snapshot: ReturnType<typeof selectSnapshot>;
  try {
    snapshot = selectSnapshot(metadata, scope.snapshot);
  } catch (error) {
    throw new QueryError(`table ${name}: ${firstLine((error as Error).message)}`);
  }
  // As Athena: the table's current schema, or at a version (time travel) the snapshot's (scan.ts).
  const schema = scope.snapshot ? schemaOf(metadata, snapshot) : schemaOf(metadata);
  const columns = names(schema);
  if (!snapshot) return { sql: emptyView(view, schema), files: [], columns };
  const version = {
    table: name,
    snapshotId: idString(snapshot['snapshot-id']),
    timestamp: new Date(snapshot['timestamp-ms']).toISOString(),
  };
  const live = await liveFiles(store, metadata, snapshot);
  if (live.length === 0) return { sql: emptyView(view, schema), files: [], columns, version };
  const paths: string[] = [];
  for (const file of live) paths.push(await cacheFile(scope, file));
  return {
    sql: `CREATE VIEW ${view} AS SELECT * FROM ${readParquetSql(paths, schema)}`,
    files: paths,
    columns,
    version,
  };
}

const names = (schema: IcebergSchema) => schema.fields.map((f) => f.name);

/** A view of no rows with the schema's columns, in its order and of its types. */
function emptyView(view: string, schema: IcebergSchema): string {
  return `CREATE VIEW ${view} AS SELECT * FROM ${readParquetSql([], schema)}`;
}

/**
 * The cache copy of a data file (`s3://<curated>/<key>` → `<cacheDir>/<key>`), fetched unless
 * a copy of its size is there: data files are written once at unique paths and never changed.
 */
export async function cacheFile(
  scope: Pick<QueryScope, 's3' | 'curatedBucket' | 'cacheDir'>,
  file: { readonly path: string; readonly bytes: number },
): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(file.path);
  const [bucket, key] = m ? [m[1]!, m[2]!] : ['', ''];
  // The key comes from table metadata: it must not climb out of the cache.
  if (!m || key.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw new QueryError(`a table lists a data file the local query cannot read: ${file.path}`);
  const root = bucket === scope.curatedBucket ? scope.cacheDir : join(dirname(scope.cacheDir), bucket);
  const path = join(root, key);
  if ((await stat(path).catch(() => undefined))?.size === file.bytes) return path;
  await mkdir(dirname(path), { recursive: true });
  const object = await scope.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  // Written aside, then renamed: a copy cut short (a crash, a concurrent query) is never taken.
  // A short name of its own beside it: the data file's name may already be near the 255-byte limit.
  const part = join(
    dirname(path),
    `.${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.part`,
  );
  try {
    await pipeline(object.Body as NodeJS.ReadableStream, createWriteStream(part));
    await rename(part, path);
  } finally {
    await rm(part, { force: true });
  }
  return path;
}
