/** referencedDataFiles: every data file some snapshot reads, whichever snapshot appended it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendFiles,
  ensureTable,
  loadTable,
  referencedDataFiles,
  replaceFiles,
} from '../../../lib/iceberg/table.ts';
import { type Lake, SCHEMA, startLake, writeOrders } from './harness.ts';

let lake: Lake;
beforeAll(async () => {
  lake = await startLake();
});
afterAll(async () => {
  await lake?.close();
});

describe('referencedDataFiles', () => {
  it('holds the live files and the files only an older snapshot reads, never an uncommitted one', async () => {
    const t = lake.table('referenced');
    await ensureTable(lake.deps(), t, SCHEMA);
    const day = '2026-12-01';
    const file = (name: string, firstId: number, rows: number) =>
      writeOrders(lake.store, `${t.location}/data/ingest_date=${day}/${name}.parquet`, {
        firstId,
        rows,
        ingestDate: day,
      });
    const a = await file('a', 1, 2);
    const b = await file('b', 3, 2);
    await appendFiles(lake.deps(), t, [{ tag: 'a#1', files: [a] }]);
    await appendFiles(lake.deps(), t, [{ tag: 'b#1', files: [b] }]);
    const c = await file('c', 1, 4);
    await replaceFiles(lake.deps(), t, { remove: [a.path, b.path], add: [c] });
    const stray = await file('stray', 9, 1);

    const { metadata } = await loadTable(lake.deps(), t);
    const referenced = await referencedDataFiles(lake.store, metadata);
    expect([...referenced].sort()).toEqual([a.path, b.path, c.path].sort());
    expect(referenced.has(stray.path)).toBe(false);
  });
});
