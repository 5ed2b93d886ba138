/**
 * The local catalog: a folder of pointer files per table, `<dir>/<database>/<table>/v<N>.json`
 * ({metadataLocation, previousMetadataLocation}). Creating `v<N+1>` exclusively is the
 * compare-and-swap: atomic across processes, so two committers on one laptop behave as two on Glue
 * (one wins, the other gets {@link CommitConflictError}). The current pointer is the highest N.
 *
 * The file is written whole under a temporary name and then hard-linked to `v<N+1>.json`: link(2)
 * fails with EEXIST like an O_EXCL open, and a pointer is never seen empty or half-written, even
 * when its writer dies (an O_EXCL open followed by a write leaves an empty pointer behind).
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
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

/** Creates `v<n>.json` with its content if and only if it does not exist; false when it does. */
async function createExclusive(folder: string, n: number, body: PointerFile): Promise<boolean> {
  const temp = join(folder, `.v${n}-${randomUUID()}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(JSON.stringify(body));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, join(folder, `v${n}.json`));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/** A {@link TableCatalog} over pointer files in `dir`. */
export function localTableCatalog(dir: string): TableCatalog {
  const folderOf = (database: string, table: string) => join(dir, database, table);

  /** The current pointer: the highest version (re-listed if pruning removes it meanwhile). */
  async function current(folder: string): Promise<TablePointer | undefined> {
    for (;;) {
      const n = (await versions(folder)).at(-1);
      if (n === undefined) return undefined;
      const p = await readPointer(folder, n);
      if (p) return { metadataLocation: p.metadataLocation, versionId: String(n) };
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
      // Pruning between the base check and the link could let a stale committer re-create a
      // pruned number below the current one: then the next version is not built on ours.
      if (((await versions(folder)).at(-1) ?? 0) > n + 1) {
        const successor = await readPointer(folder, n + 2);
        if (successor?.previousMetadataLocation !== metadataLocation) {
          await rm(join(folder, `v${n + 1}.json`), { force: true });
          throw new CommitConflictError(`table ${database}.${table} moved on past version ${n + 1}`);
        }
      }
      await prune(folder, n + 1);
    },
  };
}
