/**
 * The local Athena: DuckDB over the curated Parquet of the registered partitions, one view per
 * dataset named as the dataset (with its `ingest_date`), as Athena sees the Glue tables. DuckDB
 * has no S3 access offline, so the objects are first copied out of the S3 server into a cache.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbType } from '../datasets/derive.ts';
import type { Dataset } from '../datasets/model.ts';
import type { LocalPartition } from './catalog.ts';

/** A query's answer: column names and rows of JSON-safe values. */
export interface QueryResult {
  readonly columns: string[];
  /** Decimals and 64-bit integers as exact strings, timestamps as ISO 8601 UTC, dates as YYYY-MM-DD. */
  readonly rows: Record<string, unknown>[];
}

/** A query the engine refused (bad SQL, unknown table): its message is one line for the user. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

/** What a query runs over. */
export interface QueryScope {
  readonly s3: S3Client;
  readonly curatedBucket: string;
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly partitions: readonly LocalPartition[];
  readonly cacheDir: string;
}

/** Runs one SQL statement over the lake. */
export async function queryLake(scope: QueryScope, sql: string): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    for (const ds of scope.datasets.values()) {
      const files = await syncDataset(scope, ds);
      await conn.run(viewSql(ds, files));
    }
    let reader: Awaited<ReturnType<typeof conn.runAndReadAll>>;
    try {
      reader = await conn.runAndReadAll(sql);
    } catch (error) {
      throw new QueryError(firstLine((error as Error).message));
    }
    const columns = reader.columnNames();
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
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
    return { columns, rows };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
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
