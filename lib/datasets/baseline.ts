/**
 * The previous form of the declarations, which the compatibility check compares with: a folder, or
 * the same folder as a git commit holds it (`git ls-tree` and `git cat-file` through execFile, the
 * folder taken relative to its repository's root). Also the `cdk synth` guard built on both.
 */
import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { compareDeclarations, type DeclarationChange } from './compat.ts';
import { type DeclarationFile, loadDatasets, parseDeclarations } from './load.ts';
import { type Dataset, DatasetDeclarationError } from './model.ts';

const run = promisify(execFile);

/** Why the previous declarations could not be had; `kind` tells a missing checkout from the rest. */
export class BaselineError extends Error {
  override readonly name = 'BaselineError';
  constructor(
    message: string,
    /** `no-git`: not a git checkout (or no git); `not-found`: no such folder or ref; `invalid`: a bad declaration. */
    readonly kind: 'no-git' | 'not-found' | 'invalid',
  ) {
    super(message);
  }
}

/** The previous declarations, and how to name where they came from. */
export interface Baseline {
  /** `datasets/` (a folder) or `HEAD~1:datasets` (a commit's folder). */
  readonly label: string;
  readonly datasets: Map<string, Dataset>;
}

/**
 * Loads the declarations `against` names: a folder when one exists at that path, else a git ref
 * (any revision git takes: `HEAD~1`, `main`, a tag, a commit id) resolved in the repository that
 * holds `datasetsDir`, whose folder at that commit is read. A folder the commit does not have
 * reads as no datasets (every dataset is then new). Errors are {@link BaselineError}s.
 */
export async function loadBaseline(against: string, datasetsDir: string): Promise<Baseline> {
  const info = await stat(against).catch(() => undefined);
  if (info?.isDirectory()) {
    const datasets = await asBaseline(against, () => loadDatasets(against));
    return { label: against, datasets };
  }
  if (info)
    throw new BaselineError(
      `--against "${against}" is a file: give a folder of declarations or a git ref`,
      'not-found',
    );
  return loadFromGit(against, datasetsDir);
}

async function asBaseline<T>(label: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof DatasetDeclarationError)
      throw new BaselineError(
        `the previous declarations (${label}) do not load: ${error.message}\nfix that form (or compare with another one)`,
        'invalid',
      );
    if (error instanceof Error && error.message.startsWith('cannot read the datasets folder'))
      throw new BaselineError(error.message, 'not-found');
    throw error;
  }
}

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('git', [...args], { cwd, maxBuffer: 64 << 20, encoding: 'utf8' });
  return stdout;
}

async function loadFromGit(ref: string, datasetsDir: string): Promise<Baseline> {
  // A ref starting with "-" would be read as an option.
  if (ref === '' || ref.startsWith('-'))
    throw new BaselineError(`--against "${ref}" is neither a folder nor a git ref`, 'not-found');
  const dir = await realpath(datasetsDir).catch(() => {
    throw new BaselineError(`cannot read the datasets folder "${datasetsDir}": no such folder`, 'not-found');
  });
  let root: string;
  try {
    root = (await git(dir, ['rev-parse', '--show-toplevel'])).trim();
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'git is not installed'
        : `"${datasetsDir}" is not in a git checkout`;
    throw new BaselineError(
      `--against "${ref}" is no folder, and cannot be read as a git ref: ${why}`,
      'no-git',
    );
  }
  let commit: string;
  try {
    commit = (await git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim();
  } catch {
    throw new BaselineError(
      `--against "${ref}" is neither a folder nor a commit of the repository at ${root}${
        /~|\^/.test(ref)
          ? ' (a shallow clone or a first commit has no parent: fetch the full history, e.g. fetch-depth: 0)'
          : ''
      }`,
      'not-found',
    );
  }
  const inRepo = relative(await realpath(root), dir)
    .split(sep)
    .join('/');
  const label = `${ref}:${inRepo || '.'}`;
  // `ls-tree` of `<commit>:<folder>` lists the folder's own entries; a folder the commit lacks fails.
  let listing: string;
  try {
    listing = await git(root, ['ls-tree', '-z', inRepo === '' ? commit : `${commit}:${inRepo}`]);
  } catch {
    return { label, datasets: new Map() };
  }
  const files: DeclarationFile[] = [];
  const entries = listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, name] = line.split('\t') as [string, string];
      const [, type, object] = meta.split(' ') as [string, string, string];
      return { type, object, name };
    })
    .filter((e) => e.type === 'blob' && e.name.endsWith('.json'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = inRepo === '' ? e.name : `${inRepo}/${e.name}`;
    files.push({ file: `${ref}:${path}`, text: await git(root, ['cat-file', 'blob', e.object]) });
  }
  const datasets = await asBaseline(label, async () => parseDeclarations(files));
  return { label, datasets };
}

/** Where the `cdk synth` guard compares from; `none` turns it off. */
export const DEFAULT_DATASETS_BASELINE = 'HEAD';

/** Inputs of {@link guardDatasetChanges}. */
export interface DatasetsGuardInputs {
  /** The declarations about to be synthesized. */
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly datasetsDir: string;
  /**
   * A folder or git ref (context `datasetsBaseline`), or `none`.
   * @default - `HEAD`: the uncommitted changes are checked, and outside a git checkout the check is skipped with a warning
   */
  readonly baseline?: string;
  /** Where a warning goes (the check did not run). */
  readonly warn: (message: string) => void;
}

/**
 * Refuses declarations that change a table in a way it cannot follow (a breaking change that is not
 * a new version): throws an error listing each breaking change and its fix. Returns the changes.
 */
export async function guardDatasetChanges(inputs: DatasetsGuardInputs): Promise<DeclarationChange[]> {
  const against = inputs.baseline ?? DEFAULT_DATASETS_BASELINE;
  if (against === 'none') return [];
  let baseline: Baseline;
  try {
    baseline = await loadBaseline(against, inputs.datasetsDir);
  } catch (error) {
    if (error instanceof BaselineError && error.kind === 'no-git' && inputs.baseline === undefined) {
      inputs.warn(
        `warning: the dataset compatibility check did not run: ${inputs.datasetsDir} is not in a git checkout; set -c datasetsBaseline=<folder or git ref> to run it (or none to silence this)`,
      );
      return [];
    }
    if (error instanceof BaselineError) throw new Error(`datasetsBaseline: ${error.message}`);
    throw error;
  }
  const changes = compareDeclarations(baseline.datasets, inputs.datasets);
  const breaking = changes.filter((c) => c.verdict === 'breaking');
  if (breaking.length > 0) {
    const lines = breaking.map(
      (c) => `  - ${c.dataset}${c.column ? `.${c.column}` : ''}: ${c.rule}: ${c.message}`,
    );
    throw new Error(
      `the dataset declarations change ${breaking.length === 1 ? 'a table in a way' : 'tables in ways'} it cannot follow (compared with ${baseline.label}):\n${lines.join('\n')}\n(\`datalake datasets check --datasets ${relative(process.cwd(), inputs.datasetsDir) || '.'} --against ${against}\` lists every change; -c datasetsBaseline=none skips this check)`,
    );
  }
  return changes;
}
