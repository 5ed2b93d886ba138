/** Loads and checks the dataset declarations of a folder (`datasets/*.json`). */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { latestViewName, tableVersions } from '../iceberg/layout.ts';
import { escapeControl } from '../text.ts';
import { type Dataset, DatasetDeclarationError, parseDataset } from './model.ts';

/** The default folder of dataset declarations, relative to the working directory. */
export const DEFAULT_DATASETS_DIR = 'datasets';

/** All datasets of a folder, by name. Fails on the first bad file, naming it and each bad field. */
export async function loadDatasets(dir: string = DEFAULT_DATASETS_DIR): Promise<Map<string, Dataset>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    throw new Error(`cannot read the datasets folder "${dir}": ${(error as NodeJS.ErrnoException).code}`);
  }
  const files: DeclarationFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    files.push({ file: relative(process.cwd(), path) || path, text: await readFile(path, 'utf8') });
  }
  return parseDeclarations(files);
}

/** One declaration file's text, and how errors name it (a path, or `REF:path` for a git blob). */
export interface DeclarationFile {
  readonly file: string;
  readonly text: string;
}

/**
 * The datasets of a set of declaration files, by name, checked as {@link loadDatasets} checks a
 * folder's: each file, then no dataset declared twice and no table or view name claimed twice.
 */
export function parseDeclarations(files: Iterable<DeclarationFile>): Map<string, Dataset> {
  const datasets = new Map<string, Dataset>();
  const fileOf = new Map<string, string>();
  for (const { file, text } of files) {
    const ds = parseDeclaration(text, file);
    const earlier = fileOf.get(ds.name);
    if (earlier) {
      throw new DatasetDeclarationError(file, [
        `name: dataset "${ds.name}" is already declared in ${earlier}`,
      ]);
    }
    fileOf.set(ds.name, file);
    datasets.set(ds.name, ds);
  }
  checkRelationNames(datasets, fileOf);
  return datasets;
}

/**
 * Every table and view the datasets name in the catalog (each version's table, old versions
 * staying queryable, and a `<name>_latest` view where a key is declared) must be one dataset's
 * only: `orders` at version 2 and a dataset named `orders_v2` would share a table.
 */
function checkRelationNames(
  datasets: ReadonlyMap<string, Dataset>,
  fileOf: ReadonlyMap<string, string>,
): void {
  const owner = new Map<string, string>();
  for (const ds of datasets.values()) {
    const names = tableVersions(ds.name, ds.version).map((t) => t.name);
    if (ds.key) names.push(latestViewName(ds.name));
    for (const relation of names) {
      const other = owner.get(relation);
      if (other !== undefined && other !== ds.name) {
        throw new DatasetDeclarationError(fileOf.get(ds.name)!, [
          `name: dataset "${ds.name}" and dataset "${other}" (${fileOf.get(other)}) both name the table or view "${relation}" in the catalog`,
        ]);
      }
      owner.set(relation, ds.name);
    }
  }
}

/**
 * Reads the text of one declaration file: a leading byte order mark is skipped (editors on Windows
 * write one), a syntax error is located and shows the character it found, and a number JSON cannot
 * carry exactly is refused before it is rounded into a bound. `file` is named in every error.
 */
export function parseDeclaration(text: string, file: string): Dataset {
  const body = text.charCodeAt(0) === BOM ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new DatasetDeclarationError(file, [`not valid JSON: ${syntaxMessage(body, error as Error)}`]);
  }
  const inexact = inexactNumbers(body);
  if (inexact.length > 0) throw new DatasetDeclarationError(file, inexact);
  return parseDataset(json, file);
}

const BOM = 0xfeff;

/** V8's message, made visible (a stray BOM or zero-width space prints as nothing) and located. */
function syntaxMessage(text: string, error: Error): string {
  const message = escapeControl(error.message);
  const at = /at position (\d+)/.exec(error.message);
  if (!at) return message;
  const offset = Number(at[1]);
  const found = text.codePointAt(offset);
  const shown =
    found === undefined
      ? 'the end of the file'
      : found > 0x20 && found < 0x7f
        ? `"${String.fromCodePoint(found)}"`
        : `U+${found.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${message} (${lineColumn(text, offset)}: found ${shown})`;
}

/** `line L, column C` of a character offset, both counted from 1. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}`;
}

/** A JSON number token; the text is valid JSON when this runs. */
const NUMBER = /-?(\d+)(?:\.(\d+))?(?:[eE][+-]?\d+)?/y;
/** Significant digits every decimal of up to this many keeps through a double (DBL_DIG). */
const EXACT_DIGITS = 15;
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * Every number in a valid JSON text that a double cannot hold exactly: more than 15 significant
 * digits (`9007199254740993`, `0.10000000000000001` would silently change), or outside the range
 * of normal doubles. Found in the source text, since JSON.parse has already rounded them.
 */
function inexactNumbers(text: string): string[] {
  const problems: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: an escaped character (\" included) is two characters.
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++)
        if (text.charCodeAt(i) === BACKSLASH) i++;
      continue;
    }
    if (c !== MINUS && (c < ZERO || c > NINE)) continue;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text)!;
    const token = m[0];
    const digits = `${m[1]}${m[2] ?? ''}`.replace(/^0+/, '').replace(/0+$/, '');
    const value = Math.abs(Number(token));
    const tooLong = digits.length > EXACT_DIGITS;
    if (tooLong || value === Number.POSITIVE_INFINITY || (digits && value < MIN_NORMAL)) {
      const where = lineColumn(text, i);
      problems.push(
        tooLong
          ? `number ${token} (${where}) cannot be read exactly: a JSON number is a double, which keeps ${EXACT_DIGITS} significant digits; write a min or max as a string, e.g. "${token}"`
          : `number ${token} (${where}) is outside the range of a double, which a JSON number is read as`,
      );
    }
    i += token.length - 1;
  }
  return problems;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** One dataset by name; an unknown name fails with the list of known ones. */
export function pickDataset(datasets: ReadonlyMap<string, Dataset>, name: string): Dataset {
  const ds = datasets.get(name);
  if (ds) return ds;
  const known = [...datasets.keys()].join(', ') || 'none';
  throw new UnknownDatasetError(`unknown dataset "${name}" (known: ${known})`);
}

/** A dataset name that no declaration carries. */
export class UnknownDatasetError extends Error {
  override readonly name = 'UnknownDatasetError';
}
