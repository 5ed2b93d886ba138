/**
 * The Glue Data Catalog as the committer's catalog, exactly as Iceberg's GlueTableOperations:
 * an Iceberg table is a Glue table with `Parameters.table_type = ICEBERG` and `metadata_location`;
 * a commit is GetTable, a check that `metadata_location` is still the base, and UpdateTable with
 * the base's `VersionId` (Glue's optimistic lock) and `SkipArchive` (no table version per commit).
 * The StorageDescriptor's columns are for display (Athena's and the console's schema view) only.
 */
import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  type GlueClient,
  type Table,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { CommitConflictError, type TableCatalog, type TableDisplay, type TablePointer } from './ports.ts';

/** Glue table parameters of an Iceberg table. */
export const TABLE_TYPE = 'table_type';
export const ICEBERG = 'ICEBERG';
export const METADATA_LOCATION = 'metadata_location';
export const PREVIOUS_METADATA_LOCATION = 'previous_metadata_location';

function storageDescriptor(display: TableDisplay) {
  return {
    Location: display.location,
    Columns: display.columns.map((c) => ({
      Name: c.name,
      Type: c.type,
      ...(c.comment ? { Comment: c.comment } : {}),
    })),
  };
}

/** The table's pointer; throws when the Glue table is not an Iceberg table. */
function pointerOf(database: string, name: string, table: Table): TablePointer {
  const params = table.Parameters ?? {};
  if (params[TABLE_TYPE]?.toUpperCase() !== ICEBERG) {
    throw new Error(
      `glue table ${database}.${name} is not an Iceberg table (table_type: ${JSON.stringify(params[TABLE_TYPE] ?? null)})`,
    );
  }
  const location = params[METADATA_LOCATION];
  if (!location) throw new Error(`glue table ${database}.${name} has no metadata_location`);
  if (!table.VersionId) throw new Error(`glue table ${database}.${name} has no VersionId`);
  return { metadataLocation: location, versionId: table.VersionId };
}

async function getTable(client: GlueClient, database: string, name: string): Promise<Table | undefined> {
  try {
    return (await client.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table;
  } catch (err) {
    if (err instanceof EntityNotFoundException || (err as Error).name === 'EntityNotFoundException')
      return undefined;
    throw err;
  }
}

/** A {@link TableCatalog} over the Glue Data Catalog. */
export function glueTableCatalog(client: GlueClient): TableCatalog {
  return {
    async load(database, name) {
      const table = await getTable(client, database, name);
      return table ? pointerOf(database, name, table) : undefined;
    },

    async create(database, name, metadataLocation, display) {
      try {
        await client.send(
          new CreateTableCommand({
            DatabaseName: database,
            TableInput: {
              Name: name,
              TableType: 'EXTERNAL_TABLE',
              Parameters: { [TABLE_TYPE]: ICEBERG, [METADATA_LOCATION]: metadataLocation },
              StorageDescriptor: storageDescriptor(display),
            },
          }),
        );
        return 'created';
      } catch (err) {
        if (err instanceof AlreadyExistsException || (err as Error).name === 'AlreadyExistsException')
          return 'exists';
        throw err;
      }
    },

    async swap(database, name, base, metadataLocation, display) {
      const table = await getTable(client, database, name);
      if (!table) throw new CommitConflictError(`glue table ${database}.${name} no longer exists`);
      const current = pointerOf(database, name, table);
      if (current.metadataLocation !== base.metadataLocation) {
        throw new CommitConflictError(
          `glue table ${database}.${name} moved on: metadata_location is ${current.metadataLocation}, not the base ${base.metadataLocation}`,
        );
      }
      try {
        await client.send(
          new UpdateTableCommand({
            DatabaseName: database,
            // Glue's optimistic lock: the update fails if the table changed since base was read.
            VersionId: base.versionId,
            SkipArchive: true,
            TableInput: {
              Name: name,
              TableType: table.TableType ?? 'EXTERNAL_TABLE',
              ...(table.Description ? { Description: table.Description } : {}),
              Parameters: {
                ...(table.Parameters ?? {}),
                [TABLE_TYPE]: ICEBERG,
                [METADATA_LOCATION]: metadataLocation,
                [PREVIOUS_METADATA_LOCATION]: base.metadataLocation,
              },
              StorageDescriptor: { ...(table.StorageDescriptor ?? {}), ...storageDescriptor(display) },
            },
          }),
        );
      } catch (err) {
        if (
          err instanceof ConcurrentModificationException ||
          (err as Error).name === 'ConcurrentModificationException'
        ) {
          throw new CommitConflictError(
            `glue table ${database}.${name} changed during the commit: ${(err as Error).message}`,
          );
        }
        throw err;
      }
    },
  };
}
