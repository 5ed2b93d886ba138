/**
 * The whole pipeline on one machine: the S3 server over the lake folder, the trigger on every
 * object created in landing (with a real S3 event record), and the synthesized state machine run
 * in-process with its Task states bound to the same cores the Lambda handlers wrap.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CopyObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { commitBatch } from '../../lambdas/commit/core.ts';
import { convertInLambda } from '../../lambdas/convert/core.ts';
import type {
  CommitTaskInput,
  ConvertTaskInput,
  GlueJobArguments,
  IngestRequest,
  ValidateTaskInput,
} from '../../lambdas/shared/contract.ts';
import type { Log } from '../../lambdas/shared/logger.ts';
import { encodeKey, executionName, startIngests, toIngestRequest } from '../../lambdas/trigger/core.ts';
import { validateIngest, zoneFileName } from '../../lambdas/validate/core.ts';
import { s3Store } from '../../lambdas/validate/s3-store.ts';
import { type LakeConfig, parseConfig } from '../config.ts';
import { convertCsvToParquet, outputNamePattern } from '../conversion/csv-to-parquet.ts';
import { CONVERT_FUNCTION, type FunctionLimits } from '../conversion/lambda-sizing.ts';
import { type ConversionSettings, conversionSettings } from '../conversion/plan.ts';
import { loadDatasets } from '../datasets/load.ts';
import type { Dataset } from '../datasets/model.ts';
import { ensureDatasetTables, tableProperties } from '../iceberg/dataset-tables.ts';
import { sourceTag, tableName } from '../iceberg/layout.ts';
import { localTableCatalog } from '../iceberg/local-catalog.ts';
import type { ObjectStore, TableCatalog } from '../iceberg/ports.ts';
import { s3ObjectStore } from '../iceberg/s3-store.ts';
import { history } from '../iceberg/scan.ts';
import { loadTable, referencedDataFiles } from '../iceberg/table.ts';
import { dynamoLedgerReader } from '../ledger/dynamodb-reader.ts';
import type { LedgerReader } from '../ledger/model.ts';
import { ledgerVersion } from '../ledger/model.ts';
import { fromLedger, type LandedObject, type WorkflowLedger } from '../reconcile/reconcile.ts';
import { deleteKeys, listKeys } from '../s3-keys.ts';
import { CommitQueue } from './commit-queue.ts';
import {
  type ExecutionRecord,
  ExecutionRecords,
  type Outcome,
  ownerAlive,
  thisProcess,
} from './executions.ts';
import { type LakePaths, LOCAL_BUCKETS, LOCAL_DATABASE, lakePaths } from './lake-folder.ts';
import { failAbandonedItem, type LocalLedger, ledgerCall, serveLocalLedger } from './ledger.ts';
import { type QueryLimits, type QueryResult, queryLake } from './query.ts';
import { LOCAL_REGION, type LocalS3, localS3Client, startLocalS3 } from './s3-server.ts';
import { deliverToSubscribers } from './subscriptions.ts';
import {
  type AslDefinition,
  type LocalTasks,
  localStateMachine,
  runLocalExecution,
  synthesizeLocalDefinition,
} from './workflow.ts';

/** Options of {@link LocalRuntime.start}. */
export interface LocalRuntimeOptions {
  /** The lake folder. @default .lake */
  readonly lakeDir?: string;
  /** The dataset declarations. @default datasets */
  readonly datasetsDir?: string;
  /** The S3 server's port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Receives one line per notification and per execution end (the console of `local up`). */
  readonly onLine?: (line: string) => void;
  /** Faults to inject, for tests and the soak; none when unset. */
  readonly faults?: LocalFaults;
  /**
   * Whether each object created in landing triggers the pipeline. False leaves event delivery to
   * the caller (`deliver`), to hold events back or reorder them as S3 may.
   * @default true
   */
  readonly autoTrigger?: boolean;
  /**
   * The large-file threshold of the synthesized workflow (the `largeFileBytes` setting): objects
   * above it are validated in slices of this size. Lowered, it shows the large-file route on
   * small files.
   * @default the app's default (DEFAULT_LARGE_FILE_BYTES)
   */
  readonly largeFileBytes?: number;
  /**
   * The conversion router's settings (`conversion`, `fastPathMaxBytes`): with `auto`, files up to
   * the threshold take the Convert Lambda's task (the same core, with the function's limits), the
   * others the Glue task (the same engine without them).
   * @default the app's defaults
   */
  readonly conversion?: Partial<Pick<LakeConfig, 'conversion' | 'fastPathMaxBytes'>>;
  /**
   * The memory and /tmp the Convert Lambda's task runs with: smaller, they show its hand-off to
   * the Glue task when DuckDB runs out.
   * @default the deployed function's (CONVERT_FUNCTION)
   */
  readonly convertLimits?: FunctionLimits;
  /**
   * The state machine to run, synthesized earlier by {@link synthesizeLocalDefinition} for the
   * same datasets and settings: a process that restarts the runtime many times (the soak, the
   * crash tests) synthesizes once instead of at every start (about 2 s each).
   * @default synthesized from `datasetsDir`, `largeFileBytes` and `conversion` at start
   */
  readonly definition?: AslDefinition;
  /** What to record of the handlers' work, for tests (the IAM simulation). @default - nothing */
  readonly trace?: LocalTrace;
}

/**
 * Hooks that see the handlers' work as it happens. `s3` is called once per S3 command the
 * runtime's client sends (before the SDK's retries), with the Task state whose handler sent it
 * (the Glue twin's as `ConvertToParquet`, the Convert Lambda's core as `ConvertInLambda`, the
 * commit queue's, the Commit function's twin, as `CommitToTable`), or none for the runtime's own
 * commands (`land`, the tables' creation, recovery, re-drives). `task` is called with each Task
 * state's input as its handler receives it.
 */
export interface LocalTrace {
  readonly s3?: (command: TracedS3Command) => void;
  readonly task?: (state: string, input: unknown) => void;
}

/** One S3 command as {@link LocalTrace.s3} sees it. */
export interface TracedS3Command {
  /** The Task state running when it was sent; undefined for the runtime's own commands. */
  readonly state: string | undefined;
  /** The command's name: `GetObjectCommand`, … */
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** The Task state whose handler is running, across its awaits (for {@link LocalTrace.s3}). */
const runningState = new AsyncLocalStorage<string>();

/**
 * Fault injection. `s3` is asked before every request attempt of the runtime's S3 client (the
 * handlers' and the Glue twin's), inside the SDK's retries, with the command's name
 * (`GetObjectCommand`, …): an Error it returns is thrown as the service's reply would be (give it
 * `$metadata.httpStatusCode` and a service error name, e.g. `SlowDown`, for the SDK to retry it).
 * `tasks` is asked around each attempt of a Task state (attempts count from 1 per execution):
 * `before` its handler runs, and `after` it returned (its work done, its result not yet recorded);
 * an Error it returns is the task's error, matched by name against the state's Retry and Catch.
 */
export interface LocalFaults {
  readonly s3?: (commandName: string) => Error | undefined;
  readonly tasks?: (stateName: string, attempt: number, phase: 'before' | 'after') => Error | undefined;
  /**
   * Awaited before each CommitToTable message is queued, with its input and the lake's object
   * store: the place a test spoils what an engine wrote (a data file without field ids, say).
   * @default - none
   */
  readonly beforeCommit?: (input: CommitTaskInput, store: ObjectStore) => Promise<void>;
  /**
   * Milliseconds every Retry waits, in place of the definition's backoff (seconds to minutes, as
   * on AWS): for tests that inject faults until the retries run out.
   * @default - the definition's intervals
   */
  readonly retryDelayMs?: number;
}

/** What the trigger did with one landed object. */
export interface TriggerEvent {
  readonly key: string;
  readonly execution: string;
  readonly duplicate: boolean;
}

/** A running local lake. */
export class LocalRuntime {
  private readonly running = new Map<string, Promise<ExecutionRecord>>();
  private readonly triggerListeners = new Set<(event: TriggerEvent) => void>();
  private triggerQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly paths: LakePaths,
    readonly s3: LocalS3,
    readonly client: S3Client,
    readonly datasets: ReadonlyMap<string, Dataset>,
    readonly executions: ExecutionRecords,
    /** The Iceberg tables' catalog (pointer files in the lake folder), database LOCAL_DATABASE. */
    readonly tables: TableCatalog,
    /** The lake's S3 server as the Iceberg core's object store. */
    readonly store: ObjectStore,
    /** The ingest ledger (dynalite) this runtime serves; the workflow's DynamoDB states write to it. */
    readonly ledger: LocalLedger,
    private readonly definition: AslDefinition,
    private readonly conversion: ConversionSettings,
    private readonly convertLimits: FunctionLimits,
    private readonly onLine: (line: string) => void,
    private readonly faults: LocalFaults = {},
    private readonly trace: LocalTrace = {},
  ) {
    // The Commit function's twin: CommitToTable's messages, batched and serialized per dataset.
    this.commits = new CommitQueue(
      (inputs, stats) =>
        runningState.run(COMMIT_STATE, () =>
          commitBatch(inputs, {
            store: this.store,
            catalog: this.tables,
            database: LOCAL_DATABASE,
            curatedBucket: LOCAL_BUCKETS.curated,
            log: this.log,
            onAppend: (_dataset, result) => stats.onConflicts(result.conflicts),
          }),
        ),
      // The tests' short waits stand for the redelivery delay as for the workflow's Retry.
      faults.retryDelayMs === undefined ? {} : { backoffMs: faults.retryDelayMs },
    );
  }

  /** CommitToTable's queue and its consumer; `stats()` counts batches and conflicts. */
  readonly commits: CommitQueue;

  /** Starts the S3 server and the trigger; the lake folder's contents are kept from earlier runs. */
  static async start(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const paths = lakePaths(options.lakeDir);
    const datasetsDir = options.datasetsDir ?? 'datasets';
    const datasets = await loadDatasets(datasetsDir);
    // The app's settings as `-c key=value` would give them: the workflow and Validate read the same.
    const context: Record<string, unknown> = {
      ...(options.largeFileBytes === undefined ? {} : { largeFileBytes: options.largeFileBytes }),
      ...options.conversion,
    };
    const definition =
      options.definition ?? (await synthesizeLocalDefinition([...datasets.values()], datasetsDir, context));
    // Checked here, once: a definition the engine refuses fails the start, not the first drop.
    localStateMachine(definition);
    const ledger = await serveLocalLedger(paths.ledger);
    let s3: LocalS3;
    try {
      s3 = await startLocalS3({
        directory: paths.s3,
        buckets: Object.values(LOCAL_BUCKETS),
        ...(options.port === undefined ? {} : { port: options.port }),
      });
    } catch (error) {
      await ledger.close();
      throw error;
    }
    const client = localS3Client(s3.endpoint);
    const config = parseConfig((key) => context[key]);
    const runtime = new LocalRuntime(
      paths,
      s3,
      client,
      datasets,
      new ExecutionRecords(paths.executions),
      localTableCatalog(paths.tables),
      s3ObjectStore(client),
      ledger,
      definition,
      conversionSettings(config),
      options.convertLimits ?? CONVERT_FUNCTION,
      options.onLine ?? (() => {}),
      options.faults,
      options.trace,
    );
    const traceS3 = options.trace?.s3;
    if (traceS3) {
      runtime.client.middlewareStack.add(
        (next, context) => async (args) => {
          traceS3({
            state: runningState.getStore(),
            command: context.commandName ?? '',
            input: args.input as Record<string, unknown>,
          });
          return next(args);
        },
        // Before the retries: one call per command, as IAM authorizes each attempt alike.
        { step: 'initialize', name: 'localTrace' },
      );
    }
    // Every dataset's current table version, created or evolved as the stack's tables custom
    // resource does on deploy (a change the rules refuse stops the start, every table untouched,
    // and the lake's server and ledger are let go for the next start).
    try {
      await ensureDatasetTables(
        { store: runtime.store, catalog: runtime.tables },
        { database: LOCAL_DATABASE, curatedBucket: LOCAL_BUCKETS.curated },
        [...datasets.values()],
        // The app's retention, as the stack gives its tables (the `snapshotRetentionDays` setting).
        tableProperties({ snapshotRetentionDays: config.snapshotRetentionDays }),
      );
    } catch (error) {
      await runtime.close();
      throw error;
    }
    await runtime.recover();
    const s3Fault = options.faults?.s3;
    if (s3Fault) {
      runtime.client.middlewareStack.add(
        (next, context) => async (args) => {
          const error = s3Fault(context.commandName ?? '');
          if (error) throw error;
          return next(args);
        },
        // Inside the retry middleware (finalizeRequest, high), as a reply from S3 would be.
        { step: 'finalizeRequest', priority: 'low', name: 'localFaultInjection' },
      );
    }
    if (options.autoTrigger !== false) {
      s3.onObjectCreated((record) => {
        if (record.s3.bucket.name !== LOCAL_BUCKETS.landing) return;
        // One event at a time, so that a record never races its own duplicate.
        void runtime.deliver(s3EventRecord(record));
      });
    }
    return runtime;
  }

  /**
   * Puts an object into landing through the S3 API and resolves with its execution's record once
   * everything in flight has ended (the way tests and tools drop one file and look at the outcome).
   */
  async land(key: string, body: string | Buffer): Promise<ExecutionRecord> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const put = await this.client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: key, Body: bytes }),
    );
    const name = executionNameFor(key, bytes.length, put.ETag ?? '');
    await this.idle();
    const record = await this.finished(name);
    if (!record) throw new Error(`no execution ${name} for ${key}`);
    return record;
  }

  /** Runs one SELECT over the curated tables, confined and limited as `datalake local query` is. */
  async query(sql: string, limits?: QueryLimits): Promise<QueryResult> {
    return queryLake(
      {
        s3: this.client,
        curatedBucket: LOCAL_BUCKETS.curated,
        datasets: this.datasets,
        catalog: this.tables,
        database: LOCAL_DATABASE,
        cacheDir: this.paths.queryCache,
      },
      sql,
      limits,
    );
  }

  /** Calls `listener` each time the trigger starts (or finds) an execution for a landed object. */
  onTrigger(listener: (event: TriggerEvent) => void): () => void {
    this.triggerListeners.add(listener);
    return () => this.triggerListeners.delete(listener);
  }

  /** The record of an execution once it has ended (the running one is awaited). */
  async finished(name: string): Promise<ExecutionRecord | undefined> {
    return (await this.running.get(name)) ?? this.executions.get(name);
  }

  /** Resolves when no trigger event and no execution is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await this.triggerQueue;
      const pending = [...this.running.values()];
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /**
   * What a process that died left behind: its scratch folder is removed, and each execution it was
   * running (now read as ABORTED) is reported, for `reconcile --redrive` to run again. Executions
   * are not re-driven here: on AWS too, a stopped execution waits for an operator's redrive.
   */
  private async recover(): Promise<void> {
    const scratch = await readdir(this.paths.work).catch(() => [] as string[]);
    for (const entry of scratch) {
      const pid = /^pid-(\d+)$/.exec(entry)?.[1];
      if (pid !== undefined && !ownerAlive({ pid: Number(pid) }))
        await rm(join(this.paths.work, entry), { recursive: true, force: true });
    }
    for (const record of await this.executions.list()) {
      if (record.status !== 'ABORTED') continue;
      if (await this.stillLanded(record.input)) {
        this.onLine(`aborted  ${record.input.key} (${record.name}): ${record.error?.message ?? ''}`);
        continue;
      }
      // Its object was replaced (or deleted) since it died. The local landing bucket keeps no
      // versions, so that upload is gone and no re-drive can read it: the execution ends here, as
      // one still running would have (ObjectReplaced), and the newer upload has its own. The data
      // files it wrote are deleted unless its commit happened (a commit stands, as on AWS: the
      // table never loses a file it holds), and its validated copy is kept in raw, named in the
      // reason, so the bytes are not lost.
      const { pid } = record.owner ?? { pid: 0 };
      const { kept, withdrawn } = await this.withdraw(record);
      const failed: ExecutionRecord = {
        ...record,
        status: 'FAILED',
        stoppedAt: new Date().toISOString(),
        outcome: 'failed',
        error: {
          name: 'ObjectReplaced',
          message: [
            `the process running it (pid ${pid}) ended${record.task ? ` in state ${record.task}` : ''}, and s3://${LOCAL_BUCKETS.landing}/${record.input.key} was replaced since: the landing bucket keeps no versions, so that upload is gone and cannot run again; the newer upload has its own execution`,
            ...kept.map(
              (key) =>
                `; its validated copy is kept at s3://${LOCAL_BUCKETS.raw}/${key} (upload it again to ingest it)`,
            ),
            withdrawn > 0
              ? `; the ${withdrawn} data file(s) it had written, never committed, were deleted`
              : '',
          ].join(''),
        },
      };
      await this.executions.save(failed);
      // No state of it will run again: its ledger item ends here too, or it would stay RECEIVED.
      // A record from before the ledger has no version in its input: derive it as the trigger does.
      const input = { ...record.input, version: record.input.version ?? ledgerVersion(record.input) };
      await failAbandonedItem(this.ledger, { name: record.name, input, error: failed.error! });
      this.onLine(`failed   ${record.input.key} (${record.name}): ${failed.error?.message}`);
    }
  }

  /**
   * Deletes what an execution that can never end wrote in curated and no table holds (its data
   * files, found by its version's names); returns its raw copies, which are kept.
   */
  private async withdraw(record: ExecutionRecord): Promise<{ kept: string[]; withdrawn: number }> {
    const found = await versionObjects(this.client, this.tables, record.name, record.input);
    await deleteKeys(this.client, LOCAL_BUCKETS.curated, [...found.curated, ...found.staging]);
    return { kept: found.raw, withdrawn: found.curated.length };
  }

  /** Whether landing still holds the object version of a request (same ETag). */
  private async stillLanded(request: IngestRequest): Promise<boolean> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: request.key }),
      );
      return (head.ETag ?? '').replace(/"/g, '') === (request.etag ?? '').replace(/"/g, '');
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }

  /** Waits for work in flight, then stops the S3 server. */
  async close(): Promise<void> {
    await this.idle();
    this.commits.close();
    await this.s3.close();
    this.client.destroy();
    await this.ledger.close();
  }

  private log: Log = {
    info: () => {},
    warn: (message, ...attributes) =>
      this.onLine(`warning: ${message} ${JSON.stringify(Object.assign({}, ...attributes))}`),
  };

  /**
   * Delivers one S3 event record to the trigger, as S3 would (again, for a duplicate delivery);
   * resolves once the trigger has handled it (the execution may still be running).
   */
  deliver(record: S3EventRecord): Promise<void> {
    const handled = this.triggerQueue.then(() => this.trigger(record));
    this.triggerQueue = handled;
    return handled;
  }

  /**
   * What the reconciler asks: the ingest ledger first, then the local workflow engine's record of
   * the execution (as on AWS: see {@link fromLedger}).
   */
  reconcilerLedger(): WorkflowLedger {
    const deliverFor = (request: IngestRequest) =>
      this.deliver(landingEvent({ key: request.key, size: request.size, etag: request.etag ?? '' }));
    return fromLedger(dynamoLedgerReader(this.ledger.client, this.ledger.tableName), {
      status: async (name) => (await this.executions.get(name))?.status,
      start: (_name, request) => deliverFor(request),
      redrive: (name, request) =>
        rerun(this.client, this.tables, this.executions, name, request, () => deliverFor(request)),
    });
  }

  /** Every object in the landing bucket (the local server keeps no versions). */
  landed(): AsyncGenerator<LandedObject> {
    return landedObjects(this.client);
  }

  /** The trigger handler's core with a local StartExecution. */
  private async trigger(record: S3EventRecord): Promise<void> {
    await startIngests([record], {
      log: this.log,
      starter: {
        startExecution: async (name, input) => {
          const claimed = await this.executions.claim(name, input);
          if (claimed) {
            const run = this.execute(name, input).finally(() => this.running.delete(name));
            this.running.set(name, run);
          }
          for (const listener of this.triggerListeners) {
            listener({ key: input.key, execution: name, duplicate: !claimed });
          }
          return claimed ? 'started' : 'duplicate';
        },
      },
    }).catch((error: unknown) => this.onLine(`trigger failed: ${(error as Error).message}`));
  }

  /** Runs one execution to its end and records it; never rejects (a failure is an outcome). */
  private async execute(name: string, input: IngestRequest): Promise<ExecutionRecord> {
    const started = (await this.executions.get(name))!;
    try {
      return await this.runToEnd(started);
    } catch (error) {
      // Not a workflow failure (those are outcomes) but the runtime's own: still end the record.
      const failed: ExecutionRecord = {
        ...started,
        status: 'FAILED',
        stoppedAt: new Date().toISOString(),
        outcome: 'failed',
        error: { name: (error as Error).name, message: (error as Error).message },
      };
      await this.executions.save(failed);
      this.onLine(`failed   ${input.key} (${name}): ${(error as Error).message}`);
      return failed;
    }
  }

  private async runToEnd(started: ExecutionRecord): Promise<ExecutionRecord> {
    const { name, input } = started;
    let curated: string[] | undefined;
    let snapshotId: string | undefined;
    const store = s3Store(this.client);
    const buckets = {
      rawBucket: LOCAL_BUCKETS.raw,
      failureBucket: LOCAL_BUCKETS.failure,
      curatedBucket: LOCAL_BUCKETS.curated,
    };
    // Each Task state is written to the record before its work starts, so that the record of a
    // process that died says where it was.
    const entered: string[] = [];
    // A folder of this process's own: one left by a process that died is removed at start.
    const workDir = join(this.paths.work, `pid-${thisProcess().pid}`);
    const faulty = this.taskWrapper((task) =>
      this.executions.save({ ...started, states: [...entered], task }),
    );
    // The ledger's Task states (RecordReceived, …): the DynamoDB API of the lake's dynalite.
    const ledgerTask = faulty(
      (call: LedgerTaskCall) => call.stateName,
      (call: LedgerTaskCall) => ledgerCall(this.ledger.client, call.action, call.parameters),
    );
    // CommitToTable: the message to the commit queue; its outcome is the task token's.
    const commitTask = faulty(
      (call: CommitTaskCall) => call.stateName,
      async ({ parameters }: CommitTaskCall) => {
        const { input } = commitMessage(parameters.MessageBody);
        await this.faults.beforeCommit?.(input, this.store);
        const output = await this.commits.send(input);
        snapshotId = output.snapshotId;
        return output;
      },
    );
    const result = await runLocalExecution(
      this.definition,
      { name, input },
      {
        lambda: {
          Validate: faulty('Validate', (payload) =>
            validateIngest(payload as ValidateTaskInput, {
              store,
              datasets: this.datasets,
              buckets,
              log: this.log,
              conversion: this.conversion,
            }),
          ),
          // The Convert Lambda's core with the function's memory and /tmp; no deadline here.
          Convert: faulty('ConvertInLambda', async (payload) => {
            const conversion = await convertInLambda(payload as ConvertTaskInput, {
              s3: this.client,
              workDir,
              limits: this.convertLimits,
              id: `local-${name}`,
              log: this.log,
            });
            curated = conversion.outputs;
            return conversion;
          }),
        },
        sendMessageForToken: (parameters, stateName) => commitTask({ parameters, stateName }),
        glueJob: faulty('ConvertToParquet', async ({ Arguments }) => {
          const conversion = await convertCsvToParquet(
            Arguments as unknown as GlueJobArguments,
            this.client,
            { workDir },
          );
          curated = conversion.outputs;
          return {
            Id: `local-${name}`,
            JobRunState: 'SUCCEEDED',
            ExecutionTime: Math.ceil(conversion.seconds),
          };
        }),
        dynamodb: (action, parameters, stateName) => ledgerTask({ action, parameters, stateName }),
        publish: faulty(notifyState, async ({ TopicArn, Message, MessageAttributes }) => {
          const attributes = Object.fromEntries(
            Object.entries(MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
          );
          const message = typeof Message === 'string' ? JSON.parse(Message) : Message;
          await this.notify({ topic: TopicArn, attributes, message, at: new Date().toISOString() });
          return { MessageId: `local-${Date.now()}` };
        }),
      },
      (state) => void entered.push(state),
      this.faults.retryDelayMs,
    );
    const outcome: Outcome =
      result.status === 'FAILED' ? 'failed' : result.states.includes('Curated') ? 'curated' : 'rejected';
    const record: ExecutionRecord = {
      ...started,
      status: result.status,
      stoppedAt: new Date().toISOString(),
      states: result.states,
      outcome,
      ...(result.output === undefined ? {} : { output: result.output }),
      ...(result.error ? { error: result.error } : {}),
      ...(curated ? { curated } : {}),
      ...(snapshotId && outcome === 'curated' ? { snapshotId } : {}),
    };
    await this.executions.save(record);
    this.onLine(`${outcome.padEnd(8)} ${input.key} (${name})`);
    return record;
  }

  /**
   * Wraps a Task handler: `track` is awaited before it runs, and the `tasks` fault (if any) is asked
   * before and after it.
   */
  private taskWrapper(track: (state: string) => Promise<void>) {
    const fault = this.faults.tasks;
    const attempts = new Map<string, number>();
    return <I, O>(state: string | ((input: I) => string), handler: (input: I) => Promise<O>) =>
      async (input: I): Promise<O> => {
        const stateName = typeof state === 'string' ? state : state(input);
        await track(stateName);
        this.trace.task?.(stateName, input);
        const run = () => runningState.run(stateName, () => handler(input));
        if (!fault) return run();
        const attempt = (attempts.get(stateName) ?? 0) + 1;
        attempts.set(stateName, attempt);
        const before = fault(stateName, attempt, 'before');
        if (before) throw before;
        const result = await run();
        const after = fault(stateName, attempt, 'after');
        if (after) throw after;
        return result;
      };
  }

  private async notify(entry: {
    topic: string;
    attributes: Record<string, string>;
    message: unknown;
    at: string;
  }) {
    await mkdir(dirname(this.paths.notifications), { recursive: true });
    await appendFile(this.paths.notifications, `${JSON.stringify(entry)}\n`);
    // The local SNS subscriptions (`datalake subscribe`): a subscriber's trouble is logged, never the workflow's.
    await deliverToSubscribers(this.paths, entry.message, entry.attributes, { log: this.onLine }).catch(
      (error: unknown) => this.onLine(`warning: subscribers not reached: ${(error as Error).message}`),
    );
    const m = entry.message as { status?: string; dataset?: string; source?: { key?: string } };
    this.onLine(`sns      ${entry.attributes.status ?? m.status} ${entry.attributes.dataset ?? ''}`);
  }
}

/**
 * The state {@link LocalTrace.s3} names the commit queue's S3 commands by: CommitToTable, whose
 * messages it serves (the Commit function's role on AWS).
 */
export const COMMIT_STATE = 'CommitToTable';

/** CommitToTable's message body: the task token and the commit's input (see the workflow). */
function commitMessage(body: unknown): { taskToken: string; input: CommitTaskInput } {
  const message = (typeof body === 'string' ? JSON.parse(body) : body) as {
    taskToken?: unknown;
    input?: CommitTaskInput;
  };
  if (typeof message?.taskToken !== 'string' || typeof message.input !== 'object' || message.input === null) {
    throw new Error(`CommitToTable's message has no task token or input: ${JSON.stringify(body)}`);
  }
  return { taskToken: message.taskToken, input: message.input };
}

/** One call of CommitToTable (`sqs:sendMessage.waitForTaskToken`). */
interface CommitTaskCall {
  readonly parameters: Parameters<LocalTasks['sendMessageForToken']>[0];
  readonly stateName: string;
}

/** One call of a DynamoDB Task state. */
interface LedgerTaskCall {
  readonly action: string;
  readonly parameters: Record<string, unknown>;
  readonly stateName: string;
}

/** The publishing state of an SNS message: `Notify` and its status (`NotifyCurated`, …). */
function notifyState(input: Parameters<LocalTasks['publish']>[0]): string {
  const status = input.MessageAttributes?.status?.StringValue ?? '';
  return `Notify${status.charAt(0)}${status.slice(1).toLowerCase()}`;
}

/** The S3 event record of an object in the landing bucket, as S3 would deliver it. */
export function landingEvent(object: { key: string; size: number; etag: string }): S3EventRecord {
  return s3EventRecord({
    eventName: 'ObjectCreated:Put',
    eventTime: new Date().toISOString(),
    s3: {
      bucket: { name: LOCAL_BUCKETS.landing },
      object: { key: object.key, size: object.size, eTag: object.etag },
    },
  });
}

/** The name the trigger gives the execution of a landed object (it follows from the object). */
export function executionNameFor(key: string, size: number, etag: string): string {
  return executionName(toIngestRequest(landingEvent({ key, size, etag }))!);
}

/** A real S3 event record for an s3rver event (whose key is not URL-encoded and has no version). */
export function s3EventRecord(record: {
  eventName: string;
  eventTime: string;
  s3: { bucket: { name: string }; object: { key: string; size: number; eTag: string; versionId?: string } };
}): S3EventRecord {
  const { bucket, object } = record.s3;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: LOCAL_REGION,
    eventTime: record.eventTime,
    eventName: record.eventName,
    userIdentity: { principalId: 'local' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'local-landing',
      bucket: {
        name: bucket.name,
        ownerIdentity: { principalId: 'local' },
        arn: `arn:aws:s3:::${bucket.name}`,
      },
      object: {
        key: encodeKey(object.key),
        size: object.size,
        eTag: object.eTag.replace(/"/g, ''),
        ...(object.versionId ? { versionId: object.versionId } : {}),
        sequencer: Date.now().toString(16).toUpperCase(),
      },
    },
  } as S3EventRecord;
}

/** Every object in a local lake's landing bucket, as the reconciler lists them (no versions). */
export async function* landedObjects(client: S3Client): AsyncGenerator<LandedObject> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.landing, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      yield {
        key: o.Key ?? '',
        size: o.Size ?? 0,
        etag: o.ETag ? o.ETag.replace(/"/g, '') : null,
        versionId: null,
      };
    }
    token = page.NextContinuationToken;
  } while (token);
}

/** How long {@link ServedLedger.settled} waits for `up` to start an execution it was delivered. */
const DELIVERY_WAIT_MS = 60_000;

/** The reconciler's ledger of a lake another process serves (`local up`), and what it started. */
export interface ServedLedger extends WorkflowLedger {
  /** Resolves when every execution started or re-driven through this ledger has ended (or cannot). */
  settled(): Promise<void>;
}

/**
 * The reconciler's ledger of a lake that a running `local up` serves: that process runs every
 * execution, so this one starts nothing itself. It asks the landing object to be delivered again,
 * as S3 would: a copy of the object onto itself (pinned to its ETag) sends `ObjectCreated:Copy`
 * with the same key, size and ETag, so `up`'s trigger starts the execution under the same name. A
 * re-drive first clears and retires the ended one, as {@link LocalRuntime.ledger} does ({@link rerun}).
 */
export function servedLedger(
  client: S3Client,
  tables: TableCatalog,
  executions: ExecutionRecords,
  serving: () => Promise<boolean>,
  items: LedgerReader,
): ServedLedger {
  const started = new Set<string>();
  const deliverAgain = async (name: string, request: IngestRequest) => {
    await client.send(
      new CopyObjectCommand({
        Bucket: LOCAL_BUCKETS.landing,
        Key: request.key,
        CopySource: `${LOCAL_BUCKETS.landing}/${request.key.split('/').map(encodeURIComponent).join('/')}`,
        ...(request.etag ? { CopySourceIfMatch: `"${request.etag.replace(/"/g, '')}"` } : {}),
        // S3 refuses a copy onto itself that changes nothing.
        MetadataDirective: 'REPLACE',
      }),
    );
    started.add(name);
  };
  return {
    ...fromLedger(items, {
      status: async (name) => (await executions.get(name))?.status,
      start: deliverAgain,
      redrive: (name, request) =>
        rerun(client, tables, executions, name, request, () => deliverAgain(name, request)),
    }),
    settled: async () => {
      // up starts the execution on the copy's event; one not started within a minute (up's trigger
      // failed, say) is not waited for: the report after it still counts it.
      const until = Date.now() + DELIVERY_WAIT_MS;
      const startedYet = async () => Date.now() < until && (await serving());
      await Promise.all([...started].map((name) => executions.ended(name, startedYet)));
    },
  };
}

/** What one object version left in the zones, across every ingest date (keys per bucket). */
interface VersionObjects {
  readonly raw: string[];
  readonly failure: string[];
  /**
   * Data files of the version's conversions that no table holds: none when the version was
   * committed (its files are the table's now; a re-run's commit finds the version and adds nothing).
   */
  readonly curated: string[];
  /** Staging objects of the execution's conversion, in the curated bucket (the Hive-era publish). */
  readonly staging: string[];
}

/**
 * What the dataset's tables hold of an object version: whether some snapshot's sources name it,
 * and every data file some snapshot reads (a committed file must never be deleted, even once the
 * snapshot that appended it, and so its source tag, has expired). Every table version whose
 * files are in `curatedKeys` (`<dataset>/iceberg/…`, `<dataset>/v<N>/iceberg/…`) is asked: a run
 * of an earlier declaration committed to an earlier version's table. An unknown dataset has no
 * table, so nothing of it is committed.
 */
async function tableHolds(
  client: S3Client,
  tables: TableCatalog,
  request: IngestRequest,
  curatedKeys: readonly string[],
): Promise<{ readonly committed: boolean; readonly referenced: ReadonlySet<string> }> {
  const versions = new Set<number>([1]);
  const prefix = `${request.dataset}/`;
  for (const key of curatedKeys) {
    const m = /^v(\d+)\/iceberg\//.exec(key.slice(prefix.length));
    if (m) versions.add(Number(m[1]));
  }
  const store = s3ObjectStore(client);
  const tag = sourceTag(request.key, request.version ?? ledgerVersion(request));
  let committed = false;
  const referenced = new Set<string>();
  for (const version of [...versions].sort((a, b) => a - b)) {
    const table = { database: LOCAL_DATABASE, name: tableName(request.dataset, version) };
    if (!(await tables.load(table.database, table.name))) continue;
    const { metadata } = await loadTable({ store, catalog: tables }, table);
    committed ||= history(metadata).some((s) => s.sources.includes(tag));
    for (const file of await referencedDataFiles(store, metadata)) referenced.add(file);
  }
  return { committed, referenced };
}

/**
 * Finds what an execution of an object version wrote, by the names the version gives its zone
 * files (`<name>.<version tag>.csv` and what derives from it), under every `ingest_date`: the
 * date comes from the landing object's LastModified, which a copy or an upload of the same bytes
 * moves, so a re-run may file the version under another day than the run before it.
 */
async function versionObjects(
  client: S3Client,
  tables: TableCatalog,
  name: string,
  request: IngestRequest,
): Promise<VersionObjects> {
  const file = zoneFileName(request);
  const prefix = `${request.dataset}/`;
  const parts = outputNamePattern(`s3://${LOCAL_BUCKETS.raw}/${prefix}${file}`);
  const base = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  const curated = await listKeys(client, LOCAL_BUCKETS.curated, prefix);
  const held = await tableHolds(client, tables, request, curated);
  return {
    raw: (await listKeys(client, LOCAL_BUCKETS.raw, prefix)).filter((key) => base(key) === file),
    failure: (await listKeys(client, LOCAL_BUCKETS.failure, prefix)).filter(
      (key) => base(key) === file || base(key).startsWith(`${file}.errors.`),
    ),
    // Never a committed file: deleting it would break the table (and every snapshot holding it).
    curated: held.committed
      ? []
      : curated.filter(
          (key) => parts.test(base(key)) && !held.referenced.has(`s3://${LOCAL_BUCKETS.curated}/${key}`),
        ),
    staging: curated.filter((key) => key.includes(`_staging/${name}/`)),
  };
}

/**
 * Re-drives an ended execution (failed, or aborted by its process's death) from the start: what
 * its earlier run wrote is removed first (it may lie under another ingest date than the re-run
 * will use, and would then be counted twice), then the record is retired and the object delivered
 * again. Skipped when the record is running again, or was retired by another process meanwhile.
 * The caller holds the lake's re-drive lock ({@link ExecutionRecords.exclusively}).
 */
async function rerun(
  client: S3Client,
  tables: TableCatalog,
  executions: ExecutionRecords,
  name: string,
  request: IngestRequest,
  deliver: () => Promise<void>,
): Promise<void> {
  if ((await executions.get(name))?.status === 'RUNNING') return;
  const found = await versionObjects(client, tables, name, request);
  await deleteKeys(client, LOCAL_BUCKETS.raw, found.raw);
  await deleteKeys(client, LOCAL_BUCKETS.failure, found.failure);
  await deleteKeys(client, LOCAL_BUCKETS.curated, [...found.curated, ...found.staging]);
  if (!(await executions.retire(name))) return;
  await deliver();
}
