/**
 * The Glue database and one Iceberg table per dataset, derived from the dataset declarations, with
 * the Glue Data Catalog's table optimizers on each.
 *
 * The tables are made by a custom resource (the IcebergTables function runs the Iceberg core's
 * `ensureDatasetTable`), not by `AWS::Glue::Table`: CloudFormation has no Iceberg table of its own
 * that the pipeline's commits could then move forward (study §2.4), and the table's first
 * metadata file has to be written by the same code that writes every later one.
 */
import { createHash } from 'node:crypto';
import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contract.ts';
import type { TablesProperties } from '../../lambdas/tables/core.ts';
import type { Dataset } from '../datasets/model.ts';
import { dataPrefix, tableKeyPrefix, tableName } from '../iceberg/layout.ts';
import { acknowledge, acknowledgeWildcardResource } from '../nag.ts';
import { BUNDLED_DATASETS_DIR, bundleDatasets, LakeFunction } from './lake-function.ts';
import { LatestViews } from './latest-views.ts';

/**
 * The optimizers' settings that are not configuration: what the study (§7.4) and Glue's own
 * bounds fix. Orphan files are kept 3 days (Glue's least) before they go: far beyond the 6 hours an
 * execution may take between writing a data file and committing it, so an uncommitted file of a
 * running execution is never an orphan yet.
 */
export const OPTIMIZER_DEFAULTS = {
  orphanFileRetentionDays: 3,
  /** Snapshots kept however old: the current one (Glue's least, and its default). */
  snapshotsToRetain: 1,
} as const;

/** The log groups the table optimizers write to ("Table optimization prerequisites", AWS Glue). */
export const OPTIMIZER_LOG_GROUPS = [
  '/aws-glue/iceberg-compaction/logs',
  '/aws-glue/iceberg-retention/logs',
  '/aws-glue/iceberg-orphan-file-deletion/logs',
] as const;

/** Properties of {@link LakeCatalog}. */
export interface LakeCatalogProps {
  /** Glue database name (lower case, `[a-z0-9_]`). */
  readonly databaseName: string;
  /** The curated bucket the tables live in (`<dataset>/iceberg/`). */
  readonly curated: s3.IBucket;
  /** The lake key: the curated zone's objects and the tables function's logs. */
  readonly key: kms.IKey;
  /** The dataset declarations: one table each, of its current version (`<name>`, `<name>_v<N>`). */
  readonly datasets: readonly Dataset[];
  /** Absolute path of the folder the declarations were read from (bundled with the tables function). */
  readonly datasetsDir: string;
  /** Path of the tables function's handler (`lambdas/tables/handler.ts`). */
  readonly tablesEntry: string;
  readonly logRetention: logs.RetentionDays;
  /** Days snapshots are kept (config `snapshotRetentionDays`): table property and retention optimizer. */
  readonly snapshotRetentionDays: number;
  /**
   * Whether the Glue table optimizers run (config `tableOptimizers`).
   * @default true
   */
  readonly tableOptimizers?: boolean;
}

/**
 * A Glue database with an Iceberg table per dataset version at `s3://<curated>/<dataset>/iceberg`
 * (`…/<dataset>/v<N>/iceberg` from version 2 on), made and evolved by the tables custom resource.
 */
export class LakeCatalog extends Construct {
  readonly database: glue.Database;
  /** The custom resource that makes the tables exist; what depends on a table depends on it. */
  readonly tables: CustomResource;
  /** The role the table optimizers run with, when they run. */
  readonly optimizerRole?: iam.Role;
  /** The `<dataset>_latest` views of the datasets that declare a key. */
  readonly latestViews: LatestViews;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.database = new glue.Database(this, 'Database', {
      databaseName: props.databaseName,
      description: 'CSV data lake: curated Iceberg tables, one per dataset',
    });
    const names = props.datasets.map((d) => d.name);
    const catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    const databaseArn = stack.formatArn({
      service: 'glue',
      resource: 'database',
      resourceName: props.databaseName,
    });
    // Each dataset's current table version (`<name>` or `<name>_v<N>`): the one the tables function
    // creates or evolves and the optimizers maintain. Older versions' tables stay as they are.
    const tableArns = props.datasets.map((d) =>
      stack.formatArn({
        service: 'glue',
        resource: 'table',
        resourceName: `${props.databaseName}/${tableName(d.name, d.version)}`,
      }),
    );
    const tablePrefixes = props.datasets.map((d) => `${tableKeyPrefix(d.name, d.version)}/*`);

    // Writes each table's first metadata file and creates the table pointing at it: seconds.
    const fn = new LakeFunction(this, 'Tables', {
      entry: props.tablesEntry,
      serviceName: 'tables',
      memorySize: 256,
      timeout: Duration.minutes(2),
      logKey: props.key,
      logRetention: props.logRetention,
      environment: { [ENV.tables.datasetsDir]: BUNDLED_DATASETS_DIR },
      afterBundling: bundleDatasets(props.datasetsDir),
    }).fn;
    const metadata = props.datasets.map((d) =>
      props.curated.arnForObjects(`${tableKeyPrefix(d.name, d.version)}/metadata/*`),
    );
    // It reads a table's metadata when the table exists, writes the first metadata file (or the
    // one of an evolved schema), and deletes that file again when another creator's table won the
    // race (or its schema swap lost).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        resources: metadata,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.curated.bucketArn],
        conditions: { StringLike: { 's3:prefix': tablePrefixes } },
      }),
    );
    props.key.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        // UpdateTable: the compare-and-swap of an evolved schema's metadata file.
        actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
        resources: [catalogArn, databaseArn, ...tableArns],
      }),
    );
    for (const arn of metadata) {
      acknowledgeWildcardResource(
        fn.role!,
        arn,
        "the tables function writes a table's first (or evolved) metadata file under that table's metadata folder only",
      );
    }
    // The framework's own log group, encrypted and kept like every other.
    const providerLogs = new logs.LogGroup(this, 'TablesProviderLogs', {
      retention: props.logRetention,
      encryptionKey: props.key,
    });
    const provider = new cr.Provider(this, 'TablesProvider', { onEventHandler: fn, logGroup: providerLogs });
    acknowledgeProvider(provider, fn);

    const settings = { snapshotRetentionDays: props.snapshotRetentionDays };
    const properties: TablesProperties = {
      database: props.databaseName,
      curatedBucket: props.curated.bucketName,
      datasets: names,
      snapshotRetentionDays: String(props.snapshotRetentionDays),
      // A change of a declaration or a setting changes the resource, so CloudFormation runs it again.
      declarationsHash: createHash('sha256')
        .update(JSON.stringify({ datasets: props.datasets, settings }))
        .digest('hex'),
    };
    this.tables = new CustomResource(this, 'IcebergTables', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::IcebergTables',
      properties,
    });
    this.tables.node.addDependency(this.database);
    // The newest row per key of each keyed dataset: views over the tables the resource above makes.
    this.latestViews = new LatestViews(this, 'LatestViews', {
      databaseName: props.databaseName,
      datasets: props.datasets,
    });
    this.latestViews.node.addDependency(this.database, this.tables);

    if (props.tableOptimizers === false) return;
    // One role for the three optimizers (Glue allows one or several): what "Table optimization
    // prerequisites" lists, on the datasets' table prefixes, tables and the lake key only.
    const role = new iam.Role(this, 'OptimizerRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: "Runs the Glue Data Catalog table optimizers on the lake's Iceberg tables",
    });
    this.optimizerRole = role;
    const objects = tablePrefixes.map((p) => props.curated.arnForObjects(p));
    // Compaction writes data and metadata files; retention deletes expired snapshots' files;
    // orphan deletion deletes unreferenced data files.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: objects,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.curated.bucketArn],
        conditions: { StringLike: { 's3:prefix': tablePrefixes } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:UpdateTable'],
        resources: [catalogArn, databaseArn, ...tableArns],
      }),
    );
    const logGroups = OPTIMIZER_LOG_GROUPS.map(
      (g) => `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${g}:*`,
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: logGroups,
      }),
    );
    props.key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    for (const arn of objects) {
      acknowledgeWildcardResource(
        role,
        arn,
        "the optimizers rewrite, expire and delete files of that dataset's Iceberg table, and of no other prefix",
      );
    }
    for (const arn of logGroups) {
      acknowledgeWildcardResource(
        role,
        arn,
        'the log streams of one table optimizer log group, named by Glue',
      );
    }

    for (const ds of props.datasets) {
      const table = tableName(ds.name, ds.version);
      const optimizer = (
        type: string,
        configuration: Omit<
          glue.CfnTableOptimizer.TableOptimizerConfigurationProperty,
          'enabled' | 'roleArn'
        >,
      ) => {
        const o = new glue.CfnTableOptimizer(this, `${type}-${ds.name}`, {
          catalogId: stack.account,
          databaseName: props.databaseName,
          tableName: table,
          type,
          tableOptimizerConfiguration: { enabled: true, roleArn: role.roleArn, ...configuration },
        });
        // The table exists first, and the role can act when Glue first runs the optimizer.
        o.node.addDependency(this.tables, role);
        return o;
      };
      optimizer('compaction', {});
      optimizer('retention', {
        retentionConfiguration: {
          icebergConfiguration: {
            snapshotRetentionPeriodInDays: props.snapshotRetentionDays,
            numberOfSnapshotsToRetain: OPTIMIZER_DEFAULTS.snapshotsToRetain,
            cleanExpiredFiles: true,
          },
        },
      });
      optimizer('orphan_file_deletion', {
        orphanFileDeletionConfiguration: {
          icebergConfiguration: {
            orphanFileRetentionPeriodInDays: OPTIMIZER_DEFAULTS.orphanFileRetentionDays,
            // Only the data folder: commit requests and metadata are never the deleter's to judge.
            location: dataPrefix(props.curated.bucketName, ds.name, ds.version),
          },
        },
      });
    }
  }
}

/** cdk-nag acknowledgements of the CDK Provider framework's own function and role. */
function acknowledgeProvider(provider: cr.Provider, onEvent: { functionArn: string }): void {
  const framework = provider.node.tryFindChild('framework-onEvent');
  if (!framework) return;
  acknowledge(
    framework,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'the CDK Provider framework function logs with the basic execution role CDK gives it',
  );
  acknowledgeWildcardResource(
    framework,
    `${onEvent.functionArn}:*`,
    'the Provider framework may invoke any version of the one tables function',
  );
}
