/**
 * Validation on every core, for `npm run bench`: the validator on one file with 1 thread and with
 * one per core (validateParallel, as `datalake validate --threads N` runs it), and the peak RSS of
 * a fresh process validating it on N threads. Standalone, `tsx bench/parallel.ts <file>` prints
 * the same rows without writing BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { loadDatasets, pickDataset } from '../lib/datasets/load.ts';
import type { Dataset } from '../lib/datasets/model.ts';
import { fileSource, validateParallel } from '../lib/validation/parallel.ts';
import { sourceWorkerEntry } from '../lib/validation/source-worker.ts';
import type { RssReport } from './rss-child.ts';

/** The speed-up asked for on this 2-core machine. */
export const TARGET_SPEEDUP = 1.7;
/** Peak RSS per validating thread. */
export const TARGET_RSS_PER_THREAD_MB = 128;
const MB = 1e6;

/** One timed validation. */
export interface ParallelPass {
  readonly threads: number;
  readonly seconds: number;
  /** CPU time of the whole process (all its threads), user and system. */
  readonly cpuSeconds: number;
  readonly mbPerSecond: number;
  readonly rows: number;
  readonly errorCount: number;
}

/** What {@link measureParallel} found. */
export interface ParallelFigures {
  readonly bytes: number;
  readonly one: ParallelPass;
  readonly many: ParallelPass;
  readonly speedup: number;
  /** Seconds to build the worker entry from source, once per process (the CLI pays it; a Lambda bundle is its own entry). */
  readonly entrySeconds: number;
  /** Peak RSS of a fresh (bundled) process validating on `many.threads` threads. */
  readonly rss: RssReport;
  readonly rssPerThreadMb: number;
}

async function pass(path: string, dataset: Dataset, threads: number): Promise<ParallelPass> {
  const spec = await fileSource(path);
  // Built before the clock starts: the validation is timed, not esbuild (see entrySeconds).
  const workerEntry = await sourceWorkerEntry();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await validateParallel(spec, dataset, { threads, workerEntry });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    threads,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    mbPerSecond: result.bytes / MB / seconds,
    rows: result.rows,
    errorCount: result.errorCount,
  };
}

/**
 * Times 1 thread and `threads` on `path` (1 thread first: it also warms the page cache), then
 * the peak RSS of `rssChild` (a fresh process: node and its arguments) on it with `threads`.
 */
export async function measureParallel(
  path: string,
  dataset: Dataset,
  rssChild: readonly string[],
  threads = availableParallelism(),
): Promise<ParallelFigures> {
  const built = performance.now();
  await sourceWorkerEntry();
  const entrySeconds = (performance.now() - built) / 1000;
  const one = await pass(path, dataset, 1);
  const many = await pass(path, dataset, threads);
  const [command, ...args] = rssChild;
  const { stdout } = await promisify(execFile)(command!, [...args, path, '--threads', String(threads)], {
    maxBuffer: 1 << 20,
  });
  const rss = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as RssReport;
  if (rss.rows !== one.rows || many.rows !== one.rows || many.errorCount !== one.errorCount) {
    throw new Error(`the parallel runs disagree with the single pass on ${path}`);
  }
  return {
    bytes: (await fileSource(path)).size,
    one,
    many,
    speedup: many.mbPerSecond / one.mbPerSecond,
    entrySeconds,
    rss,
    rssPerThreadMb: rss.peakRssBytes / MB / threads,
  };
}

/** The rows of the results table: label, figure, target, verdict. */
export function parallelRows(f: ParallelFigures, fmt: (n: number, digits: number) => string): string[][] {
  const size = `${fmt(f.bytes / MB, 0)} MB file`;
  return [
    [
      `validator, ${size}, 1 thread`,
      `${fmt(f.one.mbPerSecond, 1)} MB/s (${fmt(f.one.seconds, 2)} s, ${fmt(f.one.cpuSeconds, 2)} CPU s)`,
      '',
      '',
    ],
    [
      `validator, ${size}, ${f.many.threads} threads`,
      `${fmt(f.many.mbPerSecond, 1)} MB/s (${fmt(f.many.seconds, 2)} s, ${fmt(f.many.cpuSeconds, 2)} CPU s)`,
      '',
      '',
    ],
    [
      `CPU time, ${f.many.threads} threads / 1 (the cost of splitting: on idle cores the speed-up is about the threads over this)`,
      `${fmt(f.many.cpuSeconds / f.one.cpuSeconds, 2)}×`,
      '',
      '',
    ],
    [
      `speed-up, ${f.many.threads} threads / 1`,
      `${fmt(f.speedup, 2)}×`,
      `≥ ${TARGET_SPEEDUP}×`,
      f.speedup >= TARGET_SPEEDUP ? 'PASS' : 'MISS',
    ],
    [
      'building the worker entry from source, once per process (the CLI; not in the times above; a Lambda bundle is its own entry)',
      `${fmt(f.entrySeconds, 2)} s`,
      '',
      '',
    ],
    [
      `peak RSS per thread, ${size}, ${f.many.threads} threads, bundled`,
      `${fmt(f.rssPerThreadMb, 1)} MB (${fmt(f.rss.peakRssBytes / MB, 1)} MB in all)`,
      `≤ ${TARGET_RSS_PER_THREAD_MB} MB`,
      f.rssPerThreadMb <= TARGET_RSS_PER_THREAD_MB ? 'PASS' : 'MISS',
    ],
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2];
  const child = process.argv[3];
  if (!path || !child) throw new Error('usage: tsx bench/parallel.ts <file> <bundled rss child .mjs>');
  const dataset = pickDataset(await loadDatasets('datasets'), 'orders');
  const figures = await measureParallel(path, dataset, [process.execPath, child]);
  const fmt = (n: number, digits: number) =>
    n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  for (const row of parallelRows(figures, fmt)) console.log(row.join(' | '));
}
