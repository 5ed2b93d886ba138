/** Loads and checks the dataset declarations of a folder (`datasets/*.json`). */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Dataset, DatasetDeclarationError, parseDataset } from './model.ts';

/** The default folder of dataset declarations, relative to the working directory. */
export const DEFAULT_DATASETS_DIR = 'datasets';

/** All datasets of a folder, by name. Fails on the first bad file, naming it and each bad field. */
export async function loadDatasets(dir: string = DEFAULT_DATASETS_DIR): Promise<Map<string, Dataset>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    throw new Error(`cannot read the datasets folder "${dir}": ${(error as NodeJS.ErrnoException).code}`);
  }
  const datasets = new Map<string, Dataset>();
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const path = join(dir, name);
    const file = relative(process.cwd(), path) || path;
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new DatasetDeclarationError(file, [`not valid JSON: ${(error as Error).message}`]);
    }
    const ds = parseDataset(json, file);
    const earlier = fileOf.get(ds.name);
    if (earlier) {
      throw new DatasetDeclarationError(file, [
        `name: dataset "${ds.name}" is already declared in ${earlier}`,
      ]);
    }
    fileOf.set(ds.name, file);
    datasets.set(ds.name, ds);
  }
  return datasets;
}

/** One dataset by name; an unknown name fails with the list of known ones. */
export function pickDataset(datasets: ReadonlyMap<string, Dataset>, name: string): Dataset {
  const ds = datasets.get(name);
  if (ds) return ds;
  const known = [...datasets.keys()].join(', ') || 'none';
  throw new UnknownDatasetError(`unknown dataset "${name}" (known: ${known})`);
}

/** A dataset name that no declaration carries. */
export class UnknownDatasetError extends Error {
  override readonly name = 'UnknownDatasetError';
}
