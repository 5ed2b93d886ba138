/**
 * The Glue path's throughput model: how many workers a file gets and how long its run may take,
 * from its size. One source for the workflow (per-run NumberOfWorkers and Timeout), the cost model
 * (`npm run cost`) and BENCHMARKS.md.
 *
 * STUB (issue 13, in progress): the figures below are placeholders to be replaced by the
 * documented model (MB/s per worker, with its sources) in the same commit that uses them.
 */

/** Assumed CSV→Parquet throughput of one Glue worker of the job's type, MB/s (10^6 bytes). */
export const GLUE_MB_PER_S_PER_WORKER = 25;

/** Assumed seconds from StartJobRun to the script running (Glue's start-up), for the latency model. */
export const GLUE_START_SECONDS = 60;

/** Glue bills at least this many seconds per run (Glue 2.0 and later). */
export const GLUE_MINIMUM_BILLED_SECONDS = 60;

/** Bounds of a run's sizing, from the configuration. */
export interface GlueSizingLimits {
  /** Fewest workers a run gets (Glue's minimum is 2). */
  readonly minWorkers: number;
  /** Most workers a run gets. */
  readonly maxWorkers: number;
  /** Longest timeout a run gets, minutes. */
  readonly maxTimeoutMinutes: number;
}

/** The workers and timeout of one run converting `bytes` of uncompressed CSV. */
export interface GlueRunSize {
  readonly workers: number;
  readonly timeoutMinutes: number;
}

/** Sizes one run (placeholder: the configured workers and timeout, whatever the size). */
export function glueRunSize(_bytes: number, limits: GlueSizingLimits): GlueRunSize {
  return { workers: limits.maxWorkers, timeoutMinutes: limits.maxTimeoutMinutes };
}
