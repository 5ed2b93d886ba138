/**
 * A dataset's Iceberg table: where it is, its schema (schema.ts) and its properties.
 */
import type { Dataset } from '../datasets/model.ts';
import { planSchema, SchemaEvolutionError } from './evolve.ts';
import { tableLocation, tableName } from './layout.ts';
import { declaredRenames, icebergSchema } from './schema.ts';
import { ensureTable, evolveSchema, type IcebergDeps, loadTable, type TableProperties } from './table.ts';

const DAY_MS = 86_400_000;

/** The properties every dataset table is created with (study §7.4). */
export function tableProperties(settings: { snapshotRetentionDays: number }): TableProperties {
  if (!(settings.snapshotRetentionDays > 0)) {
    throw new Error(
      `snapshot retention must be a positive number of days, not ${settings.snapshotRetentionDays}`,
    );
  }
  return {
    'write.format.default': 'parquet',
    'write.parquet.compression-codec': 'zstd',
    'history.expire.max-snapshot-age-ms': String(Math.round(settings.snapshotRetentionDays * DAY_MS)),
    'history.expire.min-snapshots-to-keep': '1',
    'write.metadata.previous-versions-max': '100',
  };
}

/** Default snapshot retention of a dataset table, in days. */
export const DEFAULT_SNAPSHOT_RETENTION_DAYS = 30;

/**
 * What {@link ensureDatasetTable} did to the table; `ahead`: nothing, the table's schema being the
 * pipeline's own later evolution of the declaration's (a rollback; evolve.ts `planSchema`).
 */
export type DatasetTableStatus = 'created' | 'evolved' | 'unchanged' | 'ahead';

/** The dataset's table as {@link ensureDatasetTable} left it. */
export interface DatasetTableResult {
  /** `tableName(ds.name, ds.version)`. */
  readonly table: string;
  readonly metadataLocation: string;
  readonly status: DatasetTableStatus;
  /** Same as `status === 'created'`. */
  readonly created: boolean;
  /** The schema changes an evolution made, one line each (empty otherwise). */
  readonly changes: readonly string[];
}

/**
 * Makes the table of the dataset's current version (`tableName(ds.name, ds.version)` at
 * `tableLocation(curated, ds.name, ds.version)`) exist with the declaration's schema: creates it,
 * else evolves its schema by the rules (table.ts `evolveSchema`; throws `SchemaEvolutionError`
 * when they refuse, leaving the table as it is). The same declaration again changes nothing.
 * Older versions' tables are left as they are, still queryable.
 */
export async function ensureDatasetTable(
  deps: IcebergDeps,
  where: { database: string; curatedBucket: string },
  ds: Dataset,
  properties: TableProperties = tableProperties({ snapshotRetentionDays: DEFAULT_SNAPSHOT_RETENTION_DAYS }),
): Promise<DatasetTableResult> {
  const table = {
    database: where.database,
    name: tableName(ds.name, ds.version),
    location: tableLocation(where.curatedBucket, ds.name, ds.version),
  };
  const target = icebergSchema(ds);
  const made = await ensureTable(deps, table, target, properties);
  if (made.created) {
    return {
      table: table.name,
      metadataLocation: made.metadataLocation,
      status: 'created',
      created: true,
      changes: [],
    };
  }
  const evolved = await evolveSchema(deps, table, target, declaredRenames(ds));
  return {
    table: table.name,
    metadataLocation: evolved.metadataLocation,
    status: evolved.evolved ? 'evolved' : evolved.ahead ? 'ahead' : 'unchanged',
    created: false,
    changes: evolved.changes,
  };
}

/**
 * What {@link ensureDatasetTable} would do, without writing: `created` when there is no table,
 * else `evolved` or `unchanged`; throws `SchemaEvolutionError` (naming the table) when the rules
 * refuse the change. The tables custom resource checks every dataset first, so that one refused
 * declaration leaves every table as it was.
 */
export async function planDatasetTable(
  deps: Pick<IcebergDeps, 'store' | 'catalog'>,
  where: { database: string; curatedBucket: string },
  ds: Dataset,
): Promise<{
  readonly table: string;
  readonly status: DatasetTableStatus;
  readonly changes: readonly string[];
}> {
  const name = tableName(ds.name, ds.version);
  if (!(await deps.catalog.load(where.database, name)))
    return { table: name, status: 'created', changes: [] };
  const { metadata } = await loadTable(deps, { database: where.database, name });
  const plan = planSchema(`${where.database}.${name}`, metadata, icebergSchema(ds), declaredRenames(ds));
  const status = plan.ahead ? 'ahead' : plan.changes.length ? 'evolved' : 'unchanged';
  return { table: name, status, changes: plan.changes };
}

/**
 * {@link ensureDatasetTable} for every dataset, after checking them all ({@link planDatasetTable}):
 * when the rules refuse any change, throws one `SchemaEvolutionError` listing every refusal and
 * touches no table. What the tables custom resource does on deploy and `local up` at start.
 */
export async function ensureDatasetTables(
  deps: IcebergDeps,
  where: { database: string; curatedBucket: string },
  datasets: readonly Dataset[],
  properties?: TableProperties,
): Promise<DatasetTableResult[]> {
  const refused: string[] = [];
  for (const ds of datasets) {
    await planDatasetTable(deps, where, ds).catch((err: unknown) => {
      if (!(err instanceof SchemaEvolutionError)) throw err;
      refused.push(err.message);
    });
  }
  if (refused.length > 0) {
    throw new SchemaEvolutionError(
      `${refused.join(' | ')} (change the declarations by the rules, or give the dataset the next "version": a new table)`,
    );
  }
  const out: DatasetTableResult[] = [];
  for (const ds of datasets) out.push(await ensureDatasetTable(deps, where, ds, properties));
  return out;
}
