/**
 * The files list's refresh (web/src/paging.ts) over the real API core and a real DynamoDB API
 * (dynalite with the ledger table, handleApi's GET /api/files): with 60 files, several pages shown
 * and files arriving or leaving a status filter between refreshes, every file that belongs on the
 * shown pages is on them, once, in order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApi } from '../../../lib/console/api.ts';
import type { FilesResponse } from '../../../lib/console/contract.ts';
import { dynamoLedgerReader } from '../../../lib/ledger/dynamodb-reader.ts';
import { ATTR, type LedgerStatus } from '../../../lib/ledger/model.ts';
import { type LocalLedger, serveLocalLedger } from '../../../lib/local/ledger.ts';
import { type FilesPage, olderPage, type PageFetcher, reloadPages } from '../../../web/src/paging.ts';

const PAGE = 7;

let dir: string;
let ledger: LocalLedger;

/** File n, received n minutes into the day: a higher n is newer. */
const keyOf = (n: number) => `orders/f${String(n).padStart(3, '0')}.csv`;

async function receive(n: number, status: LedgerStatus = 'RECEIVED'): Promise<void> {
  const minute = String(n % 60).padStart(2, '0');
  const hour = String(Math.floor(n / 60)).padStart(2, '0');
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: {
        [ATTR.key]: { S: keyOf(n) },
        [ATTR.version]: { S: 'v1' },
        [ATTR.dataset]: { S: 'orders' },
        [ATTR.status]: { S: status },
        [ATTR.receivedAt]: { S: `2026-12-02T${hour}:${minute}:00.000Z` },
        [ATTR.size]: { N: '100' },
      },
    }),
  );
}

async function moveOn(n: number, status: LedgerStatus): Promise<void> {
  await ledger.client.send(
    new UpdateItemCommand({
      TableName: ledger.tableName,
      Key: { [ATTR.key]: { S: keyOf(n) }, [ATTR.version]: { S: 'v1' } },
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': ATTR.status },
      ExpressionAttributeValues: { ':status': { S: status } },
    }),
  );
}

/** GET /api/files through the core, as the page's client asks for it. */
function fetcher(status?: string): PageFetcher {
  const ports = {
    read: {
      datasets: new Map(),
      ledger: dynamoLedgerReader(ledger.client, ledger.tableName),
      s3: new S3Client({ region: 'eu-west-1' }), // not called by this route
    },
  };
  return async (cursor) => {
    const answer = await handleApi(
      {
        method: 'GET',
        path: '/api/files',
        query: { dataset: 'orders', status, cursor, limit: String(PAGE) },
      },
      ports,
    );
    expect(answer.status).toBe(200);
    return JSON.parse(JSON.stringify(answer.body)) as FilesResponse;
  };
}

const shown = (pages: readonly FilesPage[]) => pages.flatMap((p) => p.files.map((f) => f.key));
/** Files n..m, newest first. */
const newestFirst = (from: number, to: number) =>
  Array.from({ length: from - to + 1 }, (_, i) => keyOf(from - i));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'files-paging-'));
  ledger = await serveLocalLedger(join(dir, 'ledger'));
  for (let n = 1; n <= 60; n++) await receive(n, n % 2 === 0 ? 'RECEIVED' : 'CURATED');
});

afterAll(async () => {
  await ledger?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('refreshing the files list', () => {
  it('shows every file once when new files arrive between refreshes', async () => {
    // Prepare: three pages shown (21 files), then five more files arrive
    const fetchPage = fetcher();
    let pages = await reloadPages(fetchPage, 1);
    pages = await olderPage(fetchPage, pages);
    pages = await olderPage(fetchPage, pages);
    expect(shown(pages)).toEqual(newestFirst(60, 40));
    for (let n = 61; n <= 65; n++) await receive(n);

    // Act
    const refreshed = await reloadPages(fetchPage, pages.length);

    // Assess: the newest 21, the five pushed off each page's old end among them
    expect(refreshed).toHaveLength(3);
    expect(shown(refreshed)).toEqual(newestFirst(65, 45));
    // and "Older files" goes on from there without a gap
    expect(shown(await olderPage(fetchPage, refreshed)).slice(21)).toEqual(newestFirst(44, 38));
  });

  it('shows no file twice when files leave the status filtered on', async () => {
    // Prepare: the RECEIVED files (even numbers up to 60, and 61..65 from the test before), two pages shown
    const fetchPage = fetcher('RECEIVED');
    const pages = await olderPage(fetchPage, await reloadPages(fetchPage, 1));
    const before = shown(pages);
    expect(before).toHaveLength(2 * PAGE);
    // three files of page 1 are curated meanwhile
    const moved = before.slice(0, 3);
    for (const key of moved) await moveOn(Number(/f(\d+)/.exec(key)![1]), 'CURATED');

    // Act
    const refreshed = shown(await reloadPages(fetchPage, pages.length));

    // Assess: the 14 newest still RECEIVED, each once
    expect(new Set(refreshed).size).toBe(refreshed.length);
    expect(refreshed).toEqual(
      [...newestFirst(65, 61), ...newestFirst(60, 2).filter((k) => Number(k.slice(8, 11)) % 2 === 0)]
        .filter((k) => !moved.includes(k))
        .slice(0, 2 * PAGE),
    );
  });

  it('stops at the last page, and asks for one page at least', async () => {
    const fetchPage = fetcher('FAILED');
    expect(await reloadPages(fetchPage, 0)).toEqual([{ files: [], next: undefined }]);
    const all = await reloadPages(fetcher(), 100);
    expect(all).toHaveLength(Math.ceil(65 / PAGE));
    expect(new Set(shown(all)).size).toBe(65);
  });
});
