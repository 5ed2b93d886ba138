/**
 * The calls the state machine makes with its role, derived from the synthesized definition: each
 * Task state's service integration and the IAM actions Step Functions needs for it ("How Step
 * Functions generates IAM policies for integrated services", Step Functions developer guide).
 */
import type { LakePolicies } from './lake-policies.ts';
import type { LakeResources } from './lake-resources.ts';
import type { IamCall } from './simulate.ts';

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly Branches?: readonly AslMachine[];
  readonly Iterator?: AslMachine;
  readonly ItemProcessor?: AslMachine;
}
interface AslMachine {
  readonly States: Record<string, AslState>;
}

/** Every Task state of the synthesized definition, nested ones included, by name. */
export function taskStates(lake: LakePolicies, pipeline: string): Map<string, AslState> {
  const id = lake.logicalIds(pipeline, 'AWS::StepFunctions::StateMachine')[0]!;
  const definition = JSON.parse(
    lake.cfn.text(pipeline, lake.cfn.resource(pipeline, id).Properties?.DefinitionString),
  ) as AslMachine;
  const tasks = new Map<string, AslState>();
  const walk = (machine: AslMachine) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (state.Type === 'Task') tasks.set(name, state);
      for (const inner of [...(state.Branches ?? []), state.Iterator, state.ItemProcessor])
        if (inner) walk(inner);
    }
  };
  walk(definition);
  return tasks;
}

/** The calls the state machine's role makes to run one Task state. */
export function taskCalls(name: string, state: AslState, res: LakeResources): IamCall[] {
  const resource = state.Resource ?? '';
  const principal = res.roles.stateMachine;
  const who = `Step Functions ${name}`;
  const p = state.Parameters ?? {};
  if (/^arn:[^:]+:lambda:[^:]+:[^:]+:function:/.test(resource)) {
    return [{ who, principal, action: 'lambda:InvokeFunction', resource }];
  }
  if (/^arn:[^:]+:states:::lambda:invoke/.test(resource)) {
    return [{ who, principal, action: 'lambda:InvokeFunction', resource: String(p.FunctionName) }];
  }
  if (/^arn:[^:]+:states:::glue:startJobRun\.sync$/.test(resource)) {
    const job = `arn:${res.partition}:glue:${res.region}:${res.account}:job/${String(p.JobName)}`;
    // The .sync pattern polls the run and stops it when the execution is stopped.
    return ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'].map(
      (action) => ({
        who,
        principal,
        action,
        resource: job,
      }),
    );
  }
  if (/^arn:[^:]+:states:::sns:publish$/.test(resource)) {
    const topic = String(p.TopicArn);
    // An encrypted topic: SNS asks KMS for a data key with the publisher's credentials.
    const kms = (action: string): IamCall => ({
      who,
      principal,
      action,
      resource: res.keyArn,
      context: {
        'kms:ViaService': `sns.${res.region}.amazonaws.com`,
        'kms:CallerAccount': res.account,
        'kms:EncryptionContext:aws:sns:topicArn': topic,
        'kms:EncryptionContextKeys': ['aws:sns:topicArn'],
      },
    });
    return [
      { who, principal, action: 'sns:Publish', resource: topic },
      kms('kms:GenerateDataKey'),
      kms('kms:Decrypt'),
    ];
  }
  if (/^arn:[^:]+:states:::sqs:sendMessage(\.waitForTaskToken)?$/.test(resource)) {
    // The queue by its URL (https://sqs.<region>.<suffix>/<account>/<name>), authorized by its ARN.
    const m = /^https:\/\/sqs\.([^.]+)\.[^/]+\/(\d+)\/(.+)$/.exec(String(p.QueueUrl));
    if (!m) throw new Error(`${name}: a QueueUrl of no known shape: ${String(p.QueueUrl)}`);
    const queue = `arn:${res.partition}:sqs:${m[1]}:${m[2]}:${m[3]}`;
    // An SSE-KMS queue: SQS asks KMS for a data key (and decrypts it) with the sender's
    // credentials ("Key management", SQS developer guide).
    const kms = (action: string): IamCall => ({
      who,
      principal,
      action,
      resource: res.keyArn,
      context: {
        'kms:ViaService': `sqs.${res.region}.amazonaws.com`,
        'kms:CallerAccount': res.account,
        'kms:EncryptionContext:aws:sqs:arn': queue,
        'kms:EncryptionContextKeys': ['aws:sqs:arn'],
      },
    });
    return [
      { who, principal, action: 'sqs:SendMessage', resource: queue },
      kms('kms:GenerateDataKey'),
      kms('kms:Decrypt'),
    ];
  }
  const dynamodb = /^arn:[^:]+:states:::dynamodb:(\w+)$/.exec(resource)?.[1];
  if (dynamodb) {
    // The ledger: an item API call on the table; the table's customer-managed key is used by
    // DynamoDB with the caller's credentials (kms:ViaService dynamodb), as CDK's table grants assume.
    const table = `arn:${res.partition}:dynamodb:${res.region}:${res.account}:table/${String(p.TableName)}`;
    const action = `dynamodb:${dynamodb.charAt(0).toUpperCase()}${dynamodb.slice(1)}`;
    return [
      { who, principal, action, resource: table },
      {
        who,
        principal,
        action: 'kms:Decrypt',
        resource: res.keyArn,
        context: {
          'kms:ViaService': `dynamodb.${res.region}.amazonaws.com`,
          'kms:CallerAccount': res.account,
        },
      },
    ];
  }
  throw new Error(
    `no IAM mapping for the Task state ${name} (${resource}): add it to test/iam/workflow-calls.ts`,
  );
}
