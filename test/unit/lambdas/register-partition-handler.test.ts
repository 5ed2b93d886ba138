import {
  AlreadyExistsException,
  CreatePartitionCommand,
  EntityNotFoundException,
  GetTableCommand,
  GlueClient,
  InternalServiceException,
  type StorageDescriptor,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const glue = mockClient(GlueClient);
let handler: typeof import('../../../lambdas/register-partition/handler.ts')['handler'];

const DESCRIPTOR: StorageDescriptor = {
  Columns: [{ Name: 'order_id', Type: 'bigint' }],
  Location: 's3://curated-bucket/orders/',
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};
const LOCATION = 's3://curated-bucket/orders/ingest_date=2024-03-02/';

beforeAll(async () => {
  vi.stubEnv('GLUE_DATABASE', 'lake');
  vi.stubEnv('CURATED_BUCKET', 'curated-bucket');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ handler } = await import('../../../lambdas/register-partition/handler.ts'));
});

afterEach(() => {
  glue.reset();
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('register-partition handler', () => {
  it("reads the dataset's table and creates the day's partition with its storage descriptor", async () => {
    // Prepare
    glue.on(GetTableCommand).resolves({ Table: { Name: 'orders', StorageDescriptor: DESCRIPTOR } });
    glue.on(CreatePartitionCommand).resolves({});

    // Act
    const out = await handler({ dataset: 'orders', ingestDate: '2024-03-02' });

    // Assess
    expect(glue).toHaveReceivedCommandWith(GetTableCommand, { DatabaseName: 'lake', Name: 'orders' });
    expect(glue).toHaveReceivedCommandWith(CreatePartitionCommand, {
      DatabaseName: 'lake',
      TableName: 'orders',
      PartitionInput: { Values: ['2024-03-02'], StorageDescriptor: { ...DESCRIPTOR, Location: LOCATION } },
    });
    expect(out).toEqual({
      database: 'lake',
      table: 'orders',
      values: ['2024-03-02'],
      location: LOCATION,
      created: true,
    });
  });

  it('treats AlreadyExistsException as success with created: false', async () => {
    // Prepare
    glue.on(GetTableCommand).resolves({ Table: { Name: 'orders', StorageDescriptor: DESCRIPTOR } });
    glue
      .on(CreatePartitionCommand)
      .rejects(new AlreadyExistsException({ message: 'Partition already exists.', $metadata: {} }));

    // Act
    const out = await handler({ dataset: 'orders', ingestDate: '2024-03-02' });

    // Assess
    expect(out).toMatchObject({ created: false, location: LOCATION });
  });

  it('lets a missing table through (EntityNotFoundException)', async () => {
    // Prepare
    const error = new EntityNotFoundException({ message: 'Table orders not found.', $metadata: {} });
    glue.on(GetTableCommand).rejects(error);

    // Act
    const act = handler({ dataset: 'orders', ingestDate: '2024-03-02' });

    // Assess
    await expect(act).rejects.toBe(error);
    expect(glue).not.toHaveReceivedCommand(CreatePartitionCommand);
  });

  it('lets other CreatePartition errors through', async () => {
    // Prepare
    const error = new InternalServiceException({ message: 'Internal service error.', $metadata: {} });
    glue.on(GetTableCommand).resolves({ Table: { Name: 'orders', StorageDescriptor: DESCRIPTOR } });
    glue.on(CreatePartitionCommand).rejects(error);

    // Act
    const act = handler({ dataset: 'orders', ingestDate: '2024-03-02' });

    // Assess
    await expect(act).rejects.toBe(error);
  });
});

describe('register-partition handler configuration', () => {
  it('fails on import, naming every missing variable', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('GLUE_DATABASE', '');
    vi.stubEnv('CURATED_BUCKET', '');

    // Act
    const act = import('../../../lambdas/register-partition/handler.ts');

    // Assess
    await expect(act).rejects.toThrow('missing environment variables: GLUE_DATABASE, CURATED_BUCKET');
  });
});
