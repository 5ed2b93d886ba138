/**
 * Finding the deployed lake from its stacks' outputs (CloudFormation through aws-sdk-client-mock):
 * found, a stack missing, an output missing; and the settings every CLI client shares.
 */
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  type Output,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import {
  AWS_MAX_ATTEMPTS,
  awsClientConfig,
  discoverLake,
  LakeDiscoveryError,
  PIPELINE_OUTPUTS,
  STORAGE_OUTPUTS,
} from '../../../lib/aws/stack.ts';

const cfn = mockClient(CloudFormationClient);
const REGION = 'eu-west-1';
const OPTIONS = { prefix: 'csvlake', stage: 'dev', region: REGION };

afterEach(() => {
  cfn.reset();
});

/** Outputs as CloudFormation lists them: each output name with a value derived from it. */
const outputs = (names: Readonly<Record<string, string>>, without: readonly string[] = []): Output[] =>
  Object.values(names)
    .filter((name) => !without.includes(name))
    .map((name) => ({ OutputKey: name, OutputValue: `value-of-${name}` }));

/** A deployed stack as DescribeStacks describes it. */
const stack = (StackName: string, Outputs: Output[]) => ({
  Stacks: [{ StackName, Outputs, CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE' as const }],
});

/** Both stacks deployed, the storage stack without the outputs in `storageWithout`. */
function deployed(storageWithout: readonly string[] = []) {
  cfn
    .on(DescribeStacksCommand, { StackName: 'csvlake-dev-storage' })
    .resolves(stack('csvlake-dev-storage', outputs(STORAGE_OUTPUTS, storageWithout)));
  cfn
    .on(DescribeStacksCommand, { StackName: 'csvlake-dev-pipeline' })
    .resolves(stack('csvlake-dev-pipeline', outputs(PIPELINE_OUTPUTS)));
}

/** CloudFormation's answer for a stack that does not exist. */
const noStack = (name: string) =>
  new CloudFormationServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Stack with id ${name} does not exist`,
  });

describe('discoverLake', () => {
  it("reads both stacks' outputs into the lake's names", async () => {
    // Prepare
    deployed();

    // Act
    const lake = await discoverLake(OPTIONS);

    // Assess
    expect(lake).toEqual({
      region: REGION,
      stacks: { storage: 'csvlake-dev-storage', pipeline: 'csvlake-dev-pipeline' },
      buckets: {
        landing: 'value-of-LandingBucketName',
        raw: 'value-of-RawBucketName',
        failure: 'value-of-FailureBucketName',
        curated: 'value-of-CuratedBucketName',
        athenaResults: 'value-of-AthenaResultsBucketName',
      },
      eventsTopicArn: 'value-of-EventsTopicArn',
      glueDatabase: 'value-of-GlueDatabaseName',
      ledgerTable: 'value-of-LedgerTableName',
      stateMachineArn: 'value-of-StateMachineArn',
      athenaWorkgroup: 'value-of-AthenaWorkgroup',
    });
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 2);
  });

  it('a missing stack: an error naming the stack, the region and the deploy command', async () => {
    // Prepare
    deployed();
    cfn
      .on(DescribeStacksCommand, { StackName: 'csvlake-dev-pipeline' })
      .rejects(noStack('csvlake-dev-pipeline'));

    // Act
    const error = await discoverLake(OPTIONS).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LakeDiscoveryError);
    expect((error as Error).message).toMatch(
      /^stack csvlake-dev-pipeline not found in eu-west-1: deploy it with npx cdk deploy/,
    );
  });

  it('a missing output: an error naming it and saying to deploy again', async () => {
    // Prepare: a storage stack deployed before the ledger table existed.
    deployed(['LedgerTableName']);

    // Act
    const error = await discoverLake(OPTIONS).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LakeDiscoveryError);
    expect((error as Error).message).toBe(
      'stack csvlake-dev-storage (eu-west-1, UPDATE_COMPLETE) has no output LedgerTableName: the stack predates this CLI: deploy it again with npx cdk deploy',
    );
  });

  it('another CloudFormation error passes through as it is', async () => {
    // Prepare
    deployed();
    const denied = new CloudFormationServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: {},
      message: 'not authorized to perform: cloudformation:DescribeStacks',
    });
    cfn.on(DescribeStacksCommand, { StackName: 'csvlake-dev-storage' }).rejects(denied);

    // Act
    const error = await discoverLake(OPTIONS).catch((e: unknown) => e);

    // Assess
    expect(error).toBe(denied);
  });
});

describe('awsClientConfig', () => {
  it('gives region, profile, adaptive retries and the attempt count, and leaves out what is not given', async () => {
    // Act
    const full = awsClientConfig({ region: REGION, profile: 'ops' });
    const bare = awsClientConfig({});
    const client = new CloudFormationClient({
      ...full,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });

    // Assess
    expect(full).toEqual({
      region: REGION,
      profile: 'ops',
      retryMode: 'adaptive',
      maxAttempts: AWS_MAX_ATTEMPTS,
    });
    expect(bare).toEqual({ retryMode: 'adaptive', maxAttempts: AWS_MAX_ATTEMPTS });
    // The client takes them as its own (the retry strategy is built from them).
    expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(await client.config.maxAttempts()).toBe(AWS_MAX_ATTEMPTS);
    client.destroy();
  });
});
