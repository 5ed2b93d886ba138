/**
 * Edges of the ingest workflow and the lake's key and buckets that the broader lake and security
 * tests leave open: the exact ASL of the Fail, Validate, Glue and CommitToTable states and of
 * the Choice conditions, the key's description and service statements, and the lifecycle days the
 * storage stack falls back to when the context leaves them out.
 */
import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { STATE } from '../../lib/constructs/ingest-workflow.ts';
import { definitionFromTemplate } from '../../lib/workflow/definition.ts';
import { list, render, resourceNamed } from './cfn.ts';
import { buildTestLake, setUpOrFailEach, synthTemplates, TEST_CONTEXT } from './synth.ts';

type State = Record<string, unknown>;
type Statement = {
  Sid?: string;
  Effect: string;
  Principal: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Lifecycle days the README's configuration table documents as defaults. */
const README = readFileSync('README.md', 'utf8');
const documentedDefault = (key: string): number => {
  const row = new RegExp(`^\\s*\\|\\s*\`${key}\`\\s*\\|\\s*(\\d+)\\s*\\|`, 'm').exec(README);
  if (!row) throw new Error(`README documents no default for ${key}`);
  return Number(row[1]);
};

/** Other values for them, inside the ranges lib/config.ts accepts. */
const OVERRIDES = { failureTransitionDays: 180, athenaResultsExpiryDays: 7 };

let storage: Template;
let pipeline: Template;
let overridden: Template;

setUpOrFailEach(async () => {
  ({ storage, pipeline } = await synthTemplates());
  expect(Object.keys(TEST_CONTEXT)).not.toContain('failureTransitionDays');
  expect(Object.keys(TEST_CONTEXT)).not.toContain('athenaResultsExpiryDays');
  overridden = Template.fromStack((await buildTestLake({ ...TEST_CONTEXT, ...OVERRIDES })).storage);
});

/** The definition with every reference rendered as `<LogicalId.Attr>`. */
const states = () =>
  (definitionFromTemplate(pipeline.toJSON(), (ref) => render(ref)) as { States: Record<string, State> })
    .States;

describe('the ingest workflow, state by state', () => {
  it('fails with IngestFailed and the caught error’s cause', () => {
    expect(states()[STATE.failed]).toEqual({
      Type: 'Fail',
      Error: 'IngestFailed',
      CausePath: '$.error.Cause',
    });
  });

  it('hands Validate the whole request and the execution’s name', () => {
    expect(states()[STATE.validate]!.Parameters).toEqual({
      'request.$': '$',
      'executionName.$': '$$.Execution.Name',
    });
  });

  it('starts the slices with done: false and loops while a slice answers done: false', () => {
    expect(states()[STATE.planSlices]!.Parameters).toMatchObject({ done: false });
    expect(states()[STATE.moreSlices]).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.validation.done', BooleanEquals: false, Next: STATE.validateSlice }],
      Default: STATE.isValid,
    });
  });

  it('converts only what validated as valid', () => {
    expect(states()[STATE.isValid]).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.validation.valid', BooleanEquals: true, Next: STATE.recordValidated }],
      Default: STATE.notifyRejected,
    });
  });

  it('keeps the Glue run’s id, state and seconds under $.conversion, and names the engine for the ledger', () => {
    const convert = states()[STATE.convert]!;
    expect(convert.ResultSelector).toEqual({
      'id.$': '$.Id',
      'state.$': '$.JobRunState',
      'seconds.$': '$.ExecutionTime',
      engine: 'glue',
    });
    expect(convert.ResultPath).toBe('$.conversion');
  });

  it('sends the file’s commit with its task token, grouped by dataset, one deduplication id per attempt', () => {
    const commit = states()[STATE.commit]!;
    expect(commit.Resource).toBe('arn:<AWS::Partition>:states:::sqs:sendMessage.waitForTaskToken');
    const parameters = commit.Parameters as Record<string, unknown>;
    expect(parameters.MessageBody).toEqual({
      'taskToken.$': '$$.Task.Token',
      input: {
        'dataset.$': '$.validation.dataset',
        'runId.$': '$$.Execution.Name',
        'key.$': '$.key',
        'version.$': '$.version',
        'ingestDate.$': '$.validation.ingestDate',
        'rows.$': '$.validation.rows',
        'request.$': "$.validation.jobArguments['--commit-request']",
        // The day folder of the table version the run was validated for (issue 16): the
        // committer's table. From the job arguments, which every Validate output since issue 15 has.
        'target.$': "$.validation.jobArguments['--target']",
      },
    });
    expect(parameters['MessageGroupId.$']).toBe('$.validation.dataset');
    expect(parameters['MessageDeduplicationId.$']).toBe(
      "States.Format('{}-{}', $$.Execution.Name, $$.State.RetryCount)",
    );
    expect(commit.ResultPath).toBe('$.commit');
  });
});

/** The lake key's policy statements. */
const keyStatements = (t: Template) =>
  (
    resourceNamed(t, 'AWS::KMS::Key', 'BucketsKey').Properties.KeyPolicy as {
      Statement: Statement[];
    }
  ).Statement;
const servicePrincipal = (s: Statement) =>
  list((s.Principal as { Service?: unknown }).Service).map((p) => render(p));

describe('the lake key', () => {
  it('says what it encrypts (operators read it in the console)', () => {
    expect(resourceNamed(storage, 'AWS::KMS::Key', 'BucketsKey').Properties.Description).toBe(
      'Encrypts the CSV data lake: buckets, topics, queues, logs and Glue output',
    );
  });

  it('lets CloudWatch Logs of this region use it for this account’s log groups only', () => {
    const logs = keyStatements(storage).filter((s) => servicePrincipal(s).some((p) => p.startsWith('logs.')));
    expect(logs).toHaveLength(1);
    const [s] = logs;
    // The URL suffix follows the partition: `amazonaws.com.cn` in China (review L5).
    expect(servicePrincipal(s!)).toEqual(['logs.<AWS::Region>.<AWS::URLSuffix>']);
    expect({ effect: s!.Effect, actions: list(s!.Action).sort(), resource: s!.Resource }).toEqual({
      effect: 'Allow',
      actions: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      resource: '*',
    });
    expect(Object.keys(s!.Condition ?? {})).toEqual(['ArnLike']);
    const arnLike = s!.Condition!.ArnLike!;
    expect(Object.keys(arnLike)).toEqual(['kms:EncryptionContext:aws:logs:arn']);
    expect(render(arnLike['kms:EncryptionContext:aws:logs:arn'])).toBe(
      'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:*',
    );
  });

  it('lets S3 deliver this account’s event notifications to encrypted topics', () => {
    const s3 = keyStatements(storage).filter((s) => servicePrincipal(s).includes('s3.amazonaws.com'));
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
      // Added by CDK for the bucket notifications to the encrypted zone-events topic: no condition.
      {
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
      },
    ]);
  });
});

/** A lifecycle rule of a zone bucket, by rule id. */
const rule = (t: Template, bucketId: string, ruleId: string) =>
  (
    resourceNamed(t, 'AWS::S3::Bucket', bucketId).Properties.LifecycleConfiguration as {
      Rules: { Id: string }[];
    }
  ).Rules.find((r) => r.Id === ruleId);

describe('lifecycle days', () => {
  it('default to the README’s values when the context leaves them out', () => {
    expect(rule(storage, 'BucketsFailure', 'to-infrequent-access')).toEqual({
      Id: 'to-infrequent-access',
      Status: 'Enabled',
      Transitions: [
        { StorageClass: 'STANDARD_IA', TransitionInDays: documentedDefault('failureTransitionDays') },
      ],
    });
    expect(rule(storage, 'BucketsAthenaResults', 'expire-results')).toEqual({
      Id: 'expire-results',
      Status: 'Enabled',
      ExpirationInDays: documentedDefault('athenaResultsExpiryDays'),
    });
  });

  it('follow the context when it sets them', () => {
    expect(rule(overridden, 'BucketsFailure', 'to-infrequent-access')).toMatchObject({
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: OVERRIDES.failureTransitionDays }],
    });
    expect(rule(overridden, 'BucketsAthenaResults', 'expire-results')).toMatchObject({
      ExpirationInDays: OVERRIDES.athenaResultsExpiryDays,
    });
  });
});
