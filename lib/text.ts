/** Text shown to a person (a terminal line, an error message) that came from a file or a user. */

/**
 * Characters a terminal acts on or hides: C0 controls but tab and newline, DEL, C1 controls (ESC
 * sequences can recolour the terminal or set its title), the invisible or reordering format
 * characters (zero-width, bidi overrides, the BOM) and the spaces that are not U+0020 (no-break,
 * en, em, ideographic…), which would make a shown value lie.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  /[\u0000-\u0008\u000b-\u001f\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2069\u3000\ufeff]/g;

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

/** An error in one line, as the Glue script words one: `<name>: <message>` (anything else as text). */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Longest text from a file quoted whole in an error (a value, a header cell). */
export const SHOWN_TEXT_CHARS = 80;

/**
 * `text` cut to `max` characters with `…` marking the cut, never inside a surrogate pair (the
 * report must stay valid UTF-8).
 */
export function truncateText(text: string, max: number = SHOWN_TEXT_CHARS): string {
  if (text.length <= max) return text;
  const high = text.charCodeAt(max - 1);
  const cut = high >= 0xd800 && high <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, cut)}…`;
}

/**
 * Names made unique, in order: a repeated name gets `_2`, `_3`… (past any suffix another name
 * already has), so rows keyed by column name keep every column (`SELECT a.id, b.id` → `id`, `id_2`).
 */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let n = 2;
    while (taken.has(`${name}_${n}`)) n += 1;
    const unique = `${name}_${n}`;
    taken.add(unique);
    return unique;
  });
}
