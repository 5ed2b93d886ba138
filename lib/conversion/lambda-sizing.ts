/**
 * The Convert Lambda's size and the DuckDB settings that follow from it, from the figures
 * `npm run bench` measures (BENCHMARKS.md, "Convert Lambda"). One source for the stack (memory,
 * /tmp, timeout), the function's core (threads, memory limit, spill cap) and the router's
 * default threshold (lib/config.ts, DEFAULT_FAST_PATH_MAX_BYTES). Nothing here loads DuckDB.
 */

/** Lambda gives one vCPU per 1,769 MB of memory, up to 6 at 10,240 MB (Lambda's documentation). */
export const LAMBDA_MB_PER_VCPU = 1769;
export const LAMBDA_MAX_VCPUS = 6;
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

/** vCPUs Lambda gives a function of `memoryMb`. */
export function lambdaVcpus(memoryMb: number): number {
  return Math.min(LAMBDA_MAX_VCPUS, Math.max(1, Math.ceil(memoryMb / LAMBDA_MB_PER_VCPU)));
}

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
