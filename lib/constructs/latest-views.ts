/**
 * The `<dataset>_latest` views on AWS: one Glue table of type VIRTUAL_VIEW per dataset that
 * declares a key, in Athena's (Trino's) Presto view format, whose SQL is the very text the local
 * query runs in DuckDB (lib/datasets/latest-view.ts). A view is metadata only: CloudFormation may
 * own it outright (unlike the Iceberg tables, which the committer moves forward).
 */
import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { latestView, prestoViewTableInput } from '../datasets/latest-view.ts';
import type { Dataset } from '../datasets/model.ts';

/** Properties of {@link LatestViews}. */
export interface LatestViewsProps {
  /** The Glue database of the lake's tables (the views' schema). */
  readonly databaseName: string;
  /** The dataset declarations: a view for each one with a `key`. */
  readonly datasets: readonly Dataset[];
}

/** A `<dataset>_latest` Athena view per keyed dataset, over its current table version. */
export class LatestViews extends Construct {
  /** The view tables, by view name. */
  readonly views: ReadonlyMap<string, glue.CfnTable>;

  constructor(scope: Construct, id: string, props: LatestViewsProps) {
    super(scope, id);
    const views = new Map<string, glue.CfnTable>();
    for (const ds of props.datasets) {
      if (!latestView(ds)) continue;
      const input = prestoViewTableInput(ds, props.databaseName);
      views.set(
        input.name,
        new glue.CfnTable(this, ds.name, {
          catalogId: Stack.of(this).account,
          databaseName: props.databaseName,
          tableInput: {
            name: input.name,
            description: `The newest row per key (${ds.key!.join(', ')}) of ${ds.name}`,
            tableType: input.tableType,
            parameters: input.parameters,
            viewOriginalText: input.viewOriginalText,
            viewExpandedText: input.viewExpandedText,
            partitionKeys: [],
            storageDescriptor: {
              columns: input.columns,
              serdeInfo: {},
            },
          },
        }),
      );
    }
    this.views = views;
  }
}
