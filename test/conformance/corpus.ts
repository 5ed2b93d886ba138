/**
 * The conformance corpus of the CSV→Parquet job (test/conformance/cases/*.json, format in
 * README.md beside it): loading, and the canonical JSON form values are compared in. The Glue
 * script's Python tests read the same files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FileMetaData, SchemaElement } from 'hyparquet';
import type { Column } from '../../lib/datasets/model.ts';

/** Folder of the case files. */
export const CASES_DIR = fileURLToPath(new URL('./cases/', import.meta.url));

/** A value in canonical form: decimals and bigints as strings, dates `YYYY-MM-DD`, timestamps ISO UTC with 6 digits. */
export type CanonicalValue = string | number | boolean | null;

/** A value the job must refuse, and which step refuses it. */
export interface BadValue {
  readonly column: string;
  readonly text: string;
  /** `guard`: the guard regex does not match; `cast`: it matches, the cast gives NULL. */
  readonly rejectedBy: 'guard' | 'cast';
}

/** One case as stored. */
export interface CorpusCase {
  /** The file name without `.json`. */
  readonly name: string;
  readonly description: string;
  /** The source object's file name, e.g. `_daily.csv`. */
  readonly source: string;
  /** Compress the CSV before uploading. */
  readonly gzip?: boolean;
  /** `--delimiter` as passed (default: the dataset's dialect delimiter). */
  readonly delimiterArgument?: string;
  /** A dataset declaration as in datasets/*.json. */
  readonly dataset: unknown;
  readonly csv?: string;
  readonly csvBase64?: string;
  /** `--expected-rows` (default: the number of expected rows). */
  readonly expectedRowsArgument?: number;
  /** The published file name (positive cases). */
  readonly output?: string;
  readonly expectedRows?: Record<string, CanonicalValue>[];
  readonly failure?: {
    readonly validatorRejects: boolean;
    readonly messageIncludes: string[];
    readonly badValues: BadValue[];
  };
}

/** Every case, in file-name order. */
export function loadCorpus(dir: string = CASES_DIR): CorpusCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.slice(0, -'.json'.length), ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

/** The CSV text's bytes (not yet compressed). */
export function csvBytes(c: CorpusCase): Buffer {
  if (c.csvBase64 !== undefined) return Buffer.from(c.csvBase64, 'base64');
  if (c.csv !== undefined) return Buffer.from(c.csv, 'utf8');
  throw new Error(`case ${c.name} has neither csv nor csvBase64`);
}

/** The object bytes as uploaded: the CSV, gzipped when the case says so. */
export function sourceBytes(c: CorpusCase): Buffer {
  return c.gzip ? gzipSync(csvBytes(c)) : csvBytes(c);
}

/** `unscaled × 10^-scale` as plain text: `-0.50`, `12`, `0.00000001`. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A big-endian two's complement integer (a FIXED_LEN_BYTE_ARRAY decimal). */
export function signedBigEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  const bits = BigInt(bytes.length * 8);
  return bytes.length > 0 && bytes[0]! >= 0x80 ? value - (1n << bits) : value;
}

/** Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function formatMicros(micros: bigint): string {
  let ms = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    ms -= 1n;
    rest += 1000n;
  }
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

/** Days since the epoch as `YYYY-MM-DD`. */
export function formatDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A value as hyparquet returned it (read with {@link rawDecimals} metadata and the parsers of
 * {@link RAW_PARSERS}) in canonical form.
 */
export function canonical(value: unknown, col: Column): CanonicalValue {
  if (value === null || value === undefined) return null;
  switch (col.type) {
    case 'bigint':
      return (value as bigint).toString();
    case 'decimal': {
      const unscaled =
        value instanceof Uint8Array ? signedBigEndian(value) : BigInt(value as number | bigint);
      return formatDecimal(unscaled, col.scale!);
    }
    case 'date':
      return formatDays(value as number);
    case 'timestamp':
      return formatMicros(value as bigint);
    default:
      return value as CanonicalValue;
  }
}

/** hyparquet parsers that hand over the stored integers of dates and timestamps. */
export const RAW_PARSERS = {
  timestampFromMicroseconds: (micros: bigint) => micros,
  dateFromDays: (days: number) => days,
};

/**
 * The metadata with the DECIMAL annotations taken off, so that hyparquet returns the stored
 * unscaled integers (it converts decimals to JS numbers, losing digits beyond 2^53).
 */
export function rawDecimals(metadata: FileMetaData): FileMetaData {
  return {
    ...metadata,
    schema: metadata.schema.map((e) =>
      e.converted_type === 'DECIMAL' ? { ...e, converted_type: undefined, logical_type: undefined } : e,
    ),
  };
}

/** The smallest FIXED_LEN_BYTE_ARRAY length that holds every unscaled value of `precision` digits. */
export function minDecimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) - 1n < 10n ** BigInt(precision) - 1n) bytes++;
  return bytes;
}

/** A Parquet column's physical and logical type as one readable string, e.g. `INT64 TIMESTAMP(MICROS,UTC)`. */
export function parquetTypeOf(e: SchemaElement): string {
  const physical = e.type ?? 'GROUP';
  const logical = e.logical_type;
  if (e.converted_type === 'DECIMAL' || logical?.type === 'DECIMAL')
    return `${physical} DECIMAL(${e.precision},${e.scale})`;
  if (logical?.type === 'TIMESTAMP')
    return `${physical} TIMESTAMP(${logical.unit},${logical.isAdjustedToUTC ? 'UTC' : 'local'})`;
  if (e.converted_type === 'TIMESTAMP_MICROS') return `${physical} TIMESTAMP(MICROS,UTC)`;
  if (e.converted_type === 'DATE' || logical?.type === 'DATE') return `${physical} DATE`;
  if (e.converted_type === 'UTF8' || logical?.type === 'STRING') return `${physical} STRING`;
  // INT_32/INT_64 (what DuckDB adds; Spark writes none) only restate the physical type.
  if (e.converted_type === 'INT_32' || e.converted_type === 'INT_64' || logical?.type === 'INTEGER') {
    const width = e.converted_type === 'INT_32' ? 32 : e.converted_type === 'INT_64' ? 64 : undefined;
    if ((width ?? (logical as { bitWidth: number }).bitWidth) !== (physical === 'INT32' ? 32 : 64))
      return `${physical} ${e.converted_type ?? 'INTEGER'}`;
  }
  return physical;
}

/** The Parquet type the contract (glue-scripts/README.md, Types) requires for a declared column. */
export function contractParquetType(col: Column): string {
  switch (col.type) {
    case 'string':
      return 'BYTE_ARRAY STRING';
    case 'int':
      return 'INT32';
    case 'bigint':
      return 'INT64';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'INT32 DATE';
    case 'timestamp':
      return 'INT64 TIMESTAMP(MICROS,UTC)';
    case 'decimal': {
      const p = col.precision!;
      const physical = p <= 9 ? 'INT32' : p <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY';
      return `${physical} DECIMAL(${p},${col.scale})`;
    }
  }
}
