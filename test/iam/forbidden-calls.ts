/** Calls the lake's policies must refuse: each one names why it matters. */
import type { LakePolicies } from './lake-policies.ts';
import type { LakeResources } from './lake-resources.ts';
import type { IamCall } from './simulate.ts';

/** A forbidden call and how it must be refused: any denial, or an explicit Deny. */
export type ForbiddenCall = IamCall & { readonly expect: 'Denied' | 'ExplicitlyDenied' };

/** Every forbidden call, with the lake's concrete names. */
export function forbiddenCalls(lake: LakePolicies, res: LakeResources): ForbiddenCall[] {
  const { partition, region, account } = res;
  const object = (zone: keyof LakeResources['buckets'], key: string) =>
    `arn:${partition}:s3:::${res.buckets[zone]}/${key}`;
  const bucket = (zone: keyof LakeResources['buckets']) => `arn:${partition}:s3:::${res.buckets[zone]}`;
  const day = 'ingest_date=2026-12-02';
  const calls: ForbiddenCall[] = [];
  const deny = (call: IamCall, expect: ForbiddenCall['expect'] = 'Denied') => calls.push({ ...call, expect });
  const r = res.roles;

  // Validate writes raw (datasets only) and failure, never curated.
  for (const action of ['s3:PutObject', 's3:AbortMultipartUpload']) {
    deny({
      who: 'Validate',
      principal: r.validate,
      action,
      resource: object('curated', `orders/${day}/x.parquet`),
      why: 'validate never writes curated',
    });
  }
  deny({
    who: 'Validate',
    principal: r.validate,
    action: 's3:PutObject',
    resource: object('raw', `unknown/${day}/x.csv`),
    why: 'raw holds declared datasets only',
  });
  deny({
    who: 'Validate',
    principal: r.validate,
    action: 's3:GetObject',
    resource: object('raw', `orders/${day}/x.csv`),
    why: 'validate reads landing only',
  });
  deny({
    who: 'Validate',
    principal: r.validate,
    action: 's3:DeleteObject',
    resource: object('landing', 'orders/x.csv'),
    why: 'landing expires by lifecycle, no code deletes it',
  });

  // Both engines (the Glue job, the Convert Lambda) read raw and write their datasets' curated prefixes only.
  for (const [who, principal] of [
    ['Glue job', r.glue],
    ['Convert', r.convert],
  ] as const) {
    for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
      deny({
        who,
        principal,
        action,
        resource: object('landing', 'orders/x.csv'),
        why: 'a conversion reads only validated files (raw)',
      });
    }
    for (const key of ['unknown/x.parquet', 'x.parquet', `ordersx/${day}/x.parquet`]) {
      deny({
        who,
        principal,
        action: 's3:PutObject',
        resource: object('curated', key),
        why: 'a conversion writes under its datasets only',
      });
    }
    deny({
      who,
      principal,
      action: 's3:PutObject',
      resource: object('raw', `orders/${day}/x.csv`),
      why: 'raw is written by Validate only',
    });
    deny({
      who,
      principal,
      action: 's3:PutObject',
      resource: object('failure', `orders/${day}/x.csv`),
      why: 'a conversion never writes failure',
    });
    for (const prefix of ['', 'unknown/', 'ordersx/']) {
      deny({
        who,
        principal,
        action: 's3:ListBucket',
        resource: bucket('curated'),
        context: { 's3:prefix': prefix },
        why: 'a conversion lists its datasets only',
      });
    }
  }

  // Nobody deletes from raw: it is the validated record of every file.
  for (const [who, principal] of Object.entries(r)) {
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion']) {
      deny({
        who,
        principal,
        action,
        resource: object('raw', `orders/${day}/x.csv`),
        why: 'raw is append-only',
      });
    }
  }

  // The trigger and the reconciler see keys and versions, never bodies.
  for (const [who, principal] of [
    ['Trigger', r.trigger],
    ['Reconcile', r.reconcile],
  ] as const) {
    for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
      deny({
        who,
        principal,
        action,
        resource: object('landing', 'orders/x.csv'),
        why: 'only Validate reads file contents',
      });
    }
  }
  const otherMachine = `arn:${partition}:states:${region}:${account}:stateMachine:other`;
  deny({
    who: 'Trigger',
    principal: r.trigger,
    action: 'states:StartExecution',
    resource: otherMachine,
    why: 'its own state machine only',
  });
  deny({
    who: 'Reconcile',
    principal: r.reconcile,
    action: 'states:RedriveExecution',
    resource: `arn:${partition}:states:${region}:${account}:execution:other:x`,
    why: 'its own executions only',
  });
  deny({
    who: 'State machine',
    principal: r.stateMachine,
    action: 'lambda:InvokeFunction',
    resource: res.functions.reconcile,
    why: 'the workflow invokes Validate and Convert only',
  });
  deny({
    who: 'State machine',
    principal: r.stateMachine,
    action: 'glue:StartJobRun',
    resource: `arn:${partition}:glue:${region}:${account}:job/other`,
    why: 'its own job only',
  });
  deny({
    who: 'Commit',
    principal: r.commit,
    action: 'glue:DeleteTable',
    resource: `arn:${partition}:glue:${region}:${account}:table/${databaseOf(lake)}/orders`,
    why: 'it swaps table pointers, nothing else',
  });
  deny({
    who: 'Commit',
    principal: r.commit,
    action: 'glue:UpdateTable',
    resource: `arn:${partition}:glue:${region}:${account}:table/${databaseOf(lake)}/other`,
    why: 'the tables of declared datasets only',
  });
  for (const key of [
    'orders/iceberg/data/ingest_date=2026-12-02/a.parquet',
    '_commits/orders/orders-a_csv-0123.json',
    'raw-looking/orders/a.csv',
  ]) {
    deny({
      who: 'Commit',
      principal: r.commit,
      action: 's3:DeleteObject',
      resource: object('curated', key),
      why: 'a commit deletes no data file and no request (expiry and orphan deletion are Glue optimizers); only metadata of its own lost attempts',
    });
  }
  deny({
    who: 'Commit',
    principal: r.commit,
    action: 's3:PutObject',
    resource: object('curated', 'orders/iceberg/data/ingest_date=2026-12-02/a.parquet'),
    why: 'the engines write data files; the committer writes metadata only',
  });
  deny({
    who: 'Commit',
    principal: r.commit,
    action: 'states:StopExecution',
    resource: `arn:${partition}:states:${region}:${account}:execution:${res.stateMachine.name}:x`,
    why: 'it answers task tokens, nothing else',
  });
  deny({
    who: 'State machine',
    principal: r.stateMachine,
    action: 'sqs:SendMessage',
    resource: res.queues.commitDeadLetters,
    why: 'CommitToTable sends to the commit queue only',
  });
  deny({
    who: 'Validate',
    principal: r.validate,
    action: 'kms:ScheduleKeyDeletion',
    resource: res.keyArn,
    why: 'no function administers the key',
  });

  // Nothing over plain HTTP: the bucket, topic and queue policies deny it explicitly.
  const http = { 'aws:SecureTransport': 'false' };
  deny(
    {
      who: 'Validate over HTTP',
      principal: r.validate,
      action: 's3:GetObjectVersion',
      resource: object('landing', 'orders/x.csv'),
      context: http,
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'Validate over HTTP',
      principal: r.validate,
      action: 's3:PutObject',
      resource: object('failure', `orders/${day}/x.csv`),
      context: http,
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'Glue over HTTP',
      principal: r.glue,
      action: 's3:PutObject',
      resource: object('curated', `orders/${day}/x.parquet`),
      context: http,
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'Glue over HTTP',
      principal: r.glue,
      action: 's3:ListBucket',
      resource: bucket('raw'),
      context: { ...http, 's3:prefix': 'orders/' },
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'Reconcile over HTTP',
      principal: r.reconcile,
      action: 's3:ListBucketVersions',
      resource: bucket('landing'),
      context: http,
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'State machine over HTTP',
      principal: r.stateMachine,
      action: 'sns:Publish',
      resource: res.topics.events,
      context: http,
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'Trigger over HTTP',
      principal: r.trigger,
      action: 'sqs:SendMessage',
      resource: res.queues.triggerFailures,
      context: http,
    },
    'ExplicitlyDenied',
  );
  deny(
    {
      who: 'CloudWatch over HTTP',
      principal: 'cloudwatch.amazonaws.com',
      action: 'sns:Publish',
      resource: res.topics.alarms,
      context: { ...http, 'aws:SourceAccount': account, 'aws:SourceArn': res.alarms[0]! },
    },
    'ExplicitlyDenied',
  );

  // Services acting for someone else (confused deputy): another account's alarm, bucket or log group.
  const stranger = '999999999999';
  deny({
    who: 'Another account’s alarm',
    principal: 'cloudwatch.amazonaws.com',
    action: 'sns:Publish',
    resource: res.topics.alarms,
    context: {
      'aws:SourceAccount': stranger,
      'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${stranger}:alarm:x`,
    },
  });
  deny({
    who: 'Another bucket',
    principal: 's3.amazonaws.com',
    action: 'sns:Publish',
    resource: res.topics.zoneEvents,
    context: { 'aws:SourceAccount': stranger, 'aws:SourceArn': `arn:${partition}:s3:::someone-elses-bucket` },
  });
  deny({
    who: 'Landing → SNS',
    principal: 's3.amazonaws.com',
    action: 'sns:Publish',
    resource: res.topics.zoneEvents,
    context: { 'aws:SourceAccount': account, 'aws:SourceArn': bucket('landing') },
    why: 'landing events go to the trigger, not to subscribers',
  });
  deny({
    who: 'Another bucket',
    principal: 's3.amazonaws.com',
    action: 'lambda:InvokeFunction',
    resource: res.functions.trigger,
    context: { 'aws:SourceAccount': account, 'aws:SourceArn': bucket('raw') },
    why: 'only landing starts ingests',
  });
  deny({
    who: 'Another account’s log group',
    principal: `logs.${region}.${lake.env.urlSuffix}`,
    action: 'kms:Decrypt',
    resource: res.keyArn,
    context: {
      'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${stranger}:log-group:x`,
    },
  });
  deny({
    who: 'Another account’s schedule',
    principal: 'scheduler.amazonaws.com',
    action: 'sts:AssumeRole',
    resource: r.scheduler,
    context: {
      'aws:SourceAccount': stranger,
      'aws:SourceArn': `arn:${partition}:scheduler:${region}:${stranger}:schedule-group/default`,
    },
  });
  deny({
    who: 'Another account’s state machine',
    principal: 'states.amazonaws.com',
    action: 'sts:AssumeRole',
    resource: r.stateMachine,
    context: {
      'aws:SourceAccount': stranger,
      'aws:SourceArn': `arn:${partition}:states:${region}:${stranger}:stateMachine:x`,
    },
  });
  return calls;
}

/** The Glue database named in the Commit role's grants. */
function databaseOf(lake: LakePolicies): string {
  for (const role of lake.roles) {
    for (const { policy } of role.identityPolicies) {
      for (const statement of policy.Statement) {
        for (const resource of [statement.Resource].flat() as string[]) {
          const m = /:database\/(.+)$/.exec(resource ?? '');
          if (m) return m[1]!;
        }
      }
    }
  }
  throw new Error('no role names a Glue database');
}
