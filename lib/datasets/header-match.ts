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
import { type Column, type Dataset, liveColumns } from './model.ts';

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

/**
 * The optimal string alignment distance of `a` and `b` (insertions, deletions, replacements and
 * swaps of neighbours, each character edited once), or `limit + 1` when it is over `limit`: texts
 * whose lengths differ by more are not compared at all (a header cell may be a megabyte long).
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
      best = Math.min(best, d);
    }
    // Every later row is at least this row's least value: past the limit, it stays past it.
    if (best > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit + 1);
}

/** The column among `candidates` one of whose header texts `text` most likely misspells, if any. */
function misspelt(text: string, candidates: readonly Column[]): Column | undefined {
  const folded = fold(text);
  let best: Column | undefined;
  let bestEdits = Number.POSITIVE_INFINITY;
  for (const col of candidates) {
    for (const declared of headerTexts(col)) {
      const target = fold(declared);
      const limit = typoEdits(target.length);
      const edits = editDistance(folded, target, limit);
      if (edits <= limit && edits < bestEdits) {
        best = col;
        bestEdits = edits;
      }
    }
  }
  return best;
}

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
  cells.forEach((text, position) => {
    if (text === null) return;
    const col = byText.get(text);
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
    const typo = misspelt(text, lacked);
    if (ignore && !typo) {
      ignored.push(position);
      continue;
    }
    const near = typo ?? misspelt(text, live);
    atCell[position] = {
      position,
      column: text,
      value: text,
      rule: 'unknown_column',
      message: `the header names an unknown column "${truncateText(text)}"${near ? ` (did you mean "${headerOf(near)}"?)` : ''}`,
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
