/**
 * Every call the pipeline makes, recorded rather than listed, is allowed by the synthesized policies
 * as AWS would evaluate them. Files go through the local runtime (valid, rejected, a rejection whose
 * error report is a multipart upload, a valid file on the sliced route); its trace records each S3
 * command a handler core sends with the Task state that sent it, and each Task's input. Each
 * command is mapped to the role that sends it on AWS and to the IAM actions S3 authorizes (with the
 * KMS calls S3 makes for SSE-KMS). Recorded too: the trigger's StartExecution (one per trigger
 * event), RegisterPartition's catalog calls, the Glue script's boto3 calls for the recorded job
 * arguments (through its unit-test fakes), the reconciler Lambda's SDK calls (its handler run over
 * mocked clients), and the state machine's own service calls for its Task states.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ENV, type GlueJobArguments, type IngestRequest } from '../../lambdas/shared/contract.ts';
import { MAX_SINGLE_COPY_BYTES, s3Store } from '../../lambdas/validate/s3-store.ts';
import { ledgerTableName } from '../../lib/ledger/model.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { LocalRuntime, type TracedS3Command } from '../../lib/local/runtime.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { setUpOrFailEach } from '../infra/synth.ts';
import { glueRunCommands, recordGlueScript } from './glue-requests.ts';
import type { LakePolicies } from './lake-policies.ts';
import { type LakeResources, lakeResources } from './lake-resources.ts';
import { type S3Caller, s3Requests } from './s3-requests.ts';
import {
  decide,
  describeCall,
  type IamCall,
  lakePolicies,
  synthLakeTemplates,
  unexpected,
} from './simulate.ts';
import { taskCalls, taskStates } from './workflow-calls.ts';

/** Small enough that the 220 KB file takes the sliced route, large enough for the 120 KB one. */
/** The ledger table's name at the app's defaults (the synthesized stacks'). */
const LEDGER_TABLE = ledgerTableName('csvlake', 'dev');
const LARGE_FILE_BYTES = 160 * 1024;
/** The valid small file takes the Convert Lambda, the sliced one the Glue job: both engines' calls are recorded. */
const FAST_PATH_MAX_BYTES = 100 * 1024;

let lake: LakePolicies;
let res: LakeResources;
let pipeline: string;
let runtime: LocalRuntime | undefined;
const traced: TracedS3Command[] = [];
const taskInputs: { state: string; input: unknown }[] = [];
const triggered: string[] = [];
const catalogCalls: { method: string; database: string; table: string }[] = [];
const outcomes: Record<string, string> = {};
const statesVisited = new Set<string>();

setUpOrFailEach(async () => {
  const synth = await synthLakeTemplates();
  lake = lakePolicies(synth.templates);
  pipeline = synth.pipeline.stackName;
  res = lakeResources(lake, synth.storage.stackName, synth.pipeline.stackName);
  runtime = await LocalRuntime.start({
    lakeDir: await mkdtemp(join(tmpdir(), 'lake-iam-')),
    largeFileBytes: LARGE_FILE_BYTES,
    conversion: { fastPathMaxBytes: FAST_PATH_MAX_BYTES },
    trace: { s3: (c) => traced.push(c), task: (state, input) => taskInputs.push({ state, input }) },
  });
  runtime.onTrigger((e) => triggered.push(e.key));
  // The commit's catalog calls (the tables were created at start, as the tables custom resource does on AWS).
  const tables = runtime.tables;
  for (const method of ['load', 'swap'] as const) {
    const original = tables[method].bind(tables) as (...a: unknown[]) => Promise<never>;
    vi.spyOn(tables, method).mockImplementation(((database: string, table: string, ...rest: unknown[]) => {
      catalogCalls.push({ method, database, table });
      return original(database, table, ...rest);
    }) as never);
  }
  // Many ragged rows: their error report passes 5 MiB, so it is written as a multipart upload.
  const files: Record<string, string> = {
    'orders/valid.csv': ORDERS_HEADER + orderRows(1, 0, 20),
    'orders/broken.csv': brokenOrdersCsv(),
    'orders/many-errors.csv': ORDERS_HEADER + 'x\n'.repeat(60_000),
    'orders/sliced.csv': ORDERS_HEADER + orderRows(2, 0, 1500),
    'unknown_dataset/file.csv': 'a,b\n1,2\n',
  };
  for (const [key, body] of Object.entries(files)) {
    const record = await runtime.land(key, body);
    outcomes[key] = record.outcome ?? record.status;
    for (const s of record.states ?? []) statesVisited.add(s);
  }
  await runtime.close();
  runtime = undefined;
});

afterAll(async () => {
  await runtime?.close();
});

/** The role that sends a Task state's S3 commands on AWS. */
function roleOfState(state: string): { who: string; principal: string } {
  const roles: Record<string, { who: string; principal: string }> = {
    Validate: { who: 'Validate', principal: res.roles.validate },
    ConvertInLambda: { who: 'ConvertInLambda', principal: res.roles.convert },
    ConvertToParquet: { who: 'ConvertToParquet (DuckDB twin as Glue)', principal: res.roles.glue },
    CommitToTable: { who: 'Commit', principal: res.roles.commit },
  };
  const role = roles[state];
  if (!role) throw new Error(`Task state ${state} sent S3 commands, but no role is mapped to it here`);
  return role;
}

function callerFor(who: string, principal: string, bucketOf: (b: string) => string): S3Caller {
  return {
    who,
    principal,
    partition: res.partition,
    region: res.region,
    account: res.account,
    bucket: bucketOf,
    keyArn: res.keyArn,
    mayBeTagged: (b) => b === res.buckets.landing,
    versionedOnAws: (b) => b === res.buckets.landing,
  };
}

/** A local bucket name as the AWS bucket of its zone. */
function awsBucket(local: string): string {
  const zone = Object.entries(LOCAL_BUCKETS).find(([, name]) => name === local)?.[0];
  if (!zone) throw new Error(`no zone for the local bucket ${local}`);
  return res.buckets[zone as keyof typeof LOCAL_BUCKETS];
}

/** The recorded Glue job arguments with the local bucket names replaced by the AWS ones. */
function awsJobArguments(): GlueJobArguments[] {
  return taskInputs
    .filter((t) => t.state === 'ConvertToParquet')
    .map((t) => {
      const args = (t.input as { Arguments: GlueJobArguments }).Arguments;
      const uri = (u: string) => u.replace(/^s3:\/\/([^/]+)\//, (_, b: string) => `s3://${awsBucket(b)}/`);
      const mapped = { ...args, '--source': uri(args['--source']), '--target': uri(args['--target']) };
      // The commit request too (an engine argument since CommitToTable), where the arguments name it.
      const request = (args as unknown as Record<string, string | undefined>)['--commit-request'];
      return request === undefined ? mapped : { ...mapped, '--commit-request': uri(request) };
    });
}

let recorded: Promise<IamCall[]> | undefined;
/** Every recorded call, as IAM requests (mapped once per file). */
const recordedCalls = () => {
  recorded ??= mapRecordedCalls();
  return recorded;
};

async function mapRecordedCalls(): Promise<IamCall[]> {
  const calls: IamCall[] = [];
  for (const command of traced.filter((c) => c.state !== undefined)) {
    const { who, principal } = roleOfState(command.state!);
    calls.push(...s3Requests(command, callerFor(who, principal, awsBucket)));
  }
  for (const run of await recordGlueScript(awsJobArguments())) {
    const caller = callerFor(`Glue script (${run.scenario})`, res.roles.glue, (b) => b);
    calls.push(...glueRunCommands(run).flatMap((c) => s3Requests(c, caller)));
  }
  for (const _ of triggered) {
    calls.push({
      who: 'Trigger StartExecution',
      principal: res.roles.trigger,
      action: 'states:StartExecution',
      resource: res.stateMachine.arn,
    });
  }
  const database = catalogDatabase();
  for (const c of catalogCalls) {
    // The Glue adapter (lib/iceberg/glue-catalog.ts): load is GetTable, swap GetTable then UpdateTable.
    const actions = c.method === 'load' ? ['glue:GetTable'] : ['glue:GetTable', 'glue:UpdateTable'];
    // Glue authorizes a table call on the catalog, the database and the table alike.
    for (const action of actions) {
      for (const resource of [
        `arn:${res.partition}:glue:${res.region}:${res.account}:catalog`,
        `arn:${res.partition}:glue:${res.region}:${res.account}:database/${database}`,
        `arn:${res.partition}:glue:${res.region}:${res.account}:table/${database}/${c.table}`,
      ]) {
        calls.push({ who: `Commit ${c.method}`, principal: res.roles.commit, action, resource });
      }
    }
  }
  calls.push(...(await reconcilerCalls()));
  calls.push(...(await largeCopyCalls()));
  for (const [name, state] of taskStates(lake, pipeline)) {
    calls.push(...taskCalls(name, state, res));
  }
  return calls;
}

/** The Glue database the deployed RegisterPartition uses (its environment in the template). */
function catalogDatabase(): string {
  const id = lake.logicalIds(pipeline, 'AWS::Lambda::Function').find((i) => i.startsWith('CommitFunction'))!;
  const env = lake.cfn.resolve(pipeline, lake.cfn.resource(pipeline, id).Properties?.Environment) as {
    Variables: Record<string, string>;
  };
  return env.Variables[ENV.commit.database]!;
}

/**
 * The reconciler Lambda's calls: its handler, run over mocked SDK clients against a landing bucket
 * whose versions have every outcome (ended, failed, never started), records each command it sends.
 */
async function reconcilerCalls(): Promise<IamCall[]> {
  const s3 = mockClient(S3Client);
  const sfn = mockClient(SFNClient);
  const ledger = mockClient(DynamoDBDocumentClient);
  try {
    // The ledger has no item for any: each object's status is then asked of Step Functions.
    ledger.on(GetCommand).resolves({});
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'orders/a.csv', VersionId: 'v1', ETag: '"e1"', Size: 10 },
        { Key: 'orders/b.csv', VersionId: 'v2', ETag: '"e2"', Size: 10 },
        { Key: 'orders/c.csv', VersionId: 'v3', ETag: '"e3"', Size: 10 },
      ],
    });
    const statuses = ['SUCCEEDED', 'FAILED'];
    let n = 0;
    sfn.on(DescribeExecutionCommand).callsFake(() => {
      const status = statuses[n++];
      if (status) return { status };
      throw Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
    });
    sfn.on(StartExecutionCommand).resolves({});
    sfn.on(RedriveExecutionCommand).resolves({});
    vi.stubEnv(ENV.reconcile.landingBucket, res.buckets.landing);
    vi.stubEnv(ENV.reconcile.stateMachineArn, res.stateMachine.arn);
    vi.stubEnv(ENV.reconcile.redrive, 'true');
    vi.stubEnv(ENV.reconcile.ledgerTable, LEDGER_TABLE);
    vi.resetModules();
    const { handler } = await import('../../lambdas/reconcile/handler.ts');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await handler();
    } finally {
      write.mockRestore();
    }
    const caller = callerFor('Reconcile', res.roles.reconcile, (b) => b);
    const calls: IamCall[] = s3.calls().flatMap((c) => {
      const command = c.args[0] as unknown as {
        constructor: { name: string };
        input: Record<string, unknown>;
      };
      return s3Requests({ command: command.constructor.name, input: command.input }, caller);
    });
    for (const c of sfn.calls()) {
      const command = c.args[0] as unknown as {
        constructor: { name: string };
        input: Record<string, string>;
      };
      const action = `states:${command.constructor.name.replace(/Command$/, '')}`;
      const resource = command.input.executionArn ?? command.input.stateMachineArn;
      if (!resource) throw new Error(`no resource for the reconciler's ${action}`);
      calls.push({
        who: `Reconcile ${command.constructor.name}`,
        principal: res.roles.reconcile,
        action,
        resource,
      });
    }
    for (const c of ledger.calls()) {
      const input = (c.args[0] as unknown as { input: { TableName: string } }).input;
      const table = `arn:${res.partition}:dynamodb:${res.region}:${res.account}:table/${input.TableName}`;
      calls.push(
        {
          who: 'Reconcile GetItem',
          principal: res.roles.reconcile,
          action: 'dynamodb:GetItem',
          resource: table,
        },
        {
          who: 'Reconcile GetItem (the table key)',
          principal: res.roles.reconcile,
          action: 'kms:Decrypt',
          resource: res.keyArn,
          context: {
            'kms:ViaService': `dynamodb.${res.region}.amazonaws.com`,
            'kms:CallerAccount': res.account,
          },
        },
      );
    }
    if (ledger.calls().length === 0) throw new Error('the reconciler read no ledger item');
    return calls;
  } finally {
    s3.restore();
    sfn.restore();
    ledger.restore();
    vi.unstubAllEnvs();
  }
}

/**
 * Validate's copy of a file above CopyObject's 5 GB limit (a multipart copy, which the local runs
 * cannot reach): its store, run over a mocked client with the AWS names of a versioned landing
 * object, records each command it sends.
 */
async function largeCopyCalls(): Promise<IamCall[]> {
  const s3 = mockClient(S3Client);
  try {
    s3.on(HeadObjectCommand).resolves({ ContentType: 'text/csv' });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const from: IngestRequest = {
      bucket: res.buckets.landing,
      key: 'orders/huge export.csv',
      versionId: 'v1',
      etag: 'e',
      size: MAX_SINGLE_COPY_BYTES + 1,
      dataset: 'orders',
      version: 'v1',
    };
    const to = { bucket: res.buckets.raw, key: 'orders/ingest_date=2026-12-02/huge export.e.csv' };
    await s3Store(new S3Client({})).copy(from, to);
    const caller = callerFor('Validate (copy above 5 GB)', res.roles.validate, (b) => b);
    const calls = s3.calls().flatMap((c) => {
      const command = c.args[0] as unknown as {
        constructor: { name: string };
        input: Record<string, unknown>;
      };
      return s3Requests({ command: command.constructor.name, input: command.input }, caller);
    });
    if (!s3.calls().some((c) => c.args[0] instanceof UploadPartCopyCommand)) throw new Error('no part copy');
    return calls;
  } finally {
    s3.restore();
  }
}

describe('calls recorded in local end-to-end runs, simulated against the synthesized policies', () => {
  it('the runs took every route: curated by either engine, rejected, a multipart report, the sliced route', () => {
    expect(outcomes).toEqual({
      'orders/valid.csv': 'curated',
      'orders/broken.csv': 'rejected',
      'orders/many-errors.csv': 'rejected',
      'orders/sliced.csv': 'curated',
      'unknown_dataset/file.csv': 'rejected',
    });
    expect([...statesVisited]).toEqual(
      expect.arrayContaining(['Validate', 'ValidateSlice', 'ConvertInLambda', 'ConvertToParquet']),
    );
    const commands = new Set(traced.map((c) => c.command));
    for (const c of ['GetObjectCommand', 'HeadObjectCommand', 'CopyObjectCommand', 'PutObjectCommand']) {
      expect(commands).toContain(c);
    }
    // The report of 60,000 errors passed one 5 MiB part.
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(commands).toContain('UploadPartCommand');
    expect(commands).toContain('CompleteMultipartUploadCommand');
    // A sliced read is a ranged GET (both Validate states run the Validate function, traced by its name).
    expect(
      traced.some((c) => c.state === 'Validate' && c.command === 'GetObjectCommand' && c.input.Range),
    ).toBe(true);
  });

  it("the trace names the Task state that sent each command, and none for the runtime's own", () => {
    const byState = (state: string | undefined) => traced.filter((c) => c.state === state);
    expect(byState('Validate').length).toBeGreaterThan(0);
    expect(byState('ConvertToParquet').length).toBeGreaterThan(0);
    expect(byState('ConvertInLambda').length).toBeGreaterThan(0);
    // land() uploads each file itself: the runtime's PutObject into landing belongs to no state.
    expect(
      byState(undefined)
        .filter((c) => c.command === 'PutObjectCommand')
        .map((c) => c.input.Key),
    ).toEqual(expect.arrayContaining(['orders/valid.csv', 'orders/sliced.csv']));
    expect(
      traced.filter(
        (c) =>
          c.state !== undefined &&
          c.input.Bucket === LOCAL_BUCKETS.landing &&
          c.command === 'PutObjectCommand',
      ),
    ).toEqual([]);
  });

  it('every recorded call is allowed for the role that makes it on AWS', async () => {
    const calls = await recordedCalls();
    const denied = await unexpected(lake, calls, 'Allowed');
    const distinct = new Set(calls.map(describeCall));
    console.info(
      `IAM: ${calls.length} recorded calls simulated (${distinct.size} distinct), ${calls.length - denied.length} allowed`,
    );
    expect(denied).toEqual([]);
    // Every role that makes calls at run time is among the callers.
    const r = res.roles;
    expect(new Set(calls.map((c) => c.principal))).toEqual(
      new Set([r.validate, r.convert, r.glue, r.trigger, r.commit, r.reconcile, r.stateMachine]),
    );
    const who = new Set(calls.map((c) => c.who.split(' ')[0]));
    for (const w of [
      'Validate',
      'ConvertInLambda',
      'ConvertToParquet',
      'Glue',
      'Trigger',
      'Commit',
      'Reconcile',
      'Step',
    ]) {
      expect(who).toContain(w);
    }
  });

  it('the simulator knows every condition key the recorded calls send (a typo would test nothing)', async () => {
    const calls = new Map((await recordedCalls()).map((c) => [describeCall(c), c]));
    const ignored = new Set<string>();
    for (const call of calls.values()) {
      for (const key of (await decide(lake, call)).ignoredContextKeys) ignored.add(`${call.action} ${key}`);
    }
    expect([...ignored]).toEqual([]);
  });
});
