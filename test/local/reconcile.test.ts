/** The reconciler on the local lake: a lost event and a failed execution are found and re-driven. */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../lib/cli/main.ts';
import { dynamoLedgerReader } from '../../lib/ledger/dynamodb-reader.ts';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS, lakePaths } from '../../lib/local/lake-folder.ts';
import { serveLocalLedger } from '../../lib/local/ledger.ts';
import { executionNameFor, LocalRuntime } from '../../lib/local/runtime.ts';
import { localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { ORDERS_HEADER } from '../../lib/samples/orders-generator.ts';
import { rewindLedgerItem } from './ledger-state.ts';

const row = (id: number) => `${id},Rec,ABC-12345,1,1.00,USD,,true,2024-01-01T00:00:00Z,\n`;

async function run(...argv: string[]) {
  const out: string[] = [];
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), stderrIsTty: false };
  const code = await main(argv, io);
  return { code, out: out.join('') };
}

describe('datalake reconcile (local)', () => {
  let lake: string;

  // A lake per test: each report is exact, so one test's objects must not show in another's.
  beforeEach(async () => {
    lake = await mkdtemp(join(tmpdir(), 'lake-reconcile-'));
  });

  it('finds an object whose event was lost and re-drives it to a terminal zone', async () => {
    // Prepare: land a file while no trigger listens (as when S3 drops an async event).
    const server = await startLocalS3({
      directory: lakePaths(lake).s3,
      buckets: Object.values(LOCAL_BUCKETS),
    });
    const client = localS3Client(server.endpoint);
    const body = ORDERS_HEADER + row(1);
    const put = await client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: 'orders/lost.csv', Body: body }),
    );
    await client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: 'orders/folder/', Body: '' }),
    );
    client.destroy();
    await server.close();

    // Act
    const found = await run('reconcile', '--lake', lake, '--json');
    const redriven = await run('reconcile', '--lake', lake, '--redrive', '--json');
    const again = await run('reconcile', '--lake', lake);

    // Assess
    const orphans = [
      {
        key: 'orders/lost.csv',
        versionId: null,
        execution: executionNameFor('orders/lost.csv', body.length, put.ETag!),
        reason: 'never started',
      },
    ];
    expect(found.code).toBe(1);
    expect(JSON.parse(found.out)).toEqual({
      objects: 1, // the folder marker is not an object to ingest
      terminal: 0,
      running: 0,
      orphans,
      redriven: 0,
      errors: [],
    });
    expect(redriven.code).toBe(0);
    expect(JSON.parse(redriven.out)).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans,
      redriven: 1,
      errors: [],
      after: { objects: 1, terminal: 1, running: 0, orphans: [], redriven: 0, errors: [] },
    });
    expect(again.code).toBe(0);
    expect(again.out).toBe('objects: 1, ended: 1, running: 0, without an outcome: 0\n');
  }, 60_000);

  it('re-drives a failed execution once, keeping the failed record, with no duplicated rows', async () => {
    // Prepare: a file that went through, then its record marked failed and its ledger item back at
    // VALIDATED (as a run that died after validating would leave them).
    const runtime = await LocalRuntime.start({ lakeDir: lake });
    const body = ORDERS_HEADER + row(2);
    const put = await runtime.client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: 'orders/failed.csv', Body: body }),
    );
    await runtime.idle();
    await runtime.close();
    const name = executionNameFor('orders/failed.csv', body.length, put.ETag!);
    const file = join(lakePaths(lake).executions, `${name}.json`);
    const record = JSON.parse(await readFile(file, 'utf8')) as ExecutionRecord;
    await writeFile(file, JSON.stringify({ ...record, status: 'FAILED', outcome: 'failed' }));
    const ledger = await serveLocalLedger(lakePaths(lake).ledger);
    await rewindLedgerItem(ledger, 'orders/failed.csv', record.input.version, 'VALIDATED');
    await ledger.close();

    // Act
    const found = await run('reconcile', '--lake', lake, '--json');
    const redriven = await run('reconcile', '--lake', lake, '--redrive', '--json');
    const count = await run(
      'local',
      'query',
      'SELECT count(*) AS n FROM orders WHERE order_id = 2',
      '--lake',
      lake,
      '--json',
    );

    // Assess
    const orphans = [{ key: 'orders/failed.csv', versionId: null, execution: name, reason: 'failed' }];
    expect(found.code).toBe(1);
    expect(JSON.parse(found.out)).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans,
      redriven: 0,
      errors: [],
    });
    expect(redriven.code).toBe(0);
    expect(JSON.parse(redriven.out)).toEqual({
      objects: 1,
      terminal: 0,
      running: 0,
      orphans,
      redriven: 1,
      errors: [],
      after: { objects: 1, terminal: 1, running: 0, orphans: [], redriven: 0, errors: [] },
    });
    expect(JSON.parse(count.out)).toEqual([{ n: '1' }]);
    const files = await readdir(lakePaths(lake).executions);
    expect(files.filter((f) => f.startsWith(`${name}.retired-`))).toHaveLength(1);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      status: 'SUCCEEDED',
      outcome: 'curated',
    });
    // The re-run, a later attempt, moved the ledger item on from where the first one stopped.
    const after = await serveLocalLedger(lakePaths(lake).ledger);
    try {
      const item = await dynamoLedgerReader(after.client, after.tableName).get(
        'orders/failed.csv',
        record.input.version,
      );
      expect(item).toMatchObject({ status: 'CURATED', rows: 1, execution: name });
      expect(item!.executionStartedAt > record.startedAt).toBe(true);
    } finally {
      await after.close();
    }
  }, 60_000);
});
