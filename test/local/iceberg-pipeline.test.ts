/**
 * The Iceberg commit end to end through the local runtime: files landed together reach one table
 * in batched snapshots (CommitToTable → the in-process FIFO queue → commitBatch), every row once;
 * the snapshot id travels to the CURATED notification and the ledger item; a data file that fails
 * its footer check fails its file alone and leaves nothing in the table. The table is read back
 * with the Iceberg core and DuckDB (columns by field id), not through the local query.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommitRequestFile, CommitTaskInput } from '../../lambdas/shared/contract.ts';
import { sourceTag } from '../../lib/iceberg/layout.ts';
import { parseMetadata } from '../../lib/iceberg/metadata.ts';
import type { ObjectStore } from '../../lib/iceberg/ports.ts';
import { history, liveFiles, readParquetSql, schemaOf, selectSnapshot } from '../../lib/iceberg/scan.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import { dynamoLedgerReader } from '../../lib/ledger/dynamodb-reader.ts';
import { LOCAL_BUCKETS, LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import { executionNameFor, LocalRuntime } from '../../lib/local/runtime.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { icebirdRead } from '../unit/iceberg/harness.ts';

let runtime: LocalRuntime;
let work: string;
let duck: DuckDBInstance;
/** The landed keys whose data files the fault rewrites without field ids. */
const spoiled = new Set<string>();
/**
 * When set, CommitToTable's messages wait until `count` of them are sent, then go on together: the
 * way a burst of conversions ending at once reaches the queue (here made certain, not left to timing).
 */
let gate: { count: number; waiting: (() => void)[] } | undefined;
async function atGate(): Promise<void> {
  const g = gate;
  if (!g) return;
  await new Promise<void>((resolve) => {
    g.waiting.push(resolve);
    if (g.waiting.length === g.count) for (const go of g.waiting) go();
  });
}

/**
 * Rewrites the data files of a request as an engine that forgot the field ids would have written
 * them (same rows, same columns), and the request with their new sizes: only the ids are wrong.
 */
async function dropFieldIds(input: CommitTaskInput, store: ObjectStore): Promise<void> {
  const request = JSON.parse(Buffer.from((await store.get(input.request))!).toString()) as CommitRequestFile;
  const files = [];
  for (const [n, file] of request.files.entries()) {
    const src = join(work, `spoil-${input.runId}-${n}.parquet`);
    const dst = join(work, `spoil-${input.runId}-${n}-noids.parquet`);
    await writeFile(src, (await store.get(file.path))!);
    const connection = await duck.connect();
    try {
      await connection.run(`COPY (SELECT * FROM read_parquet('${src}')) TO '${dst}' (FORMAT parquet)`);
    } finally {
      connection.closeSync();
    }
    const body = await readFile(dst);
    await store.put(file.path, body);
    files.push({ ...file, bytes: body.length });
  }
  await store.put(input.request, Buffer.from(JSON.stringify({ ...request, files })));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'iceberg-pipeline-'));
  duck = await DuckDBInstance.create(':memory:');
  runtime = await LocalRuntime.start({
    lakeDir: join(work, 'lake'),
    faults: {
      beforeCommit: async (input, store) => {
        if (spoiled.has(input.key)) await dropFieldIds(input, store);
        await atGate();
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  duck?.closeSync();
  await rm(work, { recursive: true, force: true });
});

/**
 * The orders table as the core reads it: its snapshots, its live files, and `select` (a SELECT
 * list) of its current rows by field id, ordered by order_id.
 */
async function ordersTable(select = 'order_id') {
  const deps = { store: runtime.store, catalog: runtime.tables };
  const { metadata } = await loadTable(deps, { database: LOCAL_DATABASE, name: 'orders' });
  const m = metadata as Parameters<typeof history>[0];
  const snapshot = selectSnapshot(m);
  const files = snapshot ? await liveFiles(runtime.store, m, snapshot) : [];
  const dir = join(work, `read-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  const local: string[] = [];
  for (const [n, f] of files.entries()) {
    const path = join(dir, `${n}.parquet`);
    await writeFile(path, (await runtime.store.get(f.path))!);
    local.push(path);
  }
  let rows: Record<string, unknown>[] = [];
  if (local.length > 0) {
    const connection = await duck.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT ${select} FROM ${readParquetSql(local, schemaOf(m, snapshot))} ORDER BY order_id`,
      );
      rows = reader.getRowObjectsJS();
    } finally {
      connection.closeSync();
    }
  }
  return { snapshots: history(m), files, rows, ids: rows.map((r) => Number(r.order_id)) };
}

/** Puts every file into landing at once; resolves when every execution has ended, with their records. */
async function landTogether(files: Record<string, string>) {
  const names = await Promise.all(
    Object.entries(files).map(async ([key, body]) => {
      const put = await runtime.client.send(
        new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: Buffer.from(body) }),
      );
      return [key, executionNameFor(key, Buffer.byteLength(body), put.ETag ?? '')] as const;
    }),
  );
  await runtime.idle();
  return Object.fromEntries(
    await Promise.all(names.map(async ([key, name]) => [key, (await runtime.finished(name))!] as const)),
  );
}

const notifications = async () =>
  (await readFile(runtime.paths.notifications, 'utf8'))
    .trim()
    .split('\n')
    .map(
      (line) => JSON.parse(line) as { attributes: Record<string, string>; message: Record<string, unknown> },
    );

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i + 1);

describe('the Iceberg commit through the local pipeline', () => {
  it('lands files of one dataset together into one table, batched, every row exactly once', async () => {
    // Prepare: twelve files of 20 orders each, ids 1–240, landed at once; their commits sent together
    const files = Object.fromEntries(
      Array.from({ length: 12 }, (_, n) => [
        `orders/batch-${n}.csv`,
        ORDERS_HEADER + orderRows(n, n * 20, n * 20 + 20),
      ]),
    );
    const before = runtime.commits.stats();
    gate = { count: 12, waiting: [] };
    // Act
    const records = await landTogether(files).finally(() => {
      gate = undefined;
    });
    // Assess: every file curated, with a snapshot id
    for (const record of Object.values(records)) {
      expect(record.outcome, JSON.stringify(record.error)).toBe('curated');
      expect(record.snapshotId).toMatch(/^\d+$/);
    }
    const table = await ordersTable();
    // Batched: twelve requests waiting together make two commits (ten, the batch size, then two).
    const after = runtime.commits.stats();
    expect(after.requests - before.requests).toBe(12);
    expect(after.batches - before.batches).toBe(2);
    expect(table.snapshots).toHaveLength(2);
    expect(table.snapshots.map((s) => s.sources.length)).toEqual([10, 2]);
    expect(new Set(Object.values(records).map((r) => r.snapshotId)).size).toBe(2);
    expect(after.conflicts - before.conflicts).toBe(0);
    // Every row once: the ids of the twelve files, no id missing, none twice.
    expect(table.ids).toEqual(range(0, 240));
    // Each file's version appended once, in the snapshot its execution reported.
    const sources = table.snapshots.flatMap((s) => s.sources);
    expect(sources).toHaveLength(12);
    for (const [key, record] of Object.entries(records)) {
      const holding = table.snapshots.filter((s) =>
        s.sources.includes(sourceTag(key, record.input.version!)),
      );
      expect(holding.map((s) => s.snapshotId)).toEqual([record.snapshotId]);
    }
  });

  it('carries the snapshot id into the CURATED notification and the ledger item', async () => {
    const [record] = Object.values(
      await landTogether({ 'orders/single.csv': ORDERS_HEADER + orderRows(9, 500, 503) }),
    );
    expect(record!.outcome).toBe('curated');
    const curated = (await notifications()).filter(
      (n) =>
        n.attributes.status === 'CURATED' && String(n.message.execution ?? '').endsWith(`:${record!.name}`),
    );
    expect(curated).toHaveLength(1);
    expect(curated[0]!.message.snapshotId).toBe(record!.snapshotId);
    const item = await dynamoLedgerReader(runtime.ledger.client, runtime.ledger.tableName).get(
      'orders/single.csv',
      record!.input.version!,
    );
    expect(item?.status).toBe('CURATED');
    expect((item as { snapshotId?: string } | undefined)?.snapshotId).toBe(record!.snapshotId);
  });

  it('gives every row the lineage of the object version it came from: its key, its ledger version, its LastModified to the ms', async () => {
    // Prepare / Act: a file landed under a folder (the key is the landing key, not the raw copy's).
    const key = 'orders/2026/12/lineage.csv';
    const [record] = Object.values(await landTogether({ [key]: ORDERS_HEADER + orderRows(13, 700, 703) }));
    expect(record!.outcome).toBe('curated');
    const landed = await runtime.client.send(
      new HeadObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key }),
    );

    // Assess: read by field id under the table's schema.
    const { rows } = await ordersTable(
      'order_id, _source_key, _source_version, epoch_ms(_ingested_at) AS ingested_ms, typeof(_ingested_at) AS t',
    );
    expect(rows.filter((r) => Number(r.order_id) > 700 && Number(r.order_id) <= 703)).toEqual(
      range(700, 703).map((id) => ({
        order_id: BigInt(id),
        _source_key: key,
        _source_version: record!.input.version,
        ingested_ms: BigInt(landed.LastModified!.getTime()),
        t: 'TIMESTAMP WITH TIME ZONE',
      })),
    );
  });

  it('fails a file whose data file has no field ids, alone: not curated, nothing of it in the table', async () => {
    // Prepare
    const before = await ordersTable();
    spoiled.add('orders/no-ids.csv');
    // Act: the spoiled file lands with a good one
    const records = await landTogether({
      'orders/no-ids.csv': ORDERS_HEADER + orderRows(11, 1000, 1010),
      'orders/fine.csv': ORDERS_HEADER + orderRows(12, 2000, 2005),
    });
    // Assess
    const bad = records['orders/no-ids.csv']!;
    expect(bad.outcome).toBe('failed');
    expect(bad.states).toContain('CommitToTable');
    expect(bad.states).not.toContain('Curated');
    expect(bad.snapshotId).toBeUndefined();
    expect(records['orders/fine.csv']!.outcome).toBe('curated');
    const after = await ordersTable();
    expect(after.ids).toEqual([...before.ids, ...range(2000, 2005)]);
    const sources = after.snapshots.flatMap((s) => s.sources);
    expect(sources).not.toContain(sourceTag('orders/no-ids.csv', bad.input.version!));
    const request = JSON.parse(
      Buffer.from(
        (await runtime.store.get(`s3://${LOCAL_BUCKETS.curated}/_commits/orders/${bad.name}.json`))!,
      ).toString(),
    ) as CommitRequestFile;
    const live = new Set(after.files.map((f) => f.path));
    for (const f of request.files) expect(live.has(f.path)).toBe(false);
    const failed = (await notifications()).filter(
      (n) => n.attributes.status === 'FAILED' && String(n.message.execution ?? '').endsWith(`:${bad.name}`),
    );
    expect(JSON.stringify(failed)).toContain('DataFileError');
  });
  it('reads the same rows through icebird, an independent Iceberg reader, at every version the pipeline committed', async () => {
    // Every metadata file the table has had (the log, then the current one): each is a table state
    // the pipeline produced; icebird reads it whole (metadata, manifest list, manifests, data) and
    // DuckDB reads the same snapshot's live files by field id. Both must give the same rows.
    const deps = { store: runtime.store, catalog: runtime.tables };
    const { pointer, metadata } = await loadTable(deps, { database: LOCAL_DATABASE, name: 'orders' });
    const versions = [
      ...(metadata['metadata-log'] ?? []).map((e) => e['metadata-file']),
      pointer.metadataLocation,
    ];
    let compared = 0;
    for (const location of versions) {
      const m = parseMetadata(Buffer.from((await runtime.store.get(location))!).toString('utf8'));
      const snapshot = selectSnapshot(m);
      if (!snapshot) continue; // the empty table: icebird refuses a table without a snapshot
      const files = await liveFiles(runtime.store, m, snapshot);
      const local: string[] = [];
      for (const [n, f] of files.entries()) {
        const path = join(work, `icebird-${compared}-${n}.parquet`);
        await writeFile(path, (await runtime.store.get(f.path))!);
        local.push(path);
      }
      const connection = await duck.connect();
      let expected: string[];
      try {
        const reader = await connection.runAndReadAll(
          `SELECT order_id::VARCHAR AS o, customer AS c, quantity::VARCHAR AS q, amount::VARCHAR AS a,
                  gift::VARCHAR AS g, ingest_date::VARCHAR AS d
           FROM ${readParquetSql(local, schemaOf(m, snapshot))}`,
        );
        expected = reader
          .getRowObjectsJS()
          .map((r) => [r.o, r.c, r.q, r.a, r.g, r.d].map((v) => (v === null ? 'NULL' : String(v))).join('|'))
          .sort();
      } finally {
        connection.closeSync();
      }
      const actual = (await icebirdRead(runtime.store, location)).map((r) =>
        [r.order_id, r.customer, r.quantity, r.amount, r.gift, r.ingest_date]
          .map((v, i) =>
            v === null || v === undefined
              ? 'NULL'
              : v instanceof Date
                ? v.toISOString().slice(0, 10)
                : i === 3
                  ? Number(v).toFixed(2)
                  : String(v),
          )
          .join('|'),
      );
      expect(actual.sort()).toEqual(expected);
      expect(expected.length).toBe(Number(snapshot.summary['total-records']));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(3);
  });
});
