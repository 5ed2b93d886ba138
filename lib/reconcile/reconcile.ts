/**
 * The reconciler: every object version in landing must reach a terminal outcome, and the ingest
 * ledger (lib/ledger) says which did. An item CURATED or REJECTED has its outcome, whatever the
 * workflow engine still remembers (Step Functions forgets executions after 90 days). For the rest
 * (no item, an item still RECEIVED or VALIDATED, or FAILED) the workflow engine is asked about the
 * execution: the trigger names each after its object version (bucket, key, version id or ETag), so
 * its name is known from the listing alone, and its status says whether the object is still on its
 * way (RUNNING) or needs re-driving (never started: a lost event; or FAILED, TIMED_OUT, ABORTED).
 */
import type { S3EventRecord } from 'aws-lambda';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';
import { attemptName, encodeKey, executionName, toIngestRequest } from '../../lambdas/trigger/core.ts';
import { FINAL_STATUSES, type LedgerItem, type LedgerReader } from '../ledger/model.ts';
import { errorText } from '../text.ts';

/** One object version in the landing bucket, as a listing gives it. */
export interface LandedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string | null;
  readonly versionId: string | null;
}

/** An execution's status as the workflow engine reports it; undefined when there is none. */
export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

/** The workflow engine as the reconciler needs it. */
export interface WorkflowLedger {
  /** The outcome of the object version `request` names, whose execution is `name`. */
  status(name: string, request: IngestRequest): Promise<ExecutionStatus | undefined>;
  /** Starts the execution the trigger would have started (its event was lost). */
  start(name: string, request: IngestRequest): Promise<void>;
  /** Runs a failed execution again from where it failed. */
  redrive(name: string, request: IngestRequest): Promise<void>;
}

/**
 * New executions the reconciler starts for one object version after its first one failed. A file
 * whose workflow failed this often fails for a reason a retry does not cure: it stays an orphan,
 * counted in the Orphans metric and named in the report, for an operator.
 */
export const MAX_RETRIES = 3;

/** An object version without a terminal outcome. */
export interface Orphan {
  readonly key: string;
  readonly versionId: string | null;
  readonly execution: string;
  readonly reason: 'never started' | 'failed' | 'timed out' | 'aborted';
  /** Why it was not started or re-driven when asked (an execution that cannot run again). */
  readonly notRedriven?: string;
}

/** What one reconciliation found (and did). */
export interface ReconcileReport {
  /** Object versions listed (folder markers excluded). */
  readonly objects: number;
  readonly terminal: number;
  readonly running: number;
  readonly orphans: Orphan[];
  /** Orphans started or re-driven (with `redrive`). */
  readonly redriven: number;
  /**
   * Objects the sweep could not check (a throttled call): each is named, and the sweep goes on
   * with the next object rather than ending there. An orphan whose re-drive failed is an orphan,
   * with the reason in its `notRedriven`, not an error: each object is counted once.
   */
  readonly errors: ReconcileError[];
}

/** Landed objects not known to have an outcome: the orphans and the objects that could not be checked. */
export function withoutOutcome(report: ReconcileReport): number {
  return report.orphans.length + report.errors.length;
}

/** An object whose check failed. */
export interface ReconcileError {
  readonly key: string;
  readonly versionId: string | null;
  readonly execution: string;
  readonly message: string;
}

const REASONS: Partial<Record<ExecutionStatus, Orphan['reason']>> = {
  FAILED: 'failed',
  TIMED_OUT: 'timed out',
  ABORTED: 'aborted',
};

/** The trigger's request for a listed object, exactly as it builds it from an S3 event record. */
export function requestFor(bucket: string, object: LandedObject): IngestRequest | null {
  const record = {
    eventName: 'ObjectCreated:Put',
    s3: {
      bucket: { name: bucket },
      // The trigger decodes event keys; a listing's keys are plain, so encode them as S3 does.
      object: {
        key: encodeKey(object.key),
        size: object.size,
        eTag: object.etag ?? undefined,
        versionId: object.versionId ?? undefined,
      },
    },
  } as unknown as S3EventRecord;
  return toIngestRequest(record);
}

/** Checks every landed object version; re-drives the orphans when asked. */
export async function reconcile(
  bucket: string,
  objects: AsyncIterable<LandedObject>,
  ledger: WorkflowLedger,
  options: { readonly redrive?: boolean } = {},
): Promise<ReconcileReport> {
  let count = 0;
  let terminal = 0;
  let running = 0;
  let redriven = 0;
  const orphans: Orphan[] = [];
  const errors: ReconcileError[] = [];
  for await (const object of objects) {
    const request = requestFor(bucket, object);
    if (request === null) continue; // a folder marker: the trigger skips it too
    count++;
    const name = executionName(request);
    // One object's failure (a throttled call, an execution that cannot run again) is reported and
    // the sweep goes on: the objects after it are still checked and the metric still emitted.
    let status: ExecutionStatus | undefined;
    try {
      status = await ledger.status(name, request);
    } catch (error) {
      errors.push({
        key: object.key,
        versionId: object.versionId,
        execution: name,
        message: errorText(error),
      });
      continue;
    }
    if (status === 'SUCCEEDED') {
      terminal++;
      continue;
    }
    if (status === 'RUNNING' || status === 'PENDING_REDRIVE') {
      running++;
      continue;
    }
    const reason = status === undefined ? 'never started' : (REASONS[status] ?? 'failed');
    const orphan: Orphan = { key: object.key, versionId: object.versionId, execution: name, reason };
    if (!options.redrive) {
      orphans.push(orphan);
      continue;
    }
    try {
      if (status === undefined) await ledger.start(name, request);
      else await ledger.redrive(name, request);
      orphans.push(orphan);
      redriven++;
    } catch (error) {
      orphans.push({ ...orphan, notRedriven: errorText(error) });
    }
  }
  return { objects: count, terminal, running, orphans, redriven, errors };
}

/**
 * The ledger first: an object version whose item is CURATED or REJECTED has ended, with no call to
 * the workflow engine (one GetItem per object instead of one DescribeExecution or more); for any
 * other the engine's status of its execution decides (running, or why it needs re-driving).
 *
 * When the engine knows no execution of a file the ledger has an item for, it has forgotten them
 * (Step Functions keeps a closed execution 90 days): the item says what became of it (FAILED, or
 * stopped short of an outcome, taken as aborted), and the attempt its execution names counts
 * towards {@link MAX_RETRIES}, so a file that failed for good is not started over once the
 * history is gone.
 */
export function fromLedger(items: LedgerReader, engine: WorkflowLedger): WorkflowLedger {
  // What status() learned of the files whose executions the engine forgot, for redrive(): per sweep.
  const forgotten = new Map<string, LedgerItem>();
  return {
    async status(name, request) {
      const item = await items.get(request.key, request.version);
      if (item && FINAL_STATUSES.includes(item.status)) return 'SUCCEEDED';
      const status = await engine.status(name, request);
      if (status !== undefined || item === undefined) return status;
      forgotten.set(name, item);
      return item.status === 'FAILED' ? 'FAILED' : 'ABORTED';
    },
    start: (name, request) => engine.start(name, request),
    async redrive(name, request) {
      const item = forgotten.get(name);
      if (item === undefined) return engine.redrive(name, request);
      forgotten.delete(name);
      const attempt = attemptOf(item.execution);
      if (attempt >= MAX_RETRIES) {
        throw new Error(
          `not started again: ${attempt + 1} executions of it ended without an outcome (the ledger names the last, ${item.execution}, ${item.status}); fix the cause, then upload the file again (a new version gets its own execution)`,
        );
      }
      await engine.start(attemptName(name, attempt + 1), request);
    },
  };
}

/** The attempt an execution name is (`<name>-rN` is attempt N; the trigger's own name attempt 0). */
function attemptOf(execution: string): number {
  const suffix = /-r(\d+)$/.exec(execution);
  return suffix ? Number(suffix[1]) : 0;
}
