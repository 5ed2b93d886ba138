/**
 * The AWS target assembled from a discovered lake (aws-sdk-client-mock for every service): each
 * command reaches the resource the stacks' outputs name, with the CLI's client settings, and
 * close() releases the clients.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSubscriptionAttributesCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { AWS_MAX_ATTEMPTS, PIPELINE_OUTPUTS, STORAGE_OUTPUTS } from '../../../lib/aws/stack.ts';
import { awsTarget } from '../../../lib/aws/target.ts';

const cfn = mockClient(CloudFormationClient);
const doc = mockClient(DynamoDBDocumentClient);
const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);

afterEach(() => {
  for (const mock of [cfn, doc, athena, sns]) mock.reset();
  vi.restoreAllMocks();
});

/** Both stacks deployed; each output's value is `<stack>:<output name>`. */
function deployed() {
  for (const [stack, names] of [
    ['csvlake-prod-storage', STORAGE_OUTPUTS],
    ['csvlake-prod-pipeline', PIPELINE_OUTPUTS],
  ] as const) {
    cfn.on(DescribeStacksCommand, { StackName: stack }).resolves({
      Stacks: [
        {
          StackName: stack,
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: Object.values(names).map((name) => ({ OutputKey: name, OutputValue: `${stack}:${name}` })),
        },
      ],
    });
  }
}

const OPTIONS = { prefix: 'csvlake', stage: 'prod', region: 'eu-north-1', profile: 'ops' };

describe('awsTarget', () => {
  it('binds buckets, ledger, query and subscribe to what the stacks name, in their region', async () => {
    // Prepare
    deployed();
    doc.on(QueryCommand).resolves({ Items: [] });
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { Rows: [], ResultSetMetadata: { ColumnInfo: [] } } });
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: 'arn:aws:sns:eu-north-1:1:t:s' });
    sns.on(GetSubscriptionAttributesCommand).resolves({ Attributes: { PendingConfirmation: 'false' } });

    // Act
    const target = await awsTarget(OPTIONS);
    await target.ledger.list({ dataset: 'orders', limit: 1 });
    await target.query('SELECT 1', {});
    await target.subscribe({ endpoint: 'ops@example.com', protocol: 'email', statuses: [], datasets: [] });

    // Assess
    expect(target.kind).toBe('aws');
    expect(target.label).toBe('stack csvlake-prod (eu-north-1)');
    expect(target.buckets).toEqual({
      landing: 'csvlake-prod-storage:LandingBucketName',
      raw: 'csvlake-prod-storage:RawBucketName',
      failure: 'csvlake-prod-storage:FailureBucketName',
      curated: 'csvlake-prod-storage:CuratedBucketName',
    });
    expect(doc).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'csvlake-prod-storage:LedgerTableName',
    });
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      WorkGroup: 'csvlake-prod-pipeline:AthenaWorkgroup',
      QueryExecutionContext: { Database: 'csvlake-prod-storage:GlueDatabaseName' },
    });
    expect(sns).toHaveReceivedCommandWith(SubscribeCommand, {
      TopicArn: 'csvlake-prod-storage:EventsTopicArn',
    });
    expect(await target.s3.config.region()).toBe('eu-north-1');
    expect(await target.s3.config.maxAttempts()).toBe(AWS_MAX_ATTEMPTS);
    expect(target.s3.config.profile).toBe('ops');
    await target.close();
  });

  it('close() destroys every client it made', async () => {
    // Prepare
    deployed();
    const destroyed = [S3Client, DynamoDBClient, AthenaClient, SNSClient].map((c) =>
      vi.spyOn(c.prototype, 'destroy'),
    );

    // Act
    const target = await awsTarget(OPTIONS);
    await target.close();

    // Assess
    for (const spy of destroyed) expect(spy).toHaveBeenCalledOnce();
  });
});
