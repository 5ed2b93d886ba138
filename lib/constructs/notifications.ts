/** The SNS topics subscribers listen to: pipeline events, zone object events and alarms. */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of {@link Notifications}. */
export interface NotificationsProps {
  /** Encrypts every topic. */
  readonly key: kms.IKey;
  /**
   * Addresses subscribed to pipeline events (VALIDATED, REJECTED, CURATED, FAILED).
   * @default - no e-mail subscription
   */
  readonly notificationEmails?: readonly string[];
  /**
   * Addresses subscribed to alarms.
   * @default - no e-mail subscription
   */
  readonly alarmEmails?: readonly string[];
}

/**
 * Three KMS-encrypted, TLS-only topics. `events`: one message per workflow outcome, with message
 * attributes `dataset` and `status` for subscription filters. `zoneEvents`: the S3 object-created
 * notifications of the raw, failure and curated buckets (S3's own event JSON). `alarms`: CloudWatch
 * alarm state changes.
 */
export class Notifications extends Construct {
  readonly events: sns.Topic;
  readonly zoneEvents: sns.Topic;
  readonly alarms: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const topic = (topicId: string, displayName: string) =>
      new sns.Topic(this, topicId, { displayName, masterKey: props.key, enforceSSL: true });
    this.events = topic('Events', 'CSV data lake: file outcomes');
    this.zoneEvents = topic('ZoneEvents', 'CSV data lake: objects created in raw, failure and curated');
    this.alarms = topic('Alarms', 'CSV data lake: alarms');
    // CloudWatch alarms publish as the service, not with a role of this account: only the topic
    // policy can let them (which replaces SNS's default policy), limited to this account's alarms
    // (review C1; test/iam/decisions.test.ts).
    const stack = Stack.of(this);
    this.alarms.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarms.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the encrypted alarm topic through the key.
    props.key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:GenerateDataKey*',
      'kms:Decrypt',
    );

    for (const address of props.notificationEmails ?? []) {
      this.events.addSubscription(new subscriptions.EmailSubscription(address));
    }
    for (const address of props.alarmEmails ?? []) {
      this.alarms.addSubscription(new subscriptions.EmailSubscription(address));
    }
  }
}
