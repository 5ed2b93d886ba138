/** Runs the `datalake` CLI in this process, as the CLI tests do, and captures what it prints. */
import { type CliIo, main } from '../../lib/cli/main.ts';

/** What a command printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `argv` with stderr as a terminal when `tty`, aborted by `signal` when given. */
export async function runCli(
  argv: readonly string[],
  options: { readonly tty?: boolean; readonly signal?: AbortSignal } = {},
): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    stderrIsTty: options.tty === true,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await main(argv, io);
  return { code, out, err };
}
