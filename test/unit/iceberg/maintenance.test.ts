/**
 * Compaction (replace), tags and snapshot expiry, each read back by icebird and by DuckDB over
 * `liveFiles`, as the current state and as older metadata (time travel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, readManifestList } from '../../../lib/iceberg/avro.ts';
import { currentSnapshot } from '../../../lib/iceberg/metadata.ts';
import { history, liveFiles, selectSnapshot } from '../../../lib/iceberg/scan.ts';
import {
  appendFiles,
  type DataFileSpec,
  ensureTable,
  expireSnapshots,
  loadTable,
  ReplaceConflictError,
  replaceFiles,
  type TableRef,
  tagSnapshot,
} from '../../../lib/iceberg/table.ts';
import {
  duckdbRows,
  expectedOrders,
  icebirdRows,
  type Lake,
  part,
  SCHEMA,
  startLake,
  writeOrders,
} from './harness.ts';

let lake: Lake;
beforeAll(async () => {
  lake = await startLake();
});
afterAll(async () => {
  await lake?.close();
});

/** A table with three appends (a, b on 12-01; c on 12-02) at times 1000, 2000, 3000. */
async function threeAppends(name: string, clock: { t: number }) {
  const deps = lake.deps({ now: () => clock.t });
  const t = lake.table(name);
  await ensureTable(deps, t, SCHEMA);
  const at = (d: string, n: string) => `${t.location}/data/ingest_date=${d}/${n}.parquet`;
  const parts = {
    a: part(1, 10, '2026-12-01'),
    b: part(100, 20, '2026-12-01'),
    c: part(200, 5, '2026-12-02'),
  };
  const files: Record<string, DataFileSpec> = {};
  const locations: string[] = [];
  for (const [i, [k, p]] of Object.entries(parts).entries()) {
    clock.t = 1000 * (i + 1);
    files[k] = await writeOrders(lake.store, at(p.ingestDate, k), p);
    locations.push((await appendFiles(deps, t, [{ tag: k, files: [files[k]!] }])).metadataLocation);
  }
  return { deps, t, parts, files, locations };
}

async function state(t: TableRef) {
  return loadTable(lake.deps(), t);
}

describe('replaceFiles', () => {
  it('replaces two files by one holding their rows; readers see the same rows; older metadata still reads the old files', async () => {
    const clock = { t: 0 };
    const { deps, t, parts, files, locations } = await threeAppends('compact', clock);
    const ab = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/ab.parquet`,
      part(1, 30, '2026-12-01'),
    );
    const before = await expectedOrders([parts.a, parts.b, parts.c]);
    // The compacted file's rows are written afresh here: same count, other ids, so a reader that
    // still read a or b (or missed ab) would show it.
    const after = await expectedOrders([part(1, 30, '2026-12-01'), parts.c]);

    clock.t = 4000;
    const r = await replaceFiles(deps, t, { remove: [files.a!.path, files.b!.path], add: [ab] });
    const { metadata } = await state(t);

    expect(history(metadata).at(-1)).toMatchObject({
      snapshotId: r.snapshotId,
      operation: 'replace',
      totalRows: 35,
      totalFiles: 2,
      addedFiles: 1,
    });
    expect(currentSnapshot(metadata)!.summary).toMatchObject({
      'deleted-data-files': '2',
      'deleted-records': '30',
    });
    expect(
      (await liveFiles(lake.store, metadata, selectSnapshot(metadata))).map((f) => f.path).sort(),
    ).toEqual([ab.path, files.c!.path].sort());
    expect(await duckdbRows(lake.store, metadata)).toEqual(after);
    expect(await icebirdRows(lake.store, r.metadataLocation)).toEqual(after);
    expect(await icebirdRows(lake.store, locations[2]!)).toEqual(before);

    // The rewritten manifests mark a and b DELETED by the replace, with explicit sequence numbers.
    const lists = readManifestList((await lake.store.get(currentSnapshot(metadata)!['manifest-list']))!);
    const entries = (
      await Promise.all(lists.map(async (m) => readManifest((await lake.store.get(m.path))!)))
    ).flat();
    const deleted = entries.filter((e) => e.status === 2);
    expect(deleted.map((e) => e.file.path).sort()).toEqual([files.a!.path, files.b!.path].sort());
    expect(
      deleted.every(
        (e) =>
          e.snapshotId === BigInt(r.snapshotId) && e.sequenceNumber !== null && e.fileSequenceNumber !== null,
      ),
    ).toBe(true);
  });

  it('refuses when a removed file is no longer live (replaced concurrently), and changes nothing', async () => {
    const clock = { t: 0 };
    const { deps, t, files } = await threeAppends('refuse', clock);
    const ab = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/ab.parquet`,
      part(1, 30, '2026-12-01'),
    );
    await replaceFiles(deps, t, { remove: [files.a!.path, files.b!.path], add: [ab] });
    const { pointer } = await state(t);
    const a2 = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/a2.parquet`,
      part(1, 10, '2026-12-01'),
    );

    await expect(replaceFiles(deps, t, { remove: [files.a!.path], add: [a2] })).rejects.toThrow(
      ReplaceConflictError,
    );
    await expect(replaceFiles(deps, t, { remove: [files.a!.path], add: [a2] })).rejects.toThrow(
      new RegExp(
        `cannot replace 1 file\\(s\\) no longer live in lake\\.refuse, first "${files.a!.path.replaceAll('.', '\\.')}"`,
      ),
    );
    expect((await state(t)).pointer).toEqual(pointer);
  });

  it('a replace racing appends is retried on the new base and keeps every appended row', async () => {
    const clock = { t: 0 };
    const { t, parts, files } = await threeAppends('race', clock);
    const ab = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/ab.parquet`,
      part(1, 30, '2026-12-01'),
    );
    const extra = [part(500, 4, '2026-12-02'), part(600, 5, '2026-12-03'), part(700, 6, '2026-12-03')];
    const extraFiles = await Promise.all(
      extra.map((p, i) =>
        writeOrders(lake.store, `${t.location}/data/ingest_date=${p.ingestDate}/x${i}.parquet`, p),
      ),
    );

    await Promise.all([
      replaceFiles(lake.deps({ attempts: 50 }), t, { remove: [files.a!.path, files.b!.path], add: [ab] }),
      ...extraFiles.map((f, i) =>
        appendFiles(lake.deps({ attempts: 50 }), t, [{ tag: `x${i}`, files: [f] }]),
      ),
    ]);
    const { pointer, metadata } = await state(t);

    const expected = await expectedOrders([part(1, 30, '2026-12-01'), parts.c, ...extra]);
    expect(await duckdbRows(lake.store, metadata)).toEqual(expected);
    expect(await icebirdRows(lake.store, pointer.metadataLocation)).toEqual(expected);
    expect(
      history(metadata)
        .map((h) => h.operation)
        .sort(),
    ).toEqual(['append', 'append', 'append', 'append', 'append', 'append', 'replace']);
    expect(history(metadata).at(-1)!.totalRows).toBe(30 + 5 + 15);
  });

  it('refuses a replace that would change the row count', async () => {
    const clock = { t: 0 };
    const { deps, t, files } = await threeAppends('rowcount', clock);
    const short = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/s.parquet`,
      part(1, 9, '2026-12-01'),
    );
    await expect(replaceFiles(deps, t, { remove: [files.a!.path], add: [short] })).rejects.toThrow(
      /a replace must keep the rows: it removes 10 and adds 9/,
    );
  });
});

describe('tagSnapshot and expireSnapshots', () => {
  it('expiry keeps tagged snapshots and the last ones, deletes only what no kept snapshot reaches', async () => {
    const clock = { t: 0 };
    const { deps, t, parts, files, locations } = await threeAppends('expire', clock);
    const first = history((await state(t)).metadata)[0]!;
    clock.t = 3500;
    await expect(tagSnapshot(deps, t, 'v1', first.snapshotId)).resolves.toEqual({
      snapshotId: first.snapshotId,
    });
    await expect(tagSnapshot(deps, t, 'v1', first.snapshotId)).resolves.toEqual({
      snapshotId: first.snapshotId,
    });
    await expect(tagSnapshot(deps, t, 'v1')).rejects.toThrow(/ref "v1" exists already on snapshot/);
    const ab = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/ab.parquet`,
      part(1, 30, '2026-12-01'),
    );
    clock.t = 4000;
    await replaceFiles(deps, t, { remove: [files.a!.path, files.b!.path], add: [ab] });
    const lists = (await state(t)).metadata.snapshots!.map((s) => s['manifest-list']);

    clock.t = 5000;
    const r = await expireSnapshots(deps, t, { olderThanMs: 4000, retainLast: 1 });
    const { pointer, metadata } = await state(t);
    const h = history(metadata);

    // Snapshot 1 is tagged, 4 is current; 2 and 3 are older than 4000 and expire.
    expect(r.expired).toHaveLength(2);
    expect(h.map((s) => s.sequenceNumber)).toEqual([1, 4]);
    expect(h[0]!.tags).toEqual(['v1']);
    expect(await lake.store.get(lists[1]!)).toBeUndefined();
    expect(await lake.store.get(lists[2]!)).toBeUndefined();
    expect(await lake.store.get(lists[0]!)).toBeDefined();
    // a is read by the tagged snapshot; b only by expired ones (live in 2 and 3, replaced by 4).
    expect(await lake.store.size(files.a!.path)).toBe(files.a!.bytes);
    expect(await lake.store.size(files.b!.path)).toBeUndefined();
    expect(await lake.store.size(files.c!.path)).toBe(files.c!.bytes);

    const now = await expectedOrders([part(1, 30, '2026-12-01'), parts.c]);
    expect(await duckdbRows(lake.store, metadata)).toEqual(now);
    expect(await icebirdRows(lake.store, pointer.metadataLocation)).toEqual(now);
    expect(await duckdbRows(lake.store, metadata, { tag: 'v1' })).toEqual(await expectedOrders([parts.a]));
    expect(await icebirdRows(lake.store, locations[0]!)).toEqual(await expectedOrders([parts.a]));
    // The log keeps only entries after the last expired snapshot: "as of" 2500 (snapshot 2's time)
    // must not answer with the tagged snapshot 1.
    expect(metadata['snapshot-log']!).toHaveLength(1);
    expect(() => selectSnapshot(metadata, { asOfMs: 2500 })).toThrow(
      /no snapshot as of 1970-01-01T00:00:02\.500Z/,
    );

    // Nothing more to expire: no commit.
    await expect(expireSnapshots(deps, t, { olderThanMs: 5000, retainLast: 1 })).resolves.toEqual({
      expired: [],
    });
    expect((await state(t)).pointer).toEqual(pointer);
  });

  it('expiry with no tag deletes the data files only expired snapshots reached', async () => {
    const clock = { t: 0 };
    const { deps, t, parts, files } = await threeAppends('expire-files', clock);
    const ab = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/ab.parquet`,
      part(1, 30, '2026-12-01'),
    );
    clock.t = 4000;
    await replaceFiles(deps, t, { remove: [files.a!.path, files.b!.path], add: [ab] });

    const r = await expireSnapshots(deps, t, { olderThanMs: 10_000, retainLast: 1 });
    const { pointer, metadata } = await state(t);

    expect(r.expired).toHaveLength(3);
    expect(metadata.snapshots).toHaveLength(1);
    expect(metadata['current-snapshot-id']).toBe(metadata.snapshots![0]!['snapshot-id']);
    // a and b are read by no kept snapshot (the kept one names them only as DELETED): gone.
    expect(await lake.store.size(files.a!.path)).toBeUndefined();
    expect(await lake.store.size(files.b!.path)).toBeUndefined();
    expect(await lake.store.size(files.c!.path)).toBe(files.c!.bytes);
    expect(await lake.store.size(ab.path)).toBe(ab.bytes);
    const now = await expectedOrders([part(1, 30, '2026-12-01'), parts.c]);
    expect(await icebirdRows(lake.store, pointer.metadataLocation)).toEqual(now);
    expect(await duckdbRows(lake.store, metadata)).toEqual(now);
  });

  it('keeps retainLast snapshots of main however old', async () => {
    const clock = { t: 0 };
    const { deps, t } = await threeAppends('retain', clock);
    const r = await expireSnapshots(deps, t, { olderThanMs: 1_000_000, retainLast: 2 });
    const { metadata } = await state(t);
    expect(r.expired).toHaveLength(1);
    expect(history(metadata).map((s) => s.sequenceNumber)).toEqual([2, 3]);
  });
});

describe('python3-avro over every Avro file these tests wrote', () => {
  it('reads each manifest and manifest list, and finds a field id on every field', async () => {
    const report = await lake.avroReport();
    expect(report.length).toBeGreaterThan(20);
    for (const r of report) {
      expect(r.fieldsWithoutId, r.path).toEqual([]);
      expect(r.meta['format-version'], r.path).toBe('2');
    }
  });
});
