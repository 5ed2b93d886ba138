/**
 * The worker entry of a parallel validation run from TypeScript source (the CLI, the bench, tests).
 * Apart from parallel.ts so that a bundled function, which is its own worker entry, does not carry
 * esbuild.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let bundledWorker: Promise<URL | undefined> | undefined;

/**
 * The worker entry when running from TypeScript source (the CLI, tests): range-worker.ts bundled
 * once per process by esbuild (which comes with tsx) into a temporary file, as the deployed
 * functions are bundled: a worker thread does not inherit the tsx loader, and through it each
 * would compile and load about 100 modules (0.4 CPU seconds a thread, measured). Undefined when
 * the build fails: the file is then read in one pass, slower but not wrong.
 */
export function sourceWorkerEntry(): Promise<URL | undefined> {
  bundledWorker ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datalake-range-worker-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const outfile = join(dir, 'range-worker.mjs');
    try {
      const esbuild = await import('esbuild');
      await esbuild.build({
        entryPoints: [fileURLToPath(new URL('./range-worker.ts', import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        logLevel: 'silent',
      });
      return pathToFileURL(outfile);
    } catch {
      return undefined;
    }
  })();
  return bundledWorker;
}
