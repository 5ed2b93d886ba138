/**
 * The ledger read from DynamoDB: the deployed table, or dynalite locally (same API, same table).
 * Every listing is newest first by `receivedAt`, through the two indexes of lib/ledger/model.ts.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  ATTR,
  fromAttributes,
  LEDGER_INDEXES,
  LEDGER_STATUSES,
  type LedgerItem,
  type LedgerQuery,
  type LedgerReader,
} from './model.ts';

/**
 * A {@link LedgerReader} on `tableName`. The client stays the caller's: the reader neither
 * configures nor destroys it.
 */
export function dynamoLedgerReader(
  client: DynamoDBClient,
  tableName: string,
  options: {
    /**
     * Strongly consistent `get`s: the CLI reads an item right after the workflow wrote it (`put`
     * following a file). The hourly reconciler does not need them: a status written since it read
     * is seen by the next sweep, and an eventually consistent read costs half.
     * @default true
     */
    readonly consistentGets?: boolean;
  } = {},
): LedgerReader {
  const doc = DynamoDBDocumentClient.from(client);
  return {
    async get(key, version) {
      const { Item } = await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { [ATTR.key]: key, [ATTR.version]: version },
          ConsistentRead: options.consistentGets ?? true,
        }),
      );
      return Item ? fromAttributes(Item) : undefined;
    },

    async versions(key) {
      const items = await queryAll(doc, {
        TableName: tableName,
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': ATTR.key },
        ExpressionAttributeValues: { ':key': key },
        ConsistentRead: true,
      });
      // The table sorts a key's items by version id, which says nothing of their age.
      return newestFirst(items.map(fromAttributes));
    },

    async list(query) {
      if (query.dataset !== undefined) return listIndex(doc, tableName, 'byDataset', query.dataset, query);
      if (query.status !== undefined) return listIndex(doc, tableName, 'byStatus', query.status, query);
      // No index holds every item in time order: the newest `limit` of all are among the newest
      // `limit` of each status, so five bounded queries and a merge find them.
      const perStatus = await Promise.all(
        LEDGER_STATUSES.map((status) => listIndex(doc, tableName, 'byStatus', status, query)),
      );
      return newestFirst(perStatus.flat()).slice(0, query.limit);
    },
  };
}

/**
 * The newest `query.limit` items of one index partition (a dataset or a status), received at or
 * after `query.since`; on the dataset index, only those in `query.status`.
 */
async function listIndex(
  doc: DynamoDBDocumentClient,
  tableName: string,
  index: keyof typeof LEDGER_INDEXES,
  partition: string,
  query: LedgerQuery,
): Promise<LedgerItem[]> {
  if (query.limit <= 0) return [];
  const { name, partitionKey, sortKey } = LEDGER_INDEXES[index];
  const names: Record<string, string> = { '#pk': partitionKey };
  const values: Record<string, unknown> = { ':pk': partition };
  let condition = '#pk = :pk';
  if (query.since !== undefined) {
    // In the key condition, not a filter: DynamoDB then reads only the items from `since` on.
    condition += ' AND #sk >= :since';
    names['#sk'] = sortKey;
    values[':since'] = query.since;
  }
  let filter: string | undefined;
  if (index === 'byDataset' && query.status !== undefined) {
    filter = '#status = :status';
    names['#status'] = ATTR.status;
    values[':status'] = query.status;
  }
  const input: QueryCommandInput = {
    TableName: tableName,
    IndexName: name,
    KeyConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
    ...(filter === undefined
      ? // Without a filter every item read is kept: read no more than are wanted.
        { Limit: query.limit }
      : // A filter applies after the Limit, so a Limit would only cut pages short; pages of 1 MB.
        { FilterExpression: filter }),
  };
  const items = await queryAll(doc, input, query.limit);
  return items.map(fromAttributes);
}

/** Every item a query answers, page after page, stopping once `limit` are collected. */
async function queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const remaining = limit - items.length;
    const page = await doc.send(
      new QueryCommand({
        ...input,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        ...(input.Limit === undefined ? {} : { Limit: Math.min(input.Limit, remaining) }),
      }),
    );
    // A filtered page may hold no item and still not be the last.
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined && items.length < limit);
  return items.slice(0, limit);
}

/** Items newest first by `receivedAt`; ties by key and version, so that the order is stable. */
function newestFirst(items: LedgerItem[]): LedgerItem[] {
  return items.sort(
    (a, b) => compare(b.receivedAt, a.receivedAt) || compare(a.key, b.key) || compare(b.version, a.version),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
