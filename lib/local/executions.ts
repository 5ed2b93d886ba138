/**
 * The local Step Functions' execution records: one JSON file per execution, named as the execution,
 * so a second StartExecution with the same name is refused as on AWS (ExecutionAlreadyExists), and
 * `datalake local status` can list them from any process.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';

/** How an execution ended, as the CLI reports it. */
export type Outcome = 'curated' | 'rejected' | 'failed';

/** One execution's record. */
export interface ExecutionRecord {
  readonly name: string;
  readonly input: IngestRequest;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly startedAt: string;
  readonly stoppedAt?: string;
  /** The states entered, in order. */
  readonly states: string[];
  readonly outcome?: Outcome;
  /** The execution's output (the final state), when it succeeded. */
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** The Parquet objects the conversion published. */
  readonly curated?: string[];
}

/** The records of one lake folder. */
export class ExecutionRecords {
  constructor(private readonly dir: string) {}

  /** Records a new execution; false when one of that name exists (a duplicate start). */
  async claim(name: string, input: IngestRequest): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    const record: ExecutionRecord = {
      name,
      input,
      status: 'RUNNING',
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
    const tmp = `${this.path(record.name)}.tmp`;
    await writeFile(tmp, JSON.stringify(record, null, 2));
    await rename(tmp, this.path(record.name));
  }

  /**
   * Sets an ended execution aside so that it can run again under its name (a re-drive); the old
   * record is kept beside it, out of the listing, for the audit trail.
   */
  async retire(name: string): Promise<void> {
    await rename(this.path(name), join(this.dir, `${name}.retired-${Date.now()}.json.old`));
  }

  async get(name: string): Promise<ExecutionRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.path(name), 'utf8')) as ExecutionRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
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
