/**
 * The deployed lake as a {@link LakeTarget}: the names from the stacks' outputs, and one client
 * per service, each with the CLI's shared settings (region, profile, adaptive retries).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { LakeTarget } from '../cli/target.ts';
import { dynamoLedgerReader } from '../ledger/dynamodb-reader.ts';
import { runAthenaQuery } from './athena.ts';
import { type AwsConnection, awsClientConfig, type DeployedLake, discoverLake } from './stack.ts';
import { subscribeTopic } from './subscribe.ts';

/** Which deployed lake: the stacks' prefix and stage, and where and as whom to reach them. */
export interface AwsTargetOptions extends AwsConnection {
  readonly prefix: string;
  readonly stage: string;
  /**
   * Rows a query returns at most.
   * @default 10000
   */
  readonly maxRows?: number;
}

/** A deployed lake's target; `lake` keeps what discovery found (the state machine for `reconcile`). */
export interface AwsTarget extends LakeTarget {
  readonly kind: 'aws';
  readonly lake: DeployedLake;
}

/**
 * Finds the deployed lake (CloudFormation outputs) and binds the commands to it: S3 for the
 * buckets, the ledger table in DynamoDB, Athena in the lake's workgroup and database, SNS on the
 * events topic.
 * @throws LakeDiscoveryError when a stack or one of its outputs is missing.
 */
export async function awsTarget(options: AwsTargetOptions): Promise<AwsTarget> {
  const lake = await discoverLake(options);
  // The discovered region: the stacks were found there, whatever chain resolved it.
  const config = awsClientConfig({ ...options, region: lake.region });
  const s3 = new S3Client(config);
  const dynamodb = new DynamoDBClient(config);
  const athena = new AthenaClient(config);
  const sns = new SNSClient(config);
  return {
    kind: 'aws',
    label: `stack ${options.prefix}-${options.stage} (${lake.region})`,
    lake,
    s3,
    buckets: {
      landing: lake.buckets.landing,
      raw: lake.buckets.raw,
      failure: lake.buckets.failure,
      curated: lake.buckets.curated,
    },
    ledger: dynamoLedgerReader(dynamodb, lake.ledgerTable),
    query: (sql, { signal }) =>
      runAthenaQuery(athena, {
        workgroup: lake.athenaWorkgroup,
        database: lake.glueDatabase,
        sql,
        ...(signal === undefined ? {} : { signal }),
        ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      }),
    subscribe: (request) => subscribeTopic(sns, lake.eventsTopicArn, request),
    close: async () => {
      for (const client of [s3, dynamodb, athena, sns]) client.destroy();
    },
  };
}
