/** The Glue database and one Parquet table per dataset, derived from the dataset declarations. */
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { glueColumns, PARTITION_KEYS } from '../datasets/derive.ts';
import type { Dataset } from '../datasets/model.ts';

/** Properties of {@link LakeCatalog}. */
export interface LakeCatalogProps {
  /** Glue database name (lower case, `[a-z0-9_]`). */
  readonly databaseName: string;
  /** The curated bucket the tables read. */
  readonly curated: s3.IBucket;
  /** The dataset declarations: one table each, named as the dataset. */
  readonly datasets: readonly Dataset[];
}

/** A Glue database with a table per dataset at `s3://<curated>/<dataset>/`, partitioned by `ingest_date`. */
export class LakeCatalog extends Construct {
  readonly database: glue.Database;
  readonly tables: ReadonlyMap<string, glue.S3Table>;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    this.database = new glue.Database(this, 'Database', {
      databaseName: props.databaseName,
      description: 'CSV data lake: curated Parquet tables, one per dataset',
    });
    const tables = new Map<string, glue.S3Table>();
    for (const ds of props.datasets) {
      const table = new glue.S3Table(this, `Table-${ds.name}`, {
        database: this.database,
        tableName: ds.name,
        ...(ds.description ? { description: ds.description } : {}),
        columns: glueColumns(ds).map((c) => ({ ...c, type: { inputString: c.type, isPrimitive: true } })),
        partitionKeys: PARTITION_KEYS.map((k) => ({ name: k.name, type: glue.Schema.DATE })),
        dataFormat: glue.DataFormat.PARQUET,
        storage: glue.S3TableStorage.fromBucket(props.curated),
        s3Prefix: `${ds.name}/`,
        compressed: true,
      });
      tables.set(ds.name, table);
    }
    this.tables = tables;
  }
}
