/**
 * The Iceberg side of the templates: the IcebergTables custom resource instead of any
 * `AWS::Glue::Table`, the Glue table optimizers on every table (their settings from the
 * configuration and the layout), the commit queue and its dead letters, and the Commit function's
 * event source.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { COMMIT_FUNCTION } from '../../lib/constructs/table-committer.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import { dataPrefix } from '../../lib/iceberg/layout.ts';
import { buildLake } from '../../lib/lake.ts';
import { list, outputsOf, render, resourceNamed, resourcesOf } from './cfn.ts';
import { buildTestLake, setUpOrFailEach, synthTemplates, TEST_CONTEXT } from './synth.ts';

let storage: Template;
let pipeline: Template;
let datasets: readonly Dataset[];
let configured: Template;
let withoutOptimizers: Template;

setUpOrFailEach(async () => {
  const lake = await synthTemplates();
  ({ storage, pipeline, datasets } = lake);
  configured = Template.fromStack(
    (await buildTestLake({ ...TEST_CONTEXT, snapshotRetentionDays: 400 })).storage,
  );
  withoutOptimizers = Template.fromStack(
    (await buildTestLake({ ...TEST_CONTEXT, tableOptimizers: 'false' })).storage,
  );
});

const names = () => datasets.map((d) => d.name).sort();
const optimizers = (t: Template, type: string) =>
  resourcesOf(t, 'AWS::Glue::TableOptimizer').filter((o) => o.Properties.Type === type);
/** The curated bucket as the storage template names it: `<BucketsCurated…>`. */
const curatedName = (t: Template) => `<${resourceNamed(t, 'AWS::S3::Bucket', 'BucketsCurated').id}>`;
const curatedArn = (t: Template) => `<${resourceNamed(t, 'AWS::S3::Bucket', 'BucketsCurated').id}.Arn>`;
type OptimizerConfig = {
  Enabled: boolean;
  RoleArn: unknown;
  RetentionConfiguration?: {
    IcebergConfiguration: {
      SnapshotRetentionPeriodInDays: number;
      NumberOfSnapshotsToRetain: number;
      CleanExpiredFiles: boolean;
    };
  };
  OrphanFileDeletionConfiguration?: {
    IcebergConfiguration: { OrphanFileRetentionPeriodInDays: number; Location: unknown };
  };
};
const configOf = (o: { Properties: Record<string, unknown> }) =>
  o.Properties.TableOptimizerConfiguration as OptimizerConfig;

describe('the datasets’ tables', () => {
  it('are no AWS::Glue::Table in either stack: the IcebergTables custom resource makes them', () => {
    // The only Glue tables are views (the `_latest` views, test/infra/latest-views.test.ts).
    const glueTables = resourcesOf(storage, 'AWS::Glue::Table');
    expect(
      glueTables.filter(
        (t) => (t.Properties.TableInput as { TableType: string }).TableType !== 'VIRTUAL_VIEW',
      ),
    ).toEqual([]);
    expect(resourcesOf(pipeline, 'AWS::Glue::Table')).toEqual([]);
    const [tables, ...others] = resourcesOf(storage, 'Custom::IcebergTables');
    expect(others).toEqual([]);
    const p = tables!.Properties;
    expect(p.datasets).toEqual(names());
    expect(p.database).toBe(
      (
        resourceNamed(storage, 'AWS::Glue::Database', 'CatalogDatabase').Properties.DatabaseInput as {
          Name: string;
        }
      ).Name,
    );
    expect(render(p.curatedBucket)).toBe(curatedName(storage));
    expect(p.snapshotRetentionDays).toBe('90');
    // The Provider framework's function is the service token; it invokes the tables function.
    const framework = resourcesOf(storage, 'AWS::Lambda::Function').find((f) =>
      f.id.startsWith('CatalogTablesProviderframeworkonEvent'),
    );
    expect(render(p.ServiceToken)).toBe(`<${framework!.id}.Arn>`);
  });

  it('runs again when a declaration or a setting changes (a hash of them is a property), and not otherwise', async () => {
    const hashOf = (t: Template) => resourcesOf(t, 'Custom::IcebergTables')[0]!.Properties.declarationsHash;
    const again = Template.fromStack((await buildTestLake()).storage);
    expect(hashOf(again)).toBe(hashOf(storage));
    expect(hashOf(configured)).not.toBe(hashOf(storage));
    // One column more in one declaration.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const { config } = await buildTestLake();
    const changed = datasets.map((d, i) =>
      i === 0 ? { ...d, columns: [...d.columns, { ...d.columns[0]!, name: 'added_column' }] } : d,
    );
    const lake = buildLake(app, { config, datasets: changed, datasetsDir: 'datasets' });
    expect(hashOf(Template.fromStack(lake.storage))).not.toBe(hashOf(storage));
  });

  it('its function may create and read the tables and write their metadata, and nothing else in S3 or Glue', () => {
    const role = resourcesOf(storage, 'AWS::IAM::Role').find((r) => r.id.startsWith('CatalogTablesRole'))!;
    const statements = resourcesOf(storage, 'AWS::IAM::Policy')
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role.id))
      .flatMap(
        (p) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
            .Statement,
      );
    const grants = statements.flatMap((s) =>
      list(s.Action).flatMap((a) => list(s.Resource).map((r) => `${a} ${render(r)}`)),
    );
    const s3 = grants.filter((g) => g.startsWith('s3:')).sort();
    const curated = curatedArn(storage);
    expect(s3).toEqual(
      [
        ...names().flatMap((n) =>
          ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'].map(
            (a) => `${a} ${curated}/${n}/iceberg/metadata/*`,
          ),
        ),
        `s3:ListBucket ${curated}`,
      ].sort(),
    );
    expect(grants.filter((g) => g.startsWith('glue:')).map((g) => g.split(' ')[0])).toEqual(
      expect.arrayContaining(['glue:CreateTable', 'glue:GetTable']),
    );
    // UpdateTable: the compare-and-swap of an evolved schema, on the datasets' current tables only.
    expect(grants.filter((g) => /glue:Delete/.test(g))).toEqual([]);
    expect(
      grants
        .filter((g) => g.startsWith('glue:UpdateTable') && g.includes(':table/'))
        .map((g) => g.split('/').at(-1))
        .sort(),
    ).toEqual(names().sort());
    // S3 writes and deletes on metadata only (a first metadata file that lost the create race goes).
    expect(grants.filter((g) => /^s3:(Put|Delete)/.test(g) && !/\/iceberg\/metadata\/\*$/.test(g))).toEqual(
      [],
    );
  });
});

describe('the Glue table optimizers', () => {
  it('are three per table (compaction, retention, orphan-file deletion), enabled, with one role, after the tables exist', () => {
    const all = resourcesOf(storage, 'AWS::Glue::TableOptimizer');
    expect(all).toHaveLength(3 * datasets.length);
    const tablesId = resourcesOf(storage, 'Custom::IcebergTables')[0]!.id;
    const role = resourceNamed(storage, 'AWS::IAM::Role', 'CatalogOptimizerRole').id;
    for (const type of ['compaction', 'retention', 'orphan_file_deletion']) {
      expect(
        optimizers(storage, type)
          .map((o) => o.Properties.TableName)
          .sort(),
        type,
      ).toEqual(names());
    }
    const raw = storage.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    for (const o of all) {
      expect(configOf(o).Enabled, o.id).toBe(true);
      expect(render(configOf(o).RoleArn), o.id).toBe(`<${role}.Arn>`);
      expect(raw[o.id]!.DependsOn, o.id).toContain(tablesId);
    }
  });

  it('keep snapshots for snapshotRetentionDays (90 by default), at least one, and delete expired files', () => {
    for (const [t, days] of [
      [storage, 90],
      [configured, 400],
    ] as const) {
      for (const o of optimizers(t, 'retention')) {
        expect(configOf(o).RetentionConfiguration!.IcebergConfiguration).toEqual({
          SnapshotRetentionPeriodInDays: days,
          NumberOfSnapshotsToRetain: 1,
          CleanExpiredFiles: true,
        });
      }
    }
    // The tables are created with the same retention (their history.expire property).
    expect(resourcesOf(configured, 'Custom::IcebergTables')[0]!.Properties.snapshotRetentionDays).toBe('400');
  });

  it("delete orphans only under each table's data prefix, and only after 3 days or more", () => {
    for (const o of optimizers(storage, 'orphan_file_deletion')) {
      const iceberg = configOf(o).OrphanFileDeletionConfiguration!.IcebergConfiguration;
      expect(render(iceberg.Location), o.id).toBe(
        dataPrefix(curatedName(storage), o.Properties.TableName as string),
      );
      expect(render(iceberg.Location), o.id).toMatch(/\/iceberg\/data\/$/);
      expect(iceberg.OrphanFileRetentionPeriodInDays, o.id).toBeGreaterThanOrEqual(3);
    }
  });

  it('are left out with tableOptimizers: false, the tables still made', () => {
    expect(resourcesOf(withoutOptimizers, 'AWS::Glue::TableOptimizer')).toEqual([]);
    expect(
      resourcesOf(withoutOptimizers, 'AWS::IAM::Role').filter((r) => r.id.startsWith('CatalogOptimizerRole')),
    ).toEqual([]);
    expect(resourcesOf(withoutOptimizers, 'Custom::IcebergTables')).toHaveLength(1);
  });
});

describe('the commit queue', () => {
  it('is FIFO without content-based deduplication, KMS-encrypted, with a FIFO dead-letter queue', () => {
    const queue = resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitQueue');
    const dlq = resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitDeadLetters');
    expect(queue.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false });
    expect(dlq.Properties).toMatchObject({ FifoQueue: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const key = `<${resourceNamed(storage, 'AWS::KMS::Key', 'BucketsKey').id}.Arn>`;
    for (const q of [queue, dlq])
      expect(render(q.Properties.KmsMasterKeyId, outputsOf(storage)), q.id).toBe(key);
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlq.id, 'Arn'] },
      maxReceiveCount: COMMIT_FUNCTION.maxReceiveCount,
    });
  });

  it('hides a message for at least six times the Commit function’s timeout', () => {
    const queue = resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitQueue');
    const fn = resourceNamed(pipeline, 'AWS::Lambda::Function', 'CommitFunction');
    expect(queue.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(
      6 * (fn.Properties.Timeout as number),
    );
  });

  it('feeds the Commit function ten messages at a time, with partial batch failures', () => {
    const [mapping, ...others] = resourcesOf(pipeline, 'AWS::Lambda::EventSourceMapping');
    expect(others).toEqual([]);
    const p = mapping!.Properties;
    expect(p.BatchSize).toBe(10);
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(p.EventSourceArn).toEqual({
      'Fn::GetAtt': [resourceNamed(pipeline, 'AWS::SQS::Queue', 'CommitQueue').id, 'Arn'],
    });
    expect(p.FunctionName).toEqual({
      Ref: resourceNamed(pipeline, 'AWS::Lambda::Function', 'CommitFunction').id,
    });
  });
});
