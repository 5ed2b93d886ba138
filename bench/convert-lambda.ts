/**
 * The Convert Lambda as deployed: its bundle built as LakeFunction builds it (esbuild with the
 * DuckDB binding external, the binding packages copied into the asset by the same commands),
 * run in a fresh Node process with Lambda's environment (no HOME, /tmp as TMPDIR, the function's
 * memory and /tmp in its variables) against a local S3 server. `npm run bench` reports its size,
 * its cold start and its conversion speed, memory and /tmp use from here; the bundles test runs
 * the bundle CDK staged through the same `runBundledConvert`.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { ConvertTaskInput } from '../lambdas/shared/contract.ts';
import { DUCKDB_EXTERNALS, duckdbAssetCommands, LAMBDA_BUNDLING } from '../lib/constructs/lake-function.ts';
import type { FunctionLimits } from '../lib/conversion/lambda-sizing.ts';
import { commitRequestUri, partitionPrefix } from '../lib/iceberg/layout.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/s3-server.ts';
import { ORDERS_HEADER, orderRows } from '../lib/samples/orders-generator.ts';

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

/** Decimal megabytes, as the rest of the bench counts them. */
const MB = 1e6;

/** One file's conversion by the bundled handler in a fresh process. */
export interface ConvertRunFigures {
  readonly label: string;
  readonly csvBytes: number;
  readonly rows: number;
  /** The engine's own seconds (download, DuckDB, upload, publish). */
  readonly seconds: number;
  readonly mbPerSecond: number;
  readonly maxRssBytes: number;
  readonly peakTmpBytes: number;
  readonly threads: number;
}

/** What `npm run bench` reports of the Convert Lambda. */
export interface ConvertLambdaFigures {
  readonly unzippedBytes: number;
  readonly zippedBytes: number;
  /** Import of the bundle in a fresh process, ms (median of the runs). */
  readonly importMs: number;
  /** Import plus the first conversion of a 1 KB file (DuckDB started, first query), ms (median). */
  readonly coldStartMs: number;
  readonly coldRuns: number[];
  readonly runs: ConvertRunFigures[];
}

/**
 * Bundles the Convert handler under `dir`, times its cold start on a 5-row file (`coldRuns` fresh
 * processes) and converts each of `files` (valid orders files with their row counts) once in a
 * fresh process with the deployed function's limits, through a local S3 server.
 */
export async function measureConvertLambda(
  dir: string,
  files: readonly { readonly label: string; readonly path: string; readonly rows: number }[],
  limits: FunctionLimits,
  schema: string,
  coldRuns = 3,
): Promise<ConvertLambdaFigures> {
  const { mkdir, mkdtemp } = await import('node:fs/promises');
  const { createReadStream } = await import('node:fs');
  const { Upload } = await import('@aws-sdk/lib-storage');
  const { startLocalS3, localS3Client } = await import('../lib/local/s3-server.ts');
  const { availableParallelism } = await import('node:os');
  const { duckdbSettings } = await import('../lib/conversion/lambda-sizing.ts');
  await mkdir(dir, { recursive: true });
  const root = resolve(await mkdtemp(join(dir, 'convert-lambda-')));
  const tinyCsv = join(root, 'tiny.csv');
  await writeFile(tinyCsv, `${ORDERS_HEADER}${orderRows(1, 0, 5)}`);
  const bundle = join(root, 'bundle');
  await bundleConvert(bundle);
  const unzippedBytes = await folderBytes(bundle);
  const zipped = await zippedBytes(bundle, root);
  const server = await startLocalS3({ directory: join(root, 's3'), buckets: ['raw', 'curated'] });
  const s3 = localS3Client(server.endpoint);
  const run = async (path: string, name: string, rows: number) => {
    const key = `orders/ingest_date=2024-01-05/${name}.csv`;
    await new Upload({
      client: s3,
      params: { Bucket: 'raw', Key: key, Body: createReadStream(path, { highWaterMark: 1 << 20 }) },
    }).done();
    const tmpDir = join(root, `tmp-${name}`);
    await mkdir(tmpDir);
    const result = await runBundledConvert(
      bundle,
      {
        arguments: {
          '--dataset': 'orders',
          '--source': `s3://raw/${key}`,
          '--target': partitionPrefix('curated', 'orders', '2024-01-05'),
          '--ingest-date': '2024-01-05',
          '--commit-request': commitRequestUri('curated', 'orders', `bench-${name}`),
          '--schema': schema,
          '--expected-rows': String(rows),
          '--run-id': `bench-${name}`,
          '--delimiter': ',',
          '--quote': '"',
          '--source-key': `orders/bench-${name}.csv`,
          '--source-version': 'v1',
          '--ingested-at': '2024-01-05T10:00:00.000Z',
        },
      },
      { endpoint: server.endpoint, tmpDir, limits },
    );
    await rm(tmpDir, { recursive: true, force: true });
    if (result.error)
      throw new Error(`the bundled Convert handler failed on ${path}: ${result.error.message}`);
    return result;
  };
  try {
    const cold: BundledRun[] = [];
    for (let k = 0; k < coldRuns; k++) cold.push(await run(tinyCsv, `cold-${k}`, 5));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const runs: ConvertRunFigures[] = [];
    for (const [index, file] of files.entries()) {
      const csvBytes = (await stat(file.path)).size;
      const result = await run(file.path, `file-${index}`, file.rows);
      const seconds = (result.output as { seconds: number }).seconds;
      runs.push({
        label: file.label,
        csvBytes,
        rows: file.rows,
        seconds,
        mbPerSecond: csvBytes / MB / seconds,
        maxRssBytes: result.maxRssBytes,
        peakTmpBytes: result.peakTmpBytes,
        threads: Number(duckdbSettings(limits, availableParallelism()).threads),
      });
    }
    const coldStarts = cold.map((r) => r.importMs + r.handlerMs);
    return {
      unzippedBytes,
      zippedBytes: zipped,
      importMs: median(cold.map((r) => r.importMs)),
      coldStartMs: median(coldStarts),
      coldRuns: coldStarts,
      runs,
    };
  } finally {
    s3.destroy();
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}
