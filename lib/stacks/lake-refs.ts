/**
 * What the stacks built on the storage stack (pipeline, console) receive from it, and how they
 * refer to its buckets and ledger: by the names lib/naming.ts derives, so no export is needed.
 */
import { fileURLToPath } from 'node:url';
import type { StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { LakeConfig } from '../config.ts';
import type { Dataset } from '../datasets/model.ts';
import { ledgerTableName } from '../ledger/model.ts';
import type { Zone } from '../naming.ts';

/** The lake's stateful resources as a stack on top of the storage stack sees them. */
export interface LakeRefsProps extends StackProps {
  readonly config: LakeConfig;
  readonly datasets: readonly Dataset[];
  /** Absolute path of the folder the dataset declarations were read from (bundled with functions that apply them). */
  readonly datasetsDir: string;
  readonly key: kms.IKey;
  /**
   * The zone buckets' names (see lib/naming.ts). Names rather than bucket references: the stack
   * then needs no export from the storage stack for them, and the policies (and their cdk-nag
   * acknowledgements) name the same text in every account.
   */
  readonly bucketNames: Readonly<Record<Zone, string>>;
  readonly databaseName: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The repository's root folder (ends in `/`). */
export const REPO_ROOT = ROOT;

/** The handler module of a function: `lambdas/<fn>/handler.ts`. */
export const handlerEntry = (fn: string) => `${ROOT}lambdas/${fn}/handler.ts`;

/** A zone bucket of the storage stack, by name, encrypted with the lake key. */
export function zoneBucket(scope: Construct, id: string, props: LakeRefsProps, zone: Zone): s3.IBucket {
  return s3.Bucket.fromBucketAttributes(scope, id, {
    bucketName: props.bucketNames[zone],
    encryptionKey: props.key,
  });
}

/** The ledger table of the storage stack, by name. */
export function ledgerTable(scope: Construct, props: LakeRefsProps): dynamodb.ITable {
  return dynamodb.Table.fromTableAttributes(scope, 'LedgerTable', {
    tableName: ledgerTableName(props.config.prefix, props.config.stage),
    encryptionKey: props.key,
  });
}
