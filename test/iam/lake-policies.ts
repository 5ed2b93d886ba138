/**
 * Every IAM policy of the synthesized lake with concrete ARNs: each role's identity policies (its
 * `AWS::IAM::Policy` attachments, inline `Policies` and managed policies) and trust policy, and the
 * resource policies AWS evaluates with them: bucket policies, the KMS key policy, topic and queue
 * policies, and Lambda permissions.
 */
import { AWS_MANAGED_POLICIES } from './aws-managed-policies.ts';
import { type AwsEnvironment, type CfnTemplate, ResolvedTemplates, TEST_ENV } from './cfn-resolve.ts';

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[];
}

/** A role of the lake, resolved. */
export interface LakeRole {
  readonly logicalId: string;
  readonly stack: string;
  readonly arn: string;
  readonly identityPolicies: { name: string; policy: PolicyDocument }[];
  readonly trustPolicy: PolicyDocument;
}

const asArray = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];

/** The lake's policies, resolved in one environment. */
export class LakePolicies {
  readonly roles: LakeRole[] = [];
  private readonly resourcePolicies = new Map<string, Record<string, unknown>[]>();

  constructor(
    templates: Readonly<Record<string, CfnTemplate>>,
    readonly env: AwsEnvironment = TEST_ENV,
  ) {
    this.cfn = new ResolvedTemplates(templates, env);
    for (const [stack, template] of Object.entries(templates)) this.collect(stack, template);
  }

  readonly cfn: ResolvedTemplates;

  /** The one role whose logical id starts with `prefix`. */
  role(prefix: string): LakeRole {
    const found = this.roles.filter((r) => r.logicalId.startsWith(prefix));
    if (found.length !== 1) {
      throw new Error(
        `expected one role ${prefix}*, found ${found.map((r) => r.logicalId).join(', ') || 'none'}`,
      );
    }
    return found[0]!;
  }

  /** The role with this ARN, if it is one of the lake's. */
  roleByArn(arn: string): LakeRole | undefined {
    return this.roles.find((r) => r.arn === arn);
  }

  /**
   * The resource policy AWS evaluates for a request on `resourceArn`: a bucket's policy for the
   * bucket and its objects, a function's permissions for it and its versions, a role's trust policy.
   */
  resourcePolicy(resourceArn: string): PolicyDocument | undefined {
    const statements = this.resourcePolicies.get(policyHolder(resourceArn));
    return statements ? { Version: '2012-10-17', Statement: statements } : undefined;
  }

  /** The physical name or ARN (`Ref`) and attributes of the one resource of a type by logical id prefix. */
  names(stack: string, type: string, prefix = '') {
    const ids = this.logicalIds(stack, type).filter((id) => id.startsWith(prefix));
    if (ids.length !== 1) {
      throw new Error(`expected one ${type} ${prefix}* in ${stack}, found ${ids.join(', ') || 'none'}`);
    }
    return this.cfn.names(stack, ids[0]!);
  }

  /** The logical ids of every resource of a type in a stack. */
  logicalIds(stack: string, type: string): string[] {
    return Object.entries(this.cfn.templates[stack]?.Resources ?? {})
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }

  private addResourceStatements(arn: string, statements: readonly Record<string, unknown>[]) {
    const key = policyHolder(arn);
    this.resourcePolicies.set(key, [...(this.resourcePolicies.get(key) ?? []), ...statements]);
  }

  private collect(stack: string, template: CfnTemplate) {
    const r = (value: unknown) => this.cfn.resolve(stack, value);
    const attached = new Map<string, { name: string; policy: PolicyDocument }[]>();
    for (const [id, resource] of Object.entries(template.Resources)) {
      const p = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::IAM::Policy':
        case 'AWS::IAM::ManagedPolicy': {
          const policy = r(p.PolicyDocument) as PolicyDocument;
          for (const role of asArray(p.Roles as unknown[])) {
            const roleId = (role as { Ref?: string }).Ref;
            if (!roleId) throw new Error(`${id}: a role given other than by Ref: ${JSON.stringify(role)}`);
            attached.set(roleId, [...(attached.get(roleId) ?? []), { name: id, policy }]);
          }
          if (p.Users || p.Groups)
            throw new Error(`${id}: policies of users or groups are not evaluated here`);
          break;
        }
        case 'AWS::S3::BucketPolicy':
          this.addResourceStatements(
            `arn:${this.env.partition}:s3:::${this.cfn.text(stack, p.Bucket)}`,
            (r(p.PolicyDocument) as PolicyDocument).Statement,
          );
          break;
        case 'AWS::KMS::Key':
          this.addResourceStatements(
            this.cfn.names(stack, id).attributes.Arn!,
            (r(p.KeyPolicy) as PolicyDocument).Statement,
          );
          break;
        case 'AWS::SNS::TopicPolicy':
          for (const topic of asArray(p.Topics as unknown[])) {
            this.addResourceStatements(
              this.cfn.text(stack, topic),
              (r(p.PolicyDocument) as PolicyDocument).Statement,
            );
          }
          break;
        case 'AWS::SQS::QueuePolicy':
          for (const queue of asArray(p.Queues as unknown[])) {
            const queueId = (queue as { Ref?: string }).Ref;
            if (!queueId) throw new Error(`${id}: a queue given other than by Ref`);
            this.addResourceStatements(
              this.cfn.names(stack, queueId).attributes.Arn!,
              (r(p.PolicyDocument) as PolicyDocument).Statement,
            );
          }
          break;
        case 'AWS::Lambda::Permission':
          this.addResourceStatements(this.functionArn(stack, p.FunctionName), [
            lambdaPermissionStatement(stack, p, this.cfn),
          ]);
          break;
        default:
      }
    }
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const p = resource.Properties ?? {};
      const arn = this.cfn.names(stack, id).attributes.Arn!;
      const inline = asArray(p.Policies as { PolicyName: string; PolicyDocument: unknown }[]).map(
        (policy) => ({
          name: policy.PolicyName,
          policy: r(policy.PolicyDocument) as PolicyDocument,
        }),
      );
      const managed = asArray(p.ManagedPolicyArns as unknown[]).map((m) => {
        const managedArn = this.cfn.text(stack, m);
        const policy = AWS_MANAGED_POLICIES[managedArn.replace(/^arn:[^:]+:/, 'arn:aws:')];
        if (!policy) throw new Error(`${id}: no fixture for the managed policy ${managedArn}`);
        return { name: managedArn, policy: policy.document };
      });
      const trustPolicy = r(p.AssumeRolePolicyDocument) as PolicyDocument;
      this.roles.push({
        logicalId: id,
        stack,
        arn,
        identityPolicies: [...(attached.get(id) ?? []), ...inline, ...managed],
        trustPolicy,
      });
      this.addResourceStatements(arn, trustPolicy.Statement);
    }
  }

  private functionArn(stack: string, name: unknown): string {
    const text = this.cfn.text(stack, name);
    return text.startsWith('arn:')
      ? text
      : `arn:${this.env.partition}:lambda:${this.env.region}:${this.env.account}:function:${text}`;
  }
}

/** `AWS::Lambda::Permission` as the statement Lambda adds to the function's resource policy. */
function lambdaPermissionStatement(
  stack: string,
  p: Record<string, unknown>,
  cfn: ResolvedTemplates,
): Record<string, unknown> {
  const principal = cfn.text(stack, p.Principal);
  const conditions: Record<string, Record<string, string>> = {};
  if (p.SourceArn !== undefined) conditions.ArnLike = { 'AWS:SourceArn': cfn.text(stack, p.SourceArn) };
  if (p.SourceAccount !== undefined) {
    conditions.StringEquals = { 'AWS:SourceAccount': cfn.text(stack, p.SourceAccount) };
  }
  const name = cfn.text(stack, p.FunctionName);
  return {
    Effect: 'Allow',
    Principal:
      principal.endsWith('.amazonaws.com') || principal.endsWith('.amazonaws.com.cn')
        ? { Service: principal }
        : { AWS: principal },
    Action: cfn.text(stack, p.Action),
    Resource: name,
    ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
  };
}

/**
 * The ARN whose policy governs a resource: an object's bucket, a function version's function, and
 * the resource itself otherwise.
 */
function policyHolder(arn: string): string {
  const s3 = /^arn:[^:]+:s3:::([^/]+)/.exec(arn);
  if (s3) return s3[0];
  const lambda = /^(arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:]+)(:.*)?$/.exec(arn);
  if (lambda) return lambda[1]!;
  return arn;
}
