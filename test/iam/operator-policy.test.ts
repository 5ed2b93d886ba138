/**
 * The operator policy (lib/constructs/operator-policy.ts) against the calls the `datalake` CLI
 * makes with `--aws` (cli-calls.ts): every call allowed for a role holding only that policy, in a
 * commercial and a China Region, and what the CLI never does refused. Prints the table of
 * command, call, resource and verdict.
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { setUpOrFailEach } from '../infra/synth.ts';
import { type CfnTemplate, CHINA_ENV, TEST_ENV } from './cfn-resolve.ts';
import { type CliCall, cliCalls, cliTargets, operatorForbiddenCalls } from './cli-calls.ts';
import type { LakePolicies, PolicyDocument } from './lake-policies.ts';
import { lakeResources } from './lake-resources.ts';
import { type Decision, decide, lakePolicies, synthLakeTemplates } from './simulate.ts';

let templates: Record<string, CfnTemplate>;
let stacks: { storage: string; pipeline: string };
let config: { prefix: string; stage: string };

setUpOrFailEach(async () => {
  const synth = await synthLakeTemplates();
  templates = synth.templates;
  stacks = { storage: synth.storage.stackName, pipeline: synth.pipeline.stackName };
  // The prefix and stage the app was given, as the CLI's --prefix and --stage would name them.
  const { prefix, stage } = parseConfig((key) => synth.pipeline.node.tryGetContext(key));
  config = { prefix, stage };
});

/**
 * The lake's policies with an operator: a role (not in the templates: an administrator makes it)
 * whose only identity policy is the synthesized operator policy.
 */
function withOperator(env: typeof TEST_ENV): { lake: LakePolicies; operator: string } {
  const lake = lakePolicies(templates, env);
  const ids = lake
    .logicalIds(stacks.pipeline, 'AWS::IAM::ManagedPolicy')
    .filter((id) => id.startsWith('Operator'));
  expect(ids).toHaveLength(1);
  const resource = lake.cfn.templates[stacks.pipeline]!.Resources[ids[0]!]!;
  const policy = lake.cfn.resolve(stacks.pipeline, resource.Properties?.PolicyDocument) as PolicyDocument;
  const operator = `arn:${env.partition}:iam::${env.account}:role/lake-operator`;
  lake.roles.push({
    logicalId: 'Operator',
    stack: stacks.pipeline,
    arn: operator,
    identityPolicies: [{ name: ids[0]!, policy }],
    trustPolicy: { Statement: [] },
  });
  return { lake, operator };
}

/** Each call with its decision (each distinct one simulated once). */
async function verdicts(lake: LakePolicies, calls: readonly CliCall[]) {
  const rows: { call: CliCall; decision: Decision; ignored: readonly string[] }[] = [];
  for (const call of calls) {
    const { decision, ignoredContextKeys } = await decide(lake, call);
    rows.push({ call, decision, ignored: ignoredContextKeys });
  }
  return rows;
}

/** The table for the closing note: command, call, resource (the account elided) and verdict. */
function table(rows: Awaited<ReturnType<typeof verdicts>>, account: string): string {
  const lines = rows.map(({ call, decision }) => {
    const context = call.context
      ? ` (${Object.entries(call.context)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')})`
      : '';
    return `| ${call.command} | ${call.action}${context} | ${call.resource.replaceAll(account, '<account>')} | ${decision} |`;
  });
  return ['| command | call | resource | verdict |', '| --- | --- | --- | --- |', ...lines].join('\n');
}

/** The IAM service prefix of an SDK package (`@aws-sdk/client-sfn` → `states`). */
const SERVICE: Record<string, string> = {
  'client-s3': 's3',
  'client-sfn': 'states',
  'client-cloudformation': 'cloudformation',
  'client-athena': 'athena',
  'client-sns': 'sns',
  'client-dynamodb': 'dynamodb',
  'lib-dynamodb': 'dynamodb',
};

/** Commands whose IAM action is not their name. */
const ACTION: Record<string, string> = {
  'dynamodb:Get': 'dynamodb:GetItem',
  's3:ListObjectVersions': 's3:ListBucketVersions',
};

/** The IAM actions of the SDK commands a source file sends (`new XCommand(`), from its imports. */
async function sentActions(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const actions: string[] = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/([\w-]+)'/g)) {
    const service = SERVICE[m[2]!];
    for (const name of m[1]!.split(',').map((n) => n.trim())) {
      const command = /^(\w+)Command$/.exec(name)?.[1];
      if (!command || !text.includes(`new ${name}(`)) continue;
      if (!service) throw new Error(`${file}: no IAM service for @aws-sdk/${m[2]}`);
      actions.push(ACTION[`${service}:${command}`] ?? `${service}:${command}`);
    }
  }
  return actions;
}

describe('the operator policy', () => {
  it('is simulated on every call the AWS helpers send', async () => {
    // Arrange: what lib/aws, the DynamoDB ledger reader and the AWS reconciler send. (put and
    // report send S3 PutObject, the multipart calls and GetObject from lib/cli through the
    // target's client: listed in cli-calls.ts by hand.)
    const files = [
      ...(await readdir('lib/aws')).filter((f) => f.endsWith('.ts')).map((f) => `lib/aws/${f}`),
      'lib/ledger/dynamodb-reader.ts',
      'lib/reconcile/aws-ledger.ts',
    ];
    const { lake, operator } = withOperator(TEST_ENV);
    const res = lakeResources(lake, stacks.storage, stacks.pipeline);
    const simulated = new Set(cliCalls(res, cliTargets(lake, stacks, config), operator).map((c) => c.action));

    // Act
    const sent = new Set((await Promise.all(files.map(sentActions))).flat());

    // Assess
    expect(sent.size).toBeGreaterThan(10);
    expect([...sent].filter((a) => !simulated.has(a))).toEqual([]);
  });

  for (const env of [TEST_ENV, CHINA_ENV]) {
    it(`allows every call the CLI makes with --aws (${env.partition}, ${env.region})`, async () => {
      // Arrange
      const { lake, operator } = withOperator(env);
      const res = lakeResources(lake, stacks.storage, stacks.pipeline);
      const calls = cliCalls(res, cliTargets(lake, stacks, config), operator);

      // Act
      const rows = await verdicts(lake, calls);

      // Assess
      if (env === TEST_ENV) console.log(`CLI calls, simulated:\n${table(rows, env.account)}`);
      const refused = rows
        .filter((r) => r.decision !== 'Allowed')
        .map((r) => `${r.call.command}: ${r.call.action} on ${r.call.resource} → ${r.decision}`);
      expect(refused).toEqual([]);
      expect(rows.flatMap((r) => r.ignored.map((k) => `${r.call.action} ${k}`))).toEqual([]);
      expect(new Set(calls.map((c) => c.command))).toEqual(
        new Set(['(every)', 'put', 'files', 'report', 'query', 'subscribe', 'reconcile']),
      );
    });

    it(`refuses what the CLI never does (${env.partition}, ${env.region})`, async () => {
      // Arrange
      const { lake, operator } = withOperator(env);
      const res = lakeResources(lake, stacks.storage, stacks.pipeline);
      const calls = operatorForbiddenCalls(res, cliTargets(lake, stacks, config), operator);

      // Act
      const rows = await verdicts(lake, calls);

      // Assess
      if (env === TEST_ENV) console.log(`Forbidden calls, simulated:\n${table(rows, env.account)}`);
      const allowed = rows
        .filter((r) => r.decision === 'Allowed')
        .map((r) => `${r.call.action} on ${r.call.resource} [${r.call.why}]`);
      expect(allowed).toEqual([]);
      expect(rows.flatMap((r) => r.ignored.map((k) => `${r.call.action} ${k}`))).toEqual([]);
    });
  }
});
