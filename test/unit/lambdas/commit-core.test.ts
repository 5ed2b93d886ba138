/**
 * The commit core against real things: the local S3 server, the local pointer catalog, the Iceberg
 * core, and data files written by DuckDB with (or, for the faults, without) Iceberg field ids.
 * Each test prepares the commit requests an engine would write and reads the table back.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CommitDeps, type CommitOutcome, commitBatch } from '../../../lambdas/commit/core.ts';
import type { CommitRequestFile, CommitTaskInput } from '../../../lambdas/shared/contract.ts';
import { type Dataset, parseDataset } from '../../../lib/datasets/model.ts';
import { ensureDatasetTable } from '../../../lib/iceberg/dataset-tables.ts';
import { commitRequestUri, partitionPrefix, sourceTag, tableName } from '../../../lib/iceberg/layout.ts';
import { localTableCatalog } from '../../../lib/iceberg/local-catalog.ts';
import type { ObjectStore, TableCatalog } from '../../../lib/iceberg/ports.ts';
import { s3ObjectStore } from '../../../lib/iceberg/s3-store.ts';
import { history, liveFiles, selectSnapshot } from '../../../lib/iceberg/scan.ts';
import { loadTable } from '../../../lib/iceberg/table.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../../lib/local/s3-server.ts';
import { recordingLog } from './helpers.ts';

const CURATED = 'curated';
const DATABASE = 'testdb';
const DAY = '2026-12-02';

const events: Dataset = parseDataset(
  {
    name: 'events',
    columns: [
      { name: 'id', type: 'bigint', nullable: false },
      { name: 'label', type: 'string' },
    ],
  },
  'events.json',
);
const clicks: Dataset = parseDataset(
  { name: 'clicks', columns: [{ name: 'id', type: 'bigint', nullable: false }] },
  'clicks.json',
);

let root: string;
let server: LocalS3;
let client: S3Client;
let store: ObjectStore;
let duck: DuckDBInstance;
let catalogDir: string;
let catalog: TableCatalog;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'commit-core-'));
  server = await startLocalS3({ directory: join(root, 's3'), buckets: [CURATED] });
  client = localS3Client(server.endpoint);
  store = s3ObjectStore(client);
  duck = await DuckDBInstance.create(':memory:');
});

afterAll(async () => {
  duck?.closeSync();
  client?.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

let run = 0;
beforeEach(async () => {
  // A fresh catalog (and table location prefix) per test: tables never carry over.
  run++;
  catalogDir = join(root, `catalog-${run}`);
  catalog = localTableCatalog(catalogDir);
});

/** Deps over this test's catalog; the bucket prefix keeps each test's tables apart. */
function deps(overrides: Partial<CommitDeps> = {}): CommitDeps {
  return { store, catalog, database: DATABASE, curatedBucket: CURATED, log: recordingLog(), ...overrides };
}

async function createTable(ds: Dataset): Promise<void> {
  await ensureDatasetTable({ store, catalog }, { database: DATABASE, curatedBucket: CURATED }, ds);
}

/**
 * Writes one Parquet data file of `rows` rows with DuckDB (ids from `firstId`), uploads it to the
 * day's data folder, and returns its spec. `fieldIds: false` writes it as an engine that forgot the
 * ids would.
 */
async function dataFile(
  ds: Dataset,
  name: string,
  rows: number,
  firstId: number,
  options: { fieldIds?: boolean } = {},
): Promise<{ path: string; rows: number; bytes: number }> {
  const local = join(root, `${run}-${name}`);
  const ids = ds.columns.some((c) => c.name === 'label')
    ? `{ingest_date: 1, id: 2, label: 3}`
    : `{ingest_date: 1, id: 2}`;
  const select = ds.columns.some((c) => c.name === 'label')
    ? `SELECT DATE '${DAY}' AS ingest_date, (i + ${firstId})::BIGINT AS id, 'row ' || (i + ${firstId}) AS label FROM range(${rows}) t(i)`
    : `SELECT DATE '${DAY}' AS ingest_date, (i + ${firstId})::BIGINT AS id FROM range(${rows}) t(i)`;
  const connection = await duck.connect();
  try {
    await connection.run(
      `COPY (${select}) TO '${local}' (FORMAT parquet, COMPRESSION zstd${options.fieldIds === false ? '' : `, FIELD_IDS ${ids}`})`,
    );
  } finally {
    connection.closeSync();
  }
  const body = await readFile(local);
  const path = `${partitionPrefix(CURATED, ds.name, DAY, ds.version)}${name}-r${run}.parquet`;
  await store.put(path, body);
  return { path, rows, bytes: body.length };
}

/** Puts a commit request and returns the task input that names it. */
async function request(
  ds: Dataset,
  runId: string,
  files: { path: string; rows: number; bytes: number }[],
  change: Partial<CommitRequestFile> = {},
): Promise<CommitTaskInput> {
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const uri = commitRequestUri(CURATED, ds.name, `${runId}-r${run}`);
  const body: CommitRequestFile = {
    version: 1,
    dataset: ds.name,
    runId: `${runId}-r${run}`,
    source: `s3://raw/${ds.name}/${runId}.csv`,
    ingestDate: DAY,
    rows,
    files,
    ...change,
  };
  await store.put(uri, Buffer.from(JSON.stringify(body)));
  return {
    dataset: ds.name,
    runId: `${runId}-r${run}`,
    key: `${ds.name}/${runId}.csv`,
    version: `v-${runId}-r${run}`,
    ingestDate: DAY,
    rows,
    request: uri,
  };
}

async function table(ds: Dataset) {
  const { metadata } = await loadTable(
    { store, catalog },
    { database: DATABASE, name: tableName(ds.name, ds.version) },
  );
  const m = metadata as Parameters<typeof history>[0];
  const snapshot = selectSnapshot(m);
  return { snapshots: history(m), files: snapshot ? await liveFiles(store, m, snapshot) : [] };
}

const okOf = (o: CommitOutcome | undefined) => {
  if (!o || !('ok' in o)) throw new Error(`not ok: ${JSON.stringify(o)}`);
  return o.ok;
};

describe('commitBatch', () => {
  it('appends the requests of one dataset in one snapshot, each with its own output', async () => {
    // Prepare
    await createTable(events);
    const a = await request(events, 'a', [await dataFile(events, 'a', 3, 0)]);
    const b = await request(events, 'b', [
      await dataFile(events, 'b1', 2, 3),
      await dataFile(events, 'b2', 4, 5),
    ]);
    // Act
    const outcomes = await commitBatch([a, b], deps());
    // Assess
    const [outA, outB] = outcomes.map(okOf);
    expect(outA!.snapshotId).toMatch(/^\d+$/);
    expect(outB!.snapshotId).toBe(outA!.snapshotId);
    expect(outA).toMatchObject({
      table: `${DATABASE}.events`,
      location: partitionPrefix(CURATED, 'events', DAY),
      files: 1,
      rows: 3,
      status: 'committed',
    });
    expect(outB).toMatchObject({ files: 2, rows: 6, status: 'committed' });
    const after = await table(events);
    expect(after.snapshots).toHaveLength(1);
    expect(after.snapshots[0]!.snapshotId).toBe(outA!.snapshotId);
    expect(after.snapshots[0]!.sources.sort()).toEqual(
      [sourceTag(a.key, a.version), sourceTag(b.key, b.version)].sort(),
    );
    expect(after.files.map((f) => f.rows).sort()).toEqual([2, 3, 4]);
    expect(after.files.every((f) => f.ingestDate === DAY)).toBe(true);
  });

  it('answers a request committed before with `exists` and the same snapshot, adding nothing', async () => {
    await createTable(events);
    const a = await request(events, 'a', [await dataFile(events, 'a', 3, 0)]);
    const first = okOf((await commitBatch([a], deps()))[0]);
    const again = okOf((await commitBatch([a], deps()))[0]);
    expect(again).toMatchObject({ status: 'exists', snapshotId: first.snapshotId });
    const after = await table(events);
    expect(after.snapshots).toHaveLength(1);
    expect(after.files).toHaveLength(1);
  });

  it('appends one version once when a batch holds it twice (a re-drive queued behind its first run)', async () => {
    await createTable(events);
    const first = await request(events, 'a', [await dataFile(events, 'a', 3, 0)]);
    const rerun = {
      ...(await request(events, 'a2', [await dataFile(events, 'a2', 3, 0)])),
      key: first.key,
      version: first.version,
    };
    const [one, two] = (await commitBatch([first, rerun], deps())).map(okOf);
    expect(one).toMatchObject({ status: 'committed' });
    expect(two).toMatchObject({ status: 'exists', snapshotId: one!.snapshotId });
    expect((await table(events)).files.map((f) => f.path)).toEqual([
      (JSON.parse(Buffer.from((await store.get(first.request))!).toString()) as CommitRequestFile).files[0]!
        .path,
    ]);
  });

  it('fails a request whose data file has no field ids, alone and for good; the rest of the batch commits', async () => {
    await createTable(events);
    const good = await request(events, 'good', [await dataFile(events, 'good', 3, 0)]);
    const bad = await request(events, 'bad', [await dataFile(events, 'bad', 2, 10, { fieldIds: false })]);
    const [g, b] = await commitBatch([good, bad], deps());
    expect(okOf(g).status).toBe('committed');
    expect(b).toMatchObject({ error: { name: 'DataFileError' }, transient: false });
    const after = await table(events);
    expect(after.files.map((f) => f.rows)).toEqual([3]);
    expect(after.snapshots[0]!.sources).toEqual([sourceTag(good.key, good.version)]);
  });

  it('fails a data file whose row count differs from the request', async () => {
    await createTable(events);
    const file = await dataFile(events, 'short', 3, 0);
    const lying = await request(events, 'short', [{ ...file, rows: 4 }]);
    const [o] = await commitBatch([lying], deps());
    expect(o).toMatchObject({ error: { name: 'DataFileError' }, transient: false });
    expect((await table(events)).snapshots).toHaveLength(0);
  });

  it.each([
    ['is missing', async (i: CommitTaskInput) => ({ ...i, request: `${i.request}.gone` })],
    [
      'is not JSON',
      async (i: CommitTaskInput) => {
        await store.put(i.request, Buffer.from('{"version": 1, "files": ['));
        return i;
      },
    ],
    ['belongs to another run', async (i: CommitTaskInput) => ({ ...i, runId: 'someone-else' })],
    ['belongs to another day', async (i: CommitTaskInput) => ({ ...i, ingestDate: '2026-12-01' })],
    [
      'holds fewer rows than the validator counted',
      async (i: CommitTaskInput) => ({ ...i, rows: i.rows + 1 }),
    ],
  ])('refuses a commit request that %s, for good', async (_what, spoil) => {
    await createTable(events);
    const input = await spoil(await request(events, 'x', [await dataFile(events, 'x', 3, 0)]));
    const [o] = await commitBatch([input], deps());
    expect(o).toMatchObject({ error: { name: 'CommitRequestError' }, transient: false });
    expect((await table(events)).snapshots).toHaveLength(0);
  });

  it("refuses a request whose files' rows do not add up to its total", async () => {
    await createTable(events);
    const input = await request(events, 'x', [await dataFile(events, 'x', 3, 0)], { rows: 4 });
    const [o] = await commitBatch([{ ...input, rows: 4 }], deps());
    expect(o).toMatchObject({ error: { name: 'CommitRequestError' }, transient: false });
    expect((o as { error: { message: string } }).error.message).toContain('its files hold 3 rows');
  });

  it("refuses a request naming a file outside the day's data folder (another table's file)", async () => {
    await createTable(events);
    await createTable(clicks);
    const foreign = await dataFile(clicks, 'c', 2, 0);
    const input = await request(events, 'x', [foreign]);
    const [o] = await commitBatch([input], deps());
    expect(o).toMatchObject({ error: { name: 'CommitRequestError' }, transient: false });
    expect((o as { error: { message: string } }).error.message).toContain('not in the day');
  });

  it('fails every request of a dataset without a table with TableNotFound, for good', async () => {
    const input = await request(events, 'x', [await dataFile(events, 'x', 3, 0)]);
    const outcomes = await commitBatch([input, input], deps());
    for (const o of outcomes) expect(o).toMatchObject({ error: { name: 'TableNotFound' }, transient: false });
  });

  it('commits each dataset of a batch to its own table', async () => {
    await createTable(events);
    await createTable(clicks);
    const e = await request(events, 'e', [await dataFile(events, 'e', 3, 0)]);
    const c = await request(clicks, 'c', [await dataFile(clicks, 'c', 5, 0)]);
    const [oe, oc] = (await commitBatch([e, c], deps())).map(okOf);
    expect(oe!.table).toBe(`${DATABASE}.events`);
    expect(oc!.table).toBe(`${DATABASE}.clicks`);
    expect((await table(events)).files.map((f) => f.rows)).toEqual([3]);
    expect((await table(clicks)).files.map((f) => f.rows)).toEqual([5]);
  });

  it("commits a request to its table version's table (`<dataset>_v<N>`), next to version 1's requests, and refuses the other version's files", async () => {
    const v2: Dataset = { ...events, version: 2 };
    await createTable(events);
    await createTable(v2);
    const one = await request(events, 'one', [await dataFile(events, 'one', 3, 0)]);
    const target = partitionPrefix(CURATED, 'events', DAY, 2);
    const two = { ...(await request(v2, 'two', [await dataFile(v2, 'two', 4, 10)])), target };
    const crossed = {
      ...(await request(v2, 'crossed', [await dataFile(events, 'crossed', 2, 20)])),
      target,
    };
    const oneTargeted = { ...one, target: partitionPrefix(CURATED, 'events', DAY) };

    const [o1, o2, ox, o1t] = await commitBatch([one, two, crossed, oneTargeted], deps());
    const [bad] = await commitBatch(
      [{ ...two, target: `s3://${CURATED}/events/v0/iceberg/data/ingest_date=${DAY}/` }],
      deps(),
    );

    expect(okOf(o1)).toMatchObject({
      table: `${DATABASE}.events`,
      location: partitionPrefix(CURATED, 'events', DAY),
    });
    expect(okOf(o2)).toMatchObject({
      table: `${DATABASE}.events_v2`,
      location: `s3://${CURATED}/events/v2/iceberg/data/ingest_date=${DAY}/`,
      rows: 4,
    });
    expect(ox).toMatchObject({ error: { name: 'CommitRequestError' }, transient: false });
    expect((ox as { error: { message: string } }).error.message).toContain('events/v2/iceberg/data/');
    expect(bad).toMatchObject({ error: { name: 'CommitRequestError' }, transient: false });
    expect((bad as { error: { message: string } }).error.message).toContain(
      'is not a day folder of a table of dataset "events"',
    );
    // The same landed version as `one`: committed once, found again by its source tag.
    expect(okOf(o1t)).toMatchObject({ table: `${DATABASE}.events` });
    expect((await table(events)).files.map((f) => f.rows)).toEqual([3]);
    expect((await table(v2)).files.map((f) => f.rows)).toEqual([4]);
  });

  it('takes a data file written under an older schema of the table after the table evolved (no new column)', async () => {
    await createTable(events);
    const old = await request(events, 'old', [await dataFile(events, 'old', 3, 0)]);
    const evolved: Dataset = {
      ...events,
      columns: [...events.columns, { ...events.columns[1]!, name: 'region' }],
    };
    const made = await ensureDatasetTable(
      { store, catalog },
      { database: DATABASE, curatedBucket: CURATED },
      evolved,
    );

    const [o] = await commitBatch([old], deps());

    expect(made.status).toBe('evolved');
    expect(okOf(o).status).toBe('committed');
    expect((await table(events)).snapshots.map((s) => s.schemaId)).toEqual([1]);
  });

  it("gives every request of a dataset a transient error when the append fails, and reports the append's conflicts when it works", async () => {
    await createTable(events);
    const a = await request(events, 'a', [await dataFile(events, 'a', 3, 0)]);
    const b = await request(events, 'b', [await dataFile(events, 'b', 3, 3)]);
    // The catalog's swap fails before it changes anything (a network error on the way out).
    const failing: TableCatalog = {
      ...catalog,
      load: catalog.load.bind(catalog),
      create: catalog.create.bind(catalog),
      swap: async () => {
        throw new Error('connection reset');
      },
    };
    const outcomes = await commitBatch([a, b], deps({ catalog: failing }));
    for (const o of outcomes) expect(o).toMatchObject({ transient: true });
    expect((await table(events)).snapshots).toHaveLength(0);
    // The same requests, retried with a working catalog, commit once.
    const appends: number[] = [];
    const retried = await commitBatch([a, b], deps({ onAppend: (_ds, r) => appends.push(r.conflicts) }));
    expect(retried.map((o) => okOf(o).status)).toEqual(['committed', 'committed']);
    expect(appends).toEqual([0]);
  });
});
