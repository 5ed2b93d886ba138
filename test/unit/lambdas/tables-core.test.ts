/**
 * The IcebergTables custom resource's core over the real Iceberg core: a local S3 server and the
 * local pointer catalog. Create makes every declared table, Update again changes nothing that
 * exists, Delete leaves the tables, and properties that do not fit the bundled declarations fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleTables, type TablesProperties, TablesRequestError } from '../../../lambdas/tables/core.ts';
import { loadDatasets } from '../../../lib/datasets/load.ts';
import type { Dataset } from '../../../lib/datasets/model.ts';
import { tableLocation } from '../../../lib/iceberg/layout.ts';
import { parseMetadata } from '../../../lib/iceberg/metadata.ts';
import { BUCKET, type Lake, startLake } from '../iceberg/harness.ts';

let lake: Lake;
let datasets: Map<string, Dataset>;
const log = { info() {}, warn() {} };

beforeAll(async () => {
  lake = await startLake();
  datasets = await loadDatasets('datasets');
}, 60_000);
afterAll(async () => {
  await lake?.close();
});

const properties = (over: Partial<TablesProperties> = {}): TablesProperties => ({
  database: 'lake',
  curatedBucket: BUCKET,
  datasets: [...datasets.keys()],
  snapshotRetentionDays: '90',
  declarationsHash: 'h1',
  ...over,
});

describe('handleTables', () => {
  it('creates every declared table on Create, at its location, with the configured snapshot retention', async () => {
    // Act
    const out = await handleTables(
      { requestType: 'Create', properties: properties() },
      { iceberg: lake.deps(), datasets, log },
    );

    // Assess
    expect(out.created).toEqual([...datasets.keys()].sort());
    expect(out.existing).toEqual([]);
    expect(out.physicalResourceId).toBe('lake/iceberg-tables');
    for (const name of datasets.keys()) {
      const pointer = await lake.deps().catalog.load('lake', name);
      expect(pointer, name).toBeDefined();
      const metadata = parseMetadata(
        new TextDecoder().decode(await lake.store.get(pointer!.metadataLocation)),
      );
      expect(metadata.location).toBe(tableLocation(BUCKET, name));
      expect(metadata.properties?.['history.expire.max-snapshot-age-ms']).toBe(String(90 * 86_400_000));
    }
  });

  it('changes nothing that exists on Update (idempotent), and keeps the physical id', async () => {
    const before = await Promise.all([...datasets.keys()].map((n) => lake.deps().catalog.load('lake', n)));

    const out = await handleTables(
      {
        requestType: 'Update',
        physicalResourceId: 'lake/iceberg-tables',
        properties: properties({ declarationsHash: 'h2' }),
      },
      { iceberg: lake.deps(), datasets, log },
    );

    expect(out).toEqual({
      physicalResourceId: 'lake/iceberg-tables',
      created: [],
      existing: [...datasets.keys()].sort(),
    });
    const after = await Promise.all([...datasets.keys()].map((n) => lake.deps().catalog.load('lake', n)));
    expect(after).toEqual(before);
  });

  it('leaves the tables and their files on Delete', async () => {
    const files = await lake.store.list(`s3://${BUCKET}/`);

    const out = await handleTables(
      { requestType: 'Delete', physicalResourceId: 'lake/iceberg-tables', properties: properties() },
      { iceberg: lake.deps(), datasets: new Map(), log },
    );
    // A Delete never creates either, even where no table is (a database not made yet).
    await handleTables(
      {
        requestType: 'Delete',
        physicalResourceId: 'fresh/iceberg-tables',
        properties: properties({ database: 'fresh' }),
      },
      { iceberg: lake.deps(), datasets, log },
    );

    expect(out.created).toEqual([]);
    expect(await lake.deps().catalog.load('fresh', 'orders')).toBeUndefined();
    expect(await lake.store.list(`s3://${BUCKET}/`)).toEqual(files);
    for (const name of datasets.keys()) expect(await lake.deps().catalog.load('lake', name)).toBeDefined();
  });

  it('refuses properties naming other datasets than the function carries, or a bad retention, creating nothing', async () => {
    const deps = { iceberg: lake.deps(), datasets, log };
    await expect(
      handleTables(
        { requestType: 'Create', properties: properties({ database: 'other', datasets: ['orders'] }) },
        deps,
      ),
    ).rejects.toThrow(TablesRequestError);
    await expect(
      handleTables(
        { requestType: 'Create', properties: properties({ database: 'other', snapshotRetentionDays: '0' }) },
        deps,
      ),
    ).rejects.toThrow(/snapshotRetentionDays/);
    expect(await lake.deps().catalog.load('other', 'orders')).toBeUndefined();
  });
});
