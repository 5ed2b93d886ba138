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

/** The 1 KB drop is queryable within this many seconds. */
export const TARGET_SMALL_DROP_SECONDS = 1.5;
/** A 100 MB drop is queryable within this multiple of DuckDB's bare COPY of the same file. */
export const TARGET_BARE_COPY_RATIO = 4;

/** Where a drop's time goes, seconds, in order; together they make `dropToQueryable`. */
export interface DropSteps {
  /** The upload into landing (through the local S3 server). */
  readonly upload: number;
  /** The upload's end to the Validate task's start: the event, the trigger, the execution's start. */
  readonly trigger: number;
  /** The Validate function (every slice of it): the validator's read of the object, the copy to raw. */
  readonly validate: number;
  /**
   * The validated notice and the conversion (the twin's download, DuckDB's conversion, the
   * data file's upload and the commit request), to the commit's start.
   */
  readonly convert: number;
  /** The commit (the queue, the footer check, the Iceberg append), the curated notice and the execution's end. */
  readonly states: number;
  /** The query over the curated table, which first copies the new Parquet into its cache. */
  readonly query: number;
}

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
  /**
   * CPU seconds the process spent (every thread: the runtime's, DuckDB's, libuv's) from the upload's
   * start to the query's end, and in the bare COPY: the work done, which other load on the machine
   * moves far less than the elapsed times.
   */
  readonly cpu: { readonly drop: number; readonly bareCopy: number };
  /** ValidateSlice invocations: 0 on the single-invocation route. */
  readonly slices: number;
  readonly steps: DropSteps;
}

/** Options of {@link measureDropToQueryable}. */
export interface DropOptions {
  /** The workflow's large-file threshold. @default the app's */
  readonly largeFileBytes?: number;
  /**
   * Times each file this many times, each round on a lake of its own; the round with the median
   * drop → queryable time is reported per file (the machine's other load moves single runs).
   * @default 1
   */
  readonly rounds?: number;
}

/** Times each file through fresh local lakes; see {@link DropOptions.rounds}. */
export async function measureDropToQueryable(
  files: readonly { label: string; path: string }[],
  options: DropOptions = {},
): Promise<DropFigures[]> {
  const { rounds = 1, ...lake } = options;
  const runs: DropFigures[][] = [];
  for (let round = 0; round < rounds; round++) runs.push(await measureRound(files, lake));
  return files.map((_, i) => {
    const sorted = runs.map((run) => run[i]!).sort((a, b) => a.dropToQueryable - b.dropToQueryable);
    return sorted[Math.floor((sorted.length - 1) / 2)]!;
  });
}

/** Times each file through one fresh local lake (one runtime for all, started before the clock). */
async function measureRound(
  files: readonly { label: string; path: string }[],
  options: { readonly largeFileBytes?: number },
): Promise<DropFigures[]> {
  const lakeDir = await mkdtemp(join(tmpdir(), 'bench-lake-'));
  // When each Task state of the file in flight started (one file at a time), for the steps.
  const taskStarts = new Map<string, number>();
  const runtime = await LocalRuntime.start({
    lakeDir,
    ...options,
    trace: { task: (state) => void (taskStarts.has(state) || taskStarts.set(state, performance.now())) },
  });
  const figures: DropFigures[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const bytes = (await stat(file.path)).size;
      const key = `orders/bench-${i}.csv`;
      taskStarts.clear();
      const cpuAtStart = process.cpuUsage();
      const started = performance.now();
      const uploaded = await new Upload({
        client: runtime.client,
        params: { Bucket: LOCAL_BUCKETS.landing, Key: key, Body: createReadStream(file.path) },
      }).done();
      const uploadEnd = performance.now();
      const upload = (uploadEnd - started) / 1000;
      await runtime.idle();
      const record = await runtime.finished(executionNameFor(key, bytes, uploaded.ETag ?? ''));
      if (record?.outcome !== 'curated')
        throw new Error(`${file.label}: expected curated, got ${record?.outcome}`);
      const ended = performance.now();
      const { rows } = await runtime.query(`SELECT count(*) AS n FROM orders WHERE order_id IS NOT NULL`);
      const queried = performance.now();
      const dropCpu = cpuSeconds(process.cpuUsage(cpuAtStart));
      const dropToQueryable = (queried - started) / 1000;
      const at = (state: string) => {
        const time = taskStarts.get(state);
        if (time === undefined) throw new Error(`${file.label}: the execution never entered ${state}`);
        return time;
      };
      // The Validate function's first start: on the large-file route it runs once per slice.
      const validateStart = at('Validate');
      // Bounded by the states around it, whichever engine (Task state) converts the file.
      const convertStart = at('NotifyValidated');
      const convertEnd = at('CommitToTable');
      const steps: DropSteps = {
        upload,
        trigger: (validateStart - uploadEnd) / 1000,
        validate: (convertStart - validateStart) / 1000,
        convert: (convertEnd - convertStart) / 1000,
        states: (ended - convertEnd) / 1000,
        query: (queried - ended) / 1000,
      };
      const copy = await bareCopy(file.path);
      figures.push({
        label: file.label,
        bytes,
        rows: Number(rows[0]?.n),
        dropToQueryable,
        upload,
        bareCopy: copy.seconds,
        cpu: { drop: dropCpu, bareCopy: copy.cpu },
        slices: record.states.filter((state) => state === 'ValidateSlice').length,
        steps,
      });
    }
  } finally {
    await runtime.close();
    await rm(lakeDir, { recursive: true, force: true });
  }
  return figures;
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/** Seconds (and CPU seconds) DuckDB takes to copy the CSV to zstd Parquet with its own type detection. */
async function bareCopy(path: string): Promise<{ seconds: number; cpu: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-copy-'));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    await conn.run(
      `COPY (SELECT * FROM read_csv('${path.replace(/'/g, "''")}', header = true)) TO '${join(dir, 'out.parquet')}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    return { seconds: (performance.now() - started) / 1000, cpu: cpuSeconds(process.cpuUsage(cpuAtStart)) };
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
