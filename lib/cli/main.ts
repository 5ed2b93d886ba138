/** The `datalake` command line: argument parsing and dispatch. Each command is a function of its IO. */
import { parseArgs } from 'node:util';
import { validateCommand } from './validate-command.ts';

/** Where a command writes; injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal (progress lines are drawn only then). */
  readonly stderrIsTty: boolean;
  /** Resolves when the user asks a long-running command to stop (Ctrl-C). */
  readonly stopped?: Promise<void>;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export const USAGE = `usage: datalake <command> [options]

commands:
  validate <file> --dataset <name> [--datasets DIR] [--json] [--max-errors N] [--max-record-bytes N]
      check a CSV (or gzip CSV) file against a dataset's declared schema, with the lake's exact rules;
      exit 0 valid, 1 invalid, 2 usage error or unknown dataset
  local up [--lake DIR] [--datasets DIR] [--port N] [--large-file-bytes N]
      run the whole pipeline on this machine: an S3 endpoint on 127.0.0.1, the workflow on every
      file dropped into its landing bucket; Ctrl-C stops (the lake folder, default .lake, is kept)
  local ingest <file> --dataset <name> [--key K] [--lake DIR] [--datasets DIR] [--json]
               [--large-file-bytes N]
      upload a file to landing (key default <dataset>/<file name>), wait for its workflow, report
      the outcome; exit 0 curated, 1 rejected or failed, 2 usage error
      --large-file-bytes N: files above N bytes are validated in slices of N (default 12 GB;
      lower it to try the large-file route; with local up running, up's own setting applies)
  local query "<SQL>" [--lake DIR] [--datasets DIR] [--json]
      SQL (DuckDB) over the curated tables, one view per dataset with its ingest_date
  local status [--lake DIR] [--json]
      objects per zone and the recent executions
  reconcile [--redrive] [--json] [--lake DIR] [--datasets DIR]
  reconcile --aws --landing-bucket NAME --state-machine-arn ARN [--redrive] [--json]
      list landed objects without a terminal outcome (a lost event, a failed execution) on the
      local lake or a deployed stack; --redrive runs them again; exit 0 when none is left
`;

/** A mistake in how the command was called: reported with the usage text, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'validate':
        return await validateCommand(parseValidateArgs(rest), io);
      case 'local':
        return await localCommand(rest, io);
      case 'reconcile':
        return await reconcile(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`datalake: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    throw error;
  }
}

async function localCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  // Loaded on use: `validate` should not pay for the S3 server, DuckDB and the CDK.
  const { localIngest, localQuery, localStatus, localUp } = await import('./local-command.ts');
  const common = {
    lake: { type: 'string', default: '.lake' },
    datasets: { type: 'string', default: 'datasets' },
    json: { type: 'boolean', default: false },
  } as const;
  switch (sub) {
    case 'up': {
      const { values } = usageOnError(() =>
        parseArgs({
          args: [...rest],
          strict: true,
          options: { ...common, ...largeFileOption, port: { type: 'string', default: '0' } },
        }),
      );
      const port = positiveInteger('--port', values.port, 0);
      if (port > 65535) throw new UsageError(`--port takes a port number, not "${values.port}"`);
      const stop = io.stopped ?? new Promise<void>(() => {});
      return localUp(
        {
          lakeDir: values.lake,
          datasetsDir: values.datasets,
          json: values.json,
          port,
          ...largeFileBytes(values['large-file-bytes']),
        },
        io,
        stop,
      );
    }
    case 'ingest': {
      const { values, positionals } = usageOnError(() =>
        parseArgs({
          args: [...rest],
          strict: true,
          allowPositionals: true,
          options: { ...common, ...largeFileOption, dataset: { type: 'string' }, key: { type: 'string' } },
        }),
      );
      if (positionals.length !== 1) throw new UsageError('local ingest takes exactly one file');
      if (values.dataset === undefined) throw new UsageError('local ingest needs --dataset <name>');
      return localIngest(
        {
          lakeDir: values.lake,
          datasetsDir: values.datasets,
          json: values.json,
          file: positionals[0]!,
          dataset: values.dataset,
          key: values.key,
          ...largeFileBytes(values['large-file-bytes']),
        },
        io,
      );
    }
    case 'query': {
      const { values, positionals } = usageOnError(() =>
        parseArgs({ args: [...rest], strict: true, allowPositionals: true, options: common }),
      );
      if (positionals.length !== 1)
        throw new UsageError('local query takes exactly one SQL statement (quote it)');
      return localQuery(
        { lakeDir: values.lake, datasetsDir: values.datasets, json: values.json, sql: positionals[0]! },
        io,
      );
    }
    case 'status': {
      const { values } = usageOnError(() => parseArgs({ args: [...rest], strict: true, options: common }));
      return localStatus({ lakeDir: values.lake, datasetsDir: values.datasets, json: values.json }, io);
    }
    default:
      throw new UsageError(
        sub === undefined
          ? 'local needs a command: up, ingest, query or status'
          : `unknown local command "${sub}"`,
      );
  }
}

async function reconcile(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = usageOnError(() =>
    parseArgs({
      args: [...args],
      strict: true,
      options: {
        redrive: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        lake: { type: 'string', default: '.lake' },
        datasets: { type: 'string', default: 'datasets' },
        aws: { type: 'boolean', default: false },
        'landing-bucket': { type: 'string' },
        'state-machine-arn': { type: 'string' },
      },
    }),
  );
  const landingBucket = values['landing-bucket'];
  const stateMachineArn = values['state-machine-arn'];
  if (values.aws && (!landingBucket || !stateMachineArn)) {
    throw new UsageError(
      'reconcile --aws needs --landing-bucket and --state-machine-arn (the stack outputs name them)',
    );
  }
  const { reconcileCommand } = await import('./reconcile-command.ts');
  return reconcileCommand(
    {
      redrive: values.redrive,
      json: values.json,
      lakeDir: values.lake,
      datasetsDir: values.datasets,
      ...(values.aws ? { aws: { landingBucket: landingBucket!, stateMachineArn: stateMachineArn! } } : {}),
    },
    io,
  );
}

/** Options of `datalake validate`. */
export interface ValidateArgs {
  readonly file: string;
  readonly dataset: string;
  readonly datasetsDir: string;
  readonly json: boolean;
  readonly maxErrors: number;
  readonly maxRecordBytes: number | undefined;
}

function parseValidateArgs(args: readonly string[]): ValidateArgs {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        dataset: { type: 'string' },
        datasets: { type: 'string', default: 'datasets' },
        json: { type: 'boolean', default: false },
        'max-errors': { type: 'string', default: '100' },
        'max-record-bytes': { type: 'string' },
      },
    }),
  );
  if (positionals.length !== 1) throw new UsageError('validate takes exactly one file');
  if (typeof values.dataset !== 'string') throw new UsageError('validate needs --dataset <name>');
  return {
    file: positionals[0]!,
    dataset: values.dataset,
    datasetsDir: values.datasets,
    json: values.json,
    maxErrors: positiveInteger('--max-errors', values['max-errors'], 0),
    maxRecordBytes:
      values['max-record-bytes'] === undefined
        ? undefined
        : positiveInteger('--max-record-bytes', values['max-record-bytes'], 1),
  };
}

/** Runs an argument parse, turning its errors (unknown option, missing value) into usage errors. */
function usageOnError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const largeFileOption = { 'large-file-bytes': { type: 'string' } } as const;

/** `--large-file-bytes`, when given: at least 1 KiB, as the app's configuration requires. */
function largeFileBytes(text: string | undefined): { largeFileBytes?: number } {
  return text === undefined ? {} : { largeFileBytes: positiveInteger('--large-file-bytes', text, 1024) };
}

function positiveInteger(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} takes a whole number ≥ ${min}, not "${text}"`);
  }
  return n;
}
