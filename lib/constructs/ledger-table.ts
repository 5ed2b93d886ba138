/**
 * The ingest ledger's DynamoDB table: one item per landed object version (lib/ledger/model.ts),
 * written by the workflow, read by the reconciler and the CLI. On demand (a lake's load is bursty
 * and small), point-in-time recovery on, encrypted with the lake's key, retained with the data.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ATTR, LEDGER_INDEXES } from '../ledger/model.ts';

/** Properties of {@link LedgerTable}. */
export interface LedgerTableProps {
  /** The table's name (`ledgerTableName`): the pipeline stack refers to it by name. */
  readonly tableName: string;
  readonly key: kms.IKey;
}

/** The ledger table with its two indexes. */
export class LedgerTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: string(ATTR.key),
      sortKey: string(ATTR.version),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      // The record of every file the lake took: kept when the stack goes, as the buckets are.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const index of Object.values(LEDGER_INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
