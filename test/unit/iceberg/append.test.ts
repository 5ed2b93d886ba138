/**
 * Create and append against s3rver and the local pointer catalog, read back by two independent
 * readers: DuckDB by field id over the core's own `liveFiles`, and icebird over the metadata,
 * manifest list and manifests as written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestList } from '../../../lib/iceberg/avro.ts';
import { currentSnapshot, parseMetadata } from '../../../lib/iceberg/metadata.ts';
import { history, liveFiles, SnapshotNotFoundError, selectSnapshot } from '../../../lib/iceberg/scan.ts';
import {
  appendFiles,
  ensureTable,
  loadTable,
  MAX_MANIFESTS,
  TableNotFoundError,
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

describe('ensureTable', () => {
  it('creates a v2 table once, partitioned by identity(ingest_date), and is a no-op afterwards', async () => {
    const deps = lake.deps();
    const t = lake.table('created');
    const created = await ensureTable(deps, t, SCHEMA, { 'write.format.default': 'parquet' });
    const again = await ensureTable(deps, t, SCHEMA);
    const { metadata } = await loadTable(deps, t);

    expect(created.created).toBe(true);
    expect(created.metadataLocation).toMatch(
      /^s3:\/\/curated\/created\/iceberg\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/,
    );
    expect(again).toEqual({ metadataLocation: created.metadataLocation, created: false });
    expect(metadata).toMatchObject({
      'format-version': 2,
      location: t.location,
      'last-sequence-number': 0,
      'last-column-id': 4,
      'current-schema-id': 0,
      'partition-specs': [
        {
          'spec-id': 0,
          fields: [{ 'source-id': 1, 'field-id': 1000, transform: 'identity', name: 'ingest_date' }],
        },
      ],
      'last-partition-id': 1000,
      'sort-orders': [{ 'order-id': 0, fields: [] }],
      properties: { 'write.format.default': 'parquet' },
      refs: {},
      snapshots: [],
    });
    expect(currentSnapshot(metadata)).toBeUndefined();
  });

  it('reads an empty table as no rows, and icebird refuses it for want of a snapshot', async () => {
    const deps = lake.deps();
    const t = lake.table('empty');
    const { metadataLocation } = await ensureTable(deps, t, SCHEMA);
    const { metadata } = await loadTable(deps, t);

    expect(await duckdbRows(lake.store, metadata)).toEqual([]);
    expect(await liveFiles(lake.store, metadata, selectSnapshot(metadata))).toEqual([]);
    await expect(icebirdRows(lake.store, metadataLocation)).rejects.toThrow(/No current snapshot/);
  });

  it('loadTable names a table the catalog lacks', async () => {
    await expect(loadTable(lake.deps(), lake.table('nowhere'))).rejects.toThrow(TableNotFoundError);
  });
});

describe('appendFiles', () => {
  it('appends sources in one snapshot each commit; both readers see every row, older metadata reads the older state', async () => {
    const deps = lake.deps();
    const t = lake.table('orders');
    await ensureTable(deps, t, SCHEMA);
    const at = (d: string, n: string) => `${t.location}/data/ingest_date=${d}/${n}.parquet`;

    const a = await writeOrders(lake.store, at('2026-12-01', 'a'), part(1, 50, '2026-12-01'));
    const r1 = await appendFiles(deps, t, [{ tag: 'orders/a.csv#v1', files: [a] }]);
    const b1 = await writeOrders(lake.store, at('2026-12-02', 'b1'), part(1000, 30, '2026-12-02'));
    const b2 = await writeOrders(lake.store, at('2026-12-02', 'b2'), part(2000, 20, '2026-12-02'));
    const c = await writeOrders(lake.store, at('2026-12-03', 'c'), part(3000, 7, '2026-12-03'));
    const r2 = await appendFiles(deps, t, [
      { tag: 'orders/b.csv#v1', files: [b1, b2] },
      { tag: 'orders/c.csv#v9', files: [c] },
    ]);
    const { metadata } = await loadTable(deps, t);

    expect(r1).toMatchObject({ attempts: 1, conflicts: 0 });
    expect(r1.bySource['orders/a.csv#v1']).toMatchObject({ status: 'committed', sequenceNumber: 1 });
    expect(r2.bySource['orders/b.csv#v1']).toMatchObject({ status: 'committed', sequenceNumber: 2 });
    expect(r2.bySource['orders/c.csv#v9']).toEqual(r2.bySource['orders/b.csv#v1']);
    expect(r2.metadataLocation).toMatch(/\/metadata\/00002-[0-9a-f-]{36}\.metadata\.json$/);

    const all = await expectedOrders([
      part(1, 50, '2026-12-01'),
      part(1000, 30, '2026-12-02'),
      part(2000, 20, '2026-12-02'),
      part(3000, 7, '2026-12-03'),
    ]);
    expect(all).toHaveLength(107);
    expect(await duckdbRows(lake.store, metadata)).toEqual(all);
    expect(await icebirdRows(lake.store, r2.metadataLocation)).toEqual(all);

    // Time travel: the older metadata file (icebird), and the older snapshot by id (DuckDB).
    const first = await expectedOrders([part(1, 50, '2026-12-01')]);
    expect(await icebirdRows(lake.store, r1.metadataLocation)).toEqual(first);
    expect(
      await duckdbRows(lake.store, metadata, { snapshotId: r1.bySource['orders/a.csv#v1']!.snapshotId }),
    ).toEqual(first);

    const h = history(metadata);
    expect(
      h.map((s) => [s.sequenceNumber, s.operation, s.addedRows, s.totalRows, s.addedFiles, s.totalFiles]),
    ).toEqual([
      [1, 'append', 50, 50, 1, 1],
      [2, 'append', 57, 107, 3, 4],
    ]);
    expect(h[1]!.sources).toEqual(['orders/b.csv#v1', 'orders/c.csv#v9']);
    expect(h[1]!.parentSnapshotId).toBe(h[0]!.snapshotId);
    expect(metadata['metadata-log']!.map((e) => e['metadata-file'])).toHaveLength(2);
    expect(metadata['metadata-log']![1]!['metadata-file']).toBe(r1.metadataLocation);

    // The manifest list carries the parent's manifest over unchanged, after the new one.
    const list = readManifestList((await lake.store.get(currentSnapshot(metadata)!['manifest-list']))!);
    expect(list.map((m) => [m.sequenceNumber, m.addedFiles, m.addedRows])).toEqual([
      [2n, 3, 57n],
      [1n, 1, 50n],
    ]);
    expect(list[0]!.partitions[0]!.lowerBound).toEqual(new Uint8Array([0x35, 0x51, 0, 0])); // 2026-12-02 = day 20789 = 0x5135
    expect(list[0]!.partitions[0]!.upperBound).toEqual(new Uint8Array([0x36, 0x51, 0, 0]));

    expect(await liveFiles(lake.store, metadata, selectSnapshot(metadata))).toEqual([
      { path: b1.path, rows: 30, bytes: b1.bytes, ingestDate: '2026-12-02' },
      { path: b2.path, rows: 20, bytes: b2.bytes, ingestDate: '2026-12-02' },
      { path: c.path, rows: 7, bytes: c.bytes, ingestDate: '2026-12-03' },
      { path: a.path, rows: 50, bytes: a.bytes, ingestDate: '2026-12-01' },
    ]);
  });

  it('a source already committed is `exists` with its snapshot, and changes nothing', async () => {
    const deps = lake.deps();
    const t = lake.table('idem');
    await ensureTable(deps, t, SCHEMA);
    const a = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/a.parquet`,
      part(1, 5, '2026-12-01'),
    );
    const b = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/b.parquet`,
      part(100, 6, '2026-12-01'),
    );
    const first = await appendFiles(deps, t, [{ tag: 'a#1', files: [a] }]);

    const again = await appendFiles(deps, t, [{ tag: 'a#1', files: [a] }]);
    const mixed = await appendFiles(deps, t, [
      { tag: 'a#1', files: [a] },
      { tag: 'b#1', files: [b] },
    ]);
    const { metadata } = await loadTable(deps, t);

    expect(again).toEqual({
      metadataLocation: first.metadataLocation,
      bySource: { 'a#1': { ...first.bySource['a#1'], status: 'exists' } },
      attempts: 0,
      conflicts: 0,
    });
    expect(mixed.bySource['a#1']).toEqual({ ...first.bySource['a#1'], status: 'exists' });
    expect(mixed.bySource['b#1']).toMatchObject({ status: 'committed', sequenceNumber: 2 });
    expect(metadata.snapshots).toHaveLength(2);
    expect(history(metadata)[1]!.sources).toEqual(['b#1']);
    expect(await duckdbRows(lake.store, metadata)).toEqual(
      await expectedOrders([part(1, 5, '2026-12-01'), part(100, 6, '2026-12-01')]),
    );
  });

  it('refuses a request naming a source or file twice, a bad count or a date that does not exist', async () => {
    const deps = lake.deps();
    const t = lake.table('bad-requests');
    await ensureTable(deps, t, SCHEMA);
    const f = {
      path: `${t.location}/data/ingest_date=2026-02-28/x.parquet`,
      rows: 1,
      bytes: 10,
      ingestDate: '2026-02-28',
    };

    await expect(
      appendFiles(deps, t, [
        { tag: 'a', files: [f] },
        { tag: 'a', files: [] },
      ]),
    ).rejects.toThrow(/source "a" is given twice/);
    await expect(
      appendFiles(deps, t, [
        { tag: 'a', files: [f] },
        { tag: 'b', files: [f] },
      ]),
    ).rejects.toThrow(/is given twice/);
    await expect(appendFiles(deps, t, [{ tag: 'a', files: [{ ...f, rows: -1 }] }])).rejects.toThrow(
      /bad row count -1/,
    );
    await expect(
      appendFiles(deps, t, [{ tag: 'a', files: [{ ...f, ingestDate: '2026-02-30' }] }]),
    ).rejects.toThrow(/invalid date "2026-02-30"/);
    expect((await loadTable(deps, t)).metadata.snapshots).toEqual([]);
  });

  it(`merges the carried-over manifests into one past ${MAX_MANIFESTS}, rows unchanged`, async () => {
    const deps = lake.deps();
    const t = lake.table('merge');
    await ensureTable(deps, t, SCHEMA);
    const parts = [];
    for (let i = 0; i < MAX_MANIFESTS + 1; i++) {
      const p = part(i * 10, 2, '2026-11-01');
      parts.push(p);
      const f = await writeOrders(lake.store, `${t.location}/data/ingest_date=2026-11-01/f${i}.parquet`, p);
      await appendFiles(deps, t, [{ tag: `f${i}#1`, files: [f] }]);
    }
    const { pointer, metadata } = await loadTable(deps, t);
    const list = readManifestList((await lake.store.get(currentSnapshot(metadata)!['manifest-list']))!);

    // 100 appends: 100 manifests; the 101st merges the 100 carried over into one.
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({
      existingFiles: MAX_MANIFESTS,
      addedFiles: 0,
      sequenceNumber: 101n,
      minSequenceNumber: 1n,
    });
    const expected = await expectedOrders(parts);
    expect(await duckdbRows(lake.store, metadata)).toEqual(expected);
    expect(await icebirdRows(lake.store, pointer.metadataLocation)).toEqual(expected);
  });

  it('keeps write.metadata.previous-versions-max entries in the metadata log', async () => {
    const deps = lake.deps();
    const t = lake.table('trim');
    await ensureTable(deps, t, SCHEMA, { 'write.metadata.previous-versions-max': '2' });
    const locations = [];
    for (let i = 0; i < 4; i++) {
      const f = await writeOrders(
        lake.store,
        `${t.location}/data/ingest_date=2026-11-01/t${i}.parquet`,
        part(i, 1, '2026-11-01'),
      );
      locations.push((await appendFiles(deps, t, [{ tag: `t${i}`, files: [f] }])).metadataLocation);
    }
    const { metadata } = await loadTable(deps, t);

    expect(metadata['metadata-log']!.map((e) => e['metadata-file'])).toEqual(locations.slice(1, 3));
    expect(parseMetadata(new TextDecoder().decode((await lake.store.get(locations[3]!))!))).toEqual(metadata);
  });
});

describe('selectSnapshot', () => {
  it('selects by id, time and tag, and names what is missing', async () => {
    const deps = lake.deps();
    const t = lake.table('select');
    await ensureTable(deps, t, SCHEMA);
    let clock = 1_000_000;
    const timed = lake.deps({ now: () => clock });
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-11-01/s.parquet`,
      part(1, 3, '2026-11-01'),
    );
    const g = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-11-01/g.parquet`,
      part(9, 3, '2026-11-01'),
    );
    const r1 = await appendFiles(timed, t, [{ tag: 's', files: [f] }]);
    clock = 2_000_000;
    await appendFiles(timed, t, [{ tag: 'g', files: [g] }]);
    const { metadata } = await loadTable(deps, t);
    const id1 = r1.bySource.s!.snapshotId;

    expect(selectSnapshot(metadata, { asOfMs: 1_500_000 })!['snapshot-id'].toString()).toBe(id1);
    expect(selectSnapshot(metadata, { asOfMs: 2_000_000 })).toBe(currentSnapshot(metadata));
    expect(() => selectSnapshot(metadata, { asOfMs: 999_999 })).toThrow(
      /no snapshot as of 1970-01-01T00:16:39\.999Z \(the oldest kept is of 1970-01-01T00:16:40\.000Z\)/,
    );
    expect(() => selectSnapshot(metadata, { snapshotId: '42' })).toThrow(SnapshotNotFoundError);
    expect(() => selectSnapshot(metadata, { snapshotId: 'latest' })).toThrow(/"latest" is not a snapshot id/);
    expect(() => selectSnapshot(metadata, { tag: 'v1' })).toThrow(
      /no tag "v1" in the table \(it has no tags\)/,
    );
  });
});

describe('python3-avro over every Avro file these tests wrote', () => {
  it('reads each manifest and manifest list, and finds a field id on every field', async () => {
    const report = await lake.avroReport();
    expect(report.length).toBeGreaterThan(200);
    for (const r of report) {
      expect(r.fieldsWithoutId, r.path).toEqual([]);
      expect(r.meta['format-version'], r.path).toBe('2');
    }
  });
});
