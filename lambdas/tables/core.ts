/**
 * The IcebergTables custom resource's core: on Create and Update, every declared dataset's Iceberg
 * table is made to exist (lib/iceberg/dataset-tables.ts `ensureDatasetTable`, idempotent: a table
 * that exists is left as it is); on Delete nothing happens, as the tables and their data outlive
 * the stack, like the buckets they are in.
 */
import type { Dataset } from '../../lib/datasets/model.ts';
import { ensureDatasetTable, tableProperties } from '../../lib/iceberg/dataset-tables.ts';
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
  readonly created: string[];
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
    return { physicalResourceId, created: [], existing: [] };
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
  const created: string[] = [];
  const existing: string[] = [];
  for (const name of asked) {
    const out = await ensureDatasetTable(
      deps.iceberg,
      { database: p.database, curatedBucket: p.curatedBucket },
      deps.datasets.get(name)!,
      properties,
    );
    (out.created ? created : existing).push(name);
    deps.log.info(out.created ? 'table created' : 'table exists', {
      database: p.database,
      table: name,
      metadataLocation: out.metadataLocation,
    });
  }
  return { physicalResourceId, created, existing };
}
