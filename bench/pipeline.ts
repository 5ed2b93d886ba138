/**
 * Drop-to-queryable through the local runtime: from the upload of a file into landing to the
 * moment a query over the curated table counts its rows; beside DuckDB's bare CSV→Parquet COPY of
 * the same file (no validation, no S3, no workflow), the floor of the conversion itself.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { DuckDBInstance } from '@duckdb/node-api';
import { LOCAL_BUCKETS } from '../lib/local/lake-folder.ts';
import { executionNameFor, LocalRuntime } from '../lib/local/runtime.ts';

/** One file's figures. */
export interface DropFigures {
  readonly label: string;
  readonly bytes: number;
  readonly rows: number;
  /** Upload start to a query counting the rows, seconds. */
  readonly dropToQueryable: number;
  /** Of which the upload into landing (through the local S3 server), seconds. */
  readonly upload: number;
  /** DuckDB `COPY (SELECT * FROM read_csv(…)) TO … (FORMAT parquet)` of the same file, seconds. */
  readonly bareCopy: number;
  /** ValidateSlice invocations: 0 on the single-invocation route. */
  readonly slices: number;
}

/** Times each file through a fresh local lake (one runtime for all, started before the clock). */
export async function measureDropToQueryable(
  files: readonly { label: string; path: string }[],
  options: { readonly largeFileBytes?: number } = {},
): Promise<DropFigures[]> {
  const lakeDir = await mkdtemp(join(tmpdir(), 'bench-lake-'));
  const runtime = await LocalRuntime.start({ lakeDir, ...options });
  const figures: DropFigures[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const bytes = (await stat(file.path)).size;
      const key = `orders/bench-${i}.csv`;
      const started = performance.now();
      const uploaded = await new Upload({
        client: runtime.client,
        params: { Bucket: LOCAL_BUCKETS.landing, Key: key, Body: createReadStream(file.path) },
      }).done();
      const upload = (performance.now() - started) / 1000;
      await runtime.idle();
      const record = await runtime.finished(executionNameFor(key, bytes, uploaded.ETag ?? ''));
      if (record?.outcome !== 'curated')
        throw new Error(`${file.label}: expected curated, got ${record?.outcome}`);
      const { rows } = await runtime.query(`SELECT count(*) AS n FROM orders WHERE order_id IS NOT NULL`);
      const dropToQueryable = (performance.now() - started) / 1000;
      figures.push({
        label: file.label,
        bytes,
        rows: Number(rows[0]?.n),
        dropToQueryable,
        upload,
        bareCopy: await bareCopy(file.path),
        slices: record.states.filter((state) => state === 'ValidateSlice').length,
      });
    }
  } finally {
    await runtime.close();
    await rm(lakeDir, { recursive: true, force: true });
  }
  return figures;
}

/** Seconds DuckDB takes to copy the CSV to zstd Parquet with its own type detection. */
async function bareCopy(path: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-copy-'));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const started = performance.now();
    await conn.run(
      `COPY (SELECT * FROM read_csv('${path.replace(/'/g, "''")}', header = true)) TO '${join(dir, 'out.parquet')}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    return (performance.now() - started) / 1000;
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
