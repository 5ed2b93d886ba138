/** The RegisterPartition task Lambda: adds a day's curated Parquet to the dataset's Glue table. */
import { CreatePartitionCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { ENV, type RegisterPartitionInput, type RegisterPartitionOutput } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';
import { type PartitionCatalog, registerPartition } from './core.ts';

const env = readEnv(ENV.registerPartition);
const glue = new GlueClient({});
const logger = createLogger('register-partition');

/** A `PartitionCatalog` over the Glue API. */
export function glueCatalog(client: GlueClient): PartitionCatalog {
  return {
    async getStorageDescriptor(database, table) {
      const out = await client.send(new GetTableCommand({ DatabaseName: database, Name: table }));
      return out.Table?.StorageDescriptor;
    },
    async createPartition(database, table, partition) {
      try {
        await client.send(
          new CreatePartitionCommand({ DatabaseName: database, TableName: table, PartitionInput: partition }),
        );
        return 'created';
      } catch (error) {
        // A re-run of the same day (or a second file of that day): the partition is already there.
        if ((error as { name?: unknown } | null)?.name === 'AlreadyExistsException') return 'exists';
        throw error;
      }
    },
  };
}

const catalog = glueCatalog(glue);

/** Registers the partition of `input.dataset` for `input.ingestDate`; existing partitions are success. */
export async function handler(input: RegisterPartitionInput): Promise<RegisterPartitionOutput> {
  return registerPartition(input, {
    catalog,
    database: env.database,
    curatedBucket: env.curatedBucket,
    log: logger,
  });
}
