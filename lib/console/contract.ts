/**
 * The console's HTTP API: its routes and the JSON bodies they answer, shared by the server core
 * (lib/console/api.ts, bound to AWS in the Lambda handlers and to the local lake in `local up`)
 * and the browser (web/). Types and constants only: the browser bundle imports this file.
 */
import type { ReportedError } from '../../lambdas/shared/contract.ts';
import type { Dataset } from '../datasets/model.ts';
import type { LedgerItem, LedgerStatus } from '../ledger/model.ts';

/** Which function serves a route on AWS: each group is its own Lambda with its own role. */
export type RouteGroup = 'read' | 'upload' | 'query';

/** One route of the API. `{id}` is a path parameter (API Gateway's syntax). */
export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly group: RouteGroup;
  /** For the closing note and the README: what the route does, in words. */
  readonly summary: string;
}

/** Every route; all under `/api/`. The CDK construct and the local server both build from this list. */
export const API_ROUTES = [
  {
    method: 'GET',
    path: '/api/datasets',
    group: 'read',
    summary: 'the dataset declarations with their rules in words',
  },
  {
    method: 'GET',
    path: '/api/files',
    group: 'read',
    summary: 'the ledger, newest first, paged (?dataset, ?status, ?since, ?limit, ?cursor)',
  },
  {
    method: 'GET',
    path: '/api/file',
    group: 'read',
    summary: "one file's versions, timeline and report (?key, ?version)",
  },
  {
    method: 'GET',
    path: '/api/file/errors',
    group: 'read',
    summary:
      "a rejected file's errors, paged from its JSON Lines parts, with the offending records (?key, ?version, ?cursor, ?limit)",
  },
  {
    method: 'POST',
    path: '/api/uploads',
    group: 'upload',
    summary: 'a presigned POST for landing/<dataset>/<name>, with a size cap and the file checksum',
  },
  {
    method: 'POST',
    path: '/api/queries',
    group: 'query',
    summary: 'starts one read-only SELECT in the workgroup',
  },
  {
    method: 'GET',
    path: '/api/queries/{id}',
    group: 'query',
    summary: "a query's state and a page of its results (?cursor)",
  },
] as const satisfies readonly ApiRoute[];

/** Every error answer's body: a message a person can act on. */
export interface ApiErrorBody {
  readonly error: {
    /** A stable code: `bad_request`, `not_found`, `too_large`, `query_failed`, `unauthorized`, … */
    readonly code: string;
    /** One or two sentences, lowercase start, naming the bad value and what to do. */
    readonly message: string;
  };
}

/** One column of a dataset as the console shows it. */
export interface ColumnView {
  readonly name: string;
  /** The CSV header text (the name unless the declaration gives `header`). */
  readonly header: string;
  readonly aliases: readonly string[];
  /** `decimal(12,2)`, `bigint`, … */
  readonly type: string;
  readonly nullable: boolean;
  readonly optional: boolean;
  readonly retired: boolean;
  readonly description?: string;
  /** Every rule a value of this column must meet, one sentence each ("a whole number (32-bit)", "one of "USD", "EUR""). */
  readonly rules: readonly string[];
}

/** A dataset as `GET /api/datasets` answers it. */
export interface DatasetView {
  readonly name: string;
  readonly description?: string;
  /** The Athena table the dataset's rows are in (`orders`, `orders_v2`). */
  readonly table: string;
  readonly columns: readonly ColumnView[];
  /** File-level rules in words: dialect, header, extra columns, key, compression. */
  readonly fileRules: readonly string[];
  /** The parsed declaration, for the browser's validator (the same core the pipeline runs). */
  readonly declaration: Dataset;
}

export interface DatasetsResponse {
  readonly datasets: readonly DatasetView[];
}

/** `GET /api/files` */
export interface FilesResponse {
  readonly files: readonly LedgerItem[];
  /** Opaque: pass as `?cursor=` for the next (older) page; absent on the last page. */
  readonly next?: string;
}

/** One step of a file's way through the pipeline. */
export interface TimelineStep {
  readonly status: LedgerStatus;
  /** ISO 8601 */
  readonly at: string;
}

/** A rejected file's report, without its error preview (the errors route pages them). */
export interface ReportSummary {
  readonly reason: string;
  readonly rows: number;
  readonly errorCount: number;
  readonly errorsByColumn: Readonly<Record<string, number>>;
  readonly errorsByRule: Readonly<Record<string, number>>;
}

/** `GET /api/file?key=&version=` (the newest version when `version` is absent). */
export interface FileResponse {
  readonly file: LedgerItem;
  /** Every version of the key, newest first. */
  readonly versions: readonly Pick<LedgerItem, 'version' | 'status' | 'receivedAt'>[];
  readonly timeline: readonly TimelineStep[];
  /** Set for a REJECTED file whose report could be read. */
  readonly report?: ReportSummary;
  /** Why the report is absent when the file is REJECTED (archived, deleted). */
  readonly reportProblem?: string;
}

/** A rejected record as the file holds it, read back from the failure zone. */
export interface OffendingRecord {
  /** The 1-based line the record starts on (as in the errors). */
  readonly line: number;
  /** Its fields as the tokenizer reads them (null: an unquoted empty field). */
  readonly fields: readonly (string | null)[];
}

/** An error as the errors route pages it. */
export interface PagedError extends ReportedError {
  /**
   * The 0-based header cell the error's column is in (by the dataset's header match, or the
   * cell's own text for a header error), to highlight the cell in the record; absent for a
   * record-level error or when the file's header could not be read.
   */
  readonly field?: number;
}

/** `GET /api/file/errors?key=&version=&cursor=&limit=` */
export interface ErrorsResponse {
  readonly errors: readonly PagedError[];
  /** The file's header cells, to show each record under its columns. */
  readonly header?: readonly (string | null)[];
  /**
   * The records the page's errors are on, in line order (not every line can be shown: a record
   * beyond the read budget, or a file whose copy is gone, has none).
   */
  readonly records: readonly OffendingRecord[];
  readonly total: number;
  readonly next?: string;
}

/** `POST /api/uploads` body. */
export interface UploadRequest {
  readonly dataset: string;
  /** The file's name: becomes the last segment of the landing key. `.csv` or `.csv.gz`. */
  readonly name: string;
  /** Bytes; at most the cap. */
  readonly size: number;
  /** The file's SHA-256, base64: S3 refuses a body that does not match. */
  readonly sha256: string;
}

/** `POST /api/uploads` answer: POST `fields` then the file as `file` (last) to `url`. */
export interface UploadResponse {
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
  /** The landing key the file will have (`<dataset>/<name>`): the ledger's key. */
  readonly key: string;
  readonly maxBytes: number;
  /** ISO 8601: the form is refused after this. */
  readonly expiresAt: string;
}

/** `POST /api/queries` body. */
export interface QueryRequest {
  readonly sql: string;
}

export type QueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** `POST /api/queries` answer. */
export interface QueryStarted {
  readonly id: string;
  readonly state: QueryState;
}

/** `GET /api/queries/{id}?cursor=` answer. */
export interface QueryPage {
  readonly id: string;
  readonly state: QueryState;
  /** Set when FAILED or CANCELLED: the engine's message, one line. */
  readonly message?: string;
  readonly columns?: readonly string[];
  /** Values as `datalake query --json` gives them (decimals and 64-bit integers as exact strings). */
  readonly rows?: readonly Record<string, unknown>[];
  /** The next page; absent on the last one or at the row limit. */
  readonly next?: string;
  /** True when the results go on past the row limit. */
  readonly truncated?: boolean;
  readonly scannedBytes?: number;
  readonly costUsd?: number;
}

/** `config.json` beside the console's `index.html`: written at deploy on AWS, by `local up` locally. */
export interface ConsoleConfig {
  /** The API's base URL, without `/api` (the page's own origin locally). */
  readonly apiUrl: string;
  /** `cognito` on AWS; `none` on 127.0.0.1 (the page says so). */
  readonly auth: 'cognito' | 'none';
  readonly cognito?: {
    readonly region: string;
    readonly userPoolId: string;
    readonly clientId: string;
    /** The hosted sign-in's domain, `https://<prefix>.auth.<region>.amazoncognito.com`. */
    readonly domain: string;
  };
  /** The largest file the upload route signs for, bytes. */
  readonly maxUploadBytes: number;
  /** For the page header: `csvlake-dev` or `local lake /path`. */
  readonly label: string;
}
