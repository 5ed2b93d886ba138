/**
 * The CommitToTable step's core: append converted files to their datasets' Iceberg tables, a batch
 * at a time. Requests of one dataset become one snapshot; a request whose files fail their check
 * fails alone. Bound to the SQS FIFO Commit function on AWS (handler.ts: one batch per message
 * group = dataset, task tokens answered per request) and to the local runtime's in-process queue
 * (lib/local/commit-queue.ts).
 */
import { checkDataFile } from '../../lib/iceberg/datafile.ts';
import {
  partitionPrefix,
  sourceTag,
  tableLocation,
  tableName,
  targetTableVersion,
} from '../../lib/iceberg/layout.ts';
import type { ObjectStore, TableCatalog } from '../../lib/iceberg/ports.ts';
import { schemaOf } from '../../lib/iceberg/scan.ts';
import type { IcebergSchema } from '../../lib/iceberg/schema.ts';
import {
  type AppendResult,
  type AppendSource,
  appendFiles,
  type DataFileSpec,
  loadTable,
  TableNotFoundError as NoTableError,
  type TableRef,
} from '../../lib/iceberg/table.ts';
import type { CommitRequestFile, CommitTaskInput, CommitTaskOutput } from '../shared/contract.ts';
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
  /**
   * Called with each dataset's append result (its attempts and conflicts), for the caller's
   * statistics (the local queue's, the soak's).
   * @default - not reported
   */
  readonly onAppend?: (dataset: string, result: AppendResult) => void;
}

/**
 * One request's outcome, in the order of the inputs. `transient` errors (a catalog or storage
 * failure, a commit that kept conflicting) are worth retrying the request for; the rest (a data
 * file that fails its check, a missing table) fail the file.
 */
export type CommitOutcome =
  | { readonly ok: CommitTaskOutput }
  | { readonly error: { readonly name: string; readonly message: string }; readonly transient: boolean };

/** A commit request that is missing, malformed, or not the request of its input. */
export class CommitRequestError extends Error {
  override readonly name = 'CommitRequestError';
}

/** The dataset has no table in the catalog (the tables custom resource, or `local up`, creates them). */
export class TableNotFoundError extends Error {
  override readonly name = 'TableNotFound';
}

/** A request whose checks passed, ready to append. */
interface Checked {
  readonly index: number;
  readonly input: CommitTaskInput;
  readonly tag: string;
  readonly files: readonly DataFileSpec[];
}

/** Commits a batch of requests, one snapshot per dataset; see the module doc. */
export async function commitBatch(
  inputs: readonly CommitTaskInput[],
  deps: CommitDeps,
): Promise<CommitOutcome[]> {
  const outcomes: CommitOutcome[] = new Array(inputs.length);
  // One group per table: a dataset's table version (a batch met during a version change may hold
  // requests of both versions, each bound for the table its run validated against).
  const byTable = new Map<string, { dataset: string; version: number; indexes: number[] }>();
  inputs.forEach((input, index) => {
    // 0: a target that is no day folder of the dataset's tables, refused below.
    const version =
      input.target === undefined
        ? 1
        : (targetTableVersion(deps.curatedBucket, input.dataset, input.ingestDate, input.target) ?? 0);
    const key = `${input.dataset}\n${version}`;
    const group = byTable.get(key) ?? { dataset: input.dataset, version, indexes: [] };
    group.indexes.push(index);
    byTable.set(key, group);
  });
  // Tables are independent: one's trouble never holds another's commit back.
  await Promise.all(
    [...byTable.values()].map(async ({ dataset, version, indexes }) => {
      const results = await commitDataset(
        dataset,
        version,
        indexes.map((i) => inputs[i]!),
        deps,
      );
      indexes.forEach((i, n) => {
        outcomes[i] = results[n]!;
      });
    }),
  );
  return outcomes;
}

/** The outcome of an error: non-transient for the core's own verdicts and a bad data file. */
function failure(error: unknown, transient?: boolean): CommitOutcome {
  const e = error instanceof Error ? error : new Error(String(error));
  const verdict =
    e.name === 'DataFileError' || e instanceof CommitRequestError || e instanceof TableNotFoundError;
  return { error: { name: e.name, message: e.message }, transient: transient ?? !verdict };
}

/**
 * The requests of one dataset's table version: checked one by one against the table's current
 * schema (a file written under an older schema of the same table passes: fewer fields, an int for
 * a long, a narrower decimal), then one append for those that passed.
 */
async function commitDataset(
  dataset: string,
  version: number,
  inputs: readonly CommitTaskInput[],
  deps: CommitDeps,
): Promise<CommitOutcome[]> {
  const { store, catalog, database, curatedBucket, log } = deps;
  const table: TableRef = {
    database,
    name: tableName(dataset, version),
    location: tableLocation(curatedBucket, dataset, version),
  };
  let schema: IcebergSchema;
  // 0: commitBatch found the target to be no day folder of the dataset's tables.
  if (version === 0) {
    const outcome = failure(
      new CommitRequestError(
        `the run's target ${JSON.stringify(inputs[0]?.target)} is not a day folder of a table of dataset "${dataset}" (s3://<curated>/${dataset}/iceberg/data/ingest_date=<day>/, or …/${dataset}/v<N>/iceberg/… for version N)`,
      ),
    );
    return inputs.map(() => outcome);
  }
  try {
    const { metadata } = await loadTable({ store, catalog }, table).catch((error: unknown) => {
      if (error instanceof NoTableError) {
        throw new TableNotFoundError(
          `no table "${database}.${table.name}" for dataset "${dataset}" (the stack's tables resource creates it on deploy, \`local up\` at start)`,
        );
      }
      throw error;
    });
    schema = schemaOf(metadata);
  } catch (error) {
    const outcome = failure(error);
    return inputs.map(() => outcome);
  }
  const outcomes: CommitOutcome[] = new Array(inputs.length);
  const checked: Checked[] = [];
  await Promise.all(
    inputs.map(async (input, index) => {
      try {
        const files = await readRequest(input, version, deps);
        for (const file of files) await checkDataFile(store, file, schema);
        checked.push({ index, input, tag: sourceTag(input.key, input.version), files });
      } catch (error) {
        outcomes[index] = failure(error);
        log.warn('commit request refused', { dataset, runId: input.runId, error: (error as Error).message });
      }
    }),
  );
  if (checked.length === 0) return outcomes;
  checked.sort((a, b) => a.index - b.index);
  // One object version appended once: a second request of the same tag in the batch (a re-drive
  // of a version whose first run is still queued) shares the first's snapshot; its files stay out.
  const sources = new Map<string, AppendSource>();
  for (const c of checked) if (!sources.has(c.tag)) sources.set(c.tag, { tag: c.tag, files: c.files });
  let result: AppendResult;
  try {
    result = await appendFiles({ store, catalog, ...(deps.now ? { now: deps.now } : {}) }, table, [
      ...sources.values(),
    ]);
  } catch (error) {
    // The whole append failed (storage, catalog, conflicts beyond the retries): every request of
    // the dataset is worth another try, none is at fault.
    log.warn('append failed', { dataset, error: (error as Error).message });
    const outcome = failure(error, true);
    for (const c of checked) outcomes[c.index] = outcome;
    return outcomes;
  }
  deps.onAppend?.(dataset, result);
  const first = new Set<string>();
  for (const c of checked) {
    const appended = result.bySource[c.tag];
    if (!appended) {
      outcomes[c.index] = failure(new Error(`the append of ${c.tag} returned no snapshot for it`), true);
      continue;
    }
    const repeated = first.has(c.tag);
    first.add(c.tag);
    outcomes[c.index] = {
      ok: {
        table: `${database}.${table.name}`,
        snapshotId: appended.snapshotId,
        sequenceNumber: appended.sequenceNumber,
        metadataLocation: result.metadataLocation,
        location: partitionPrefix(curatedBucket, dataset, c.input.ingestDate, version),
        files: c.files.length,
        rows: c.input.rows,
        status: repeated ? 'exists' : appended.status,
      },
    };
    log.info('files committed', {
      dataset,
      runId: c.input.runId,
      snapshotId: appended.snapshotId,
      status: repeated ? 'exists' : appended.status,
    });
  }
  return outcomes;
}

/**
 * The request file of an input, checked against it: the same dataset, run, day and rows (the
 * validator's count), every file under the day's data folder. A storage error other than a
 * missing object propagates (transient).
 */
async function readRequest(
  input: CommitTaskInput,
  version: number,
  deps: CommitDeps,
): Promise<DataFileSpec[]> {
  const bytes = await deps.store.get(input.request);
  if (!bytes) throw new CommitRequestError(`commit request ${input.request} not found`);
  let request: CommitRequestFile;
  try {
    request = JSON.parse(Buffer.from(bytes).toString('utf8')) as CommitRequestFile;
  } catch (error) {
    throw new CommitRequestError(`commit request ${input.request} is not JSON: ${(error as Error).message}`);
  }
  const bad = (what: string) => new CommitRequestError(`commit request ${input.request}: ${what}`);
  if (typeof request !== 'object' || request === null) throw bad('not an object');
  if (request.version !== 1) throw bad(`unknown version ${JSON.stringify(request.version)} (expected 1)`);
  for (const field of ['dataset', 'runId', 'ingestDate'] as const) {
    if (request[field] !== input[field]) {
      throw bad(
        `${field} is ${JSON.stringify(request[field])}, the task's is ${JSON.stringify(input[field])}`,
      );
    }
  }
  if (request.rows !== input.rows) {
    throw bad(`${JSON.stringify(request.rows)} rows written, the validator counted ${input.rows}`);
  }
  if (!Array.isArray(request.files)) throw bad('no files list');
  const prefix = partitionPrefix(deps.curatedBucket, input.dataset, input.ingestDate, version);
  let rows = 0;
  const files = request.files.map((f, n) => {
    if (
      typeof f?.path !== 'string' ||
      !Number.isSafeInteger(f.rows) ||
      f.rows < 0 ||
      !Number.isSafeInteger(f.bytes) ||
      f.bytes <= 0
    ) {
      throw bad(`file ${n} is malformed: ${JSON.stringify(f)}`);
    }
    // Only the day's folder of the dataset's own table version: a request must not append another
    // table's files (nor another version's).
    if (!f.path.startsWith(prefix) || f.path.slice(prefix.length).includes('/')) {
      throw bad(`file ${f.path} is not in the day's data folder ${prefix}`);
    }
    rows += f.rows;
    return { path: f.path, rows: f.rows, bytes: f.bytes, ingestDate: input.ingestDate };
  });
  if (rows !== input.rows) throw bad(`its files hold ${rows} rows, the validator counted ${input.rows}`);
  return files;
}
