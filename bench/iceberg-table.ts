/**
 * A local lake's orders table as the soaks check it, read with the Iceberg core (not through the
 * local query): its snapshots, its live data files, and its rows counted by DuckDB over those files
 * with the columns mapped by field id.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { history, liveFiles, readParquetSql, schemaOf, selectSnapshot } from '../lib/iceberg/scan.ts';
import { loadTable } from '../lib/iceberg/table.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE } from '../lib/local/lake-folder.ts';
import type { LocalRuntime } from '../lib/local/runtime.ts';

/** What the soaks read of the orders table. */
export interface OrdersTable {
  /** Snapshots, oldest first: one per commit. */
  readonly snapshots: ReturnType<typeof history>;
  /** The live data files' keys in the curated bucket. */
  readonly live: string[];
  /** Rows, and distinct order ids among them. */
  readonly n: number;
  readonly ids: number;
}

/** Reads the orders table of `runtime`'s lake; `scratch` holds the data files' copies meanwhile. */
export async function ordersTable(
  runtime: Pick<LocalRuntime, 'store' | 'tables'>,
  scratch: string,
): Promise<OrdersTable> {
  const { metadata } = await loadTable(
    { store: runtime.store, catalog: runtime.tables },
    { database: LOCAL_DATABASE, name: 'orders' },
  );
  const snapshot = selectSnapshot(metadata);
  const files = snapshot ? await liveFiles(runtime.store, metadata, snapshot) : [];
  await mkdir(scratch, { recursive: true });
  try {
    const local: string[] = [];
    for (const [n, f] of files.entries()) {
      const path = join(scratch, `${n}.parquet`);
      await writeFile(path, (await runtime.store.get(f.path))!);
      local.push(path);
    }
    let counted = { n: 0, ids: 0 };
    if (local.length > 0) {
      const duck = await DuckDBInstance.create(':memory:');
      const connection = await duck.connect();
      try {
        const reader = await connection.runAndReadAll(
          `SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM ${readParquetSql(local, schemaOf(metadata, snapshot))}`,
        );
        const row = reader.getRowObjectsJS()[0]!;
        counted = { n: Number(row.n), ids: Number(row.ids) };
      } finally {
        connection.closeSync();
        duck.closeSync();
      }
    }
    const prefix = `s3://${LOCAL_BUCKETS.curated}/`;
    return { snapshots: history(metadata), live: files.map((f) => f.path.slice(prefix.length)), ...counted };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
