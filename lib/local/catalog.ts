/**
 * The local Glue catalog: the tables come from the dataset declarations (as on AWS), the
 * partitions the workflow registers are kept in one JSON file of the lake folder.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PartitionInput, StorageDescriptor } from '@aws-sdk/client-glue';
import type { PartitionCatalog } from '../../lambdas/register-partition/core.ts';
import { glueColumns } from '../datasets/derive.ts';
import type { Dataset } from '../datasets/model.ts';

/** A registered partition. */
export interface LocalPartition {
  readonly table: string;
  readonly values: string[];
  readonly location: string;
}

/** The partitions file, with writes serialized within the process. */
export class LocalCatalog implements PartitionCatalog {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly datasets: ReadonlyMap<string, Dataset>,
    private readonly curatedBucket: string,
  ) {}

  /** The table's layout, derived from its dataset (undefined for an unknown table). */
  async getStorageDescriptor(_database: string, table: string): Promise<StorageDescriptor | undefined> {
    const ds = this.datasets.get(table);
    if (!ds) return undefined;
    return {
      Columns: glueColumns(ds).map((c) => ({ Name: c.name, Type: c.type })),
      Location: `s3://${this.curatedBucket}/${ds.name}/`,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    };
  }

  async createPartition(
    _database: string,
    table: string,
    partition: PartitionInput,
  ): Promise<'created' | 'exists'> {
    const run = this.queue.then(async () => {
      const partitions = await this.partitions();
      const values = partition.Values ?? [];
      if (partitions.some((p) => p.table === table && p.values.join('/') === values.join('/')))
        return 'exists';
      partitions.push({ table, values, location: partition.StorageDescriptor?.Location ?? '' });
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(`${this.file}.tmp`, JSON.stringify(partitions, null, 2));
      await rename(`${this.file}.tmp`, this.file);
      return 'created';
    });
    this.queue = run.catch(() => undefined);
    return run as Promise<'created' | 'exists'>;
  }

  /** Every registered partition. */
  async partitions(): Promise<LocalPartition[]> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as LocalPartition[];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}
