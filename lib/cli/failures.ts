/**
 * How a command that did not finish is reported: one line on stderr and an exit code, never a
 * stack trace (unless DATALAKE_DEBUG=1 asks for one).
 */
import { escapeControl } from '../text.ts';

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** The file is invalid, rejected or failed; objects are left without an outcome. */
  invalid: 1,
  /** A usage error, or a path, port or lake the command cannot use. */
  usage: 2,
  /** A defect of the tool itself (an error nobody foresaw). */
  internal: 3,
  /** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + SIGTERM). */
  terminated: 143,
} as const;

/** A mistake in how the command was called: reported with the usage text, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Something around the command (a path, a port, the lake) that makes it impossible: one line, exit 2. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The signals the entry point turns into an abort; the abort's reason names one. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The exit code of a command stopped by `signal`. */
export function exitCodeOf(signal: StopSignal): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

/**
 * Resolves as `work` does, or rejects as soon as `signal` aborts: a command stops waiting at once
 * (the work left behind ends with the process).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('interrupted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** What the operating system meant by the error codes a user can cause and fix. */
const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use',
  EADDRNOTAVAIL: 'the address is not available on this machine',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'a file name is too long',
  ELOOP: 'too many symbolic links',
};

interface SystemError {
  readonly code: string;
  readonly path?: string;
  readonly address?: string;
  readonly port?: number;
}

/** The line and exit code that report `error`, the reason a command did not finish. */
export function describeFailure(error: unknown, debug = false): { text: string; code: number } {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof CliError)
    return { text: `datalake: ${escapeControl(error.message)}\n`, code: EXIT.usage };
  if (typeof code === 'string' && code in SYSTEM_ERRORS) {
    const { path, address, port } = error as SystemError;
    const where = path ?? (port === undefined ? address : `${address ?? ''}:${port}`.replace(/^:/, 'port '));
    const text = `datalake: ${SYSTEM_ERRORS[code]}${where ? ` (${where})` : ''}`;
    return { text: `${escapeControl(text)}\n`, code: EXIT.usage };
  }
  // An AWS SDK service error: the local S3 store of a damaged lake, or a deployed stack's API.
  if (error instanceof Error && '$metadata' in error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const text = `datalake: the S3 or Step Functions service failed: ${error.name}: ${error.message}${status ? ` (HTTP ${status})` : ''}`;
    return { text: `${escapeControl(text)}\n`, code: EXIT.usage };
  }
  const message = error instanceof Error ? error.message : String(error);
  const detail =
    debug && error instanceof Error && error.stack ? `\n${error.stack}` : ' (DATALAKE_DEBUG=1 shows where)';
  return {
    text: `${escapeControl(`datalake: internal error: ${message}`)}${detail}\n`,
    code: EXIT.internal,
  };
}
