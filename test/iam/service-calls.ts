/**
 * The calls AWS services make for the lake, derived from the synthesized templates: S3 → SNS (zone
 * object events) and S3 → Lambda (landing events, with the key of the encrypted topic), S3 server
 * access logging, CloudWatch → SNS (every alarm's actions), Scheduler → Lambda (its role, assumed),
 * Step Functions assuming its role and delivering its logs, Lambda writing each function's logs
 * and the trigger's on-failure destination, Logs → KMS (every encrypted log group), Glue assuming
 * its role, reading its script, writing its encrypted logs and metrics, and the CDK custom
 * resource that configures the bucket notifications.
 */
import type { LakePolicies } from './lake-policies.ts';
import type { LakeResources } from './lake-resources.ts';
import type { IamCall } from './simulate.ts';

type Props = Record<string, unknown>;

/** Every service-to-service call of both stacks. */
export function serviceCalls(lake: LakePolicies, res: LakeResources): IamCall[] {
  const calls: IamCall[] = [];
  const { cfn, env } = lake;
  const { partition, region, account } = env;
  const source = (arn: string) => ({ 'aws:SourceArn': arn, 'aws:SourceAccount': account });
  /** A service publishing to an encrypted topic: the publish, and the data key it asks KMS for. */
  const publish = (who: string, principal: string, topic: string, from: string): IamCall[] => [
    { who, principal, action: 'sns:Publish', resource: topic, context: source(from) },
    ...['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
      who: `${who} (topic key)`,
      principal,
      action,
      resource: res.keyArn,
      context: { ...source(from), 'kms:EncryptionContext:aws:sns:topicArn': topic },
    })),
  ];
  const logsPrincipal = `logs.${region}.${env.urlSuffix}`;
  /** CloudWatch Logs encrypting a log group's events with the lake key. */
  const logsKms = (logGroup: string): IamCall[] =>
    ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:DescribeKey'].map(
      (action) => ({
        who: 'Logs → KMS',
        principal: logsPrincipal,
        action,
        resource: res.keyArn,
        context: { 'kms:EncryptionContext:aws:logs:arn': logGroup, 'aws:SourceAccount': account },
      }),
    );
  const logGroupArn = (name: string) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`;

  for (const [stack, template] of Object.entries(cfn.templates)) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      const p = (resource.Properties ?? {}) as Props;
      const text = (v: unknown) => cfn.text(stack, v);
      switch (resource.Type) {
        case 'Custom::S3BucketNotifications': {
          const bucket = text(p.BucketName);
          const bucketArn = `arn:${partition}:s3:::${bucket}`;
          const config = p.NotificationConfiguration as Props;
          for (const t of (config.TopicConfigurations ?? []) as Props[]) {
            calls.push(...publish(`S3 ${bucket} → SNS`, 's3.amazonaws.com', text(t.TopicArn), bucketArn));
          }
          for (const l of (config.LambdaFunctionConfigurations ?? []) as Props[]) {
            calls.push({
              who: `S3 ${bucket} → Lambda`,
              principal: 's3.amazonaws.com',
              action: 'lambda:InvokeFunction',
              resource: text(l.LambdaFunctionArn),
              context: source(bucketArn),
            });
          }
          // The CDK custom resource that writes the configuration, at deploy time.
          const handler = cfn.resolve(stack, p.ServiceToken) as string;
          calls.push({
            who: 'Bucket notifications handler',
            principal: roleOfFunction(lake, stack, handler),
            action: 's3:PutBucketNotification',
            resource: bucketArn,
          });
          break;
        }
        case 'AWS::S3::Bucket': {
          const logging = p.LoggingConfiguration as Props | undefined;
          if (!logging) break;
          const bucketArn = cfn.names(stack, id).attributes.Arn!;
          calls.push({
            who: `S3 access logs of ${id}`,
            principal: 'logging.s3.amazonaws.com',
            action: 's3:PutObject',
            resource: `arn:${partition}:s3:::${text(logging.DestinationBucketName)}/${text(logging.LogFilePrefix)}2026-12-02-00-00-00-0000`,
            context: source(bucketArn),
          });
          break;
        }
        case 'AWS::CloudWatch::Alarm': {
          const alarm = cfn.names(stack, id).attributes.Arn!;
          for (const topic of (cfn.resolve(stack, p.AlarmActions ?? []) as string[]).filter((a) =>
            a.includes(':sns:'),
          )) {
            calls.push(...publish(`CloudWatch alarm ${id} → SNS`, 'cloudwatch.amazonaws.com', topic, alarm));
          }
          break;
        }
        case 'AWS::Scheduler::Schedule': {
          const target = p.Target as Props;
          const role = text(target.RoleArn);
          calls.push({
            who: 'Scheduler assumes its role',
            principal: 'scheduler.amazonaws.com',
            action: 'sts:AssumeRole',
            resource: role,
            context: source(
              `arn:${partition}:scheduler:${region}:${account}:schedule-group/${text(p.GroupName ?? 'default')}`,
            ),
          });
          calls.push({
            who: 'Scheduler → Lambda',
            principal: role,
            action: 'lambda:InvokeFunction',
            resource: text(target.Arn),
          });
          break;
        }
        case 'AWS::StepFunctions::StateMachine': {
          const machine = cfn.names(stack, id).ref;
          const role = text(p.RoleArn);
          calls.push({
            who: 'Step Functions assumes its role',
            principal: 'states.amazonaws.com',
            action: 'sts:AssumeRole',
            resource: role,
            context: source(machine),
          });
          // Vended log delivery to the execution log group (set up with the role's credentials).
          for (const action of [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:PutResourcePolicy',
            'logs:DescribeLogGroups',
          ]) {
            calls.push({ who: 'Step Functions logs', principal: role, action, resource: '*' });
          }
          calls.push({
            who: 'Step Functions X-Ray',
            principal: role,
            action: 'xray:PutTraceSegments',
            resource: '*',
          });
          break;
        }
        case 'AWS::Lambda::Function': {
          const role = text(p.Role);
          const logGroup = (p.LoggingConfig as Props | undefined)?.LogGroup;
          const name = logGroup === undefined ? `/aws/lambda/${cfn.names(stack, id).ref}` : text(logGroup);
          for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
            calls.push({
              who: `Lambda ${id} logs`,
              principal: role,
              action,
              resource: `${logGroupArn(name)}:log-stream:2026/12/02/[$LATEST]0000`,
            });
          }
          break;
        }
        case 'AWS::Lambda::EventInvokeConfig': {
          // The on-failure destination is called with the function's execution role.
          const fn = text(p.FunctionName);
          const role = roleOfFunction(lake, stack, fn);
          const queue = text(((p.DestinationConfig as Props).OnFailure as Props).Destination);
          calls.push({
            who: 'Lambda on-failure → SQS',
            principal: role,
            action: 'sqs:SendMessage',
            resource: queue,
          });
          for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
            calls.push({
              who: 'Lambda on-failure → SQS (queue key)',
              principal: role,
              action,
              resource: res.keyArn,
              context: { 'kms:ViaService': `sqs.${region}.amazonaws.com`, 'kms:CallerAccount': account },
            });
          }
          break;
        }
        case 'AWS::Logs::LogGroup':
          if (p.KmsKeyId !== undefined)
            calls.push(...logsKms(cfn.names(stack, id).attributes.Arn!.replace(/:\*$/, '')));
          break;
        case 'AWS::Glue::Job':
          calls.push(...glueCalls(lake, stack, p, res, logsKms));
          break;
        default:
      }
    }
  }
  return calls;
}

/** The role of a function given by name or ARN (its `Role` property). */
function roleOfFunction(lake: LakePolicies, stack: string, nameOrArn: string): string {
  const name = nameOrArn.replace(/^arn:[^:]+:lambda:[^:]+:[^:]+:function:/, '').replace(/:.*$/, '');
  for (const id of lake.logicalIds(stack, 'AWS::Lambda::Function')) {
    if (lake.cfn.names(stack, id).ref === name) {
      return lake.cfn.text(stack, lake.cfn.resource(stack, id).Properties?.Role);
    }
  }
  throw new Error(`no function ${nameOrArn} in ${stack}`);
}

/**
 * Glue running the job: assuming the role, reading the script, its encrypted continuous logs
 * (under `/aws-glue/jobs/`, the security configuration's name in the group), and its metrics.
 */
function glueCalls(
  lake: LakePolicies,
  stack: string,
  p: Props,
  res: LakeResources,
  logsKms: (logGroup: string) => IamCall[],
): IamCall[] {
  const { cfn, env } = lake;
  const role = cfn.text(stack, p.Role);
  const script = cfn
    .text(stack, (p.Command as Props).ScriptLocation)
    .replace(/^s3:\/\//, `arn:${env.partition}:s3:::`);
  const security = cfn.text(stack, p.SecurityConfiguration);
  const roleName = role.replace(/^.*:role\//, '');
  const groups = [
    `/aws-glue/jobs/${security}-role/${roleName}/output`,
    `/aws-glue/jobs/${security}-role/${roleName}/error`,
    `/aws-glue/jobs/logs-v2-${security}`,
  ];
  const group = (name: string) => `arn:${env.partition}:logs:${env.region}:${env.account}:log-group:${name}`;
  return [
    {
      who: 'Glue assumes the job role',
      principal: 'glue.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: role,
    },
    { who: 'Glue reads the script', principal: role, action: 's3:GetObject', resource: script },
    ...groups.flatMap((name) => [
      { who: 'Glue logs', principal: role, action: 'logs:CreateLogGroup', resource: group(name) },
      { who: 'Glue logs', principal: role, action: 'logs:AssociateKmsKey', resource: group(name) },
      {
        who: 'Glue logs',
        principal: role,
        action: 'logs:CreateLogStream',
        resource: `${group(name)}:log-stream:jr_0`,
      },
      {
        who: 'Glue logs',
        principal: role,
        action: 'logs:PutLogEvents',
        resource: `${group(name)}:log-stream:jr_0`,
      },
      ...logsKms(group(name)),
    ]),
    {
      who: 'Glue metrics',
      principal: role,
      action: 'cloudwatch:PutMetricData',
      resource: '*',
      context: { 'cloudwatch:namespace': 'Glue' },
    },
    ...['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
      who: 'Glue security configuration (S3 SSE-KMS)',
      principal: role,
      action,
      resource: res.keyArn,
      context: { 'kms:ViaService': `s3.${env.region}.amazonaws.com`, 'kms:CallerAccount': env.account },
    })),
  ];
}
