/**
 * Ctrl-C and SIGTERM stop a command that is still working, with 130 or 143 and no verdict. The
 * real CLI is spawned on a named pipe: opening the pipe for writing returns once the command has
 * opened it for reading, so the signal comes while validation is under way, with no sleep; the pipe
 * is never closed, so a command that ignored the signal would never end.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { runCli } from '../unit/cli-run.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  // A command that ignored its signal would wait on the pipe for ever.
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Spawns `datalake validate` on a pipe, writes valid rows into it, and resolves once it reads them. */
async function validatingFromPipe(): Promise<{ child: ChildProcess; output: { out: string; err: string } }> {
  const dir = await mkdtemp(join(tmpdir(), 'cli-signals-'));
  dirs.push(dir);
  const fifo = join(dir, 'orders.csv');
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, ['bin/datalake.js', 'validate', fifo, '--dataset', 'orders']);
  children.push(child);
  const output = { out: '', err: '' };
  child.stdout!.on('data', (d) => {
    output.out += d;
  });
  child.stderr!.on('data', (d) => {
    output.err += d;
  });
  const writer = createWriteStream(fifo);
  // EPIPE once the command has gone: expected, the pipe's reader was stopped.
  writer.on('error', () => {});
  await new Promise((resolve) => writer.once('open', resolve));
  await new Promise<void>((resolve) => writer.write(ORDERS_HEADER + orderRows(3, 0, 1000), () => resolve()));
  return { child, output };
}

const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

describe('datalake validate, stopped by a signal', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'on %s exits %i, says interrupted and prints no verdict',
    async (signal, code) => {
      // Prepare: validation under way on a pipe that never ends.
      const { child, output } = await validatingFromPipe();

      // Act
      child.kill(signal);
      const exit = await exitOf(child);

      // Assess
      expect(exit, output.err).toEqual({ code, signal: null });
      expect(output.err).toBe('datalake: interrupted\n');
      expect(output.out).toBe('');
    },
    10_000,
  );
});

describe('validate in-process, aborted', () => {
  it('lets go of the file: the writer of the pipe sees it closed', async () => {
    // Prepare: a writer that feeds the pipe until its reader goes away.
    const dir = await mkdtemp(join(tmpdir(), 'cli-signals-'));
    dirs.push(dir);
    const fifo = join(dir, 'orders.csv');
    execFileSync('mkfifo', [fifo]);
    const stop = new AbortController();
    const command = runCli(['validate', fifo, '--dataset', 'orders'], { signal: stop.signal });
    const writer = createWriteStream(fifo);
    const closed = new Promise<string>((resolve) =>
      writer.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? '')),
    );
    await new Promise((resolve) => writer.once('open', resolve));
    const rows = orderRows(3, 0, 1000);
    let more = true;
    void closed.then(() => {
      more = false;
    });
    const feed = async () => {
      writer.write(ORDERS_HEADER);
      while (more) {
        if (!writer.write(rows)) await new Promise<void>((resolve) => writer.once('drain', () => resolve()));
      }
    };
    void feed();

    // Act
    stop.abort('SIGINT');

    // Assess
    expect(await command).toEqual({ code: 130, out: '', err: 'datalake: interrupted\n' });
    expect(await closed).toBe('EPIPE');
  }, 10_000);
});
