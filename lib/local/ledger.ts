/**
 * The local ledger: a real DynamoDB API (dynalite, on LevelDB under the lake folder) on
 * 127.0.0.1, with the table the storage stack declares (lib/ledger/model.ts). The workflow's
 * DynamoDB Task states write to it; the CLI and the reconciler read it; awscli's `dynamodb`
 * commands work against its endpoint.
 *
 * LevelDB lets one process open the folder. The process that runs the lake (`local up`, or a
 * command running its own runtime) serves it and writes its endpoint to `ledger.lock`; another
 * process waits for it to finish, and with `local up` running every command uses up's endpoint.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';
import { parseConfig } from '../config.ts';
import { ATTR, LEDGER_INDEXES, ledgerTableName, STATUS_RANK } from '../ledger/model.ts';
import { type ExecutionOwner, thisProcess } from './executions.ts';
import { claimLockFile } from './lock-file.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './s3-server.ts';

/** The local table's name: the one the synthesized workflow writes to (the app's default prefix and stage). */
export function localLedgerTable(): string {
  const config = parseConfig(() => undefined);
  return ledgerTableName(config.prefix, config.stage);
}

/** A ledger endpoint this process serves or uses. */
export interface LocalLedger {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** Stops the server if this process started it (and releases the lock); destroys the client. */
  close(): Promise<void>;
}

/** A DynamoDB client for a local ledger endpoint (any credentials do; dynalite checks none). */
export function localLedgerClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** What `ledger.lock` holds while a process serves the ledger. */
interface LedgerLock extends ExecutionOwner {
  readonly endpoint: string;
}

/** The ledger is served by another process that did not finish in time. */
export class LedgerBusyError extends Error {
  override readonly name = 'LedgerBusyError';
  constructor(readonly pid: number) {
    super(
      `the lake's ledger is open in another process (pid ${pid}) that did not finish: wait for it, or run \`datalake local up\` and let every command use it`,
    );
  }
}

/** How long {@link serveLocalLedger} waits for another process to release the ledger. */
const LOCK_WAIT_MS = 120_000;

/**
 * Serves the ledger in `dir` from this process: waits while another process serves it, starts
 * dynalite on 127.0.0.1 (port 0 unless given) and creates the table when the folder is new.
 */
export async function serveLocalLedger(
  dir: string,
  options: { readonly port?: number; readonly waitMs?: number } = {},
): Promise<LocalLedger> {
  const lockFile = `${dir}.lock`;
  await mkdir(dirname(lockFile), { recursive: true });
  // Another process serving it is waited for; this process serving it already would wait for itself.
  await claimLockFile<ExecutionOwner>(
    lockFile,
    thisProcess(),
    (holder) => (holder.pid === process.pid ? new LedgerBusyError(process.pid) : 'wait'),
    { waitMs: options.waitMs ?? LOCK_WAIT_MS, timedOut: (holder) => new LedgerBusyError(holder.pid) },
  );
  // Loaded here: only the processes that serve the ledger pay for LevelDB.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await rm(lockFile, { force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const lock: LedgerLock = { ...thisProcess(), endpoint };
  await writeFile(lockFile, JSON.stringify(lock));
  const client = localLedgerClient(endpoint);
  const tableName = localLedgerTable();
  await createLedgerTable(client, tableName);
  return {
    endpoint,
    tableName,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(lockFile, { force: true });
    },
  };
}

/** A client for a ledger another process serves (`local up`'s, from its `server.json`). */
export function useLocalLedger(endpoint: string): LocalLedger {
  const client = localLedgerClient(endpoint);
  return {
    endpoint,
    tableName: localLedgerTable(),
    client,
    close: async () => client.destroy(),
  };
}

/**
 * Creates the ledger table as the storage stack declares it (keys, the two indexes projecting
 * every attribute, on demand), unless it exists.
 */
export async function createLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const S = 'S' as const;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: ATTR.key, AttributeType: S },
        { AttributeName: ATTR.version, AttributeType: S },
        { AttributeName: ATTR.dataset, AttributeType: S },
        { AttributeName: ATTR.status, AttributeType: S },
        { AttributeName: ATTR.receivedAt, AttributeType: S },
      ],
      KeySchema: [
        { AttributeName: ATTR.key, KeyType: 'HASH' },
        { AttributeName: ATTR.version, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Object.values(LEDGER_INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  );
  // dynalite makes a new table ACTIVE on a timer (createTableMs 0 still goes through CREATING),
  // and refuses writes to it until then: on a busy machine the first PutItem met "not found".
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The DynamoDB actions Step Functions' optimized integration offers, by their ASL name. */
const ACTIONS: Record<string, (input: never) => unknown> = {
  updateItem: (input) => new UpdateItemCommand(input),
  putItem: (input) => new PutItemCommand(input),
  getItem: (input) => new GetItemCommand(input),
  deleteItem: (input) => new DeleteItemCommand(input),
};

/**
 * One DynamoDB Task state's call (`arn:aws:states:::dynamodb:<action>`) against the local ledger,
 * as Step Functions makes it: the parameters are the API's request, the result its response
 * (without the SDK's metadata), and an error is named `DynamoDB.<the service's error>`, the name
 * the state's Retry and Catch match.
 */
export async function ledgerCall(
  client: DynamoDBClient,
  action: string,
  parameters: Record<string, unknown>,
): Promise<unknown> {
  const command = ACTIONS[action];
  if (!command) throw new Error(`the local runtime has no binding for dynamodb:${action}`);
  try {
    const { $metadata: _, ...response } = (await client.send(command(parameters as never) as never)) as {
      $metadata: unknown;
    };
    return response;
  } catch (error) {
    const e = error as Error & { $metadata?: unknown };
    // The service's errors (they carry the SDK's metadata); the client's own pass as they are.
    if (e.$metadata === undefined) throw error;
    const named = new Error(e.message);
    named.name = `DynamoDB.${e.name}`;
    throw named;
  }
}

/**
 * Ends as FAILED the item of an execution that no workflow state will end: its process died and its
 * object was replaced since, so it is never re-driven (LocalRuntime's recovery). What its
 * RecordFailed would have written, on condition that the item is still this execution's and not
 * terminal: a later attempt's item, or one that ended, stays as it is.
 */
export async function failAbandonedItem(
  ledger: LocalLedger,
  execution: {
    readonly name: string;
    readonly input: IngestRequest;
    readonly error: { name: string; message: string };
  },
): Promise<void> {
  const S = (value: string) => ({ S: value });
  const now = new Date().toISOString();
  try {
    await ledger.client.send(
      new UpdateItemCommand({
        TableName: ledger.tableName,
        Key: { [ATTR.key]: S(execution.input.key), [ATTR.version]: S(execution.input.version) },
        UpdateExpression:
          'SET #status = :failed, #rank = :rank, #failedAt = :now, #updatedAt = :now, #reason = :reason, #cause = :cause',
        ConditionExpression: '#execution = :execution AND #status IN (:received, :validated)',
        ExpressionAttributeNames: {
          '#status': ATTR.status,
          '#rank': ATTR.rank,
          '#failedAt': ATTR.failedAt,
          '#updatedAt': ATTR.updatedAt,
          '#reason': ATTR.reason,
          '#cause': ATTR.cause,
          '#execution': ATTR.execution,
        },
        ExpressionAttributeValues: {
          ':failed': S('FAILED'),
          ':rank': { N: String(STATUS_RANK.FAILED) },
          ':now': S(now),
          ':reason': S(execution.error.name),
          ':cause': S(execution.error.message),
          ':execution': S(execution.name),
          ':received': S('RECEIVED'),
          ':validated': S('VALIDATED'),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
