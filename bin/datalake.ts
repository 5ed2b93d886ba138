#!/usr/bin/env node
/** The `datalake` CLI entry point: wires the process to the command functions in lib/cli. */
import { main } from '../lib/cli/main.ts';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
});
