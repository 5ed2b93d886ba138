/**
 * The Convert Lambda's size and the DuckDB settings that follow from it, from the figures
 * `npm run bench` measures (BENCHMARKS.md, "Convert Lambda"). One source for the stack (memory,
 * /tmp, timeout), the function's core (threads, memory limit, spill cap) and the router's
 * default threshold (lib/config.ts, DEFAULT_FAST_PATH_MAX_BYTES). Nothing here loads DuckDB.
 */

import { lambdaVcpus } from '../../lambdas/shared/vcpus.ts';

export { lambdaVcpus };

/** Lambda's longest timeout, minutes. */
export const LAMBDA_MAX_TIMEOUT_MINUTES = 15;

/** The function's size, as deployed. */
export interface FunctionLimits {
  readonly memoryMb: number;
  /** Ephemeral storage (/tmp), MB. */
  readonly ephemeralMb: number;
}

/**
 * The share of the function's memory DuckDB's buffer manager may use: the rest is for Node, the
 * SDK's upload buffers and DuckDB's allocations outside its limit.
 */
export const DUCKDB_MEMORY_SHARE = 0.6;

/** The share of /tmp DuckDB may spill to; the rest holds the source and its Parquet. */
export const SPILL_SHARE = 0.25;

/**
 * The Convert function: 10,240 MB buys Lambda's 6 vCPUs, and DuckDB's conversion scales with
 * threads (the price per GB-second is the same at any size, so a faster run costs the same
 * per file); /tmp at its 10,240 MB maximum holds a source of 5 GB and its Parquet
 * (`workBytes`); 15 minutes, Lambda's maximum.
 */
export const CONVERT_FUNCTION = {
  memoryMb: 10_240,
  ephemeralMb: 10_240,
  timeoutMinutes: LAMBDA_MAX_TIMEOUT_MINUTES,
} as const;

/**
 * Time kept after the conversion's deadline: the Parquet upload and the commit request (a fraction of the
 * CSV's size, in S3 at hundreds of MB/s) and the hand-off, before Lambda's timeout would end the
 * run with nothing said.
 */
export const PUBLISH_RESERVE_MS = 60_000;

/**
 * The largest Parquet size, as a share of the CSV, the disk check leaves room for: zstd Parquet
 * of the bench's orders file is about a quarter of the CSV; a file of long random text may not
 * shrink at all, which ENOSPC then catches.
 */
export const PARQUET_SHARE_OF_CSV = 0.5;

/**
 * The Convert handler's speed measured by `npm run bench` (bench/convert-lambda.ts): the bundle in
 * a fresh process converting the 1 GB orders file from a local S3 server, download to publish,
 * with 2 DuckDB threads (the bench machine's 2 cores), MB/s on 2026-12-02: 62.7 and 33.8 in two
 * runs with the machine otherwise idle (this virtual machine's speed varies that much between
 * runs; 28.4 while other work shared its 2 cores). The slower idle run counts. Its peak RSS was
 * 400–477 MB and its /tmp peaked at 1.2× the file (the source, the Parquet and DuckDB's temp files).
 */
export const MEASURED_CONVERT_MB_PER_S = 34;

/**
 * The share of the measured speed the threshold counts on: a Lambda vCPU may be slower than the
 * bench machine's core and S3 is a network away, while the function has 6 vCPUs for the 2 here;
 * half, as a margin, since a file that runs out of time costs a wasted run before Glue takes it.
 */
export const CONVERT_SPEED_SHARE_ASSUMED = 0.5;

/**
 * DuckDB's settings for a function of this size; no more threads than the machine has cores (on
 * Lambda, its vCPUs: the same number; locally, fewer).
 */
export function duckdbSettings(limits: FunctionLimits, cores: number): Record<string, string> {
  return {
    threads: String(Math.min(lambdaVcpus(limits.memoryMb), cores)),
    memory_limit: `${Math.floor(limits.memoryMb * DUCKDB_MEMORY_SHARE)}MB`,
    max_temp_directory_size: `${Math.floor(limits.ephemeralMb * SPILL_SHARE)}MB`,
  };
}

/** Bytes of /tmp the source and its Parquet may take. */
export function workBytes(limits: FunctionLimits): number {
  return Math.floor(limits.ephemeralMb * (1 - SPILL_SHARE) * 1024 * 1024);
}
