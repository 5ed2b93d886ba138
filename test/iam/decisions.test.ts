/**
 * IAM decisions on the synthesized policies that need no recording: the service-to-service calls
 * the templates imply are allowed, in a commercial Region and in a China Region (cdk.json targets
 * aws-cn: every principal and ARN must follow the partition), and the calls that must never be
 * allowed are refused.
 */
import { describe, expect, it } from 'vitest';
import { setUpOrFailEach } from '../infra/synth.ts';
import { type CfnTemplate, CHINA_ENV, TEST_ENV } from './cfn-resolve.ts';
import { forbiddenCalls } from './forbidden-calls.ts';
import { lakeResources } from './lake-resources.ts';
import { serviceCalls } from './service-calls.ts';
import { decide, describeCall, lakePolicies, synthLakeTemplates, unexpected } from './simulate.ts';

let templates: Record<string, CfnTemplate>;
let stacks: { storage: string; pipeline: string };

setUpOrFailEach(async () => {
  const synth = await synthLakeTemplates();
  templates = synth.templates;
  stacks = { storage: synth.storage.stackName, pipeline: synth.pipeline.stackName };
});

const callsIn = (env: typeof TEST_ENV) => {
  const lake = lakePolicies(templates, env);
  const res = lakeResources(lake, stacks.storage, stacks.pipeline);
  return { lake, res, calls: serviceCalls(lake, res) };
};

describe('service-to-service calls implied by the templates', () => {
  for (const env of [TEST_ENV, CHINA_ENV]) {
    it(`are all allowed (${env.partition}, ${env.region})`, async () => {
      const { lake, calls } = callsIn(env);
      const denied = await unexpected(lake, calls, 'Allowed');
      console.info(
        `IAM ${env.partition}: ${calls.length} service-to-service calls simulated, ${calls.length - denied.length} allowed`,
      );
      expect(denied).toEqual([]);
    });
  }

  it('cover every kind the templates imply', () => {
    const { calls, res } = callsIn(TEST_ENV);
    const kinds = (prefix: string) => calls.filter((c) => c.who.startsWith(prefix));
    // Raw, failure and curated announce objects on the zone-events topic; landing invokes the trigger.
    expect(
      new Set(
        kinds('S3 ')
          .filter((c) => c.action === 'sns:Publish')
          .map((c) => c.context?.['aws:SourceArn']),
      ),
    ).toEqual(new Set(['raw', 'failure', 'curated'].map((z) => `arn:aws:s3:::${res.buckets[z as 'raw']}`)));
    expect(
      kinds('S3 ')
        .filter((c) => c.action === 'lambda:InvokeFunction')
        .map((c) => c.resource),
    ).toEqual([res.functions.trigger]);
    // Every alarm notifies the alarm topic; every log group is encrypted.
    const alarmPublishes = kinds('CloudWatch alarm').filter((c) => c.action === 'sns:Publish');
    expect(alarmPublishes.length).toBe(res.alarms.length);
    expect(new Set(alarmPublishes.map((c) => c.resource))).toEqual(new Set([res.topics.alarms]));
    expect(res.alarms.length).toBeGreaterThan(5);
    const encrypted = new Set(
      kinds('Logs → KMS').map((c) => c.context?.['kms:EncryptionContext:aws:logs:arn']),
    );
    for (const group of res.logGroups) expect(encrypted).toContain(group);
    expect(kinds('Scheduler → Lambda').map((c) => c.resource)).toEqual([res.functions.reconcile]);
    expect(kinds('Glue ').length).toBeGreaterThan(5);
    console.info(`IAM: ${new Set(calls.map(describeCall)).size} distinct service-to-service calls`);
  });
});

it('the simulator knows every condition key the service and forbidden calls send', async () => {
  const lake = lakePolicies(templates, CHINA_ENV);
  const res = lakeResources(lake, stacks.storage, stacks.pipeline);
  const ignored = new Set<string>();
  for (const call of [...serviceCalls(lake, res), ...forbiddenCalls(lake, res)]) {
    for (const key of (await decide(lake, call)).ignoredContextKeys) ignored.add(`${call.action} ${key}`);
  }
  expect([...ignored]).toEqual([]);
});

describe('forbidden calls', () => {
  for (const env of [TEST_ENV, CHINA_ENV]) {
    it(`are all refused, over HTTP by an explicit Deny (${env.partition}, ${env.region})`, async () => {
      const lake = lakePolicies(templates, env);
      const calls = forbiddenCalls(lake, lakeResources(lake, stacks.storage, stacks.pipeline));
      const allowed: string[] = [];
      for (const call of calls) {
        const { decision } = await decide(lake, call);
        const ok = call.expect === 'Denied' ? decision !== 'Allowed' : decision === call.expect;
        if (!ok)
          allowed.push(
            `${describeCall(call)}${call.why ? ` [${call.why}]` : ''} → ${decision}, expected ${call.expect}`,
          );
      }
      console.info(
        `IAM ${env.partition}: ${calls.length} forbidden calls simulated, ${calls.length - allowed.length} refused`,
      );
      expect(allowed).toEqual([]);
      expect(calls.length).toBeGreaterThan(40);
    });
  }
});
