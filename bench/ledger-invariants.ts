/**
 * The ledger's invariants as the soaks check them (issue 14): one item per landed object version,
 * every item terminal after the reconciler, each item's status the outcome of the execution that
 * wrote it last, and statuses that never move backwards while files run, seen by scanning the
 * table over and over in the background.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ATTR, fromAttributes, isTerminal, type LedgerItem, ledgerVersion } from '../lib/ledger/model.ts';
import type { ExecutionRecord } from '../lib/local/executions.ts';
import type { LocalRuntime } from '../lib/local/runtime.ts';
import type { LandedObject } from '../lib/reconcile/reconcile.ts';

/** An item as a scan saw it: the ledger's fields and the status rank the condition compares. */
export type ScannedItem = LedgerItem & { readonly rank: number };

/** Every item of the table (a paginated Scan, strongly consistent). */
export async function scanLedger(client: DynamoDBClient, tableName: string): Promise<ScannedItem[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const items: ScannedItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const raw of page.Items ?? []) {
      items.push({ ...fromAttributes(raw), rank: Number(raw[ATTR.rank] ?? 0) });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** What {@link watchLedger} saw. */
export interface LedgerWatch {
  /** Scans completed (and failed: the ledger's server was down, as in the crash soak). */
  readonly scans: number;
  readonly failedScans: number;
  /** Item observations over all scans, and how many of them changed an item's (attempt, rank). */
  readonly observations: number;
  readonly moves: number;
  /** Each observation that moved an item back: to a lower rank in its attempt, or to an older attempt. */
  readonly backwards: readonly string[];
}

/** Where an item was last seen: its attempt's start, its rank and status. */
interface Seen {
  readonly startedAt: string;
  readonly rank: number;
  readonly status: string;
}

/**
 * Compares one observation with the last: within an attempt (same execution start) the rank never
 * falls and a terminal status never changes (they share a rank); an attempt never gives way to an
 * older one. Returns why it moved back, or undefined.
 */
export function backwardsMove(last: Seen, now: Seen): string | undefined {
  if (now.startedAt < last.startedAt) return `to an older attempt (${last.startedAt} → ${now.startedAt})`;
  if (now.startedAt > last.startedAt) return undefined;
  if (now.rank < last.rank) return `${last.status} → ${now.status} within one attempt`;
  if (now.rank === last.rank && now.status !== last.status) {
    return `${last.status} → ${now.status} within one attempt`;
  }
  return undefined;
}

/**
 * Scans the ledger every `intervalMs` until stopped, recording each item's sequence of
 * (executionStartedAt, statusRank). `client()` is asked before each scan: the crash soak's ledger
 * moves to a new endpoint at every restart; a scan that fails (the server killed) is counted.
 */
export function watchLedger(
  client: () => DynamoDBClient | undefined,
  tableName: string,
  intervalMs = 100,
): { stop(): Promise<LedgerWatch> } {
  const last = new Map<string, Seen>();
  const backwards: string[] = [];
  let scans = 0;
  let failedScans = 0;
  let observations = 0;
  let moves = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const current = client();
      if (current) {
        try {
          for (const item of await scanLedger(current, tableName)) {
            observations++;
            const id = `${item.key} ${item.version}`;
            const now: Seen = { startedAt: item.executionStartedAt, rank: item.rank, status: item.status };
            const before = last.get(id);
            if (before) {
              const why = backwardsMove(before, now);
              if (why) backwards.push(`${id} (${item.execution}): ${why}`);
              if (before.startedAt !== now.startedAt || before.rank !== now.rank) moves++;
            }
            last.set(id, now);
          }
          scans++;
        } catch {
          failedScans++;
        }
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { scans, failedScans, observations, moves, backwards };
    },
  };
}

/** The figures of the ledger's end state; `problems` says what broke an invariant, if anything did. */
export interface LedgerFigures {
  readonly items: number;
  /** Landed object versions with exactly one item. */
  readonly landedWithItem: number;
  readonly landedWithoutItem: number;
  /** Items of a version no longer in landing (replaced by a later upload of its key). */
  readonly itemsNotLanded: number;
  readonly curatedItems: number;
  readonly rejectedItems: number;
  readonly failedItems: number;
  readonly nonTerminalItems: number;
  /** Items whose status is not the outcome of the execution that wrote them last. */
  readonly statusDisagrees: number;
  readonly problems: readonly string[];
}

const OUTCOME_STATUS = { curated: 'CURATED', rejected: 'REJECTED', failed: 'FAILED' } as const;

/**
 * Checks the ledger's end state against the landing listing and the executions: each landed
 * version has an item, every item is terminal, and its status is the outcome of the execution it
 * names (which must exist and have ended).
 */
export function checkLedger(
  items: readonly ScannedItem[],
  landed: readonly LandedObject[],
  executions: readonly ExecutionRecord[],
): LedgerFigures {
  const problems: string[] = [];
  const byId = new Map(items.map((i) => [`${i.key} ${i.version}`, i]));
  const landedIds = new Set(landed.map((o) => `${o.key} ${ledgerVersion(o)}`));
  let landedWithItem = 0;
  for (const id of landedIds) {
    if (byId.has(id)) landedWithItem++;
    else problems.push(`${id}: landed, no item`);
  }
  const records = new Map(executions.map((r) => [r.name, r]));
  const count = (status: string) => items.filter((i) => i.status === status).length;
  let statusDisagrees = 0;
  for (const item of items) {
    const id = `${item.key} ${item.version}`;
    if (!isTerminal(item.status)) problems.push(`${id}: ${item.status} after the reconciler`);
    const record = records.get(item.execution);
    const expected = record?.outcome ? OUTCOME_STATUS[record.outcome] : undefined;
    if (expected !== item.status) {
      statusDisagrees++;
      problems.push(
        `${id}: ${item.status}, but its execution ${item.execution} ended ${record?.outcome ?? 'nowhere'}`,
      );
    }
  }
  const itemsNotLanded = items.filter((i) => !landedIds.has(`${i.key} ${i.version}`)).length;
  return {
    items: items.length,
    landedWithItem,
    landedWithoutItem: landedIds.size - landedWithItem,
    itemsNotLanded,
    curatedItems: count('CURATED'),
    rejectedItems: count('REJECTED'),
    failedItems: count('FAILED'),
    nonTerminalItems: items.filter((i) => !isTerminal(i.status)).length,
    statusDisagrees,
    problems,
  };
}

/** {@link checkLedger} on a runtime's lake: its whole ledger, its landing listing, its records. */
export async function checkRuntimeLedger(
  runtime: LocalRuntime,
  records: readonly ExecutionRecord[],
): Promise<ReturnType<typeof checkLedger>> {
  const landed: LandedObject[] = [];
  for await (const object of runtime.landed()) landed.push(object);
  return checkLedger(await scanLedger(runtime.ledger.client, runtime.ledger.tableName), landed, records);
}
