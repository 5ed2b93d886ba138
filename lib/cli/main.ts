/** The `datalake` command line: argument parsing and dispatch. Each command is a function of its IO. */
import { parseArgs } from 'node:util';
import { validateCommand } from './validate-command.ts';

/** Where a command writes; injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal (progress lines are drawn only then). */
  readonly stderrIsTty: boolean;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export const USAGE = `usage: datalake <command> [options]

commands:
  validate <file> --dataset <name> [--datasets DIR] [--json] [--max-errors N] [--max-record-bytes N]
      check a CSV (or gzip CSV) file against a dataset's declared schema, with the lake's exact rules;
      exit 0 valid, 1 invalid, 2 usage error or unknown dataset
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

function positiveInteger(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} takes a whole number ≥ ${min}, not "${text}"`);
  }
  return n;
}
