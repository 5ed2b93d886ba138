/**
 * Resolves the intrinsics of the lake's synthesized templates to concrete values, as
 * CloudFormation would in one account and Region: pseudo parameters, `Ref`, `Fn::GetAtt`,
 * `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, and `Fn::GetStackOutput` / `Fn::ImportValue`
 * across the stacks. Resources without a physical name are named `<stack>-<logical id>`
 * (CloudFormation would add a random suffix; any unique name serves the IAM evaluation).
 */

/** The account, Region and partition the templates are resolved in. */
export interface AwsEnvironment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly urlSuffix: string;
}

/** The fixed test environment. */
export const TEST_ENV: AwsEnvironment = {
  account: '123456789012',
  region: 'eu-west-1',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
};

/** A China Region, to check that every principal and ARN follows the partition (cdk.json lists aws-cn). */
export const CHINA_ENV: AwsEnvironment = {
  account: '123456789012',
  region: 'cn-north-1',
  partition: 'aws-cn',
  urlSuffix: 'amazonaws.com.cn',
};

/** A synthesized template (the part of it read here). */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
}

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

type Names = (name: string, env: AwsEnvironment) => { ref: string; attributes: Record<string, string> };

/** How each resource type answers `Ref` and `Fn::GetAtt`, given its physical name. */
const RESOURCE_NAMES: Record<string, { nameProperty?: string; names: Names }> = {
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    names: (name, e) => ({ ref: name, attributes: { Arn: `arn:${e.partition}:s3:::${name}` } }),
  },
  'AWS::KMS::Key': {
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:kms:${e.region}:${e.account}:key/${name}`, KeyId: name },
    }),
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    names: (name, e) => {
      const arn = `arn:${e.partition}:sns:${e.region}:${e.account}:${name}`;
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    names: (name, e) => ({
      ref: `https://sqs.${e.region}.${e.urlSuffix}/${e.account}/${name}`,
      attributes: { Arn: `arn:${e.partition}:sqs:${e.region}:${e.account}:${name}`, QueueName: name },
    }),
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:lambda:${e.region}:${e.account}:function:${name}` },
    }),
  },
  // Ref is the workgroup's name (the operator policy names the workgroup by it).
  'AWS::Athena::WorkGroup': {
    nameProperty: 'Name',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:athena:${e.region}:${e.account}:workgroup/${name}` },
    }),
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:dynamodb:${e.region}:${e.account}:table/${name}` },
    }),
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:iam::${e.account}:role/${name}` },
    }),
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:logs:${e.region}:${e.account}:log-group:${name}:*` },
    }),
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    names: (name, e) => {
      const arn = `arn:${e.partition}:states:${e.region}:${e.account}:stateMachine:${name}`;
      return { ref: arn, attributes: { Arn: arn, Name: name } };
    },
  },
  'AWS::Glue::Job': { nameProperty: 'Name', names: (name) => ({ ref: name, attributes: {} }) },
  'AWS::Glue::SecurityConfiguration': {
    nameProperty: 'Name',
    names: (name) => ({ ref: name, attributes: {} }),
  },
  'AWS::Scheduler::Schedule': {
    nameProperty: 'Name',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:scheduler:${e.region}:${e.account}:schedule/default/${name}` },
    }),
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:cloudwatch:${e.region}:${e.account}:alarm:${name}` },
    }),
  },
  // The console stack (issue 17). CloudFormation gives these ids of its own: the physical name stands in.
  'AWS::ApiGatewayV2::Api': {
    names: (id, e) => ({
      ref: id,
      attributes: { ApiEndpoint: `https://${id}.execute-api.${e.region}.${e.urlSuffix}`, ApiId: id },
    }),
  },
  'AWS::CloudFront::Distribution': {
    names: (id) => ({ ref: id, attributes: { DomainName: `${id}.cloudfront.net`, Id: id } }),
  },
  'AWS::Cognito::UserPool': {
    names: (name, e) => {
      const id = `${e.region}_${name}`;
      return {
        ref: id,
        attributes: {
          Arn: `arn:${e.partition}:cognito-idp:${e.region}:${e.account}:userpool/${id}`,
          ProviderURL: `https://cognito-idp.${e.region}.${e.urlSuffix}/${id}`,
        },
      };
    },
  },
  'AWS::Cognito::UserPoolClient': { names: (id) => ({ ref: id, attributes: { ClientId: id } }) },
  'AWS::Cognito::UserPoolDomain': { names: (name) => ({ ref: name, attributes: {} }) },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    names: (name, e) => ({
      ref: name,
      attributes: { Arn: `arn:${e.partition}:events:${e.region}:${e.account}:rule/${name}` },
    }),
  },
};

/** The lake's templates by stack name, resolved in one environment. */
export class ResolvedTemplates {
  constructor(
    readonly templates: Readonly<Record<string, CfnTemplate>>,
    readonly env: AwsEnvironment = TEST_ENV,
  ) {}

  /** The concrete value of `value` as it appears in stack `stack`. */
  resolve(stack: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      const resolved = this.intrinsic(stack, fn, arg);
      if (resolved !== NOT_INTRINSIC) return resolved;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  /** `resolve`, required to give a string. */
  text(stack: string, value: unknown): string {
    const resolved = this.resolve(stack, value);
    if (typeof resolved !== 'string') throw new Error(`expected text, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  /** The resource `id` of stack `stack`. */
  resource(stack: string, id: string): CfnResource {
    const resource = this.template(stack).Resources[id];
    if (!resource) throw new Error(`no resource ${id} in stack ${stack}`);
    return resource;
  }

  /** The physical name, `Ref` and attributes of a resource. */
  names(stack: string, id: string) {
    const resource = this.resource(stack, id);
    const kind = RESOURCE_NAMES[resource.Type];
    if (!kind) throw new Error(`the resolver does not know how ${resource.Type} (${id}) answers Ref/GetAtt`);
    const named = kind.nameProperty ? resource.Properties?.[kind.nameProperty] : undefined;
    // CloudFormation names an unnamed resource `<stack>-<logical id>-<random>`: the stack keeps
    // apart resources of the same logical id in both stacks (CDK's singleton handlers).
    return kind.names(named === undefined ? `${stack}-${id}` : this.text(stack, named), this.env);
  }

  private template(stack: string): CfnTemplate {
    const template = this.templates[stack];
    if (!template) throw new Error(`no stack ${stack} (stacks: ${Object.keys(this.templates).join(', ')})`);
    return template;
  }

  private ref(stack: string, name: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': this.env.account,
      'AWS::Region': this.env.region,
      'AWS::Partition': this.env.partition,
      'AWS::URLSuffix': this.env.urlSuffix,
      'AWS::StackName': stack,
    };
    if (name in pseudo) return pseudo[name]!;
    const parameter = this.template(stack).Parameters?.[name];
    if (parameter) return this.text(stack, parameter.Default);
    return this.names(stack, name).ref;
  }

  private getAtt(stack: string, id: string, attribute: string): string {
    const value = this.names(stack, id).attributes[attribute];
    if (value === undefined) throw new Error(`the resolver does not know ${id}.${attribute}`);
    return value;
  }

  private intrinsic(stack: string, fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(stack, arg as string);
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof arg === 'string' ? arg.split('.') : (arg as string[]);
        return this.getAtt(stack, id!, attribute!);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (this.resolve(stack, parts) as unknown[]).map((p) => this.asText(p)).join(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] =
          typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
        return text
          .replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
            if (name in variables) return this.text(stack, variables[name]);
            const [id, attribute] = name.split('.');
            return attribute === undefined ? this.ref(stack, id!) : this.getAtt(stack, id!, attribute);
          })
          .replace(/\$\{!/g, '${'); // `${!Literal}` is the text `${Literal}`
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (this.resolve(stack, list) as unknown[])[Number(this.resolve(stack, index))];
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown];
        return this.text(stack, text).split(separator);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName: unknown; OutputName: string };
        const producer = this.text(stack, StackName);
        const output = this.template(producer).Outputs?.[OutputName];
        if (!output) throw new Error(`no output ${OutputName} in stack ${producer}`);
        return this.resolve(producer, output.Value);
      }
      case 'Fn::ImportValue': {
        const name = this.text(stack, arg);
        for (const [producer, template] of Object.entries(this.templates)) {
          for (const output of Object.values(template.Outputs ?? {})) {
            if (output.Export && this.text(producer, output.Export.Name) === name) {
              return this.resolve(producer, output.Value);
            }
          }
        }
        throw new Error(`no stack exports ${name}`);
      }
      default:
        if (fn.startsWith('Fn::')) throw new Error(`the resolver does not support ${fn}`);
        return NOT_INTRINSIC;
    }
  }

  private asText(value: unknown): string {
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    throw new Error(`cannot join ${JSON.stringify(value)}`);
  }
}

const NOT_INTRINSIC = Symbol('not an intrinsic');
