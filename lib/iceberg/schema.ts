/**
 * A dataset declaration as an Iceberg v2 schema: the one mapping every engine's field ids come
 * from. `ingest_date` (the partition source, a real column in every data file, as the spec's
 * "Writing data files" requires) has field id 1; the declared columns follow with 2, 3, … in
 * declaration order. Ids are never reused: a later schema (schema evolution) keeps each field's
 * id and gives a new column `last-column-id + 1`.
 */
import type { Column, Dataset } from '../datasets/model.ts';
import { LINEAGE_COLUMNS, PARTITION_COLUMN } from '../datasets/model-core.ts';

/** Field id of `ingest_date` in every table. */
export const INGEST_DATE_FIELD_ID = 1;
/** Partition field ids start at 1000 (spec, Partitioning; Appendix C). */
export const PARTITION_FIELD_ID = 1000;
/** The Parquet footer key Iceberg readers (icebird, Iceberg Java) take the schema from. */
export const ICEBERG_SCHEMA_KEY = 'iceberg.schema';
/** The Spark StructField metadata key Spark ≥ 3.3 writes as the Parquet field id. */
export const SPARK_FIELD_ID_KEY = 'parquet.field.id';

/** An Iceberg primitive type as the spec spells it: `long`, `decimal(12, 2)`, `timestamptz`. */
export type IcebergType = string;

/** One field of an Iceberg struct (flat schemas only). */
export interface IcebergField {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: IcebergType;
  readonly doc?: string;
}

/** An Iceberg schema as the table metadata holds it. */
export interface IcebergSchema {
  readonly type: 'struct';
  readonly 'schema-id': number;
  readonly fields: readonly IcebergField[];
}

/** The Iceberg type of a declared column. `timestamp` is stored as a UTC instant: `timestamptz`. */
export function icebergType(col: Pick<Column, 'type' | 'precision' | 'scale'>): IcebergType {
  switch (col.type) {
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'bigint':
      return 'long';
    case 'double':
      return 'double';
    case 'decimal':
      return `decimal(${col.precision}, ${col.scale})`;
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamptz';
  }
}

/** The `ingest_date` field: required, a date. */
export const INGEST_DATE_FIELD: IcebergField = {
  id: INGEST_DATE_FIELD_ID,
  name: PARTITION_COLUMN,
  required: true,
  type: 'date',
  doc: 'UTC date the file landed (the partition)',
};

/**
 * The lineage fields every table carries, with fixed ids far above any declared column's (at most
 * 10,000 columns, ids 2–10,001): `_source_key` (the landed object's key), `_source_version` (its
 * version as the ledger names it) and `_ingested_at` (when S3 received it, a UTC instant). Optional:
 * rows written before issue 16 have none.
 */
export const LINEAGE_FIELDS: readonly IcebergField[] = [
  {
    id: 100_001,
    name: LINEAGE_COLUMNS.sourceKey,
    required: false,
    type: 'string',
    doc: 'key of the landed object the row came from',
  },
  {
    id: 100_002,
    name: LINEAGE_COLUMNS.sourceVersion,
    required: false,
    type: 'string',
    doc: 'version of the landed object (S3 version id, or etag:<ETag>)',
  },
  {
    id: 100_003,
    name: LINEAGE_COLUMNS.ingestedAt,
    required: false,
    type: 'timestamptz',
    doc: 'when S3 received the landed object (UTC)',
  },
];

/**
 * Field id of each declared column, by column name (2, 3, … in declaration order, retired columns
 * included). The compatibility check (lib/datasets/compat.ts) keeps declarations append-only, so a
 * column keeps its id for the life of its table version; a rename keeps its position, so its id.
 */
export function fieldIds(ds: Dataset): Map<string, number> {
  return new Map(ds.columns.map((col, i) => [col.name, INGEST_DATE_FIELD_ID + 1 + i]));
}

/**
 * The table schema of a dataset: its columns in declaration order (retired ones included), then
 * `ingest_date` (as Athena showed the Hive partition column last), then the lineage fields.
 */
export function icebergSchema(ds: Dataset, schemaId = 0): IcebergSchema {
  const ids = fieldIds(ds);
  return {
    type: 'struct',
    'schema-id': schemaId,
    fields: [
      ...ds.columns.map((col) => ({
        id: ids.get(col.name)!,
        name: col.name,
        // A retired column is null in every new row: optional from then on.
        required: !col.nullable && !col.retired,
        type: icebergType(col),
        ...(col.description ? { doc: col.description } : {}),
      })),
      INGEST_DATE_FIELD,
      ...LINEAGE_FIELDS,
    ],
  };
}

/** The highest field id of a schema (`last-column-id` of a new table). */
export function lastColumnId(schema: IcebergSchema): number {
  return Math.max(...schema.fields.map((f) => f.id));
}

/**
 * The renames a declaration names: field id → the column's `previousName` (evolve.ts lets a field
 * change its name only to the column that says it had that name).
 */
export function declaredRenames(ds: Dataset): Map<number, string> {
  const ids = fieldIds(ds);
  return new Map(
    ds.columns.flatMap((col) =>
      col.previousName === undefined ? [] : [[ids.get(col.name)!, col.previousName]],
    ),
  );
}
