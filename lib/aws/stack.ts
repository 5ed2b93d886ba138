/**
 * The deployed lake as the CLI finds it: the names and ARNs the two stacks publish as outputs
 * (lib/stacks/*-stack.ts), read with CloudFormation's DescribeStacks, never typed by hand.
 */
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';

/** Where and as whom the CLI reaches AWS. */
export interface AwsConnection {
  /** The stacks' region; the SDK's own resolution (AWS_REGION, the profile's region) when absent. */
  readonly region?: string;
  /** A profile of the shared config and credentials files; the SDK's default chain when absent. */
  readonly profile?: string;
}

/**
 * Attempts per request, the first included. The SDK's default is 3 (DynamoDB's 4); the CLI polls
 * Athena and pages DynamoDB and GetQueryResults in loops, where one throttled call would otherwise
 * end a command. A throttled call then waits up to 1, 2, 4 then 8 s (full jitter on the SDK's 1 s
 * throttling base, plus what the adaptive rate limiter adds): at most about 15 s, 7.5 s on
 * average, before the command gives up, which a person at a terminal still waits through. More
 * would look like a hang.
 */
export const AWS_MAX_ATTEMPTS = 5;

/** The settings every AWS client the CLI makes shares: region, profile and retries. */
export function awsClientConfig(connection: AwsConnection): {
  region?: string;
  profile?: string;
  retryMode: 'adaptive';
  maxAttempts: number;
} {
  return {
    // The SDK v3 clients take `profile` themselves: their region and credential providers read
    // that profile of ~/.aws/config and ~/.aws/credentials (no fromIni needed).
    ...(connection.region === undefined ? {} : { region: connection.region }),
    ...(connection.profile === undefined ? {} : { profile: connection.profile }),
    // Adaptive: standard retries plus a client-side rate limiter that slows down after throttling,
    // what a loop of polls needs rather than retrying at full rate.
    retryMode: 'adaptive',
    maxAttempts: AWS_MAX_ATTEMPTS,
  };
}

/** A lake deployed by `npx cdk deploy`: what its stacks' outputs name. */
export interface DeployedLake {
  readonly region: string;
  readonly stacks: { readonly storage: string; readonly pipeline: string };
  readonly buckets: {
    readonly landing: string;
    readonly raw: string;
    readonly failure: string;
    readonly curated: string;
    readonly athenaResults: string;
  };
  /** The pipeline's events (VALIDATED, REJECTED, CURATED, FAILED), which `subscribe` filters. */
  readonly eventsTopicArn: string;
  readonly glueDatabase: string;
  readonly ledgerTable: string;
  readonly stateMachineArn: string;
  readonly athenaWorkgroup: string;
}

/** The outputs the CLI reads from the storage stack, by the name the stack gives them. */
export const STORAGE_OUTPUTS = {
  landing: 'LandingBucketName',
  raw: 'RawBucketName',
  failure: 'FailureBucketName',
  curated: 'CuratedBucketName',
  athenaResults: 'AthenaResultsBucketName',
  eventsTopicArn: 'EventsTopicArn',
  glueDatabase: 'GlueDatabaseName',
  ledgerTable: 'LedgerTableName',
} as const;

/** The outputs the CLI reads from the pipeline stack. */
export const PIPELINE_OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  athenaWorkgroup: 'AthenaWorkgroup',
} as const;

/** A stack the CLI needs is not deployed in the region, or lacks an output. */
export class LakeDiscoveryError extends Error {
  override readonly name = 'LakeDiscoveryError';
}

/** The two stacks' names for a prefix and stage, as lib/lake.ts names them. */
export function lakeStackNames(prefix: string, stage: string): { storage: string; pipeline: string } {
  const base = `${prefix}-${stage}`;
  return { storage: `${base}-storage`, pipeline: `${base}-pipeline` };
}

/**
 * Finds the deployed lake of `prefix` and `stage`: DescribeStacks on its storage and pipeline
 * stacks, their outputs read into a {@link DeployedLake}.
 * @throws LakeDiscoveryError naming the missing stack (and its region) or the missing outputs.
 */
export async function discoverLake(
  options: AwsConnection & { readonly prefix: string; readonly stage: string },
): Promise<DeployedLake> {
  const cfn = new CloudFormationClient(awsClientConfig(options));
  try {
    const region = await resolveRegion(cfn);
    const names = lakeStackNames(options.prefix, options.stage);
    const [storage, pipeline] = await Promise.all([
      stackOutputs(cfn, names.storage, region, STORAGE_OUTPUTS),
      stackOutputs(cfn, names.pipeline, region, PIPELINE_OUTPUTS),
    ]);
    return {
      region,
      stacks: names,
      buckets: {
        landing: storage.landing,
        raw: storage.raw,
        failure: storage.failure,
        curated: storage.curated,
        athenaResults: storage.athenaResults,
      },
      eventsTopicArn: storage.eventsTopicArn,
      glueDatabase: storage.glueDatabase,
      ledgerTable: storage.ledgerTable,
      stateMachineArn: pipeline.stateMachineArn,
      athenaWorkgroup: pipeline.athenaWorkgroup,
    };
  } finally {
    cfn.destroy();
  }
}

/** The client's region; none anywhere (option, environment, profile) is a {@link LakeDiscoveryError}. */
async function resolveRegion(cfn: CloudFormationClient): Promise<string> {
  try {
    return await cfn.config.region();
  } catch {
    throw new LakeDiscoveryError(
      'no AWS region: give --region, or set AWS_REGION or a region in the profile',
    );
  }
}

/** One stack's outputs, by the field names of `wanted`; every one of them must be there. */
async function stackOutputs<K extends string>(
  cfn: CloudFormationClient,
  stackName: string,
  region: string,
  wanted: Readonly<Record<K, string>>,
): Promise<Record<K, string>> {
  const stack = await describeStack(cfn, stackName, region);
  const found = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const missing = Object.values<string>(wanted).filter((name) => !found.get(name));
  if (missing.length > 0) {
    // The status tells a stack deployed before the output existed from one whose deployment failed.
    throw new LakeDiscoveryError(
      `stack ${stackName} (${region}, ${stack.StackStatus ?? 'status unknown'}) has no output ${missing.join(', ')}: the stack predates this CLI: deploy it again with npx cdk deploy`,
    );
  }
  return Object.fromEntries(
    Object.entries<string>(wanted).map(([field, name]) => [field, found.get(name)!]),
  ) as Record<K, string>;
}

/** A stack as DescribeStacks describes it; a stack that does not exist is a {@link LakeDiscoveryError}. */
async function describeStack(cfn: CloudFormationClient, stackName: string, region: string): Promise<Stack> {
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (stack) return stack;
  } catch (error) {
    // CloudFormation answers a missing stack with a generic ValidationError, told by its message.
    if (
      !(error instanceof Error && error.name === 'ValidationError' && /does not exist/i.test(error.message))
    ) {
      throw error;
    }
  }
  throw new LakeDiscoveryError(
    `stack ${stackName} not found in ${region}: deploy it with npx cdk deploy (or give the right --region, --prefix, --stage)`,
  );
}
