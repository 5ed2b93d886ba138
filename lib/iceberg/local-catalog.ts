/**
 * The local catalog: a folder of pointer files per table, `<dir>/<database>/<table>/v<N>.json`
 * ({metadataLocation, previousMetadataLocation}). Creating `v<N+1>` with O_EXCL is the
 * compare-and-swap: atomic across processes, so two committers on one laptop behave as two on Glue
 * (one wins, the other gets {@link CommitConflictError}). The current pointer is the highest N.
 */
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CommitConflictError, type TableCatalog, type TablePointer } from './ports.ts';

/** Pointer files kept below the current one (older ones are pruned). */
export const KEPT_POINTERS = 10;

interface PointerFile {
  readonly metadataLocation: string;
  readonly previousMetadataLocation?: string;
}

const POINTER = /^v(\d+)\.json$/;

async function versions(folder: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((n) => POINTER.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

async function readPointer(folder: string, n: number): Promise<PointerFile | undefined> {
  try {
    return JSON.parse(await readFile(join(folder, `v${n}.json`), 'utf8')) as PointerFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates `v<n>.json` if and only if it does not exist; false when it does. */
async function createExclusive(folder: string, n: number, body: PointerFile): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(join(folder, `v${n}.json`), 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(body));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** A {@link TableCatalog} over pointer files in `dir`. */
export function localTableCatalog(dir: string): TableCatalog {
  const folderOf = (database: string, table: string) => join(dir, database, table);

  /**
   * The current pointer. A reader may meet a `v<N>.json` just created and not yet written (the
   * O_EXCL create and the write are two steps): it waits for the content a moment.
   */
  async function current(folder: string): Promise<TablePointer | undefined> {
    for (let attempt = 0; ; attempt++) {
      const all = await versions(folder);
      const n = all.at(-1);
      if (n === undefined) return undefined;
      const text = await readFile(join(folder, `v${n}.json`), 'utf8').catch(() => '');
      if (text) {
        const p = JSON.parse(text) as PointerFile;
        return { metadataLocation: p.metadataLocation, versionId: String(n) };
      }
      if (attempt > 200) throw new Error(`pointer ${join(folder, `v${n}.json`)} stays empty`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function prune(folder: string, upTo: number): Promise<void> {
    for (const n of await versions(folder)) {
      if (n >= upTo - KEPT_POINTERS) break;
      await rm(join(folder, `v${n}.json`), { force: true });
    }
  }

  return {
    load: (database, table) => current(folderOf(database, table)),
    async create(database, table, metadataLocation) {
      const folder = folderOf(database, table);
      await mkdir(folder, { recursive: true });
      if ((await versions(folder)).length > 0) return 'exists';
      return (await createExclusive(folder, 1, { metadataLocation })) ? 'created' : 'exists';
    },
    async swap(database, table, base, metadataLocation) {
      const folder = folderOf(database, table);
      const n = Number(base.versionId);
      // The base must still be there and be what the committer read: a pruned base means the
      // table moved on long ago, and re-creating a pruned number must never look like a success.
      const basePointer = await readPointer(folder, n);
      if (basePointer?.metadataLocation !== base.metadataLocation) {
        throw new CommitConflictError(`table ${database}.${table} moved on from version ${n}`);
      }
      const next = { metadataLocation, previousMetadataLocation: base.metadataLocation };
      if (!(await createExclusive(folder, n + 1, next))) {
        throw new CommitConflictError(`table ${database}.${table}: version ${n + 1} exists already`);
      }
      await prune(folder, n + 1);
    },
  };
}
