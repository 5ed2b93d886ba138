/**
 * The ingest ledger: one DynamoDB item per landed object version, moved forward by the workflow
 * itself (RECEIVED → VALIDATED → CURATED, or REJECTED, or FAILED) and read by the reconciler and
 * the CLI. Step Functions forgets executions after 90 days; the ledger is the record.
 *
 * This module is the one source of the table's shape: the CDK construct, the local table
 * (dynalite), the workflow's conditional writes and the readers all derive from it.
 */

/** A ledger item's status. */
export const LEDGER_STATUSES = ['RECEIVED', 'VALIDATED', 'REJECTED', 'CURATED', 'FAILED'] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/**
 * The order of statuses within one attempt: a write carries its status's rank and succeeds only
 * over a lower one, so a retried or late write never moves an item back. The three terminal
 * statuses share the highest rank: whichever an attempt wrote first stands (the workflow writes
 * CURATED or REJECTED after the notification, as its last step, so nothing fails after it).
 */
export const STATUS_RANK: Readonly<Record<LedgerStatus, number>> = {
  RECEIVED: 1,
  VALIDATED: 2,
  REJECTED: 3,
  CURATED: 3,
  FAILED: 3,
};

/** Statuses an item ends in. FAILED is terminal for its attempt; the reconciler may start another. */
export const TERMINAL_STATUSES: readonly LedgerStatus[] = ['REJECTED', 'CURATED', 'FAILED'];

/** Statuses that no later attempt changes: the file reached a zone for good. */
export const FINAL_STATUSES: readonly LedgerStatus[] = ['REJECTED', 'CURATED'];

/** Whether an item with this status (or none) has ended its attempt. */
export const isTerminal = (status: LedgerStatus | undefined): boolean =>
  TERMINAL_STATUSES.includes(status as LedgerStatus);

/** Attribute names of an item (the table's keys and what the indexes sort on among them). */
export const ATTR = {
  /** Partition key: the landing object's key. */
  key: 'objectKey',
  /** Sort key: the object's version id, or its ETag where the bucket keeps no versions (locally). */
  version: 'objectVersion',
  dataset: 'dataset',
  bucket: 'bucket',
  size: 'size',
  status: 'status',
  rank: 'statusRank',
  /** The execution of the attempt that wrote the item last (`<name>` or `<name>-rN`). */
  execution: 'execution',
  /** That execution's start time (ISO 8601): orders attempts. */
  executionStartedAt: 'executionStartedAt',
  /** When the first attempt received the file (ISO 8601): the indexes sort on it. */
  receivedAt: 'receivedAt',
  validatedAt: 'validatedAt',
  rejectedAt: 'rejectedAt',
  curatedAt: 'curatedAt',
  failedAt: 'failedAt',
  updatedAt: 'updatedAt',
  rows: 'rows',
  errorCount: 'errorCount',
  /** Why rejected (`invalid_rows`, `unknown_dataset`, …) or failed (the error's name). */
  reason: 'reason',
  /** Set when failed: the error's cause. */
  cause: 'cause',
  /** Zone objects, as `s3://bucket/key`. */
  raw: 'raw',
  failure: 'failure',
  report: 'report',
  /** The day's data folder in the dataset's Iceberg table (`s3://bucket/<dataset>/iceberg/data/ingest_date=…/`). */
  curated: 'curated',
  /** The Iceberg snapshot that holds the file's rows (a decimal string: a 64-bit id). */
  snapshotId: 'snapshotId',
  /** The conversion engine: `lambda` or `glue`. */
  engine: 'engine',
} as const;

/** The global secondary indexes, each projecting every attribute and sorted newest first by query. */
export const LEDGER_INDEXES = {
  /** A dataset's files, by the time they were received. */
  byDataset: { name: 'by-dataset', partitionKey: ATTR.dataset, sortKey: ATTR.receivedAt },
  /** Files in one status, by the time they were received. */
  byStatus: { name: 'by-status', partitionKey: ATTR.status, sortKey: ATTR.receivedAt },
} as const;

/** The table's name for a stack's prefix and stage (a plain name: the pipeline needs no export). */
export function ledgerTableName(prefix: string, stage: string): string {
  return `${prefix}-${stage}-ledger`;
}

/** One ledger item as the readers return it. */
export interface LedgerItem {
  readonly key: string;
  readonly version: string;
  readonly dataset: string;
  readonly bucket: string;
  readonly size: number;
  readonly status: LedgerStatus;
  readonly execution: string;
  readonly executionStartedAt: string;
  readonly receivedAt: string;
  readonly validatedAt?: string;
  readonly rejectedAt?: string;
  readonly curatedAt?: string;
  readonly failedAt?: string;
  readonly updatedAt: string;
  readonly rows?: number;
  readonly errorCount?: number;
  readonly reason?: string;
  readonly cause?: string;
  readonly raw?: string;
  readonly failure?: string;
  readonly report?: string;
  readonly curated?: string;
  readonly snapshotId?: string;
  readonly engine?: 'lambda' | 'glue';
}

/**
 * The ledger's version of an object: its version id, or `etag:<ETag>` where the bucket keeps no
 * versions. The trigger puts it in the execution input (`IngestRequest.version`).
 */
export function ledgerVersion(object: { versionId: string | null; etag: string | null }): string {
  return object.versionId ?? `etag:${object.etag ?? ''}`;
}

/**
 * The condition of every workflow write, given `:rank` (the write's status rank), `:startedAt`
 * (its execution's start time) and `:final` statuses: the item is new; or this attempt wrote it
 * and the write moves it forward; or an earlier attempt wrote it and did not end it for good (a
 * re-drive after a failure starts over). A duplicate, retried or late write fails the condition,
 * which the workflow takes as done.
 */
export const WRITE_CONDITION = [
  `attribute_not_exists(#key)`,
  `(#startedAt = :startedAt AND #rank < :rank)`,
  `(#startedAt < :startedAt AND NOT (#status IN (:curated, :rejected)))`,
].join(' OR ');

/** Expression attribute names every workflow write uses with {@link WRITE_CONDITION}. */
export const WRITE_NAMES = {
  '#key': ATTR.key,
  '#status': ATTR.status,
  '#rank': ATTR.rank,
  '#startedAt': ATTR.executionStartedAt,
} as const;

/** Converts a DynamoDB item (plain values, as lib-dynamodb returns) to a {@link LedgerItem}. */
export function fromAttributes(item: Record<string, unknown>): LedgerItem {
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  // lib-dynamodb reads a DynamoDB number as a JavaScript number.
  const number = (name: string) => (typeof item[name] === 'number' ? (item[name] as number) : undefined);
  const optional = <T>(name: string, value: T | undefined) => (value === undefined ? {} : { [name]: value });
  return {
    key: text(ATTR.key) ?? '',
    version: text(ATTR.version) ?? '',
    dataset: text(ATTR.dataset) ?? '',
    bucket: text(ATTR.bucket) ?? '',
    size: number(ATTR.size) ?? 0,
    status: (text(ATTR.status) ?? 'RECEIVED') as LedgerStatus,
    execution: text(ATTR.execution) ?? '',
    executionStartedAt: text(ATTR.executionStartedAt) ?? '',
    receivedAt: text(ATTR.receivedAt) ?? '',
    updatedAt: text(ATTR.updatedAt) ?? '',
    ...optional('validatedAt', text(ATTR.validatedAt)),
    ...optional('rejectedAt', text(ATTR.rejectedAt)),
    ...optional('curatedAt', text(ATTR.curatedAt)),
    ...optional('failedAt', text(ATTR.failedAt)),
    ...optional('rows', number(ATTR.rows)),
    ...optional('errorCount', number(ATTR.errorCount)),
    ...optional('reason', text(ATTR.reason)),
    ...optional('cause', text(ATTR.cause)),
    ...optional('raw', text(ATTR.raw)),
    ...optional('failure', text(ATTR.failure)),
    ...optional('report', text(ATTR.report)),
    ...optional('curated', text(ATTR.curated)),
    ...optional('snapshotId', text(ATTR.snapshotId)),
    ...optional('engine', text(ATTR.engine) as LedgerItem['engine']),
  } as LedgerItem;
}

/** What the readers answer a listing with: items newest first. */
export interface LedgerQuery {
  readonly dataset?: string;
  readonly status?: LedgerStatus;
  /** Received at or after (ISO 8601). */
  readonly since?: string;
  /** At most this many items. */
  readonly limit: number;
  /**
   * Keyset paging: only items after this one in the listing's order (the last item of the
   * previous page), so a page is neither repeated nor skipped when files arrive in between.
   */
  readonly after?: LedgerPosition;
}

/** An item's place in a listing: newest first by `receivedAt`, ties by key, then version descending. */
export type LedgerPosition = Pick<LedgerItem, 'receivedAt' | 'key' | 'version'>;

/** The listings' order (negative: `a` comes first); total over distinct key/version pairs. */
export function compareListed(a: LedgerPosition, b: LedgerPosition): number {
  return (
    compareText(b.receivedAt, a.receivedAt) || compareText(a.key, b.key) || compareText(b.version, a.version)
  );
}

/** Items in the listings' order (sorted in place). */
export function newestFirst<T extends LedgerPosition>(items: T[]): T[] {
  return items.sort(compareListed);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The ledger as the CLI and the reconciler read it (DynamoDB on AWS, dynalite locally). */
export interface LedgerReader {
  /** One object version's item. */
  get(key: string, version: string): Promise<LedgerItem | undefined>;
  /** Every version of one key, newest first. */
  versions(key: string): Promise<LedgerItem[]>;
  /** Items newest first by `receivedAt`, filtered. */
  list(query: LedgerQuery): Promise<LedgerItem[]>;
}
