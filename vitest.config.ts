import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Suites kept out of `npm test` for time, about 45 s of test time together, run by `npm run
 * test:slow` (vitest.slow.config.ts) and by CI: integ-runner's synth of the integ app compared with
 * its committed snapshot (about 23 s), and the real SDK's retries against a local server that
 * throttles, waiting out the SDK's own backoff (about 20 s).
 */
export const SLOW_SUITES = ['test/integ/snapshot.test.ts', 'test/unit/aws/retries.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kills real processes and restarts the lake, about 40 s: `npm run test:crash` (vitest.crash.config.ts).
    // Fetches the arm64 DuckDB binding from the npm registry: `npm run test:arm64` (vitest.arm64.config.ts).
    // The integ snapshot and the SDK retry suite, about 45 s: `npm run test:slow` (vitest.slow.config.ts).
    exclude: [
      '**/node_modules/**',
      'test/local/crash-recovery.test.ts',
      'test/infra/bundles-arm64.test.ts',
      ...SLOW_SUITES,
    ],
    // The differential and stream tests generate thousands of files; keep them off the 5 s default.
    testTimeout: 60_000,
    pool: 'forks',
    // One worker per core (Vitest's default leaves one core idle: on this 2-core machine, one
    // worker, 190 s where two take 117 s). Many tests wait on child processes, DuckDB and sockets.
    maxWorkers: availableParallelism(),
    // A global gc() in every worker: the memory-bound tests collect before they measure, and
    // assert the bound on every run rather than only where a GC hook happens to be reachable.
    execArgv: ['--expose-gc'],
  },
});
