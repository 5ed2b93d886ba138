/**
 * Evaluates one request against the lake's policies with @cloud-copilot/iam-simulate (AGPL-3.0: a
 * devDependency, imported from test/ only). Same-account rules as AWS applies them: an explicit Deny
 * in any policy denies; otherwise an Allow in the identity policy or in the resource policy allows,
 * except for KMS, whose key policy must allow the request itself or delegate to IAM through the
 * account's root principal; a service principal has no identity policy, so only a resource policy
 * can allow it.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { buildTestLake, TEST_CONTEXT } from '../infra/synth.ts';
import { type AwsEnvironment, type CfnTemplate, TEST_ENV } from './cfn-resolve.ts';
import { LakePolicies } from './lake-policies.ts';

/** What AWS decides. */
export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** One request as AWS authorizes it. */
export interface IamCall {
  /** Who makes it, for people: `Validate`, `S3 → SNS`, … */
  readonly who: string;
  /** A role ARN of the lake, or a service principal (`cloudwatch.amazonaws.com`). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** Request context keys; `aws:SecureTransport` is `true` unless given. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** Why the call is made, when it is not recorded (service-to-service calls, forbidden calls). */
  readonly why?: string;
}

/** The call as one line: who, action, resource and the context keys. */
export function describeCall(call: IamCall): string {
  const context = Object.entries(call.context ?? {})
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : v}`)
    .join(' ');
  return `${call.who}: ${call.action} on ${call.resource}${context ? ` (${context})` : ''}`;
}

/** AWS's decision on `call`, with the context keys the simulator did not recognise for the action. */
export async function decide(
  lake: LakePolicies,
  call: IamCall,
): Promise<{ decision: Decision; ignoredContextKeys: readonly string[] }> {
  const role = lake.roleByArn(call.principal);
  const simulated = simulatorForm(lake, call);
  if (!role && call.principal.startsWith('arn:')) {
    throw new Error(`${describeCall(call)}: ${call.principal} is not a role of the lake`);
  }
  const context: Record<string, string | string[]> = {
    'aws:SecureTransport': 'true',
    ...(role ? { 'aws:PrincipalArn': role.arn, 'aws:PrincipalAccount': lake.env.account } : {}),
  };
  for (const [k, v] of Object.entries(simulated.context))
    context[k] = Array.isArray(v) ? [...v] : (v as string);
  const result = await runSimulation(
    {
      request: {
        principal: simulated.principal,
        action: call.action,
        resource: { resource: call.resource, accountId: lake.env.account },
        contextVariables: context,
      },
      identityPolicies: (role?.identityPolicies ?? []).map((p) => ({
        ...p,
        policy: simulated.rewrite(p.policy),
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: simulated.resourcePolicy,
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `${describeCall(call)}: the simulator refused the request: ${JSON.stringify(result.errors)}`,
    );
  }
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  return { decision: result.overallResult as Decision, ignoredContextKeys: ignored };
}

/**
 * Two limits of iam-simulate 0.1.173, worked around by renaming the same way in the request and in
 * the policies, so that what matches stays exactly what AWS would match:
 * - only `/`-separated variable keys are variables (`aws:PrincipalTag/x`), so
 *   `kms:EncryptionContext:<key>` is reported unknown and a condition on it never holds: it is
 *   renamed `aws:RequestTag/kms:EncryptionContext/<key>`, a variable key it evaluates;
 * - a service principal must end in `amazonaws.com`, so a China one (`….amazonaws.com.cn`) is
 *   renamed `….cn.amazonaws.com`.
 */
function simulatorForm(lake: LakePolicies, call: IamCall) {
  const key = (k: string) => k.replace(/^kms:EncryptionContext:/i, 'aws:RequestTag/kms:EncryptionContext/');
  const principal = (p: string) => p.replace(/\.amazonaws\.com\.cn$/, '.cn.amazonaws.com');
  const rewrite = (value: unknown, inPrincipal = false): unknown => {
    if (typeof value === 'string') return inPrincipal ? principal(value) : value;
    if (Array.isArray(value)) return value.map((v) => rewrite(v, inPrincipal));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [key(k), rewrite(v, inPrincipal || k === 'Principal')]),
    );
  };
  return {
    principal: principal(call.principal),
    context: Object.fromEntries(Object.entries(call.context ?? {}).map(([k, v]) => [key(k), v])),
    resourcePolicy: rewrite(lake.resourcePolicy(call.resource)),
    rewrite,
  };
}

/**
 * Decides every call; returns the lines of those whose decision is not `expected` (each distinct
 * call is simulated once: a run repeats the same requests for many objects).
 */
export async function unexpected(
  lake: LakePolicies,
  calls: readonly IamCall[],
  expected: Decision | 'Denied',
) {
  const wrong: string[] = [];
  const decided = new Map<string, Decision>();
  for (const call of calls) {
    const line = describeCall(call);
    const decision = decided.get(line) ?? (await decide(lake, call)).decision;
    decided.set(line, decision);
    const ok = expected === 'Denied' ? decision !== 'Allowed' : decision === expected;
    if (!ok) wrong.push(`${line}${call.why ? ` [${call.why}]` : ''} → ${decision}`);
  }
  return wrong;
}

/**
 * Synthesizes the lake (once per test file) and returns its templates by stack name (the console
 * stack's too when the context turns it on). The Lambda
 * code is not bundled: no policy depends on it, and bundling is most of a synth's time.
 */
export async function synthLakeTemplates(context: Record<string, unknown> = {}) {
  const lake = await buildTestLake(
    { ...TEST_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
    // The schema validation of every resource is the infrastructure tests' concern, and seconds long.
    { builtinCloudFormationValidation: false },
  );
  const templates: Record<string, CfnTemplate> = {
    [lake.storage.stackName]: Template.fromStack(lake.storage).toJSON() as CfnTemplate,
    [lake.pipeline.stackName]: Template.fromStack(lake.pipeline).toJSON() as CfnTemplate,
    // With `console: true` in the context, the console stack too.
    ...(lake.console
      ? { [lake.console.stackName]: Template.fromStack(lake.console).toJSON() as CfnTemplate }
      : {}),
  };
  return { ...lake, templates };
}

/** The lake's policies in `env`. */
export function lakePolicies(templates: Record<string, CfnTemplate>, env: AwsEnvironment = TEST_ENV) {
  return new LakePolicies(templates, env);
}
