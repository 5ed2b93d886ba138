/**
 * `subscribe` on a deployed lake: an SNS subscription to the pipeline's events topic, filtered on
 * the `status` and `dataset` message attributes the workflow sets on every event
 * (lib/constructs/ingest-workflow.ts). The filter policy and its matching are pure, so the local
 * notifier applies the same policy the same way.
 */
import { GetSubscriptionAttributesCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { SubscribeAnswer, SubscribeRequest } from '../cli/target.ts';

/** An SNS filter policy on message attributes: each attribute's accepted values. */
export type FilterPolicy = Readonly<Record<string, readonly string[]>>;

/** An endpoint `subscribe` refuses: it says what it takes instead. */
export class SubscriptionEndpointError extends Error {
  override readonly name = 'SubscriptionEndpointError';
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Queue names: letters, digits, - and _, up to 80 characters, `.fifo` for a FIFO queue.
const SQS_ARN = /^arn:aws(?:-cn|-us-gov)?:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(?:\.fifo)?$/;

/**
 * The SNS protocol of an endpoint: an e-mail address, an `https://` URL, or an SQS queue ARN.
 * @throws SubscriptionEndpointError for anything else, `http://` included (events would travel in clear).
 */
export function subscriptionProtocol(endpoint: string): 'email' | 'https' | 'sqs' {
  if (endpoint.startsWith('arn:')) {
    if (SQS_ARN.test(endpoint)) return 'sqs';
    throw new SubscriptionEndpointError(
      `"${endpoint}" is not an sqs queue arn (arn:aws:sqs:<region>:<account>:<queue>): only sqs queues subscribe by arn`,
    );
  }
  if (/^https?:\/\//i.test(endpoint)) {
    const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
    if (url?.protocol === 'http:') {
      throw new SubscriptionEndpointError(
        `"${endpoint}" is plain http: events would travel in clear text; give an https:// url`,
      );
    }
    if (url?.protocol === 'https:' && url.hostname !== '') return 'https';
    throw new SubscriptionEndpointError(`"${endpoint}" is not a valid https:// url`);
  }
  if (EMAIL.test(endpoint)) return 'email';
  throw new SubscriptionEndpointError(
    `cannot subscribe "${endpoint}": give an e-mail address, an https:// url or an sqs queue arn`,
  );
}

/**
 * The filter policy for events of `statuses` in `datasets`; an empty list filters nothing on its
 * attribute, so both empty is the empty policy (every event).
 */
export function filterPolicy(statuses: readonly string[], datasets: readonly string[]): FilterPolicy {
  const policy: Record<string, readonly string[]> = {};
  // Sorted and without repeats: the same choice gives the same policy, whatever the order typed.
  if (statuses.length > 0) policy.status = [...new Set(statuses)].sort();
  if (datasets.length > 0) policy.dataset = [...new Set(datasets)].sort();
  return policy;
}

/**
 * Whether a message with `attributes` passes `policy`, as SNS matches exact strings: every
 * attribute the policy names must be present with one of its values (for an attribute holding a
 * list, String.Array, one of its elements); an attribute the policy does not name is ignored.
 */
export function matchesFilterPolicy(
  policy: FilterPolicy,
  attributes: Readonly<Record<string, string | readonly string[] | undefined>>,
): boolean {
  return Object.entries(policy).every(([name, accepted]) => {
    const value = attributes[name];
    if (value === undefined) return false;
    const values: readonly string[] = typeof value === 'string' ? [value] : value;
    return values.some((v) => accepted.includes(v));
  });
}

/**
 * Subscribes `request.endpoint` to the topic with the request's filter policy on message
 * attributes. E-mail and https subscriptions wait for the endpoint to confirm (a link in a mail,
 * a SubscriptionConfirmation request); SNS confirms a queue of the topic's account itself.
 */
export async function subscribeTopic(
  sns: SNSClient,
  topicArn: string,
  request: SubscribeRequest,
): Promise<SubscribeAnswer> {
  const policy = filterPolicy(request.statuses, request.datasets);
  const filtered = Object.keys(policy).length > 0;
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: request.protocol,
      Endpoint: request.endpoint,
      // The ARN even while pending: the user can then unsubscribe or inspect it.
      ReturnSubscriptionArn: true,
      ...(filtered
        ? { Attributes: { FilterPolicy: JSON.stringify(policy), FilterPolicyScope: 'MessageAttributes' } }
        : {}),
    }),
  );
  const subscription = SubscriptionArn ?? 'pending confirmation';
  return { subscription, pendingConfirmation: await isPending(sns, subscription), filterPolicy: policy };
}

/**
 * Whether a subscription waits for confirmation. With ReturnSubscriptionArn, SNS answers an ARN
 * even then (not "pending confirmation"), so its PendingConfirmation attribute tells.
 */
async function isPending(sns: SNSClient, subscription: string): Promise<boolean> {
  if (!subscription.startsWith('arn:')) return /pending confirmation/i.test(subscription);
  const { Attributes } = await sns.send(
    new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription }),
  );
  return Attributes?.PendingConfirmation === 'true';
}
