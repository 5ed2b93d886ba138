/** Scratch folders of dataset declarations for the compatibility check's tests, removed after the file's tests. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A new empty folder under the system's temp folder, removed after the test file. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** Writes each declaration to `<dir>/<name>.json`, creating `dir`. */
export async function writeDeclarations(dir: string, ...datasets: Record<string, unknown>[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const ds of datasets) await writeFile(join(dir, `${ds.name}.json`), JSON.stringify(ds, null, 2));
}
