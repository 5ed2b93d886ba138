/** The `datalake` command line: argument parsing and dispatch. Each command is a function of its IO. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { escapeControl } from '../text.ts';
import { defaultThreads } from '../validation/parallel.ts';
import { describeFailure, EXIT, exitCodeOf, type StopSignal, UsageError } from './failures.ts';
import { validateCommand } from './validate-command.ts';

export { CliError, EXIT, UsageError } from './failures.ts';

/** Where a command writes; injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal (progress lines are drawn only then). */
  readonly stderrIsTty: boolean;
  /**
   * Aborted on the first Ctrl-C or SIGTERM, its reason the signal's name: `local up` then stops
   * cleanly; `validate`, `ingest` and `reconcile` stop at once, without a verdict.
   * @default - never aborted
   */
  readonly signal?: AbortSignal;
  /** Print the stack of an unforeseen error (DATALAKE_DEBUG=1). @default false */
  readonly debug?: boolean;
}

/** The usage of each command, as `<command> --help` prints it. */
const HELP = {
  validate: `validate <file> --dataset <name> [--datasets DIR] [--json] [--max-errors N] [--max-record-bytes N]
         [--threads N]
    check a CSV (or gzip CSV) file against a dataset's declared schema, with the lake's exact rules;
    exit 0 valid, 1 invalid, 2 usage error, unknown dataset or unreadable file
    --max-errors N: errors listed, at most 10,000 (default 100; all are counted)
    --threads N: validate a plain file in N parallel ranges, with the result of one pass (default:
    one per core; 1 reads it in one pass; gzip, pipes and files under 16 MB are read in one pass)
`,
  'local up': `local up [--lake DIR] [--datasets DIR] [--port N] [--large-file-bytes N]
    run the whole pipeline on this machine: an S3 endpoint on 127.0.0.1, the workflow on every
    file dropped into its landing bucket; Ctrl-C stops (the lake folder, default .lake, is kept);
    one local up per lake folder
`,
  'local ingest': `local ingest <file> --dataset <name> [--key K] [--lake DIR] [--datasets DIR] [--json]
             [--large-file-bytes N]
    upload a file to landing, wait for its workflow, report the outcome;
    exit 0 curated, 1 rejected or failed, 2 usage error
    --key K: the landing key, <dataset>/<name> (default <dataset>/<file name>)
    --datasets DIR: with local up running, must be the folder up reads (default: up's)
    --large-file-bytes N: files above N bytes are validated in slices of N (default 12 GB;
    lower it to try the large-file route; with local up running, up's own setting applies)
`,
  'local query': `local query "<SQL>" [--lake DIR] [--datasets DIR] [--json]
    SQL (DuckDB) over the curated tables, one view per dataset with its ingest_date; in the
    table, SQL NULL prints as NULL and the text 'NULL' quoted
`,
  'local status': `local status [--lake DIR] [--json]
    objects per zone and the recent executions
`,
  reconcile: `reconcile [--redrive] [--json] [--lake DIR] [--datasets DIR]
reconcile --aws [--stage S] [--prefix P] [--region R] [--profile NAME] [--redrive] [--json]
    list landed objects without a terminal outcome (a lost event, a failed execution, one
    whose process died) on the local lake or a deployed stack (found by its stage and prefix,
    default dev and csvlake); --redrive runs them again (locally through a running local up, if
    there is one); exit 0 when none is left
`,
} as const;

type Command = keyof typeof HELP;

const indent = (text: string) => text.replace(/^(?=.)/gm, '  ');

export const USAGE = `usage: datalake <command> [options]

commands:
${Object.values(HELP).map(indent).join('')}
  <command> --help prints a command's usage; --version the version. Every command exits 2, with
  one line, for a bad argument or a path, port or lake it cannot use; 130/143 when stopped by
  Ctrl-C or SIGTERM; 3 for an internal error (DATALAKE_DEBUG=1 shows its stack).
`;

/** The usage of one command (or of all the `local` ones). */
function usageOf(command: Command | 'local' | undefined): string {
  if (command === undefined) return USAGE;
  const parts = Object.entries(HELP).filter(([name]) => name === command || name.startsWith(`${command} `));
  return `usage: datalake ${parts.map(([, text]) => text).join('       datalake ')}`;
}

/** Whether the arguments ask for help (before a `--`, after which everything is positional). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** The package's version, for `--version`. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String((pkg as { version: unknown }).version);
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  // The command whose usage a usage error prints.
  const at: { command?: Command | 'local' } = {};
  try {
    switch (command) {
      case 'validate':
        at.command = 'validate';
        if (wantsHelp(rest)) return help(io, 'validate');
        return await validateCommand(parseValidateArgs(rest), io);
      case 'local':
        return await localCommand(rest, io, at);
      case 'reconcile':
        at.command = 'reconcile';
        if (wantsHelp(rest)) return help(io, 'reconcile');
        return await reconcile(rest, io);
      case '--version':
      case '-V':
        io.stdout(`${version()}\n`);
        return EXIT.ok;
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
      io.stderr(`datalake: ${escapeControl(error.message)}\n\n${usageOf(at.command)}`);
      return EXIT.usage;
    }
    if (io.signal?.aborted) {
      // Whatever the command was doing when the signal came, it did not finish: no verdict.
      io.stderr('datalake: interrupted\n');
      return exitCodeOf(io.signal.reason as StopSignal);
    }
    const { text, code } = describeFailure(error, io.debug === true);
    io.stderr(text);
    return code;
  }
}

function help(io: CliIo, command: Command | 'local'): number {
  io.stdout(usageOf(command));
  return EXIT.ok;
}

async function localCommand(
  args: readonly string[],
  io: CliIo,
  at: { command?: Command | 'local' },
): Promise<number> {
  const [sub, ...rest] = args;
  const known = sub === 'up' || sub === 'ingest' || sub === 'query' || sub === 'status';
  at.command = known ? `local ${sub}` : 'local';
  if (wantsHelp(known ? rest : args)) return help(io, at.command);
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
      const signal = io.signal;
      const stop = new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
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
          options: {
            ...common,
            ...largeFileOption,
            // No default: with local up running, the default is the folder up reads.
            datasets: { type: 'string' },
            dataset: { type: 'string' },
            key: { type: 'string' },
          },
        }),
      );
      if (positionals.length !== 1) throw new UsageError('local ingest takes exactly one file');
      if (values.dataset === undefined) throw new UsageError('local ingest needs --dataset <name>');
      if (values.key !== undefined) checkKey(values.key, values.dataset);
      return localIngest(
        {
          lakeDir: values.lake,
          datasetsDir: values.datasets ?? 'datasets',
          datasetsGiven: values.datasets !== undefined,
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
        stage: { type: 'string' },
        prefix: { type: 'string' },
        region: { type: 'string' },
        profile: { type: 'string' },
      },
    }),
  );
  const deployed = {
    stage: values.stage,
    prefix: values.prefix,
    region: values.region,
    profile: values.profile,
  };
  if (!values.aws && Object.values(deployed).some((v) => v !== undefined)) {
    throw new UsageError('--stage, --prefix, --region and --profile name a deployed stack: add --aws');
  }
  const { reconcileCommand } = await import('./reconcile-command.ts');
  return reconcileCommand(
    {
      redrive: values.redrive,
      json: values.json,
      lakeDir: values.lake,
      datasetsDir: values.datasets,
      ...(values.aws ? { aws: await deployedLake(deployed) } : {}),
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
  /** Threads to validate on (1: one pass). */
  readonly threads: number;
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
        threads: { type: 'string' },
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
    maxErrors: positiveInteger('--max-errors', values['max-errors'], 0, MAX_LISTED_ERRORS),
    maxRecordBytes:
      values['max-record-bytes'] === undefined
        ? undefined
        : positiveInteger('--max-record-bytes', values['max-record-bytes'], 1),
    threads:
      values.threads === undefined
        ? defaultThreads()
        : positiveInteger('--threads', values.threads, 1, MAX_THREADS),
  };
}

/**
 * The most errors `validate` lists: each is held until the end (the JSON object and the table come
 * after the verdict), so the cap keeps memory bounded; all are counted, and `local ingest`'s report
 * in the failure zone keeps every one.
 */
const MAX_LISTED_ERRORS = 10_000;

/** The most threads `validate` starts: past the cores they only share them. */
const MAX_THREADS = 256;

/**
 * A `--key` the pipeline can take for `--dataset`: a file (not a folder) in the dataset's folder,
 * refused here before anything is uploaded.
 */
function checkKey(key: string, dataset: string): void {
  const example = `"${dataset}/file.csv"`;
  const segments = key.split('/');
  let problem: string | undefined;
  if (key === '') problem = `is empty: give <dataset>/<name>, e.g. ${example}, or leave it out`;
  else if (key.startsWith('/')) problem = `starts with "/": a key has no leading slash, e.g. ${example}`;
  else if (key.endsWith('/')) problem = 'ends with "/": it names a folder, not a file';
  else if (segments.length === 1)
    problem = `has no dataset folder: the pipeline picks the dataset by the key's first folder, e.g. ${example}`;
  else if (segments[0] !== dataset)
    problem = `is in folder "${segments[0]}" but --dataset is "${dataset}": the pipeline picks the dataset by the key's first folder`;
  else if (segments.some((s) => s === '.' || s === '..'))
    problem = 'has a "." or ".." segment, which the lake refuses';
  if (problem) throw new UsageError(`--key "${key}" ${problem}`);
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

function positiveInteger(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} takes a whole number ≥ ${min}, not "${text}"`);
  }
  if (n > max) throw new UsageError(`${flag} takes at most ${max.toLocaleString('en-US')}, not "${text}"`);
  return n;
}

/** The deployed stack `--aws` names: the app's prefix and stage unless given (lib/config.ts). */
async function deployedLake(options: {
  stage: string | undefined;
  prefix: string | undefined;
  region: string | undefined;
  profile: string | undefined;
}): Promise<{ prefix: string; stage: string; region?: string; profile?: string }> {
  const { parseConfig } = await import('../config.ts');
  // The same checks as `cdk deploy -c prefix=… -c stage=…`: a name it could not have deployed is a usage error.
  let config: { prefix: string; stage: string };
  try {
    config = parseConfig((key) =>
      key === 'prefix' ? options.prefix : key === 'stage' ? options.stage : undefined,
    );
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    prefix: config.prefix,
    stage: config.stage,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
}
