/**
 * The CommitToTable step's core: append converted files to their datasets' Iceberg tables, a batch
 * at a time. Requests of one dataset become one snapshot; a request whose files fail their check
 * fails alone. Bound to the SQS FIFO Commit function on AWS (handler.ts: one batch per message
 * group = dataset, task tokens answered per request) and to the local runtime's in-process queue.
 * STUB: the signature agreed between helpers; the local-runtime branch implements it.
 */
import type { ObjectStore, TableCatalog } from '../../lib/iceberg/ports.ts';
import type { CommitTaskInput, CommitTaskOutput } from '../shared/contract.ts';
import type { Log } from '../shared/logger.ts';

/** What the core needs from its surroundings. */
export interface CommitDeps {
  readonly store: ObjectStore;
  readonly catalog: TableCatalog;
  readonly database: string;
  readonly curatedBucket: string;
  readonly log: Log;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * One request's outcome, in the order of the inputs. `transient` errors (a catalog or storage
 * failure, a commit that kept conflicting) are worth retrying the request for; the rest (a data
 * file that fails its check, a missing table) fail the file.
 */
export type CommitOutcome =
  | { readonly ok: CommitTaskOutput }
  | { readonly error: { readonly name: string; readonly message: string }; readonly transient: boolean };

/** Commits a batch of requests, one snapshot per dataset; see the module doc. */
export async function commitBatch(
  _inputs: readonly CommitTaskInput[],
  _deps: CommitDeps,
): Promise<CommitOutcome[]> {
  throw new Error('lambdas/commit/core.ts: not implemented yet');
}
