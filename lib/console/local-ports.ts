/**
 * The console API's ports on the local lake of `local up`: the runtime's S3 client and ledger,
 * its datasets, presigned POSTs into the local landing bucket, and DuckDB through `queryLake`,
 * whose results are kept in memory (a few recent queries, each at most `maxRows` rows) and paged.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Dataset } from '../datasets/model.ts';
import { dynamoLedgerReader } from '../ledger/dynamodb-reader.ts';
import type { LedgerReader } from '../ledger/model.ts';
import { LOCAL_BUCKETS } from '../local/lake-folder.ts';
import { QueryError, type QueryLimits, type QueryResult } from '../local/query.ts';
import type { LocalRuntime } from '../local/runtime.ts';
import type { ConsolePorts, QueryPorts } from './api.ts';
import { presignPost } from './aws-ports.ts';
import type { QueryPage } from './contract.ts';

/** What the local ports are built from (a running LocalRuntime's parts). */
export interface LocalLake {
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly ledger: LedgerReader;
  /** The runtime's client of the local S3 server: reads the zones and signs the uploads. */
  readonly s3: S3Client;
  readonly landingBucket: string;
  /** Runs one SELECT over the lake (LocalRuntime.query). */
  readonly query: (sql: string, limits: QueryLimits) => Promise<QueryResult>;
}

/** The parts of a running lake the console reads: its datasets, ledger, S3 client and engine. */
export function runtimeLake(runtime: LocalRuntime): LocalLake {
  return {
    datasets: runtime.datasets,
    ledger: dynamoLedgerReader(runtime.ledger.client, runtime.ledger.tableName),
    s3: runtime.client,
    landingBucket: LOCAL_BUCKETS.landing,
    query: (sql, limits) => runtime.query(sql, limits),
  };
}

/** Options of the local ports. */
export interface LocalPortsOptions {
  /** @default 5 GiB, S3's largest single POST */
  readonly maxUploadBytes?: number;
  /** @default 10000 */
  readonly maxRows?: number;
  /** Finished queries whose results are kept for paging. @default 8 */
  readonly keptQueries?: number;
}

/** The local default of the upload cap: a single POST to S3 takes at most 5 GiB. */
export const LOCAL_MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

/** Every route group, bound to the local lake. */
export function localConsolePorts(lake: LocalLake, options: LocalPortsOptions = {}): Required<ConsolePorts> {
  const maxUploadBytes = options.maxUploadBytes ?? LOCAL_MAX_UPLOAD_BYTES;
  return {
    read: { datasets: lake.datasets, ledger: lake.ledger, s3: lake.s3 },
    upload: { datasets: lake.datasets, maxUploadBytes, presign: presignPost(lake.s3, lake.landingBucket) },
    query: localQueryPorts(lake.query, options.maxRows ?? 10_000, options.keptQueries ?? 8),
  };
}

type Kept = { state: 'SUCCEEDED'; result: QueryResult } | { state: 'FAILED'; message: string };

/** DuckDB runs the query at start; its results (at most `maxRows`) are kept and paged. */
export function localQueryPorts(run: LocalLake['query'], maxRows: number, keptQueries: number): QueryPorts {
  const kept = new Map<string, Kept>();
  const keep = (id: string, entry: Kept) => {
    kept.set(id, entry);
    // The oldest go first: a page of one of them is then not found (start it again).
    for (const old of kept.keys()) {
      if (kept.size <= keptQueries) break;
      kept.delete(old);
    }
  };
  return {
    maxRows,
    async start(sql) {
      const id = randomUUID();
      try {
        keep(id, { state: 'SUCCEEDED', result: await run(sql, { maxRows }) });
      } catch (error) {
        // The engine's refusals and failures (an unknown table, a second statement, the time
        // limit) end the query FAILED with the engine's message, as Athena ends one.
        if (!(error instanceof QueryError)) throw error;
        keep(id, { state: 'FAILED', message: firstLine(error.message) });
      }
      return { id, state: kept.get(id)!.state };
    },
    async page(id, cursor, rows) {
      const entry = kept.get(id);
      if (!entry) return undefined;
      if (entry.state === 'FAILED') return { id, state: 'FAILED', message: entry.message };
      const { columns, rows: all, truncated } = entry.result;
      const end = Math.min(cursor.offset + rows, all.length);
      const page: Omit<QueryPage, 'next'> = {
        id,
        state: 'SUCCEEDED',
        columns,
        rows: all.slice(cursor.offset, end),
        ...(truncated && end === all.length ? { truncated: true } : {}),
      };
      return end < all.length ? { ...page, next: { offset: end } } : page;
    },
  };
}

const firstLine = (text: string) => text.split('\n')[0]!.trim();
