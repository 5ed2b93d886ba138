/**
 * `tables history --aws` and `tables tag --aws`: the stack found by its outputs, the table through
 * Glue (the pointer in `Parameters.metadata_location`) and its metadata in the curated bucket, with
 * aws-sdk-client-mock standing in for CloudFormation, Glue and S3. The metadata served is a real
 * table's, written by the core on a local lake.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetTableCommand, GlueClient, UpdateTableCommand } from '@aws-sdk/client-glue';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { PIPELINE_OUTPUTS, STORAGE_OUTPUTS } from '../../lib/aws/stack.ts';
import { LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import { appendOrders, type IcebergLake, icebergLake } from '../local/iceberg-lake.ts';
import { runCli } from './cli-run.ts';

const cfn = mockClient(CloudFormationClient);
const glue = mockClient(GlueClient);
// Installed once the table is written: the core writes it through S3Client against s3rver.
const mockS3 = () => mockClient(S3Client);
let s3: ReturnType<typeof mockS3>;

const CURATED = 'csvlake-test-curated';
const DATABASE = 'csvlake_test';

let lake: IcebergLake;
let snapshotId: string;
/** The table's metadata file and its text, with the local bucket name replaced by the stack's. */
let metadata: { location: string; text: string };

beforeAll(async () => {
  // Prepare: a real table with one snapshot; its metadata is what S3 will serve.
  lake = await icebergLake('tables-aws-', () => Date.parse('2024-05-01T00:00:00Z'));
  snapshotId = await appendOrders(
    lake,
    '2024-05-01',
    [
      [
        [1, 'Ann', '1.50'],
        [2, 'Bob', '2.50'],
      ],
    ],
    () => Date.parse('2024-05-01T00:00:00Z'),
  );
  metadata = await lake.withDeps(async (deps) => {
    const pointer = (await deps.catalog.load(LOCAL_DATABASE, 'orders'))!;
    const bytes = (await deps.store.get(pointer.metadataLocation))!;
    const swap = (text: string) => text.replaceAll('s3://curated/', `s3://${CURATED}/`);
    return { location: swap(pointer.metadataLocation), text: swap(new TextDecoder().decode(bytes)) };
  });
  s3 = mockS3();
}, 60_000);

afterAll(async () => {
  s3?.restore();
  await lake?.remove();
});

afterEach(() => {
  cfn.reset();
  glue.reset();
  s3.reset();
});

/** The stacks of stage `test`, the Glue table and its metadata object. */
function deployed(): void {
  const values: Record<string, string> = { CuratedBucketName: CURATED, GlueDatabaseName: DATABASE };
  const described = (StackName: string, names: Record<string, string>) => ({
    Stacks: [
      {
        StackName,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.values(names).map((OutputKey) => ({
          OutputKey,
          OutputValue: values[OutputKey] ?? `${OutputKey}-value`,
        })),
      },
    ],
  });
  cfn
    .on(DescribeStacksCommand, { StackName: 'csvlake-test-storage' })
    .resolves(described('csvlake-test-storage', STORAGE_OUTPUTS));
  cfn
    .on(DescribeStacksCommand, { StackName: 'csvlake-test-pipeline' })
    .resolves(described('csvlake-test-pipeline', PIPELINE_OUTPUTS));
  glue.on(GetTableCommand, { DatabaseName: DATABASE, Name: 'orders' }).resolves({
    Table: {
      Name: 'orders',
      DatabaseName: DATABASE,
      TableType: 'EXTERNAL_TABLE',
      VersionId: '7',
      Parameters: { table_type: 'ICEBERG', metadata_location: metadata.location },
    },
  });
  glue
    .on(GetTableCommand, { DatabaseName: DATABASE, Name: 'nope' })
    .rejects(Object.assign(new Error('Table nope not found.'), { name: 'EntityNotFoundException' }));
  const key = metadata.location.slice(`s3://${CURATED}/`.length);
  const bytes = new TextEncoder().encode(metadata.text);
  s3.on(GetObjectCommand, { Bucket: CURATED, Key: key }).resolves({
    Body: { transformToByteArray: async () => bytes } as unknown as GetObjectCommandOutput['Body'],
    ContentLength: bytes.length,
  });
  s3.on(PutObjectCommand).resolves({});
}

const aws = ['--aws', '--stage', 'test', '--region', 'eu-west-1'];

describe('tables --aws', () => {
  it('history --json reads the Glue table’s metadata in the curated bucket', async () => {
    // Prepare
    deployed();

    // Act
    const run = await runCli(['tables', 'history', 'orders', ...aws, '--json']);

    // Assess
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject([
      { snapshotId, timestamp: '2024-05-01T00:00:00.000Z', operation: 'append', addedRows: 2, totalRows: 2 },
    ]);
    expect(glue).toHaveReceivedCommandWith(GetTableCommand, { DatabaseName: DATABASE, Name: 'orders' });
  });

  it('tag swaps the Glue pointer to new metadata holding the tag (compare-and-swap on VersionId)', async () => {
    deployed();
    glue.on(UpdateTableCommand).resolves({});

    const run = await runCli(['tables', 'tag', 'orders', 'train-v1', ...aws, '--json']);

    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toEqual({ dataset: 'orders', tag: 'train-v1', snapshotId, created: true });
    expect(glue).toHaveReceivedCommandWith(UpdateTableCommand, {
      DatabaseName: DATABASE,
      VersionId: '7',
      SkipArchive: true,
    });
    const written = s3
      .commandCalls(PutObjectCommand)
      .map((call) => call.args[0].input)
      .find((input) => String(input.Key).endsWith('.metadata.json'));
    expect(written?.Bucket).toBe(CURATED);
    const body = new TextDecoder().decode(written?.Body as Uint8Array);
    // The id as written: 64-bit, never through a float.
    expect(body).toMatch(
      new RegExp(`"train-v1":\\s*\\{\\s*"snapshot-id":\\s*${snapshotId},\\s*"type":\\s*"tag"\\s*\\}`),
    );
  });

  it('an unknown dataset without a declaration is refused with the known ones', async () => {
    deployed();
    const run = await runCli(['tables', 'history', 'nope', ...aws]);
    expect(run).toEqual({
      code: 2,
      out: '',
      err: 'datalake: unknown dataset "nope" (known: orders, sensor_readings)\n',
    });
  });
});
