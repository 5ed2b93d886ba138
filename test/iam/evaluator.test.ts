/**
 * The IAM harness itself: the resolver turns each intrinsic into the value CloudFormation would,
 * and the evaluation follows AWS's same-account rules (identity or resource policy allows, an
 * explicit Deny anywhere wins, KMS needs its key policy), on small hand-written templates.
 */
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, ResolvedTemplates, TEST_ENV } from './cfn-resolve.ts';
import { LakePolicies } from './lake-policies.ts';
import { decide } from './simulate.ts';

const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const ROLE = 'arn:aws:iam::123456789012:role/a-Role';
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/a-Key';

describe('the template resolver', () => {
  const templates: Record<string, CfnTemplate> = {
    a: {
      Resources: {
        Bucket: {
          Type: 'AWS::S3::Bucket',
          Properties: { BucketName: join('data-', { Ref: 'AWS::AccountId' }) },
        },
        Topic: { Type: 'AWS::SNS::Topic' },
        Fn: { Type: 'AWS::Lambda::Function' },
      },
      Outputs: {
        TopicArn: { Value: { Ref: 'Topic' }, Export: { Name: 'shared-topic' } },
        BucketArn: { Value: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
      },
    },
    b: { Resources: {} },
  };
  const r = new ResolvedTemplates(templates, TEST_ENV);

  it('resolves pseudo parameters, Ref, GetAtt, Join, Sub, Select and Split', () => {
    expect(r.resolve('a', { Ref: 'Bucket' })).toBe('data-123456789012');
    expect(r.resolve('a', { 'Fn::GetAtt': 'Bucket.Arn' })).toBe('arn:aws:s3:::data-123456789012');
    expect(r.resolve('a', { Ref: 'Topic' })).toBe('arn:aws:sns:eu-west-1:123456789012:a-Topic');
    // Fn::Sub's own syntax, not template literals:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub
    const sub = 'arn:${AWS::Partition}:x:${AWS::Region}:${Fn.Arn}/${!Name}';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub
    const literal = '/${Name}';
    expect(r.resolve('a', { 'Fn::Sub': sub })).toBe(
      `arn:aws:x:eu-west-1:arn:aws:lambda:eu-west-1:123456789012:function:a-Fn${literal}`,
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub
    const withVariables = '${X}-${AWS::URLSuffix}';
    expect(r.resolve('a', { 'Fn::Sub': [withVariables, { X: { Ref: 'AWS::AccountId' } }] })).toBe(
      '123456789012-amazonaws.com',
    );
    expect(
      r.resolve('a', { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Bucket', 'Arn'] }] }] }),
    ).toBe('aws');
  });

  it('follows outputs across stacks, by GetStackOutput and by ImportValue', () => {
    expect(r.resolve('b', { 'Fn::GetStackOutput': { StackName: 'a', OutputName: 'BucketArn' } })).toBe(
      'arn:aws:s3:::data-123456789012',
    );
    expect(r.resolve('b', { 'Fn::ImportValue': 'shared-topic' })).toBe(
      'arn:aws:sns:eu-west-1:123456789012:a-Topic',
    );
  });

  it('refuses what it cannot resolve rather than guess', () => {
    expect(() => r.resolve('a', { 'Fn::If': ['C', 1, 2] })).toThrow('does not support Fn::If');
    expect(() => r.resolve('a', { 'Fn::GetAtt': ['Bucket', 'DomainName'] })).toThrow('Bucket.DomainName');
    expect(() => r.resolve('b', { 'Fn::ImportValue': 'nothing' })).toThrow('no stack exports nothing');
  });
});

describe('the same-account evaluation', () => {
  /** One role with an identity policy, one bucket with a policy, one key with a key policy. */
  function lake(options: { identity: unknown[]; bucket?: unknown[]; key: unknown[] }) {
    return new LakePolicies({
      a: {
        Resources: {
          Role: {
            Type: 'AWS::IAM::Role',
            Properties: {
              AssumeRolePolicyDocument: {
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { Service: 'lambda.amazonaws.com' },
                    Action: 'sts:AssumeRole',
                  },
                ],
              },
            },
          },
          Policy: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              PolicyName: 'p',
              Roles: [{ Ref: 'Role' }],
              PolicyDocument: { Statement: options.identity },
            },
          },
          Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'b' } },
          ...(options.bucket
            ? {
                BucketPolicy: {
                  Type: 'AWS::S3::BucketPolicy',
                  Properties: { Bucket: { Ref: 'Bucket' }, PolicyDocument: { Statement: options.bucket } },
                },
              }
            : {}),
          Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: options.key } } },
        },
      },
    });
  }
  const allow = (action: string, resource: string) => ({
    Effect: 'Allow',
    Action: action,
    Resource: resource,
  });
  const rootDelegation = {
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:root' },
    Action: 'kms:*',
    Resource: '*',
  };
  const get = { who: 't', principal: ROLE, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' };
  const decrypt = { who: 't', principal: ROLE, action: 'kms:Decrypt', resource: KEY };

  it('S3: an Allow in the identity policy or in the bucket policy allows; a Deny in either denies', async () => {
    const viaIdentity = lake({ identity: [allow('s3:GetObject', 'arn:aws:s3:::b/*')], key: [] });
    expect((await decide(viaIdentity, get)).decision).toBe('Allowed');
    const viaBucket = lake({
      identity: [],
      bucket: [
        { Effect: 'Allow', Principal: { AWS: ROLE }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      ],
      key: [],
    });
    expect((await decide(viaBucket, get)).decision).toBe('Allowed');
    const denied = lake({
      identity: [allow('s3:GetObject', 'arn:aws:s3:::b/*')],
      bucket: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }],
      key: [],
    });
    expect((await decide(denied, get)).decision).toBe('ExplicitlyDenied');
    expect((await decide(lake({ identity: [], key: [] }), get)).decision).toBe('ImplicitlyDenied');
  });

  it('KMS: the key policy must allow, itself or by delegating to IAM through the account root', async () => {
    const identity = [allow('kms:Decrypt', KEY)];
    expect((await decide(lake({ identity, key: [rootDelegation] }), decrypt)).decision).toBe('Allowed');
    // The identity policy alone is not enough: the key policy does not delegate.
    expect((await decide(lake({ identity, key: [] }), decrypt)).decision).toBe('ImplicitlyDenied');
    // The key policy alone is enough when it names the role.
    const direct = [{ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'kms:Decrypt', Resource: '*' }];
    expect((await decide(lake({ identity: [], key: direct }), decrypt)).decision).toBe('Allowed');
  });

  it('a service principal has no identity policy: only the resource policy lets it in', async () => {
    const call = {
      who: 't',
      principal: 'logs.cn-north-1.amazonaws.com.cn',
      action: 'kms:Encrypt',
      resource: KEY,
      context: {
        'kms:EncryptionContext:aws:logs:arn': 'arn:aws-cn:logs:cn-north-1:123456789012:log-group:g',
      },
    };
    const statement = (principal: string, account: string) => ({
      Effect: 'Allow',
      Principal: { Service: principal },
      Action: 'kms:Encrypt*',
      Resource: '*',
      Condition: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws-cn:logs:cn-north-1:${account}:*` },
      },
    });
    const decision = async (key: unknown[]) => (await decide(lake({ identity: [], key }), call)).decision;
    expect(await decision([statement('logs.cn-north-1.amazonaws.com.cn', '123456789012')])).toBe('Allowed');
    // The encryption context condition is evaluated, and the partition's suffix matters.
    expect(await decision([statement('logs.cn-north-1.amazonaws.com.cn', '999999999999')])).toBe(
      'ImplicitlyDenied',
    );
    expect(await decision([statement('logs.cn-north-1.amazonaws.com', '123456789012')])).toBe(
      'ImplicitlyDenied',
    );
    expect(await decision([rootDelegation])).toBe('ImplicitlyDenied');
  });
});
