/** The lake's resources and principals with concrete names and ARNs, read from the resolved templates. */
import type { LakePolicies } from './lake-policies.ts';

/** Every ARN and name the IAM tests address. */
export function lakeResources(lake: LakePolicies, storage: string, pipeline: string) {
  const { cfn, env } = lake;
  const output = (name: string) => {
    const value = cfn.templates[storage]?.Outputs?.[name];
    if (!value) throw new Error(`no output ${name} in ${storage}`);
    return cfn.text(storage, value.Value);
  };
  const topic = (prefix: string) => lake.names(storage, 'AWS::SNS::Topic', prefix).ref;
  const fn = (prefix: string) => lake.names(pipeline, 'AWS::Lambda::Function', prefix).attributes.Arn!;
  const stateMachine = lake.names(pipeline, 'AWS::StepFunctions::StateMachine');
  const arnOf = (stack: string, type: string) =>
    lake.logicalIds(stack, type).map((id) => cfn.names(stack, id).attributes.Arn!);
  return {
    account: env.account,
    region: env.region,
    partition: env.partition,
    buckets: {
      landing: output('LandingBucketName'),
      raw: output('RawBucketName'),
      failure: output('FailureBucketName'),
      curated: output('CuratedBucketName'),
      results: output('AthenaResultsBucketName'),
    },
    keyArn: lake.names(storage, 'AWS::KMS::Key').attributes.Arn!,
    /** The Glue database, as the Commit function's environment names it. */
    databaseName: glueDatabase(lake, pipeline),
    /** The Glue table optimizers' role; absent with `tableOptimizers: false`. */
    optimizerRole: lake.roles.find((r) => r.logicalId.startsWith('CatalogOptimizerRole'))?.arn,
    topics: {
      events: topic('NotificationsEvents'),
      zoneEvents: topic('NotificationsZoneEvents'),
      alarms: topic('NotificationsAlarms'),
    },
    stateMachine: { arn: stateMachine.ref, name: stateMachine.attributes.Name! },
    functions: {
      validate: fn('Validate'),
      convert: fn('Convert'),
      commit: fn('Commit'),
      trigger: fn('Trigger'),
      reconcile: fn('Reconcile'),
    },
    jobName: lake.names(pipeline, 'AWS::Glue::Job').ref,
    queues: {
      triggerFailures: lake.names(pipeline, 'AWS::SQS::Queue', 'TriggerFailures').attributes.Arn!,
      commit: lake.names(pipeline, 'AWS::SQS::Queue', 'CommitQueue').attributes.Arn!,
      commitDeadLetters: lake.names(pipeline, 'AWS::SQS::Queue', 'CommitDeadLetters').attributes.Arn!,
    },
    schedule: lake.names(pipeline, 'AWS::Scheduler::Schedule').attributes.Arn!,
    /** Every encrypted log group of both stacks, by ARN (without the `:*` of `Fn::GetAtt`). */
    logGroups: [...arnOf(storage, 'AWS::Logs::LogGroup'), ...arnOf(pipeline, 'AWS::Logs::LogGroup')].map(
      (a) => a.replace(/:\*$/, ''),
    ),
    alarms: arnOf(pipeline, 'AWS::CloudWatch::Alarm'),
    roles: {
      validate: lake.role('ValidateRole').arn,
      convert: lake.role('ConvertRole').arn,
      commit: lake.role('CommitRole').arn,
      tables: lake.role('CatalogTablesRole').arn,
      trigger: lake.role('TriggerRole').arn,
      reconcile: lake.role('ReconcileRole').arn,
      glue: lake.role('CsvToParquetRole').arn,
      stateMachine: lake.role('IngestStateMachineRole').arn,
      scheduler: lake.role('SchedulerRoleForTarget').arn,
    },
  };
}

/** The Glue database the Commit function is configured with (a plain name in its environment). */
function glueDatabase(lake: LakePolicies, pipeline: string): string {
  const id = lake.logicalIds(pipeline, 'AWS::Lambda::Function').find((i) => i.startsWith('CommitFunction'));
  if (!id) throw new Error(`no Commit function in ${pipeline}`);
  const env = lake.cfn.resolve(pipeline, lake.cfn.resource(pipeline, id).Properties?.Environment) as {
    Variables: Record<string, string>;
  };
  return env.Variables.GLUE_DATABASE!;
}

/** The lake's resources, as {@link lakeResources} returns them. */
export type LakeResources = ReturnType<typeof lakeResources>;

/** ARN builders over the lake's names: a regional ARN, a zone's bucket or object, a KMS ViaService context. */
export function arnsOf(res: LakeResources) {
  const { partition, region, account } = res;
  const urlSuffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return {
    arn: (service: string, resource: string) =>
      `arn:${partition}:${service}:${region}:${account}:${resource}`,
    object: (zone: keyof LakeResources['buckets'], key: string) =>
      `arn:${partition}:s3:::${res.buckets[zone]}/${key}`,
    bucket: (zone: keyof LakeResources['buckets']) => `arn:${partition}:s3:::${res.buckets[zone]}`,
    via: (service: string) => ({ 'kms:ViaService': `${service}.${region}.${urlSuffix}` }),
  };
}
