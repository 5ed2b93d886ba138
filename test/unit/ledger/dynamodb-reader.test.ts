/**
 * The DynamoDB ledger reader's requests, through aws-sdk-client-mock: which index and key
 * condition each listing uses, the filter, and paging with LastEvaluatedKey until the limit (a
 * filtered page may hold no item). The real table's behaviour is dynamodb-reader-dynalite.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { dynamoLedgerReader } from '../../../lib/ledger/dynamodb-reader.ts';
import { ATTR, LEDGER_STATUSES, type LedgerStatus } from '../../../lib/ledger/model.ts';

const doc = mockClient(DynamoDBDocumentClient);
const TABLE = 'csvlake-dev-ledger';
const reader = () => dynamoLedgerReader(new DynamoDBClient({ region: 'eu-west-1' }), TABLE);

afterEach(() => {
  doc.reset();
});

/** A stored item as the document client returns it. */
function stored(key: string, receivedAt: string, status: LedgerStatus = 'CURATED', dataset = 'orders') {
  return {
    [ATTR.key]: key,
    [ATTR.version]: `v-${key}`,
    [ATTR.dataset]: dataset,
    [ATTR.status]: status,
    [ATTR.receivedAt]: receivedAt,
    [ATTR.rows]: 3,
  };
}

describe('list with a dataset', () => {
  it('queries the by-dataset index newest first, since in the key condition, status as a filter, and pages past an empty filtered page until the limit', async () => {
    // Prepare: an empty filtered page that is not the last, then two pages of two; then no ties.
    doc
      .on(QueryCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: { k: 1 } })
      .resolvesOnce({
        Items: [stored('a', '2026-12-02T10:00:00Z'), stored('b', '2026-12-02T09:00:00Z')],
        LastEvaluatedKey: { k: 2 },
      })
      .resolvesOnce({
        Items: [stored('c', '2026-12-02T08:00:00Z'), stored('d', '2026-12-02T07:00:00Z')],
        LastEvaluatedKey: { k: 3 },
      })
      // The index's order among items of one instant is DynamoDB's: 'bb' comes before 'c' in the listing's.
      .resolvesOnce({ Items: [stored('c', '2026-12-02T08:00:00Z'), stored('bb', '2026-12-02T08:00:00Z')] });

    // Act
    const items = await reader().list({
      dataset: 'orders',
      status: 'REJECTED',
      since: '2026-12-01',
      limit: 3,
    });

    // Assess: three items from three pages; the fourth page was never asked for, only the items
    // received in the same instant as the last one (which the index does not order among themselves).
    expect(items.map((i) => i.key)).toEqual(['a', 'b', 'bb']);
    expect(doc).toHaveReceivedCommandTimes(QueryCommand, 4);
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 4, {
      KeyConditionExpression: '#pk = :pk AND #sk = :last',
      ExpressionAttributeValues: { ':pk': 'orders', ':status': 'REJECTED', ':last': '2026-12-02T08:00:00Z' },
    });
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: TABLE,
      IndexName: 'by-dataset',
      KeyConditionExpression: '#pk = :pk AND #sk >= :since',
      FilterExpression: '#status = :status',
      ExpressionAttributeNames: { '#pk': 'dataset', '#sk': 'receivedAt', '#status': 'status' },
      ExpressionAttributeValues: { ':pk': 'orders', ':since': '2026-12-01', ':status': 'REJECTED' },
      ScanIndexForward: false,
    });
    // A Limit would apply before the filter: none on a filtered query.
    expect(doc.commandCalls(QueryCommand)[0]!.args[0].input.Limit).toBeUndefined();
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: { k: 1 } });
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 3, { ExclusiveStartKey: { k: 2 } });
  });

  it('without since or status: the dataset alone in the key condition, no filter', async () => {
    // Prepare
    doc.on(QueryCommand).resolves({ Items: [stored('a', '2026-12-02T10:00:00Z')] });

    // Act
    await reader().list({ dataset: 'orders', limit: 5 });

    // Assess
    const input = doc.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(input.KeyConditionExpression).toBe('#pk = :pk');
    expect(input.FilterExpression).toBeUndefined();
    expect(input.Limit).toBe(5);
  });
});

describe('list with only a status', () => {
  it('queries the by-status index with a Limit of what is still wanted on each page', async () => {
    // Prepare
    doc
      .on(QueryCommand)
      .resolvesOnce({ Items: [stored('a', '2026-12-02T10:00:00Z', 'FAILED')], LastEvaluatedKey: { k: 1 } })
      .resolvesOnce({ Items: [stored('b', '2026-12-02T09:00:00Z', 'FAILED')] });

    // Act
    const items = await reader().list({ status: 'FAILED', limit: 4 });

    // Assess
    expect(items.map((i) => i.key)).toEqual(['a', 'b']);
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      IndexName: 'by-status',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeValues: { ':pk': 'FAILED' },
      ScanIndexForward: false,
      Limit: 4,
    });
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 2, { Limit: 3, ExclusiveStartKey: { k: 1 } });
  });
});

describe('list with neither', () => {
  it('merges one by-status query per status, newest first, cut at the limit', async () => {
    // Prepare: each status holds items at its own times, interleaved across statuses.
    const times: Record<LedgerStatus, string[]> = {
      RECEIVED: ['2026-12-02T09:30:00Z'],
      VALIDATED: [],
      REJECTED: ['2026-12-02T10:00:00Z', '2026-12-02T07:00:00Z'],
      CURATED: ['2026-12-02T09:00:00Z', '2026-12-02T08:00:00Z'],
      FAILED: ['2026-12-02T08:30:00Z'],
    };
    for (const status of LEDGER_STATUSES) {
      doc
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': status } })
        .resolves({ Items: times[status].map((t) => stored(`${status}-${t}`, t, status)) });
    }

    // Act
    const items = await reader().list({ limit: 4 });

    // Assess
    expect(items.map((i) => [i.status, i.receivedAt])).toEqual([
      ['REJECTED', '2026-12-02T10:00:00Z'],
      ['RECEIVED', '2026-12-02T09:30:00Z'],
      ['CURATED', '2026-12-02T09:00:00Z'],
      ['FAILED', '2026-12-02T08:30:00Z'],
    ]);
    expect(doc).toHaveReceivedCommandTimes(QueryCommand, LEDGER_STATUSES.length);
    for (const status of LEDGER_STATUSES) {
      expect(doc).toHaveReceivedCommandWith(QueryCommand, {
        IndexName: 'by-status',
        ExpressionAttributeValues: { ':pk': status },
        Limit: 4,
      });
    }
  });
});

describe('versions and get', () => {
  it('versions: every page of the key on the table, consistent, newest first', async () => {
    // Prepare: the table returns a key's items by version id, not by age.
    doc
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ ...stored('k', '2026-12-01T00:00:00Z'), [ATTR.version]: 'aaa' }],
        LastEvaluatedKey: { k: 1 },
      })
      .resolvesOnce({ Items: [{ ...stored('k', '2026-12-02T00:00:00Z'), [ATTR.version]: 'bbb' }] });

    // Act
    const versions = await reader().versions('orders/a.csv');

    // Assess
    expect(versions.map((v) => v.version)).toEqual(['bbb', 'aaa']);
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: TABLE,
      KeyConditionExpression: '#key = :key',
      ExpressionAttributeNames: { '#key': 'objectKey' },
      ExpressionAttributeValues: { ':key': 'orders/a.csv' },
      ConsistentRead: true,
    });
    expect(doc.commandCalls(QueryCommand)[0]!.args[0].input.IndexName).toBeUndefined();
    expect(doc).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: { k: 1 } });
  });

  it('get: a consistent read of the key and version; undefined when there is no item', async () => {
    // Prepare
    doc
      .on(GetCommand)
      .resolvesOnce({ Item: stored('orders/a.csv', '2026-12-02T00:00:00Z') })
      .resolvesOnce({});

    // Act
    const found = await reader().get('orders/a.csv', 'v1');
    const missing = await reader().get('orders/b.csv', 'v2');

    // Assess
    expect(found?.key).toBe('orders/a.csv');
    expect(found?.rows).toBe(3);
    expect(missing).toBeUndefined();
    expect(doc).toHaveReceivedNthCommandWith(GetCommand, 1, {
      TableName: TABLE,
      Key: { objectKey: 'orders/a.csv', objectVersion: 'v1' },
      ConsistentRead: true,
    });
  });
});
