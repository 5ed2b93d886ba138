/** Text layout shared by the CLI commands: aligned tables and the error table of a report. */

import { escapeControl } from '../text.ts';

/**
 * Left-aligned columns; long cells (values, messages) are cut so a row stays on one line, and
 * control characters are escaped (cells hold values from files).
 */
export function table(head: string[], rows: string[][]): string[] {
  const MAX_CELL = 60;
  const cells = [head, ...rows].map((r) =>
    r.map((c) => {
      const flat = escapeControl(c.replace(/[\r\n\t]/g, ' '));
      return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
    }),
  );
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** An error as reports carry it. */
export interface ErrorRow {
  readonly line: number;
  readonly column: string | null;
  readonly value: string | null;
  readonly rule: string;
  readonly message: string;
}

/** The heads of an error table. */
export const ERROR_COLUMNS = ['line', 'column', 'rule', 'value', 'message'] as const;

/** One error's cells: line, column, rule, value, message. */
export function errorCells(e: ErrorRow): string[] {
  // The message repeats the value for JSON readers; the table has a column for it.
  const prefix = e.value === null ? '' : `${JSON.stringify(e.value)}: `;
  const message = prefix && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  return [String(e.line), e.column ?? '-', e.rule, e.value ?? '', message];
}

/** The table of errors: line, column, rule, value, message. */
export function errorTable(errors: readonly ErrorRow[]): string[] {
  return table([...ERROR_COLUMNS], errors.map(errorCells));
}

/**
 * A query value as the table shows it: SQL NULL as NULL, and the text 'NULL' quoted so the two
 * differ; -0 keeps its sign (String(-0) is "0"). --json tells every value apart.
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value === 'NULL') return "'NULL'";
  if (Object.is(value, -0)) return '-0';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * A query's rows as `local query` prints them: `--json` the array of row objects alone (that it
 * was cut short goes to stderr, where a person reads it), otherwise a table and the row count.
 */
export function printRows(
  result: {
    readonly columns: string[];
    readonly rows: Record<string, unknown>[];
    readonly truncated: boolean;
  },
  json: boolean,
  io: { readonly stdout: (text: string) => void; readonly stderr: (text: string) => void },
): void {
  const count = `${result.rows.length.toLocaleString('en-US')} rows`;
  if (json) {
    io.stdout(`${JSON.stringify(result.rows)}\n`);
    if (result.truncated) io.stderr(`datalake: truncated at ${count}\n`);
    return;
  }
  const cells = result.rows.map((row) => result.columns.map((c) => cellText(row[c])));
  const note = result.truncated ? `\n(truncated at ${count})` : '';
  io.stdout(`${table(result.columns, cells).join('\n')}\n(${count})${note}\n`);
}
