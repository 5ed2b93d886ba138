/**
 * Concurrent committers on one table, each with its own deps (as separate processes would be) over
 * the same pointer folder: every source lands exactly once, and a swap whose outcome is unknown
 * ends in the right state.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentSnapshot } from '../../../lib/iceberg/metadata.ts';
import {
  CommitConflictError,
  CommitStateUnknownError,
  type TableCatalog,
} from '../../../lib/iceberg/ports.ts';
import { history } from '../../../lib/iceberg/scan.ts';
import { appendFiles, ensureTable, loadTable } from '../../../lib/iceberg/table.ts';
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

/** A catalog whose swaps misbehave as `fault` says, over the real local catalog. */
function faulty(
  inner: TableCatalog,
  fault: (call: number) => 'lost-response' | 'fail' | 'ok',
): TableCatalog & { calls: number } {
  const wrapped = {
    calls: 0,
    load: inner.load.bind(inner),
    create: inner.create.bind(inner),
    async swap(...args: Parameters<TableCatalog['swap']>) {
      const what = fault(++wrapped.calls);
      if (what === 'fail') throw new Error('socket hang up (before the request reached the catalog)');
      await inner.swap(...args);
      if (what === 'lost-response') throw new Error('socket hang up (after the catalog swapped)');
    },
  };
  return wrapped;
}

describe('parallel appenders', () => {
  it('8 appenders with their own deps all commit; each source once, every row once', async () => {
    const t = lake.table('parallel');
    await ensureTable(lake.deps(), t, SCHEMA);
    const N = 8;
    const parts = Array.from({ length: N }, (_, i) => part(i * 1000, 10 + i, `2026-12-0${(i % 3) + 1}`));
    const files = await Promise.all(
      parts.map((p, i) =>
        writeOrders(lake.store, `${t.location}/data/ingest_date=${p.ingestDate}/p${i}.parquet`, p),
      ),
    );

    const results = await Promise.all(
      files.map((f, i) => appendFiles(lake.deps({ attempts: 50 }), t, [{ tag: `src${i}#v1`, files: [f] }])),
    );
    const { pointer, metadata } = await loadTable(lake.deps(), t);

    expect(results.every((r) => Object.values(r.bySource)[0]!.status === 'committed')).toBe(true);
    expect(results.reduce((a, r) => a + r.conflicts, 0)).toBeGreaterThan(0);
    const h = history(metadata);
    expect(h).toHaveLength(N);
    expect(h.flatMap((s) => s.sources).sort()).toEqual(parts.map((_, i) => `src${i}#v1`).sort());
    expect(h.map((s) => s.sequenceNumber)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(h.at(-1)!.totalRows).toBe(parts.reduce((a, p) => a + p.rows, 0));
    const expected = await expectedOrders(parts);
    expect(await duckdbRows(lake.store, metadata)).toEqual(expected);
    expect(await icebirdRows(lake.store, pointer.metadataLocation)).toEqual(expected);
    // A conflicting attempt's metadata file and manifest list are deleted; one of each per snapshot stays.
    const metadataFiles = (await lake.store.list(`${t.location}/metadata/`)).map((u) => u.split('/').at(-1)!);
    expect(metadataFiles.filter((n) => n.endsWith('.metadata.json'))).toHaveLength(N + 1);
    expect(metadataFiles.filter((n) => n.startsWith('snap-'))).toHaveLength(N);
    expect(metadataFiles.filter((n) => n.endsWith('-m0.avro'))).toHaveLength(N);
  });

  it('the same source from 4 appenders at once is committed by one and `exists` for the others', async () => {
    const t = lake.table('same-source');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/x.parquet`,
      part(1, 9, '2026-12-01'),
    );

    const results = await Promise.all(
      [0, 1, 2, 3].map(() => appendFiles(lake.deps({ attempts: 50 }), t, [{ tag: 'x#1', files: [f] }])),
    );
    const { metadata } = await loadTable(lake.deps(), t);

    expect(results.map((r) => r.bySource['x#1']!.status).sort()).toEqual([
      'committed',
      'exists',
      'exists',
      'exists',
    ]);
    expect(new Set(results.map((r) => r.bySource['x#1']!.snapshotId)).size).toBe(1);
    expect(metadata.snapshots).toHaveLength(1);
    expect(await duckdbRows(lake.store, metadata)).toEqual(await expectedOrders([part(1, 9, '2026-12-01')]));
  });
});

describe('a swap with an unknown outcome', () => {
  it('a lost response (swapped, then threw) is a success, with no second snapshot', async () => {
    const t = lake.table('lost');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/l.parquet`,
      part(1, 4, '2026-12-01'),
    );
    const catalog = faulty(lake.deps().catalog, () => 'lost-response');

    const r = await appendFiles(lake.deps({ catalog }), t, [{ tag: 'l#1', files: [f] }]);
    const { pointer, metadata } = await loadTable(lake.deps(), t);

    expect(catalog.calls).toBe(1);
    expect(r.bySource['l#1']!.status).toBe('committed');
    expect(r.metadataLocation).toBe(pointer.metadataLocation);
    expect(metadata.snapshots).toHaveLength(1);
    expect(await lake.store.get(r.metadataLocation)).toBeDefined();
  });

  it('a swap that succeeded and then reported a conflict (an SDK retry meeting its own change) is a success', async () => {
    const t = lake.table('self-conflict');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/l.parquet`,
      part(1, 4, '2026-12-01'),
    );
    const inner = lake.deps().catalog;
    const catalog: TableCatalog = {
      load: inner.load,
      create: inner.create,
      swap: async (...args) => {
        await inner.swap(...args);
        throw new CommitConflictError('version mismatch (the retry of a request that had succeeded)');
      },
    };

    const r = await appendFiles(lake.deps({ catalog }), t, [{ tag: 'l#1', files: [f] }]);
    const { pointer, metadata } = await loadTable(lake.deps(), t);

    expect(r.bySource['l#1']!.status).toBe('committed');
    expect(r.metadataLocation).toBe(pointer.metadataLocation);
    expect(metadata.snapshots).toHaveLength(1);
    expect(await lake.store.get(pointer.metadataLocation)).toBeDefined();
    expect(await lake.store.get(currentSnapshot(metadata)!['manifest-list'])).toBeDefined();
  });

  it('ensureTable keeps its metadata file when the catalog says "exists" to its own create (a retried request)', async () => {
    const t = lake.table('self-create');
    const inner = lake.deps().catalog;
    const catalog: TableCatalog = {
      ...inner,
      load: inner.load,
      swap: inner.swap,
      create: async (...args) => {
        await inner.create(...args);
        return 'exists';
      },
    };

    const r = await ensureTable(lake.deps({ catalog }), t, SCHEMA);
    const { pointer } = await loadTable(lake.deps(), t);

    expect(r).toEqual({ metadataLocation: pointer.metadataLocation, created: true });
    expect(await lake.store.get(pointer.metadataLocation)).toBeDefined();
  });

  it('a swap that failed before the catalog is retried, and the failed attempt cleaned up', async () => {
    const t = lake.table('failed');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/l.parquet`,
      part(1, 4, '2026-12-01'),
    );
    const catalog = faulty(lake.deps().catalog, (n) => (n === 1 ? 'fail' : 'ok'));

    const r = await appendFiles(lake.deps({ catalog }), t, [{ tag: 'l#1', files: [f] }]);
    const { metadata } = await loadTable(lake.deps(), t);

    expect(catalog.calls).toBe(2);
    expect(r).toMatchObject({ attempts: 2, conflicts: 0 });
    expect(metadata.snapshots).toHaveLength(1);
    const names = (await lake.store.list(`${t.location}/metadata/`)).map((u) => u.split('/').at(-1)!);
    expect(names.filter((n) => n.endsWith('.metadata.json'))).toHaveLength(2);
    expect(names.filter((n) => n.startsWith('snap-'))).toHaveLength(1);
  });

  it('a swap that keeps failing is reported with its error after the attempts, leaving no files', async () => {
    const t = lake.table('always-fails');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/l.parquet`,
      part(1, 4, '2026-12-01'),
    );
    const catalog = faulty(lake.deps().catalog, () => 'fail');

    await expect(
      appendFiles(lake.deps({ catalog, attempts: 3 }), t, [{ tag: 'l#1', files: [f] }]),
    ).rejects.toThrow(/socket hang up \(before/);
    expect(catalog.calls).toBe(3);
    const names = (await lake.store.list(`${t.location}/metadata/`)).map((u) => u.split('/').at(-1)!);
    expect(names).toHaveLength(1); // the create's metadata only
  });

  it('conflicts beyond the attempts end in CommitConflictError', async () => {
    const t = lake.table('conflicts');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/l.parquet`,
      part(1, 4, '2026-12-01'),
    );
    const inner = lake.deps().catalog;
    const catalog: TableCatalog = {
      ...inner,
      load: inner.load,
      create: inner.create,
      swap: async () => {
        throw new CommitConflictError('moved');
      },
    };

    await expect(
      appendFiles(lake.deps({ catalog, attempts: 2 }), t, [{ tag: 'l#1', files: [f] }]),
    ).rejects.toThrow(CommitConflictError);
  });

  it('when the pointer cannot be re-read either, the outcome is CommitStateUnknownError and the files are kept', async () => {
    const t = lake.table('unknown');
    await ensureTable(lake.deps(), t, SCHEMA);
    const f = await writeOrders(
      lake.store,
      `${t.location}/data/ingest_date=2026-12-01/l.parquet`,
      part(1, 4, '2026-12-01'),
    );
    const inner = lake.deps().catalog;
    let swapped = false;
    const catalog: TableCatalog = {
      load: async (db, name) => {
        if (swapped) throw new Error('catalog unreachable');
        return inner.load(db, name);
      },
      create: inner.create,
      swap: async (...args) => {
        await inner.swap(...args);
        swapped = true;
        throw new Error('timeout');
      },
    };

    await expect(appendFiles(lake.deps({ catalog }), t, [{ tag: 'l#1', files: [f] }])).rejects.toThrow(
      CommitStateUnknownError,
    );
    const { pointer } = await loadTable(lake.deps(), t);
    expect(await lake.store.get(pointer.metadataLocation)).toBeDefined();
    const catalogFiles = await readdir(join(lake.catalogDir, 'lake', 'unknown'));
    expect(catalogFiles.sort()).toEqual(['v1.json', 'v2.json']);
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
