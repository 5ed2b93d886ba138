/**
 * How a file's header maps onto a dataset's columns: the one reading of the rules of change
 * (issue 16) that the validator applies to every file. A header cell names a column by its
 * `name`, its `header` or one of its `aliases`; a column declared `optional` may be absent (its
 * rows get null); a `retired` column is no longer read; a cell naming no column is rejected, or
 * dropped where the dataset declares `extraColumns: "ignore"` (unless it looks like a misspelt
 * column: a typo in a header is caught under either policy).
 *
 * The conversion engines map the same header by the Spark schema's metadata (`header`, `aliases`,
 * `optional`, `retired`; glue-scripts/csv_to_parquet.py `header_positions` and its TypeScript twin):
 * the validator has already refused every file this module finds a problem in.
 */

import { truncateText } from '../text.ts';
import { headerOf } from './derive.ts';
import type { Column, Dataset } from './model.ts';
import { liveColumns } from './model-core.ts';

/** The rule a header problem breaks (the validator's error rules of the same names). */
export type HeaderRule = 'unknown_column' | 'duplicate_column' | 'missing_column' | 'retired_column';

/** One thing wrong with a header. */
export interface HeaderProblem {
  /** 0-based position of the cell; null for a column the header lacks. */
  readonly position: number | null;
  /** The declared column name, or the cell's text for a cell naming no column. */
  readonly column: string;
  /** The cell's text; null for a column the header lacks. */
  readonly value: string | null;
  readonly rule: HeaderRule;
  readonly message: string;
}

/** A header read against a dataset. */
export interface HeaderMatch {
  /** Per cell: the (live) column it carries, or null for a cell that is not read (ignored or in error). */
  readonly fields: readonly (Column | null)[];
  /** Cells dropped by `extraColumns: "ignore"`, and retired columns a file still carries under it. */
  readonly ignored: readonly number[];
  /** Live columns absent from the header that may be (`optional`): their rows get null. */
  readonly absent: readonly Column[];
  readonly problems: readonly HeaderProblem[];
}

/** Every header text of a column: its name, its header and its aliases. */
export function headerTexts(col: Column): string[] {
  return [...new Set([col.name, headerOf(col), ...(col.aliases ?? [])])];
}

/** Case, surrounding space and `_`/`-`/space differences: what a misspelt header most often differs by. */
function fold(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');
}

/**
 * Edits (insert, delete, replace, swap two neighbours) a misspelling of a declared header text of
 * this many characters (folded) may be away from it and still count as one: none under 4 ("id"
 * and "ix" are two columns), one under 8, two from 8 ("Discont" is "Discount" misspelt).
 */
export function typoEdits(length: number): number {
  return length >= 8 ? 2 : length >= 4 ? 1 : 0;
}

/** Rows of the distance table, reused from call to call (a header may take millions of calls). */
let rows = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/**
 * The optimal string alignment distance of `a` and `b` (insertions, deletions, replacements and
 * swaps of neighbours, each character edited once), or `limit + 1` when it is over `limit`. Only
 * the band of the table within `limit` of its diagonal is computed, and a row past the limit ends
 * it: texts whose lengths differ by more are not compared at all (a header cell may be a megabyte).
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (a === b) return 0;
  const n = a.length;
  const m = b.length;
  const over = limit + 1;
  if (Math.abs(n - m) > limit) return over;
  if (rows[0]!.length < m + 2) rows = rows.map(() => new Int32Array(2 * (m + 2)));
  let [before, previous, current] = rows as [Int32Array, Int32Array, Int32Array];
  for (let j = 0; j <= m; j++) previous[j] = Math.min(j, over);
  for (let i = 1; i <= n; i++) {
    const lo = Math.max(1, i - limit);
    const hi = Math.min(m, i + limit);
    // Column 0 is i; left of the band any value over the limit will do, and i is (i > limit there).
    current[lo - 1] = i;
    let best = current[lo - 1]!;
    const ai = a.charCodeAt(i - 1);
    const aPrev = i > 1 ? a.charCodeAt(i - 2) : -1;
    for (let j = lo; j <= hi; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (ai === bj ? 0 : 1));
      if (j > 1 && ai === b.charCodeAt(j - 2) && aPrev === bj) d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
      if (d < best) best = d;
    }
    // Outside the band the distance is over the limit: the next row reads one cell past it.
    if (hi < m) current[hi + 1] = over;
    // Every later row is at least this row's least value: past the limit, it stays past it.
    if (best > limit) return over;
    const done = before;
    before = previous;
    previous = current;
    current = done;
  }
  return Math.min(previous[m]!, over);
}

/** A header text a misspelling is measured against: folded once, with the edits it allows. */
interface Target {
  readonly col: Column;
  readonly folded: string;
  readonly limit: number;
}

function targetsOf(columns: readonly Column[]): Target[] {
  return columns.flatMap((col) =>
    headerTexts(col).map((text) => {
      const folded = fold(text);
      return { col, folded, limit: typoEdits(folded.length) };
    }),
  );
}

/** The column among `targets` one of whose header texts the folded cell most likely misspells, if any. */
function misspelt(folded: string, targets: readonly Target[]): Column | undefined {
  let best: Column | undefined;
  let bestEdits = Number.POSITIVE_INFINITY;
  for (const { col, folded: target, limit } of targets) {
    // Only a nearer text than the best so far matters: fewer edits to look for.
    const bound = Math.min(limit, bestEdits - 1);
    const edits = editDistance(folded, target, bound);
    if (edits <= bound) {
      best = col;
      bestEdits = edits;
    }
  }
  return best;
}

/** Why `extraColumns: "ignore"` did not drop a misspelt cell, and what to do. */
const IGNORE_REFUSED =
  ': a header this near a column the file lacks is taken for a misspelling even under "extraColumns": "ignore" (correct it, or rename the extra column)';

/**
 * Maps header cells (decoded texts; null for a cell that could not be decoded, which maps to
 * nothing and is reported by the caller) onto the dataset's columns. Problems come in cell order,
 * then the missing columns in declaration order.
 *
 * A cell naming no column is a misspelling, rejected under either policy, when it is near (see
 * {@link typoEdits}) a header text of a live column the header lacks; under `ignore` any other
 * such cell is dropped (a cell near a column the file does carry is another column, such as
 * "amount" and "amounts"). Under `reject` every such cell is an error, with the hint of the
 * nearest column, lacked or not.
 */
export function matchHeader(ds: Dataset, cells: readonly (string | null)[]): HeaderMatch {
  const byText = new Map<string, Column>();
  for (const col of ds.columns) for (const text of headerTexts(col)) byText.set(text, col);
  const ignore = ds.extraColumns === 'ignore';
  const fields: (Column | null)[] = cells.map(() => null);
  const ignored: number[] = [];
  const atCell: (HeaderProblem | undefined)[] = [];
  const seen = new Set<Column>();
  const unmatched: number[] = [];
  // Spark's CSV reader (the Glue job) renames header cells equal up to letter case (`ab`, `AB`
  // become `ab0`, `AB1`: makeSafeHeader, spark.sql.caseSensitive false), after which its columns
  // no longer carry the file's texts and a later cell such as `ab1` could be read in their place.
  const firstAt = new Map<string, number>();
  cells.forEach((text, position) => {
    if (text === null) return;
    const col = byText.get(text);
    const lower = text.toLowerCase();
    const earlier = firstAt.get(lower);
    if (earlier === undefined) firstAt.set(lower, position);
    else if (!(col && !col.retired && seen.has(col))) {
      atCell[position] = {
        position,
        column: col?.name ?? truncateText(text),
        value: text,
        rule: 'duplicate_column',
        message: `header cell ${position + 1} "${truncateText(text)}" repeats cell ${earlier + 1} "${truncateText(cells[earlier]!)}"${cells[earlier] === text ? '' : ' up to letter case'}: Spark's CSV reader, which converts large files, would rename both (drop or rename one)`,
      };
      return;
    }
    if (!col) {
      unmatched.push(position);
    } else if (col.retired) {
      if (ignore) ignored.push(position);
      else
        atCell[position] = {
          position,
          column: col.name,
          value: text,
          rule: 'retired_column',
          message: `column "${col.name}" is retired: files no longer carry it (drop it from the file, or declare "extraColumns": "ignore")`,
        };
    } else if (seen.has(col)) {
      atCell[position] = {
        position,
        column: col.name,
        value: text,
        rule: 'duplicate_column',
        message: `column "${col.name}" appears twice in the header`,
      };
    } else {
      seen.add(col);
      fields[position] = col;
    }
  });
  const live = liveColumns(ds);
  const lacked = live.filter((col) => !seen.has(col));
  // Folded once: a header of thousands of unknown cells meets thousands of columns.
  const lackedTargets = unmatched.length > 0 ? targetsOf(lacked) : [];
  const liveTargets = unmatched.length > 0 ? targetsOf(live) : [];
  for (const position of unmatched) {
    const text = cells[position]!;
    if (text === '') {
      atCell[position] = {
        position,
        column: text,
        value: text,
        rule: 'unknown_column',
        message: 'an empty header cell: every column needs a name',
      };
      continue;
    }
    const folded = fold(text);
    const typo = misspelt(folded, lackedTargets);
    if (ignore && !typo) {
      ignored.push(position);
      continue;
    }
    const near = typo ?? misspelt(folded, liveTargets);
    atCell[position] = {
      position,
      column: text,
      value: text,
      rule: 'unknown_column',
      message: `the header names an unknown column "${truncateText(text)}"${near ? ` (did you mean "${headerOf(near)}"?)` : ''}${ignore ? IGNORE_REFUSED : ''}`,
    };
  }
  ignored.sort((a, b) => a - b);
  const problems = atCell.filter((p): p is HeaderProblem => p !== undefined);
  const absent: Column[] = [];
  for (const col of lacked) {
    if (col.optional) {
      absent.push(col);
      continue;
    }
    problems.push({
      position: null,
      column: col.name,
      value: null,
      rule: 'missing_column',
      message: `the header has no column "${headerOf(col)}"`,
    });
  }
  return { fields, ignored, absent, problems };
}
