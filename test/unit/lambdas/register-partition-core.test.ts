import type { PartitionInput, StorageDescriptor } from '@aws-sdk/client-glue';
import { describe, expect, it } from 'vitest';
import { type PartitionCatalog, registerPartition } from '../../../lambdas/register-partition/core.ts';
import { recordingLog } from './helpers.ts';

const DESCRIPTOR: StorageDescriptor = {
  Columns: [
    { Name: 'order_id', Type: 'bigint' },
    { Name: 'amount', Type: 'decimal(12,2)' },
  ],
  Location: 's3://curated/orders/',
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  Compressed: true,
};

/** An in-memory catalog of one table; partitions are keyed by their values. */
function fakeCatalog(descriptor: StorageDescriptor | null = DESCRIPTOR): PartitionCatalog & {
  readonly partitions: Map<string, PartitionInput>;
  readonly calls: string[];
} {
  const partitions = new Map<string, PartitionInput>();
  const calls: string[] = [];
  return {
    partitions,
    calls,
    async getStorageDescriptor(database, table) {
      calls.push(`get ${database}.${table}`);
      return descriptor ?? undefined;
    },
    async createPartition(database, table, partition) {
      calls.push(`create ${database}.${table}`);
      const id = JSON.stringify(partition.Values);
      if (partitions.has(id)) return 'exists';
      partitions.set(id, partition);
      return 'created';
    },
  };
}

function deps(catalog: PartitionCatalog) {
  return { catalog, database: 'lake', curatedBucket: 'curated', log: recordingLog() };
}

describe('registerPartition', () => {
  it("creates the day's partition with the table's storage layout and the day's location", async () => {
    // Prepare
    const catalog = fakeCatalog();
    const log = recordingLog();

    // Act
    const out = await registerPartition(
      { dataset: 'orders', ingestDate: '2024-03-02' },
      { ...deps(catalog), log },
    );

    // Assess
    expect(out).toEqual({
      database: 'lake',
      table: 'orders',
      values: ['2024-03-02'],
      location: 's3://curated/orders/ingest_date=2024-03-02/',
      created: true,
    });
    expect(catalog.calls).toEqual(['get lake.orders', 'create lake.orders']);
    expect(log.lines).toEqual([
      {
        level: 'info',
        message: 'partition created',
        attributes: {
          database: 'lake',
          table: 'orders',
          location: 's3://curated/orders/ingest_date=2024-03-02/',
        },
      },
    ]);
    expect(catalog.partitions.get('["2024-03-02"]')).toEqual({
      Values: ['2024-03-02'],
      StorageDescriptor: { ...DESCRIPTOR, Location: 's3://curated/orders/ingest_date=2024-03-02/' },
    });
  });

  it('reports an existing partition as success with created: false', async () => {
    // Prepare
    const catalog = fakeCatalog();
    const log = recordingLog();
    await registerPartition({ dataset: 'orders', ingestDate: '2024-03-02' }, deps(catalog));

    // Act
    const out = await registerPartition(
      { dataset: 'orders', ingestDate: '2024-03-02' },
      { ...deps(catalog), log },
    );

    // Assess
    expect(out.created).toBe(false);
    expect(catalog.partitions.size).toBe(1);
    expect(log.lines.map((l) => l.message)).toEqual(['partition exists already']);
  });

  it('fails when the table has no storage descriptor', async () => {
    // Prepare
    const catalog = fakeCatalog(null);

    // Act
    const act = registerPartition({ dataset: 'orders', ingestDate: '2024-03-02' }, deps(catalog));

    // Assess
    await expect(act).rejects.toThrow('table "lake.orders" has no storage descriptor');
    expect(catalog.calls).toEqual(['get lake.orders']);
  });

  it.each([
    [{ dataset: 'orders', ingestDate: '2024-3-2' }, 'invalid ingest date "2024-3-2" (expected YYYY-MM-DD)'],
    [
      { dataset: 'orders', ingestDate: '2024-13-45' },
      'invalid ingest date "2024-13-45" (expected YYYY-MM-DD)',
    ],
    [
      { dataset: 'orders', ingestDate: '2023-02-29' },
      'invalid ingest date "2023-02-29" (expected YYYY-MM-DD)',
    ],
    // Anchored: a valid date or name inside a longer string is no date or name.
    [
      { dataset: 'orders', ingestDate: 'x2024-01-01' },
      'invalid ingest date "x2024-01-01" (expected YYYY-MM-DD)',
    ],
    [
      { dataset: 'orders', ingestDate: '2024-01-01x' },
      'invalid ingest date "2024-01-01x" (expected YYYY-MM-DD)',
    ],
    // ISO 8601's expanded years are real days to Date.parse, but no YYYY-MM-DD partition value.
    [
      { dataset: 'orders', ingestDate: '+020240-01' },
      'invalid ingest date "+020240-01" (expected YYYY-MM-DD)',
    ],
    [
      { dataset: 'orders', ingestDate: '-000001-01' },
      'invalid ingest date "-000001-01" (expected YYYY-MM-DD)',
    ],
    [{ dataset: '../orders', ingestDate: '2024-03-02' }, 'invalid dataset name "../orders"'],
    [{ dataset: 'Orders', ingestDate: '2024-03-02' }, 'invalid dataset name "Orders"'],
    [{ dataset: 'orders-x', ingestDate: '2024-03-02' }, 'invalid dataset name "orders-x"'],
    [{ dataset: 'orders/x', ingestDate: '2024-03-02' }, 'invalid dataset name "orders/x"'],
  ])('refuses %j before touching the catalog', async (input, message) => {
    // Prepare
    const catalog = fakeCatalog();

    // Act
    const act = registerPartition(input, deps(catalog));

    // Assess
    await expect(act).rejects.toThrow(message);
    expect(catalog.calls).toEqual([]);
  });

  it('lets catalog errors through', async () => {
    // Prepare
    const catalog: PartitionCatalog = {
      getStorageDescriptor: async () => {
        throw Object.assign(new Error('Table not found'), { name: 'EntityNotFoundException' });
      },
      createPartition: async () => 'created',
    };

    // Act
    const act = registerPartition({ dataset: 'orders', ingestDate: '2024-03-02' }, deps(catalog));

    // Assess
    await expect(act).rejects.toThrow('Table not found');
  });
});
