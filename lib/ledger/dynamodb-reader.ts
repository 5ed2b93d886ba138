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
  compareListed,
  fromAttributes,
  LEDGER_INDEXES,
  LEDGER_STATUSES,
  type LedgerItem,
  type LedgerQuery,
  type LedgerReader,
  newestFirst,
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
 * after `query.since` and listed after `query.after`; on the dataset index, only those in
 * `query.status`.
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
  const { since, after } = query;
  if (since !== undefined && after !== undefined && since > after.receivedAt) return [];
  // In the key condition, not a filter: DynamoDB then reads only the items in the window.
  let range = '';
  if (since !== undefined && after !== undefined) range = ' AND #sk BETWEEN :since AND :before';
  else if (since !== undefined) range = ' AND #sk >= :since';
  else if (after !== undefined) range = ' AND #sk <= :before';
  if (range !== '') names['#sk'] = sortKey;
  if (since !== undefined) values[':since'] = since;
  // `<=`: the items received in the same instant as the cursor's and listed after it are on the next page.
  if (after !== undefined) values[':before'] = after.receivedAt;
  let filter: string | undefined;
  if (index === 'byDataset' && query.status !== undefined) {
    filter = '#status = :status';
    names['#status'] = ATTR.status;
    values[':status'] = query.status;
  }
  const base = {
    TableName: tableName,
    IndexName: name,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
    ...(filter === undefined ? {} : { FilterExpression: filter }),
  };
  const listed = (item: LedgerItem) => after === undefined || compareListed(item, after) > 0;
  const input: QueryCommandInput = {
    ...base,
    KeyConditionExpression: `#pk = :pk${range}`,
    // Without a filter every item read is kept: read no more than are wanted (plus the cursor's
    // ties, skipped). A filter applies after the Limit, so a Limit would only cut pages short.
    ...(filter === undefined ? { Limit: query.limit } : {}),
  };
  const items = (await queryAll(doc, input, query.limit, listed)).map(fromAttributes);
  const last = items.at(-1);
  if (items.length < query.limit || last === undefined) return newestFirst(items);
  // The index orders by `receivedAt` alone: items received in the last one's instant that were
  // not read may come before some that were in the listing's order. Read them all, then cut.
  const ties = await queryAll(
    doc,
    {
      ...base,
      KeyConditionExpression: '#pk = :pk AND #sk = :last',
      ExpressionAttributeNames: { ...names, '#sk': sortKey },
      ExpressionAttributeValues: {
        ':pk': partition,
        ':last': last.receivedAt,
        ...(filter === undefined ? {} : { ':status': values[':status'] }),
      },
    },
    Number.POSITIVE_INFINITY,
    listed,
  );
  const seen = new Set(items.map((item) => `${item.key}\u0000${item.version}`));
  const more = ties.map(fromAttributes).filter((item) => !seen.has(`${item.key}\u0000${item.version}`));
  return newestFirst([...items, ...more]).slice(0, query.limit);
}

/** Every item a query answers that `keep` accepts, page after page, stopping once `limit` are collected. */
async function queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
  keep: (item: LedgerItem) => boolean = () => true,
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
    items.push(...(page.Items ?? []).filter((item) => keep(fromAttributes(item))));
    start = page.LastEvaluatedKey;
  } while (start !== undefined && items.length < limit);
  return items.slice(0, limit);
}
