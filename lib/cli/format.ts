/** Text layout shared by the CLI commands: aligned tables and the error table of a report. */

/**
 * Characters a terminal acts on or hides: C0 controls but tab and newline, DEL, C1 controls (ESC
 * sequences can recolour the terminal or set its title), and the invisible or reordering format
 * characters (zero-width, bidi overrides, the BOM) that would make a shown value lie.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Text from a file or the user made safe to print: each unsafe character becomes `\xNN` (up to
 * U+00FF) or `\uNNNN`, so what is shown is what is there.
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

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
