/**
 * `query` on a deployed lake: one statement in the lake's Athena workgroup (its scan cap, its
 * results bucket), polled to its end, its rows shaped as `local query --json` shapes DuckDB's, and
 * its bytes scanned priced.
 */
import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { QueryAnswer } from '../cli/target.ts';
import { parseConfig } from '../config.ts';
import { ATHENA_BILLING, dollars, PRICES } from '../cost/prices.ts';
import { QueryError } from '../local/query-error.ts';
import { uniqueNames } from '../text.ts';

/** Rows a query returns at most by default, as locally (lib/local/query.ts). */
export const DEFAULT_MAX_ROWS = 10_000;

/**
 * Milliseconds between two GetQueryExecution polls: the first wait, doubled up to the last. A
 * small query over the curated Parquet ends in one to three seconds; the cap keeps a long one from
 * spending Athena's API quota on polls.
 */
export const DEFAULT_POLL_MS = { first: 200, max: 2_000 } as const;

/** GetQueryResults returns at most this many rows a page. */
const PAGE_ROWS = 1_000;

/** A query Athena ended as FAILED or CANCELLED (the scan cap cancels one), or one the user interrupted. */
export class AthenaQueryError extends Error {
  override readonly name: string = 'AthenaQueryError';
  constructor(
    message: string,
    readonly queryId: string | undefined,
    readonly state: 'FAILED' | 'CANCELLED',
    /** What Athena had scanned when it ended: a cancelled query is billed for it. */
    readonly scannedBytes?: number,
  ) {
    super(message);
  }
}

/**
 * Why a statement is not the one read-only SELECT `datalake query` runs, or undefined when it is:
 * its first word, after comments and parentheses, must be SELECT or WITH. Athena would run an
 * INSERT, a DROP or an UNLOAD with whatever the caller's credentials allow (the operator policy
 * allows none of them; broader credentials might); the local engine refuses them too.
 */
export function notASelect(sql: string): string | undefined {
  const start = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  const word = /^[A-Za-z]+/.exec(start)?.[0]?.toLowerCase();
  if (word === 'select' || word === 'with') return undefined;
  return word === undefined
    ? 'an empty query: give one SELECT'
    : `only select queries run over the lake: this is a ${word.toUpperCase()} statement`;
}

/** The query was interrupted (Ctrl-C): it was stopped in Athena, or this says why not. */
export class AthenaQueryInterruptedError extends AthenaQueryError {
  override readonly name = 'AthenaQueryInterruptedError';
}

/** What {@link runAthenaQuery} runs, and how. */
export interface AthenaQueryOptions {
  readonly workgroup: string;
  /** The Glue database the statement's unqualified table names resolve in. */
  readonly database: string;
  readonly sql: string;
  /** Aborting it stops the query in Athena (StopQueryExecution) and rejects. */
  readonly signal?: AbortSignal;
  /**
   * Rows returned at most; a query with more returns the first ones and `truncated: true`.
   * @default 10000
   */
  readonly maxRows?: number;
  /**
   * Poll intervals in milliseconds: the first, doubled after each poll up to `max`.
   * @default { first: 200, max: 2000 }
   */
  readonly pollMs?: { readonly first: number; readonly max: number };
}

/**
 * Runs one statement in Athena: starts it in the workgroup, polls it with exponential backoff,
 * and on success pages through its results.
 * @throws AthenaQueryError when Athena ends it FAILED or CANCELLED, with Athena's reason.
 * @throws AthenaQueryInterruptedError when `signal` aborts, after stopping the query.
 */
export async function runAthenaQuery(
  client: AthenaClient,
  options: AthenaQueryOptions,
): Promise<QueryAnswer> {
  const { signal } = options;
  const refused = notASelect(options.sql);
  if (refused) throw new QueryError(refused);
  if (signal?.aborted)
    throw new AthenaQueryInterruptedError('query interrupted before it started', undefined, 'CANCELLED');
  // Not given the signal: aborted in flight, a query could start with no id to stop it by. The
  // SDK fills in ClientRequestToken, so a retried start does not start a second query.
  const started = await client.send(
    new StartQueryExecutionCommand({
      QueryString: options.sql,
      WorkGroup: options.workgroup,
      QueryExecutionContext: { Database: options.database },
    }),
  );
  const queryId = started.QueryExecutionId;
  if (!queryId) throw new Error('athena answered StartQueryExecution without a query id');
  const execution = await waitForQuery(client, queryId, options.pollMs ?? DEFAULT_POLL_MS, signal);
  const scannedBytes = execution.Statistics?.DataScannedInBytes ?? 0;
  const results = await readResults(client, queryId, options.maxRows ?? DEFAULT_MAX_ROWS, signal);
  return { ...results, queryId, scannedBytes, costUsd: athenaQueryCost(scannedBytes) };
}

/** Polls the query until it ends; its execution when SUCCEEDED. */
async function waitForQuery(
  client: AthenaClient,
  queryId: string,
  pollMs: { readonly first: number; readonly max: number },
  signal: AbortSignal | undefined,
): Promise<QueryExecution> {
  for (let delay = pollMs.first; ; delay = Math.min(delay * 2, pollMs.max)) {
    await sleep(delay, signal);
    if (signal?.aborted) throw await stopQuery(client, queryId);
    let execution: QueryExecution | undefined;
    try {
      ({ QueryExecution: execution } = await client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: queryId }),
        { abortSignal: signal },
      ));
    } catch (error) {
      if (signal?.aborted) throw await stopQuery(client, queryId);
      throw error;
    }
    const state = execution?.Status?.State;
    if (state === 'SUCCEEDED') return execution!;
    if (state === 'FAILED' || state === 'CANCELLED') throw endedError(queryId, state, execution!);
  }
}

/** The error of a query Athena ended: its state, StateChangeReason and AthenaError's message. */
function endedError(
  queryId: string,
  state: 'FAILED' | 'CANCELLED',
  execution: QueryExecution,
): AthenaQueryError {
  return new AthenaQueryError(
    `athena query ${queryId} ${state}: ${endedReason(execution)}`,
    queryId,
    state,
    execution.Statistics?.DataScannedInBytes,
  );
}

/** Why Athena ended a query: its StateChangeReason and AthenaError's message, one line. */
export function endedReason(execution: QueryExecution): string {
  const reason = execution.Status?.StateChangeReason;
  const detail = execution.Status?.AthenaError?.ErrorMessage;
  const why = [reason, detail !== undefined && detail !== reason ? detail : undefined].filter(Boolean);
  return why.length > 0 ? why.join(' — ') : 'no reason given';
}

/** Stops an interrupted query; the error to throw says whether Athena stopped it. */
async function stopQuery(client: AthenaClient, queryId: string): Promise<AthenaQueryInterruptedError> {
  try {
    await client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
    return new AthenaQueryInterruptedError(
      `athena query ${queryId} interrupted: stopped`,
      queryId,
      'CANCELLED',
    );
  } catch (error) {
    return new AthenaQueryInterruptedError(
      `athena query ${queryId} interrupted, but could not be stopped (${(error as Error).message}): it runs on until it ends or reaches the workgroup's scan cap`,
      queryId,
      'CANCELLED',
    );
  }
}

/** The rows of a finished query, page after page, up to one more than `maxRows` (to tell truncation). */
async function readResults(
  client: AthenaClient,
  queryId: string,
  maxRows: number,
  signal: AbortSignal | undefined,
): Promise<Pick<QueryAnswer, 'columns' | 'rows' | 'truncated'>> {
  let columns: ColumnInfo[] = [];
  let names: string[] = [];
  const rows: Record<string, unknown>[] = [];
  let token: string | undefined;
  let first = true;
  do {
    // The first page starts with the header row: one more row to ask for.
    const wanted = maxRows + 1 - rows.length + (first ? 1 : 0);
    let page: Awaited<ReturnType<typeof getPage>>;
    try {
      page = await getPage(client, queryId, Math.min(PAGE_ROWS, wanted), token, signal);
    } catch (error) {
      if (signal?.aborted) {
        throw new AthenaQueryInterruptedError(
          `athena query ${queryId} interrupted while reading its results`,
          queryId,
          'CANCELLED',
        );
      }
      throw error;
    }
    if (first) {
      columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      names = columnNames(columns);
    }
    const data = page.ResultSet?.Rows ?? [];
    for (const row of first ? data.slice(1) : data) rows.push(rowObject(columns, names, row));
    first = false;
    token = page.NextToken;
  } while (token !== undefined && rows.length <= maxRows);
  return {
    columns: names,
    rows: rows.slice(0, maxRows),
    truncated: rows.length > maxRows,
  };
}

function getPage(
  client: AthenaClient,
  queryId: string,
  maxResults: number,
  token: string | undefined,
  signal: AbortSignal | undefined,
) {
  return client.send(
    new GetQueryResultsCommand({
      QueryExecutionId: queryId,
      MaxResults: maxResults,
      ...(token === undefined ? {} : { NextToken: token }),
    }),
    { abortSignal: signal },
  );
}

/** The names of a result's columns, made unique (`id`, `id_2`): the keys of its row objects. */
export function columnNames(columns: readonly ColumnInfo[]): string[] {
  return uniqueNames(columns.map((c) => c.Name ?? ''));
}

/** One result row as an object of JSON values, keyed by `names` (from {@link columnNames}). */
export function rowObject(
  columns: readonly ColumnInfo[],
  names: readonly string[],
  row: Row,
): Record<string, unknown> {
  const data = row.Data ?? [];
  return Object.fromEntries(
    columns.map((c, i) => [names[i]!, athenaValue(c.Type ?? 'varchar', data[i]?.VarCharValue)]),
  );
}

/**
 * One value as `local query --json` gives it: 32-bit and smaller integers, doubles and booleans
 * as JSON numbers and booleans; bigint and decimal as exact strings (a JSON number would round
 * them); timestamps as ISO 8601 UTC; no VarCharValue (SQL NULL) as null; anything else as text.
 */
export function athenaValue(type: string, text: string | undefined): unknown {
  if (text === undefined) return null;
  // Parameters, where a type carries them (`decimal(12,2)`, `timestamp(3)`), do not change the JSON value.
  switch (type.toLowerCase().replace(/\(\s*\d+(?:\s*,\s*\d+)?\s*\)/g, '')) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
      return Number(text);
    case 'double':
    case 'float':
    case 'real': {
      const value = Number(text);
      // NaN and infinities have no JSON number: kept as Athena writes them.
      return Number.isFinite(value) ? value : text;
    }
    case 'boolean':
      return text === 'true';
    case 'timestamp':
    case 'timestamp with time zone':
      return isoTimestamp(text);
    default:
      // varchar, char, date (YYYY-MM-DD), bigint, decimal, and nested types as Athena renders them.
      return text;
  }
}

/**
 * Athena's `2024-01-02 11:26:23.500` (a UTC wall time, as the lake writes instants) or
 * `… 11:26:23.500 UTC` → `2024-01-02T11:26:23.500Z`; an instant in another zone stays as written.
 */
export function isoTimestamp(text: string): string {
  const m = /^(-?\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: (?:UTC|Z|\+00:00))?$/.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : text;
}

/**
 * What a query that scanned `bytes` costs: Athena's price per TB on the bytes rounded up to the
 * megabyte, at least 10 MB (lib/cost/prices.ts). Only successful queries are priced here; a
 * cancelled one is billed for what it scanned ({@link AthenaQueryError.scannedBytes}).
 */
export function athenaQueryCost(bytes: number): number {
  const { roundUpToBytes, minimumBytes } = ATHENA_BILLING;
  const billed = Math.max(minimumBytes, Math.ceil(bytes / roundUpToBytes) * roundUpToBytes);
  return dollars(PRICES.athenaTbScanned, billed / 1024 ** 4);
}

/**
 * What one query costs at most in a workgroup whose per-query scan cap is `cutoffBytes` (Athena
 * cancels a query past it, and bills what it scanned): by default the lake's cap,
 * `athenaBytesScannedCutoff` (10 GB), about $0.045.
 */
export function athenaMaxQueryCost(
  cutoffBytes: number = parseConfig(() => undefined).athenaBytesScannedCutoff,
): number {
  return athenaQueryCost(cutoffBytes);
}

/** Waits `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
