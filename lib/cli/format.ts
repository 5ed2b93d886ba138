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

/** The table of errors: line, column, rule, value, message. */
export function errorTable(errors: readonly ErrorRow[]): string[] {
  // The message repeats the value for JSON readers; the table has a column for it.
  const rows = errors.map((e) => {
    const prefix = e.value === null ? '' : `${JSON.stringify(e.value)}: `;
    const message = prefix && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return [String(e.line), e.column ?? '-', e.rule, e.value ?? '', message];
  });
  return table(['line', 'column', 'rule', 'value', 'message'], rows);
}
