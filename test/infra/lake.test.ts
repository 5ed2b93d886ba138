import aslValidator from 'asl-validator';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { STATE } from '../../lib/constructs/ingest-workflow.ts';
import { definitionFromTemplate, PSEUDO_PARAMETERS, referenceName } from '../../lib/workflow/definition.ts';
import { buildTestLake, synthTemplates } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let storage: Template;
let pipeline: Template;
let app: Awaited<ReturnType<typeof synthTemplates>>['app'];

beforeAll(async () => {
  ({ storage, pipeline, app } = await synthTemplates());
}, 120_000);

const resources = (t: Template, type: string) =>
  Object.entries(t.findResources(type) as Record<string, Resource>).map(([id, r]) => ({ id, ...r }));

/** Every Allow statement of the policies attached to the role whose logical id starts with `prefix`. */
function statementsOf(t: Template, rolePrefix: string): Statement[] {
  return resources(t, 'AWS::IAM::Policy')
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const text = (value: unknown) => JSON.stringify(value);

describe('storage stack', () => {
  it('blocks public access, encrypts, enforces TLS and retains every bucket', () => {
    const buckets = resources(storage, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(6);
    for (const b of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.BucketEncryption).toBeDefined();
      expect(b.DeletionPolicy).toBe('Retain');
    }
    const policies = resources(storage, 'AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(6);
    for (const p of policies) {
      expect(text(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      expect(text(p.Properties.PolicyDocument)).toContain('"Effect":"Deny"');
    }
  });

  it('encrypts the zone buckets with the rotated customer key and logs their access', () => {
    storage.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const zones = resources(storage, 'AWS::S3::Bucket').filter((b) =>
      text(b.Properties.BucketEncryption).includes('aws:kms'),
    );
    expect(zones).toHaveLength(5);
    for (const b of zones) expect(b.Properties.LoggingConfiguration).toBeDefined();
  });

  it('names the zone buckets predictably and versions raw, failure and curated', () => {
    for (const zone of ['raw', 'failure', 'curated']) {
      storage.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: {
          'Fn::Join': ['', [`csvlake-dev-${zone}-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
        },
        VersioningConfiguration: { Status: 'Enabled' },
      });
    }
  });

  it('expires landing objects after the configured days, Athena results, and moves failures to IA', () => {
    storage.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['csvlake-dev-landing-'])] }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 14, Status: 'Enabled' })]),
      },
    });
    storage.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['csvlake-dev-results-'])] }),
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30 })]) },
    });
    storage.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }] }),
        ]),
      },
    });
  });

  it('creates one Parquet table per dataset with types derived from its declaration', () => {
    const tables = resources(storage, 'AWS::Glue::Table');
    expect(tables.map((t) => (t.Properties.TableInput as { Name: string }).Name).sort()).toEqual([
      'orders',
      'sensor_readings',
    ]);
    storage.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: Match.anyValue(),
      TableInput: Match.objectLike({
        Name: 'orders',
        PartitionKeys: [{ Name: 'ingest_date', Type: 'date' }],
        StorageDescriptor: Match.objectLike({
          Columns: Match.arrayWith([
            { Name: 'order_id', Type: 'bigint' },
            { Name: 'amount', Type: 'decimal(12,2)' },
            { Name: 'ordered_at', Type: 'timestamp' },
            { Name: 'ship_date', Type: 'date' },
          ]),
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          }),
          Location: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['/orders/'])] }),
        }),
      }),
    });
  });

  it('encrypts every topic, allows TLS only and subscribes the configured addresses', () => {
    for (const t of resources(storage, 'AWS::SNS::Topic')) expect(t.Properties.KmsMasterKeyId).toBeDefined();
    for (const p of resources(storage, 'AWS::SNS::TopicPolicy')) {
      expect(text(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
    storage.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data-team@example.com',
    });
    storage.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('announces objects created in raw, failure and curated on the zone-events topic', () => {
    const notifications = resources(storage, 'Custom::S3BucketNotifications');
    expect(notifications).toHaveLength(3);
    for (const n of notifications)
      expect(text(n.Properties.NotificationConfiguration)).toContain('s3:ObjectCreated:*');
  });

  it('protects the stateful stack from deletion', () => {
    const { storage: stack } = app.node.children.reduce(
      (acc, c) => (c.node.id.endsWith('-storage') ? { storage: c } : acc),
      {} as { storage?: unknown },
    ) as { storage: { terminationProtection: boolean } };
    expect(stack.terminationProtection).toBe(true);
  });
});

describe('pipeline stack', () => {
  it('builds every function for arm64 on the latest Node runtime with X-Ray and JSON logs', () => {
    const fns = resources(pipeline, 'AWS::Lambda::Function').filter(
      (f) => f.Properties.Runtime === 'nodejs24.x',
    );
    expect(fns).toHaveLength(4);
    for (const f of fns) {
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(f.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON' });
    }
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1769,
      Timeout: 900,
      Environment: { Variables: Match.objectLike({ DATASETS_DIR: '/var/task/datasets' }) },
    });
  });

  it('starts the workflow from landing events and sends failed events to an encrypted queue', () => {
    pipeline.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [Match.objectLike({ Events: ['s3:ObjectCreated:*'] })],
      },
    });
    pipeline.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    pipeline.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('never grants a * action or s3:* anywhere', () => {
    for (const t of [storage, pipeline]) {
      for (const p of resources(t, 'AWS::IAM::Policy')) {
        for (const s of (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
          for (const a of actionsOf(s)) expect(a === '*' || a.endsWith(':*'), `${p.id}: ${a}`).toBe(false);
        }
      }
    }
  });

  it('lets the trigger start executions and nothing in S3', () => {
    const statements = statementsOf(pipeline, 'TriggerRole');
    expect(statements.flatMap(actionsOf)).toContain('states:StartExecution');
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('lets validate write raw only under dataset prefixes, and never read or write curated', () => {
    const statements = statementsOf(pipeline, 'ValidateRole');
    const writes = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
    expect(text(writes)).toContain('-raw-');
    expect(text(writes)).toContain('/orders/*');
    expect(text(writes)).not.toMatch(/-raw-[^"]*"\},"\/\*"/); // no raw/* wildcard
    expect(text(statements)).not.toContain('-curated-');
  });

  it('lets the Glue job read raw and write curated only under dataset prefixes', () => {
    const statements = statementsOf(pipeline, 'CsvToParquetRole');
    const s3Statements = statements.filter(
      (s) => actionsOf(s).every((a) => a.startsWith('s3:')) && text(s.Resource).includes('csvlake-dev-'),
    );
    const writes = s3Statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
    expect(text(writes)).toContain('-curated-');
    expect(text(writes)).not.toContain('-raw-');
    for (const s of s3Statements.filter((s) => !actionsOf(s).includes('s3:ListBucket'))) {
      expect(text(s.Resource)).toMatch(/\/(orders|sensor_readings)\/\*/);
    }
  });

  it('runs the CSV to Parquet job on Glue 5.0 with a KMS security configuration', () => {
    pipeline.hasResourceProperties('AWS::Glue::Job', {
      GlueVersion: '5.0',
      Command: Match.objectLike({ Name: 'glueetl', PythonVersion: '3' }),
      ExecutionProperty: { MaxConcurrentRuns: 10 },
      SecurityConfiguration: Match.anyValue(),
      WorkerType: 'G.1X',
      NumberOfWorkers: 2,
    });
    pipeline.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
      EncryptionConfiguration: {
        S3Encryptions: [Match.objectLike({ S3EncryptionMode: 'SSE-KMS' })],
        CloudWatchEncryption: Match.objectLike({ CloudWatchEncryptionMode: 'SSE-KMS' }),
        JobBookmarksEncryption: Match.objectLike({ JobBookmarksEncryptionMode: 'CSE-KMS' }),
      },
    });
  });

  it('reconciles every hour: lists landing versions, describes and re-drives only its executions', () => {
    pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) }),
    });
    const statements = statementsOf(pipeline, 'ReconcileRole');
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:ListBucketVersions',
        'states:DescribeExecution',
        'states:RedriveExecution',
        'states:StartExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const describe = statements.find((st) => actionsOf(st).includes('states:DescribeExecution'))!;
    expect(text(describe.Resource)).toContain(':execution:');
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REDRIVE: 'true', LANDING_BUCKET: Match.anyValue() }) },
    });
  });

  it('locks the Athena workgroup: engine v3, enforced settings, KMS results, scan cap', () => {
    pipeline.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10_000_000_000,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: Match.objectLike({
          EncryptionConfiguration: Match.objectLike({ EncryptionOption: 'SSE_KMS' }),
        }),
      }),
    });
  });

  it('logs every workflow event to an encrypted log group with tracing on', () => {
    pipeline.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    for (const g of resources(pipeline, 'AWS::Logs::LogGroup')) expect(g.Properties.KmsKeyId).toBeDefined();
  });

  it('alarms on failed executions, rejections, the failure queue, Glue failures, and Lambda errors and throttles', () => {
    const alarms = resources(pipeline, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(13);
    for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
    const metrics = alarms.map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`);
    expect(metrics).toEqual(
      expect.arrayContaining([
        'AWS/States/ExecutionsFailed',
        'CsvDataLake/FilesRejected',
        'CsvDataLake/Orphans',
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        'AWS/Lambda/Errors',
        'AWS/Lambda/Throttles',
      ]),
    );
    pipeline.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('the workflow definition', () => {
  const asl = () =>
    definitionFromTemplate(pipeline.toJSON(), (ref) => {
      const name = referenceName(ref);
      return PSEUDO_PARAMETERS[name] ?? `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    }) as { QueryLanguage?: string; StartAt: string; States: Record<string, Record<string, unknown>> };

  it('is valid Amazon States Language (asl-validator)', () => {
    const { isValid, errorsText } = aslValidator(asl());
    expect(isValid, errorsText()).toBe(true);
  });

  it('uses JSONPath only, as the local runtime requires', () => {
    const definition = asl();
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const state of Object.values(definition.States))
      expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  it('retries Glue on ConcurrentRunsExceeded and never catches it into success', () => {
    const convert = asl().States[STATE.convert]!;
    expect(convert.Resource).toBe('arn:aws:states:::glue:startJobRun.sync');
    expect(convert.Retry).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ErrorEquals: expect.arrayContaining(['Glue.ConcurrentRunsExceededException']),
        }),
      ]),
    );
    expect(convert.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: STATE.notifyFailed }),
    ]);
    expect(asl().States[STATE.notifyFailed]!.Next).toBe(STATE.failed);
    expect(asl().States[STATE.failed]!.Type).toBe('Fail');
  });

  it('passes the job arguments the validator built and publishes each outcome with dataset and status', () => {
    const states = asl().States;
    expect((states[STATE.convert]!.Parameters as Record<string, unknown>)['Arguments.$']).toBe(
      '$.validation.jobArguments',
    );
    for (const [name, status] of [
      [STATE.notifyValidated, 'VALIDATED'],
      [STATE.notifyRejected, 'REJECTED'],
      [STATE.notifyCurated, 'CURATED'],
      [STATE.notifyFailed, 'FAILED'],
    ] as const) {
      const attributes = (states[name]!.Parameters as { MessageAttributes: Record<string, unknown> })
        .MessageAttributes;
      expect(attributes).toEqual({
        dataset: { DataType: 'String', 'StringValue.$': '$.dataset' },
        status: { DataType: 'String', StringValue: status },
      });
    }
    expect(states[STATE.isValid]!.Type).toBe('Choice');
    expect(states[STATE.rejected]!.Type).toBe('Succeed');
    expect(states[STATE.curated]!.Type).toBe('Succeed');
  });
});

describe('security checks and snapshots', () => {
  it('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`),
    );
    expect(findings).toEqual([]);
  });

  it('gives every acknowledgement a reason of its own', () => {
    const reasons = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(reasons.length).toBeGreaterThan(10);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(30);
  });

  it.each(['storage', 'pipeline'] as const)('matches the %s stack snapshot (asset hashes masked)', (name) => {
    const template = name === 'storage' ? storage : pipeline;
    const masked = JSON.parse(
      JSON.stringify(template.toJSON())
        .replace(/[0-9a-f]{64}(\.zip|\.json|\.py)?/g, '<asset-hash>$1')
        .replace(/"S3Key":"[^"]+"/g, '"S3Key":"<asset>"'),
    );
    expect(masked).toMatchSnapshot();
  });
});

describe('configuration', () => {
  it('rejects bad context values, naming each', () => {
    const context: Record<string, unknown> = {
      prefix: 'My_Lake',
      glueWorkers: '1',
      alarmEmails: 'not-an-address',
    };
    expect(() => parseConfig((k) => context[k])).toThrow(/^invalid configuration \(CDK context\):\n/);
    const message = (() => {
      try {
        parseConfig((k) => context[k]);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('  - prefix: prefix must be 2–12 characters');
    expect(message).toContain('  - alarmEmails.0: not an e-mail address: "not-an-address"');
    expect(message).toContain('  - glueWorkers: Too small: expected number to be >=2');
  });

  it('takes numbers and lists given as strings on the command line', () => {
    const context: Record<string, unknown> = {
      glueWorkers: '5',
      notificationEmails: 'a@example.com, b@example.com',
    };
    const config = parseConfig((k) => context[k]);
    expect(config.glueWorkers).toBe(5);
    expect(config.notificationEmails).toEqual(['a@example.com', 'b@example.com']);
  });

  it('synthesizes with other names from context', async () => {
    const lake = await buildTestLake({ prefix: 'acme', stage: 'prod' });
    expect(lake.storage.stackName).toBe('acme-prod-storage');
    expect(lake.pipeline.stackName).toBe('acme-prod-pipeline');
  });
});
