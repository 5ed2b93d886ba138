/**
 * The `<dataset>_latest` view (issue 16): the newest row per declared key of the dataset's current
 * table version, as ONE SQL text that Athena (Trino) and DuckDB both run unchanged. No DuckDB-only
 * syntax (EXCLUDE, QUALIFY) and no Trino-only syntax: a window function in a subquery, quoted
 * identifiers, explicit NULLS LAST (both engines default to it, but each documents it differently).
 *
 * Which row is newest: the greatest `_ingested_at` (when S3 received the landed object), then the
 * greatest `_source_key`, then the greatest `_source_version`, rows without lineage (written before
 * lineage existed) last. Two rows of one key that tie on all three came from the same landed
 * object (a file that repeats a key), and which one the view keeps is unspecified (the engines may
 * differ). Ordering them by their other columns would make it deterministic, but the window would
 * then read every column of the table for any query of the view: on Athena, which bills the
 * columns a query reads, `SELECT order_id, amount FROM orders_latest` would cost a full-width scan
 * (BENCHMARKS.md, "The newest row per key").
 */
import { latestViewName, tableName, tableVersions } from '../iceberg/layout.ts';
import { type Column, type Dataset, LINEAGE_COLUMNS, liveColumns } from './model.ts';

/** A column of the view with its type as Trino spells it (the Presto view JSON's `columns`). */
export interface ViewColumn {
  readonly name: string;
  /** Trino type id: `bigint`, `varchar`, `decimal(12,2)`, `timestamp(6) with time zone`, … */
  readonly type: string;
  /** The Hive (Glue StorageDescriptor) type, as the Glue console shows the view's columns. */
  readonly hiveType: string;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The Trino type of a declared column (timestamps are Iceberg `timestamptz`, micros). */
function trinoType(col: Pick<Column, 'type' | 'precision' | 'scale'>): string {
  switch (col.type) {
    case 'string':
      return 'varchar';
    case 'int':
      return 'integer';
    case 'decimal':
      return `decimal(${col.precision},${col.scale})`;
    case 'timestamp':
      return 'timestamp(6) with time zone';
    default:
      return col.type;
  }
}

/** The Hive type of a declared column, as Glue lists a table's columns. */
function hiveType(col: Pick<Column, 'type' | 'precision' | 'scale'>): string {
  return col.type === 'decimal' ? `decimal(${col.precision},${col.scale})` : col.type;
}

/** The lineage columns of every curated row, in their table order, as the view returns them. */
const LINEAGE: readonly ViewColumn[] = [
  { name: LINEAGE_COLUMNS.sourceKey, type: 'varchar', hiveType: 'string' },
  { name: LINEAGE_COLUMNS.sourceVersion, type: 'varchar', hiveType: 'string' },
  { name: LINEAGE_COLUMNS.ingestedAt, type: 'timestamp(6) with time zone', hiveType: 'timestamp' },
];

/** The view's columns: the live declared columns in declaration order, then the lineage columns. */
export function latestViewColumns(ds: Dataset): ViewColumn[] {
  return [
    ...liveColumns(ds).map((col) => ({ name: col.name, type: trinoType(col), hiveType: hiveType(col) })),
    ...LINEAGE,
  ];
}

/**
 * The Glue tables and views a query may name for a dataset: every table version (`orders`,
 * `orders_v2`, …: old versions stay queryable) and `<dataset>_latest` when it declares a key.
 */
export function queryableTables(ds: Dataset): string[] {
  const versions = tableVersions(ds.name, ds.version).map((t) => t.name);
  const view = latestView(ds);
  return view ? [...versions, view.name] : versions;
}

/** The view of a dataset with a key: its name and the table it reads (the current version's). */
export function latestView(ds: Dataset): { name: string; table: string } | undefined {
  if (!ds.key?.length) return undefined;
  return { name: latestViewName(ds.name), table: tableName(ds.name, ds.version) };
}

/**
 * The SQL of `<dataset>_latest`, reading the current version's table by its bare name (Athena
 * resolves it in the view's schema, DuckDB among its views). Throws for a dataset without a key.
 */
export function latestViewSql(ds: Dataset): string {
  const view = latestView(ds);
  if (!view)
    throw new Error(`dataset "${ds.name}" declares no key: it has no ${latestViewName(ds.name)} view`);
  const columns = latestViewColumns(ds).map((c) => c.name);
  // The rank column must not take a declared column's name.
  let rank = '_latest_rank';
  while (columns.includes(rank)) rank = `_${rank}`;
  const key = ds.key!;
  const newestFirst = [
    LINEAGE_COLUMNS.ingestedAt,
    LINEAGE_COLUMNS.sourceKey,
    LINEAGE_COLUMNS.sourceVersion,
  ].map((c) => `${quote(c)} DESC NULLS LAST`);
  const list = columns.map(quote).join(', ');
  return [
    `SELECT ${list}`,
    'FROM (',
    `  SELECT ${list},`,
    `    row_number() OVER (PARTITION BY ${key.map(quote).join(', ')} ORDER BY ${newestFirst.join(', ')}) AS ${quote(rank)}`,
    `  FROM ${quote(view.table)}`,
    ') AS ranked',
    `WHERE ${quote(rank)} = 1`,
  ].join('\n');
}

/**
 * The Glue table input of the view as Athena (engine v3, Trino) stores one: `ViewOriginalText` is
 * `/* Presto View: <base64 of the ConnectorViewDefinition JSON> *\/`, `ViewExpandedText` the marker
 * `/* Presto View *\/`, parameters `presto_view=true` and `comment=Presto View`, type
 * VIRTUAL_VIEW. Source: trinodb/trino plugin/trino-iceberg TrinoGlueCatalog (VIEW_PREFIX,
 * VIEW_SUFFIX, the ConnectorViewDefinition codec), plugin/trino-hive HiveMetadata
 * (PRESTO_VIEW_COMMENT, PRESTO_VIEW_EXPANDED_TEXT_MARKER), io.trino.spi.connector
 * ConnectorViewDefinition (originalSql, catalog, schema, columns, owner, runAsInvoker: no owner
 * with runAsInvoker).
 */
export function prestoViewTableInput(
  ds: Dataset,
  database: string,
): {
  name: string;
  tableType: 'VIRTUAL_VIEW';
  viewOriginalText: string;
  viewExpandedText: string;
  parameters: Record<string, string>;
  columns: { name: string; type: string }[];
} {
  const view = latestView(ds);
  if (!view)
    throw new Error(`dataset "${ds.name}" declares no key: it has no ${latestViewName(ds.name)} view`);
  const columns = latestViewColumns(ds);
  const definition = {
    originalSql: latestViewSql(ds),
    catalog: 'awsdatacatalog',
    schema: database,
    columns: columns.map((c) => ({ name: c.name, type: c.type })),
    // The caller's rights (Athena reads Glue and S3 with the caller's credentials anyway); Trino
    // refuses an `owner` beside runAsInvoker, and a definer view with no owner runs as the invoker.
    runAsInvoker: true,
  };
  return {
    name: view.name,
    tableType: 'VIRTUAL_VIEW',
    viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(definition), 'utf8').toString('base64')} */`,
    viewExpandedText: '/* Presto View */',
    parameters: { presto_view: 'true', comment: 'Presto View' },
    columns: columns.map((c) => ({ name: c.name, type: c.hiveType })),
  };
}
