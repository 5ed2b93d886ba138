/**
 * Lambda gives a function CPU in proportion to its memory: one vCPU's worth at 1,769 MB, up to 6
 * at 10,240 MB (Lambda's documentation). The stack sizes Validate and Convert by it; their
 * handlers start as many validation threads, or DuckDB threads, as it buys.
 */
export const LAMBDA_MB_PER_VCPU = 1769;
/** Lambda's most vCPUs (at its largest memory, 10,240 MB). */
export const LAMBDA_MAX_VCPUS = 6;

/**
 * The vCPUs a function of `memoryMb` is given: one per 1,769 MB begun, so that 10,240 MB counts
 * its 6. A function between two steps gets a share of its last vCPU; a thread there still runs,
 * only slower. Not the cores the OS shows (`os.availableParallelism()`), which a small function
 * also sees but only shares.
 */
export function lambdaVcpus(memoryMb: number): number {
  return Math.min(LAMBDA_MAX_VCPUS, Math.max(1, Math.ceil(memoryMb / LAMBDA_MB_PER_VCPU)));
}

/** The vCPUs the Validate function is sized for: the threads of a parallel validation. */
export const VALIDATE_VCPUS = 2;
