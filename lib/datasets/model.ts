import * as z from 'zod';
import { LINEAGE_COLUMNS, PARTITION_COLUMN } from './model-core.ts';
import { patternProblem } from './patterns.ts';
import { checkLiteral } from './values.ts';

// Kept apart so the browser's validator bundle gets them without zod; re-exported for every other importer.
export { LINEAGE_COLUMNS, liveColumns, PARTITION_COLUMN } from './model-core.ts';

/** The column types of DESIGN §2, in the order the docs list them. */
export const COLUMN_TYPES = [
  'string',
  'int',
  'bigint',
  'double',
  'decimal',
  'boolean',
  'date',
  'timestamp',
] as const;

/** One of the declared column types. */
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** Names no declared column may take: the partition column and the lineage columns. */
export const RESERVED_COLUMN_NAMES: ReadonlySet<string> = new Set([
  PARTITION_COLUMN,
  ...Object.values(LINEAGE_COLUMNS),
]);

/** What a dataset does with a header cell that names no declared column (`extraColumns`). */
export const EXTRA_COLUMN_POLICIES = ['reject', 'ignore'] as const;

/** At most this many columns (retired ones included): field ids stay below the lineage ids. */
export const MAX_COLUMNS = 10_000;

/** Every integer of at most this magnitude is an exact double; past it JSON.parse rounds. */
const TWO_TO_53 = 2 ** 53;

/** Glue and Athena accept lower-case identifiers only (they fold case), up to 255 characters. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

const identifier = z
  .string()
  .max(255, { error: 'must be at most 255 characters (a Glue/Athena identifier)' })
  .regex(IDENTIFIER, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not a valid Glue/Athena identifier: use [a-z_][a-z0-9_]*`,
  });

const bound = z.union([z.number(), z.string()]);

// No line break: Spark's CSV reader takes a file's line separator from its first line break,
// even one inside a quoted header cell, and would then misread every line of a CRLF file.
const headerText = z
  .string()
  .min(1, { error: 'header must not be empty' })
  .refine((h) => !/[\r\n]/.test(h), { error: 'header must not contain a line break (CR or LF)' });

const columnSchema = z
  .strictObject({
    name: identifier,
    type: z.enum(COLUMN_TYPES, {
      error: (issue) => `unknown type ${JSON.stringify(issue.input)} (known: ${COLUMN_TYPES.join(', ')})`,
    }),
    description: z.string().optional(),
    nullable: z.boolean().default(true),
    header: headerText.optional(),
    /** Other header texts a file may name the column by (an old and a new export side by side). */
    aliases: z.array(headerText).optional(),
    /** The header may be absent from a file (files older than the column): its rows get null. */
    optional: z.boolean().default(false),
    /** Kept in the table and in old data; files no longer carry it (new rows get null). */
    retired: z.boolean().default(false),
    /** The column's name in the previous declaration: a rename, which keeps the field id. */
    previousName: identifier.optional(),
    precision: z.number().int().min(1).max(38, { error: 'precision must be at most 38' }).optional(),
    scale: z.number().int().min(0).optional(),
    enum: z
      .array(
        // A lone surrogate (possible in JSON as "\ud800") is no text UTF-8 data can hold: such a
        // value could never match, and its UTF-8 encoding would be U+FFFD's.
        z.string().refine((v) => Buffer.from(v, 'utf8').toString('utf8') === v, {
          error: 'enum values must be valid Unicode text (this one holds a lone surrogate)',
        }),
      )
      .min(1, { error: 'enum must list at least one value' })
      .optional(),
    pattern: z.string().optional(),
    maxLength: z.number().int().min(1).optional(),
    min: bound.optional(),
    max: bound.optional(),
  })
  .superRefine((col, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const isDecimal = col.type === 'decimal';
    if (isDecimal && col.precision === undefined) fail('precision', 'decimal needs a precision (1–38)');
    if (isDecimal && col.scale === undefined) fail('scale', 'decimal needs a scale (0–precision)');
    if (isDecimal && col.precision !== undefined && col.scale !== undefined && col.scale > col.precision)
      fail('scale', `scale ${col.scale} is greater than precision ${col.precision}`);
    if (!isDecimal && col.precision !== undefined)
      fail('precision', 'precision applies to decimal columns only');
    if (!isDecimal && col.scale !== undefined) fail('scale', 'scale applies to decimal columns only');
    const isString = col.type === 'string';
    for (const key of ['enum', 'pattern', 'maxLength'] as const) {
      if (!isString && col[key] !== undefined) fail(key, `${key} applies to string columns only`);
    }
    if (col.enum && new Set(col.enum).size !== col.enum.length) fail('enum', 'enum lists a value twice');
    const patternRefused = isString && col.pattern !== undefined ? patternProblem(col.pattern) : undefined;
    if (patternRefused) fail('pattern', patternRefused);
    if (col.name === PARTITION_COLUMN)
      fail('name', `"${PARTITION_COLUMN}" is the partition column of every table`);
    else if (RESERVED_COLUMN_NAMES.has(col.name))
      fail('name', `"${col.name}" is a lineage column every curated table carries`);
    if (col.optional && !col.nullable)
      fail('optional', 'an optional column is null in files without it, so it cannot be nullable: false');
    if (col.optional && col.retired)
      fail('optional', 'a retired column is never read from files: optional does not apply');
    if (col.previousName !== undefined && col.previousName === col.name)
      fail('previousName', 'previousName is the name the column had before a rename: drop it or change it');
    // Each bound against the type alone first, then (both valid) against the other bound: the
    // value rules compile a column's bounds, so a malformed bound must never reach them.
    const typeOnly: ColumnShape = { type: col.type, precision: col.precision, scale: col.scale };
    const typeProblem = (value: number | string | undefined) =>
      value === undefined ? undefined : checkLiteral(typeOnly, String(value));
    // JSON.parse reads every number as a double: past 2^53 it is rounded to a multiple of 2, 4, …
    // and no bigint bound may be inexact. (2^53 itself is exact; a 16-digit source such as
    // 9007199254740993 that JSON.parse rounds to it is refused by the loader, which sees the text.)
    const inexact = (value: number | string | undefined) =>
      col.type === 'bigint' && typeof value === 'number' && Math.abs(value) > TWO_TO_53;
    const malformed = [col.min, col.max].some((v) => inexact(v) || typeProblem(v) !== undefined);
    for (const key of ['min', 'max'] as const) {
      const value = col[key];
      if (value === undefined) continue;
      if (isString || col.type === 'boolean') {
        fail(key, `${key} applies to numeric, date and timestamp columns only`);
      } else if (inexact(value)) {
        fail(
          key,
          `bigint ${key} reads as ${value}: a JSON number beyond ±${TWO_TO_53} (2^53) may have been rounded, so write the exact value as a string, e.g. "${key}": "9007199254740993"`,
        );
      } else if (!(isDecimal && (col.precision === undefined || col.scale === undefined))) {
        const problem =
          typeProblem(value) ?? (malformed ? undefined : checkLiteral(col as ColumnShape, String(value)));
        if (problem)
          fail(key, `${key} ${JSON.stringify(value)} is not a valid ${typeLabel(col)}: ${problem}`);
      }
    }
  });

/** What a column declaration holds once parsed (defaults applied). */
export type Column = z.output<typeof columnSchema>;

/** The part of a column the value rules need. */
export type ColumnShape = Pick<Column, 'type' | 'precision' | 'scale'>;

/**
 * What a dataset may use as its delimiter: one ASCII character other than NUL, CR and LF. The
 * validator, DuckDB (the local twin) and Spark (the Glue job) read every such delimiter with
 * every allowed quote alike: test/spark/spark-tokenizer.test.ts and
 * test/conformance/dialect-sweep.test.ts read a corpus in each. NUL is refused: Spark's
 * tokenizer drops it from values, DuckDB cannot take it as an option, and it cannot travel in the
 * Glue job's command-line arguments. CR and LF end records.
 */
export function isDelimiterCharacter(c: string): boolean {
  return c.length === 1 && c > '\0' && c <= '\x7f' && c !== '\r' && c !== '\n';
}

/**
 * What a dataset may use as its quote: one ASCII character above space. Space, tab and the other
 * control characters are refused because Spark's tokenizer does not follow them: univocity takes
 * every character up to U+0020 for whitespace where a field may open a quote, so such a quoted
 * field reads as text with its quotes; a NUL quote means no quoting at all to Spark
 * (test/spark/spark-tokenizer.test.ts shows each).
 */
export function isQuoteCharacter(c: string): boolean {
  return c.length === 1 && c > ' ' && c <= '\x7f';
}

const dialectSchema = z
  .strictObject({
    delimiter: z
      .string()
      .refine(isDelimiterCharacter, {
        error: 'delimiter must be one ASCII character other than NUL, CR and LF',
      })
      .default(','),
    quote: z
      .string()
      .refine(isQuoteCharacter, {
        error: 'quote must be one ASCII character above space (not a space or control character)',
      })
      .default('"'),
  })
  .refine((d) => d.delimiter !== d.quote, { error: 'delimiter and quote must differ' });

const datasetSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: identifier,
    description: z.string().optional(),
    /**
     * The table version: 1 is the table named after the dataset; a change no rule allows in place
     * (a narrowing, a changed scale or meaning) declares the next version, which lands in a new
     * table (`<name>_v<N>`) while the old one stays queryable.
     */
    version: z.number().int().min(1, { error: 'version must be a whole number ≥ 1' }).default(1),
    dialect: dialectSchema.default({ delimiter: ',', quote: '"' }),
    /** A header cell naming no declared column: `reject` the file (default) or `ignore` the column. */
    extraColumns: z
      .enum(EXTRA_COLUMN_POLICIES, {
        error: (issue) =>
          `extraColumns must be one of ${EXTRA_COLUMN_POLICIES.join(', ')}, not ${JSON.stringify(issue.input)}`,
      })
      .default('reject'),
    /** Columns that identify a row across files: `<name>_latest` keeps the newest row per key. */
    key: z.array(identifier).min(1, { error: 'key must name at least one column' }).optional(),
    columns: z
      .array(columnSchema)
      .min(1, { error: 'a dataset needs at least one column' })
      .max(MAX_COLUMNS, { error: `a dataset has at most ${MAX_COLUMNS} columns` }),
  })
  .superRefine((ds, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    // A CSV header cell may name a column by its `header`, its `name` or an alias: every such text
    // must point at one column only (retired ones included), or a file could match two ways.
    const owner = new Map<string, number>();
    ds.columns.forEach((col, index) => {
      const texts: [string, string][] = [
        ['name', col.name],
        ['header', col.header ?? col.name],
        ...(col.aliases ?? []).map((a): [string, string] => ['aliases', a]),
      ];
      const own = new Set<string>();
      for (const [field, text] of texts) {
        // Up to letter case: Spark's CSV reader renames header cells that differ only in case, so
        // a file could never carry both columns (lib/datasets/header-match.ts).
        const other = owner.get(text.toLowerCase());
        if (other !== undefined && other !== index) {
          issue(
            ['columns', index, field],
            `duplicate column ${field === 'aliases' ? 'alias' : field} ${JSON.stringify(text)} (also columns[${other}])`,
          );
        } else if (field === 'aliases' && own.has(text)) {
          issue(
            ['columns', index, 'aliases'],
            `alias ${JSON.stringify(text)} is already a header text of this column`,
          );
        } else {
          owner.set(text.toLowerCase(), index);
        }
        own.add(text);
      }
    });
    if (ds.columns.length > 0 && ds.columns.every((col) => col.retired))
      issue(['columns'], 'every column is retired: a file would carry none');
    // A previous name is a name the column no longer has, and no other column has now.
    const names = new Map(ds.columns.map((col, i) => [col.name, i]));
    const previous = new Map<string, number>();
    ds.columns.forEach((col, index) => {
      if (col.previousName === undefined) return;
      const now = names.get(col.previousName);
      if (now !== undefined && now !== index)
        issue(
          ['columns', index, 'previousName'],
          `previousName ${JSON.stringify(col.previousName)} is the name of columns[${now}]`,
        );
      const twice = previous.get(col.previousName);
      if (twice !== undefined)
        issue(
          ['columns', index, 'previousName'],
          `previousName ${JSON.stringify(col.previousName)} is also columns[${twice}]'s`,
        );
      previous.set(col.previousName, index);
    });
    const keySeen = new Set<string>();
    (ds.key ?? []).forEach((name, k) => {
      const at = names.get(name);
      const col = at === undefined ? undefined : ds.columns[at];
      if (keySeen.has(name)) issue(['key', k], `key names column "${name}" twice`);
      keySeen.add(name);
      if (!col) issue(['key', k], `key names "${name}", which is not a declared column`);
      else if (col.retired) issue(['key', k], `key column "${name}" is retired`);
      else if (col.nullable || col.optional)
        issue(
          ['key', k],
          `key column "${name}" must be declared nullable: false (a row without a key has no newest version)`,
        );
    });
  });

/** A dataset declaration as parsed from `datasets/<name>.json`, defaults applied. */
export type Dataset = z.output<typeof datasetSchema>;

/** Human name of a column's type, e.g. `decimal(12,2)`. */
export function typeLabel(col: ColumnShape): string {
  return col.type === 'decimal' ? `decimal(${col.precision},${col.scale})` : col.type;
}

/** An error in a dataset declaration, naming the file and each bad field. */
export class DatasetDeclarationError extends Error {
  override readonly name = 'DatasetDeclarationError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: invalid dataset declaration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Checks one parsed JSON value as a dataset declaration; `file` is named in every error. */
export function parseDataset(json: unknown, file: string): Dataset {
  const result = datasetSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) =>
        typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
      '',
    );
    return `${path || '(root)'}: ${issue.message}`;
  });
  throw new DatasetDeclarationError(file, problems);
}
