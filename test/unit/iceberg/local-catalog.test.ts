/**
 * The local pointer catalog: exclusive creation of `v<N+1>.json` is the compare-and-swap, across
 * processes (here: across catalog objects, and across child processes racing on one folder).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KEPT_POINTERS, localTableCatalog } from '../../../lib/iceberg/local-catalog.ts';
import { CommitConflictError } from '../../../lib/iceberg/ports.ts';

const display = { location: 's3://b/t', columns: [] };

describe('localTableCatalog', () => {
  it('creates once, loads the highest pointer, swaps from the current base only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cat-'));
    const a = localTableCatalog(dir);
    const b = localTableCatalog(dir);

    expect(await a.load('db', 't')).toBeUndefined();
    expect(await a.create('db', 't', 's3://b/m0.json', display)).toBe('created');
    expect(await b.create('db', 't', 's3://b/other.json', display)).toBe('exists');
    const base = (await b.load('db', 't'))!;
    expect(base).toEqual({ metadataLocation: 's3://b/m0.json', versionId: '1' });

    await a.swap('db', 't', base, 's3://b/m1.json', display);
    await expect(b.swap('db', 't', base, 's3://b/m1-other.json', display)).rejects.toThrow(
      CommitConflictError,
    );
    // A base whose version matches but whose location does not is a conflict too.
    await expect(
      b.swap(
        'db',
        't',
        { metadataLocation: 's3://b/elsewhere.json', versionId: '2' },
        's3://b/x.json',
        display,
      ),
    ).rejects.toThrow(CommitConflictError);
    expect(await b.load('db', 't')).toEqual({ metadataLocation: 's3://b/m1.json', versionId: '2' });
    expect(JSON.parse(await readFile(join(dir, 'db', 't', 'v2.json'), 'utf8'))).toEqual({
      metadataLocation: 's3://b/m1.json',
      previousMetadataLocation: 's3://b/m0.json',
    });
  });

  it(`prunes pointer files more than ${KEPT_POINTERS} below the current one; a stale base then conflicts`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cat-'));
    const c = localTableCatalog(dir);
    await c.create('db', 't', 's3://b/0.json', display);
    const stale = (await c.load('db', 't'))!;
    for (let i = 1; i <= 15; i++)
      await c.swap('db', 't', (await c.load('db', 't'))!, `s3://b/${i}.json`, display);

    const names = (await readdir(join(dir, 'db', 't'))).sort(
      (x, y) => Number(x.slice(1, -5)) - Number(y.slice(1, -5)),
    );
    expect(names).toEqual(
      Array.from({ length: KEPT_POINTERS + 1 }, (_, i) => `v${16 - KEPT_POINTERS + i}.json`),
    );
    await expect(c.swap('db', 't', stale, 's3://b/late.json', display)).rejects.toThrow(CommitConflictError);
    expect(await c.load('db', 't')).toEqual({ metadataLocation: 's3://b/15.json', versionId: '16' });
  });

  it('a pointer re-created below the current one (pruned meanwhile) is a conflict and removed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cat-'));
    const c = localTableCatalog(dir);
    await c.create('db', 't', 's3://b/0.json', display);
    for (let i = 1; i <= 3; i++)
      await c.swap('db', 't', (await c.load('db', 't'))!, `s3://b/${i}.json`, display);
    // As if v2 had been pruned after a stale committer checked its base v1.
    await rm(join(dir, 'db', 't', 'v2.json'));

    await expect(
      c.swap('db', 't', { metadataLocation: 's3://b/0.json', versionId: '1' }, 's3://b/stale.json', display),
    ).rejects.toThrow(/moved on past version 2/);
    expect((await readdir(join(dir, 'db', 't'))).sort()).toEqual(['v1.json', 'v3.json', 'v4.json']);
    expect(await c.load('db', 't')).toEqual({ metadataLocation: 's3://b/3.json', versionId: '4' });
  });

  it('never leaves a pointer file empty or a temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cat-'));
    const c = localTableCatalog(dir);
    await c.create('db', 't', 's3://b/0.json', display);
    await Promise.allSettled(
      [1, 2, 3, 4].map(async (i) =>
        c.swap('db', 't', (await c.load('db', 't'))!, `s3://b/${i}.json`, display),
      ),
    );
    const names = await readdir(join(dir, 'db', 't'));
    expect(names.every((n) => /^v\d+\.json$/.test(n))).toBe(true);
    for (const n of names)
      expect(JSON.parse(await readFile(join(dir, 'db', 't', n), 'utf8')).metadataLocation).toMatch(/^s3:/);
  });

  it('child processes racing on one table: exactly one swap from each base wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cat-'));
    await localTableCatalog(dir).create('db', 't', 's3://b/0.json', display);
    const script = `
      import { localTableCatalog } from ${JSON.stringify(join(import.meta.dirname, '../../../lib/iceberg/local-catalog.ts'))};
      const c = localTableCatalog(process.argv[1]);
      let won = 0;
      for (let i = 0; i < 20; i++) {
        const base = await c.load('db', 't');
        try { await c.swap('db', 't', base, 's3://b/' + process.argv[2] + '-' + i + '.json', { location: '', columns: [] }); won++; }
        catch (e) { if (e.name !== 'CommitConflictError') throw e; }
      }
      console.log(won);`;
    const run = (id: string) =>
      promisify(execFile)(process.execPath, [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        dir,
        id,
      ]);
    const outs = await Promise.all(['p', 'q', 'r'].map(run));
    const wins = outs.map((o) => Number(o.stdout.trim()));
    const final = (await localTableCatalog(dir).load('db', 't'))!;

    expect(Number(final.versionId)).toBe(1 + wins.reduce((a, b) => a + b, 0));
    expect(wins.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20);
  });
});
