/**
 * `datalake local up | ingest | query | status`: the pipeline on one machine. Every command works
 * on a lake folder; `up` keeps a server running and the others use it when it is, or start their
 * own in-process runtime over the same folder when it is not.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ReportedError, ValidateTaskOutput } from '../../lambdas/shared/contract.ts';
import type { ErrorReport } from '../../lambdas/validate/core.ts';
import { loadDatasets, pickDataset, UnknownDatasetError } from '../datasets/load.ts';
import { localTableCatalog } from '../iceberg/local-catalog.ts';
import type { ConsoleServer } from '../local/console-server.ts';
import { type ExecutionRecord, ExecutionRecords, thisProcess } from '../local/executions.ts';
import { type LakePaths, LOCAL_BUCKETS, LOCAL_DATABASE, lakePaths } from '../local/lake-folder.ts';
import { QueryError, queryLake } from '../local/query.ts';
import { executionNameFor, LocalRuntime } from '../local/runtime.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localS3Client, startLocalS3 } from '../local/s3-server.ts';
import { escapeControl } from '../text.ts';
import { CliError, untilAborted } from './failures.ts';
import { fileHint } from './file-hint.ts';
import { errorTable, printRows, table } from './format.ts';
import {
  alreadyRunning,
  claimLake,
  onLake,
  releaseLake,
  requireFolder,
  requireLake,
  requireWritable,
  runningUp,
} from './lake-server.ts';
import { type CliIo, EXIT, UsageError } from './main.ts';

export { cellText } from './format.ts';

/** Options every local command takes. */
export interface LocalArgs {
  readonly lakeDir: string;
  readonly datasetsDir: string;
  readonly json: boolean;
  /** The workflow's large-file threshold (`up` and `ingest`); the app's default when unset. */
  readonly largeFileBytes?: number;
}

/** What `datalake local ingest --json` prints: exactly these fields. */
export interface IngestOutcome {
  readonly status: 'curated' | 'rejected' | 'failed';
  readonly dataset: string;
  readonly key: string;
  readonly rows: number;
  readonly errors: ReportedError[];
  readonly raw: string | null;
  readonly failure: string | null;
  readonly curated: string[] | null;
  /** The table snapshot that holds the file's rows, when curated (a 64-bit id as a decimal string). */
  readonly snapshotId: string | null;
  readonly execution: string;
}

/** The errors `ingest` lists (the failure zone keeps every one, in the `.errors.NNNNN.jsonl` parts). */
const INGEST_ERRORS = 100;

/** The runtime option of `--large-file-bytes`, absent when the flag was not given. */
function largeFile(args: LocalArgs): { largeFileBytes?: number } {
  return args.largeFileBytes === undefined ? {} : { largeFileBytes: args.largeFileBytes };
}

/** `local up`: runs the lake until Ctrl-C. */
export async function localUp(
  args: LocalArgs & { readonly port: number; readonly consolePort?: number },
  io: CliIo,
  stop: Promise<void>,
): Promise<number> {
  const paths = lakePaths(args.lakeDir);
  await requireWritable(paths);
  // One `up` per lake: a second would serve the same folder on another port (F13).
  const other = await runningUp(paths);
  if (other) throw alreadyRunning(other);
  const runtime = await LocalRuntime.start({
    lakeDir: args.lakeDir,
    datasetsDir: args.datasetsDir,
    port: args.port,
    ...largeFile(args),
    onLine: (line) => io.stdout(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
  });
  const { endpoint } = runtime.s3;
  try {
    await claimLake(paths, {
      endpoint,
      ledger: runtime.ledger.endpoint,
      ...thisProcess(),
      datasets: resolve(args.datasetsDir),
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  let console_: ConsoleServer;
  try {
    console_ = await startLocalConsole(runtime, args.consolePort ?? 0, io);
  } catch (error) {
    await runtime.close();
    await releaseLake(paths);
    throw error;
  }
  io.stdout(
    [
      `local lake running: ${runtime.paths.root}`,
      `console: ${console_.url}`,
      "  (no sign-in: it listens on 127.0.0.1 only, for this machine's user)",
      `S3 endpoint:        ${endpoint} (buckets: ${Object.values(LOCAL_BUCKETS).join(', ')})`,
      `ledger (DynamoDB):  ${runtime.ledger.endpoint} (table ${runtime.ledger.tableName})`,
      `datasets:           ${[...runtime.datasets.keys()].join(', ')}`,
      '',
      'drop files into the landing bucket under their dataset folder, e.g. with awscli:',
      `  export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} AWS_DEFAULT_REGION=${LOCAL_REGION}`,
      `  aws --endpoint-url ${endpoint} s3 cp orders.csv s3://${LOCAL_BUCKETS.landing}/orders/orders.csv`,
      'or with the AWS SDK for JavaScript v3:',
      `  new S3Client({ endpoint: '${endpoint}', region: '${LOCAL_REGION}', forcePathStyle: true,`,
      `    credentials: { accessKeyId: '${LOCAL_CREDENTIALS.accessKeyId}', secretAccessKey: '${LOCAL_CREDENTIALS.secretAccessKey}' },`,
      "    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' })",
      '',
      'Ctrl-C stops; the lake folder keeps everything for the next start.',
      '',
    ].join('\n'),
  );
  await stop;
  io.stdout('stopping: finishing the executions in flight…\n');
  await console_.close();
  await runtime.close();
  await releaseLake(paths);
  io.stdout('stopped\n');
  return EXIT.ok;
}

/**
 * The console of `local up`: the front end built into the lake folder, served with the API on the
 * lake's ports, and the landing bucket opened to the console's origins for its presigned uploads.
 */
async function startLocalConsole(runtime: LocalRuntime, port: number, io: CliIo): Promise<ConsoleServer> {
  // Loaded on use: esbuild and the API core are for `up` only.
  const [
    { buildWebSync },
    { localConsolePorts, LOCAL_MAX_UPLOAD_BYTES, runtimeLake },
    { startConsoleServer },
  ] = await Promise.all([
    import('../console/web-build.ts'),
    import('../console/local-ports.ts'),
    import('../local/console-server.ts'),
  ]);
  const web = buildWebSync(runtime.paths.console);
  const server = await startConsoleServer({
    port,
    ports: localConsolePorts(runtimeLake(runtime)),
    webDir: web.dir,
    s3Endpoint: runtime.s3.endpoint,
    maxUploadBytes: LOCAL_MAX_UPLOAD_BYTES,
    label: `local lake ${runtime.paths.root}`,
    onUnexpected: (error) => io.stderr(`console: a request failed: ${escapeControl(String(error))}\n`),
  });
  runtime.s3.allowBrowserUploads(LOCAL_BUCKETS.landing, server.origins);
  return server;
}

/** The endpoint of a `local up` serving this lake folder, if one is running. */
async function runningServer(paths: LakePaths): Promise<string | undefined> {
  return (await runningUp(paths))?.endpoint;
}

/** An S3 client on the lake: `local up`'s server, or a server of our own for the command's duration. */
async function withLake<T>(paths: LakePaths, work: (s3: S3Client) => Promise<T>): Promise<T> {
  await requireLake(paths);
  const endpoint = await runningServer(paths);
  if (endpoint) {
    const client = localS3Client(endpoint);
    try {
      return await onLake(paths, () => work(client));
    } finally {
      client.destroy();
    }
  }
  const server = await startLocalS3({ directory: paths.s3, buckets: Object.values(LOCAL_BUCKETS) });
  const client = localS3Client(server.endpoint);
  try {
    return await onLake(paths, () => work(client));
  } finally {
    client.destroy();
    await server.close();
  }
}

/** `local ingest`: uploads one file, waits for its workflow and reports the outcome. */
export async function localIngest(
  args: LocalArgs & {
    readonly file: string;
    readonly dataset: string;
    readonly key: string | undefined;
    /** True when `--datasets` was given, not defaulted: it must then be the folder a running `up` reads. */
    readonly datasetsGiven?: boolean;
  },
  io: CliIo,
): Promise<number> {
  const paths = lakePaths(args.lakeDir);
  await requireFolder(paths);
  // With `local up` running, the workflow checks the file against up's datasets, not ours.
  const up = await runningUp(paths);
  const upDatasets = up?.datasets;
  if (upDatasets && args.datasetsGiven && resolve(args.datasetsDir) !== upDatasets) {
    throw new UsageError(
      `--datasets ${resolve(args.datasetsDir)} is not the folder the running local up reads (${upDatasets}): leave --datasets out, or restart local up with it`,
    );
  }
  const datasets = await loadDatasets(upDatasets ?? args.datasetsDir);
  try {
    pickDataset(datasets, args.dataset);
  } catch (error) {
    if (error instanceof UnknownDatasetError) throw new UsageError(error.message);
    throw error;
  }
  const size = await fileSize(args.file);
  const key = args.key ?? `${args.dataset}/${basename(args.file)}`;
  const endpoint = up?.endpoint;
  if (!endpoint) await requireWritable(paths);
  const runtime = endpoint
    ? undefined
    : await LocalRuntime.start({ lakeDir: args.lakeDir, datasetsDir: args.datasetsDir, ...largeFile(args) });
  const client = endpoint ? localS3Client(endpoint) : runtime!.client;
  try {
    const upload = new Upload({
      client,
      params: { Bucket: LOCAL_BUCKETS.landing, Key: key, Body: createReadStream(args.file) },
    });
    io.signal?.addEventListener('abort', () => void upload.abort(), { once: true });
    const uploaded = await untilAborted(upload.done(), io.signal);
    // The trigger names executions deterministically: the name follows from the object itself.
    const name = executionNameFor(key, size, uploaded.ETag ?? '');
    // With `local up` serving, its process runs the execution: stop waiting if it dies first.
    const served = up ? async () => (await runningUp(paths))?.pid === up.pid : async () => true;
    const record = await untilAborted(new ExecutionRecords(paths.executions).ended(name, served), io.signal);
    if (!record)
      throw new CliError(
        `local up stopped before it started execution ${name}; \`datalake reconcile --redrive\` runs it`,
      );
    const outcome = await describeOutcome(record, client);
    if (args.json) io.stdout(`${JSON.stringify(outcome)}\n`);
    else io.stdout(humanOutcome(outcome, record));
    const hint = outcome.status === 'rejected' ? await fileHint(args.file) : undefined;
    if (hint) io.stderr(`datalake: hint: ${hint}\n`);
    return outcome.status === 'curated' ? EXIT.ok : EXIT.invalid;
  } finally {
    // Interrupted: an execution in flight is left to end with the process (reconcile finds it).
    if (!runtime) client.destroy();
    else if (!io.signal?.aborted) await runtime.close();
  }
}

/** The size of a file to upload; a directory or a missing file is the user's to fix. */
async function fileSize(file: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new CliError(`cannot read "${file}": no such file`);
  if (!info.isFile())
    throw new CliError(`cannot read "${file}": ${info.isDirectory() ? 'is a directory' : 'not a file'}`);
  return info.size;
}

async function describeOutcome(record: ExecutionRecord, s3: S3Client): Promise<IngestOutcome> {
  const output = record.output as { validation?: ValidateTaskOutput } | undefined;
  const validation = output?.validation;
  const uri = (ref: { bucket: string; key: string } | null | undefined) =>
    ref ? `s3://${ref.bucket}/${ref.key}` : null;
  let errors: ReportedError[] = validation?.errors ?? [];
  if (validation?.report) {
    // The full report is in the failure zone; the state carries only the first few errors.
    const object = await s3.send(
      new GetObjectCommand({ Bucket: validation.report.bucket, Key: validation.report.key }),
    );
    errors = (JSON.parse(await object.Body!.transformToString()) as ErrorReport).errors.slice(
      0,
      INGEST_ERRORS,
    );
  }
  if (record.outcome === 'failed' && record.error) {
    errors = [{ line: 0, column: null, value: null, rule: record.error.name, message: record.error.message }];
  }
  return {
    status: record.outcome ?? 'failed',
    dataset: validation?.dataset ?? record.input.dataset,
    key: record.input.key,
    rows: validation?.rows ?? 0,
    errors,
    raw: uri(validation?.raw),
    failure: uri(validation?.failure),
    curated: record.outcome === 'curated' ? (record.curated ?? []) : null,
    snapshotId: record.outcome === 'curated' ? (record.snapshotId ?? null) : null,
    execution: record.name,
  };
}

function humanOutcome(outcome: IngestOutcome, record: ExecutionRecord): string {
  const mark = outcome.status === 'curated' ? '✓' : '✗';
  const rows = `${outcome.rows.toLocaleString('en-US')} rows`;
  const lines = [`${mark} ${outcome.key} → ${outcome.status} (dataset ${outcome.dataset}, ${rows})`];
  lines.push(`  path:      ${record.states.join(' → ')}`);
  if (outcome.raw) lines.push(`  raw:       ${outcome.raw}`);
  for (const c of outcome.curated ?? []) lines.push(`  curated:   ${c}`);
  if (outcome.snapshotId) lines.push(`  snapshot:  ${outcome.snapshotId} (table ${outcome.dataset})`);
  if (outcome.failure)
    lines.push(`  failure:   ${outcome.failure}`, `  report:    ${outcome.failure}.errors.json`);
  lines.push(`  execution: ${outcome.execution}`);
  if (outcome.errors.length > 0) lines.push('', ...errorTable(outcome.errors));
  // The key comes from the user and the file name: printed as it is, without what a terminal acts on.
  return `${escapeControl(lines.join('\n'))}\n`;
}

/** `local query`: one SQL statement over the curated tables. */
export async function localQuery(args: LocalArgs & { readonly sql: string }, io: CliIo): Promise<number> {
  const paths = lakePaths(args.lakeDir);
  const datasets = await loadDatasets(args.datasetsDir);
  try {
    const result = await withLake(paths, async (s3) =>
      queryLake(
        {
          s3,
          curatedBucket: LOCAL_BUCKETS.curated,
          datasets,
          catalog: localTableCatalog(paths.tables),
          database: LOCAL_DATABASE,
          cacheDir: paths.queryCache,
        },
        args.sql,
      ),
    );
    printRows(result, args.json, io);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof QueryError) {
      io.stderr(`datalake: query failed: ${escapeControl(error.message)}\n`);
      return EXIT.invalid;
    }
    throw error;
  }
}

/** `local status`: objects per zone and the recent executions. */
export async function localStatus(args: LocalArgs, io: CliIo): Promise<number> {
  const paths = lakePaths(args.lakeDir);
  const counts = await withLake(paths, async (s3) => {
    const result: Record<string, number> = {};
    for (const bucket of Object.values(LOCAL_BUCKETS)) {
      let n = 0;
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        n += page.KeyCount ?? page.Contents?.length ?? 0;
        token = page.NextContinuationToken;
      } while (token);
      result[bucket] = n;
    }
    return result;
  });
  const executions = await new ExecutionRecords(paths.executions).list();
  if (args.json) {
    io.stdout(
      `${JSON.stringify({ lake: paths.root, objects: counts, executions: executions.slice(0, 20) })}\n`,
    );
    return EXIT.ok;
  }
  const lines = [`lake: ${paths.root}${(await runningServer(paths)) ? ' (local up is running)' : ''}`, ''];
  lines.push(
    ...table(
      ['zone', 'objects'],
      Object.entries(counts).map(([z, n]) => [z, String(n)]),
    ),
  );
  lines.push('', `executions: ${executions.length}`);
  if (executions.length > 0) {
    lines.push(
      ...table(
        ['started', 'outcome', 'key', 'snapshot', 'execution'],
        executions
          .slice(0, 20)
          .map((e) => [
            e.startedAt,
            e.status === 'ABORTED' ? 'aborted' : (e.outcome ?? e.status.toLowerCase()),
            e.input.key,
            e.snapshotId ?? '-',
            e.name,
          ]),
      ),
    );
  }
  io.stdout(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
