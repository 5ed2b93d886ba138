/**
 * The IcebergTables custom resource's core over the real Iceberg core: a local S3 server and the
 * local pointer catalog. Create makes every declared table, Update again changes nothing that
 * exists, Delete leaves the tables, and properties that do not fit the bundled declarations fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleTables, type TablesProperties, TablesRequestError } from '../../../lambdas/tables/core.ts';
import { loadDatasets } from '../../../lib/datasets/load.ts';
import type { Dataset } from '../../../lib/datasets/model.ts';
import { SchemaEvolutionError } from '../../../lib/iceberg/evolve.ts';
import { tableLocation, tableName } from '../../../lib/iceberg/layout.ts';
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
    expect(out.evolved).toEqual([]);
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
      evolved: [],
      existing: [...datasets.keys()].sort(),
    });
    const after = await Promise.all([...datasets.keys()].map((n) => lake.deps().catalog.load('lake', n)));
    expect(after).toEqual(before);
  });

  it('evolves a table whose declaration changed by the rules, creates a new version, and reports both', async () => {
    const orders = datasets.get('orders')!;
    const added = {
      ...orders,
      columns: [
        ...orders.columns,
        { ...orders.columns[1]!, name: 'region', nullable: true, header: 'Region' },
      ],
    };
    const sensors = [...datasets.values()].find((d) => d.name !== 'orders')!;
    const next = new Map([...datasets, ['orders', added], [sensors.name, { ...sensors, version: 2 }]]);

    const out = await handleTables(
      {
        requestType: 'Update',
        physicalResourceId: 'lake/iceberg-tables',
        properties: properties({ declarationsHash: 'h3' }),
      },
      { iceberg: lake.deps(), datasets: next, log },
    );
    const again = await handleTables(
      {
        requestType: 'Update',
        physicalResourceId: 'lake/iceberg-tables',
        properties: properties({ declarationsHash: 'h4' }),
      },
      { iceberg: lake.deps(), datasets: next, log },
    );

    expect(out).toMatchObject({ created: [`${sensors.name}_v2`], evolved: ['orders'], existing: [] });
    expect(again).toMatchObject({
      created: [],
      evolved: [],
      existing: ['orders', `${sensors.name}_v2`].sort(),
    });
    const pointer = await lake.deps().catalog.load('lake', 'orders');
    const metadata = parseMetadata(new TextDecoder().decode(await lake.store.get(pointer!.metadataLocation)));
    expect(metadata.schemas.at(-1)?.fields.map((f) => f.name)).toContain('region');
    expect((await lake.deps().catalog.load('lake', sensors.name))?.metadataLocation).toBeDefined();
    const v2 = await lake.deps().catalog.load('lake', `${sensors.name}_v2`);
    expect(v2?.metadataLocation.startsWith(`${tableLocation(BUCKET, sensors.name, 2)}/metadata/`)).toBe(true);
    datasets = next;
  });

  it('rolls back: the declarations before an evolution leave the evolved table as it is, and succeed', async () => {
    const original = await loadDatasets('datasets');
    // The sensors' version 2 table stays; only orders is rolled back to its schema before.
    const rolledBack = new Map([...datasets, ['orders', original.get('orders')!]]);
    const before = await lake.deps().catalog.load('lake', 'orders');

    const out = await handleTables(
      {
        requestType: 'Update',
        physicalResourceId: 'lake/iceberg-tables',
        properties: properties({ declarationsHash: 'rollback' }),
      },
      { iceberg: lake.deps(), datasets: rolledBack, log },
    );

    expect(out).toMatchObject({ created: [], evolved: [] });
    expect(out.existing).toContain('orders');
    expect(await lake.deps().catalog.load('lake', 'orders')).toEqual(before);
  });

  it('fails an Update whose declaration the rules refuse, naming table, field and rule, before touching any table', async () => {
    // orders (first in order) changes by the rules, but must not be evolved while the other is refused.
    const orders = datasets.get('orders')!;
    const widened = {
      ...orders,
      columns: [...orders.columns, { ...orders.columns.at(-1)!, name: 'extra', nullable: true }],
    };
    const sensors = [...datasets.values()].find((d) => d.name !== 'orders')!;
    const last = sensors.columns.at(-1)!;
    const dropped = { ...sensors, columns: sensors.columns.slice(0, -1) };
    const next = new Map([...datasets, ['orders', widened], [sensors.name, dropped]]);
    const before = await Promise.all(
      [...next.values()].map((d) => lake.deps().catalog.load('lake', tableName(d.name, d.version))),
    );

    const failed = handleTables(
      {
        requestType: 'Update',
        physicalResourceId: 'lake/iceberg-tables',
        properties: properties({ declarationsHash: 'h5' }),
      },
      { iceberg: lake.deps(), datasets: next, log },
    );

    await expect(failed).rejects.toThrow(SchemaEvolutionError);
    await expect(failed).rejects.toThrow(
      `table lake.${sensors.name}_v2: schema change refused: field ${sensors.columns.length + 1} "${last.name}" is in the table but not in the declaration`,
    );
    const after = await Promise.all(
      [...next.values()].map((d) => lake.deps().catalog.load('lake', tableName(d.name, d.version))),
    );
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
