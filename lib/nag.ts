/**
 * cdk-nag acknowledgements, always next to the resource they concern and with a reason. The
 * finding id of a wildcard resource is computed from the same token the grant used, the way
 * cdk-nag flattens it, so an acknowledgement names exactly one resource pattern.
 */
import { Stack, Validations } from 'aws-cdk-lib';
// cdk-nag's own flattening of CloudFormation references into finding ids (IAM5[Resource::…]).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** Acknowledges one AwsSolutions finding (e.g. `IAM5[Resource::*]`, `SQS3`) on a construct. */
export function acknowledge(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${finding}`, reason });
}

/** Acknowledges the IAM5 finding of one wildcard resource (an ARN string, tokens allowed). */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
  acknowledge(scope, `IAM5[Resource::${flat}]`, reason);
}

/** The X-Ray and CloudWatch Logs delivery actions take no resource: `*` is the only choice. */
export const REASON_NO_RESOURCE_LEVEL =
  'X-Ray (PutTraceSegments, PutTelemetryRecords) and CloudWatch Logs delivery actions do not support resource-level permissions';

/** CDK's singleton custom resource that writes bucket notification configurations. */
export function acknowledgeNotificationsHandler(stack: Stack): void {
  const handler = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  if (!handler) return;
  acknowledge(
    handler,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's BucketNotificationsHandler custom resource creates its own role with the basic execution policy",
  );
}
