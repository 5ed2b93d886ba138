/**
 * The DynamoDB ledger reader against a real DynamoDB API: dynalite with the ledger table and its
 * indexes (serveLocalLedger), items written with PutItem. Proves what the mocks cannot: that the
 * key conditions and filters the reader sends select and order what they should.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoLedgerReader } from '../../../lib/ledger/dynamodb-reader.ts';
import { ATTR, type LedgerReader, type LedgerStatus } from '../../../lib/ledger/model.ts';
import { type LocalLedger, serveLocalLedger } from '../../../lib/local/ledger.ts';

/** What is stored: key, version, dataset, status, received at (hour of 2026-12-02). */
const ITEMS: readonly [string, string, string, LedgerStatus, number][] = [
  ['orders/a.csv', 'v1', 'orders', 'CURATED', 1],
  ['orders/a.csv', 'v2', 'orders', 'REJECTED', 5],
  ['orders/b.csv', 'v1', 'orders', 'REJECTED', 3],
  ['orders/c.csv', 'v1', 'orders', 'FAILED', 7],
  ['customers/x.csv', 'v1', 'customers', 'CURATED', 6],
  ['customers/y.csv', 'v1', 'customers', 'RECEIVED', 2],
  ['customers/z.csv', 'v1', 'customers', 'VALIDATED', 4],
];
const at = (hour: number) => `2026-12-02T${String(hour).padStart(2, '0')}:00:00.000Z`;

let dir: string;
let ledger: LocalLedger;
let reader: LedgerReader;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledger-reader-'));
  ledger = await serveLocalLedger(join(dir, 'ledger'));
  for (const [key, version, dataset, status, hour] of ITEMS) {
    await ledger.client.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: {
          [ATTR.key]: { S: key },
          [ATTR.version]: { S: version },
          [ATTR.dataset]: { S: dataset },
          [ATTR.status]: { S: status },
          [ATTR.receivedAt]: { S: at(hour) },
          [ATTR.rows]: { N: String(hour * 10) },
          [ATTR.size]: { N: '100' },
        },
      }),
    );
  }
  reader = dynamoLedgerReader(ledger.client, ledger.tableName);
});

afterAll(async () => {
  await ledger?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `key@version` of each item, in the order given. */
const ids = (items: readonly { key: string; version: string }[]) => items.map((i) => `${i.key}@${i.version}`);

describe('the DynamoDB ledger reader on dynalite', () => {
  it("lists a dataset's items newest first", async () => {
    // Act
    const items = await reader.list({ dataset: 'orders', limit: 10 });

    // Assess
    expect(ids(items)).toEqual(['orders/c.csv@v1', 'orders/a.csv@v2', 'orders/b.csv@v1', 'orders/a.csv@v1']);
    expect(items[0]!.rows).toBe(70);
  });

  it("filters a dataset's items by status, since a time, and cuts at the limit", async () => {
    // Act
    const rejected = await reader.list({ dataset: 'orders', status: 'REJECTED', limit: 10 });
    const since = await reader.list({ dataset: 'orders', since: at(3), limit: 10 });
    const limited = await reader.list({ dataset: 'orders', limit: 2 });

    // Assess
    expect(ids(rejected)).toEqual(['orders/a.csv@v2', 'orders/b.csv@v1']);
    expect(ids(since)).toEqual(['orders/c.csv@v1', 'orders/a.csv@v2', 'orders/b.csv@v1']);
    expect(ids(limited)).toEqual(['orders/c.csv@v1', 'orders/a.csv@v2']);
  });

  it('lists one status across datasets, since a time', async () => {
    // Act
    const curated = await reader.list({ status: 'CURATED', limit: 10 });
    const recent = await reader.list({ status: 'CURATED', since: at(2), limit: 10 });

    // Assess
    expect(ids(curated)).toEqual(['customers/x.csv@v1', 'orders/a.csv@v1']);
    expect(ids(recent)).toEqual(['customers/x.csv@v1']);
  });

  it('with neither, merges every status newest first, since a time, cut at the limit', async () => {
    // Act
    const all = await reader.list({ limit: 100 });
    const top = await reader.list({ limit: 3 });
    const since = await reader.list({ since: at(5), limit: 100 });

    // Assess
    const newestFirst = [...ITEMS].sort((a, b) => b[4] - a[4]).map(([k, v]) => `${k}@${v}`);
    expect(ids(all)).toEqual(newestFirst);
    expect(ids(top)).toEqual(newestFirst.slice(0, 3));
    expect(ids(since)).toEqual(['orders/c.csv@v1', 'customers/x.csv@v1', 'orders/a.csv@v2']);
  });

  it('reads every version of a key newest first, and one version', async () => {
    // Act
    const versions = await reader.versions('orders/a.csv');
    const one = await reader.get('orders/a.csv', 'v1');
    const none = await reader.get('orders/a.csv', 'v9');

    // Assess
    expect(versions.map((v) => [v.version, v.status])).toEqual([
      ['v2', 'REJECTED'],
      ['v1', 'CURATED'],
    ]);
    expect(one).toMatchObject({ key: 'orders/a.csv', version: 'v1', status: 'CURATED', rows: 10, size: 100 });
    expect(none).toBeUndefined();
  });
});

describe('keyset paging (`after`)', () => {
  let pagedDir: string;
  let paged: LocalLedger;
  let pagedReader: LedgerReader;
  const statuses: LedgerStatus[] = ['CURATED', 'REJECTED', 'FAILED'];

  beforeAll(async () => {
    // Prepare: 14 items, six of them received in one instant (ties the index leaves unordered),
    // versions of one key per dataset, which the listing orders newest version first.
    pagedDir = await mkdtemp(join(tmpdir(), 'ledger-paged-'));
    paged = await serveLocalLedger(join(pagedDir, 'ledger'));
    for (let i = 0; i < 14; i++) {
      const tie = i >= 4 && i < 10;
      await paged.client.send(
        new PutItemCommand({
          TableName: paged.tableName,
          Item: {
            [ATTR.key]: {
              S: tie ? `d${i % 2}/tie.csv` : `d${i % 2}/f${String(13 - i).padStart(2, '0')}.csv`,
            },
            [ATTR.version]: { S: `v${i}` },
            [ATTR.dataset]: { S: `d${i % 2}` },
            [ATTR.status]: { S: statuses[i % 3]! },
            [ATTR.receivedAt]: { S: at(tie ? 4 : i) },
          },
        }),
      );
    }
    pagedReader = dynamoLedgerReader(paged.client, paged.tableName);
  });

  afterAll(async () => {
    await paged?.close();
    await rm(pagedDir, { recursive: true, force: true });
  });

  /** Every page of a listing of `limit` items, following the last item of each. */
  async function allPages(query: { dataset?: string; status?: LedgerStatus }, limit: number) {
    const pages: string[][] = [];
    let after: { receivedAt: string; key: string; version: string } | undefined;
    for (;;) {
      const page = await pagedReader.list({ ...query, limit, ...(after ? { after } : {}) });
      if (page.length === 0) return pages;
      pages.push(ids(page));
      const last = page.at(-1)!;
      after = { receivedAt: last.receivedAt, key: last.key, version: last.version };
    }
  }

  it.each([
    ['the whole ledger (one query per status, merged)', {}, 2],
    ['a dataset', { dataset: 'd0' }, 2],
    ['a status', { status: 'REJECTED' as const }, 2],
    ['a dataset and a status', { dataset: 'd1', status: 'CURATED' as const }, 1],
  ])(
    'pages of %s, concatenated, are the one-page listing: no item twice, none missing',
    async (_, query, size) => {
      // Act
      const whole = ids(await pagedReader.list({ ...query, limit: 100 }));
      const pages = await allPages(query, size);

      // Assess: small pages cut through the six ties; together they are the listing, in its order.
      expect(whole.length).toBeGreaterThan(size);
      expect(pages.flat()).toEqual(whole);
      expect(pages.every((page) => page.length <= size)).toBe(true);
    },
  );
});
