/**
 * `npm run test:slow`: the suites `npm test` leaves out for time (`SLOW_SUITES` in vitest.config.ts,
 * which says why each is slow), so that `npm test` stays near three minutes on two cores; CI
 * (.ci/run) runs them beside it.
 */
import { defineConfig } from 'vitest/config';
import base, { SLOW_SUITES } from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: { ...base.test, include: SLOW_SUITES, exclude: [] },
});
