/**
 * The IcebergTables custom resource's core: on Create and Update, the table of every declared
 * dataset's current version (`<name>` or `<name>_v<N>`) is made to exist with the declaration's
 * schema (lib/iceberg/dataset-tables.ts `ensureDatasetTable`: created, else evolved by the rules,
 * else left as it is). Every dataset is checked first (`planDatasetTable`): a change the rules
 * refuse fails the request with the reason before any table is touched, so CloudFormation rolls
 * back and no table is rewritten. On Delete nothing happens, as the tables and their data outlive
 * the stack, like the buckets they are in.
 */
import type { Dataset } from '../../lib/datasets/model.ts';
import { ensureDatasetTables, tableProperties } from '../../lib/iceberg/dataset-tables.ts';
import type { IcebergDeps } from '../../lib/iceberg/table.ts';
import type { Log } from '../shared/logger.ts';

/** The custom resource's properties, as the storage stack sets them (CloudFormation passes strings). */
export interface TablesProperties {
  readonly database: string;
  readonly curatedBucket: string;
  /** The datasets whose tables must exist: exactly the declarations bundled with the function. */
  readonly datasets: readonly string[];
  readonly snapshotRetentionDays: string;
  /** A hash of the declarations and settings: any change is an Update, which ensures again. */
  readonly declarationsHash: string;
}

/** One request of the custom resource, as the Provider framework hands it over. */
export interface TablesRequest {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly physicalResourceId?: string;
  readonly properties: TablesProperties;
}

/** What the function answers: the same physical id always (an Update never replaces), and what it did. */
export interface TablesResponse {
  readonly physicalResourceId: string;
  /** Tables created (names as in the catalog: `orders`, `orders_v2`). */
  readonly created: string[];
  /** Tables whose schema was evolved. */
  readonly evolved: string[];
  /** Tables left as they were (also one whose schema is ahead of a rolled-back declaration). */
  readonly existing: string[];
}

/** A request whose properties do not fit the bundled declarations (a bug in the stack). */
export class TablesRequestError extends Error {
  override readonly name = 'TablesRequestError';
}

/** Handles one request; see the module doc. */
export async function handleTables(
  request: TablesRequest,
  deps: { readonly iceberg: IcebergDeps; readonly datasets: ReadonlyMap<string, Dataset>; readonly log: Log },
): Promise<TablesResponse> {
  const { properties: p } = request;
  const physicalResourceId = request.physicalResourceId ?? `${p.database}/iceberg-tables`;
  if (request.requestType === 'Delete') {
    deps.log.info('tables left in place', { database: p.database, datasets: p.datasets });
    return { physicalResourceId, created: [], evolved: [], existing: [] };
  }
  const bundled = [...deps.datasets.keys()].sort();
  const asked = [...p.datasets].sort();
  if (bundled.join(',') !== asked.join(',')) {
    throw new TablesRequestError(
      `the resource names datasets ${JSON.stringify(asked)}, the function carries ${JSON.stringify(bundled)}`,
    );
  }
  const days = Number(p.snapshotRetentionDays);
  if (!Number.isInteger(days) || days < 1) {
    throw new TablesRequestError(
      `snapshotRetentionDays must be a whole number of days ≥ 1, not "${p.snapshotRetentionDays}"`,
    );
  }
  const properties = tableProperties({ snapshotRetentionDays: days });
  const tables = await ensureDatasetTables(
    deps.iceberg,
    { database: p.database, curatedBucket: p.curatedBucket },
    asked.map((name) => deps.datasets.get(name)!),
    properties,
  );
  const out: Pick<TablesResponse, 'created' | 'evolved' | 'existing'> = {
    created: [],
    evolved: [],
    existing: [],
  };
  for (const table of tables) {
    out[table.status === 'created' || table.status === 'evolved' ? table.status : 'existing'].push(
      table.table,
    );
    // Ahead: a rollback to declarations older than the table's schema; the table keeps it.
    deps.log[table.status === 'ahead' ? 'warn' : 'info'](`table ${table.status}`, {
      database: p.database,
      table: table.table,
      metadataLocation: table.metadataLocation,
      ...(table.changes.length ? { changes: table.changes } : {}),
    });
  }
  return { physicalResourceId, ...out };
}
