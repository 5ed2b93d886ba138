/**
 * The local twin of CommitToTable's SQS FIFO queue and its Commit function: requests wait in a
 * queue per dataset (the message group); a dataset's pending requests go to `commitBatch` at most
 * ten at a time (the event source's batch size), one batch at a time per dataset (a FIFO group
 * has one batch in flight), while datasets commit side by side. Each request's promise settles as
 * its task token would: with the output of SendTaskSuccess, or an Error named as SendTaskFailure's
 * error. A transient outcome is tried again after a backoff (SQS redelivers it after its
 * visibility timeout), a few times, then fails.
 */
import type { CommitOutcome } from '../../lambdas/commit/core.ts';
import type { CommitTaskInput, CommitTaskOutput } from '../../lambdas/shared/contract.ts';

/** The batch size of the Commit function's SQS event source. */
export const COMMIT_BATCH_SIZE = 10;

/** How the queue commits a batch: `commitBatch` with its dependencies bound. */
export type CommitFn = (
  inputs: readonly CommitTaskInput[],
  stats: { readonly onConflicts: (conflicts: number) => void },
) => Promise<CommitOutcome[]>;

/** Options of {@link CommitQueue}. */
export interface CommitQueueOptions {
  /** Tries of a request whose outcome is transient (SQS's maxReceiveCount). @default 5 */
  readonly attempts?: number;
  /** The first retry's delay in ms, doubled each time. @default 200 */
  readonly backoffMs?: number;
  /** Requests per batch. @default COMMIT_BATCH_SIZE */
  readonly batchSize?: number;
}

/** What the queue has done so far. */
export interface CommitQueueStats {
  /** Requests received. */
  readonly requests: number;
  /** `commitBatch` calls. */
  readonly batches: number;
  /** Compare-and-swap conflicts the appends met (AppendResult.conflicts, summed). */
  readonly conflicts: number;
  /** Tries made again after a transient outcome (one request may count several). */
  readonly retries: number;
  /** Requests that ended with an error. */
  readonly failed: number;
  /** The largest batch. */
  readonly largestBatch: number;
}

/** An Error as Step Functions sees a SendTaskFailure: named as its error, the cause as message. */
export class TaskFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Item {
  readonly input: CommitTaskInput;
  readonly resolve: (output: CommitTaskOutput) => void;
  readonly reject: (error: Error) => void;
  attempt: number;
}

/** The in-process per-dataset commit queue; see the module doc. */
export class CommitQueue {
  private readonly pending = new Map<string, Item[]>();
  /** Datasets whose batch is in flight (or about to start). */
  private readonly busy = new Set<string>();
  /** Requests waiting out their backoff, with the error that sent them back. */
  private readonly waiting = new Map<NodeJS.Timeout, { item: Item; error: TaskFailure }>();
  private readonly counts = {
    requests: 0,
    batches: 0,
    conflicts: 0,
    retries: 0,
    failed: 0,
    largestBatch: 0,
  };
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly commit: CommitFn,
    options: CommitQueueOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.backoffMs = options.backoffMs ?? 200;
    this.batchSize = options.batchSize ?? COMMIT_BATCH_SIZE;
  }

  /** Queues one request; settles as its task token would. */
  send(input: CommitTaskInput): Promise<CommitTaskOutput> {
    this.counts.requests++;
    return new Promise((resolve, reject) => {
      this.enqueue({ input, resolve, reject, attempt: 1 });
    });
  }

  /** A copy of the counters. */
  stats(): CommitQueueStats {
    return { ...this.counts };
  }

  /** Ends the retries waiting out their backoff: their requests fail with their last error. */
  close(): void {
    for (const [timer, { item, error }] of this.waiting) {
      clearTimeout(timer);
      this.counts.failed++;
      item.reject(error);
    }
    this.waiting.clear();
  }

  private enqueue(item: Item): void {
    const dataset = item.input.dataset;
    this.pending.set(dataset, [...(this.pending.get(dataset) ?? []), item]);
    if (this.busy.has(dataset)) return;
    this.busy.add(dataset);
    // A turn of the event loop first: requests sent together (executions ending together) go in
    // one batch, as messages that arrive together are received together.
    setImmediate(() => void this.drain(dataset));
  }

  /** Commits the dataset's pending requests a batch at a time until none is left. */
  private async drain(dataset: string): Promise<void> {
    for (;;) {
      const queue = this.pending.get(dataset) ?? [];
      const batch = queue.splice(0, this.batchSize);
      if (batch.length === 0) {
        this.pending.delete(dataset);
        this.busy.delete(dataset);
        return;
      }
      this.counts.batches++;
      this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.length);
      let outcomes: CommitOutcome[];
      try {
        outcomes = await this.commit(
          batch.map((item) => item.input),
          {
            onConflicts: (n) => {
              this.counts.conflicts += n;
            },
          },
        );
      } catch (error) {
        // The function itself failed (not an outcome): every message of the batch is redelivered.
        const e = error as Error;
        outcomes = batch.map(() => ({ error: { name: e.name, message: e.message }, transient: true }));
      }
      for (const [n, item] of batch.entries()) this.settle(item, outcomes[n]);
    }
  }

  private settle(item: Item, outcome: CommitOutcome | undefined): void {
    if (outcome && 'ok' in outcome) {
      item.resolve(outcome.ok);
      return;
    }
    const error = outcome?.error ?? { name: 'CommitError', message: 'no outcome for the request' };
    if (outcome?.transient !== false && item.attempt < this.attempts) {
      this.counts.retries++;
      const delay = this.backoffMs * 2 ** (item.attempt - 1);
      item.attempt++;
      const timer = setTimeout(() => {
        this.waiting.delete(timer);
        this.enqueue(item);
      }, delay);
      this.waiting.set(timer, { item, error: new TaskFailure(error.name, error.message) });
      return;
    }
    this.counts.failed++;
    item.reject(new TaskFailure(error.name, error.message));
  }
}
