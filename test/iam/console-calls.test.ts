/**
 * The console API's roles (issue 17) against the calls each function makes, evaluated on the
 * synthesized policies of the lake with `console: true`: every call a route needs is allowed, in a
 * commercial and a China Region; the upload role can write only `landing/<dataset>/`, the query
 * role only read (and write Athena's results), the read role nothing. Prints the verdict table:
 * route → function → call → verdict.
 */
import { describe, expect, it } from 'vitest';
import { API_ROUTES, type RouteGroup } from '../../lib/console/contract.ts';
import { LEDGER_INDEXES } from '../../lib/ledger/model.ts';
import { setUpOrFailEach } from '../infra/synth.ts';
import { type AwsEnvironment, type CfnTemplate, CHINA_ENV, TEST_ENV } from './cfn-resolve.ts';
import { cliCalls, cliTargets } from './cli-calls.ts';
import type { LakePolicies } from './lake-policies.ts';
import { arnsOf, type LakeResources, lakeResources } from './lake-resources.ts';
import {
  type Decision,
  decide,
  describeCall,
  type IamCall,
  lakePolicies,
  synthLakeTemplates,
} from './simulate.ts';

let templates: Record<string, CfnTemplate>;
let stacks: { storage: string; pipeline: string; console: string };
let datasets: string[];

setUpOrFailEach(async () => {
  const synth = await synthLakeTemplates({ console: true });
  if (!synth.console) throw new Error('console: true built no console stack');
  templates = synth.templates;
  stacks = {
    storage: synth.storage.stackName,
    pipeline: synth.pipeline.stackName,
    console: synth.console.stackName,
  };
  datasets = synth.datasets.map((d) => d.name);
});

/** A call of one route group's function, allowed or to be refused. */
type GroupCall = IamCall & { readonly group: RouteGroup; readonly expect: 'Allowed' | 'Denied' };

/** The console functions' roles, by group (construct ids ApiRead, ApiUpload, ApiQuery). */
const roles = (lake: LakePolicies): Record<RouteGroup, string> => ({
  read: lake.role('ApiReadRole').arn,
  upload: lake.role('ApiUploadRole').arn,
  query: lake.role('ApiQueryRole').arn,
});

/** Every call of the three functions, and what each must never be allowed, with concrete names. */
function consoleCalls(env: AwsEnvironment): { lake: LakePolicies; calls: GroupCall[] } {
  const lake = lakePolicies(templates, env);
  const res: LakeResources = lakeResources(lake, stacks.storage, stacks.pipeline);
  const targets = cliTargets(lake, stacks, { prefix: 'csvlake', stage: 'dev' });
  const role = roles(lake);
  const { arn, object, bucket, via } = arnsOf(res);
  const table = arn('dynamodb', `table/${targets.ledgerTable}`);
  const copy = 'orders/ingest_date=2026-12-02/2026-12-02.0a1b2c3d.csv';
  const calls: GroupCall[] = [];
  const add = (
    group: RouteGroup,
    expect: GroupCall['expect'],
    action: string,
    resource: string,
    extra: Partial<IamCall> = {},
  ) => calls.push({ group, expect, who: `api-${group}`, principal: role[group], action, resource, ...extra });

  // read: the ledger (files by dataset or status through the indexes, a key's versions, one
  // item), a rejected file's report, its JSON Lines parts and its copy (the offending records).
  for (const index of Object.values(LEDGER_INDEXES))
    add('read', 'Allowed', 'dynamodb:Query', `${table}/index/${index.name}`);
  add('read', 'Allowed', 'dynamodb:Query', table);
  add('read', 'Allowed', 'dynamodb:GetItem', table);
  for (const key of [copy, `${copy}.errors.json`, `${copy}.errors.00001.jsonl`])
    add('read', 'Allowed', 's3:GetObject', object('failure', key));
  add('read', 'Allowed', 's3:ListBucket', bucket('failure'), {
    why: 'a missing report is NoSuchKey, not 403',
  });
  for (const service of ['s3', 'dynamodb'])
    add('read', 'Allowed', 'kms:Decrypt', res.keyArn, { context: via(service) });

  // upload: the presigned POST is signed with the function's role, so S3 authorizes the browser's
  // POST as its PutObject, and asks KMS for a data key with the same credentials.
  for (const name of datasets)
    add('upload', 'Allowed', 's3:PutObject', object('landing', `${name}/2026-12-02.csv`));
  add('upload', 'Allowed', 'kms:GenerateDataKey', res.keyArn, { context: via('s3') });

  // query: the same calls as `datalake query --aws` (Athena in the workgroup; the catalog, the
  // curated objects, the results and the key as Athena uses them with the caller's credentials).
  for (const c of cliCalls(res, targets, role.query).filter((c) => c.command === 'query')) {
    calls.push({ ...c, group: 'query', expect: 'Allowed', who: 'api-query' });
  }

  // Refused: the upload role writes declared dataset folders of landing only, and reads nothing.
  for (const key of ['undeclared/x.csv', 'x.csv', 'ordersx/x.csv'])
    add('upload', 'Denied', 's3:PutObject', object('landing', key), { why: 'declared dataset folders only' });
  add('upload', 'Denied', 's3:PutObject', object('raw', `${copy}`), { why: 'raw is the workflow’s' });
  add('upload', 'Denied', 's3:PutObject', object('curated', 'orders/x.parquet'), {
    why: 'curated is the workflow’s',
  });
  for (const zone of ['landing', 'raw', 'failure', 'curated', 'results'] as const)
    add('upload', 'Denied', 's3:GetObject', object(zone, 'orders/x.csv'), {
      why: 'the upload role reads nothing',
    });
  add('upload', 'Denied', 's3:DeleteObject', object('landing', 'orders/x.csv'), { why: 'no deletes' });
  add('upload', 'Denied', 'kms:Decrypt', res.keyArn, {
    context: via('s3'),
    why: 'a single-part upload needs no decrypt',
  });
  add('upload', 'Denied', 'kms:GenerateDataKey', res.keyArn, { why: 'the key only through S3' });
  add('upload', 'Denied', 'dynamodb:GetItem', table, { why: 'the upload role does not read the ledger' });

  // Refused: the query role reads; it writes only Athena's results under the workgroup's prefix.
  for (const zone of ['curated', 'landing', 'raw', 'failure'] as const)
    add('query', 'Denied', 's3:PutObject', object(zone, 'orders/x.parquet'), {
      why: 'the query role writes no zone',
    });
  add('query', 'Denied', 's3:PutObject', object('results', 'elsewhere/x.csv'), {
    why: 'results under the workgroup prefix only',
  });
  add('query', 'Denied', 's3:DeleteObject', object('curated', 'orders/x.parquet'), { why: 'no deletes' });
  for (const action of ['glue:UpdateTable', 'glue:DeleteTable', 'glue:CreateTable', 'glue:DeleteDatabase'])
    add('query', 'Denied', action, arn('glue', `table/${targets.database}/orders`), {
      why: 'the catalog is read only',
    });
  add('query', 'Denied', 'athena:StartQueryExecution', arn('athena', 'workgroup/primary'), {
    why: 'another workgroup has no scan cap and no enforced results location',
  });
  for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'])
    add('query', 'Denied', action, table, { why: 'the query role does not touch the ledger' });
  add('query', 'Denied', 's3:GetObject', object('failure', `${copy}.errors.json`), {
    why: 'failure is the read role’s',
  });

  // Refused: the read role writes nothing and reads only the ledger and the failure zone.
  for (const action of [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ])
    add('read', 'Denied', action, table, { why: 'the read role writes nothing' });
  add('read', 'Denied', 'dynamodb:Scan', table, { why: 'the read role reads through keys and indexes' });
  for (const action of ['s3:PutObject', 's3:DeleteObject'])
    add('read', 'Denied', action, object('failure', copy), { why: 'the read role writes nothing' });
  add('read', 'Denied', 's3:PutObject', object('landing', 'orders/x.csv'), {
    why: 'uploads are the upload role’s',
  });
  add('read', 'Denied', 's3:GetObject', object('raw', copy), {
    why: 'raw copies are not the console’s to read',
  });
  add('read', 'Denied', 's3:GetObject', object('curated', 'orders/x.parquet'), {
    why: 'data goes through the query route',
  });
  add('read', 'Denied', 'kms:GenerateDataKey', res.keyArn, {
    context: via('s3'),
    why: 'the read role encrypts nothing',
  });
  add('read', 'Denied', 'athena:StartQueryExecution', arn('athena', `workgroup/${targets.workgroup}`), {
    why: 'queries are the query role’s',
  });
  return { lake, calls };
}

/** The verdict of every call, with the ones that are not what they must be. */
async function verdicts(env: AwsEnvironment) {
  const { lake, calls } = consoleCalls(env);
  const rows: { call: GroupCall; decision: Decision }[] = [];
  for (const call of calls) rows.push({ call, decision: (await decide(lake, call)).decision });
  const wrong = rows
    .filter(({ call, decision }) =>
      call.expect === 'Allowed' ? decision !== 'Allowed' : decision === 'Allowed',
    )
    .map(
      ({ call, decision }) =>
        `${describeCall(call)}${call.why ? ` [${call.why}]` : ''} → ${decision}, expected ${call.expect}`,
    );
  return { rows, wrong };
}

describe("the console API's roles", () => {
  for (const env of [TEST_ENV, CHINA_ENV]) {
    it(`allow every call a route makes and refuse the rest (${env.partition}, ${env.region})`, async () => {
      const { rows, wrong } = await verdicts(env);
      expect(wrong).toEqual([]);
      const allowed = rows.filter((r) => r.call.expect === 'Allowed');
      console.info(
        `IAM console ${env.partition}: ${allowed.length} calls allowed, ${rows.length - allowed.length} forbidden calls refused`,
      );
      // Each group has calls both ways: a group without a refused call would prove nothing.
      for (const group of ['read', 'upload', 'query'] as const) {
        expect(allowed.filter((r) => r.call.group === group).length, group).toBeGreaterThan(1);
        expect(
          rows.filter((r) => r.call.group === group && r.call.expect === 'Denied').length,
          group,
        ).toBeGreaterThan(5);
      }
    });
  }

  it('let API Gateway invoke each function for its own routes only', async () => {
    const lake = lakePolicies(templates, TEST_ENV);
    const api = lake.names(stacks.console, 'AWS::ApiGatewayV2::Api').ref;
    const fn = (prefix: string) =>
      lake.names(stacks.console, 'AWS::Lambda::Function', prefix).attributes.Arn!;
    const functions: Record<RouteGroup, string> = {
      read: fn('ApiRead'),
      upload: fn('ApiUpload'),
      query: fn('ApiQuery'),
    };
    const invoke = (group: RouteGroup, route: (typeof API_ROUTES)[number]) => ({
      who: 'API Gateway',
      principal: 'apigateway.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: functions[group],
      context: {
        'aws:SourceArn': `arn:aws:execute-api:${TEST_ENV.region}:${TEST_ENV.account}:${api}/$default/${route.method}${route.path}`,
        'aws:SourceAccount': TEST_ENV.account,
      },
    });
    const table: string[] = [];
    for (const route of API_ROUTES) {
      const own = await decide(lake, invoke(route.group, route));
      expect(own.decision, `${route.method} ${route.path}`).toBe('Allowed');
      for (const other of (['read', 'upload', 'query'] as const).filter((g) => g !== route.group)) {
        expect((await decide(lake, invoke(other, route))).decision, `${route.path} → ${other}`).not.toBe(
          'Allowed',
        );
      }
      table.push(`${route.method} ${route.path} → api-${route.group}: invoke ${own.decision}`);
    }
    console.info(table.join('\n'));
  });

  it("let the deploy-time CORS calls change the landing bucket's CORS and the API only", async () => {
    const lake = lakePolicies(templates, TEST_ENV);
    const res = lakeResources(lake, stacks.storage, stacks.pipeline);
    const { bucket } = arnsOf(res);
    const provider = lake.role('AWS679f53fac002430cb0da5b7982bd2287').arn;
    const api = lake.names(stacks.console, 'AWS::ApiGatewayV2::Api').ref;
    const apiArn = `arn:aws:apigateway:${TEST_ENV.region}::/apis/${api}`;
    const verdict = async (action: string, resource: string) =>
      (await decide(lake, { who: 'AwsCustomResource', principal: provider, action, resource })).decision;
    // PutBucketCors and DeleteBucketCors are both s3:PutBucketCORS.
    expect(await verdict('s3:PutBucketCORS', bucket('landing'))).toBe('Allowed');
    for (const zone of ['raw', 'failure', 'curated', 'results'] as const)
      expect(await verdict('s3:PutBucketCORS', bucket(zone)), zone).not.toBe('Allowed');
    for (const action of ['s3:PutBucketPolicy', 's3:PutBucketAcl', 's3:PutLifecycleConfiguration'])
      expect(await verdict(action, bucket('landing')), action).not.toBe('Allowed');
    // UpdateApi is apigateway:PATCH on the API. iam-simulate 0.1 knows no resource type for an
    // HTTP API's ARN (`/apis/<id>`: "no.resource.types"), so its grant is read, not simulated:
    // the role's only API Gateway statement is PATCH on this API.
    const apiStatements = lake
      .role('AWS679f53fac002430cb0da5b7982bd2287')
      .identityPolicies.flatMap((p) => p.policy.Statement)
      .filter((st) => JSON.stringify(st.Action).includes('apigateway:'));
    expect(apiStatements).toEqual([{ Action: 'apigateway:PATCH', Effect: 'Allow', Resource: apiArn }]);
  });

  it('print the verdict table: route → function → calls → verdict', async () => {
    const { rows } = await verdicts(TEST_ENV);
    const groups = ['read', 'upload', 'query'] as const;
    const lines = groups.flatMap((group) => [
      ...API_ROUTES.filter((r) => r.group === group).map((r) => `${r.method} ${r.path} → api-${group}`),
      ...rows
        .filter((r) => r.call.group === group)
        .map(({ call, decision }) => {
          const via = call.context?.['kms:ViaService'];
          const resource = call.resource.replace(/^arn:aws:/, '');
          const verb = call.expect === 'Allowed' ? 'needs  ' : 'refuses';
          return `    ${verb} ${call.action} ${resource}${via ? ` via ${via}` : ''} → ${decision}`;
        }),
    ]);
    console.info(lines.join('\n'));
    expect(lines.length).toBeGreaterThan(API_ROUTES.length * 5);
  });
});
