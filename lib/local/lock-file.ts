/**
 * A lock file a process claims by creating it exclusively with its owner inside (pid and start
 * time): the lake's re-drive lock and the ledger's lock. A file left by a process that died, or one
 * caught empty between its creation and its writing that stays so, is taken over.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { type ExecutionOwner, ownerAlive } from './executions.ts';

/** What to do about a live holder: wait for it, or give up with this error. */
export type HeldBy<T> = (holder: T) => 'wait' | Error;

/**
 * Creates `path` holding `content`. A live holder is `onHeld`'s to decide: an error is thrown, a
 * wait polls again with a back-off (50 ms doubling to 1 s) until `waitMs`, then throws `timedOut`.
 * A dead or unreadable holder is looked at once more 100 ms later, then its file is removed.
 */
export async function claimLockFile<T extends ExecutionOwner>(
  path: string,
  content: T,
  onHeld: HeldBy<T>,
  options: { readonly waitMs?: number; readonly timedOut?: (holder: T) => Error } = {},
): Promise<void> {
  const until = Date.now() + (options.waitMs ?? 0);
  let suspect = false;
  for (let delay = 50; ; ) {
    try {
      await writeFile(path, JSON.stringify(content), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(path, 'utf8')
      .then((text) => JSON.parse(text) as T)
      .catch(() => undefined);
    if (holder && ownerAlive(holder)) {
      suspect = false;
      const decision = onHeld(holder);
      if (decision instanceof Error) throw decision;
      if (Date.now() >= until)
        throw options.timedOut?.(holder) ?? new Error(`${path} is held by pid ${holder.pid}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
      continue;
    }
    // Dead, or caught between creating the file and writing it: look once more, then take it over.
    if (suspect) await unlink(path).catch(() => undefined);
    else await new Promise((r) => setTimeout(r, 100));
    suspect = !suspect;
  }
}
