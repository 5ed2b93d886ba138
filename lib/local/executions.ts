/**
 * The local Step Functions' execution records: one JSON file per execution, named as the execution,
 * so a second StartExecution with the same name is refused as on AWS (ExecutionAlreadyExists), and
 * `datalake local status` can list them from any process.
 *
 * A record names the process that runs it (its owner). On AWS an execution outlives any one
 * machine; here it lives in one process, and a process killed mid-execution (kill -9, a crash, a
 * power cut) would leave its record RUNNING forever. So a RUNNING record whose owner is gone reads
 * as ABORTED, everywhere records are read: `reconcile` reports it as an orphan and re-drives it,
 * `local ingest` stops waiting for it, `local status` shows it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';
import { claimLockFile } from './lock-file.ts';

/** How an execution ended, as the CLI reports it. */
export type Outcome = 'curated' | 'rejected' | 'failed';

/** The process that runs an execution. */
export interface ExecutionOwner {
  readonly pid: number;
  /**
   * When the process started (Linux: clock ticks since boot, from /proc), so that a pid the
   * system has since given to another process is not mistaken for the owner. Absent where the
   * system does not say.
   */
  readonly since?: string;
}

/** The error of an execution whose process died before it ended. */
export const RUNTIME_DIED = 'RuntimeDied';

/** One execution's record. */
export interface ExecutionRecord {
  readonly name: string;
  readonly input: IngestRequest;
  /** ABORTED: its process died before it ended (derived when read; see {@link ExecutionRecords.get}). */
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** The process running it; absent in records written before owners were kept. */
  readonly owner?: ExecutionOwner;
  readonly startedAt: string;
  readonly stoppedAt?: string;
  /** The states entered, in order (written whole when the execution ends). */
  readonly states: string[];
  /**
   * The Task state at work, written as each starts: what a record left by a process that died
   * says of where it stopped.
   */
  readonly task?: string;
  readonly outcome?: Outcome;
  /** The execution's output (the final state), when it succeeded. */
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** The Parquet data files the conversion wrote (appended to the table by CommitToTable). */
  readonly curated?: string[];
  /** The table snapshot that holds the file's rows (CommitToTable's `snapshotId`), when curated. */
  readonly snapshotId?: string;
}

/** This process, as an execution's owner. */
export function thisProcess(): ExecutionOwner {
  if (!self) {
    const since = processStart(process.pid);
    self = since === undefined ? { pid: process.pid } : { pid: process.pid, since };
  }
  return self;
}
let self: ExecutionOwner | undefined;

/** The start time of a process (field 22 of /proc/PID/stat); undefined when unknown. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last `)`.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the owner of an execution is still running. */
export function ownerAlive(owner: ExecutionOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.since === undefined) return true;
  const since = processStart(owner.pid);
  return since === undefined || since === owner.since;
}

/** Another process is re-driving this lake's executions. */
export class LakeBusyError extends Error {
  override readonly name = 'LakeBusyError';
  constructor(readonly pid: number) {
    super(`another reconcile --redrive is running on this lake (pid ${pid}): let it finish`);
  }
}

/** The records of one lake folder. */
export class ExecutionRecords {
  /**
   * @param owner the process that runs the executions this instance claims (this one by default);
   *   a test may name another to stand for a process that died
   */
  constructor(
    private readonly dir: string,
    private readonly owner: ExecutionOwner = thisProcess(),
  ) {}

  /** Records a new execution; false when one of that name exists (a duplicate start). */
  async claim(name: string, input: IngestRequest): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    const record: ExecutionRecord = {
      name,
      input,
      status: 'RUNNING',
      owner: this.owner,
      startedAt: new Date().toISOString(),
      states: [],
    };
    // Written whole to a file of its own, then linked into place: the link is atomic and fails
    // when the name exists, so a reader polling the record never finds it empty or half written
    // (writeFile with 'wx' creates the file before it writes it).
    const tmp = `${this.path(name)}.${randomUUID()}.claim`;
    await writeFile(tmp, JSON.stringify(record, null, 2));
    try {
      await link(tmp, this.path(name));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(tmp);
    }
  }

  /** Replaces a record (atomically: readers never see half a file). */
  async save(record: ExecutionRecord): Promise<void> {
    const tmp = `${this.path(record.name)}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(record, null, 2));
    await rename(tmp, this.path(record.name));
  }

  /**
   * Sets an ended execution aside so that it can run again under its name (a re-drive); the old
   * record is kept beside it, out of the listing, for the audit trail.
   */
  async retire(name: string): Promise<boolean> {
    try {
      await rename(this.path(name), join(this.dir, `${name}.retired-${Date.now()}-${randomUUID()}.json.old`));
      return true;
    } catch (error) {
      // Retired by another process first: the re-drive is theirs.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Runs `work` while holding the lake's re-drive lock, so that two re-drives (two `reconcile
   * --redrive`, on the lake or through a running `local up`) never retire and restart the same
   * execution at once. A lock left by a process that died is taken over.
   */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    const lock = join(this.dir, 'redrive.lock');
    await claimLockFile(lock, this.owner, (holder) => new LakeBusyError(holder.pid));
    try {
      return await work();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  /**
   * The record of an execution, as its status stands: a RUNNING record whose owner has died reads
   * as ABORTED, with a {@link RUNTIME_DIED} error naming the last state it entered. (Derived on
   * every read rather than written back, so it can never overwrite the record of a re-drive that
   * another process has just started under the same name.)
   */
  async get(name: string): Promise<ExecutionRecord | undefined> {
    try {
      return interrupted(JSON.parse(await readFile(this.path(name), 'utf8')) as ExecutionRecord);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Polls an execution's record until it has ended (any process may be running it). A record whose
   * process died reads as ABORTED, so this never waits on a dead execution; nor on one never
   * started because the process that would start it died first (`serving` turns false: undefined).
   */
  async ended(name: string, serving: () => Promise<boolean>): Promise<ExecutionRecord | undefined> {
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      const record = await this.get(name);
      if (record && record.status !== 'RUNNING') return record;
      if (!record && !(await serving())) return undefined;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** All records, newest first. */
  async list(): Promise<ExecutionRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = await Promise.all(names.map((n) => this.get(n.slice(0, -'.json'.length))));
    return records
      .filter((r): r is ExecutionRecord => r !== undefined)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }
}

/** The record as it stands: ABORTED when it says RUNNING and its owner is gone. */
function interrupted(record: ExecutionRecord): ExecutionRecord {
  if (record.status !== 'RUNNING' || record.owner === undefined || ownerAlive(record.owner)) return record;
  return {
    ...record,
    status: 'ABORTED',
    outcome: 'failed',
    error: {
      name: RUNTIME_DIED,
      message: `the process running it (pid ${record.owner.pid}) ended ${record.task ? `in state ${record.task}` : 'before its first task'}; \`datalake reconcile --redrive\` runs it again`,
    },
  };
}
