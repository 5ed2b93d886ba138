import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { IngestRequest, PipelineStatus, ValidateTaskOutput } from '../../lambdas/shared/contract.ts';
import { SLICE_RESERVE_MS } from '../../lambdas/validate/core.ts';
import {
  EXECUTION_HISTORY_DAYS,
  type LakeConfig,
  MAX_LANDING_EXPIRY_DAYS,
  MEASURED_VALIDATE_MB_PER_S,
  parseConfig,
} from '../../lib/config.ts';
import { CONVERT_HANDOFF_ERRORS, STATE } from '../../lib/constructs/ingest-workflow.ts';
import { COMMIT_FUNCTION, COMMIT_TASK_TIMEOUT } from '../../lib/constructs/table-committer.ts';
import { definitionFromTemplate, PSEUDO_PARAMETERS, referenceName } from '../../lib/workflow/definition.ts';
import { list, outputsOf, type Resource, render, resourceNamed, resourcesOf } from './cfn.ts';
import {
  acknowledgementReasons,
  buildTestLake,
  setUpOrFailEach,
  synthTemplates,
  unacknowledgedFindings,
} from './synth.ts';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type State = Record<string, unknown>;
type Asl = {
  QueryLanguage?: string;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
};

let storage: Template;
let pipeline: Template;
let app: Awaited<ReturnType<typeof synthTemplates>>['app'];
let config: LakeConfig;
let datasets: string[];
/** The storage stack's outputs, to follow the pipeline's cross-stack references to their source. */
let outputs: Record<string, unknown>;

setUpOrFailEach(async () => {
  const lake = await synthTemplates();
  ({ storage, pipeline, app, config } = lake);
  datasets = lake.datasets.map((d) => d.name).sort();
  outputs = outputsOf(storage);
});

const resources = resourcesOf;
/** A value of the pipeline template as text, cross-stack references followed into the storage stack. */
const resolved = (value: unknown) => render(value, outputs);

/** Every Allow statement of the policies attached to the role whose logical id starts with `prefix`. */
function statementsOf(t: Template, rolePrefix: string): Statement[] {
  return resources(t, 'AWS::IAM::Policy')
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
}
const text = (value: unknown) => JSON.stringify(value);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
/** A statement as sorted actions and rendered, sorted resources (and its condition, if any). */
const grant = (s: Statement) => ({
  actions: [...actionsOf(s)].sort(),
  resources: list(s.Resource)
    .map((r) => resolved(r))
    .sort(),
  ...(s.Condition ? { condition: s.Condition } : {}),
});
const byActions = (a: { actions: string[] }, b: { actions: string[] }) =>
  a.actions.join().localeCompare(b.actions.join());

/** The lake's buckets by construct id (stable ids: a renamed one would replace the bucket). */
const BUCKET_IDS = {
  landing: 'BucketsLanding',
  raw: 'BucketsRaw',
  failure: 'BucketsFailure',
  curated: 'BucketsCurated',
  results: 'BucketsAthenaResults',
  accessLogs: 'BucketsAccessLogs',
} as const;
type BucketName = keyof typeof BUCKET_IDS;
const bucket = (name: BucketName) => resourceNamed(storage, 'AWS::S3::Bucket', BUCKET_IDS[name]);
/** A zone bucket's physical name as the storage stack gives it (`csvlake-dev-raw-<AWS::AccountId>-…`). */
const bucketName = (name: BucketName) => render(bucket(name).Properties.BucketName);
const s3Arn = (name: BucketName, path = '') => `arn:<AWS::Partition>:s3:::${bucketName(name)}${path}`;
const keyId = () => resourceNamed(storage, 'AWS::KMS::Key', 'BucketsKey').id;
const topicId = (name: 'Events' | 'ZoneEvents' | 'Alarms') =>
  resourceNamed(storage, 'AWS::SNS::Topic', `Notifications${name}`).id;
const machineId = () => resourceNamed(pipeline, 'AWS::StepFunctions::StateMachine', 'IngestStateMachine').id;
const functionId = (name: string) => resourceNamed(pipeline, 'AWS::Lambda::Function', `${name}Function`).id;
const logGroupId = (name: string) => resourceNamed(pipeline, 'AWS::Logs::LogGroup', `${name}Logs`).id;

/** The exact statement `enforceSSL` must produce on a bucket's policy. */
const tlsDeny = (bucketId: string) => ({
  Action: 's3:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: [
    { 'Fn::GetAtt': [bucketId, 'Arn'] },
    { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
  ],
});

describe('storage stack', () => {
  it('blocks public access, encrypts, enforces TLS and retains every bucket', () => {
    const buckets = resources(storage, 'AWS::S3::Bucket');
    expect(buckets.map((b) => b.id).sort()).toEqual(
      (Object.keys(BUCKET_IDS) as BucketName[]).map((n) => bucket(n).id).sort(),
    );
    const kms = {
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId(), 'Arn'] },
            SSEAlgorithm: 'aws:kms',
          },
        },
      ],
    };
    for (const b of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration, b.id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      // Server access logs cannot go to a KMS-encrypted bucket: S3-managed keys there, the lake key elsewhere.
      expect(b.Properties.BucketEncryption, b.id).toEqual(
        b.id === bucket('accessLogs').id
          ? {
              ServerSideEncryptionConfiguration: [
                { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
              ],
            }
          : kms,
      );
      expect([b.DeletionPolicy, b.UpdateReplacePolicy], b.id).toEqual(['Retain', 'Retain']);
    }
    const policies = resources(storage, 'AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(buckets.length);
    for (const b of buckets) {
      const [policy, ...others] = policies.filter((p) => text(p.Properties.Bucket) === text({ Ref: b.id }));
      expect(others, `one policy for ${b.id}`).toEqual([]);
      const statements = (policy!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      // One statement denies every non-TLS request, with its principal, both resources and condition.
      expect(
        statements.filter((s) => s.Effect === 'Deny'),
        b.id,
      ).toEqual([tlsDeny(b.id)]);
      // The only other statements: S3 log delivery into the access-log bucket (checked below).
      if (b.id !== bucket('accessLogs').id) expect(statements, b.id).toHaveLength(1);
    }
  });

  it('encrypts with the rotated, retained customer key and logs every zone to the access-log bucket', () => {
    const [key, ...otherKeys] = resources(storage, 'AWS::KMS::Key');
    expect(otherKeys).toEqual([]);
    expect(key!.Properties.EnableKeyRotation).toBe(true);
    expect([key!.DeletionPolicy, key!.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);

    const logs = bucket('accessLogs').id;
    const prefixes = {
      landing: 'landing/',
      raw: 'raw/',
      failure: 'failure/',
      curated: 'curated/',
      results: 'athenaresults/',
    } as const;
    for (const [zone, prefix] of Object.entries(prefixes) as [BucketName, string][]) {
      expect(bucket(zone).Properties.LoggingConfiguration, zone).toEqual({
        DestinationBucketName: { Ref: logs },
        LogFilePrefix: prefix,
      });
    }
    expect(bucket('accessLogs').Properties.LoggingConfiguration).toBeUndefined();
    // S3 may deliver each zone's logs, from that zone only, under that zone's prefix.
    const policy = resources(storage, 'AWS::S3::BucketPolicy').find(
      (p) => text(p.Properties.Bucket) === text({ Ref: logs }),
    )!;
    const deliveries = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
      (s) => s.Effect === 'Allow',
    );
    expect(deliveries).toEqual(
      Object.entries(prefixes).map(([zone, prefix]) => ({
        Action: 's3:PutObject',
        Condition: {
          ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucket(zone as BucketName).id, 'Arn'] } },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logs, 'Arn'] }, `/${prefix}*`]] },
      })),
    );
  });

  it('names the zone buckets predictably', () => {
    for (const zone of ['landing', 'raw', 'failure', 'curated', 'results'] as const) {
      expect(bucket(zone).Properties.BucketName).toEqual({
        'Fn::Join': ['', [`csvlake-dev-${zone}-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
      });
    }
    expect(bucket('accessLogs').Properties.BucketName).toBeUndefined();
  });

  it('versions the landing bucket: executions are named after, and read, pinned object versions', () => {
    expect(bucket('landing').Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('versions exactly landing, raw, failure and curated', () => {
    const versioned = resources(storage, 'AWS::S3::Bucket')
      .filter((b) => b.Properties.VersioningConfiguration !== undefined)
      .map((b) => [b.id, b.Properties.VersioningConfiguration]);
    expect(versioned.sort()).toEqual(
      (['landing', 'raw', 'failure', 'curated'] as const)
        .map((z) => [bucket(z).id, { Status: 'Enabled' }])
        .sort(),
    );
  });

  it('expires landing objects and old versions after the configured days, Athena results, and moves failures to IA', () => {
    const rules = (name: BucketName) =>
      (bucket(name).Properties.LifecycleConfiguration as { Rules: unknown[] } | undefined)?.Rules;
    const abortUploads = {
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      Id: 'abort-incomplete-uploads',
      Status: 'Enabled',
    };
    expect(config.landingExpiryDays).toBe(14); // the test context's, not the default 30
    expect(rules('landing')).toEqual([
      { ExpirationInDays: 14, Id: 'expire-landed', Status: 'Enabled' },
      { Id: 'expire-old-versions', NoncurrentVersionExpiration: { NoncurrentDays: 14 }, Status: 'Enabled' },
      abortUploads,
    ]);
    expect(rules('raw')).toEqual([abortUploads]);
    expect(rules('failure')).toEqual([
      abortUploads,
      {
        Id: 'to-infrequent-access',
        Status: 'Enabled',
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
      },
    ]);
    expect(rules('curated')).toEqual([
      abortUploads,
      {
        Id: 'expire-replaced-versions',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        Status: 'Enabled',
      },
    ]);
    expect(rules('results')).toEqual([
      abortUploads,
      { ExpirationInDays: 30, Id: 'expire-results', Status: 'Enabled' },
    ]);
    expect(rules('accessLogs')).toEqual([
      { ExpirationInDays: 365, Id: 'expire-access-logs', Status: 'Enabled' },
    ]);
  });

  it('frees the parts of incomplete multipart uploads in every bucket that receives them', () => {
    // Server access logs are delivered by S3 as whole objects; every other bucket takes uploads.
    const zones = (Object.keys(BUCKET_IDS) as BucketName[]).filter((name) => name !== 'accessLogs');
    for (const name of zones) {
      const rules = (bucket(name).Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] })
        .Rules;
      expect(
        rules.some(
          (r) => (r.AbortIncompleteMultipartUpload as { DaysAfterInitiation?: number })?.DaysAfterInitiation,
        ),
        name,
      ).toBe(true);
    }
    expect(zones.sort()).toEqual(['curated', 'failure', 'landing', 'raw', 'results']);
  });

  it('encrypts every topic with the lake key, allows TLS only and subscribes the configured addresses', () => {
    const topics = resources(storage, 'AWS::SNS::Topic');
    expect(topics.map((t) => t.id).sort()).toEqual(
      [topicId('Events'), topicId('ZoneEvents'), topicId('Alarms')].sort(),
    );
    for (const t of topics)
      expect(t.Properties.KmsMasterKeyId, t.id).toEqual({ 'Fn::GetAtt': [keyId(), 'Arn'] });
    const policies = resources(storage, 'AWS::SNS::TopicPolicy');
    expect(policies).toHaveLength(3);
    for (const t of topics) {
      const policy = policies.find((p) => text(p.Properties.Topics) === text([{ Ref: t.id }]));
      expect(policy, `policy of ${t.id}`).toBeTruthy();
      expect((policy!.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Action: 'sns:Publish',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: '*',
          Resource: { Ref: t.id },
          Sid: 'AllowPublishThroughSSLOnly',
        },
        // Only the zone-events topic takes more: S3's notifications from raw, failure and curated.
        ...(t.id === topicId('ZoneEvents')
          ? (['raw', 'failure', 'curated'] as const).map((zone, i) => ({
              Action: 'sns:Publish',
              Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucket(zone).id, 'Arn'] } } },
              Effect: 'Allow',
              Principal: { Service: 's3.amazonaws.com' },
              Resource: { Ref: t.id },
              Sid: String(i + 1),
            }))
          : []),
        // The alarm topic takes CloudWatch's alarms of this account (review C1).
        ...(t.id === topicId('Alarms')
          ? [
              {
                Action: 'sns:Publish',
                Condition: {
                  ArnLike: {
                    'aws:SourceArn': {
                      'Fn::Join': [
                        '',
                        [
                          'arn:',
                          { Ref: 'AWS::Partition' },
                          ':cloudwatch:',
                          { Ref: 'AWS::Region' },
                          ':',
                          { Ref: 'AWS::AccountId' },
                          ':alarm:*',
                        ],
                      ],
                    },
                  },
                  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                },
                Effect: 'Allow',
                Principal: { Service: 'cloudwatch.amazonaws.com' },
                Resource: { Ref: t.id },
                Sid: 'AllowCloudWatchAlarmsOfThisAccount',
              },
            ]
          : []),
      ]);
    }
    const subscriptions = resources(storage, 'AWS::SNS::Subscription').map((s) => s.Properties);
    expect(subscriptions).toEqual([
      ...config.notificationEmails.map((e) => ({
        Endpoint: e,
        Protocol: 'email',
        TopicArn: { Ref: topicId('Events') },
      })),
      ...config.alarmEmails.map((e) => ({
        Endpoint: e,
        Protocol: 'email',
        TopicArn: { Ref: topicId('Alarms') },
      })),
    ]);
    expect(subscriptions.map((s) => s.Endpoint)).toEqual(['data-team@example.com', 'oncall@example.com']);
  });

  it('announces objects created in raw, failure and curated on the zone-events topic', () => {
    const notifications = resources(storage, 'Custom::S3BucketNotifications');
    expect(notifications.map((n) => (n.Properties.BucketName as { Ref: string }).Ref).sort()).toEqual(
      [bucket('raw').id, bucket('failure').id, bucket('curated').id].sort(),
    );
    for (const n of notifications) {
      expect(n.Properties.NotificationConfiguration).toEqual({
        TopicConfigurations: [{ Events: ['s3:ObjectCreated:*'], TopicArn: { Ref: topicId('ZoneEvents') } }],
      });
    }
  });

  it('protects the stateful stack from deletion', () => {
    const { storage: stack } = app.node.children.reduce(
      (acc, c) => (c.node.id.endsWith('-storage') ? { storage: c } : acc),
      {} as { storage?: unknown },
    ) as { storage: { terminationProtection: boolean } };
    expect(stack.terminationProtection).toBe(true);
  });

  it('retains exactly the buckets, the key, the Glue database, the ledger table and the tables functions’ log groups; no topic or subscription', () => {
    const all = Object.entries(storage.toJSON().Resources as Record<string, Omit<Resource, 'id'>>);
    const retained = all.filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id);
    expect(retained.sort()).toEqual(
      [
        ...(Object.keys(BUCKET_IDS) as BucketName[]).map((n) => bucket(n).id),
        keyId(),
        resourceNamed(storage, 'AWS::Glue::Database', 'CatalogDatabase').id,
        resourceNamed(storage, 'AWS::DynamoDB::Table', 'LedgerTable').id,
        resourceNamed(storage, 'AWS::Logs::LogGroup', 'CatalogTablesLogs').id,
        resourceNamed(storage, 'AWS::Logs::LogGroup', 'CatalogTablesProviderLogs').id,
      ].sort(),
    );
    for (const [id, r] of all) {
      if (r.Type === 'AWS::SNS::Topic' || r.Type === 'AWS::SNS::Subscription') {
        expect([r.DeletionPolicy, r.UpdateReplacePolicy], id).toEqual([undefined, undefined]);
      }
    }
  });
});

describe('pipeline stack', () => {
  it('builds every function for arm64 (Convert for x86_64) on the latest Node runtime with X-Ray and JSON logs to its own group', () => {
    const fns = resources(pipeline, 'AWS::Lambda::Function').filter(
      (f) => f.Properties.Runtime === 'nodejs24.x',
    );
    expect(fns.map((f) => f.id).sort()).toEqual(
      ['Trigger', 'Validate', 'Convert', 'Commit', 'Reconcile'].map(functionId).sort(),
    );
    const sizes: Record<string, [memory: number, timeoutSeconds: number]> = {
      // Two full vCPUs (1,769 MB each) for the validator's two threads; 15 minutes is Lambda's maximum.
      Validate: [3538, 900],
      // Six vCPUs for DuckDB (lib/conversion/lambda-sizing.ts).
      Convert: [10_240, 900],
      // A batch of ten commits: seconds of S3 and Glue calls (lib/constructs/table-committer.ts).
      Commit: [512, 60],
      Trigger: [256, 30],
      Reconcile: [256, 600],
    };
    for (const [name, [memory, timeout]] of Object.entries(sizes)) {
      const f = resourceNamed(pipeline, 'AWS::Lambda::Function', `${name}Function`).Properties;
      // The DuckDB binding in Convert's asset is the x64 one the tests run (README, the Convert Lambda).
      expect(f.Architectures, name).toEqual([name === 'Convert' ? 'x86_64' : 'arm64']);
      expect(f.TracingConfig, name).toEqual({ Mode: 'Active' });
      expect(f.LoggingConfig, name).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: logGroupId(name) } });
      expect([f.MemorySize, f.Timeout], name).toEqual([memory, timeout]);
    }
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DATASETS_DIR: '/var/task/datasets',
          // The router's settings and the bounds each Glue run is sized within: the configuration's.
          CONVERSION_SETTINGS: JSON.stringify({
            mode: config.conversion,
            fastPathMaxBytes: config.fastPathMaxBytes,
            glue: {
              workerType: config.glueWorkerType,
              maxWorkers: config.glueWorkers,
              maxTimeoutMinutes: config.glueTimeoutMinutes,
            },
          }),
        }),
      },
    });
  });

  it('starts the workflow from landing events and sends failed events to an encrypted queue', () => {
    const [notification, ...others] = resources(pipeline, 'Custom::S3BucketNotifications');
    expect(others).toEqual([]);
    expect(render(notification!.Properties.BucketName)).toBe(bucketName('landing'));
    expect(notification!.Properties.NotificationConfiguration).toEqual({
      LambdaFunctionConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          LambdaFunctionArn: { 'Fn::GetAtt': [functionId('Trigger'), 'Arn'] },
        },
      ],
    });
    const queue = resourceNamed(pipeline, 'AWS::SQS::Queue', 'TriggerFailures');
    expect(resolved(queue.Properties.KmsMasterKeyId)).toBe(`<${keyId()}.Arn>`);
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const [invokeConfig] = resources(pipeline, 'AWS::Lambda::EventInvokeConfig');
    expect(invokeConfig!.Properties).toEqual({
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue.id, 'Arn'] } } },
      FunctionName: { Ref: functionId('Trigger') },
      MaximumEventAgeInSeconds: 6 * 3600,
      MaximumRetryAttempts: 2,
      Qualifier: '$LATEST',
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

  it('lets the trigger start executions of the ingest state machine and nothing in S3', () => {
    const statements = statementsOf(pipeline, 'TriggerRole');
    expect(statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:'))).map(grant)).toEqual([
      { actions: ['states:StartExecution'], resources: [`<${machineId()}>`] },
    ]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('lets validate read landing, write raw only under dataset prefixes and failure, never curated', () => {
    const statements = statementsOf(pipeline, 'ValidateRole');
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3.map(grant).sort(byActions)).toEqual(
      [
        { actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [s3Arn('landing', '/*')] },
        { actions: ['s3:ListBucket'], resources: [s3Arn('landing')] },
        {
          actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
          resources: [s3Arn('failure', '/*'), ...datasets.map((d) => s3Arn('raw', `/${d}/*`))].sort(),
        },
      ].sort(byActions),
    );
    const everything = statements.flatMap((s) => grant(s).resources);
    expect(everything.filter((r) => r.includes(bucketName('curated')))).toEqual([]);
  });

  it("lets the Glue job read raw, write its datasets' data files and commit requests, clear its scratch folders, and read its script", () => {
    const statements = statementsOf(pipeline, 'CsvToParquetRole').filter((s) =>
      actionsOf(s).some((a) => a.startsWith('s3:')),
    );
    const prefixes = datasets.map((d) => `/${d}/*`);
    const assets = 'arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>';
    expect(statements.map(grant).sort(byActions)).toEqual(
      [
        // Raw files of the datasets, and the HEAD probes of each parent folder key in curated.
        {
          actions: ['s3:GetObject'],
          resources: [
            ...datasets.flatMap((d) =>
              [`/${d}`, `/${d}/iceberg`, `/${d}/iceberg/data`].map((k) => s3Arn('curated', k)),
            ),
            ...prefixes.map((p) => s3Arn('raw', p)),
          ].sort(),
        },
        {
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: datasets.map((d) => s3Arn('curated', `/${d}/iceberg/data/*`)),
        },
        {
          actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
          resources: datasets.map((d) => s3Arn('curated', `/_commits/${d}/*`)),
        },
        {
          actions: ['s3:ListBucket'],
          resources: [s3Arn('curated'), s3Arn('raw')],
          condition: { StringLike: { 's3:prefix': datasets.map((d) => `${d}/*`) } },
        },
        {
          actions: ['s3:ListBucket'],
          resources: [s3Arn('curated')],
          condition: { StringLike: { 's3:prefix': datasets.map((d) => `${d}/iceberg/data/*`) } },
        },
        {
          actions: ['s3:DeleteObject'],
          resources: datasets
            .flatMap((d) =>
              ['_staging', '_temporary'].map((f) => s3Arn('curated', `/${d}/iceberg/data/*/${f}/*`)),
            )
            .sort(),
        },
        { actions: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'], resources: [assets, `${assets}/*`] },
      ].sort(byActions),
    );
  });

  it('queues Glue runs past the concurrency limits, and deletes its security configuration with the stack', () => {
    // Retained under its fixed name, the configuration would block creating the stack again.
    const security = resourceNamed(pipeline, 'AWS::Glue::SecurityConfiguration', 'CsvToParquetSecurity');
    expect([security.DeletionPolicy, security.UpdateReplacePolicy]).toEqual(['Delete', 'Delete']);
    pipeline.hasResourceProperties('AWS::Glue::Job', { JobRunQueuingEnabled: true });
  });

  it('deletes the workgroup with its query history, so destroying the stack works after queries ran', () => {
    pipeline.hasResourceProperties('AWS::Athena::WorkGroup', { RecursiveDeleteOption: true });
  });

  it('retains nothing in the pipeline stack, which can be destroyed and created again', () => {
    const all = Object.entries(pipeline.toJSON().Resources as Record<string, Omit<Resource, 'id'>>);
    const retained = all.filter(
      ([, r]) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain',
    );
    // Log groups are retained (their names are generated, so a new stack never collides with them).
    expect([...new Set(retained.map(([, r]) => r.Type))]).toEqual(['AWS::Logs::LogGroup']);
  });

  it('runs the CSV to Parquet job on Glue 5.0 with a KMS security configuration', () => {
    const security = resourceNamed(pipeline, 'AWS::Glue::SecurityConfiguration', 'CsvToParquetSecurity');
    pipeline.hasResourceProperties('AWS::Glue::Job', {
      GlueVersion: '5.0',
      Command: Match.objectLike({ Name: 'glueetl', PythonVersion: '3' }),
      ExecutionProperty: { MaxConcurrentRuns: 10 },
      SecurityConfiguration: { Ref: security.id },
      WorkerType: 'G.1X',
      // A run's default: each run from the workflow gives its own NumberOfWorkers.
      NumberOfWorkers: config.glueWorkers,
      MaxRetries: 0,
      Timeout: config.glueTimeoutMinutes,
    });
    const key = `<${keyId()}.Arn>`;
    const encryption = security.Properties.EncryptionConfiguration as Record<string, Record<string, unknown>>;
    expect(JSON.parse(JSON.stringify(encryption, (k, v) => (k === 'KmsKeyArn' ? resolved(v) : v)))).toEqual({
      S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: key }],
      CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: key },
      JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: key },
    });
  });

  it('reconciles every hour: lists landing versions, reads the ledger, describes only its executions and starts new ones', () => {
    pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [functionId('Reconcile'), 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
      }),
    });
    const statements = statementsOf(pipeline, 'ReconcileRole');
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'kms:Decrypt',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:ListBucketVersions',
        'states:DescribeExecution',
        'states:StartExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const machine = machineId();
    expect(
      statements
        .filter((s) => actionsOf(s).some((a) => /^(s3|states|dynamodb):/.test(a)))
        .map(grant)
        .sort(byActions),
    ).toEqual(
      [
        // One item per landed version, and nothing else of the ledger.
        {
          actions: ['dynamodb:GetItem'],
          resources: [
            'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/csvlake-dev-ledger',
          ],
        },
        { actions: ['s3:ListBucketVersions'], resources: [s3Arn('landing')] },
        {
          actions: ['states:DescribeExecution'],
          resources: [
            `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${machine}.Name>:*`,
          ],
        },
        { actions: ['states:StartExecution'], resources: [`<${machine}>`] },
      ].sort(byActions),
    );
    const env = (
      resourceNamed(pipeline, 'AWS::Lambda::Function', 'ReconcileFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env.REDRIVE).toBe('true');
    expect(render(env.LANDING_BUCKET)).toBe(bucketName('landing'));
    expect(env.STATE_MACHINE_ARN).toEqual({ Ref: machine });
    expect(env.LEDGER_TABLE).toBe('csvlake-dev-ledger');
  });

  it('locks the Athena workgroup: engine v3, enforced settings, KMS results in the results bucket, scan cap', () => {
    const [workgroup] = resources(pipeline, 'AWS::Athena::WorkGroup');
    const configuration = workgroup!.Properties.WorkGroupConfiguration as {
      ResultConfiguration: { EncryptionConfiguration: { KmsKey: unknown }; OutputLocation: unknown };
    };
    expect(configuration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: 10_000_000_000,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS' } },
    });
    expect(resolved(configuration.ResultConfiguration.EncryptionConfiguration.KmsKey)).toBe(
      `<${keyId()}.Arn>`,
    );
    expect(render(configuration.ResultConfiguration.OutputLocation)).toBe(
      `s3://${bucketName('results')}/results/`,
    );
  });

  it('logs every workflow event to its encrypted log group with tracing on', () => {
    pipeline.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Destinations: [
          { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId('Ingest'), 'Arn'] } } },
        ],
        IncludeExecutionData: true,
        Level: 'ALL',
      },
    });
  });

  it('encrypts every log group with the lake key and keeps it for the configured logRetentionDays (90 by default)', () => {
    expect(parseConfig(() => undefined).logRetentionDays).toBe(90);
    expect(config.logRetentionDays).toBe(90);
    const groups = resources(pipeline, 'AWS::Logs::LogGroup');
    expect(groups.map((g) => g.id).sort()).toEqual(
      ['Validate', 'Convert', 'Commit', 'Trigger', 'Reconcile', 'Ingest'].map(logGroupId).sort(),
    );
    for (const g of groups) {
      expect(Object.keys(g.Properties).sort(), g.id).toEqual(['KmsKeyId', 'RetentionInDays']);
      expect(resolved(g.Properties.KmsKeyId), g.id).toBe(`<${keyId()}.Arn>`);
      expect(g.Properties.RetentionInDays, g.id).toBe(90);
    }
    // The storage stack's two: the tables function's and its Provider framework's (security.test.ts).
    expect(resources(storage, 'AWS::Logs::LogGroup')).toHaveLength(2);
  });

  it('counts files in, validated, rejected and curated from the workflow log, by the states that publish them', () => {
    const states = aslRendered().States;
    /** The SNS publish state that announces `status` (found in the definition, not by its name). */
    const publisherOf = (status: string) => {
      const names = Object.entries(states)
        .filter(
          ([, s]) =>
            (s.Parameters as { Message?: { status?: string } } | undefined)?.Message?.status === status,
        )
        .map(([name]) => name);
      expect(names, status).toHaveLength(1);
      return names[0]!;
    };
    const entered = (status: string) =>
      `{ ($.type = "TaskStateEntered") && ($.details.name = "${publisherOf(status)}") }`;
    const expected: Record<string, string> = {
      FilesIn: '{ $.type = "ExecutionStarted" }',
      FilesValidated: entered('VALIDATED'),
      FilesRejected: entered('REJECTED'),
      FilesCurated: entered('CURATED'),
    };
    const filters = resources(pipeline, 'AWS::Logs::MetricFilter');
    expect(filters).toHaveLength(4);
    for (const [metric, pattern] of Object.entries(expected)) {
      const filter = resourceNamed(pipeline, 'AWS::Logs::MetricFilter', `Monitoring${metric}Filter`);
      expect(filter.Properties, metric).toEqual({
        FilterPattern: pattern,
        LogGroupName: { Ref: logGroupId('Ingest') },
        MetricTransformations: [
          { DefaultValue: 0, MetricName: metric, MetricNamespace: 'CsvDataLake', MetricValue: '1' },
        ],
      });
    }
  });

  it('alarms at the first failed execution (a failed Glue run among them), rejection, queued failure, dead-lettered commit, orphan, Lambda error or throttle', () => {
    const alarms = resources(pipeline, 'AWS::CloudWatch::Alarm');
    const fn = (name: string, metric: string) => ({
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Statistic: 'Sum',
      Period: 300,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
    });
    const expected: Record<string, Record<string, unknown>> = {
      FailedExecutions: {
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Statistic: 'Sum',
        Period: 300,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId() } }],
      },
      // The metric the FilesRejected filter above writes.
      RejectedFiles: { Namespace: 'CsvDataLake', MetricName: 'FilesRejected', Statistic: 'Sum', Period: 300 },
      TriggerFailures: {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: 300,
        Dimensions: [
          {
            Name: 'QueueName',
            Value: {
              'Fn::GetAtt': [resourceNamed(pipeline, 'AWS::SQS::Queue', 'TriggerFailures').id, 'QueueName'],
            },
          },
        ],
      },
      CommitDeadLetters: {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: 300,
        Dimensions: [
          {
            Name: 'QueueName',
            Value: {
              'Fn::GetAtt': [resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitDeadLetters').id, 'QueueName'],
            },
          },
        ],
      },
      // What the reconciler publishes each run (README: the CsvDataLake/Orphans metric).
      Orphans: { Namespace: 'CsvDataLake', MetricName: 'Orphans', Statistic: 'Maximum', Period: 3600 },
      ...Object.fromEntries(
        ['Trigger', 'Validate', 'Commit', 'Reconcile'].flatMap((name) => [
          [`${name}Errors`, fn(name, 'Errors')],
          [`${name}Throttles`, fn(name, 'Throttles')],
        ]),
      ),
      ConvertThrottles: fn('Convert', 'Throttles'),
    };
    // The Convert function's errors include its hand-offs to Glue: alarmed on their rate in an hour.
    expect(alarms).toHaveLength(Object.keys(expected).length + 1);
    const rate = resourceNamed(pipeline, 'AWS::CloudWatch::Alarm', 'MonitoringConvertErrorRate').Properties;
    const hourly = (metric: string) => ({
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId('Convert') } }],
      },
      Period: 3600,
      Stat: 'Sum',
    });
    expect(rate).toMatchObject({
      Threshold: 0.5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: expect.arrayContaining([
        expect.objectContaining({ Expression: 'IF(invocations >= 5, errors / invocations, 0)' }),
        { Id: 'errors', MetricStat: hourly('Errors'), ReturnData: false },
        { Id: 'invocations', MetricStat: hourly('Invocations'), ReturnData: false },
      ]),
    });
    expect(list(rate.AlarmActions).map(resolved)).toEqual([`<${topicId('Alarms')}>`]);
    for (const [name, metric] of Object.entries(expected)) {
      const alarm = resourceNamed(pipeline, 'AWS::CloudWatch::Alarm', `Monitoring${name}`).Properties;
      const { AlarmActions, AlarmDescription, ...rest } = alarm;
      expect(rest, name).toEqual({
        ...metric,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(list(AlarmActions).map(resolved), name).toEqual([`<${topicId('Alarms')}>`]);
      expect(AlarmDescription, name).toEqual(expect.any(String));
    }
    // A Glue failure fails its execution (FailedExecutions); no rule without a target stands in.
    pipeline.resourceCountIs('AWS::Events::Rule', 0);
    pipeline.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

/** The synthesized definition with fake ARNs (for asl-validator). */
const asl = () =>
  definitionFromTemplate(pipeline.toJSON(), (ref) => {
    const name = referenceName(ref);
    return PSEUDO_PARAMETERS[name] ?? `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
  }) as Asl;
/** The synthesized definition with references rendered as `<LogicalId.Attr>` (storage outputs followed). */
const aslRendered = () => definitionFromTemplate(pipeline.toJSON(), (ref) => resolved(ref)) as Asl;

/** The retry LambdaInvoke adds by default: Lambda's own service errors. */
const LAMBDA_SERVICE_RETRY = {
  ErrorEquals: [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
};
/** Throttling of the function and of S3 inside it: worth waiting for. */
const TRANSIENT_RETRY = {
  ErrorEquals: ['Lambda.TooManyRequestsException', 'SlowDown', 'ServiceUnavailable', 'InternalError'],
  IntervalSeconds: 5,
  MaxAttempts: 4,
  BackoffRate: 2,
};

describe('the workflow definition', () => {
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

  it.each(['Validate', 'ValidateSlice'])(
    '%s retries Lambda service errors and throttling, exactly',
    (name) => {
      expect(aslRendered().States[name]!.Retry).toEqual([LAMBDA_SERVICE_RETRY, TRANSIENT_RETRY]);
    },
  );

  it("CommitToTable retries SQS's throttling and service errors, and waits for its answer longer than every receive of its message", () => {
    const commit = aslRendered().States[STATE.commit]!;
    expect(commit.Retry).toEqual([
      {
        ErrorEquals: [
          'SQS.ThrottlingException',
          'SQS.RequestThrottledException',
          'SQS.KmsThrottledException',
          'SQS.InternalErrorException',
          'SQS.ServiceUnavailableException',
          'SQS.KmsUnavailableException',
        ],
        IntervalSeconds: 2,
        MaxAttempts: 6,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
    ]);
    // No heartbeat: the Commit function sends none; the timeout covers every receive.
    expect(commit.HeartbeatSeconds).toBeUndefined();
    expect(commit.TimeoutSeconds).toBe(COMMIT_TASK_TIMEOUT.toSeconds());
    expect(commit.TimeoutSeconds).toBeGreaterThan(
      COMMIT_FUNCTION.maxReceiveCount * COMMIT_FUNCTION.visibilityTimeoutSeconds,
    );
  });

  it.each([STATE.notifyValidated, STATE.notifyRejected, STATE.notifyCurated, STATE.notifyFailed])(
    '%s retries a failed publish before its Catch marks the file FAILED',
    (name) => {
      expect(aslRendered().States[name]!.Retry).toEqual([
        {
          ErrorEquals: ['States.TaskFailed'],
          IntervalSeconds: 2,
          MaxAttempts: 5,
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ]);
    },
  );

  it('keeps retrying a refused Glue start long enough to drain a burst of 200 files, within the 6 h timeout', () => {
    // Full jitter: each wait is uniform on [0, cap], so the expected total is half the caps' sum.
    const retry = asl().States[STATE.convert]!.Retry as {
      IntervalSeconds: number;
      BackoffRate: number;
      MaxDelaySeconds: number;
      MaxAttempts: number;
    }[];
    const { IntervalSeconds, BackoffRate, MaxDelaySeconds, MaxAttempts } = retry[0]!;
    const caps = Array.from({ length: MaxAttempts }, (_, n) =>
      Math.min(IntervalSeconds * BackoffRate ** n, MaxDelaySeconds),
    );
    const expectedWait = caps.reduce((a, b) => a + b, 0) / 2;
    // A burst of 200 valid files through maxConcurrentRuns at a time, each run about 3 minutes
    // (a minute of start-up, the 1-minute billing minimum, and the work), drains in this long:
    const drain = Math.ceil(200 / config.glueMaxConcurrentRuns) * 3 * 60;
    expect(expectedWait).toBeGreaterThan(2 * drain);
    // Even when every wait draws its cap, the retries end before the state machine's timeout.
    expect(2 * expectedWait).toBeLessThan(asl().TimeoutSeconds!);
  });

  it('retries a Glue run refused for concurrency with capped, jittered backoff and never catches it into success', () => {
    const convert = asl().States[STATE.convert]!;
    expect(convert.Resource).toBe('arn:aws:states:::glue:startJobRun.sync');
    expect(convert.Retry).toEqual([
      {
        ErrorEquals: ['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException'],
        IntervalSeconds: 60,
        MaxAttempts: 36,
        BackoffRate: 2,
        MaxDelaySeconds: 600,
        JitterStrategy: 'FULL',
      },
      {
        ErrorEquals: ['Glue.ResourceNumberLimitExceededException'],
        IntervalSeconds: 60,
        MaxAttempts: 5,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
    ]);
    expect(convert.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.recordFailed },
    ]);
    expect(asl().States[STATE.recordFailed]!.Next).toBe(STATE.notifyFailed);
    expect(asl().States[STATE.notifyFailed]!.Next).toBe(STATE.failed);
    expect(asl().States[STATE.failed]!.Type).toBe('Fail');
  });

  it('gives exactly the Lambda, Glue and ledger tasks a Retry, and sends every task but RecordFailed and NotifyFailed to RecordFailed', () => {
    const tasks = Object.entries(aslRendered().States).filter(([, s]) => s.Type === 'Task');
    expect(
      Object.fromEntries(tasks.map(([name, s]) => [name, (s.Retry as unknown[] | undefined)?.length ?? 0])),
    ).toEqual({
      Validate: 2,
      ValidateSlice: 2,
      ConvertInLambda: 2,
      ConvertToParquet: 2,
      CommitToTable: 1,
      RecordReceived: 1,
      RecordValidated: 1,
      RecordRejected: 1,
      RecordCurated: 1,
      RecordFailed: 1,
      NotifyValidated: 1,
      NotifyRejected: 1,
      NotifyCurated: 1,
      NotifyFailed: 1,
    });
    const toFailed = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailed' };
    // A ledger write whose condition fails was made already (or a later one stands): go on.
    const written = (next: string) => ({
      ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
      ResultPath: null,
      Next: next,
    });
    const expected: Record<string, unknown> = {
      NotifyFailed: undefined,
      // The ledger failing must not keep the failure from being told.
      RecordFailed: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'NotifyFailed' }],
      ConvertInLambda: [
        { ErrorEquals: CONVERT_HANDOFF_ERRORS, ResultPath: '$.handoff', Next: 'SizeGlueAtMost' },
        toFailed,
      ],
      RecordReceived: [written('RouteBySize'), toFailed],
      RecordValidated: [written('NotifyValidated'), toFailed],
      // Terminal statuses are written after their notification, last.
      RecordRejected: [written('Rejected'), toFailed],
      RecordCurated: [written('Curated'), toFailed],
    };
    for (const [name, s] of tasks) {
      expect(s.Catch, name).toEqual(name in expected ? expected[name] : [toFailed]);
      // The condition's refusal is caught onward, to the state a successful write goes to.
      if (name.startsWith('Record') && name !== 'RecordFailed')
        expect(s.Next, name).toBe((expected[name] as { Next: string }[])[0]!.Next);
    }
  });

  it('routes a valid file by the Validate output to the Convert function or the Glue job, and both to CommitToTable', () => {
    const states = aslRendered().States;
    expect(states.NotifyValidated!.Next).toBe('ChooseConversion');
    expect(states.ChooseConversion).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.validation.conversion.engine', IsPresent: true },
            { Variable: '$.validation.conversion.engine', StringEquals: 'lambda' },
          ],
          Next: 'ConvertInLambda',
        },
        {
          Not: { Variable: '$.validation.conversion.glueWorkers', IsPresent: true },
          Next: 'SizeGlueAtMost',
        },
      ],
      Default: 'ConvertToParquet',
    });
    // A run no size fits (a hand-off, a Validate output without the plan) gets the configured most.
    expect(states.SizeGlueAtMost).toEqual({
      Type: 'Pass',
      Result: {
        engine: 'glue',
        glueWorkers: config.glueWorkers,
        glueTimeoutMinutes: config.glueTimeoutMinutes,
      },
      ResultPath: '$.validation.conversion',
      Next: 'ConvertToParquet',
    });
    const convert = states.ConvertInLambda!;
    expect(convert.Resource).toBe(`<${functionId('Convert')}.Arn>`);
    expect(convert.Parameters).toEqual({ 'arguments.$': '$.validation.jobArguments' });
    expect([convert.ResultPath, convert.Next]).toEqual(['$.conversion', 'CommitToTable']);
    expect(states.ConvertToParquet!.Next).toBe('CommitToTable');
    expect(states.CommitToTable!.Next).toBe('NotifyCurated');
  });

  it('runs both validation routes on the Validate function and slices at the configured threshold', () => {
    const states = aslRendered().States;
    const validate = `<${functionId('Validate')}.Arn>`;
    expect([states.Validate!.Resource, states.ValidateSlice!.Resource]).toEqual([validate, validate]);
    expect(states.RouteBySize!.Choices).toEqual([
      { Variable: '$.size', NumericGreaterThan: config.largeFileBytes, Next: 'PlanSlices' },
    ]);
    expect((states.PlanSlices!.Parameters as { slice: unknown }).slice).toEqual({
      bytes: config.largeFileBytes,
      index: 1,
    });
    // Where the messages below read from.
    expect([states.Validate!.ResultPath, states.ValidateSlice!.ResultPath]).toEqual([
      '$.validation',
      '$.validation',
    ]);
    expect(states.CommitToTable!.ResultPath).toBe('$.commit');
  });

  it('passes the job arguments the validator built, and the workers and timeout it sized the run with', () => {
    const states = asl().States;
    const parameters = states[STATE.convert]!.Parameters as Record<string, unknown>;
    expect(parameters['Arguments.$']).toBe('$.validation.jobArguments');
    // Glue's StartJobRun: Timeout in minutes, NumberOfWorkers only together with WorkerType.
    expect(parameters).toMatchObject({
      'NumberOfWorkers.$': '$.validation.conversion.glueWorkers',
      'Timeout.$': '$.validation.conversion.glueTimeoutMinutes',
      WorkerType: config.glueWorkerType,
    });
    // No state timeout besides Glue's own.
    expect([states[STATE.convert]!.TimeoutSeconds, states[STATE.convert]!.TimeoutSecondsPath]).toEqual([
      undefined,
      undefined,
    ]);
    expect(states[STATE.isValid]!.Type).toBe('Choice');
    expect(states[STATE.rejected]!.Type).toBe('Succeed');
    expect(states[STATE.curated]!.Type).toBe('Succeed');
  });

  /** `field.$: $.validation.field` for fields of the Validate task's output (type-checked names). */
  const fromValidation = (...fields: (keyof ValidateTaskOutput)[]) =>
    Object.fromEntries(fields.map((f) => [`${f}.$`, `$.validation.${f}`]));
  /** `field.$: $.field` for fields of the execution input. */
  const fromRequest = (...fields: (keyof IngestRequest)[]) =>
    Object.fromEntries(fields.map((f) => [`${f}.$`, `$.${f}`]));
  const messages = (): Record<PipelineStatus, [state: string, fields: State]> => ({
    VALIDATED: ['NotifyValidated', fromValidation('dataset', 'source', 'raw', 'rows')],
    REJECTED: [
      'NotifyRejected',
      fromValidation('dataset', 'reason', 'source', 'failure', 'report', 'rows', 'errorCount', 'errors'),
    ],
    CURATED: [
      'NotifyCurated',
      {
        ...fromValidation('dataset', 'rows'),
        // What the commit answered: the table, the snapshot holding the rows, the day's data folder.
        'table.$': '$.commit.table',
        'snapshotId.$': '$.commit.snapshotId',
        'location.$': '$.commit.location',
      },
    ],
    FAILED: [
      'NotifyFailed',
      {
        ...fromRequest('dataset'),
        source: fromRequest('bucket', 'key'),
        'error.$': '$.error.Error',
        'cause.$': '$.error.Cause',
      },
    ],
  });

  it.each([
    ['VALIDATED', 'the dataset, source, raw copy and rows'],
    ['REJECTED', 'the reason, source, failure copy, report, rows, error count and first errors'],
    ['CURATED', 'the rows, the table, its snapshot holding them and their data folder'],
    ['FAILED', 'the source object, the error and its cause'],
  ] as const)(
    'publishes %s to the events topic with %s, and dataset and status attributes',
    (status, _holds) => {
      const [state, fields] = messages()[status];
      expect(aslRendered().States[state]!.Parameters).toEqual({
        TopicArn: `<${topicId('Events')}>`,
        Message: { status, 'execution.$': '$$.Execution.Id', ...fields },
        MessageAttributes: {
          dataset: { DataType: 'String', 'StringValue.$': '$.dataset' },
          status: { DataType: 'String', StringValue: status },
        },
      });
    },
  );
});

describe('security checks', () => {
  it('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    expect(unacknowledgedFindings(app)).toEqual([]);
  });

  it('gives every acknowledgement a reason of its own', () => {
    const reasons = acknowledgementReasons(app);
    expect(reasons.length).toBeGreaterThan(10);
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(30);
  });
});

describe('README claims the template backs', () => {
  const readme = readFileSync('README.md', 'utf8');
  /** One README passage, from its opening words to the next blank line, on one line. */
  const passage = (opening: string) => {
    const start = readme.indexOf(opening);
    expect(start, `README passage "${opening}"`).toBeGreaterThanOrEqual(0);
    const end = readme.indexOf('\n\n', start);
    return readme.slice(start, end === -1 ? undefined : end).replace(/\s+/g, ' ');
  };
  const number = (text: string, pattern: RegExp) => {
    const m = pattern.exec(text);
    expect(m, `${pattern} in: ${text}`).not.toBeNull();
    return Number(m![1]!.replace(/,/g, ''));
  };

  it('Tear down: what the storage stack retains and what it deletes is what the template says', () => {
    const said = passage('**Tear down**');
    /** README words → the resource types they name. */
    const WORDS: Record<string, string> = {
      buckets: 'AWS::S3::Bucket',
      key: 'AWS::KMS::Key',
      'Glue database': 'AWS::Glue::Database',
      'ledger table': 'AWS::DynamoDB::Table',
      topics: 'AWS::SNS::Topic',
      subscriptions: 'AWS::SNS::Subscription',
      'table optimizers': 'AWS::Glue::TableOptimizer',
      'log groups': 'AWS::Logs::LogGroup',
    };
    const typesIn = (phrase: string) =>
      Object.entries(WORDS)
        .filter(([word]) => new RegExp(`\\b${word}\\b`).test(phrase))
        .map(([, type]) => type)
        .sort();
    const retainedPhrase = /its ([^.;:]+?) are retained/.exec(said)?.[1];
    const deletedPhrase = /its ([^.;:]+?) hold no data and are deleted with the stack/.exec(said)?.[1];
    expect([retainedPhrase, deletedPhrase], said).not.toContain(undefined);

    const all = Object.values(storage.toJSON().Resources as Record<string, Omit<Resource, 'id'>>);
    const retainedTypes = [
      ...new Set(all.filter((r) => r.DeletionPolicy === 'Retain').map((r) => r.Type)),
    ].sort();
    expect(typesIn(retainedPhrase!)).toEqual(retainedTypes);
    for (const type of typesIn(retainedPhrase!)) {
      for (const r of all.filter((r) => r.Type === type)) expect(r.DeletionPolicy, type).toBe('Retain');
    }
    const deletedTypes = typesIn(deletedPhrase!);
    expect(deletedTypes).toEqual(['AWS::Glue::TableOptimizer', 'AWS::SNS::Subscription', 'AWS::SNS::Topic']);
    for (const type of deletedTypes) {
      const ofType = all.filter((r) => r.Type === type);
      expect(ofType.length, type).toBeGreaterThan(0);
      for (const r of ofType) expect(r.DeletionPolicy ?? 'Delete', type).toBe('Delete');
    }
  });

  it('Large files: the 6-hour limit, slice times and sizes are those of the template and the measured speed', () => {
    const text = passage('**Large files.**');
    const definition = aslRendered();
    const timeoutSeconds = definition.TimeoutSeconds!;
    const threshold = (definition.States.RouteBySize!.Choices as { NumericGreaterThan: number }[])[0]!
      .NumericGreaterThan;
    const lambdaSeconds = resourceNamed(pipeline, 'AWS::Lambda::Function', 'ValidateFunction').Properties
      .Timeout as number;
    const reserveSeconds = SLICE_RESERVE_MS / 1000;

    // The binding limit: the state machine's timeout, in hours.
    expect(number(text, /limited by the state machine's (\d+)-hour timeout/)).toBe(timeoutSeconds / 3600);
    expect(number(text, /fit in (\d+) hours/)).toBe(timeoutSeconds / 3600);
    expect(number(text, /counts against the same (\d+) hours/)).toBe(timeoutSeconds / 3600);
    expect(text).toMatch(/-hour timeout, not by the 25,000-event history of an execution/);

    // At the measured speed: one slice of `threshold` bytes, and how many fit.
    const sliceBytes = number(text, /a (\d+) GB slice takes/) * 1e9;
    expect(sliceBytes).toBe(threshold);
    const measured = number(text, /at the measured (\d+) MB\/s/);
    expect(measured).toBe(MEASURED_VALIDATE_MB_PER_S);
    const fastSliceSeconds = threshold / (measured * 1e6);
    expect(number(text, /slice takes ([\d.]+) minutes/)).toBe(fastSliceSeconds / 60);
    const fastSlices = Math.floor(timeoutSeconds / fastSliceSeconds);
    expect(number(text, /about [\d.]+ TB \((\d+) slices\)/)).toBe(fastSlices);
    expect(number(text, /about ([\d.]+) TB/)).toBe(Number(((fastSlices * threshold) / 1e12).toFixed(1)));

    // At a quarter of it (what the default threshold assumes) a slice uses all the time it may.
    const [lambdaMinutes, reserveMinutes] = [
      number(text, /full \d+ minutes \((\d+) less/),
      number(text, /less the (\d+) kept in reserve/),
    ];
    expect([lambdaMinutes, reserveMinutes]).toEqual([lambdaSeconds / 60, reserveSeconds / 60]);
    const slowSliceSeconds = lambdaSeconds - reserveSeconds;
    expect(number(text, /runs its full (\d+) minutes/)).toBe(slowSliceSeconds / 60);
    expect(threshold / ((measured / 4) * 1e6)).toBe(slowSliceSeconds);
    const slowSlices = Math.floor(timeoutSeconds / slowSliceSeconds);
    expect(number(text, /about \d+ GB \((\d+) slices\)/)).toBe(slowSlices);
    expect(number(text, /about (\d+) GB \(/)).toBe(Math.round((slowSlices * threshold) / 1e10) * 10);

    // The Glue job's timeout shares the same budget.
    const job = resourceNamed(pipeline, 'AWS::Glue::Job', 'CsvToParquetJob').Properties;
    expect(number(text, /`glueTimeoutMinutes`, (\d+) by default/)).toBe(job.Timeout);
    expect(parseConfig(() => undefined).glueTimeoutMinutes).toBe(job.Timeout);
  });
});

describe('configuration', () => {
  it('refuses a landing expiry that would outlive the execution history the reconciler reads', () => {
    // Current for N days, then noncurrent for N more, plus S3's lifecycle lag of up to 2 days.
    expect(2 * MAX_LANDING_EXPIRY_DAYS + 2).toBeLessThan(EXECUTION_HISTORY_DAYS);
    expect(
      parseConfig((k) => (k === 'landingExpiryDays' ? MAX_LANDING_EXPIRY_DAYS : undefined)).landingExpiryDays,
    ).toBe(MAX_LANDING_EXPIRY_DAYS);
    expect(() =>
      parseConfig((k) => (k === 'landingExpiryDays' ? `${MAX_LANDING_EXPIRY_DAYS + 1}` : undefined)),
    ).toThrow(/landingExpiryDays must be at most 40: .* forgets its execution after 90 days/);
  });

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

  it('synthesizes with other names and log retention from context', async () => {
    const lake = await buildTestLake({ prefix: 'acme', stage: 'prod', logRetentionDays: 365 });
    expect(lake.storage.stackName).toBe('acme-prod-storage');
    expect(lake.pipeline.stackName).toBe('acme-prod-pipeline');
    const groups = resources(Template.fromStack(lake.pipeline), 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(6);
    for (const g of groups) expect(g.Properties.RetentionInDays, g.id).toBe(365);
  });

  it('passes the conversion settings to Validate, and with conversion: glue synthesizes no Convert function, and every valid file goes to Glue', async () => {
    const lake = await buildTestLake({ conversion: 'glue', fastPathMaxBytes: 5000 });
    const template = Template.fromStack(lake.pipeline);
    const functions = resources(template, 'AWS::Lambda::Function').map((f) => f.id);
    expect(functions.filter((id) => id.startsWith('Convert'))).toEqual([]);
    const validate = resourceNamed(template, 'AWS::Lambda::Function', 'ValidateFunction').Properties;
    const env = (validate.Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(env.CONVERSION_SETTINGS!)).toEqual({
      mode: 'glue',
      fastPathMaxBytes: 5000,
      glue: {
        workerType: lake.config.glueWorkerType,
        maxWorkers: lake.config.glueWorkers,
        maxTimeoutMinutes: lake.config.glueTimeoutMinutes,
      },
    });
    const states = (definitionFromTemplate(template.toJSON(), (ref) => referenceName(ref)) as Asl).States;
    expect(
      Object.keys(states)
        .filter((name) => /Conver/.test(name))
        .sort(),
    ).toEqual(['ChooseConversion', 'ConvertToParquet']);
    expect(states.ChooseConversion!.Choices).toEqual([
      { Not: { Variable: '$.validation.conversion.glueWorkers', IsPresent: true }, Next: 'SizeGlueAtMost' },
    ]);
    expect(states.ChooseConversion!.Default).toBe('ConvertToParquet');
  });
});
