/**
 * Builds the console's front end (web/) into a folder of static files: `index.html`, the app's
 * script and style, and the validation worker. Run at synth (the CDK asset the console's bucket
 * deploys) and by `local up` (what its console server serves). esbuild, synchronous, so a
 * construct can call it; the output depends only on the sources.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The repository's `web/` folder. */
export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web');

const SHIMS = join(WEB_DIR, 'src/shims');

/** The default output folder (git-ignored). */
export const WEB_BUILD_DIR = resolve(WEB_DIR, '../.web');

/** What a build wrote. */
export interface WebBuild {
  /** The folder holding the static files. */
  readonly dir: string;
  /** Each file's path (relative) and size, bytes. */
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
}

/** Builds web/ into `outDir` (emptied first). */
export function buildWebSync(outDir: string = WEB_BUILD_DIR): WebBuild {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const common = {
    outdir: outDir,
    bundle: true,
    minify: true,
    // Classic scripts: the page's and the worker's have no import left to resolve.
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    metafile: true,
    logLevel: 'silent',
  } as const;
  const page = buildSync({
    ...common,
    entryPoints: { main: join(WEB_DIR, 'src/main.tsx'), style: join(WEB_DIR, 'src/style.css') },
    jsx: 'automatic',
    jsxImportSource: 'preact',
  });
  const worker = buildSync({
    ...common,
    entryPoints: { worker: join(WEB_DIR, 'src/validation/worker.ts') },
    alias: {
      // The validator core imports node:buffer and uses the global Buffer: in the browser they are
      // the `buffer` package with a TextDecoder-based isUtf8.
      'node:buffer': join(SHIMS, 'node-buffer.ts'),
      // The declaration was checked by the API's loader; its ReDoS check need not ship (67 KB).
      'redos-detector': join(SHIMS, 'redos-detector.ts'),
    },
    inject: [join(SHIMS, 'buffer-global.ts')],
  });
  cpSync(join(WEB_DIR, 'index.html'), join(outDir, 'index.html'));
  const outputs = { ...page.metafile.outputs, ...worker.metafile.outputs };
  const files = Object.entries(outputs).map(([path, out]) => ({
    path: path.slice(path.lastIndexOf('/') + 1),
    bytes: out.bytes,
  }));
  return { dir: outDir, files };
}
