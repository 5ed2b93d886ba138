/**
 * A seeded corpus of small CSV files for the Spark tokenizer differential: well-formed records
 * with every kind of field, and noise (stray and doubled quotes, delimiters, CR, LF, CRLF, TAB,
 * backslash, BOM, blank lines, ragged rows, unterminated quotes) in any dialect. The same seeds
 * give the same files on every run.
 */
import {
  type Dataset,
  isDelimiterCharacter,
  isQuoteCharacter,
  parseDataset,
} from '../../lib/datasets/model.ts';
import { type Random, random } from '../seeded-random.ts';

/** A CSV dialect, as a dataset declares it. */
export interface Dialect {
  readonly delimiter: string;
  readonly quote: string;
}

/** One generated file and the dataset it is validated against (string columns named by its header). */
export interface FuzzFile {
  readonly name: string;
  readonly dataset: Dataset;
  readonly bytes: Buffer;
}

/** Characters a field may hold, before the dialect's own are taken out where they would be special. */
const TEXT = [...'abcXYZ019 -_.:/', '\t', '\\', '"', "'", ',', ';', '|', 'é', '日本', '😀'];

/** Text with no delimiter, quote, CR or LF: an unquoted field can hold it. */
function plain(r: Random, d: Dialect, min: number, max: number): string {
  const safe = TEXT.filter((t) => !t.includes(d.delimiter) && !t.includes(d.quote));
  let s = '';
  for (let n = r.int(min, max); n > 0; n--) s += r.pick(safe);
  return s;
}

/**
 * A quoted field's inside, quotes doubled: delimiters, quotes and line breaks of any kind (none
 * when `ending` is empty).
 */
function quotedInside(r: Random, d: Dialect, ending: string): string {
  const pieces = ending
    ? [d.delimiter, d.quote + d.quote, '\n', '\r\n', ending, '\t', '\\', ' ']
    : [d.delimiter, d.quote + d.quote, '\t', '\\', ' '];
  let s = '';
  for (let n = r.int(0, 6); n > 0; n--) s += r.chance(0.5) ? plain(r, d, 1, 3) : r.pick(pieces);
  return s;
}

function field(r: Random, d: Dialect, ending: string): string {
  switch (r.int(0, 6)) {
    case 0:
      return '';
    case 1:
      return d.quote + d.quote;
    case 2:
    case 3:
      return plain(r, d, 1, 6);
    case 4:
      // A quote inside an unquoted field is literal (never at its start).
      return plain(r, d, 1, 3) + d.quote + (r.chance(0.5) ? d.quote : '') + plain(r, d, 0, 3);
    default:
      return d.quote + quotedInside(r, d, ending) + d.quote;
  }
}

/** Noise: any sequence of the characters that matter to a tokenizer. */
function noise(r: Random, d: Dialect): string {
  const tokens = [
    d.delimiter,
    d.quote,
    d.quote + d.quote,
    '\r',
    '\n',
    '\r\n',
    '\t',
    '\\',
    ' ',
    'a',
    '"',
    "'",
  ];
  let s = '';
  for (let n = r.int(1, 12); n > 0; n--) s += r.pick(tokens);
  return s;
}

/** What a fuzzed file may hold besides the common constructs. */
export interface FuzzShape {
  /**
   * Quoted values (and header cells) may hold line breaks. Off, the file's records each sit on one
   * line, as a reader that splits at line breaks needs, and a row of empty or blank fields turns up
   * now and then (a line such a reader may take for an empty one).
   * @default true
   */
  readonly lineBreaksInQuotes?: boolean;
}

/** A file of `seed` in dialect `d`: a header of 1–4 columns c0…, then 0–6 records, then damage. */
export function fuzzFile(seed: number, d: Dialect, shape: FuzzShape = {}): FuzzFile {
  const { lineBreaksInQuotes = true } = shape;
  const r = random(seed);
  const columns = r.int(1, 4);
  const names = Array.from({ length: columns }, (_, i) => `c${i}`);
  const ending = r.chance(0.5) ? '\n' : '\r\n';
  const lineEnd = () => (r.chance(0.05) ? (ending === '\n' ? '\r\n' : '\n') : ending);
  let text = r.chance(0.1) ? '\ufeff' : '';
  // A quoted header cell now and then holds a line break: no declared header can.
  const cell = (n: string) =>
    r.chance(0.2)
      ? d.quote + (lineBreaksInQuotes && r.chance(0.1) ? r.pick(['\n', '\r\n']) : '') + n + d.quote
      : n;
  text += names.map(cell).join(d.delimiter) + lineEnd();
  for (let row = r.int(0, 6); row > 0; row--) {
    let count = columns;
    if (r.chance(0.05)) count += r.chance(0.5) ? 1 : -1;
    const fields = Array.from({ length: Math.max(count, 1) }, () =>
      field(r, d, lineBreaksInQuotes ? ending : ''),
    );
    let line = fields.join(d.delimiter);
    if (!lineBreaksInQuotes && r.chance(0.15)) {
      const blank = r.pick(['', ' ', '  ']);
      line = Array.from({ length: Math.max(count, 1) }, () => blank).join(d.delimiter);
    }
    if (r.chance(0.1)) line = noise(r, d);
    text += line + lineEnd();
    if (r.chance(0.05)) text += r.pick([ending, ' ', '\r']);
  }
  if (r.chance(0.08)) text += d.quote + plain(r, d, 0, 4) + r.pick(['', ending, d.delimiter]);
  if (r.chance(0.15)) text = text.slice(0, text.length - ending.length);
  if (r.chance(0.1)) text += ending.repeat(r.int(1, 2));
  if (r.chance(0.03)) text = ending + text;
  const dataset = parseDataset(
    { name: 'fuzz', dialect: d, columns: names.map((name) => ({ name, type: 'string' })) },
    'fuzz.json',
  );
  return { name: `fuzz-${seed}`, dataset, bytes: Buffer.from(text, 'utf8') };
}

/**
 * Every character the model allows in each role, against two common partners: taken from the
 * model's own predicates, so a widened model is read by every reader's test before it ships.
 */
export function dialectSweep(): Dialect[] {
  const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));
  return [
    ...ascii
      .filter(isDelimiterCharacter)
      .flatMap((c) => ['"', "'"].filter((q) => q !== c).map((quote) => ({ delimiter: c, quote }))),
    ...ascii
      .filter(isQuoteCharacter)
      .flatMap((c) => [',', '\t'].filter((d) => d !== c).map((delimiter) => ({ delimiter, quote: c }))),
  ];
}
