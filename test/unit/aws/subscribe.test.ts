/**
 * `subscribe` on AWS: which endpoints are taken and as what protocol, the filter policy and its
 * SNS matching (which the local notifier reuses), and the Subscribe request through
 * aws-sdk-client-mock.
 */
import { GetSubscriptionAttributesCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import {
  filterPolicy,
  matchesFilterPolicy,
  SubscriptionEndpointError,
  subscribeTopic,
  subscriptionProtocol,
} from '../../../lib/aws/subscribe.ts';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:csvlake-dev-events';
const SUBSCRIPTION = `${TOPIC}:0f1e2d3c-aaaa-bbbb-cccc-123456789012`;

afterEach(() => {
  sns.reset();
});

describe('subscriptionProtocol', () => {
  it.each([
    ['ops@example.com', 'email'],
    ['first.last+lake@sub.example.co.uk', 'email'],
    ['https://hooks.example.com/lake?token=x', 'https'],
    ['arn:aws:sqs:eu-west-1:123456789012:lake-events', 'sqs'],
    ['arn:aws:sqs:eu-west-1:123456789012:lake-events.fifo', 'sqs'],
  ] as const)('%s is %s', (endpoint, protocol) => {
    // Assess
    expect(subscriptionProtocol(endpoint)).toBe(protocol);
  });

  it.each([
    [
      'http://hooks.example.com/lake',
      /plain http: events would travel in clear text; give an https:\/\/ url/,
    ],
    ['https://', /not a valid https:\/\/ url/],
    ['arn:aws:sns:eu-west-1:123456789012:other-topic', /not an sqs queue arn/],
    ['arn:aws:sqs:eu-west-1:12345:queue', /not an sqs queue arn/],
    ['ops-at-example.com', /give an e-mail address, an https:\/\/ url or an sqs queue arn/],
    ['', /give an e-mail address/],
  ])('%j is refused', (endpoint, message) => {
    // Act
    const refuse = () => subscriptionProtocol(endpoint);

    // Assess
    expect(refuse).toThrow(SubscriptionEndpointError);
    expect(refuse).toThrow(message);
  });
});

describe('filterPolicy and matchesFilterPolicy', () => {
  it('holds each non-empty list, without repeats and sorted', () => {
    // Assess
    expect(filterPolicy(['REJECTED', 'FAILED', 'REJECTED'], [])).toEqual({ status: ['FAILED', 'REJECTED'] });
    expect(filterPolicy([], ['orders'])).toEqual({ dataset: ['orders'] });
    expect(filterPolicy(['FAILED'], ['orders', 'customers'])).toEqual({
      status: ['FAILED'],
      dataset: ['customers', 'orders'],
    });
    expect(filterPolicy([], [])).toEqual({});
  });

  it('matches as SNS does: every named attribute present with one of its values, exact strings', () => {
    // Prepare
    const policy = filterPolicy(['REJECTED', 'FAILED'], ['orders']);

    // Assess
    expect(matchesFilterPolicy(policy, { status: 'FAILED', dataset: 'orders' })).toBe(true);
    expect(matchesFilterPolicy(policy, { status: 'CURATED', dataset: 'orders' })).toBe(false);
    expect(matchesFilterPolicy(policy, { status: 'FAILED', dataset: 'customers' })).toBe(false);
    expect(matchesFilterPolicy(policy, { status: 'failed', dataset: 'orders' })).toBe(false);
    expect(matchesFilterPolicy(policy, { status: 'FAILED' })).toBe(false);
    // An attribute the policy does not name is ignored.
    expect(matchesFilterPolicy(policy, { status: 'REJECTED', dataset: 'orders', other: 'x' })).toBe(true);
    // A String.Array attribute matches when one of its elements does.
    expect(matchesFilterPolicy(policy, { status: ['CURATED', 'FAILED'], dataset: 'orders' })).toBe(true);
    expect(matchesFilterPolicy(policy, { status: ['CURATED'], dataset: 'orders' })).toBe(false);
    // The empty policy passes everything.
    expect(matchesFilterPolicy({}, {})).toBe(true);
  });
});

describe('subscribeTopic', () => {
  it('subscribes with the filter policy on message attributes and reports a pending e-mail subscription', async () => {
    // Prepare
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: SUBSCRIPTION });
    sns.on(GetSubscriptionAttributesCommand).resolves({ Attributes: { PendingConfirmation: 'true' } });

    // Act
    const answer = await subscribeTopic(new SNSClient({ region: 'eu-west-1' }), TOPIC, {
      endpoint: 'ops@example.com',
      protocol: 'email',
      statuses: ['REJECTED', 'FAILED'],
      datasets: ['orders'],
    });

    // Assess
    expect(answer).toEqual({
      subscription: SUBSCRIPTION,
      pendingConfirmation: true,
      filterPolicy: { status: ['FAILED', 'REJECTED'], dataset: ['orders'] },
    });
    expect(sns).toHaveReceivedCommandWith(SubscribeCommand, {
      TopicArn: TOPIC,
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      ReturnSubscriptionArn: true,
      Attributes: {
        FilterPolicy: JSON.stringify({ status: ['FAILED', 'REJECTED'], dataset: ['orders'] }),
        FilterPolicyScope: 'MessageAttributes',
      },
    });
    expect(sns).toHaveReceivedCommandWith(GetSubscriptionAttributesCommand, {
      SubscriptionArn: SUBSCRIPTION,
    });
  });

  it('without filters sets no filter policy; a confirmed queue is not pending', async () => {
    // Prepare
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: SUBSCRIPTION });
    sns.on(GetSubscriptionAttributesCommand).resolves({ Attributes: { PendingConfirmation: 'false' } });

    // Act
    const answer = await subscribeTopic(new SNSClient({ region: 'eu-west-1' }), TOPIC, {
      endpoint: 'arn:aws:sqs:eu-west-1:123456789012:lake-events',
      protocol: 'sqs',
      statuses: [],
      datasets: [],
    });

    // Assess
    expect(answer.pendingConfirmation).toBe(false);
    expect(answer.filterPolicy).toEqual({});
    expect(sns.commandCalls(SubscribeCommand)[0]!.args[0].input.Attributes).toBeUndefined();
  });

  it('takes SNS answering "pending confirmation" as pending, without asking further', async () => {
    // Prepare
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: 'pending confirmation' });

    // Act
    const answer = await subscribeTopic(new SNSClient({ region: 'eu-west-1' }), TOPIC, {
      endpoint: 'https://hooks.example.com/lake',
      protocol: 'https',
      statuses: ['FAILED'],
      datasets: [],
    });

    // Assess
    expect(answer).toMatchObject({ subscription: 'pending confirmation', pendingConfirmation: true });
    expect(sns).not.toHaveReceivedCommand(GetSubscriptionAttributesCommand);
  });
});
