/**
 * The lake folder as the CLI sees it: whether it holds a lake, and the `server.json` by which a
 * running `local up` claims it (one per lake) and tells the other commands its endpoint.
 */
import { constants } from 'node:fs';
import { access, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { ownerAlive } from '../local/executions.ts';
import type { LakePaths } from '../local/lake-folder.ts';
import { CliError } from './failures.ts';

/** What `local up` writes to `server.json` while it runs. */
export interface ServerInfo {
  readonly endpoint: string;
  /** The ledger's DynamoDB endpoint; absent in files written before the ledger. */
  readonly ledger?: string;
  readonly pid: number;
  /** The datasets folder `up` reads (absolute); absent in files written before it was recorded. */
  readonly datasets?: string;
  /** When its process started (see {@link thisProcess}); absent where the system does not say. */
  readonly since?: string;
}

/** The `local up` serving this lake folder, if one is running (a file left by a crash is not). */
export async function runningUp(paths: LakePaths): Promise<ServerInfo | undefined> {
  let info: ServerInfo;
  try {
    info = JSON.parse(await readFile(paths.server, 'utf8')) as ServerInfo;
  } catch {
    return undefined; // absent, or cut short by a crash while it was written
  }
  // The start time as well as the pid: after a reboot or in a new container the pid may be taken
  // by another process (even by this one), which must not pass for the server that wrote the file.
  return Number.isSafeInteger(info.pid) &&
    ownerAlive({ pid: info.pid, ...(info.since ? { since: info.since } : {}) })
    ? info
    : undefined;
}

/**
 * Claims the lake for this process's `local up`: the file is created exclusively, so of two `up`
 * started at once one wins; a file whose process is gone (a crash) is replaced.
 */
export async function claimLake(paths: LakePaths, info: ServerInfo): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(paths.server, JSON.stringify(info), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    // Another `up` may be between creating the file and writing it: look again before replacing.
    const other = (await runningUp(paths)) ?? (await settle().then(() => runningUp(paths)));
    if (other) throw alreadyRunning(other);
    if (attempt > 0) throw new CliError(`another process keeps claiming the lake (${paths.server})`);
    await rm(paths.server, { force: true });
  }
}

const settle = () => new Promise((r) => setTimeout(r, 100));

/** The error for a second `local up` on one lake. */
export function alreadyRunning(other: ServerInfo): CliError {
  return new CliError(
    `local up is already running on this lake (pid ${other.pid}, endpoint ${other.endpoint})`,
  );
}

/** Removes `server.json` if this process wrote it (never another `up`'s claim). */
export async function releaseLake(paths: LakePaths): Promise<void> {
  const info = await readFile(paths.server, 'utf8').then(
    (text) => JSON.parse(text) as ServerInfo,
    () => undefined,
  );
  if (info?.pid === process.pid) await rm(paths.server, { force: true });
}

/**
 * Refuses a lake folder that is a file, before anything is created inside it (the message a
 * mkdir under it would give names a path that does not exist).
 */
export async function requireFolder(paths: LakePaths): Promise<void> {
  const info = await stat(paths.root).catch(() => undefined);
  if (info && !info.isDirectory()) throw new CliError(`the lake folder is not a folder (${paths.root})`);
}

/**
 * Refuses a lake folder this process cannot write, for the commands that run the pipeline: they
 * would start, then fail on their first write with an S3 error that does not say why.
 */
export async function requireWritable(paths: LakePaths): Promise<void> {
  await requireFolder(paths);
  for (const dir of [paths.root, paths.s3]) {
    const exists = await stat(dir).then(
      () => true,
      () => false,
    );
    if (
      exists &&
      !(await access(dir, constants.W_OK).then(
        () => true,
        () => false,
      ))
    ) {
      throw new CliError(`the lake folder is read-only for this user (${dir})`);
    }
  }
}

/**
 * Refuses a folder that holds no lake, for the commands that only read one: a mistyped `--lake`
 * must not report an empty lake (nor create the folder).
 */
export async function requireLake(paths: LakePaths): Promise<void> {
  await requireFolder(paths);
  const s3 = await stat(paths.s3).catch(() => undefined);
  if (!s3?.isDirectory()) {
    throw new CliError(`no lake at ${paths.root}: run \`datalake local up\` or \`local ingest\` first`);
  }
}

/**
 * Runs `work` on a local lake, naming the lake's store when its S3 server fails (a lake damaged
 * by a crash or by hand answers InternalError): the user learns where to look.
 */
export async function onLake<T>(paths: LakePaths, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && '$metadata' in error) {
      throw new CliError(
        `the lake's S3 store failed: ${error.name}: ${error.message} (${paths.s3}; is the lake damaged?)`,
      );
    }
    throw error;
  }
}
