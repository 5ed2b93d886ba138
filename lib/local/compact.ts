/**
 * Compaction of a table on the local lake (`datalake tables compact`): each partition with more
 * than one live file is rewritten into one file by DuckDB (read by field id, written with the
 * table's field ids and its schema in the footer, as the engines write), and the files are
 * swapped in one `replace` snapshot, which holds the same rows. Older snapshots keep their files:
 * time travel over a compaction reads what it read before. On AWS the Glue compaction optimizer
 * does this.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { locationPartitionPrefix } from '../iceberg/layout.ts';
import { CommitStateUnknownError, type ObjectStore, type TableCatalog } from '../iceberg/ports.ts';
import { type LiveFile, liveFiles, readParquetSql, schemaOf, selectSnapshot } from '../iceberg/scan.ts';
import { ICEBERG_SCHEMA_KEY, type IcebergSchema } from '../iceberg/schema.ts';
import { type DataFileSpec, loadTable, replaceFiles, type TableRef } from '../iceberg/table.ts';
import { cacheFile } from './query.ts';

/** Where a compaction reads, writes and commits. */
export interface CompactScope {
  readonly s3: S3Client;
  readonly store: ObjectStore;
  readonly catalog: TableCatalog;
  readonly table: TableRef;
  readonly dataset: string;
  readonly curatedBucket: string;
  /** The query cache: the live files are read from their copies there. */
  readonly cacheDir: string;
  /** Scratch space for the rewritten files before their upload. */
  readonly workDir: string;
}

/** One partition's rewrite. */
export interface PartitionCompaction {
  readonly ingestDate: string;
  readonly before: number;
  readonly rows: number;
  readonly file: DataFileSpec;
}

/** What a compaction did. */
export interface CompactionResult {
  /** Live files of the table (or of the one day) before and after. */
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly partitions: readonly PartitionCompaction[];
  /** The `replace` snapshot; undefined when there was nothing to compact. */
  readonly snapshotId?: string;
}

/** The partitions of more than one live file (only `ingestDate`'s when given), oldest day first. */
export function partitionsToCompact(
  live: readonly LiveFile[],
  ingestDate?: string,
): { ingestDate: string; files: LiveFile[] }[] {
  const byDay = new Map<string, LiveFile[]>();
  for (const file of live) {
    if (ingestDate !== undefined && file.ingestDate !== ingestDate) continue;
    byDay.set(file.ingestDate, [...(byDay.get(file.ingestDate) ?? []), file]);
  }
  return [...byDay]
    .filter(([, files]) => files.length > 1)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, files]) => ({ ingestDate: day, files }));
}

/**
 * Compacts the table's current snapshot (one partition when `ingestDate` is given): one new file
 * per partition of several, then one `replace` commit. A file rewritten with another row count
 * than its partition's live files is never committed. New files of a commit that fails for
 * certain are deleted; those of a commit whose outcome is unknown are kept (the table may hold them).
 */
export async function compactTable(scope: CompactScope, ingestDate?: string): Promise<CompactionResult> {
  const deps = { store: scope.store, catalog: scope.catalog };
  const { metadata } = await loadTable(deps, scope.table);
  const snapshot = selectSnapshot(metadata);
  if (!snapshot) return { filesBefore: 0, filesAfter: 0, partitions: [] };
  const live = await liveFiles(scope.store, metadata, snapshot);
  const counted = ingestDate === undefined ? live : live.filter((f) => f.ingestDate === ingestDate);
  const groups = partitionsToCompact(live, ingestDate);
  if (groups.length === 0) return { filesBefore: counted.length, filesAfter: counted.length, partitions: [] };
  const schema = schemaOf(metadata, snapshot);
  await mkdir(scope.workDir, { recursive: true });
  const work = await mkdtemp(join(scope.workDir, 'compact-'));
  const written: string[] = [];
  try {
    const partitions: PartitionCompaction[] = [];
    const run = `compact-${Date.now()}`;
    for (const group of groups) {
      const local: string[] = [];
      for (const file of group.files) local.push(await cacheFile(scope, file));
      const out = join(work, `${group.ingestDate}.parquet`);
      const rows = await rewrite(local, schema, out);
      const expected = group.files.reduce((n, f) => n + f.rows, 0);
      if (rows !== expected) {
        throw new Error(
          `compaction of ${scope.dataset} ${group.ingestDate} wrote ${rows} rows where its files hold ${expected}: nothing committed`,
        );
      }
      // Under the table's own data folder (a version-2 table's is `<dataset>/v2/iceberg/data/`).
      const path = `${locationPartitionPrefix(scope.table.location, group.ingestDate)}compacted-${run}-${randomUUID()}-part-00000.parquet`;
      const body = await readFile(out);
      await scope.store.put(path, body, 'application/vnd.apache.parquet');
      written.push(path);
      partitions.push({
        ingestDate: group.ingestDate,
        before: group.files.length,
        rows,
        file: { path, rows, bytes: (await stat(out)).size, ingestDate: group.ingestDate },
      });
    }
    const committed = await replaceFiles(deps, scope.table, {
      remove: groups.flatMap((g) => g.files.map((f) => f.path)),
      add: partitions.map((p) => p.file),
    }).catch((error: unknown) => {
      // The swap may have happened: the table may hold the new files, which must then stay.
      if (error instanceof CommitStateUnknownError) written.length = 0;
      throw error;
    });
    written.length = 0;
    const removed = groups.reduce((n, g) => n + g.files.length, 0);
    return {
      filesBefore: counted.length,
      filesAfter: counted.length - removed + partitions.length,
      partitions,
      snapshotId: committed.snapshotId,
    };
  } finally {
    // Files of a compaction that did not commit are referenced by no snapshot.
    if (written.length > 0) await scope.store.delete(written).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Writes the rows of `files` (read by field id) into one Parquet file at `out` with the schema's
 * field ids and the schema in the footer; returns its row count.
 */
async function rewrite(files: readonly string[], schema: IcebergSchema, out: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const ids = schema.fields.map((f) => `${quoteString(f.name)}: ${f.id}`).join(', ');
    await conn.run(
      `COPY (SELECT * FROM ${readParquetSql(files, schema)}) TO ${quoteString(out)} (FORMAT parquet, COMPRESSION zstd, FIELD_IDS {${ids}}, KV_METADATA {${quoteString(ICEBERG_SCHEMA_KEY)}: ${quoteString(JSON.stringify(schema))}})`,
    );
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM read_parquet(${quoteString(out)})`,
    );
    return Number(reader.getRowObjectsJson()[0]?.n);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const quoteString = (text: string) => `'${text.replace(/'/g, "''")}'`;
