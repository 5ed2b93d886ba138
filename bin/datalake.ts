#!/usr/bin/env node
/** The `datalake` CLI entry point: wires the process to the command functions in lib/cli. */
import { main } from '../lib/cli/main.ts';
import { quietSdkNodeVersionWarning } from '../lib/cli/node-warnings.ts';

quietSdkNodeVersionWarning();

// Ctrl-C (or a TERM from a supervisor) asks a long-running command to stop cleanly; a second
// Ctrl-C while it finishes stops at once.
const stopped = new Promise<void>((resolve) => {
  const stop = () => {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    process.once('SIGINT', () => process.exit(130));
    resolve();
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
  stopped,
});
// Commands that end on their own must not wait for a signal that never comes.
process.exit();
