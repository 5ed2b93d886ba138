/**
 * A local lake whose Iceberg tables are made directly with the core, in the places the local
 * runtime uses (the lake's S3 folder, `localTableCatalog(lakePaths(dir).tables)`, database
 * `LOCAL_DATABASE`, bucket `LOCAL_BUCKETS.curated`): data files written by DuckDB with the table's
 * field ids, appended with `appendFiles`. The S3 server runs only while a step writes, so that the
 * CLI under test starts its own, as it does without `local up`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadDatasets } from '../../lib/datasets/load.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import { ensureDatasetTable } from '../../lib/iceberg/dataset-tables.ts';
import { partitionPrefix, sourceTag, tableLocation, tableName } from '../../lib/iceberg/layout.ts';
import { localTableCatalog } from '../../lib/iceberg/local-catalog.ts';
import type { ObjectStore } from '../../lib/iceberg/ports.ts';
import { s3ObjectStore } from '../../lib/iceberg/s3-store.ts';
import { ICEBERG_SCHEMA_KEY, icebergSchema, LINEAGE_FIELDS } from '../../lib/iceberg/schema.ts';
import { appendFiles, type IcebergDeps, type TableRef } from '../../lib/iceberg/table.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE, lakePaths } from '../../lib/local/lake-folder.ts';
import { localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';

const LINEAGE_FIELD_IDS = new Set(LINEAGE_FIELDS.map((f) => f.id));

/** The project's declarations (orders, sensor_readings), as the CLI's default `--datasets`. */
export const DATASETS_DIR = 'datasets';

/** A lake folder and what writes its tables. */
export interface IcebergLake {
  readonly dir: string;
  readonly datasets: ReadonlyMap<string, Dataset>;
  /** Runs `work` with the lake's S3 server up and the core's deps on it (`now` as given). */
  withDeps<T>(work: (deps: IcebergDeps) => Promise<T>, now?: () => number): Promise<T>;
  remove(): Promise<void>;
}

/** A new lake folder with an (empty) table per declared dataset (of its current version). */
export async function icebergLake(
  prefix: string,
  now?: () => number,
  datasetsDir = DATASETS_DIR,
): Promise<IcebergLake> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const datasets = await loadDatasets(datasetsDir);
  const lake: IcebergLake = {
    dir,
    datasets,
    async withDeps(work, clock) {
      const paths = lakePaths(dir);
      const server = await startLocalS3({ directory: paths.s3, buckets: Object.values(LOCAL_BUCKETS) });
      const client = localS3Client(server.endpoint);
      try {
        return await work({
          store: s3ObjectStore(client),
          catalog: localTableCatalog(paths.tables),
          ...(clock ? { now: clock } : {}),
        });
      } finally {
        client.destroy();
        await server.close();
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await lake.withDeps(async (deps) => {
    for (const ds of datasets.values())
      await ensureDatasetTable(deps, { database: LOCAL_DATABASE, curatedBucket: LOCAL_BUCKETS.curated }, ds);
  }, now);
  return lake;
}

/** The dataset's table (of a table version) in the lake. */
export function tableRef(dataset: string, version = 1): TableRef {
  return {
    database: LOCAL_DATABASE,
    name: tableName(dataset, version),
    location: tableLocation(LOCAL_BUCKETS.curated, dataset, version),
  };
}

/**
 * Writes one Parquet file of `select` (a SELECT of the dataset's columns, in any order, without
 * `ingest_date`) into the day's partition (of the dataset's current table version), with the table's field ids and its schema in the
 * footer, as the engines write; returns its spec.
 */
export async function writeDataFile(
  store: ObjectStore,
  ds: Dataset,
  ingestDate: string,
  select: string,
): Promise<{ path: string; rows: number; bytes: number; ingestDate: string }> {
  // The declared columns and ingest_date: files written before issue 16 carry no lineage fields.
  const full = icebergSchema(ds);
  const schema = { ...full, fields: full.fields.filter((f) => !LINEAGE_FIELD_IDS.has(f.id)) };
  const work = await mkdtemp(join(tmpdir(), 'datafile-'));
  const local = join(work, 'part.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    // The declared columns and ingest_date: these files carry no lineage (its fields read as NULL).
    const ids = schema.fields
      .filter((f) => f.id < LINEAGE_FIELDS[0]!.id)
      .map((f) => `'${f.name}': ${f.id}`)
      .join(', ');
    const columns = ds.columns.map((c) => `"${c.name}"`).join(', ');
    // The lineage columns every engine writes (their values do not matter to these tests).
    const lineage = LINEAGE_FIELDS.map(
      (f) => `CAST(NULL AS ${f.type === 'timestamptz' ? 'TIMESTAMPTZ' : 'VARCHAR'}) AS "${f.name}"`,
    ).join(', ');
    await conn.run(
      `COPY (SELECT ${columns}, DATE '${ingestDate}' AS ingest_date, ${lineage} FROM (${select})) TO '${local}' (FORMAT parquet, FIELD_IDS {${ids}}, KV_METADATA {'${ICEBERG_SCHEMA_KEY}': '${JSON.stringify(schema).replace(/'/g, "''")}'})`,
    );
    const reader = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${local}')`);
    const rows = Number(reader.getRowObjectsJson()[0]?.n);
    const path = `${partitionPrefix(LOCAL_BUCKETS.curated, ds.name, ingestDate, ds.version)}test-${randomUUID()}-part-00000.parquet`;
    await store.put(path, await readFile(local));
    return { path, rows, bytes: (await stat(local)).size, ingestDate };
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
}

/** Orders rows as a SELECT: `[id, customer, amount]` each, the other columns fixed. */
export function ordersSelect(rows: readonly (readonly [number, string, string])[]): string {
  const values = rows
    .map(
      ([id, customer, amount]) =>
        `(${id}::BIGINT, '${customer}', 'ABC-${String(id).padStart(5, '0')}', 1, ${amount}::DECIMAL(12,2), 'EUR', NULL::DOUBLE, false, TIMESTAMPTZ '2024-03-01 10:00:00+00' + to_seconds(${id}), NULL::DATE)`,
    )
    .join(', ');
  return `SELECT * FROM (VALUES ${values}) AS t(order_id, customer, sku, quantity, amount, currency, discount, gift, ordered_at, ship_date)`;
}

/** Appends one file per `rows` group (each its own source) to the dataset's table in one snapshot; returns its id. */
export async function appendOrders(
  lake: IcebergLake,
  ingestDate: string,
  files: readonly (readonly (readonly [number, string, string])[])[],
  now?: () => number,
): Promise<string> {
  const ds = lake.datasets.get('orders')!;
  return lake.withDeps(async (deps) => {
    const sources = [];
    for (const rows of files) {
      const file = await writeDataFile(deps.store, ds, ingestDate, ordersSelect(rows));
      sources.push({ tag: sourceTag(`orders/${randomUUID()}.csv`, '1'), files: [file] });
    }
    const result = await appendFiles(deps, tableRef('orders', ds.version), sources);
    const ids = new Set(Object.values(result.bySource).map((s) => s.snapshotId));
    if (ids.size !== 1) throw new Error(`one append gave ${ids.size} snapshots`);
    return [...ids][0]!;
  }, now);
}
