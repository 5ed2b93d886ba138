/**
 * Everything other engines need, derived from the one dataset declaration: Glue/Athena column
 * types, the Spark schema the Glue job receives, and DuckDB column types for the local engine.
 */
import { fieldIds, LINEAGE_FIELDS, SPARK_FIELD_ID_KEY } from '../iceberg/schema.ts';
import type { Column, Dataset } from './model.ts';
import { LINEAGE_COLUMNS, PARTITION_COLUMN } from './model-core.ts';

/** The Glue/Athena (Hive DDL) type of a column, e.g. `decimal(12,2)`. */
export function glueType(col: Column): string {
  return col.type === 'decimal' ? `decimal(${col.precision},${col.scale})` : col.type;
}

/**
 * Glue table columns in declaration order (retired ones included: the table keeps them), comments
 * taken from the column descriptions. The lineage columns are not declared columns: the table's
 * Glue columns come from its Iceberg schema (lib/iceberg/table.ts), which adds them.
 */
export function glueColumns(ds: Dataset): { name: string; type: string; comment?: string }[] {
  return ds.columns.map((col) => ({
    name: col.name,
    type: glueType(col),
    ...(col.description ? { comment: col.description } : {}),
  }));
}

/** The Glue table's partition keys: the ingest date every zone is laid out by. */
export const PARTITION_KEYS = [{ name: PARTITION_COLUMN, type: 'date' }] as const;

const SPARK_TYPES: Record<Column['type'], string> = {
  string: 'string',
  int: 'integer',
  bigint: 'long',
  double: 'double',
  decimal: 'decimal',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
};

/** What fills a lineage field: the job argument of the same name (`--source-key`, …). */
export type LineageSource = 'source_key' | 'source_version' | 'ingested_at';

/** The lineage source of each lineage column (`metadata.lineage` of its Spark field). */
export const LINEAGE_SOURCES: Readonly<Record<string, LineageSource>> = {
  [LINEAGE_COLUMNS.sourceKey]: 'source_key',
  [LINEAGE_COLUMNS.sourceVersion]: 'source_version',
  [LINEAGE_COLUMNS.ingestedAt]: 'ingested_at',
};

/** The metadata of a declared column's Spark field: how the engines find it in a file. */
export interface ColumnFieldMetadata {
  /** The CSV header text (the name when the declaration gives none). */
  readonly header: string;
  /** Other header texts the column may carry; absent when none. */
  readonly aliases?: readonly string[];
  /** The header may be absent from a file (a typed NULL then); absent when false. */
  readonly optional?: true;
  /** Never read from a file (a typed NULL in every row); absent when false. */
  readonly retired?: true;
  readonly [SPARK_FIELD_ID_KEY]: number;
}

/** The metadata of a lineage field: the job argument that fills it. */
export interface LineageFieldMetadata {
  readonly lineage: LineageSource;
  readonly [SPARK_FIELD_ID_KEY]: number;
}

/**
 * A Spark field as `StructType.fromJson` reads it; `metadata["parquet.field.id"]` is the column's
 * Iceberg field id, which Spark ≥ 3.3 writes as the Parquet field id
 * (`spark.sql.parquet.fieldId.write.enabled`, on by default) and the DuckDB engine passes to
 * `COPY … FIELD_IDS`. A declared column's metadata says how a file carries it; a lineage field's
 * says which job argument fills it.
 */
export interface SparkField {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly metadata: ColumnFieldMetadata | LineageFieldMetadata;
}

/**
 * The Spark schema (StructType JSON) of a dataset, passed to the Glue job as `--schema`: every
 * declared column in declaration order, retired ones included, then the lineage fields (the order
 * and ids of lib/iceberg/schema.ts `icebergSchema`, `ingest_date` aside, which the engines add).
 * A retired column is nullable, as its table field is optional: its new rows are null.
 */
export function sparkSchema(ds: Dataset): { type: 'struct'; fields: SparkField[] } {
  const ids = fieldIds(ds);
  return {
    type: 'struct',
    fields: [
      ...ds.columns.map((col) => ({
        name: col.name,
        type: col.type === 'decimal' ? `decimal(${col.precision},${col.scale})` : SPARK_TYPES[col.type],
        nullable: col.nullable || col.retired,
        metadata: {
          header: headerOf(col),
          ...(col.aliases?.length ? { aliases: col.aliases } : {}),
          ...(col.optional ? { optional: true as const } : {}),
          ...(col.retired ? { retired: true as const } : {}),
          [SPARK_FIELD_ID_KEY]: ids.get(col.name)!,
        },
      })),
      ...LINEAGE_FIELDS.map((f) => ({
        name: f.name,
        type: f.type === 'timestamptz' ? 'timestamp' : 'string',
        nullable: !f.required,
        metadata: { lineage: LINEAGE_SOURCES[f.name]!, [SPARK_FIELD_ID_KEY]: f.id },
      })),
    ],
  };
}

const DUCKDB_TYPES: Record<Column['type'], string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  decimal: 'DECIMAL',
  boolean: 'BOOLEAN',
  date: 'DATE',
  // Stored as a UTC instant: Parquet INT64 micros with isAdjustedToUTC, as Spark writes it.
  timestamp: 'TIMESTAMPTZ',
};

/** The DuckDB type of a column, e.g. `DECIMAL(12,2)`. */
export function duckdbType(col: Column): string {
  return col.type === 'decimal' ? `DECIMAL(${col.precision},${col.scale})` : DUCKDB_TYPES[col.type];
}

/** The text a CSV header cell carries for a column. */
export function headerOf(col: Column): string {
  return col.header ?? col.name;
}
