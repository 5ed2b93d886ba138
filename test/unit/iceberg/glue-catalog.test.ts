/**
 * The Glue catalog adapter, with aws-sdk-client-mock: the requests GlueTableOperations sends
 * (GetTable, CreateTable, UpdateTable with VersionId and SkipArchive), and the mapping of Glue's
 * errors onto the core's conflict semantics. Last, the core's append over the adapter with a mock
 * that keeps Glue's VersionId lock, under concurrent committers.
 */
import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  GlueClient,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { glueTableCatalog } from '../../../lib/iceberg/glue-catalog.ts';
import { CommitConflictError } from '../../../lib/iceberg/ports.ts';
import { history } from '../../../lib/iceberg/scan.ts';
import { appendFiles, ensureTable, loadTable } from '../../../lib/iceberg/table.ts';
import { duckdbRows, expectedOrders, type Lake, SCHEMA, startLake, writeOrders } from './harness.ts';

const glue = mockClient(GlueClient);
afterEach(() => {
  glue.reset();
});

const display = {
  location: 's3://curated/orders/iceberg',
  columns: [{ name: 'order_id', type: 'bigint', comment: 'id' }],
};
const icebergTable = (location: string, versionId = '7', extra: Record<string, string> = {}) => ({
  Table: {
    Name: 'orders',
    DatabaseName: 'lake',
    TableType: 'EXTERNAL_TABLE',
    VersionId: versionId,
    Parameters: { table_type: 'ICEBERG', metadata_location: location, owner_note: 'kept', ...extra },
    StorageDescriptor: { Location: 's3://curated/orders/iceberg', Columns: [] },
  },
});

describe('glueTableCatalog', () => {
  it('loads the pointer from metadata_location and VersionId; undefined when Glue has no table', async () => {
    glue.on(GetTableCommand, { Name: 'orders' }).resolves(icebergTable('s3://m/1.json', '12'));
    glue
      .on(GetTableCommand, { Name: 'none' })
      .rejects(new EntityNotFoundException({ message: 'not found', $metadata: {} }));
    const catalog = glueTableCatalog(new GlueClient({}));

    expect(await catalog.load('lake', 'orders')).toEqual({
      metadataLocation: 's3://m/1.json',
      versionId: '12',
    });
    expect(await catalog.load('lake', 'none')).toBeUndefined();
    expect(glue).toHaveReceivedCommandWith(GetTableCommand, { DatabaseName: 'lake', Name: 'orders' });
  });

  it('refuses a Glue table that is not Iceberg (a Hive-era table of the same name)', async () => {
    glue.on(GetTableCommand).resolves({
      Table: { Name: 'orders', DatabaseName: 'lake', Parameters: { classification: 'parquet' } },
    });
    await expect(glueTableCatalog(new GlueClient({})).load('lake', 'orders')).rejects.toThrow(
      /glue table lake\.orders is not an Iceberg table \(table_type: null\)/,
    );
  });

  it('creates an EXTERNAL_TABLE with table_type ICEBERG, metadata_location and display columns; exists on AlreadyExists', async () => {
    glue
      .on(CreateTableCommand)
      .resolvesOnce({})
      .rejectsOnce(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
    const catalog = glueTableCatalog(new GlueClient({}));

    expect(await catalog.create('lake', 'orders', 's3://m/0.json', display)).toBe('created');
    expect(await catalog.create('lake', 'orders', 's3://m/0b.json', display)).toBe('exists');
    expect(glue).toHaveReceivedCommandWith(CreateTableCommand, {
      DatabaseName: 'lake',
      TableInput: {
        Name: 'orders',
        TableType: 'EXTERNAL_TABLE',
        Parameters: { table_type: 'ICEBERG', metadata_location: 's3://m/0.json' },
        StorageDescriptor: {
          Location: 's3://curated/orders/iceberg',
          Columns: [{ Name: 'order_id', Type: 'bigint', Comment: 'id' }],
        },
      },
    });
  });

  it('swaps with UpdateTable: VersionId of the base, SkipArchive, the parameters kept plus both locations', async () => {
    glue.on(GetTableCommand).resolves(icebergTable('s3://m/1.json', '7'));
    glue.on(UpdateTableCommand).resolves({});

    await glueTableCatalog(new GlueClient({})).swap(
      'lake',
      'orders',
      { metadataLocation: 's3://m/1.json', versionId: '7' },
      's3://m/2.json',
      display,
    );

    expect(glue).toHaveReceivedCommandTimes(UpdateTableCommand, 1);
    expect(glue).toHaveReceivedCommandWith(UpdateTableCommand, {
      DatabaseName: 'lake',
      VersionId: '7',
      SkipArchive: true,
      TableInput: expectTableInput({
        Name: 'orders',
        TableType: 'EXTERNAL_TABLE',
        Parameters: {
          table_type: 'ICEBERG',
          metadata_location: 's3://m/2.json',
          previous_metadata_location: 's3://m/1.json',
          owner_note: 'kept',
        },
      }),
    });
  });

  it('a moved metadata_location is a conflict without an update; ConcurrentModificationException is a conflict', async () => {
    const catalog = glueTableCatalog(new GlueClient({}));
    glue.on(GetTableCommand).resolves(icebergTable('s3://m/9.json', '9'));
    await expect(
      catalog.swap(
        'lake',
        'orders',
        { metadataLocation: 's3://m/1.json', versionId: '7' },
        's3://m/2.json',
        display,
      ),
    ).rejects.toThrow(CommitConflictError);
    expect(glue).toHaveReceivedCommandTimes(UpdateTableCommand, 0);

    glue.reset();
    glue.on(GetTableCommand).resolves(icebergTable('s3://m/1.json', '7'));
    glue
      .on(UpdateTableCommand)
      .rejects(new ConcurrentModificationException({ message: 'version mismatch', $metadata: {} }));
    await expect(
      catalog.swap(
        'lake',
        'orders',
        { metadataLocation: 's3://m/1.json', versionId: '7' },
        's3://m/2.json',
        display,
      ),
    ).rejects.toThrow(/changed during the commit: version mismatch/);
  });

  it('any other UpdateTable error is passed on as is (the committer re-reads the pointer)', async () => {
    glue.on(GetTableCommand).resolves(icebergTable('s3://m/1.json', '7'));
    glue.on(UpdateTableCommand).rejects(new Error('socket hang up'));
    const err = await glueTableCatalog(new GlueClient({}))
      .swap('lake', 'orders', { metadataLocation: 's3://m/1.json', versionId: '7' }, 's3://m/2.json', display)
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(CommitConflictError);
    expect((err as Error).message).toBe('socket hang up');
  });
});

function expectTableInput(partial: Partial<TableInput>) {
  return expect.objectContaining(partial) as unknown as TableInput;
}

describe('the core over the Glue adapter', () => {
  let lake: Lake;
  beforeAll(async () => {
    lake = await startLake();
  });
  afterAll(async () => {
    await lake?.close();
  });

  it('6 concurrent appenders commit through a Glue that keeps its VersionId lock', async () => {
    // A Glue of one table: GetTable returns a copy; UpdateTable checks VersionId as Glue does.
    let table: { Parameters: Record<string, string>; VersionId: string } | undefined;
    glue.on(GetTableCommand).callsFake(async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      if (!table) throw new EntityNotFoundException({ message: 'no table', $metadata: {} });
      return { Table: { Name: 't', DatabaseName: 'lake', ...structuredClone(table) } };
    });
    glue.on(CreateTableCommand).callsFake(async (input: { TableInput: TableInput }) => {
      if (table) throw new AlreadyExistsException({ message: 'exists', $metadata: {} });
      table = { Parameters: { ...input.TableInput.Parameters }, VersionId: '1' };
      return {};
    });
    glue.on(UpdateTableCommand).callsFake(async (input: { VersionId: string; TableInput: TableInput }) => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      if (input.VersionId !== table!.VersionId) {
        throw new ConcurrentModificationException({ message: 'version mismatch', $metadata: {} });
      }
      table = {
        Parameters: { ...input.TableInput.Parameters },
        VersionId: String(Number(table!.VersionId) + 1),
      };
      return {};
    });
    const catalog = glueTableCatalog(new GlueClient({}));
    const deps = { store: lake.store, catalog, backoffMs: 5, attempts: 50 };
    const t = { database: 'lake', name: 't', location: 's3://curated/glue-t/iceberg' };
    await ensureTable(deps, t, SCHEMA);
    const parts = Array.from({ length: 6 }, (_, i) => ({
      firstId: i * 100,
      rows: 3 + i,
      ingestDate: '2026-12-01',
    }));
    const files = await Promise.all(
      parts.map((p, i) =>
        writeOrders(lake.store, `${t.location}/data/ingest_date=2026-12-01/g${i}.parquet`, p),
      ),
    );

    const results = await Promise.all(
      files.map((f, i) => appendFiles(deps, t, [{ tag: `g${i}`, files: [f] }])),
    );
    const { metadata } = await loadTable(deps, t);

    expect(results.reduce((a, r) => a + r.conflicts, 0)).toBeGreaterThan(0);
    expect(
      history(metadata)
        .flatMap((s) => s.sources)
        .sort(),
    ).toEqual(parts.map((_, i) => `g${i}`));
    expect(table!.VersionId).toBe('7');
    expect(table!.Parameters.previous_metadata_location).toBe(
      metadata['metadata-log']!.at(-1)!['metadata-file'],
    );
    expect(await duckdbRows(lake.store, metadata)).toEqual(await expectedOrders(parts));
  });
});
