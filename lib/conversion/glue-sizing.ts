/**
 * The Glue path's throughput model: how many workers a file gets and how long its run may take,
 * from its size. One source for the workflow (per-run NumberOfWorkers and Timeout, computed by the
 * Validate core), the cost model (`npm run cost`) and BENCHMARKS.md.
 *
 * Nothing Glue can be measured here (no AWS account), so the throughput figures are assumptions,
 * stated with what they rest on; the run's timeout is three times the modelled time, so a Glue that
 * is up to three times slower than assumed still finishes. Sources, read 2026-12-02:
 * - worker types (docs.aws.amazon.com/glue/latest/dg/worker-types.html, and the Glue best-practices
 *   whitepaper's "The right AWS Glue worker type"): G.1X is 1 DPU = 4 vCPU, 16 GB, one executor
 *   per worker; G.2X, G.4X, G.8X are 2, 4, 8 DPU with the vCPUs to match. One worker of a run hosts
 *   the Spark driver, so a run of N workers has N − 1 executors;
 * - billing (docs.aws.amazon.com/glue/latest/dg/migrating-version-40.html and the pricing page):
 *   Glue 2.0 and later bill per second with a 1-minute minimum;
 * - start-up (docs.aws.amazon.com/glue/latest/dg/reduced-start-times-spark-etl-jobs.html): Glue 2.0
 *   and later start Spark jobs in well under the 10 minutes of Glue 1.0; no figure is published,
 *   so a minute is assumed;
 * - per-core speed: assumed, from what this repo measures on one core (BENCHMARKS.md,
 *   ../shared/ENVIRONMENT.md): Spark's tokenizer alone (univocity 2.9.1) ≈ 180 MB/s, DuckDB's read
 *   with the same checks ≈ 148 MB/s. Spark then builds rows, runs a Java regex guard and a cast per
 *   typed value and encodes zstd Parquet, several times the tokenizer's work: 20 MB/s is assumed.
 */

/** Assumed CSV→Parquet speed of one Spark executor core on a line-by-line (split) read, MB/s (10^6 bytes). */
export const GLUE_MB_PER_S_PER_CORE = 20;

/** vCPUs (executor cores) of one DPU; a worker type has 1, 2, 4 or 8 DPU. */
export const GLUE_CORES_PER_DPU = 4;

/** DPUs of each worker type the configuration allows (Glue's worker-types page). */
export const GLUE_WORKER_DPU = { 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8 } as const;

/** A worker type the configuration allows. */
export type GlueWorkerType = keyof typeof GLUE_WORKER_DPU;

/**
 * Assumed CSV→Parquet throughput of one G.1X executor worker on a split read, MB/s: its four cores
 * at {@link GLUE_MB_PER_S_PER_CORE} each.
 */
export const GLUE_MB_PER_S_PER_WORKER = GLUE_MB_PER_S_PER_CORE * GLUE_CORES_PER_DPU;

/**
 * Assumed throughput of a read Spark cannot split (multiLine, or a gzip stream), MB/s: one task on
 * one core reads, converts and writes the whole file (no shuffle), whatever the workers.
 */
export const GLUE_SINGLE_TASK_MB_PER_S = GLUE_MB_PER_S_PER_CORE;

/** Assumed seconds from StartJobRun to the script running (Glue's start-up), for the latency model. */
export const GLUE_START_SECONDS = 60;

/** Assumed seconds a run spends besides converting: Spark session, reading the header, publishing. */
export const GLUE_RUN_OVERHEAD_SECONDS = 30;

/** Glue bills at least this many seconds per run (Glue 2.0 and later). */
export const GLUE_MINIMUM_BILLED_SECONDS = 60;

/** Glue's fewest workers for a G worker type: one for the driver, one executor. */
export const GLUE_MIN_WORKERS = 2;

/** A run's timeout is this many times its modelled time (plus start-up): room for a slower Glue. */
export const GLUE_TIMEOUT_FACTOR = 3;

/**
 * The shortest timeout a run gets, minutes (unless the configuration's is shorter): the modelled
 * throughput is assumed, not measured, and Glue bills by the second, so a generous timeout costs
 * nothing on a run that succeeds, while one too tight fails a good file.
 */
export const GLUE_MIN_TIMEOUT_MINUTES = 15;

/** Bounds of a run's sizing, from the configuration. */
export interface GlueSizingLimits {
  /** The job's worker type (config `glueWorkerType`). */
  readonly workerType: GlueWorkerType;
  /** Most workers a run gets (config `glueWorkers`), at least {@link GLUE_MIN_WORKERS}. */
  readonly maxWorkers: number;
  /** Longest timeout a run gets, minutes (config `glueTimeoutMinutes`). */
  readonly maxTimeoutMinutes: number;
}

/** What the model needs to know about the file besides its size. */
export interface GlueRunShape {
  /**
   * Whether Spark can split the read across tasks: false for a file read whole (a record spans
   * lines: multiLine) or a gzip stream. Extra workers do not speed up a read that is not split.
   * @default true
   */
  readonly splittable?: boolean;
}

/** The workers and timeout of one run, and the modelled time they come from. */
export interface GlueRunSize {
  readonly workers: number;
  readonly timeoutMinutes: number;
  /** Modelled seconds of the run once started (conversion and overhead), without start-up. */
  readonly modelledSeconds: number;
}

/**
 * Sizes one run converting `bytes` of uncompressed CSV.
 *
 * Workers: a split read gets one executor core per minute of modelled single-core work, so that
 * every core has at least the billed minimum of work and a big file is spread as far as the cap
 * allows; Spark cuts the file into one split per core (the job sets maxPartitionBytes so, see
 * glue-scripts/README.md). Billing is per worker-second, so spreading costs little more than the
 * driver's worker while dividing the time. A read Spark cannot split gets the minimum: one task
 * reads it whatever the workers, and the write follows that task (no shuffle), so more would be
 * billed and idle.
 *
 * Timeout: {@link GLUE_TIMEOUT_FACTOR} × the modelled run plus start-up, in whole minutes, at
 * least {@link GLUE_MIN_TIMEOUT_MINUTES}, capped by the configuration (a file modelled past the
 * cap keeps the cap: the configuration wins).
 */
export function glueRunSize(bytes: number, limits: GlueSizingLimits, shape: GlueRunShape = {}): GlueRunSize {
  const { splittable = true } = shape;
  const maxWorkers = Math.max(GLUE_MIN_WORKERS, limits.maxWorkers);
  const coresPerWorker = GLUE_CORES_PER_DPU * GLUE_WORKER_DPU[limits.workerType];
  const coreSeconds = Math.max(0, bytes) / (GLUE_MB_PER_S_PER_CORE * 1e6);
  let workers = GLUE_MIN_WORKERS;
  let convertSeconds = Math.max(0, bytes) / (GLUE_SINGLE_TASK_MB_PER_S * 1e6);
  if (splittable) {
    const cores = Math.ceil(coreSeconds / GLUE_MINIMUM_BILLED_SECONDS);
    workers = Math.min(maxWorkers, Math.max(GLUE_MIN_WORKERS, 1 + Math.ceil(cores / coresPerWorker)));
    convertSeconds = coreSeconds / ((workers - 1) * coresPerWorker);
  }
  const modelledSeconds = convertSeconds + GLUE_RUN_OVERHEAD_SECONDS;
  const timeoutMinutes = Math.min(
    limits.maxTimeoutMinutes,
    Math.max(
      GLUE_MIN_TIMEOUT_MINUTES,
      Math.ceil((GLUE_START_SECONDS + GLUE_TIMEOUT_FACTOR * modelledSeconds) / 60),
    ),
  );
  return { workers, timeoutMinutes: Math.max(1, timeoutMinutes), modelledSeconds };
}
