/**
 * Everything other engines need, derived from the one dataset declaration: Glue/Athena column
 * types, the Spark schema the Glue job receives, and DuckDB column types for the local engine.
 */
import { fieldIds, SPARK_FIELD_ID_KEY } from '../iceberg/schema.ts';
import type { Column, Dataset } from './model.ts';
import { PARTITION_COLUMN } from './model.ts';

/** The Glue/Athena (Hive DDL) type of a column, e.g. `decimal(12,2)`. */
export function glueType(col: Column): string {
  return col.type === 'decimal' ? `decimal(${col.precision},${col.scale})` : col.type;
}

/** Glue table columns in declaration order, comments taken from the column descriptions. */
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

/**
 * A Spark field as `StructType.fromJson` reads it; `metadata.header` is the CSV header text and
 * `metadata["parquet.field.id"]` the column's Iceberg field id, which Spark ≥ 3.3 writes as the
 * Parquet field id (`spark.sql.parquet.fieldId.write.enabled`, on by default) and the DuckDB
 * engine passes to `COPY … FIELD_IDS`.
 */
export interface SparkField {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly metadata: { readonly header: string; readonly [SPARK_FIELD_ID_KEY]: number };
}

/** The Spark schema (StructType JSON) of a dataset, passed to the Glue job as `--schema`. */
export function sparkSchema(ds: Dataset): { type: 'struct'; fields: SparkField[] } {
  const ids = fieldIds(ds);
  return {
    type: 'struct',
    fields: ds.columns.map((col) => ({
      name: col.name,
      type: col.type === 'decimal' ? `decimal(${col.precision},${col.scale})` : SPARK_TYPES[col.type],
      nullable: col.nullable,
      metadata: { header: col.header ?? col.name, [SPARK_FIELD_ID_KEY]: ids.get(col.name)! },
    })),
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
