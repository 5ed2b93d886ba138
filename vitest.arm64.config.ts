/**
 * `npm run test:arm64`: the Convert function built for arm64 (test/infra/bundles-arm64.test.ts).
 * Its synth fetches the arm64 DuckDB binding from the npm registry, so it runs beside `npm test`,
 * which needs no network.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/infra/bundles-arm64.test.ts'], exclude: [] },
});
