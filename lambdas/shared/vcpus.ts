/**
 * Lambda gives a function CPU in proportion to its memory: one vCPU's worth at 1,769 MB, up to 6
 * at 10,240 MB. The stack sizes Validate by it and the handler starts as many threads as it buys.
 */
export const LAMBDA_MB_PER_VCPU = 1769;
/** Lambda's most vCPUs (at its largest memory, 10,240 MB). */
const LAMBDA_MAX_VCPUS = 6;

/**
 * The whole vCPUs a function of `memoryMb` gets: the threads worth running. Not the cores the OS
 * shows (`os.availableParallelism()`), which a small function also sees but only shares.
 */
export function lambdaVcpus(memoryMb: number): number {
  return Math.max(1, Math.min(LAMBDA_MAX_VCPUS, Math.floor(memoryMb / LAMBDA_MB_PER_VCPU)));
}
