/**
 * The console API's three Lambda adapters: an API Gateway HTTP API (payload 2.0) event in, the
 * core with the function's own route group, the SDK calls it makes (mocked), and a JSON answer
 * that no cache keeps; a function whose environment is incomplete fails at its cold start,
 * naming every missing variable.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  ApiErrorBody,
  FilesResponse,
  QueryPage,
  UploadResponse,
} from '../../../lib/console/contract.ts';

const athena = mockClient(AthenaClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

beforeEach(() => {
  vi.resetModules();
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  vi.stubEnv('DATASETS_DIR', 'datasets');
});
afterEach(() => {
  athena.reset();
  dynamodb.reset();
  s3.reset();
  vi.unstubAllEnvs();
});

/**
 * The claims of a Cognito user pool ACCESS token (what the console's page sends), as the HTTP API's
 * JWT authorizer passes them on (every value a string): `sub` and `username`, no `email` (that is
 * the ID token's).
 */
function accessTokenClaims(username: string): Record<string, string> {
  return {
    sub: 'a1b2c3d4-0000-4000-8000-000000000001',
    'cognito:groups': '[]',
    iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example',
    version: '2',
    client_id: '5exampleclientid',
    origin_jti: 'f0e1d2c3-0000-4000-8000-000000000002',
    event_id: 'e0e1d2c3-0000-4000-8000-000000000003',
    token_use: 'access',
    scope: 'openid email',
    auth_time: '1764700000',
    exp: '1764700900',
    iat: '1764700000',
    jti: 'j0e1d2c3-0000-4000-8000-000000000004',
    username,
  };
}

/** An HTTP API event as API Gateway sends it behind the JWT authorizer. */
function event(
  method: string,
  rawPath: string,
  options: {
    query?: Record<string, string>;
    body?: unknown;
    base64?: boolean;
    stage?: string;
    claims?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString: '',
    headers: {},
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(text === undefined
      ? {}
      : {
          body: options.base64 ? Buffer.from(text).toString('base64') : text,
          isBase64Encoded: !!options.base64,
        }),
    requestContext: {
      stage: options.stage ?? '$default',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: { claims: options.claims ?? accessTokenClaims('ann'), scopes: null },
      },
    },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

const json = <T>(result: { body?: string }) => JSON.parse(result.body ?? '') as T;

describe('api-read', () => {
  beforeEach(() => {
    vi.stubEnv('LEDGER_TABLE', 'lake-ledger');
  });

  it('GET /api/files: queries the ledger table and answers JSON with no-store', async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    const { handler } = await import('../../../lambdas/api-read/handler.ts');

    // Act
    const result = await handler(event('GET', '/api/files', { query: { status: 'CURATED', limit: '5' } }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(json<FilesResponse>(result)).toEqual({ files: [] });
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'lake-ledger',
      IndexName: 'by-status',
      ExpressionAttributeValues: { ':pk': 'CURATED' },
      Limit: 6,
    });
  });

  it("serves no other group's route, and strips a named stage from the path", async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    const { handler } = await import('../../../lambdas/api-read/handler.ts');

    // Act
    const upload = await handler(event('POST', '/api/uploads', { body: {} }));
    const staged = await handler(event('GET', '/prod/api/files', { stage: 'prod' }));

    // Assess
    expect(upload.statusCode).toBe(404);
    expect(staged.statusCode).toBe(200);
  });

  it('a downstream failure is a 502 with a message and no stack', async () => {
    // Prepare
    dynamodb.on(QueryCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const { handler } = await import('../../../lambdas/api-read/handler.ts');

    // Act
    const result = await handler(event('GET', '/api/files'));

    // Assess
    expect(result.statusCode).toBe(502);
    expect(result.body).toContain('ThrottlingException');
    expect(result.body).not.toContain('.ts:');
  });

  it('a dataset load that fails at cold start answers the JSON error body (500, what failed, no stack) and is logged', async () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'ERROR');
    vi.stubEnv('DATASETS_DIR', 'no-such-datasets-folder');
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const { handler } = await import('../../../lambdas/api-read/handler.ts');

    // Act
    const result = await handler(event('GET', '/api/files'));
    vi.restoreAllMocks();

    // Assess
    expect(result.statusCode).toBe(500);
    expect(result.headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    const { error } = json<ApiErrorBody>(result);
    expect(error.code).toBe('internal');
    expect(error.message).toContain('could not load its dataset declarations');
    expect(error.message).toContain('cannot read the datasets folder "no-such-datasets-folder"');
    expect(result.body).not.toMatch(/\.ts:\d|\n\s+at /);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'console api could not start', path: '/api/files' }),
    );
  });

  it('fails at its cold start naming every missing variable', async () => {
    vi.stubEnv('LEDGER_TABLE', '');
    vi.stubEnv('DATASETS_DIR', '');
    await expect(import('../../../lambdas/api-read/handler.ts')).rejects.toThrow(
      'missing environment variables: DATASETS_DIR, LEDGER_TABLE',
    );
  });
});

describe('api-upload', () => {
  beforeEach(() => {
    vi.stubEnv('LANDING_BUCKET', 'lake-landing');
    vi.stubEnv('MAX_UPLOAD_BYTES', '1000');
  });

  it("signs a POST for the landing bucket, with the access token's username as the uploader (base64 body)", async () => {
    // Prepare
    const { handler } = await import('../../../lambdas/api-upload/handler.ts');
    const sha256 = Buffer.alloc(32, 7).toString('base64');

    // Act
    const result = await handler(
      event('POST', '/api/uploads', {
        body: { dataset: 'orders', name: 'a.csv', size: 10, sha256 },
        base64: true,
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    const body = json<UploadResponse>(result);
    expect(body.url).toContain('lake-landing');
    expect(body.key).toBe('orders/a.csv');
    expect(body.maxBytes).toBe(1000);
    expect(body.fields).toMatchObject({ key: 'orders/a.csv', 'x-amz-meta-uploaded-by': 'ann' });
    const policy = JSON.parse(Buffer.from(body.fields.Policy!, 'base64').toString('utf8')) as {
      conditions: unknown[];
    };
    expect(policy.conditions).toContainEqual({ bucket: 'lake-landing' });
    expect(policy.conditions).toContainEqual(['eq', '$x-amz-meta-uploaded-by', 'ann']);
  });

  it('an uploader that is not ASCII goes into the metadata as an RFC 2047 word; without a username, the sub', async () => {
    // Prepare
    const { handler } = await import('../../../lambdas/api-upload/handler.ts');
    const body = {
      dataset: 'orders',
      name: 'a.csv',
      size: 10,
      sha256: Buffer.alloc(32, 7).toString('base64'),
    };
    const { username: _, ...noUsername } = accessTokenClaims('x');

    // Act
    const accented = await handler(
      event('POST', '/api/uploads', { body, claims: accessTokenClaims('zoë 山田') }),
    );
    const subOnly = await handler(event('POST', '/api/uploads', { body, claims: noUsername }));

    // Assess
    const uploader = json<UploadResponse>(accented).fields['x-amz-meta-uploaded-by']!;
    expect(uploader).toMatch(/^[\x20-\x7e]+$/);
    const word = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(uploader);
    expect(Buffer.from(word?.[1] ?? '', 'base64').toString('utf8')).toBe('zoë 山田');
    expect(json<UploadResponse>(subOnly).fields['x-amz-meta-uploaded-by']).toBe(noUsername.sub);
  });

  it('refuses a file over MAX_UPLOAD_BYTES with 413', async () => {
    const { handler } = await import('../../../lambdas/api-upload/handler.ts');
    const sha256 = Buffer.alloc(32).toString('base64');
    const result = await handler(
      event('POST', '/api/uploads', { body: { dataset: 'orders', name: 'a.csv', size: 1001, sha256 } }),
    );
    expect(result.statusCode).toBe(413);
  });

  it('fails at its cold start on a MAX_UPLOAD_BYTES that is no size', async () => {
    vi.stubEnv('MAX_UPLOAD_BYTES', 'lots');
    await expect(import('../../../lambdas/api-upload/handler.ts')).rejects.toThrow(
      'environment variable MAX_UPLOAD_BYTES is "lots": give a positive whole number',
    );
  });
});

describe('api-query', () => {
  beforeEach(() => {
    vi.stubEnv('ATHENA_WORKGROUP', 'lake-wg');
    vi.stubEnv('GLUE_DATABASE', 'lake_db');
    vi.stubEnv('MAX_QUERY_ROWS', '3');
  });

  it('starts the SELECT in the workgroup and database', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    const { handler } = await import('../../../lambdas/api-query/handler.ts');

    // Act
    const result = await handler(event('POST', '/api/queries', { body: { sql: 'SELECT 1' } }));

    // Assess
    expect(json(result)).toEqual({ id: 'q-1', state: 'QUEUED' });
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT 1',
      WorkGroup: 'lake-wg',
      QueryExecutionContext: { Database: 'lake_db' },
    });
  });

  it('refuses a statement that is not a SELECT without calling Athena', async () => {
    const { handler } = await import('../../../lambdas/api-query/handler.ts');
    const result = await handler(event('POST', '/api/queries', { body: { sql: 'DELETE FROM orders' } }));
    expect(result.statusCode).toBe(400);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('a page keeps both columns of one name (SELECT a.id, b.id), as id and id_2 in columns and rows', async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const id = { Name: 'id', Type: 'integer' };
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [id, id] },
        Rows: [
          { Data: [{ VarCharValue: 'id' }, { VarCharValue: 'id' }] },
          { Data: [{ VarCharValue: '1' }, { VarCharValue: '2' }] },
        ],
      },
    });
    const { handler } = await import('../../../lambdas/api-query/handler.ts');

    // Act
    const page = json<QueryPage>(await handler(event('GET', '/api/queries/q-1')));

    // Assess
    expect(page.columns).toEqual(['id', 'id_2']);
    expect(page.rows).toEqual([{ id: 1, id_2: 2 }]);
  });

  it('pages results by NextToken, values converted as the CLI does, cut at MAX_QUERY_ROWS', async () => {
    // Prepare: 2 rows a page (the first page's first row is the header), 4 rows in all.
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1234 } },
    });
    const meta = {
      ColumnInfo: [
        { Name: 'n', Type: 'bigint' },
        { Name: 'ok', Type: 'boolean' },
      ],
    };
    const row = (n: string) => ({ Data: [{ VarCharValue: n }, { VarCharValue: 'true' }] });
    athena
      .on(GetQueryResultsCommand, { NextToken: undefined })
      .resolves({
        ResultSet: {
          ResultSetMetadata: meta,
          Rows: [{ Data: [{ VarCharValue: 'n' }, { VarCharValue: 'ok' }] }, row('1'), row('2')],
        },
        NextToken: 't1',
      })
      .on(GetQueryResultsCommand, { NextToken: 't1' })
      .resolves({ ResultSet: { ResultSetMetadata: meta, Rows: [row('3')] }, NextToken: 't2' });
    const { handler } = await import('../../../lambdas/api-query/handler.ts');
    const { QUERY_PAGE_ROWS } = await import('../../../lib/console/api.ts');

    // Act
    const first = json<QueryPage>(await handler(event('GET', '/api/queries/q-1')));
    const second = json<QueryPage>(
      await handler(event('GET', '/api/queries/q-1', { query: { cursor: first.next! } })),
    );

    // Assess
    expect(first).toMatchObject({
      state: 'SUCCEEDED',
      columns: ['n', 'ok'],
      rows: [
        { n: '1', ok: true },
        { n: '2', ok: true },
      ],
    });
    expect(first.scannedBytes).toBe(1234);
    expect(first.costUsd).toBeGreaterThan(0);
    // The cap of 3 rows: the second page has one, and says the results go on.
    expect(second.rows).toEqual([{ n: '3', ok: true }]);
    expect(second.truncated).toBe(true);
    expect(second.next).toBeUndefined();
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 1, {
      QueryExecutionId: 'q-1',
      MaxResults: Math.min(3, QUERY_PAGE_ROWS) + 1,
    });
  });

  it('a FAILED query answers its state and reason; an unknown id is 404', async () => {
    // Prepare
    athena
      .on(GetQueryExecutionCommand, { QueryExecutionId: 'q-2' })
      .resolves({
        QueryExecution: {
          Status: { State: 'FAILED', StateChangeReason: "line 1:15: Table 'x' does not exist" },
        },
      })
      .on(GetQueryExecutionCommand, { QueryExecutionId: 'nope' })
      .rejects(
        Object.assign(new Error('QueryExecution nope was not found'), { name: 'InvalidRequestException' }),
      );
    const { handler } = await import('../../../lambdas/api-query/handler.ts');

    // Act
    const failed = json<QueryPage>(await handler(event('GET', '/api/queries/q-2')));
    const unknown = await handler(event('GET', '/api/queries/nope'));

    // Assess
    expect(failed).toEqual({ id: 'q-2', state: 'FAILED', message: "line 1:15: Table 'x' does not exist" });
    expect(unknown.statusCode).toBe(404);
  });
});
