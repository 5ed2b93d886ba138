/** The `datalake` command line: argument parsing and dispatch. Each command is a function of its IO. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PipelineStatus } from '../../lambdas/shared/contract.ts';
import { parseConfig } from '../config.ts';
import type { SnapshotSelector } from '../iceberg/scan.ts';
import { LEDGER_STATUSES, type LedgerStatus } from '../ledger/model.ts';
import { escapeControl } from '../text.ts';
import { defaultThreads } from '../validation/parallel.ts';
import { CliError, describeFailure, EXIT, exitCodeOf, type StopSignal, UsageError } from './failures.ts';
import type { TablesAccess } from './tables-command.ts';
import type { LakeTarget } from './target.ts';
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

/** The rows `files` lists by default, and at most. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/** The statuses a subscription can filter on: those the pipeline publishes. */
const PIPELINE_STATUSES: readonly PipelineStatus[] = ['VALIDATED', 'REJECTED', 'CURATED', 'FAILED'];

/** The app's defaults (lib/config.ts): the stack `--aws` finds when no prefix or stage is given. */
const DEFAULT_CONFIG = parseConfig(() => undefined);

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
  put: `put <file> --dataset <name> [--key K] [--force] [--no-wait | --timeout S] [TARGET] [--json]
    check a file with the lake's rules, upload it to landing (a progress bar on a terminal) and
    follow it in the ledger until it is CURATED, REJECTED or FAILED, printing each status;
    an invalid file is refused with its errors, nothing uploaded, unless --force;
    exit 0 curated (or uploaded, with --no-wait), 1 refused, rejected or failed; Ctrl-C stops
    waiting (the file stays uploaded)
    --key K: the landing key, <dataset>/<name> (default <dataset>/<file name>)
    --timeout S: follow the ledger at most S seconds, then exit 1 (for scripts; no limit by default)
`,
  files: `files [--dataset D] [--status S] [--since DATE] [--limit N] [TARGET] [--json]
    the ledger, newest first: one line per landed file version, its status, rows and errors;
    --status one of ${LEDGER_STATUSES.join(', ')};
    --since YYYY-MM-DD or an ISO 8601 time; --limit at most ${MAX_LIMIT} (default ${DEFAULT_LIMIT});
    --json an array of objects with at least dataset, key, status, rows and errorCount; exit 0
`,
  report: `report <key> [--version V] [--all] [TARGET] [--json]
    what became of a landed file (its newest version, or V): a rejected one's reason, counts
    and first errors; --all streams every error from the report's JSON Lines parts (with --json,
    as one array);
    exit 0 curated or still running, 1 rejected, failed or unknown to the ledger
`,
  query: `query "<SQL>" [--snapshot ID | --as-of TIME | --tag NAME] [TARGET] [--json]
    one SELECT over the curated tables: DuckDB on the local lake, Athena in the stack's workgroup
    (with the bytes scanned and their cost; Ctrl-C cancels it); --json prints the row array as
    \`local query --json\` does; exit 0, 1 for a query that failed
    --snapshot, --as-of, --tag (local lake): read every table the query names as it was at that
    snapshot, at that time (YYYY-MM-DD or ISO 8601, UTC unless a zone is given), or at that tag
    (time travel; stderr names the snapshot each table was read at; on Athena write FOR VERSION
    AS OF / FOR TIMESTAMP AS OF in the SQL)
`,
  tables: `tables history <dataset> [TARGET] [--json]
tables tag <dataset> <name> [--snapshot ID] [TARGET] [--json]
tables compact <dataset> [--date YYYY-MM-DD] [--lake DIR] [--datasets DIR] [--json]
    a dataset's Iceberg table, of its declared current version (\`<dataset>\`, or
    \`<dataset>_v<N>\` for "version": N; older versions' tables stay, read them in a query by
    name): history lists its snapshots, oldest first (id, time, operation,
    rows added and in total, tags; --json an array of objects with at least snapshotId, a
    string, timestamp and addedRows); tag names a snapshot (the current one by default) for
    \`query --tag\`, a tag never moves; compact (local lake) rewrites each partition of several
    live files (or the one day) into one, in one replace snapshot: older snapshots still read;
    exit 0, 1 for an unknown snapshot, a tag taken or a table without one, 2 unknown dataset
`,
  subscribe: `subscribe <endpoint> [--status S]... [--dataset D]... [TARGET] [--json]
    subscribe an e-mail address, an https:// URL or an SQS queue ARN to the pipeline's events,
    only those of the statuses (${PIPELINE_STATUSES.join(', ')}) and datasets
    given (repeat the option or give a comma list; all when left out); on AWS an SNS
    subscription with that filter policy (e-mail and https wait for confirmation); locally a
    line in the lake's subscriptions.jsonl, and each event it lets through appended to
    outbox/<endpoint>.jsonl (and POSTed to an https:// endpoint); exit 0
`,
  'local up': `local up [--lake DIR] [--datasets DIR] [--port N] [--console-port N] [--large-file-bytes N]
    run the whole pipeline on this machine: an S3 endpoint on 127.0.0.1, the workflow on every
    file dropped into its landing bucket; Ctrl-C stops (the lake folder, default .lake, is kept);
    one local up per lake folder
    --console-port N: the web console's port on 127.0.0.1 (default: any free one); it has no sign-in
`,
  'local ingest': `local ingest <file> --dataset <name> [--key K] [--lake DIR] [--datasets DIR] [--json]
             [--large-file-bytes N]
    (deprecated: use put) upload a file to landing, wait for its workflow, report the outcome;
    exit 0 curated, 1 rejected or failed, 2 usage error
    --key K: the landing key, <dataset>/<name> (default <dataset>/<file name>)
    --datasets DIR: with local up running, must be the folder up reads (default: up's)
    --large-file-bytes N: files above N bytes are validated in slices of N (default 12 GB;
    lower it to try the large-file route; with local up running, up's own setting applies)
`,
  'local query': `local query "<SQL>" [--lake DIR] [--datasets DIR] [--json]
    (deprecated: use query) SQL (DuckDB) over the curated tables, one view per dataset with
    its ingest_date; in the table, SQL NULL prints as NULL and the text 'NULL' quoted
`,
  'local status': `local status [--lake DIR] [--json]
    objects per zone and the recent executions
`,
  'datasets check': `datasets check --against DIR|GIT_REF [--datasets DIR] [--json]
    compare the declarations (default datasets) with their previous form: a folder, or a git
    ref (HEAD~1, main, a tag) whose copy of the same folder is read; one line per change,
    \`<verdict>  <dataset>.<column>  <rule>: <message>\`, each breaking one with its fix;
    exit 0 when every change is compatible (or none), 1 when one is breaking, 2 for a usage
    error, an unreadable folder, an unknown ref or a declaration that does not load
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

/** What `[TARGET]` in the operator commands' usage stands for. */
const TARGET_HELP = `  TARGET: the local lake, --lake DIR (default .lake) with --datasets DIR (default: the folder
  a running local up reads, else datasets); or a deployed stack, --aws [--prefix P] [--stage S]
  [--region R] [--profile NAME] (default prefix ${DEFAULT_CONFIG.prefix}, stage ${DEFAULT_CONFIG.stage}; names come from the
  stacks' outputs), with --datasets DIR the declarations it was deployed with. With --json,
  stdout is exactly one JSON document; notes go to stderr.`;

export const USAGE = `usage: datalake <command> [options]

commands:
${Object.values(HELP).map(indent).join('')}
${TARGET_HELP}

  <command> --help prints a command's usage; --version the version. Every command exits 2, with
  one line, for a bad argument or a path, port, lake or stack it cannot use; 130/143 when stopped
  by Ctrl-C or SIGTERM; 3 for an internal error (DATALAKE_DEBUG=1 shows its stack).
`;

/** The usage of one command (or of all the `local` ones). */
function usageOf(command: Command | 'local' | undefined): string {
  if (command === undefined) return USAGE;
  const parts = Object.entries(HELP).filter(([name]) => name === command || name.startsWith(`${command} `));
  const usage = `usage: datalake ${parts.map(([, text]) => text).join('       datalake ')}`;
  return LAKE_COMMANDS.includes(command as LakeCommand) ? `${usage}\n${TARGET_HELP}\n` : usage;
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
      case 'put':
      case 'files':
      case 'report':
      case 'query':
      case 'subscribe':
      case 'tables':
        at.command = command;
        if (wantsHelp(rest)) return help(io, command);
        return await lakeCommand(command, rest, io);
      case 'datasets':
        at.command = 'datasets check';
        if (wantsHelp(rest)) return help(io, 'datasets check');
        return await datasetsCommand(rest, io);
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
          options: {
            ...common,
            ...largeFileOption,
            port: { type: 'string', default: '0' },
            'console-port': { type: 'string', default: '0' },
          },
        }),
      );
      const port = positiveInteger('--port', values.port, 0);
      if (port > 65535) throw new UsageError(`--port takes a port number, not "${values.port}"`);
      const consolePort = positiveInteger('--console-port', values['console-port'], 0);
      if (consolePort > 65535)
        throw new UsageError(`--console-port takes a port number, not "${values['console-port']}"`);
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
          consolePort,
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
      deprecated(io, 'local ingest', 'put');
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
      deprecated(io, 'local query', 'query');
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

/** Parses and runs `datasets check`. */
async function datasetsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'check')
    throw new UsageError(
      sub === undefined ? 'datasets needs a command: check' : `unknown datasets command "${sub}"`,
    );
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: true,
      options: {
        datasets: { type: 'string', default: 'datasets' },
        against: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length > 0)
    throw new UsageError(`datasets check takes no arguments, not "${positionals[0]}"`);
  if (values.against === undefined)
    throw new UsageError(
      'datasets check needs --against DIR|GIT_REF (the previous declarations, e.g. HEAD~1)',
    );
  const { datasetsCheckCommand } = await import('./datasets-command.ts');
  return datasetsCheckCommand(
    { datasetsDir: values.datasets, against: values.against, json: values.json },
    io,
  );
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
        // Gone since the stacks' outputs name them; kept to say so rather than "unknown option".
        'landing-bucket': { type: 'string' },
        'state-machine-arn': { type: 'string' },
      },
    }),
  );
  if (values['landing-bucket'] !== undefined || values['state-machine-arn'] !== undefined) {
    throw new UsageError(
      'reconcile --aws no longer takes --landing-bucket or --state-machine-arn: it finds them in the stacks’ outputs; name the stack with --stage (and --prefix, --region, --profile)',
    );
  }
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
      // The same stack, named by the same options and rules, as the operator commands' --aws.
      ...(values.aws ? { aws: stackChoice(deployed) } : {}),
    },
    io,
  );
}

/** A deprecated command's note: on a terminal only, so scripts' stderr (and their tests) stay as they were. */
function deprecated(io: CliIo, command: string, instead: string): void {
  if (io.stderrIsTty)
    io.stderr(`datalake: note: \`${command}\` is deprecated: use \`datalake ${instead}\`\n`);
}

/** The options every operator command takes: where the lake is, and `--json`. */
const TARGET_OPTIONS = {
  lake: { type: 'string' },
  datasets: { type: 'string' },
  json: { type: 'boolean', default: false },
  aws: { type: 'boolean', default: false },
  prefix: { type: 'string' },
  stage: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
} as const;

/** The target options as parsed. */
interface TargetValues {
  readonly lake?: string | undefined;
  readonly datasets?: string | undefined;
  readonly aws?: boolean | undefined;
  readonly prefix?: string | undefined;
  readonly stage?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

/** Where an operator command works: a local lake folder, or a deployed stack. */
export type TargetChoice =
  | { readonly kind: 'local'; readonly lakeDir: string; readonly datasetsDir?: string }
  | StackChoice;

/** A deployed stack: the app's prefix and stage, and the region and profile to reach it with. */
export interface StackChoice {
  readonly kind: 'aws';
  readonly prefix: string;
  readonly stage: string;
  readonly region?: string;
  readonly profile?: string;
}

/** The target the options name; `--aws` with `--lake`, or a stack option without `--aws`, is a usage error. */
export function targetChoice(values: TargetValues): TargetChoice {
  const stackOptions = (['prefix', 'stage', 'region', 'profile'] as const).filter(
    (o) => values[o] !== undefined,
  );
  if (!values.aws) {
    if (stackOptions.length > 0)
      throw new UsageError(`--${stackOptions[0]} names a deployed stack: it goes with --aws`);
    return {
      kind: 'local',
      lakeDir: values.lake ?? '.lake',
      ...(values.datasets === undefined ? {} : { datasetsDir: values.datasets }),
    };
  }
  if (values.lake !== undefined)
    throw new UsageError('--lake names a local lake and --aws a deployed stack: give one of them');
  return stackChoice(values);
}

/**
 * The deployed stack the options name (`--aws`, and `reconcile --aws`): the app's prefix and stage
 * unless given, checked by the app's own rules (a name it could not have deployed is a usage error).
 */
export function stackChoice(values: TargetValues): StackChoice {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig((key) =>
      key === 'prefix' ? values.prefix : key === 'stage' ? values.stage : undefined,
    );
  } catch (error) {
    throw new UsageError(
      (error as Error).message.replace(/^invalid configuration \(CDK context\):\n\s*- /, ''),
    );
  }
  for (const option of ['region', 'profile'] as const) {
    if (values[option] === '') throw new UsageError(`--${option} is empty`);
  }
  return {
    kind: 'aws',
    prefix: config.prefix,
    stage: config.stage,
    ...(values.region === undefined ? {} : { region: values.region }),
    ...(values.profile === undefined ? {} : { profile: values.profile }),
  };
}

/** Opens the chosen target, runs `work` on it and closes it (not after Ctrl-C: work in flight ends with the process). */
async function onTarget(
  choice: TargetChoice,
  how: { readonly pipeline: boolean; readonly create?: boolean },
  io: CliIo,
  work: (target: LakeTarget) => Promise<number>,
): Promise<number> {
  // Loaded on use: a local command should not pay for the AWS clients, nor `--aws` for the local servers.
  const target = choice.kind === 'aws' ? await openDeployedLake(choice) : await localLake(choice, how);
  try {
    return await work(target);
  } finally {
    if (!io.signal?.aborted) await target.close();
  }
}

const LAKE_COMMANDS = ['put', 'files', 'report', 'query', 'subscribe', 'tables'] as const;
/** The local lake as a target. */
async function localLake(
  choice: TargetChoice & { readonly kind: 'local' },
  how: { readonly pipeline: boolean; readonly create?: boolean },
): Promise<LakeTarget> {
  return (await import('../local/target.ts')).localTarget({ ...choice, ...how });
}

/** The deployed lake as a target; a stack or output it cannot find is the user's to fix (exit 2). */
async function openDeployedLake(choice: StackChoice): Promise<LakeTarget> {
  const [{ awsTarget }, { LakeDiscoveryError }] = await Promise.all([
    import('../aws/target.ts'),
    import('../aws/stack.ts'),
  ]);
  try {
    return await awsTarget(choice);
  } catch (error) {
    throw error instanceof LakeDiscoveryError ? new CliError(error.message) : error;
  }
}

type LakeCommand = (typeof LAKE_COMMANDS)[number];

/** Parses and runs one operator command. */
async function lakeCommand(command: LakeCommand, args: readonly string[], io: CliIo): Promise<number> {
  const commands = await import('./lake-commands.ts');
  const parse = <
    O extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: string | boolean }>,
  >(
    options: O,
  ) =>
    usageOnError(() =>
      parseArgs({
        args: [...args],
        strict: true,
        allowPositionals: true,
        options: { ...TARGET_OPTIONS, ...options },
      }),
    );
  const one = (positionals: string[], what: string) => {
    if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one ${what}`);
    return positionals[0]!;
  };
  // On AWS the declarations are the app's folder, as `cdk deploy` read it.
  const datasetsDir = (values: TargetValues) => values.datasets ?? 'datasets';
  switch (command) {
    case 'put': {
      const { values, positionals } = parse({
        dataset: { type: 'string' },
        key: { type: 'string' },
        force: { type: 'boolean', default: false },
        'no-wait': { type: 'boolean', default: false },
        timeout: { type: 'string' },
      });
      const file = one(positionals, 'file');
      if (values.dataset === undefined) throw new UsageError('put needs --dataset <name>');
      if (values.key !== undefined) checkKey(values.key, values.dataset);
      const put = {
        file,
        dataset: values.dataset,
        ...(values.key === undefined ? {} : { key: values.key }),
        force: values.force,
        wait: !values['no-wait'],
        ...(values.timeout === undefined
          ? {}
          : { timeoutSeconds: positiveInteger('--timeout', values.timeout, 1) }),
        json: values.json,
      };
      // The file is checked before the lake or the stack is touched: a refused file starts nothing.
      const choice = targetChoice(values);
      const declarations =
        choice.kind === 'local'
          ? await (await import('../local/target.ts')).localDatasetsDir({ ...choice, pipeline: true })
          : (values.datasets ?? 'datasets');
      const checked = await commands.checkFile(put, declarations, io);
      if (typeof checked === 'number') return checked;
      return onTarget(choice, { pipeline: true }, io, (t) => commands.putCommand({ ...put, checked }, t, io));
    }
    case 'files': {
      const { values, positionals } = parse({
        dataset: { type: 'string' },
        status: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string', default: String(DEFAULT_LIMIT) },
      });
      if (positionals.length > 0) throw new UsageError(`files takes no argument, not "${positionals[0]}"`);
      const files = {
        limit: positiveInteger('--limit', values.limit, 1, MAX_LIMIT),
        json: values.json,
        ...(values.dataset === undefined ? {} : { dataset: values.dataset }),
        ...(values.status === undefined ? {} : { status: ledgerStatus(values.status) }),
        ...(values.since === undefined ? {} : { since: sinceTime(values.since) }),
      };
      return onTarget(targetChoice(values), { pipeline: false }, io, (t) =>
        commands.filesCommand(files, t, io),
      );
    }
    case 'report': {
      const { values, positionals } = parse({
        version: { type: 'string' },
        all: { type: 'boolean', default: false },
      });
      const report = {
        key: one(positionals, 'key (a landing key, as `files` lists it)'),
        all: values.all,
        json: values.json,
        ...(values.version === undefined ? {} : { version: values.version }),
      };
      return onTarget(targetChoice(values), { pipeline: false }, io, (t) =>
        commands.reportCommand(report, t, io),
      );
    }
    case 'query': {
      const { values, positionals } = parse({
        snapshot: { type: 'string' },
        'as-of': { type: 'string' },
        tag: { type: 'string' },
      });
      const snapshot = snapshotSelector(values);
      const query = {
        sql: one(positionals, 'SQL statement (quote it)'),
        json: values.json,
        ...(snapshot ? { snapshot } : {}),
      };
      const choice = targetChoice(values);
      // Athena takes the version in the SQL, per table: the CLI does not rewrite the user's query.
      if (snapshot && choice.kind === 'aws') throw new CliError(athenaTimeTravel(values));
      return onTarget(choice, { pipeline: false }, io, (t) => commands.queryCommand(query, t, io));
    }
    case 'tables':
      return tablesCommand(
        parse({ snapshot: { type: 'string' }, date: { type: 'string' } }),
        io,
        datasetsDir,
      );
    case 'subscribe': {
      const { values, positionals } = parse({
        status: { type: 'string', multiple: true },
        dataset: { type: 'string', multiple: true },
      });
      const endpoint = one(positionals, 'endpoint (an e-mail address, an https:// URL or an SQS queue ARN)');
      // SNS's protocols, told apart by the rules the AWS target subscribes with.
      const sns = await import('../aws/subscribe.ts');
      const protocol = usageOnError(() => sns.subscriptionProtocol(endpoint));
      const subscribe = {
        endpoint,
        protocol,
        statuses: commaList(values.status).map(pipelineStatus),
        datasets: commaList(values.dataset),
        json: values.json,
        datasetsDir: datasetsDir(values),
      };
      return onTarget(targetChoice(values), { pipeline: false, create: true }, io, (t) =>
        commands.subscribeCommand(subscribe, t, io),
      );
    }
  }
}

/**
 * The core's errors a `tables` command reports as a failure (exit 1) rather than a defect: a
 * snapshot that is not there, a compaction whose files another commit removed meanwhile, a
 * commit that kept meeting other commits.
 */
const USER_TABLE_ERRORS: readonly string[] = [
  'SnapshotNotFoundError',
  'ReplaceConflictError',
  'CommitConflictError',
];

/** `--snapshot`, `--as-of` or `--tag` of `query`, at most one. */
function snapshotSelector(values: {
  readonly snapshot?: string | undefined;
  readonly 'as-of'?: string | undefined;
  readonly tag?: string | undefined;
}): SnapshotSelector | undefined {
  const given = (['snapshot', 'as-of', 'tag'] as const).filter((o) => values[o] !== undefined);
  if (given.length > 1)
    throw new UsageError(`--${given[0]} and --${given[1]} each name a version: give one of them`);
  if (values.snapshot !== undefined) return { snapshotId: snapshotId(values.snapshot) };
  if (values['as-of'] !== undefined) return { asOfMs: Date.parse(isoTime('--as-of', values['as-of'])) };
  if (values.tag !== undefined) {
    if (values.tag.trim() === '')
      throw new UsageError('--tag is empty: give a tag name (`tables history` lists them)');
    return { tag: values.tag };
  }
  return undefined;
}

/** A snapshot id: a decimal 64-bit integer, as `tables history` prints it. */
function snapshotId(text: string): string {
  if (!/^-?\d{1,19}$/.test(text) || BigInt(text) > 2n ** 63n - 1n || BigInt(text) < -(2n ** 63n))
    throw new UsageError(
      `--snapshot takes a snapshot id (a whole number, as \`tables history\` lists them), not "${text}"`,
    );
  return BigInt(text).toString();
}

/** Why `query --aws` refuses a version, with the SQL Athena takes instead. */
function athenaTimeTravel(values: {
  readonly snapshot?: string | undefined;
  readonly 'as-of'?: string | undefined;
  readonly tag?: string | undefined;
}): string {
  const clause =
    values.snapshot !== undefined
      ? `FOR VERSION AS OF ${values.snapshot}`
      : values['as-of'] !== undefined
        ? `FOR TIMESTAMP AS OF TIMESTAMP '${new Date(Date.parse(isoTime('--as-of', values['as-of']))).toISOString().replace('T', ' ').replace('Z', ' UTC')}'`
        : `FOR VERSION AS OF <the snapshot id of tag ${values.tag}, from \`datalake tables history <dataset> --aws\`>`;
  const option =
    values.snapshot !== undefined ? '--snapshot' : values['as-of'] !== undefined ? '--as-of' : '--tag';
  return `${option} reads the local lake only: on Athena the version goes in the SQL, after each table: SELECT … FROM <database>.<table> ${clause}`;
}

/** A time option: a date (midnight UTC) or an ISO 8601 time (UTC unless it has a zone), as ISO 8601. */
function isoTime(flag: string, text: string): string {
  const refused = () =>
    new UsageError(`${flag} takes a date (YYYY-MM-DD) or an ISO 8601 time, not "${text}"`);
  let time: string;
  try {
    time = sinceTime(text);
  } catch {
    throw refused();
  }
  // Date.parse rolls a day that does not exist (2024-02-30) into the next month.
  if (!validDay(text.slice(0, 10))) throw refused();
  return time;
}

/** Whether `YYYY-MM-DD` is a day of the calendar. */
function validDay(day: string): boolean {
  const time = Date.parse(`${day}T00:00:00Z`);
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(day) &&
    !Number.isNaN(time) &&
    new Date(time).toISOString().slice(0, 10) === day
  );
}

/** Parses and runs `tables history|tag|compact`. */
async function tablesCommand(
  parsed: {
    readonly values: TargetValues & {
      readonly json: boolean;
      readonly snapshot?: string | undefined;
      readonly date?: string | undefined;
    };
    readonly positionals: readonly string[];
  },
  io: CliIo,
  datasetsDir: (values: TargetValues) => string,
): Promise<number> {
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  const tables = await import('./tables-command.ts');
  const dataset = (what: string) => {
    if (rest[0] === undefined) throw new UsageError(`tables ${sub} needs a dataset${what}`);
    return rest[0];
  };
  const choice = targetChoice(values);
  const unused = (option: 'snapshot' | 'date', command: string) => {
    if (values[option] !== undefined) throw new UsageError(`--${option} does not go with tables ${command}`);
  };
  switch (sub) {
    case 'history': {
      unused('snapshot', 'history');
      unused('date', 'history');
      const ds = dataset('');
      if (rest.length > 1) throw new UsageError(`tables history takes one dataset, not "${rest[1]}" too`);
      return onTables(choice, datasetsDir(values), io, (access) =>
        tables.historyCommand({ dataset: ds, json: values.json }, access, io),
      );
    }
    case 'tag': {
      unused('date', 'tag');
      const ds = dataset(' and a tag name');
      const name = rest[1];
      if (name === undefined || name.trim() === '')
        throw new UsageError('tables tag needs a tag name after the dataset');
      // Iceberg's `main` is the table's branch (the current snapshot), never a tag.
      if (name === 'main')
        throw new UsageError('"main" is the table\'s branch, not a tag name: choose another');
      if (rest.length > 2)
        throw new UsageError(`tables tag takes a dataset and a name, not "${rest[2]}" too`);
      const tag = {
        dataset: ds,
        name,
        json: values.json,
        ...(values.snapshot === undefined ? {} : { snapshotId: snapshotId(values.snapshot) }),
      };
      return onTables(choice, datasetsDir(values), io, (access) => tables.tagCommand(tag, access, io));
    }
    case 'compact': {
      unused('snapshot', 'compact');
      const ds = dataset('');
      if (rest.length > 1) throw new UsageError(`tables compact takes one dataset, not "${rest[1]}" too`);
      if (choice.kind === 'aws') {
        throw new CliError(
          'tables compact runs on the local lake only: on AWS the Glue compaction optimizer of each table compacts it',
        );
      }
      if (values.date !== undefined && !validDay(values.date)) {
        throw new UsageError(
          `--date takes a day, YYYY-MM-DD (the partition's ingest_date), not "${values.date}"`,
        );
      }
      const compact = {
        dataset: ds,
        json: values.json,
        ...(values.date === undefined ? {} : { date: values.date }),
      };
      return onTables(choice, datasetsDir(values), io, (access) =>
        tables.compactCommand(compact, access, io),
      );
    }
    default:
      throw new UsageError(
        sub === undefined
          ? 'tables needs a command: history, tag or compact'
          : `unknown tables command "${sub}"`,
      );
  }
}

/**
 * Opens the chosen lake's tables: locally the lake's S3 (a running local up's, else one started
 * for the command) and its pointer catalog; on AWS the stack's curated bucket and Glue database.
 */
async function onTables(
  choice: TargetChoice,
  datasetsDir: string,
  io: CliIo,
  work: (access: TablesAccess) => Promise<number>,
): Promise<number> {
  const [{ s3ObjectStore }, { loadDatasets }] = await Promise.all([
    import('../iceberg/s3-store.ts'),
    import('../datasets/load.ts'),
  ]);
  const { TablesError } = await import('./tables-command.ts');
  return onTarget(choice, { pipeline: false }, io, async (target) => {
    const declarations = await loadDatasets(target.datasetsDir ?? datasetsDir).catch(() => undefined);
    let access: TablesAccess;
    let close = async () => {};
    if (choice.kind === 'local') {
      const [{ localTableCatalog }, { lakePaths, LOCAL_DATABASE }] = await Promise.all([
        import('../iceberg/local-catalog.ts'),
        import('../local/lake-folder.ts'),
      ]);
      const paths = lakePaths(choice.lakeDir);
      access = {
        label: target.label,
        s3: target.s3,
        store: s3ObjectStore(target.s3),
        catalog: localTableCatalog(paths.tables),
        database: LOCAL_DATABASE,
        curatedBucket: target.buckets.curated,
        ...(declarations ? { datasets: declarations } : {}),
        local: { cacheDir: paths.queryCache, workDir: paths.work },
      };
    } else {
      const [{ GlueClient }, { glueTableCatalog }, { awsClientConfig }] = await Promise.all([
        import('@aws-sdk/client-glue'),
        import('../iceberg/glue-catalog.ts'),
        import('../aws/stack.ts'),
      ]);
      const { lake } = target as import('../aws/target.ts').AwsTarget;
      const glue = new GlueClient(
        awsClientConfig({ region: lake.region, ...(choice.profile ? { profile: choice.profile } : {}) }),
      );
      close = async () => glue.destroy();
      access = {
        label: target.label,
        s3: target.s3,
        store: s3ObjectStore(target.s3),
        catalog: glueTableCatalog(glue),
        database: lake.glueDatabase,
        curatedBucket: target.buckets.curated,
        ...(declarations ? { datasets: declarations } : {}),
      };
    }
    try {
      return await work(access);
    } catch (error) {
      // What the user can act on: an unknown snapshot, a tag taken, a table that changed under a compaction.
      const name = (error as Error | undefined)?.name;
      if (!(error instanceof TablesError || (name !== undefined && USER_TABLE_ERRORS.includes(name))))
        throw error;
      io.stderr(`datalake: ${escapeControl((error as Error).message)}\n`);
      return EXIT.invalid;
    } finally {
      await close();
    }
  });
}

/** A `--status` of the ledger (any case). */
function ledgerStatus(text: string): LedgerStatus {
  const status = text.toUpperCase() as LedgerStatus;
  if (!LEDGER_STATUSES.includes(status))
    throw new UsageError(`--status takes one of ${LEDGER_STATUSES.join(', ')}, not "${text}"`);
  return status;
}

/** A `--status` of a subscription: a status the pipeline publishes (any case). */
function pipelineStatus(text: string): PipelineStatus {
  const status = text.toUpperCase() as PipelineStatus;
  if (!PIPELINE_STATUSES.includes(status))
    throw new UsageError(
      `--status takes ${PIPELINE_STATUSES.join(', ')} (the statuses published), not "${text}"`,
    );
  return status;
}

/** The values of a repeatable option, each possibly a comma list, without empty items or repeats. */
function commaList(values: readonly string[] | undefined): string[] {
  const items = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  return [...new Set(items.filter((v) => v !== ''))];
}

/**
 * `--since`: a date (midnight UTC) or an ISO 8601 time, as the ledger's ISO 8601 `receivedAt`; a
 * time without a zone is UTC, as the ledger's times are (never this machine's zone).
 */
export function sinceTime(text: string): string {
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text);
  const utc = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00Z`
    : /(Z|[+-]\d{2}:\d{2})$/.test(text)
      ? text
      : `${text}Z`;
  const time = iso ? Date.parse(utc) : Number.NaN;
  if (Number.isNaN(time))
    throw new UsageError(`--since takes a date (YYYY-MM-DD) or an ISO 8601 time, not "${text}"`);
  return new Date(time).toISOString();
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
