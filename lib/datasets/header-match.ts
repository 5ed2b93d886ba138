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
 * Maps header cells (decoded texts; null for a cell that could not be decoded, which maps to
 * nothing and is reported by the caller) onto the dataset's columns.
 */
export function matchHeader(ds: Dataset, cells: readonly (string | null)[]): HeaderMatch {
  const byText = new Map<string, Column>();
  for (const col of ds.columns) for (const text of headerTexts(col)) byText.set(text, col);
  const live = liveColumns(ds);
  const fields: (Column | null)[] = [];
  const ignored: number[] = [];
  const problems: HeaderProblem[] = [];
  const seen = new Set<Column>();
  const ignore = ds.extraColumns === 'ignore';
  cells.forEach((text, position) => {
    fields.push(null);
    if (text === null) return;
    const col = byText.get(text);
    if (col?.retired) {
      if (ignore) ignored.push(position);
      else
        problems.push({
          position,
          column: col.name,
          value: text,
          rule: 'retired_column',
          message: `column "${col.name}" is retired: files no longer carry it (drop it from the file, or declare "extraColumns": "ignore")`,
        });
    } else if (col && seen.has(col)) {
      problems.push({
        position,
        column: col.name,
        value: text,
        rule: 'duplicate_column',
        message: `column "${col.name}" appears twice in the header`,
      });
    } else if (col) {
      seen.add(col);
      fields[position] = col;
    } else {
      const near =
        text === '' ? undefined : live.find((c) => headerTexts(c).some((t) => fold(t) === fold(text)));
      if (ignore && text !== '' && !near) {
        ignored.push(position);
        return;
      }
      const message =
        text === ''
          ? 'an empty header cell: every column needs a name'
          : `the header names an unknown column "${text}"${near ? ` (did you mean "${headerOf(near)}"?)` : ''}`;
      problems.push({ position, column: text, value: text, rule: 'unknown_column', message });
    }
  });
  const absent: Column[] = [];
  for (const col of live) {
    if (seen.has(col)) continue;
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
