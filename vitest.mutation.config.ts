/**
 * The vitest configuration Stryker runs (`npm run mutation`): the project's own, narrowed to the test
 * files of one mutation group, which `bench/mutation.ts` passes in `MUTATION_TESTS` (comma-separated
 * globs) with the files it leaves out in `MUTATION_EXCLUDE`. The end-to-end suites under test/local/ take seconds a file, too slow to run once per mutant
 * on two cores; a group that leaves them out reports a lower bound on what the whole suite kills.
 */
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

const tests = process.env.MUTATION_TESTS?.split(',').filter(Boolean);
const excluded = process.env.MUTATION_EXCLUDE?.split(',').filter(Boolean) ?? [];

export default defineConfig({
  ...base,
  // Replaces the base's include (mergeConfig would concatenate the two lists).
  test: {
    ...base.test,
    ...(tests ? { include: tests } : {}),
    exclude: [...configDefaults.exclude, ...excluded],
    // Stryker runs the tests in worker threads, which refuse node's --expose-gc; the one test that
    // needs gc() (flat-memory.test.ts) is in no group.
    execArgv: [],
  },
});
