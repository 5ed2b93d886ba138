/**
 * The local lake as the operator commands' {@link LakeTarget}: with `local up` running, its S3 and
 * ledger endpoints (from `server.json`); otherwise servers of this process for the command's
 * duration (and, for a command that uploads, a whole runtime, so the upload runs the workflow
 * here, as `local ingest` does).
 */
import { resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { filterPolicy } from '../aws/subscribe.ts';
import { CliError, UsageError, untilAborted } from '../cli/failures.ts';
import {
  requireFolder,
  requireLake,
  requireWritable,
  runningUp,
  type ServerInfo,
} from '../cli/lake-server.ts';
import type { LakeTarget } from '../cli/target.ts';
import { loadDatasets } from '../datasets/load.ts';
import { localTableCatalog } from '../iceberg/local-catalog.ts';
import { dynamoLedgerReader } from '../ledger/dynamodb-reader.ts';
import { type LakePaths, LOCAL_BUCKETS, LOCAL_DATABASE, lakePaths } from './lake-folder.ts';
import { LedgerBusyError, type LocalLedger, serveLocalLedger, useLocalLedger } from './ledger.ts';
import { localS3Client, startLocalS3 } from './s3-server.ts';
import { addSubscription } from './subscriptions.ts';

/** Options of {@link localTarget}. */
export interface LocalTargetOptions {
  /** The lake folder. */
  readonly lakeDir: string;
  /**
   * The dataset declarations (`--datasets`).
   * @default - the folder a running `local up` reads, else `datasets`
   */
  readonly datasetsDir?: string;
  /**
   * Whether an upload must run the workflow: without `local up`, a runtime of this process then
   * serves the lake (`put`); otherwise only its S3 store and ledger are served (`files`, `report`,
   * `query`, `subscribe`).
   */
  readonly pipeline: boolean;
  /**
   * Whether a folder that holds no lake yet is taken (and becomes one): `subscribe` may come
   * before the first file. Otherwise such a folder is refused, so a mistyped `--lake` creates
   * nothing.
   * @default false
   */
  readonly create?: boolean;
}

/** What serves the lake while the command runs. */
interface Served {
  readonly s3: S3Client;
  readonly ledger: LocalLedger;
  readonly close: () => Promise<void>;
}

/** The local lake in `options.lakeDir` as a {@link LakeTarget}. */
export async function localTarget(options: LocalTargetOptions): Promise<LakeTarget> {
  const paths = lakePaths(options.lakeDir);
  await requireFolder(paths);
  const up = await runningUp(paths);
  const datasetsDir = datasetsFolder(options, up);
  const served = up
    ? useUp(up)
    : await serveHere(paths, datasetsDir, options).catch((error: unknown) => {
        throw error instanceof LedgerBusyError ? new CliError(error.message) : error;
      });
  const ledger = dynamoLedgerReader(served.ledger.client, served.ledger.tableName);
  return {
    kind: 'local',
    label: `local lake ${paths.root}${up ? ` (local up, pid ${up.pid})` : ''}`,
    s3: served.s3,
    buckets: LOCAL_BUCKETS,
    ledger,
    datasetsDir,
    query: async (sql, { signal, snapshot }) => {
      const datasets = await loadDatasets(datasetsDir);
      const scope = {
        s3: served.s3,
        curatedBucket: LOCAL_BUCKETS.curated,
        datasets,
        catalog: localTableCatalog(paths.tables),
        database: LOCAL_DATABASE,
        cacheDir: paths.queryCache,
        ...(snapshot ? { snapshot } : {}),
      };
      // Loaded here: files, report and subscribe need no DuckDB.
      const { queryLake } = await import('./query.ts');
      // DuckDB takes no signal: Ctrl-C stops waiting, and the query ends with the process.
      return untilAborted(queryLake(scope, sql), signal);
    },
    subscribe: async (request) => {
      const policy = filterPolicy(request.statuses, request.datasets);
      await addSubscription(paths, {
        endpoint: request.endpoint,
        protocol: request.protocol,
        filterPolicy: policy,
      });
      // Locally a subscription is a line the notifier reads: nothing to confirm.
      return {
        subscription: `local:${paths.subscriptions}`,
        pendingConfirmation: false,
        filterPolicy: policy,
      };
    },
    close: served.close,
  };
}

/**
 * The dataset declarations a local lake runs with: those of a running `local up` unless
 * `--datasets` names others (refused for a command that uploads), else `datasets`.
 */
export async function localDatasetsDir(options: Omit<LocalTargetOptions, 'create'>): Promise<string> {
  return datasetsFolder(options, await runningUp(lakePaths(options.lakeDir)));
}

/**
 * The declarations the lake runs with: with `local up` running, the workflow checks files against
 * up's folder, so a `--datasets` naming another one is refused for a command that uploads (as
 * `local ingest` refuses it).
 */
function datasetsFolder(options: LocalTargetOptions, up: ServerInfo | undefined): string {
  const given = options.datasetsDir;
  if (options.pipeline && up?.datasets && given !== undefined && resolve(given) !== up.datasets) {
    throw new UsageError(
      `--datasets ${resolve(given)} is not the folder the running local up reads (${up.datasets}): leave --datasets out, or restart local up with it`,
    );
  }
  return given ?? up?.datasets ?? 'datasets';
}

/** Clients on a running `local up`'s endpoints. */
function useUp(up: ServerInfo): Served {
  if (!up.ledger) {
    throw new CliError(
      `the running local up (pid ${up.pid}) serves no ledger (it predates it): stop it and start it again`,
    );
  }
  const s3 = localS3Client(up.endpoint);
  const ledger = useLocalLedger(up.ledger);
  return {
    s3,
    ledger,
    close: async () => {
      s3.destroy();
      await ledger.close();
    },
  };
}

/** Serves the lake from this process: a whole runtime for `pipeline`, else its S3 store and ledger. */
async function serveHere(
  paths: LakePaths,
  datasetsDir: string,
  options: LocalTargetOptions,
): Promise<Served> {
  if (options.pipeline || options.create) await requireWritable(paths);
  else await requireLake(paths);
  if (options.pipeline) {
    // The runtime serves the ledger its workflow writes: the one LevelDB folder, one process.
    // Loaded here: only a command that uploads runs the workflow (and loads the CDK and DuckDB).
    const { LocalRuntime } = await import('./runtime.ts');
    const runtime = await LocalRuntime.start({ lakeDir: paths.root, datasetsDir });
    return { s3: runtime.client, ledger: runtime.ledger, close: () => runtime.close() };
  }
  const server = await startLocalS3({ directory: paths.s3, buckets: Object.values(LOCAL_BUCKETS) });
  const ledger = await serveLocalLedger(paths.ledger).catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  const s3 = localS3Client(server.endpoint);
  return {
    s3,
    ledger,
    close: async () => {
      s3.destroy();
      await server.close();
      await ledger.close();
    },
  };
}
