/**
 * The CLI's client settings on the wire, with the real SDK (aws-sdk-client-mock replaces `send`,
 * so its retry middleware never runs under a mock): a tiny HTTP server on 127.0.0.1 answers as
 * DynamoDB or Athena would, throttling first. Also the profile: its credentials sign the requests.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AthenaQueryInterruptedError, runAthenaQuery } from '../../../lib/aws/athena.ts';
import { AWS_MAX_ATTEMPTS, awsClientConfig } from '../../../lib/aws/stack.ts';
import { dynamoLedgerReader } from '../../../lib/ledger/dynamodb-reader.ts';

const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

/** One request as the server saw it. */
interface Seen {
  readonly target: string;
  readonly authorization: string;
  readonly body: Record<string, unknown>;
}

/** An answer: HTTP status and JSON body. */
type Answer = readonly [number, Record<string, unknown>];

let server: Server | undefined;

afterEach(async () => {
  vi.unstubAllEnvs();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/**
 * Serves an AWS JSON protocol on 127.0.0.1: `answer` maps each request (its X-Amz-Target
 * operation, and how many times that operation came before) to a status and body, or leaves it
 * unanswered (`hang`).
 */
async function serve(
  answer: (operation: string, nth: number) => Answer | 'hang',
): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const counts = new Map<string, number>();
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.split('.').pop() ?? '';
      const nth = counts.get(operation) ?? 0;
      counts.set(operation, nth + 1);
      seen.push({
        target,
        authorization: String(req.headers.authorization ?? ''),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
      });
      const answered = answer(operation, nth);
      if (answered === 'hang') return;
      const [status, body] = answered;
      res.writeHead(status, { 'content-type': String(req.headers['content-type'] ?? 'application/json') });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const DYNAMO_THROTTLE: Answer = [
  400,
  {
    __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  },
];

const ITEM = {
  objectKey: { S: 'orders/a.csv' },
  objectVersion: { S: 'v1' },
  dataset: { S: 'orders' },
  status: { S: 'CURATED' },
  receivedAt: { S: '2026-12-02T08:00:00.000Z' },
};

describe('throttling, with the real SDK and the CLI client settings', () => {
  it('DynamoDB: a throttled GetItem is retried and succeeds', async () => {
    // Prepare
    const { endpoint, seen } = await serve((_op, nth) =>
      nth === 0 ? DYNAMO_THROTTLE : [200, { Item: ITEM }],
    );
    const client = new DynamoDBClient({
      ...awsClientConfig({ region: REGION }),
      endpoint,
      credentials: CREDENTIALS,
    });

    // Act
    const item = await dynamoLedgerReader(client, 'ledger').get('orders/a.csv', 'v1');
    client.destroy();

    // Assess
    expect(item?.status).toBe('CURATED');
    expect(seen.map((s) => s.target)).toEqual(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.GetItem']);
  });

  it(`DynamoDB: a call throttled every time gives up after ${AWS_MAX_ATTEMPTS} attempts`, async () => {
    // Prepare
    const { endpoint, seen } = await serve(() => DYNAMO_THROTTLE);
    const client = new DynamoDBClient({
      ...awsClientConfig({ region: REGION }),
      endpoint,
      credentials: CREDENTIALS,
    });

    // Act
    const error = await dynamoLedgerReader(client, 'ledger')
      .get('orders/a.csv', 'v1')
      .catch((e: unknown) => e);
    client.destroy();

    // Assess
    expect((error as Error).name).toBe('ThrottlingException');
    expect(seen).toHaveLength(AWS_MAX_ATTEMPTS);
  });

  it('Athena: a StartQueryExecution refused with TooManyRequestsException is retried, and the query runs', async () => {
    // Prepare: Athena answers start (throttled once), one poll, and one page of results.
    const { endpoint, seen } = await serve((op, nth): Answer => {
      if (op === 'StartQueryExecution') {
        return nth === 0
          ? [
              400,
              {
                __type: 'TooManyRequestsException',
                Message: 'Rate exceeded',
                Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED',
              },
            ]
          : [200, { QueryExecutionId: 'q-1' }];
      }
      if (op === 'GetQueryExecution') {
        return [
          200,
          {
            QueryExecution: {
              QueryExecutionId: 'q-1',
              Status: { State: 'SUCCEEDED' },
              Statistics: { DataScannedInBytes: 42 },
            },
          },
        ];
      }
      return [
        200,
        {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'bigint' }] },
            Rows: [{ Data: [{ VarCharValue: 'n' }] }, { Data: [{ VarCharValue: '9007199254740993' }] }],
          },
        },
      ];
    });
    const client = new AthenaClient({
      ...awsClientConfig({ region: REGION }),
      endpoint,
      credentials: CREDENTIALS,
    });

    // Act
    const answer = await runAthenaQuery(client, {
      workgroup: 'wg',
      database: 'db',
      sql: 'SELECT count(*) AS n FROM orders',
      pollMs: { first: 1, max: 1 },
    });
    client.destroy();

    // Assess
    expect(answer.rows).toEqual([{ n: '9007199254740993' }]);
    const starts = seen.filter((s) => s.target === 'AmazonAthena.StartQueryExecution');
    expect(starts).toHaveLength(2);
    // The retry is the same request: the same idempotency token, so Athena starts one query.
    expect(starts[1]!.body.ClientRequestToken).toBe(starts[0]!.body.ClientRequestToken);
    expect(starts[0]!.body).toMatchObject({
      QueryString: 'SELECT count(*) AS n FROM orders',
      WorkGroup: 'wg',
      QueryExecutionContext: { Database: 'db' },
    });
  });
});

describe('Ctrl-C, with the real SDK', () => {
  // A signal not passed to the SDK leaves the poll hanging: fail in 10 s rather than the suite's 60.
  it('aborts the poll in flight and stops the query in Athena', { timeout: 10_000 }, async () => {
    // Prepare: Athena never answers the poll; the user presses Ctrl-C meanwhile.
    const { endpoint, seen } = await serve((op) => {
      if (op === 'StartQueryExecution') return [200, { QueryExecutionId: 'q-9' }];
      if (op === 'GetQueryExecution') return 'hang';
      return [200, {}];
    });
    const client = new AthenaClient({
      ...awsClientConfig({ region: REGION }),
      endpoint,
      credentials: CREDENTIALS,
    });
    const controller = new AbortController();

    // Act
    const running = runAthenaQuery(client, {
      workgroup: 'wg',
      database: 'db',
      sql: 'SELECT 1',
      pollMs: { first: 1, max: 1 },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const error = await running.catch((e: unknown) => e);
    client.destroy();

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryInterruptedError);
    expect(seen.map((s) => s.target.split('.').pop())).toEqual([
      'StartQueryExecution',
      'GetQueryExecution',
      'StopQueryExecution',
    ]);
    expect(seen[2]!.body).toEqual({ QueryExecutionId: 'q-9' });
  });
});

describe('a profile', () => {
  it("signs with the profile's credentials and takes its region", async () => {
    // Prepare: shared files with two profiles, and no credentials in the environment.
    const dir = await mkdtemp(join(tmpdir(), 'aws-profile-'));
    await writeFile(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n[lake-ops]\naws_access_key_id = AKIDLAKEOPS\naws_secret_access_key = s\n',
    );
    await writeFile(
      join(dir, 'config'),
      '[default]\nregion = us-east-1\n\n[profile lake-ops]\nregion = eu-central-1\n',
    );
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
    ]) {
      vi.stubEnv(name, undefined);
    }
    const { endpoint, seen } = await serve(() => [200, { Item: ITEM }]);
    const client = new DynamoDBClient({ ...awsClientConfig({ profile: 'lake-ops' }), endpoint });

    // Act
    await dynamoLedgerReader(client, 'ledger').get('orders/a.csv', 'v1');
    const region = await client.config.region();
    client.destroy();
    await rm(dir, { recursive: true, force: true });

    // Assess
    expect(region).toBe('eu-central-1');
    expect(seen[0]!.authorization).toContain('Credential=AKIDLAKEOPS/');
    expect(seen[0]!.authorization).toContain('/eu-central-1/dynamodb/');
  });
});
