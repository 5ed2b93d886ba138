/**
 * The Lambda bundles are self-sufficient (AWS review R1): built as LakeFunction builds them, each
 * imports nothing but Node's own modules, and loads in a fresh Node process from a folder with no
 * node_modules anywhere above it, as on Lambda, where the runtime's own SDK is neither versioned
 * nor listed by AWS (`@aws-sdk/lib-storage` may be absent from it).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleHandler, coldImport } from '../../bench/lambda-bundles.ts';
import { HANDLERS } from '../../lib/constructs/lake-function.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the Lambda bundles', () => {
  it.each(HANDLERS)(
    '%s imports only Node built-ins and loads with no node_modules in reach',
    async (handler) => {
      // Prepare: the OS temp folder has no node_modules above it.
      const dir = await mkdtemp(join(tmpdir(), `bundle-${handler}-`));
      dirs.push(dir);
      const outfile = join(dir, 'index.mjs');

      // Act
      const imports = await bundleHandler(handler, outfile);
      const ms = await coldImport(outfile);

      // Assess
      const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
      expect(imports.filter((m) => !builtin.has(m))).toEqual([]);
      expect(ms).toBeGreaterThan(0);
    },
  );
});
