/** The stateful half of the lake: key, buckets, topics and the Glue catalog. All retained. */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type { Construct } from 'constructs';
import type { LakeConfig } from '../config.ts';
import { LakeBuckets } from '../constructs/lake-buckets.ts';
import { LakeCatalog } from '../constructs/lake-catalog.ts';
import { LedgerTable } from '../constructs/ledger-table.ts';
import { Notifications } from '../constructs/notifications.ts';
import type { Dataset } from '../datasets/model.ts';
import { ledgerTableName } from '../ledger/model.ts';
import { acknowledgeNotificationsHandler } from '../nag.ts';
import { zoneBucketNames } from '../naming.ts';

/** Properties of {@link StorageStack}. */
export interface StorageStackProps extends StackProps {
  readonly config: LakeConfig;
  readonly datasets: readonly Dataset[];
  /** The Glue database's name. */
  readonly databaseName: string;
  /** Absolute path of the folder the dataset declarations were read from (bundled with the tables function). */
  readonly datasetsDir: string;
}

/**
 * Buckets, key, topics and catalog: what holds data or subscriptions, kept apart from the
 * stateless pipeline so the pipeline can be replaced freely. Termination protection is on.
 */
export class StorageStack extends Stack {
  readonly buckets: LakeBuckets;
  readonly catalog: LakeCatalog;
  readonly notifications: Notifications;
  readonly ledger: LedgerTable;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    const { config } = props;
    this.buckets = new LakeBuckets(this, 'Buckets', {
      landingExpiryDays: config.landingExpiryDays,
      athenaResultsExpiryDays: config.athenaResultsExpiryDays,
      failureTransitionDays: config.failureTransitionDays,
      bucketNames: zoneBucketNames(config.prefix, config.stage),
    });
    this.notifications = new Notifications(this, 'Notifications', {
      key: this.buckets.key,
      notificationEmails: config.notificationEmails,
      alarmEmails: config.alarmEmails,
    });
    // As in the seed design: every object created in raw, failure and curated is announced.
    for (const bucket of [this.buckets.raw, this.buckets.failure, this.buckets.curated]) {
      bucket.addObjectCreatedNotification(new s3n.SnsDestination(this.notifications.zoneEvents));
    }
    acknowledgeNotificationsHandler(this);
    this.catalog = new LakeCatalog(this, 'Catalog', {
      databaseName: props.databaseName,
      curated: this.buckets.curated,
      key: this.buckets.key,
      datasets: props.datasets,
      datasetsDir: props.datasetsDir,
      tablesEntry: fileURLToPath(new URL('../../lambdas/tables/handler.ts', import.meta.url)),
      logRetention: config.logRetentionDays as logs.RetentionDays,
      snapshotRetentionDays: config.snapshotRetentionDays,
      tableOptimizers: config.tableOptimizers,
    });

    // The record of what became of each landed file: written by the workflow, read by the
    // reconciler and the CLI.
    this.ledger = new LedgerTable(this, 'Ledger', {
      tableName: ledgerTableName(config.prefix, config.stage),
      key: this.buckets.key,
    });

    const b = this.buckets;
    for (const [name, bucket] of Object.entries({
      Landing: b.landing,
      Raw: b.raw,
      Failure: b.failure,
      Curated: b.curated,
      AthenaResults: b.athenaResults,
    })) {
      new CfnOutput(this, `${name}BucketName`, { value: bucket.bucketName });
    }
    new CfnOutput(this, 'EventsTopicArn', { value: this.notifications.events.topicArn });
    new CfnOutput(this, 'ZoneEventsTopicArn', { value: this.notifications.zoneEvents.topicArn });
    new CfnOutput(this, 'GlueDatabaseName', { value: this.catalog.database.databaseName });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.table.tableName });
  }
}
