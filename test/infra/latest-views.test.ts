/**
 * The `<dataset>_latest` views on AWS (issue 16, item 4): one Glue VIRTUAL_VIEW per keyed dataset,
 * in the Presto view format Athena engine v3 reads (Trino's TrinoGlueCatalog: ViewOriginalText
 * `/* Presto View: <base64 JSON> *\/`, ViewExpandedText `/* Presto View *\/`, presto_view=true,
 * comment=Presto View), whose decoded originalSql is the very text the local query runs in DuckDB.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LatestViews } from '../../lib/constructs/latest-views.ts';
import { latestViewSql } from '../../lib/datasets/latest-view.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { resourceNamed, resourcesOf } from './cfn.ts';
import { setUpOrFailEach, synthTemplates } from './synth.ts';

type ViewInput = {
  Name: string;
  TableType: string;
  Parameters: Record<string, string>;
  ViewOriginalText: string;
  ViewExpandedText: string;
  PartitionKeys: unknown[];
  StorageDescriptor: { Columns: { Name: string; Type: string }[] };
};

/** The Presto view JSON inside a ViewOriginalText (fails the test unless it has the exact frame). */
function decode(text: string): Record<string, unknown> {
  const m = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(text);
  expect(m, text).not.toBeNull();
  return JSON.parse(Buffer.from(m![1]!, 'base64').toString('utf8')) as Record<string, unknown>;
}

const declaration = (extra: object): Dataset =>
  parseDataset(
    {
      name: 'items',
      key: ['item_id'],
      columns: [
        { name: 'item_id', type: 'bigint', nullable: false },
        { name: 'price', type: 'decimal', precision: 9, scale: 3 },
        { name: 'gone', type: 'int', retired: true },
        { name: 'seen_at', type: 'timestamp' },
      ],
      ...extra,
    },
    'items.json',
  );

describe('LatestViews', () => {
  it('makes one Presto view per keyed dataset, over its current table version, and none for a dataset without a key', () => {
    // Prepare
    const stack = new Stack(new App(), 'Views');
    const items = declaration({ version: 2 });
    const plain = parseDataset({ name: 'plain', columns: [{ name: 'a', type: 'int' }] }, 'plain.json');
    // Act
    new LatestViews(stack, 'Latest', { databaseName: 'lake_db', datasets: [items, plain] });
    // Assess
    const tables = resourcesOf(Template.fromStack(stack), 'AWS::Glue::Table');
    expect(tables).toHaveLength(1);
    const p = tables[0]!.Properties as { DatabaseName: string; TableInput: ViewInput };
    expect(p.DatabaseName).toBe('lake_db');
    const input = p.TableInput;
    expect(input).toMatchObject({
      Name: 'items_latest',
      TableType: 'VIRTUAL_VIEW',
      Parameters: { presto_view: 'true', comment: 'Presto View' },
      ViewExpandedText: '/* Presto View */',
      PartitionKeys: [],
    });
    const view = decode(input.ViewOriginalText);
    expect(view).toEqual({
      originalSql: latestViewSql(items),
      catalog: 'awsdatacatalog',
      schema: 'lake_db',
      columns: [
        { name: 'item_id', type: 'bigint' },
        { name: 'price', type: 'decimal(9,3)' },
        { name: 'seen_at', type: 'timestamp(6) with time zone' },
        { name: '_source_key', type: 'varchar' },
        { name: '_source_version', type: 'varchar' },
        { name: '_ingested_at', type: 'timestamp(6) with time zone' },
      ],
      runAsInvoker: true,
    });
    expect(view.originalSql).toContain('FROM "items_v2"');
    expect(input.StorageDescriptor.Columns.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'item_id bigint',
      'price decimal(9,3)',
      'seen_at timestamp',
      '_source_key string',
      '_source_version string',
      '_ingested_at timestamp',
    ]);
  });
});

describe('the lake', () => {
  let storage: Template;
  let datasets: readonly Dataset[];
  setUpOrFailEach(async () => {
    ({ storage, datasets } = await synthTemplates());
  });

  it("has orders_latest in the catalog's database, made after the tables, with the generated SQL", () => {
    const orders = datasets.find((d) => d.name === 'orders')!;
    const view = resourceNamed(storage, 'AWS::Glue::Table', 'CatalogLatestViews');
    const input = view.Properties.TableInput as ViewInput;
    expect(input.Name).toBe('orders_latest');
    expect(decode(input.ViewOriginalText).originalSql).toBe(latestViewSql(orders));
    const database = resourceNamed(storage, 'AWS::Glue::Database', 'CatalogDatabase');
    expect(view.Properties.DatabaseName).toEqual(
      (database.Properties.DatabaseInput as { Name: string }).Name,
    );
    const tables = resourceNamed(storage, 'Custom::IcebergTables', 'CatalogIcebergTables');
    expect((view as { DependsOn?: string[] }).DependsOn).toEqual(
      expect.arrayContaining([database.id, tables.id]),
    );
  });
});
