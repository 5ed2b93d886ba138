/**
 * The Lambda bundles as deployed: each handler bundled by esbuild with the options LakeFunction
 * gives NodejsFunction, its minified size, and its cold import time in a fresh Node process (the
 * work a cold start does before the first event: module evaluation, SDK client creation).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ENV } from '../lambdas/shared/contract.ts';
import { parseConfig } from '../lib/config.ts';
import { HANDLERS, LAMBDA_BUNDLING } from '../lib/constructs/lake-function.ts';
import { conversionSettings } from '../lib/conversion/plan.ts';

/** Size target of each bundle (the AWS SDK bundled in: 340–670 KB measured on 2026-12-02). */
export const TARGET_BUNDLE_KB = 1024;

/** One handler's figures. */
export interface BundleFigures {
  readonly handler: string;
  readonly bytes: number;
  /** Median of the cold imports, in milliseconds. */
  readonly importMs: number;
  readonly importRuns: number[];
}

/** Every variable a handler reads at import, with a placeholder value. */
export const PLACEHOLDER_ENV = {
  ...Object.fromEntries(
    Object.values(ENV).flatMap((vars) =>
      Object.values(vars).map((name) => [name, `bench-${name.toLowerCase()}`]),
    ),
  ),
  [ENV.validate.conversion]: JSON.stringify(conversionSettings(parseConfig(() => undefined))),
};

/**
 * Bundles one handler as LakeFunction has it bundled, into `outfile`; resolves with the modules
 * the bundle imports at run time (package names, or `node:` modules).
 */
export async function bundleHandler(handler: (typeof HANDLERS)[number], outfile: string): Promise<string[]> {
  const result = await build({
    entryPoints: [resolve('lambdas', handler, 'handler.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    external: [...LAMBDA_BUNDLING.externalModules],
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    banner: { js: LAMBDA_BUNDLING.banner },
    logLevel: 'warning',
    metafile: true,
  });
  const imports = Object.values(result.metafile.outputs).flatMap((o) =>
    o.imports.filter((i) => i.external).map((i) => i.path),
  );
  return [...new Set(imports)].sort();
}

/** Bundles every handler into `dir` and times `runs` cold imports of each. */
export async function measureBundles(dir: string, runs = 5): Promise<BundleFigures[]> {
  const figures: BundleFigures[] = [];
  for (const handler of HANDLERS) {
    const outfile = resolve(dir, handler, 'index.mjs');
    await bundleHandler(handler, outfile);
    const importRuns: number[] = [];
    for (let k = 0; k < runs; k++) importRuns.push(await coldImport(outfile));
    const sorted = [...importRuns].sort((a, b) => a - b);
    figures.push({
      handler,
      bytes: (await stat(outfile)).size,
      importMs: sorted[Math.floor(runs / 2)]!,
      importRuns,
    });
  }
  return figures;
}

/** Milliseconds to import the bundle in a fresh process (the bundle imports nothing but Node's modules). */
export async function coldImport(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...PLACEHOLDER_ENV, AWS_REGION: 'us-east-1', POWERTOOLS_DEV: 'false' },
  });
  return Number(stdout.trim().split('\n').at(-1));
}
