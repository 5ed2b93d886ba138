/**
 * Every manifest and manifest list the table operations write, read by python3-avro (the Apache
 * reference implementation, /usr/bin/python3): readable, a field id on every field of the header
 * schema, the header keys the spec requires, and the records our own reader sees.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, readManifestList } from '../../../lib/iceberg/avro.ts';
import { liveFiles, selectSnapshot } from '../../../lib/iceberg/scan.ts';
import { appendFiles, ensureTable, loadTable, replaceFiles } from '../../../lib/iceberg/table.ts';
import { avroOracle, type Lake, part, SCHEMA, startLake, writeOrders } from './harness.ts';

let lake: Lake;
beforeAll(async () => {
  lake = await startLake();
});
afterAll(async () => {
  await lake?.close();
});

describe('the Avro files of a table, read by python3-avro', () => {
  it('reads every manifest and manifest list of appends and a replace, with a field id on every field', async () => {
    const deps = lake.deps();
    const t = lake.table('avro');
    await ensureTable(deps, t, SCHEMA);
    const at = (n: string) => `${t.location}/data/ingest_date=2026-12-01/${n}.parquet`;
    const a = await writeOrders(lake.store, at('a'), part(1, 3, '2026-12-01'));
    const b = await writeOrders(lake.store, at('b'), part(10, 4, '2026-12-01'));
    await appendFiles(deps, t, [{ tag: 'a', files: [a] }]);
    await appendFiles(deps, t, [{ tag: 'b', files: [b] }]);
    const ab = await writeOrders(lake.store, at('ab'), part(100, 7, '2026-12-01'));
    await replaceFiles(deps, t, { remove: [a.path, b.path], add: [ab] });

    const uris = (await lake.store.list(`${t.location}/metadata/`)).filter((u) => u.endsWith('.avro'));
    const dir = await mkdtemp(join(tmpdir(), 'avro-'));
    const local = await Promise.all(
      uris.map(async (u, i) => {
        const path = join(dir, `${i}-${u.split('/').at(-1)}`);
        await writeFile(path, (await lake.store.get(u))!);
        return path;
      }),
    );
    const report = await avroOracle(local);

    const lists = report.filter((r) => r.path.includes('snap-'));
    const manifests = report.filter((r) => !r.path.includes('snap-'));
    // 3 snapshots; manifests: 2 appended, the replaced one rewritten twice (a's and b's), 1 added.
    expect(lists).toHaveLength(3);
    expect(manifests).toHaveLength(5);
    for (const r of report) expect(r.fieldsWithoutId, r.path).toEqual([]);
    for (const m of manifests) {
      expect(m.meta).toMatchObject({
        'format-version': '2',
        content: 'data',
        'schema-id': '0',
        'partition-spec-id': '0',
        'avro.codec': 'deflate',
      });
      expect(JSON.parse(m.meta.schema!)).toEqual(SCHEMA);
      expect(JSON.parse(m.meta['partition-spec']!)).toEqual([
        { name: 'ingest_date', transform: 'identity', 'source-id': 1, 'field-id': 1000 },
      ]);
    }
    for (const l of lists) expect(l.meta).toMatchObject({ 'format-version': '2', 'avro.codec': 'deflate' });
    // Our reader sees as many records as python3-avro.
    for (const [i, u] of uris.entries()) {
      const bytes = (await lake.store.get(u))!;
      const ours = u.includes('/snap-') ? readManifestList(bytes).length : readManifest(bytes).length;
      expect(ours, u).toBe(report[i]!.records);
    }
    const { metadata } = await loadTable(deps, t);
    expect((await liveFiles(lake.store, metadata, selectSnapshot(metadata))).map((f) => f.path)).toEqual([
      ab.path,
    ]);
  });
});
