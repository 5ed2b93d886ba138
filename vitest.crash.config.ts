/**
 * `npm run test:crash`: the crash-recovery suite alone (test/local/crash-recovery.test.ts). Each of
 * its tests kills a real process and restarts the lake (about 40 s on two idle cores), so it runs
 * beside `npm test` rather than in it, to keep `npm test` near three minutes; CI (.ci/run) runs both.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/local/crash-recovery.test.ts'], exclude: [] },
});
