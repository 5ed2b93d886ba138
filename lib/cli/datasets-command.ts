/**
 * `datalake datasets check`: compares the declarations with their previous form (a folder or a git
 * ref) and prints one line per change with its verdict: exit 0 when every change is compatible,
 * 1 when one is breaking.
 */
import { BaselineError, loadBaseline } from '../datasets/baseline.ts';
import { compareDeclarations, type DeclarationChange, hasBreaking } from '../datasets/compat.ts';
import { loadDatasets } from '../datasets/load.ts';
import { DatasetDeclarationError } from '../datasets/model.ts';
import { escapeControl } from '../text.ts';
import { CliError, EXIT } from './failures.ts';
import type { CliIo } from './main.ts';

/** Options of `datalake datasets check`. */
export interface DatasetsCheckArgs {
  readonly datasetsDir: string;
  /** A folder of declarations, or a git ref whose copy of `datasetsDir` is read. */
  readonly against: string;
  readonly json: boolean;
}

/** Width of the verdict column: `compatible` and `breaking` line up. */
const VERDICT_WIDTH = 'compatible'.length;

/**
 * One line a change: `<verdict>  <dataset>[.<column>]  <rule>: <message>`, the second column
 * padded to the widest.
 */
export function changeLines(changes: readonly DeclarationChange[]): string[] {
  const targets = changes.map((c) => (c.column === undefined ? c.dataset : `${c.dataset}.${c.column}`));
  const width = Math.max(0, ...targets.map((t) => t.length));
  return changes.map(
    (c, i) => `${c.verdict.padEnd(VERDICT_WIDTH)}  ${targets[i]!.padEnd(width)}  ${c.rule}: ${c.message}`,
  );
}

/** The last line: how many changes, and what to do when one breaks. */
function summary(changes: readonly DeclarationChange[], label: string, datasets: number): string {
  if (changes.length === 0)
    return `no changes: ${datasets} dataset${datasets === 1 ? '' : 's'} as in ${label}`;
  const breaking = changes.filter((c) => c.verdict === 'breaking').length;
  const counts = `${changes.length} change${changes.length === 1 ? '' : 's'} against ${label}: ${changes.length - breaking} compatible, ${breaking} breaking`;
  return breaking === 0
    ? counts
    : `${counts}: fix each as it says, or declare a higher "version" for a new table`;
}

/** Runs the check; --json prints `{ against, breaking, compatible, changes }`. */
export async function datasetsCheckCommand(args: DatasetsCheckArgs, io: CliIo): Promise<number> {
  let next: Awaited<ReturnType<typeof loadDatasets>>;
  try {
    next = await loadDatasets(args.datasetsDir);
  } catch (error) {
    if (
      error instanceof DatasetDeclarationError ||
      (error instanceof Error && error.message.startsWith('cannot read the datasets folder'))
    )
      throw new CliError(error.message);
    throw error;
  }
  let baseline: Awaited<ReturnType<typeof loadBaseline>>;
  try {
    baseline = await loadBaseline(args.against, args.datasetsDir);
  } catch (error) {
    if (error instanceof BaselineError) throw new CliError(error.message);
    throw error;
  }
  const changes = compareDeclarations(baseline.datasets, next);
  const breaking = hasBreaking(changes);
  if (args.json) {
    const document = {
      against: baseline.label,
      breaking: changes.filter((c) => c.verdict === 'breaking').length,
      compatible: changes.filter((c) => c.verdict === 'compatible').length,
      changes,
    };
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    const lines = [...changeLines(changes), summary(changes, baseline.label, next.size)];
    io.stdout(`${escapeControl(lines.join('\n'))}\n`);
  }
  return breaking ? EXIT.invalid : EXIT.ok;
}
