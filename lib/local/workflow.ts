/**
 * The ingest workflow on one machine: the state machine CDK synthesizes for the PipelineStack,
 * executed in-process by aws-local-stepfunctions with its Task states bound to local functions
 * (the same handler cores, the DuckDB twin of the Glue job, a local notifier).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Dataset } from '../datasets/model.ts';
import {
  definitionFromTemplate,
  type Intrinsic,
  PSEUDO_PARAMETERS,
  referenceName,
} from '../workflow/definition.ts';

// aws-local-stepfunctions 3 uses Node 22's Promise.withResolvers; give Node 20 the same.
const promiseStatics = Promise as unknown as { withResolvers?: () => unknown };
promiseStatics.withResolvers ??= () => {
  let resolvePromise!: (value: unknown) => void;
  let rejectPromise!: (reason: unknown) => void;
  const promise = new Promise((res, rej) => {
    resolvePromise = res;
    rejectPromise = rej;
  });
  return { promise, resolve: resolvePromise, reject: rejectPromise };
};

/** An Amazon States Language definition (JSONPath). */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<
    string,
    { readonly Type: string; readonly Resource?: string } & Record<string, unknown>
  >;
}

/** The local stand-ins of the workflow's Task resources. */
export interface LocalTasks {
  /** A Lambda function, by the construct id of the function (`Validate`, `Convert`). */
  readonly lambda: Record<string, (payload: unknown) => Promise<unknown>>;
  /** `glue:startJobRun.sync`: runs the job to its end; returns Glue's JobRun fields. */
  readonly glueJob: (parameters: { JobName: string; Arguments: Record<string, string> }) => Promise<unknown>;
  /**
   * A DynamoDB integration (`dynamodb:updateItem`, …): its API action and parameters, as the
   * service takes them; the state's name for faults and traces. Errors must carry Step Functions'
   * names (`DynamoDB.ConditionalCheckFailedException`).
   */
  readonly dynamodb: (
    action: string,
    parameters: Record<string, unknown>,
    stateName: string,
  ) => Promise<unknown>;
  /**
   * `sqs:sendMessage.waitForTaskToken` (CommitToTable): the message goes to the queue's consumer;
   * resolves with the output its SendTaskSuccess gives, or rejects with an Error named as its
   * SendTaskFailure's error (which the state's Retry and Catch match). The message body holds the
   * task token as Step Functions would put it (`$$.Task.Token`).
   */
  readonly sendMessageForToken: (
    parameters: {
      QueueUrl: string;
      MessageBody: unknown;
      MessageGroupId?: string;
      MessageDeduplicationId?: string;
    },
    stateName: string,
  ) => Promise<unknown>;
  /** `sns:publish`. */
  readonly publish: (parameters: {
    TopicArn: string;
    Message: unknown;
    MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
  }) => Promise<unknown>;
}

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';

/**
 * Synthesizes the PipelineStack with the given datasets and context (no bundling, no CloudFormation lint: only
 * the template is needed) and returns its state machine definition, every reference resolved to a
 * local name: functions by construct id, other resources by logical id or output name.
 */
export async function synthesizeLocalDefinition(
  datasets: readonly Dataset[],
  datasetsDir: string,
  context: Readonly<Record<string, unknown>> = {},
): Promise<AslDefinition> {
  // Loaded here, not at module scope: only the commands that run the workflow pay for the CDK.
  const [{ App }, { parseConfig }, { buildLake }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../config.ts'),
    import('../lake.ts'),
  ]);
  const outdir = await mkdtemp(join(tmpdir(), 'datalake-synth-'));
  try {
    const app = new App({
      outdir,
      // Path metadata names each function's construct, which is how Task states find their handler.
      context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
      // Not deployed, only read: CloudFormation's template lint would take seconds.
      builtinCloudFormationValidation: false,
    } as ConstructorParameters<typeof App>[0]);
    // The app's configuration as `-c key=value` would give it: defaults, unless overridden.
    const config = parseConfig((key) => context[key]);
    const { pipeline } = buildLake(app, { config, datasets, datasetsDir: resolve(datasetsDir) });
    const template = app.synth({ skipValidation: true }).getStackByName(pipeline.stackName).template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
    };
    const functionIds = new Map<string, string>();
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const path = resource.Metadata?.['aws:cdk:path'];
      if (resource.Type === 'AWS::Lambda::Function' && typeof path === 'string') {
        // `<stack>/<Construct>/Function/Resource` → `<Construct>`
        functionIds.set(logicalId, path.split('/')[1] ?? logicalId);
      }
    }
    const resolveReference = (ref: Intrinsic): string => {
      const name = referenceName(ref);
      const pseudo = PSEUDO_PARAMETERS[name];
      if (pseudo !== undefined) return pseudo;
      const fn = functionIds.get(name);
      return fn ? `${FUNCTION_ARN}${fn}` : `local-${name}`;
    };
    return definitionFromTemplate(template, resolveReference) as AslDefinition;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** How one execution ended. */
export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** The states entered, in order (retries enter a state once). */
  readonly states: string[];
}

const machines = new WeakMap<AslDefinition, StateMachine>();

/**
 * The state machine of a definition, checked by asl-validator on the first call and reused after:
 * the check takes 0.15–0.4 s, which every execution paid when each built its own.
 */
export function localStateMachine(definition: AslDefinition): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    machines.set(definition, machine);
  }
  return machine;
}

/** Runs one execution of `definition` with its Task states bound to `tasks`. */
export async function runLocalExecution(
  definition: AslDefinition,
  execution: { readonly name: string; readonly input: unknown },
  tasks: LocalTasks,
  onState?: (state: string) => void,
  retryDelayMs?: number,
): Promise<ExecutionResult> {
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    handlers[stateName] = taskHandler(stateName, state.Resource ?? '', tasks);
    if (retryDelayMs !== undefined) retryIntervalOverrides[stateName] = retryDelayMs;
  }
  const machine = localStateMachine(definition);
  const startTime = new Date().toISOString();
  const executionId = `arn:aws:states:us-east-1:123456789012:execution:local-ingest:${execution.name}`;
  const run = machine.run(execution.input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    context: {
      Execution: {
        Id: executionId,
        Name: execution.name,
        StartTime: startTime,
        Input: execution.input as never,
      },
      StateMachine: {
        Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:local-ingest',
        Name: 'local-ingest',
      },
      // The engine keeps no State context object; Step Functions' `$$.State.EnteredTime` is the
      // time the state was entered, which is when its parameters are read: now.
      State: {
        get EnteredTime() {
          return new Date().toISOString();
        },
        // Retries of a state are the engine's, which keeps no count here; locally nothing
        // deduplicates messages by it (the in-process queue takes each send as it comes).
        RetryCount: 0,
      },
      // `$$.Task.Token` (JsonPath.taskToken) is read only by a `.waitForTaskToken` state's
      // parameters: a fresh token each time they are read, as Step Functions issues one per attempt.
      Task: {
        get Token() {
          return `local-task-token-${randomUUID()}`;
        },
      },
    } as never,
  });
  const states: string[] = [];
  const logging = (async () => {
    for await (const event of run.eventLogs) {
      if (event.type === 'StateEntered') {
        states.push(event.state.name);
        onState?.(event.state.name);
      }
    }
  })();
  try {
    const output = await run.result;
    await logging;
    return { status: 'SUCCEEDED', output, states };
  } catch (error) {
    await logging.catch(() => undefined);
    // The library wraps what failed the execution (a Fail state's error, a task's error that no
    // Catch took) in an ExecutionError; record the error itself, as Step Functions reports it.
    const wrapper = error as Error & { cause?: unknown };
    const e = wrapper.cause instanceof Error ? wrapper.cause : wrapper;
    return { status: 'FAILED', error: { name: e.name, message: e.message }, states };
  }
}

function taskHandler(
  stateName: string,
  resource: string,
  tasks: LocalTasks,
): (input: unknown) => Promise<unknown> {
  if (resource.startsWith(FUNCTION_ARN)) {
    const fn = tasks.lambda[resource.slice(FUNCTION_ARN.length)];
    if (!fn) throw new Error(`state ${stateName}: no local function for ${resource}`);
    return fn;
  }
  if (resource === 'arn:aws:states:::glue:startJobRun.sync') return (input) => tasks.glueJob(input as never);
  if (resource === 'arn:aws:states:::sns:publish') return (input) => tasks.publish(input as never);
  if (resource === 'arn:aws:states:::sqs:sendMessage.waitForTaskToken')
    return (input) => tasks.sendMessageForToken(input as never, stateName);
  const dynamodb = /^arn:aws:states:::dynamodb:(\w+)$/.exec(resource)?.[1];
  if (dynamodb) return (input) => tasks.dynamodb(dynamodb, input as Record<string, unknown>, stateName);
  throw new Error(`state ${stateName}: the local runtime has no binding for ${resource}`);
}
