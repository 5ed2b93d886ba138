/**
 * The RegisterPartition task's pure core: add the day's curated folder to the dataset's Glue table
 * as a partition, with the table's own storage layout (columns, SerDe, formats).
 */
import type { PartitionInput, StorageDescriptor } from '@aws-sdk/client-glue';
import type { RegisterPartitionInput, RegisterPartitionOutput } from '../shared/contract.ts';
import type { Log } from '../shared/logger.ts';

/** The Glue catalog as the core needs it; the adapter maps it onto the Glue API. Errors propagate. */
export interface PartitionCatalog {
  /** The table's storage descriptor (EntityNotFoundException when there is no such table). */
  getStorageDescriptor(database: string, table: string): Promise<StorageDescriptor | undefined>;
  /** `'exists'` when the partition was there already (AlreadyExistsException). */
  createPartition(database: string, table: string, partition: PartitionInput): Promise<'created' | 'exists'>;
}

/** What the core needs from its surroundings. */
export interface RegisterPartitionDeps {
  readonly catalog: PartitionCatalog;
  readonly database: string;
  readonly curatedBucket: string;
  readonly log: Log;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A dataset name as the schema model allows it (a Glue/Athena identifier). */
const DATASET = /^[a-z_][a-z0-9_]*$/;

/** `YYYY-MM-DD` naming a real day (Date.parse alone rolls 2024-02-30 over into March). */
function isCalendarDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

/** The curated folder of one dataset and day: the partition's location, as the Glue job writes it. */
export function partitionLocation(curatedBucket: string, dataset: string, ingestDate: string): string {
  return `s3://${curatedBucket}/${dataset}/ingest_date=${ingestDate}/`;
}

/**
 * Registers the `ingest_date` partition of one dataset and day. The table name is the dataset
 * name. A partition that exists already (a re-run) is success with `created: false`.
 */
export async function registerPartition(
  input: RegisterPartitionInput,
  { catalog, database, curatedBucket, log }: RegisterPartitionDeps,
): Promise<RegisterPartitionOutput> {
  const { dataset, ingestDate } = input;
  // The values end up in an S3 location and a partition value: refuse anything malformed.
  if (!DATASET.test(dataset)) throw new Error(`invalid dataset name "${dataset}"`);
  if (!isCalendarDate(ingestDate)) {
    throw new Error(`invalid ingest date "${ingestDate}" (expected YYYY-MM-DD)`);
  }
  const table = dataset;
  const descriptor = await catalog.getStorageDescriptor(database, table);
  if (!descriptor) throw new Error(`table "${database}.${table}" has no storage descriptor`);
  const location = partitionLocation(curatedBucket, dataset, ingestDate);
  const outcome = await catalog.createPartition(database, table, {
    Values: [ingestDate],
    StorageDescriptor: { ...descriptor, Location: location },
  });
  const created = outcome === 'created';
  log.info(created ? 'partition created' : 'partition exists already', { database, table, location });
  return { database, table, values: [ingestDate], location, created };
}
