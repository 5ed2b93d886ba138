/**
 * The AWS managed policies the lake attaches, as AWS publishes them (the IAM simulation needs the
 * documents; CloudFormation only names them). Keyed by their `arn:aws:` ARN (the partition is
 * normalised by the reader).
 */
import type { PolicyDocument } from './lake-policies.ts';

export const AWS_MANAGED_POLICIES: Record<string, { source: string; document: PolicyDocument }> = {
  // Attached by CDK to the role of its S3 bucket-notifications custom resource handler.
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    source:
      'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html (version 1)',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: '*',
        },
      ],
    },
  },
};
