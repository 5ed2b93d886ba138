#!/usr/bin/env node
/** The `datalake` CLI entry point: wires the process to the command functions in lib/cli. */
import { describeFailure, exitCodeOf, type StopSignal } from '../lib/cli/failures.ts';
import { main } from '../lib/cli/main.ts';
import { quietSdkNodeVersionWarning } from '../lib/cli/node-warnings.ts';

quietSdkNodeVersionWarning();
const debug = process.env.DATALAKE_DEBUG === '1';

// The first Ctrl-C (or a TERM from a supervisor) aborts the command: `up` stops cleanly, the
// others stop at once. A second signal while `up` finishes its executions stops at once.
const controller = new AbortController();
const stop = (signal: StopSignal) => {
  process.off('SIGINT', onInt).off('SIGTERM', onTerm);
  process.once('SIGINT', () => process.exit(exitCodeOf('SIGINT')));
  process.once('SIGTERM', () => process.exit(exitCodeOf('SIGTERM')));
  controller.abort(signal);
};
const onInt = () => stop('SIGINT');
const onTerm = () => stop('SIGTERM');
process.on('SIGINT', onInt).on('SIGTERM', onTerm);

// An error no command could catch (a server's 'error' event, e.g. a port already in use) is still
// one line and the code its kind has, never a stack trace.
const fail = (error: unknown) => {
  const { text, code } = describeFailure(error, debug);
  process.stderr.write(text);
  process.exit(code);
};
process.on('uncaughtException', fail).on('unhandledRejection', fail);

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
  signal: controller.signal,
  debug,
});
// Commands that end on their own must not wait for timers or sockets left behind (an interrupted
// command leaves its work to end with the process).
process.exit();
