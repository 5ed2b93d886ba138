/**
 * Security as tests (issue 6, item 7), over the two synthesized templates: TLS-only resource
 * policies, no wildcard actions, `Resource: "*"` only where AWS has no resource-level
 * permissions, and each role reaching only the zones and prefixes its work needs.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { list, outputsOf, render, resourceNamed, resourcesOf } from './cfn.ts';
import { setUpOrFailEach, synthTemplates } from './synth.ts';

type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Document = { Statement: Statement[] };
/** One action on one resource, the resource rendered as text (see {@link render}). */
type Grant = { action: string; resource: string; condition?: Statement['Condition'] };

let storage: Template;
let pipeline: Template;
let datasets: string[];
let databaseName: string;
/** The storage stack's outputs, to follow the pipeline's cross-stack references (the key, the topics). */
let outputs: Record<string, unknown>;

setUpOrFailEach(async () => {
  const lake = await synthTemplates();
  ({ storage, pipeline } = lake);
  datasets = lake.datasets.map((d) => d.name).sort();
  databaseName = databaseOf(storage);
  outputs = outputsOf(storage);
});

const resources = resourcesOf;
const both = () => [storage, pipeline];
/** The lake key's ARN as rendered in either stack (the pipeline's cross-stack reference followed). */
const lakeKey = () => `<${resourceNamed(storage, 'AWS::KMS::Key', 'BucketsKey').id}.Arn>`;
const actionsOf = (s: Statement) => list(s.Action);

function databaseOf(t: Template): string {
  const dbs = resources(t, 'AWS::Glue::Database');
  expect(dbs).toHaveLength(1);
  return (dbs[0]!.Properties.DatabaseInput as { Name: string }).Name;
}

/** Identity policies (AWS::IAM::Policy, inline role policies, managed policies) by role id. */
function identityPolicies(t: Template): { roles: string[]; id: string; document: Document }[] {
  const attached = resources(t, 'AWS::IAM::Policy').map((p) => ({
    id: p.id,
    roles: list(p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref),
    document: p.Properties.PolicyDocument as Document,
  }));
  const managed = resources(t, 'AWS::IAM::ManagedPolicy').map((p) => ({
    id: p.id,
    roles: list(p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref),
    document: p.Properties.PolicyDocument as Document,
  }));
  const inline = resources(t, 'AWS::IAM::Role').flatMap((r) =>
    list(r.Properties.Policies as { PolicyName: string; PolicyDocument: Document }[]).map((p) => ({
      id: `${r.id}/${p.PolicyName}`,
      roles: [r.id],
      document: p.PolicyDocument,
    })),
  );
  return [...attached, ...managed, ...inline];
}

/** Resource policies: buckets, topics, queues and keys. */
function resourcePolicies(t: Template): { id: string; document: Document }[] {
  const from = (type: string, property: string) =>
    resources(t, type).map((r) => ({ id: r.id, document: r.Properties[property] as Document }));
  return [
    ...from('AWS::S3::BucketPolicy', 'PolicyDocument'),
    ...from('AWS::SNS::TopicPolicy', 'PolicyDocument'),
    ...from('AWS::SQS::QueuePolicy', 'PolicyDocument'),
    ...from('AWS::KMS::Key', 'KeyPolicy'),
  ];
}

/** The role a logical id prefix names (the lake's own roles have stable construct paths). */
function roleId(t: Template, prefix: string): string {
  const ids = resources(t, 'AWS::IAM::Role')
    .map((r) => r.id)
    .filter((id) => id.startsWith(prefix));
  expect(ids, `roles named ${prefix}*`).toHaveLength(1);
  return ids[0]!;
}

/** Every Allow grant of a role, one per action and resource. */
function grantsOf(t: Template, role: string): Grant[] {
  return identityPolicies(t)
    .filter((p) => p.roles.includes(role))
    .flatMap((p) => p.document.Statement)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      actionsOf(s).flatMap((action) =>
        list(s.Resource).map((r) => ({
          action,
          resource: render(r, outputs),
          ...(s.Condition ? { condition: s.Condition } : {}),
        })),
      ),
    );
}

const ZONE_ARN =
  /^arn:<AWS::Partition>:s3:::csvlake-dev-(landing|raw|failure|curated|results)-<AWS::AccountId>-<AWS::Region>(\/.*)?$/;

/** A lake bucket ARN as `<zone>` or `<zone>/<object pattern>`; anything else unchanged. */
function zoneOf(resource: string): string {
  const m = ZONE_ARN.exec(resource);
  return m ? `${m[1]}${m[2] ?? ''}` : resource;
}

/** The S3 grants of a role on the lake's buckets, as sorted `<action> <zone>[/<pattern>]` lines. */
function lakeS3(grants: Grant[]): string[] {
  return grants
    .filter((g) => g.action.startsWith('s3:') && ZONE_ARN.test(g.resource))
    .map((g) => `${g.action} ${zoneOf(g.resource)}`)
    .sort();
}

const cross = (actions: string[], targets: string[]) =>
  actions.flatMap((a) => targets.map((t) => `${a} ${t}`)).sort();

/**
 * The actions that may have `Resource: "*"`: AWS offers no resource-level permission for them.
 * `cloudwatch:PutMetricData` only with a `cloudwatch:namespace` condition.
 */
const ANY_RESOURCE_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:GetSamplingStatisticSummaries',
  'cloudwatch:PutMetricData',
  // A task token names the task: Step Functions authorizes the answers on no resource.
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:PutResourcePolicy',
]);

describe('TLS only', () => {
  it('denies every non-TLS request to every bucket and its objects, in both stacks', () => {
    const buckets = both().flatMap((t) => resources(t, 'AWS::S3::Bucket').map((b) => ({ t, id: b.id })));
    expect(buckets).toHaveLength(6);
    for (const { t, id } of buckets) {
      const policies = resources(t, 'AWS::S3::BucketPolicy').filter(
        (p) => (p.Properties.Bucket as { Ref?: string }).Ref === id,
      );
      expect(policies, `policy of bucket ${id}`).toHaveLength(1);
      const statements = (policies[0]!.Properties.PolicyDocument as Document).Statement;
      const deny = statements.find(
        (s) =>
          s.Effect === 'Deny' &&
          s.Condition?.Bool?.['aws:SecureTransport'] === 'false' &&
          actionsOf(s).includes('s3:*'),
      );
      expect(deny, `TLS deny of bucket ${id}`).toBeDefined();
      expect([{ AWS: '*' }, '*']).toContainEqual(deny!.Principal);
      expect(
        list(deny!.Resource)
          .map((r) => render(r))
          .sort(),
      ).toEqual([`<${id}.Arn>`, `<${id}.Arn>/*`]);
    }
  });

  it('denies non-TLS publishing to every topic and any non-TLS request to every queue', () => {
    const topics = resources(storage, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(3);
    for (const topic of topics) {
      const policy = resources(storage, 'AWS::SNS::TopicPolicy').find((p) =>
        list(p.Properties.Topics as { Ref: string }[]).some((r) => r.Ref === topic.id),
      );
      expect(policy, `policy of topic ${topic.id}`).toBeDefined();
      const deny = (policy!.Properties.PolicyDocument as Document).Statement.find(
        (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );
      expect(deny, `TLS deny of topic ${topic.id}`).toBeDefined();
      expect(actionsOf(deny!)).toContain('sns:Publish');
      expect(list(deny!.Resource).map((r) => render(r))).toEqual([`<${topic.id}>`]);
    }
    const queues = both().flatMap((t) => resources(t, 'AWS::SQS::Queue').map((q) => ({ t, id: q.id })));
    // The trigger's failure queue, the commit queue and its dead-letter queue.
    expect(queues).toHaveLength(3);
    for (const { t, id } of queues) {
      const policy = resources(t, 'AWS::SQS::QueuePolicy').find((p) =>
        list(p.Properties.Queues as { Ref: string }[]).some((r) => r.Ref === id),
      );
      expect(policy, `policy of queue ${id}`).toBeDefined();
      const deny = (policy!.Properties.PolicyDocument as Document).Statement.find(
        (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );
      expect(deny, `TLS deny of queue ${id}`).toBeDefined();
      expect(actionsOf(deny!)).toEqual(['sqs:*']);
      expect(list(deny!.Resource).map((r) => render(r))).toEqual([`<${id}.Arn>`]);
    }
  });
});

describe('no wildcards', () => {
  it('grants no * action and no service-wide svc:* action in any identity policy', () => {
    const policies = both().flatMap(identityPolicies);
    expect(policies.length).toBeGreaterThanOrEqual(6);
    for (const p of policies) {
      for (const s of p.document.Statement) {
        expect(s.NotAction, `${p.id}: NotAction`).toBeUndefined();
        expect(s.NotResource, `${p.id}: NotResource`).toBeUndefined();
        for (const a of actionsOf(s)) expect(a === '*' || /^[\w-]+:\*$/.test(a), `${p.id}: ${a}`).toBe(false);
      }
    }
  });

  it('allows no * or svc:* action in resource policies, but for the key policy delegating to the account', () => {
    for (const p of both().flatMap(resourcePolicies)) {
      for (const s of p.document.Statement.filter((s) => s.Effect === 'Allow')) {
        // CDK's default key policy: the account root may administer the key, so that IAM policies
        // (checked above) decide who uses it. Without it the key would be unmanageable.
        const delegation =
          p.id.startsWith('BucketsKey') &&
          render((s.Principal as { AWS?: unknown }).AWS ?? '') ===
            'arn:<AWS::Partition>:iam::<AWS::AccountId>:root';
        if (delegation) continue;
        for (const a of actionsOf(s)) expect(a === '*' || /^[\w-]+:\*$/.test(a), `${p.id}: ${a}`).toBe(false);
      }
    }
  });

  it('uses Resource "*" only for actions without resource-level permissions', () => {
    for (const p of both().flatMap(identityPolicies)) {
      for (const s of p.document.Statement.filter((s) => list(s.Resource).includes('*'))) {
        for (const a of actionsOf(s)) {
          expect(ANY_RESOURCE_ACTIONS.has(a), `${p.id}: ${a} on *`).toBe(true);
          if (a === 'cloudwatch:PutMetricData') {
            expect(s.Condition?.StringEquals?.['cloudwatch:namespace'], `${p.id}: namespace`).toBeTruthy();
          }
        }
      }
    }
  });

  it('attaches no managed policy but the ones CDK gives its bucket-notifications handler and Provider framework', () => {
    const managed = both().flatMap((t) =>
      resources(t, 'AWS::IAM::Role').flatMap((r) =>
        list(r.Properties.ManagedPolicyArns).map((arn) => `${r.id.slice(0, 26)} ${render(arn)}`),
      ),
    );
    // CDK's BucketNotificationsHandler (a singleton of aws-s3) and the custom-resources Provider
    // framework of the IcebergTables resource use AWSLambdaBasicExecutionRole; the lake's own
    // functions write to their own encrypted log group only.
    expect([...new Set(managed)]).toEqual([
      'BucketNotificationsHandler arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      'CatalogTablesProviderframe arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
  });

  it('grants KMS use only on the lake key', () => {
    for (const p of identityPolicies(pipeline)) {
      for (const s of p.document.Statement.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))) {
        expect(
          list(s.Resource).map((r) => render(r, outputs)),
          p.id,
        ).toEqual([lakeKey()]);
      }
    }
  });
});

describe('each role reaches only its prefixes', () => {
  it('the functions run with their own roles', () => {
    for (const name of ['Trigger', 'Validate', 'Convert', 'Commit']) {
      const [fn] = resources(pipeline, 'AWS::Lambda::Function').filter((f) =>
        f.id.startsWith(`${name}Function`),
      );
      expect(render(fn!.Properties.Role)).toBe(`<${roleId(pipeline, `${name}Role`)}.Arn>`);
    }
    const [job] = resources(pipeline, 'AWS::Glue::Job');
    expect(render(job!.Properties.Role)).toBe(`<${roleId(pipeline, 'CsvToParquetRole')}.Arn>`);
    const [machine] = resources(pipeline, 'AWS::StepFunctions::StateMachine');
    expect(render(machine!.Properties.RoleArn)).toBe(`<${roleId(pipeline, 'IngestStateMachineRole')}.Arn>`);
  });

  it('trigger: starts the ingest state machine, sends to its failure queue, and nothing in S3 or Glue', () => {
    const grants = grantsOf(pipeline, roleId(pipeline, 'TriggerRole'));

    expect(grants.filter((g) => /^(s3|glue|lambda|sns):/.test(g.action))).toEqual([]);
    const machine = resourceNamed(pipeline, 'AWS::StepFunctions::StateMachine', 'IngestStateMachine').id;
    expect(grants.filter((g) => g.action.startsWith('states:'))).toEqual([
      { action: 'states:StartExecution', resource: `<${machine}>` },
    ]);
    const queue = resourceNamed(pipeline, 'AWS::SQS::Queue', 'TriggerFailures').id;
    expect(
      grants
        .filter((g) => g.action.startsWith('sqs:'))
        .map((g) => `${g.action} ${g.resource}`)
        .sort(),
    ).toEqual(cross(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], [`<${queue}.Arn>`]));
  });

  it('validate: reads landing, writes raw only under declared dataset prefixes and failure, no curated, no delete', () => {
    const grants = grantsOf(pipeline, roleId(pipeline, 'ValidateRole'));

    const writes = ['s3:AbortMultipartUpload', 's3:PutObject'];
    expect(lakeS3(grants)).toEqual(
      [
        ...cross(['s3:GetObject', 's3:GetObjectVersion'], ['landing/*']),
        's3:ListBucket landing',
        ...cross(writes, [...datasets.map((d) => `raw/${d}/*`), 'failure/*']),
      ].sort(),
    );
    expect(grants.filter((g) => g.action.startsWith('s3:') && !ZONE_ARN.test(g.resource))).toEqual([]);
    expect(grants.filter((g) => /Delete/.test(g.action))).toEqual([]);
    expect(grants.filter((g) => /curated/.test(g.resource))).toEqual([]);
    expect(grants.filter((g) => /^(glue|states|sns|lambda):/.test(g.action))).toEqual([]);
  });

  it('commit: reads commit requests and its tables, writes (and clears) their metadata only, swaps their Glue pointers, answers its tokens', () => {
    const grants = grantsOf(pipeline, roleId(pipeline, 'CommitRole'));

    expect(lakeS3(grants)).toEqual(
      [
        ...datasets.map((d) => `s3:GetObject curated/_commits/${d}/*`),
        ...datasets.map((d) => `s3:GetObject curated/${d}/iceberg/*`),
        ...cross(
          ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'],
          datasets.map((d) => `curated/${d}/iceberg/metadata/*`),
        ),
        's3:ListBucket curated',
      ].sort(),
    );
    // No data file written or deleted: it adds metadata, and clears its lost attempts' metadata.
    expect(
      grants.filter((g) => /^s3:(Put|Delete)/.test(g.action) && !/\/iceberg\/metadata\/\*$/.test(g.resource)),
    ).toEqual([]);
    const base = 'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:';
    const allowed = [
      `${base}catalog`,
      `${base}database/${databaseName}`,
      ...datasets.map((d) => `${base}table/${databaseName}/${d}`),
    ];
    expect(
      grants
        .filter((g) => g.action.startsWith('glue:'))
        .map((g) => `${g.action} ${g.resource}`)
        .sort(),
    ).toEqual(cross(['glue:GetTable', 'glue:UpdateTable'], allowed));
    // Step Functions authorizes the answers on no resource: the token names the task.
    expect(
      grants
        .filter((g) => g.action.startsWith('states:'))
        .map((g) => `${g.action} ${g.resource}`)
        .sort(),
    ).toEqual(cross(['states:SendTaskFailure', 'states:SendTaskSuccess'], ['*']));
    const queue = resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitQueue').id;
    expect(
      grants
        .filter((g) => g.action.startsWith('sqs:'))
        .map((g) => `${g.action} ${g.resource}`)
        .sort(),
    ).toEqual(
      cross(
        [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
        ],
        [`<${queue}.Arn>`],
      ),
    );
    expect(grants.filter((g) => /^(sns|lambda):/.test(g.action))).toEqual([]);
  });

  it("Glue job: reads raw, writes its datasets' data files and commit requests, deletes only its scratch folders; no metadata", () => {
    const grants = grantsOf(pipeline, roleId(pipeline, 'CsvToParquetRole'));

    expect(lakeS3(grants)).toEqual(
      [
        ...cross(
          ['s3:GetObject'],
          datasets.map((d) => `raw/${d}/*`),
        ),
        ...cross(
          ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          datasets.map((d) => `curated/${d}/iceberg/data/*`),
        ),
        ...cross(
          ['s3:AbortMultipartUpload', 's3:PutObject'],
          datasets.map((d) => `curated/_commits/${d}/*`),
        ),
        // The HEAD of each parent folder's key that Hadoop's mkdirs makes (review R3).
        ...cross(
          ['s3:GetObject'],
          datasets.flatMap((d) => [`curated/${d}`, `curated/${d}/iceberg`, `curated/${d}/iceberg/data`]),
        ),
        ...cross(
          ['s3:DeleteObject'],
          datasets.flatMap((d) => [
            `curated/${d}/iceberg/data/*/_staging/*`,
            `curated/${d}/iceberg/data/*/_temporary/*`,
          ]),
        ),
        's3:ListBucket curated',
        's3:ListBucket curated',
        's3:ListBucket raw',
      ].sort(),
    );
    // Never a table's metadata: that is the committer's.
    expect(grants.filter((g) => /metadata/.test(g.resource))).toEqual([]);
    const lists = grants.filter((g) => g.action === 's3:ListBucket' && ZONE_ARN.test(g.resource));
    expect(lists.map((g) => g.condition)).toEqual(
      expect.arrayContaining([
        { StringLike: { 's3:prefix': datasets.map((d) => `${d}/*`) } },
        { StringLike: { 's3:prefix': datasets.map((d) => `${d}/iceberg/data/*`) } },
      ]),
    );
    // The only other S3 access: reading its script from the CDK assets bucket.
    for (const g of grants.filter((g) => g.action.startsWith('s3:') && !ZONE_ARN.test(g.resource))) {
      expect(g.action).toMatch(/^s3:(GetObject\*?|GetBucket\*|List\*)$/);
      expect(g.resource).toMatch(/:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>(\/\*)?$/);
    }
    expect(grants.filter((g) => /^(states|sns|lambda|sqs):/.test(g.action))).toEqual([]);
  });

  it('convert: reads raw, writes data files and commit requests as the Glue job does, deletes nothing; nothing else', () => {
    const grants = grantsOf(pipeline, roleId(pipeline, 'ConvertRole'));
    const glue = grantsOf(pipeline, roleId(pipeline, 'CsvToParquetRole'));

    // The Glue role's grants on the zones, less what Hadoop and Spark need (parent HEADs and
    // listings, scratch deletes).
    const hadoopOnly = (g: string) =>
      /^s3:GetObject curated\/[a-z_]+(\/iceberg(\/data)?)?$/.test(g) || /^s3:DeleteObject/.test(g);
    const zones = (gs: typeof grants) => lakeS3(gs).filter((g) => !hadoopOnly(g));
    expect(lakeS3(grants).filter((g) => g !== 's3:ListBucket curated')).toEqual(
      zones(glue).filter((g) => g !== 's3:ListBucket curated'),
    );
    expect(lakeS3(grants)).toContain('s3:PutObject curated/orders/iceberg/data/*');
    expect(grants.filter((g) => g.action.startsWith('s3:Delete'))).toEqual([]);
    expect(
      grants
        .filter((g) => g.action === 's3:ListBucket' && /curated/.test(zoneOf(g.resource)))
        .map((g) => g.condition),
    ).toEqual([{ StringLike: { 's3:prefix': datasets.map((d) => `${d}/iceberg/data/*`) } }]);
    expect(grants.filter((g) => g.action.startsWith('s3:') && !ZONE_ARN.test(g.resource))).toEqual([]);
    expect(grants.filter((g) => /landing|failure|metadata/.test(g.resource))).toEqual([]);
    expect(grants.filter((g) => /^(glue|states|sns|lambda|sqs):/.test(g.action))).toEqual([]);
  });

  it('state machine: invokes only Validate and Convert, runs only its Glue job, publishes only to the events topic, sends only to the commit queue', () => {
    const grants = grantsOf(pipeline, roleId(pipeline, 'IngestStateMachineRole'));

    const fn = (name: string) =>
      `<${resourceNamed(pipeline, 'AWS::Lambda::Function', `${name}Function`).id}.Arn>`;
    const of = (prefix: string) =>
      grants
        .filter((g) => g.action.startsWith(prefix))
        .map((g) => `${g.action} ${g.resource}`)
        .sort();
    expect(of('lambda:')).toEqual(
      cross(
        ['lambda:InvokeFunction'],
        ['Validate', 'Convert'].flatMap((n) => [fn(n), `${fn(n)}:*`]),
      ),
    );
    const job = resourceNamed(pipeline, 'AWS::Glue::Job', 'CsvToParquetJob').id;
    expect(of('glue:')).toEqual(
      cross(
        ['glue:BatchStopJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:StartJobRun'],
        [`arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:job/<${job}>`],
      ),
    );
    // The events topic of the storage stack, through its cross-stack output.
    const events = resourceNamed(storage, 'AWS::SNS::Topic', 'NotificationsEvents').id;
    expect(of('sns:')).toEqual([`sns:Publish <${events}>`]);
    // CommitToTable: a send to the commit queue, nothing else of SQS.
    const queue = resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitQueue').id;
    expect(of('sqs:')).toEqual([`sqs:SendMessage <${queue}.Arn>`]);
    expect(grants.filter((g) => /^(s3|states):/.test(g.action))).toEqual([]);
  });
});

describe('encryption at rest', () => {
  it('encrypts every log group with the lake key', () => {
    const groups = both().flatMap((t) => resources(t, 'AWS::Logs::LogGroup'));
    // The pipeline's six, the tables function's and its Provider framework's.
    expect(groups).toHaveLength(8);
    for (const g of groups) expect(render(g.Properties.KmsKeyId ?? '', outputs), g.id).toBe(lakeKey());
  });

  it('rotates every KMS key', () => {
    const keys = both().flatMap((t) => resources(t, 'AWS::KMS::Key'));
    expect(keys).toHaveLength(1);
    for (const k of keys) expect(k.Properties.EnableKeyRotation, k.id).toBe(true);
  });
});
