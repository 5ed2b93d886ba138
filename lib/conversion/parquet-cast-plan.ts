/**
 * The cast plan of the CSV→Parquet job, for DuckDB: the TypeScript twin of `cast_plan` in
 * glue-scripts/csv_to_parquet.py. Every conversion is guarded by the Glue script's own regular
 * expressions (kept verbatim here and compared with the script's by the conformance test), so a
 * value DuckDB's lenient casts would coerce (` 7`, `yes`, `1e3` as an integer, `12.345` into
 * DECIMAL(12,2)) can only become a counted failure, never a different value.
 */

import type { LineageSource } from '../datasets/derive.ts';
import { PARTITION_COLUMN } from '../datasets/model.ts';
import {
  type IcebergField,
  type IcebergSchema,
  INGEST_DATE_FIELD,
  INGEST_DATE_FIELD_ID,
  SPARK_FIELD_ID_KEY,
} from '../iceberg/schema.ts';

/** A column the job converts: one field of the `--schema` Spark StructType JSON. */
export interface CastStep {
  /** Output (Parquet) column name. */
  readonly column: string;
  /** The CSV header text (`metadata.header`, default the name). */
  readonly header: string;
  /** Spark SQL type, e.g. `DECIMAL(12,2)`, as the Glue script names it. */
  readonly sparkType: string;
  /** The DuckDB type written to Parquet, e.g. `TIMESTAMPTZ`. */
  readonly duckdbType: string;
  /** As declared, and true for an optional, retired or lineage field (null by the model). */
  readonly nullable: boolean;
  /** The type as the schema spells it (`integer`, `decimal(12,2)`), for messages. */
  readonly declaredType: string;
  /** The Parquet (= Iceberg) field id: `metadata["parquet.field.id"]` of the schema field. */
  readonly fieldId: number;
  /** Other header texts of the column (`metadata.aliases`). */
  readonly aliases: readonly string[];
  /** The header may be absent: a typed NULL then (`metadata.optional`). */
  readonly optional: boolean;
  /** Never read from the file: a typed NULL in every row (`metadata.retired`). */
  readonly retired: boolean;
  /** A lineage field: the argument that fills it (`metadata.lineage`); null for a declared column. */
  readonly lineage: LineageSource | null;
}

/**
 * A lineage field's `metadata.lineage` → the Spark type it must have. Its value is the argument of
 * the same name (`--source-key`, `--source-version`, `--ingested-at`), cast by the plan.
 */
export const LINEAGE_TYPES: Readonly<Record<LineageSource, string>> = {
  source_key: 'STRING',
  source_version: 'STRING',
  ingested_at: 'TIMESTAMP_LTZ',
};

function isLineageSource(value: unknown): value is LineageSource {
  return typeof value === 'string' && Object.hasOwn(LINEAGE_TYPES, value);
}

/** The column every data file gets, with the run's `--ingest-date` in every row (field id 1). */
export const INGEST_DATE_COLUMN = PARTITION_COLUMN;

/** A schema the job cannot work with; the message names the field. */
export class CastPlanError extends Error {
  override readonly name = 'CastPlanError';
}

// The Glue script's guards, verbatim (Java regex syntax, as Spark's RLIKE reads them). `\z` is the
// true end of input; `(?!0000)` refuses year 0. See guardSql for how DuckDB (RE2) runs them.
/** Guard of `int` and `bigint`: optionally signed digits. */
export const GUARD_INT = String.raw`^[+-]?[0-9]+\z`;
/** Guard of `double`: plain or scientific notation (no NaN, Infinity, hex or spaces). */
export const GUARD_DOUBLE = String.raw`^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?\z`;
/** Guard of `date`: `YYYY-MM-DD`, year 0001 or later. */
export const GUARD_DATE = String.raw`^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}\z`;
/** Guard of `timestamp`: ISO 8601 with `T` or space, 1–6 fraction digits, `Z` or `±HH:MM`. */
export const GUARD_TIMESTAMP = String.raw`^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?\z`;

/** Guard of `decimal(p,s)`: plain notation with at most `scale` fraction digits (never rounded). */
export function guardDecimal(scale: number): string {
  if (scale === 0) return String.raw`^[+-]?[0-9]+[.]?\z`;
  return String.raw`^[+-]?([0-9]+([.][0-9]{0,${scale}})?|[.][0-9]{1,${scale}})\z`;
}

/**
 * What Spark's cast refuses after the guard and DuckDB's would accept: DuckDB reads `24:00:00` as
 * the next midnight and any `±HH:MM` offset (`+05:60`, `+18:30`), where Spark's LocalTime and
 * ZoneOffset refuse hour 24, minute or second 60 and offsets beyond ±18:00 (a NULL, so a counted
 * failure). RE2 syntax, matched against the whole value.
 */
export const TWIN_TIMESTAMP_RANGE =
  '.{10}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?(Z|[+-]((0[0-9]|1[0-7]):[0-5][0-9]|18:00))?';

const SIMPLE_TYPES: Readonly<Record<string, string>> = {
  string: 'STRING',
  integer: 'INT',
  int: 'INT',
  long: 'BIGINT',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP_LTZ',
};

const DUCKDB_TYPES: Readonly<Record<string, string>> = {
  STRING: 'VARCHAR',
  INT: 'INTEGER',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  // A UTC instant: Parquet INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true), as Spark writes TIMESTAMP_LTZ.
  TIMESTAMP_LTZ: 'TIMESTAMPTZ',
};

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;
const KNOWN = 'expected one of string, integer, long, double, decimal(p,s), boolean, date, timestamp';

/** The Spark SQL type of a schema field type (`long` → `BIGINT`), as `spark_type_of` reads it. */
export function sparkTypeOf(typeName: unknown): string {
  if (typeof typeName !== 'string')
    throw new CastPlanError(`unsupported column type ${String(typeName)}: ${KNOWN}`);
  const t = typeName.trim().toLowerCase();
  const simple = SIMPLE_TYPES[t];
  if (simple) return simple;
  const m = DECIMAL.exec(t);
  if (m) {
    const p = Number(m[1]);
    const s = Number(m[2]);
    if (!(p >= 1 && p <= 38 && s >= 0 && s <= p))
      throw new CastPlanError(`invalid '${typeName}': need 1 <= precision <= 38 and 0 <= scale <= precision`);
    return `DECIMAL(${p},${s})`;
  }
  throw new CastPlanError(`unsupported column type '${typeName}': ${KNOWN}`);
}

function duckdbTypeOf(sparkType: string): string {
  return sparkType.startsWith('DECIMAL(') ? sparkType : DUCKDB_TYPES[sparkType]!;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A metadata value in a message: compact JSON, as the script's `compact_json` writes it. */
function pyJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function flag(name: string, metadata: Record<string, unknown>, key: 'optional' | 'retired'): boolean {
  const value = metadata[key] ?? false;
  if (typeof value !== 'boolean')
    throw new CastPlanError(`column '${name}': metadata.${key} must be true or false, got ${pyJson(value)}`);
  return value;
}

function aliasesOf(name: string, metadata: Record<string, unknown>): string[] {
  const aliases = metadata.aliases ?? [];
  if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string' && a !== ''))
    throw new CastPlanError(`column '${name}': metadata.aliases must be a list of non-empty strings`);
  return aliases as string[];
}

/** One step per schema field, in declaration order (the Parquet column order); checked as the script checks it. */
export function castPlan(schemaJson: string): CastStep[] {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaJson);
  } catch {
    throw new CastPlanError('--schema is not JSON');
  }
  if (!isRecord(schema) || schema.type !== 'struct' || !Array.isArray(schema.fields))
    throw new CastPlanError('--schema must be a Spark StructType JSON: {"type":"struct","fields":[...]}');
  if (schema.fields.length === 0) throw new CastPlanError('--schema has no fields');
  const names = new Set<string>();
  const headers = new Set<string>();
  const ids = new Set<number>();
  const lineages = new Set<LineageSource>();
  return schema.fields.map((field: unknown, i: number): CastStep => {
    if (!isRecord(field) || typeof field.name !== 'string' || field.name === '')
      throw new CastPlanError(`--schema field ${i} has no name`);
    const name = field.name;
    const metadata = isRecord(field.metadata) ? field.metadata : {};
    const header = 'header' in metadata ? metadata.header : name;
    if (typeof header !== 'string' || header === '')
      throw new CastPlanError(`column '${name}': metadata.header must be a non-empty string`);
    if (names.has(name)) throw new CastPlanError(`column '${name}' is declared twice`);
    names.add(name);
    const lineage = metadata.lineage ?? null;
    if (lineage !== null && !isLineageSource(lineage))
      throw new CastPlanError(
        `column '${name}': metadata.lineage must be one of ${Object.keys(LINEAGE_TYPES).join(', ')}, got ${pyJson(lineage)}`,
      );
    if (lineage !== null && lineages.has(lineage))
      throw new CastPlanError(`lineage ${lineage} is declared twice`);
    const aliases = aliasesOf(name, metadata);
    const optional = flag(name, metadata, 'optional');
    const retired = flag(name, metadata, 'retired');
    // A lineage field is not read from the file: its header texts name nothing.
    for (const text of lineage !== null ? [] : [header, ...aliases]) {
      if (headers.has(text)) throw new CastPlanError(`header '${text}' is declared twice`);
      headers.add(text);
    }
    if (name === INGEST_DATE_COLUMN)
      throw new CastPlanError(`column '${name}' is the partition column: the job adds it`);
    const fieldId = metadata[SPARK_FIELD_ID_KEY];
    if (typeof fieldId !== 'number' || !Number.isInteger(fieldId) || fieldId <= INGEST_DATE_FIELD_ID)
      throw new CastPlanError(
        `column '${name}': metadata["${SPARK_FIELD_ID_KEY}"] must be an integer field id above ${INGEST_DATE_FIELD_ID} (${INGEST_DATE_COLUMN}'s), got ${JSON.stringify(fieldId) ?? 'none'}`,
      );
    if (ids.has(fieldId)) throw new CastPlanError(`field id ${fieldId} is declared twice`);
    ids.add(fieldId);
    let sparkType: string;
    try {
      sparkType = sparkTypeOf(field.type);
    } catch (error) {
      throw new CastPlanError(`column '${name}': ${(error as Error).message}`);
    }
    if (lineage !== null) {
      lineages.add(lineage);
      if (sparkType !== LINEAGE_TYPES[lineage])
        throw new CastPlanError(
          `column '${name}': the lineage field ${lineage} must be of type ${LINEAGE_TYPES[lineage]}, got ${pyJson(field.type)}`,
        );
    }
    return {
      column: name,
      header,
      sparkType,
      duckdbType: duckdbTypeOf(sparkType),
      // Python's bool(field.get("nullable", True)).
      nullable:
        (field.nullable === undefined ? true : Boolean(field.nullable)) ||
        optional ||
        retired ||
        lineage !== null,
      declaredType: String(field.type),
      fieldId,
      aliases,
      optional,
      retired,
      lineage,
    };
  });
}

/**
 * The plan's step indexes in the order of the written columns: the declared columns, then
 * (`ingest_date` between, marked null) the lineage fields, as the table schema orders them (the
 * script's `written_order`).
 */
export function writtenOrder(plan: readonly CastStep[]): (number | null)[] {
  const indexes = plan.map((_, k) => k);
  return [
    ...indexes.filter((k) => plan[k]!.lineage === null),
    null,
    ...indexes.filter((k) => plan[k]!.lineage !== null),
  ];
}

const ICEBERG_TYPES: Readonly<Record<string, string>> = {
  STRING: 'string',
  INT: 'int',
  BIGINT: 'long',
  DOUBLE: 'double',
  BOOLEAN: 'boolean',
  DATE: 'date',
  TIMESTAMP_LTZ: 'timestamptz',
};

/**
 * The Iceberg schema of the data files the plan writes: its columns with their field ids, then
 * `ingest_date`, then the lineage fields (lib/iceberg/schema.ts `icebergSchema` of the same
 * dataset, the fields' docs aside). Written into each file's footer under `iceberg.schema`, where
 * readers such as icebird map columns by it.
 */
export function planIcebergSchema(plan: readonly CastStep[]): IcebergSchema {
  const fields = writtenOrder(plan).map((k): IcebergField => {
    if (k === null) return INGEST_DATE_FIELD;
    const step = plan[k]!;
    const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(step.sparkType);
    return {
      id: step.fieldId,
      name: step.column,
      required: !step.nullable,
      type: decimal ? `decimal(${decimal[1]}, ${decimal[2]})` : ICEBERG_TYPES[step.sparkType]!,
    };
  });
  return { type: 'struct', 'schema-id': 0, fields };
}

/** A DuckDB string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A DuckDB quoted identifier. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const LEADING_NEGATIVE_LOOKAHEAD = /^\(\?!([0-9A-Za-z]+)\)/;

/**
 * A guard as a DuckDB condition over `col`. Java's `find()` of `^…\z` is a whole-value match,
 * which is RE2's `regexp_full_match`; RE2 has no look-ahead, so a leading `(?!LITERAL)` becomes
 * `NOT starts_with(col, 'LITERAL')`. Anything else RE2 would read differently is refused here
 * rather than run with other semantics.
 */
export function guardSql(guard: string, col: string): string {
  if (!guard.startsWith('^') || !guard.endsWith(String.raw`\z`))
    throw new Error(`guard ${guard} is not anchored with ^ and \\z`);
  let body = guard.slice(1, -2);
  const conditions: string[] = [];
  const lookahead = LEADING_NEGATIVE_LOOKAHEAD.exec(body);
  if (lookahead) {
    conditions.push(`NOT starts_with(${col}, ${sqlString(lookahead[1]!)})`);
    body = body.slice(lookahead[0].length);
  }
  if (body.includes('(?') || body.includes('\\'))
    throw new Error(`guard ${guard} needs a construct RE2 reads differently`);
  return [`regexp_full_match(${col}, ${sqlString(body)})`, ...conditions].join(' AND ');
}

/** Options of {@link castSql}. */
export interface CastSqlOptions {
  /**
   * Store a CRLF inside a quoted string value as LF: what Spark's CSV reader does in a file whose
   * lines end in CRLF (univocity's line-separator detection normalises line endings in quotes).
   */
  readonly normalizeCrlf?: boolean;
}

/**
 * The DuckDB expression converting the raw text `col` (VARCHAR, NULL for an unquoted empty field)
 * to the step's type, NULL when the text breaks the value rules; the same structure as the Glue
 * script's `cast_template`, guard first, then the cast.
 */
export function castSql(step: CastStep, col: string, options: CastSqlOptions = {}): string {
  const t = step.sparkType;
  const tryCast = (type: string, value = col) => `TRY_CAST(${value} AS ${type})`;
  if (t === 'STRING') return options.normalizeCrlf ? `replace(${col}, chr(13) || chr(10), chr(10))` : col;
  if (t === 'INT' || t === 'BIGINT')
    return `CASE WHEN ${guardSql(GUARD_INT, col)} THEN ${tryCast(step.duckdbType)} END`;
  if (t === 'DOUBLE')
    // '1e999' parses to Infinity, which the rules call out of range.
    return `CASE WHEN ${guardSql(GUARD_DOUBLE, col)} AND abs(${tryCast('DOUBLE')}) < CAST('Infinity' AS DOUBLE) THEN ${tryCast('DOUBLE')} END`;
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(t);
  if (decimal)
    // The guard bounds the scale; TRY_CAST is NULL when the precision overflows.
    return `CASE WHEN ${guardSql(guardDecimal(Number(decimal[2])), col)} THEN ${tryCast(t)} END`;
  if (t === 'BOOLEAN') return `CASE lower(${col}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END`;
  // DuckDB's date cast is strict ISO (2023-02-30 → NULL), as Spark's to_date(x, 'yyyy-MM-dd') is.
  if (t === 'DATE') return `CASE WHEN ${guardSql(GUARD_DATE, col)} THEN ${tryCast('DATE')} END`;
  if (t === 'TIMESTAMP_LTZ')
    // No offset = the session zone, UTC (the caller sets TimeZone).
    return `CASE WHEN ${guardSql(GUARD_TIMESTAMP, col)} AND regexp_full_match(${col}, ${sqlString(TWIN_TIMESTAMP_RANGE)}) THEN ${tryCast('TIMESTAMPTZ', `replace(${col}, ' ', 'T')`)} END`;
  throw new Error(`no cast for Spark type ${t}`);
}

/**
 * Why a run must fail, as one message (the script's `check_counts`, word for word), or undefined
 * when the data may be published.
 */
export function checkCounts(
  plan: readonly CastStep[],
  expectedRows: number,
  rowCount: number,
  castFailures: ReadonlyMap<string, number>,
  nullFailures: ReadonlyMap<string, number> = new Map(),
): string | undefined {
  const problems: string[] = [];
  const types = new Map(plan.map((s) => [s.column, s.declaredType]));
  const plural = (n: number, word: string) => (n === 1 ? word : `${word}s`);
  if (castFailures.size > 0) {
    const total = [...castFailures.values()].reduce((a, b) => a + b, 0);
    const detail = [...castFailures].map(([c, n]) => `${c} (${types.get(c) ?? '?'}): ${n}`).join(', ');
    problems.push(
      `${total} non-empty ${plural(total, 'value')} did not convert to the declared type in ${plural(castFailures.size, 'column')} ${detail}`,
    );
  }
  if (nullFailures.size > 0) {
    const total = [...nullFailures.values()].reduce((a, b) => a + b, 0);
    const detail = [...nullFailures].map(([c, n]) => `${c}: ${n}`).join(', ');
    problems.push(
      `${total} ${plural(total, 'null')} in non-nullable ${plural(nullFailures.size, 'column')} ${detail}`,
    );
  }
  if (rowCount !== expectedRows)
    problems.push(`read ${rowCount} rows but the validator counted ${expectedRows} (--expected-rows)`);
  return problems.length === 0 ? undefined : problems.join('; ');
}
