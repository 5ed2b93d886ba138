/**
 * What the operator commands (`put`, `files`, `report`, `query`, `subscribe`) work on: the local
 * lake (default) or a deployed stack (`--aws`). Each command is written once against this
 * interface; the two implementations bind it to the local adapters (s3rver, dynalite, DuckDB, the
 * local notifier's configuration) or to AWS (S3, DynamoDB, Athena, SNS, names from the stacks'
 * outputs).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineStatus } from '../../lambdas/shared/contract.ts';
import type { SnapshotSelector } from '../iceberg/scan.ts';
import type { LedgerReader } from '../ledger/model.ts';

/** The zone buckets a command reads or writes. */
export interface TargetBuckets {
  readonly landing: string;
  readonly raw: string;
  readonly failure: string;
  readonly curated: string;
}

/** A query's answer. */
export interface QueryAnswer {
  readonly columns: string[];
  /** Row objects, values as `local query --json` gives them (decimals and 64-bit integers as exact strings). */
  readonly rows: Record<string, unknown>[];
  /** True when the rows were cut at the row limit. */
  readonly truncated: boolean;
  /** Athena only: the query's id, bytes scanned and what they cost. */
  readonly queryId?: string;
  readonly scannedBytes?: number;
  readonly costUsd?: number;
  /** Local time travel: the snapshot each table the query named was read at. */
  readonly versions?: readonly {
    readonly table: string;
    readonly snapshotId: string;
    readonly timestamp: string;
  }[];
}

/** A subscription to the pipeline's events. */
export interface SubscribeRequest {
  /** An e-mail address, an `https://` URL or an SQS queue ARN. */
  readonly endpoint: string;
  readonly protocol: 'email' | 'https' | 'sqs';
  /** Only these statuses (all when empty). */
  readonly statuses: readonly PipelineStatus[];
  /** Only these datasets (all when empty). */
  readonly datasets: readonly string[];
}

/** What a subscription became. */
export interface SubscribeAnswer {
  /** The subscription's ARN, or `pending confirmation` (SNS, e-mail and https until confirmed). */
  readonly subscription: string;
  readonly pendingConfirmation: boolean;
  /** The SNS filter policy on message attributes (`status`, `dataset`), as applied. */
  readonly filterPolicy: Readonly<Record<string, readonly string[]>>;
}

/** The lake a command works on. */
export interface LakeTarget {
  readonly kind: 'local' | 'aws';
  /** For people: `local lake /path/.lake` or `stack csvlake-dev (eu-west-1)`. */
  readonly label: string;
  readonly s3: S3Client;
  readonly buckets: TargetBuckets;
  readonly ledger: LedgerReader;
  /**
   * The dataset declarations the lake runs with, where the target knows them better than
   * `--datasets` (the folder a running `local up` reads).
   * @default - the `--datasets` folder
   */
  readonly datasetsDir?: string;
  /**
   * One read-only SELECT over the curated tables: DuckDB locally, Athena in the workgroup on AWS.
   * A query the engine refuses or that does not succeed rejects with the engine's error
   * (`QueryError` locally, `AthenaQueryError` on AWS), whose message is one line for the user.
   */
  query(
    sql: string,
    options: {
      readonly signal?: AbortSignal;
      /** The version of every table the query names (local lake only: the CLI refuses it on AWS). */
      readonly snapshot?: SnapshotSelector;
    },
  ): Promise<QueryAnswer>;
  subscribe(request: SubscribeRequest): Promise<SubscribeAnswer>;
  /** Releases clients and any server this process started for the command. */
  close(): Promise<void>;
}
