/**
 * The Convert Lambda as deployed: its bundle built as LakeFunction builds it (esbuild with the
 * DuckDB binding external, the binding packages copied into the asset by the same commands),
 * run in a fresh Node process with Lambda's environment (no HOME, /tmp as TMPDIR, the function's
 * memory and /tmp in its variables) against a local S3 server. `npm run bench` reports its size,
 * its cold start and its conversion speed, memory and /tmp use from here; the bundles test runs
 * the bundle CDK staged through the same `runBundledConvert`.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { ConvertTaskInput } from '../lambdas/shared/contract.ts';
import { DUCKDB_EXTERNALS, duckdbAssetCommands, LAMBDA_BUNDLING } from '../lib/constructs/lake-function.ts';
import type { FunctionLimits } from '../lib/conversion/lambda-sizing.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/s3-server.ts';

/** Bundles the Convert handler into `dir` (index.mjs and node_modules) as LakeFunction does. */
export async function bundleConvert(dir: string): Promise<void> {
  await build({
    entryPoints: [resolve('lambdas', 'convert', 'handler.ts')],
    outfile: join(dir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    external: [...LAMBDA_BUNDLING.externalModules, ...DUCKDB_EXTERNALS],
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    banner: { js: LAMBDA_BUNDLING.banner },
    logLevel: 'warning',
  });
  await promisify(execFile)('bash', ['-c', duckdbAssetCommands(dir).join(' && ')]);
}

/** Bytes of every file under `dir`. */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Bytes of the bundle folder zipped as CDK zips an asset (deflate, level 9 here: close enough). */
export async function zippedBytes(dir: string, scratch: string): Promise<number> {
  const zip = join(scratch, 'asset.zip');
  await rm(zip, { force: true });
  await promisify(execFile)('zip', ['-qr9', zip, '.'], { cwd: dir });
  const bytes = (await stat(zip)).size;
  await rm(zip, { force: true });
  return bytes;
}

/** What one run of the bundled handler in a fresh process reports. */
export interface BundledRun {
  /** The handler's output, or its error's name and message. */
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** Milliseconds to import the bundle (the cold start before the first event). */
  readonly importMs: number;
  /** Milliseconds of the handler's run. */
  readonly handlerMs: number;
  /** The process's peak resident memory, bytes. */
  readonly maxRssBytes: number;
  /** The largest /tmp (TMPDIR) use seen while it ran, bytes (sampled every 50 ms). */
  readonly peakTmpBytes: number;
}

/**
 * Runs `index.mjs` of `bundleDir` once in a fresh Node process, as Lambda would run it: cwd the
 * bundle, no HOME, TMPDIR `tmpDir`, the function's limits in its environment, S3 at `endpoint`.
 */
export async function runBundledConvert(
  bundleDir: string,
  input: ConvertTaskInput,
  options: { readonly endpoint: string; readonly tmpDir: string; readonly limits: FunctionLimits },
): Promise<BundledRun> {
  const script = `
const started = performance.now();
const { handler } = await import(${JSON.stringify(join(bundleDir, 'index.mjs'))});
const imported = performance.now();
const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 900000 - (performance.now() - imported) };
const result = {};
try { result.output = await handler(${JSON.stringify(input)}, context); }
catch (error) { result.error = { name: error.name, message: error.message }; }
result.importMs = imported - started;
result.handlerMs = performance.now() - imported;
result.maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write('\\n' + JSON.stringify(result));
`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TMPDIR: options.tmpDir,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: options.endpoint,
    // s3rver stores aws-chunked framing as data otherwise (ENVIRONMENT.md).
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.limits.memoryMb),
    EPHEMERAL_STORAGE_MB: String(options.limits.ephemeralMb),
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: bundleDir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let peakTmpBytes = 0;
  const sampler = setInterval(() => {
    folderBytes(options.tmpDir).then(
      (bytes) => {
        peakTmpBytes = Math.max(peakTmpBytes, bytes);
      },
      () => undefined,
    );
  }, 50);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearInterval(sampler);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{'))
    throw new Error(`the bundled handler exited ${code}: ${stderr.slice(-2000)}${stdout.slice(-500)}`);
  return { ...(JSON.parse(last) as Omit<BundledRun, 'peakTmpBytes'>), peakTmpBytes };
}
