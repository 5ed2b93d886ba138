import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The differential and stream tests generate thousands of files; keep them off the 5 s default.
    testTimeout: 60_000,
    pool: 'forks',
  },
});
