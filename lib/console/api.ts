/**
 * The console API's one core: routes a request (lib/console/contract.ts API_ROUTES), checks its
 * parameters, answers from the ports it is given, and turns every failure into an
 * {@link ApiErrorBody} with a status. The Lambda handlers bind it to AWS (lib/console/aws-ports.ts),
 * each with its own route group's ports only; `local up` binds it to the local lake
 * (lib/console/local-ports.ts).
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { ReportedError } from '../../lambdas/shared/contract.ts';
import { MAX_NAME_BYTES } from '../../lambdas/validate/core.ts';
import { notASelect } from '../aws/athena.ts';
import { headerOf } from '../datasets/derive.ts';
import { describeColumn, fileRules } from '../datasets/describe.ts';
import { matchHeader } from '../datasets/header-match.ts';
import { type Dataset, typeLabel } from '../datasets/model.ts';
import { tableName } from '../iceberg/layout.ts';
import { LEDGER_STATUSES, type LedgerItem, type LedgerReader, type LedgerStatus } from '../ledger/model.ts';
import { CsvValidator } from '../validation/csv-validator.ts';
import { type ErrorPosition, readReport, reportErrors, s3Location } from '../validation/reports.ts';
import { startsWithGzipMagic } from '../validation/validate-csv.ts';
import { ApiError } from './api-error.ts';
import {
  API_ROUTES,
  type ApiErrorBody,
  type ApiRoute,
  type DatasetsResponse,
  type DatasetView,
  type ErrorsResponse,
  type FileResponse,
  type FilesResponse,
  type OffendingRecord,
  type PagedError,
  type QueryPage,
  type QueryStarted,
  type RouteGroup,
  type TimelineStep,
  type UploadResponse,
} from './contract.ts';

/** A request as the handlers and the local server hand it over. */
export interface ApiRequest {
  readonly method: string;
  /** The path, without the query string (`/api/files`). */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  /** The signed-in user (the JWT's claims on AWS); absent locally. */
  readonly user?: { readonly sub: string; readonly username?: string };
}

/** An answer: a status and a JSON body. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

/** What the `read` routes read: the declarations, the ledger, and the failure zone's objects. */
export interface ReadPorts {
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly ledger: LedgerReader;
  /** Reads reports, their error parts and the failure copies (`s3://` URIs in the ledger). */
  readonly s3: Pick<S3Client, 'send'>;
  /**
   * Bytes of a failure copy (uncompressed) read at most to find a page's records.
   * @default 256 MiB
   */
  readonly recordBudgetBytes?: number;
}

/** The fields and conditions of a presigned POST, as the core decides them. */
export interface PresignRequest {
  readonly key: string;
  readonly fields: Readonly<Record<string, string>>;
  /** Policy conditions beyond the bucket and the key (which the signer adds). */
  readonly conditions: readonly unknown[];
  readonly expiresSeconds: number;
}

/** What the `upload` route needs. */
export interface UploadPorts {
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly maxUploadBytes: number;
  /** Signs a POST policy for the landing bucket. */
  presign(request: PresignRequest): Promise<{ url: string; fields: Record<string, string> }>;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** A query's place in its results: rows already answered, and the engine's token for the next page. */
export interface QueryCursor {
  readonly offset: number;
  readonly token?: string;
}

/** What the `query` routes need: an engine that starts a query and pages its results. */
export interface QueryPorts {
  /** Rows a query's results are paged to at most. */
  readonly maxRows: number;
  /** Starts one statement (already checked to be a SELECT). Throws {@link ApiError} for a refusal. */
  start(sql: string): Promise<QueryStarted>;
  /**
   * The query's state and, once SUCCEEDED, the page of at most `rows` rows at `cursor`, with the
   * next page's cursor; undefined for an id the engine does not know.
   */
  page(
    id: string,
    cursor: QueryCursor,
    rows: number,
  ): Promise<(Omit<QueryPage, 'next'> & { next?: QueryCursor }) | undefined>;
}

/** The ports a deployment binds: each Lambda only its own group's; a route whose group is absent is not found. */
export interface ConsolePorts {
  readonly read?: ReadPorts;
  readonly upload?: UploadPorts;
  readonly query?: QueryPorts;
}

// Thrown by the core and its ports, caught by handleApi; the browser's client throws the same.
export { ApiError };

/** Files listed per page by default and at most. */
export const FILES_PAGE = { default: 50, max: 200 } as const;
/** Errors listed per page by default and at most. */
export const ERRORS_PAGE = { default: 50, max: 500 } as const;
/** Rows of a query's results per page. */
export const QUERY_PAGE_ROWS = 500;
/** How long a presigned upload form is accepted. */
export const UPLOAD_EXPIRY_SECONDS = 15 * 60;
/** Default read budget of a failure copy, bytes. */
export const RECORD_BUDGET_BYTES = 256 << 20;

/**
 * Answers one request. Never throws: an unexpected failure is a 500 whose message names the
 * failing call (the stack stays in the caller's log, through `onUnexpected`).
 */
export async function handleApi(
  request: ApiRequest,
  ports: ConsolePorts,
  onUnexpected: (error: unknown) => void = () => {},
): Promise<ApiResponse> {
  try {
    return { status: 200, body: await route(request, ports) };
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message);
    onUnexpected(error);
    const name = (error as Error)?.name ?? 'Error';
    // An AWS SDK error carries the service's status: a throttle or an outage is the downstream's.
    const downstream = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata !== undefined;
    return errorResponse(
      downstream ? 502 : 500,
      downstream ? 'downstream_failed' : 'internal',
      downstream
        ? `a call to the lake's storage failed (${name}): try again in a moment; if it persists, the function's log has the details`
        : `the request failed unexpectedly (${name}): the function's log has the details`,
    );
  }
}

export const errorResponse = (status: number, code: string, message: string): ApiResponse => ({
  status,
  body: { error: { code, message } } satisfies ApiErrorBody,
});

/** The route a method and path name, with its path parameters. */
function findRoute(
  method: string,
  path: string,
): { route: ApiRoute; params: Record<string, string> } | { allowed: string[] } | undefined {
  const allowed: string[] = [];
  for (const route of API_ROUTES as readonly ApiRoute[]) {
    const names: string[] = [];
    const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const m = new RegExp(`^${pattern}$`).exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const params = Object.fromEntries(names.map((name, i) => [name, decodedParam(path, m[i + 1]!)]));
    return { route, params };
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

/** A path parameter decoded; a malformed percent escape is the caller's mistake, not the API's. */
function decodedParam(path: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw badRequest(
      'the path',
      path,
      'has a malformed percent escape: encode the value with encodeURIComponent',
    );
  }
}

async function route(request: ApiRequest, ports: ConsolePorts): Promise<unknown> {
  const found = findRoute(request.method, request.path);
  if (found === undefined)
    throw new ApiError(
      404,
      'not_found',
      `no route ${request.method} ${shown(request.path)}: the API has ${API_ROUTES.map((r) => `${r.method} ${r.path}`).join(', ')}`,
    );
  if ('allowed' in found)
    throw new ApiError(
      405,
      'method_not_allowed',
      `${request.method} is not allowed on ${request.path}: use ${found.allowed.join(' or ')}`,
    );
  const { route: r, params } = found;
  const group = groupPorts(ports, r.group, request);
  switch (`${r.method} ${r.path}`) {
    case 'GET /api/datasets':
      return datasets(group as ReadPorts);
    case 'GET /api/files':
      return files(group as ReadPorts, request.query);
    case 'GET /api/file':
      return file(group as ReadPorts, request.query);
    case 'GET /api/file/errors':
      return errors(group as ReadPorts, request.query);
    case 'POST /api/uploads':
      return upload(group as UploadPorts, request);
    case 'POST /api/queries':
      return startQuery(group as QueryPorts, request.body);
    case 'GET /api/queries/{id}':
      return queryPage(group as QueryPorts, params.id!, request.query);
    default:
      throw new Error(`route ${r.method} ${r.path} has no handler`);
  }
}

function groupPorts(ports: ConsolePorts, group: RouteGroup, request: ApiRequest) {
  const bound = ports[group];
  // Each Lambda serves its own group: another group's route is not this function's.
  if (bound === undefined)
    throw new ApiError(404, 'not_found', `no route ${request.method} ${shown(request.path)} here`);
  return bound;
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** A value as an error message shows it: quoted, cut short. */
function shown(value: string): string {
  const text = value.length > 80 ? `${value.slice(0, 79)}…` : value;
  return JSON.stringify(text);
}

function badRequest(name: string, value: string, why: string): ApiError {
  return new ApiError(400, 'bad_request', `${name} ${shown(value)} ${why}`);
}

/** An integer parameter in [1, max], or its default. */
function limitParam(query: ApiRequest['query'], page: { default: number; max: number }): number {
  const text = query.limit;
  if (text === undefined || text === '') return page.default;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > page.max)
    throw badRequest(
      'limit',
      text,
      `is not a whole number from 1 to ${page.max}: give e.g. limit=${page.default}`,
    );
  return Number(text);
}

/** A cursor: base64url JSON, checked against its schema. */
function decodeCursor<T>(text: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (text === undefined || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw badRequest(
      'cursor',
      text,
      'is not a cursor this API gave: pass the `next` of the previous page unchanged',
    );
  return parsed.data;
}

const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A required string parameter. */
function required(query: ApiRequest['query'], name: string): string {
  const value = query[name];
  if (value === undefined || value === '')
    throw new ApiError(400, 'bad_request', `the ${name} parameter is missing: give ?${name}=…`);
  return value;
}

/** A request body as JSON checked by `schema`; each problem names its field and value. */
function parseBody<T>(body: string | undefined, schema: z.ZodType<T>, example: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    throw new ApiError(400, 'bad_request', `the request body is not JSON: send e.g. ${example}`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  const value = issue.path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    json,
  );
  throw new ApiError(
    400,
    'bad_request',
    `${field} ${value === undefined ? '(missing)' : shown(typeof value === 'string' ? value : JSON.stringify(value))} ${issue.message}`,
  );
}

function knownDataset(datasets: ReadonlyMap<string, Dataset>, name: string): Dataset {
  const ds = datasets.get(name);
  if (ds) return ds;
  const known = [...datasets.keys()].sort();
  const list = known.length <= 12 ? known.join(', ') : `${known.slice(0, 12).join(', ')}, …`;
  throw new ApiError(404, 'not_found', `unknown dataset ${shown(name)} (known: ${list || 'none'})`);
}

// ---------------------------------------------------------------------------------------------
// GET /api/datasets

function datasets(ports: ReadPorts): DatasetsResponse {
  const views = [...ports.datasets.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map(
      (ds): DatasetView => ({
        name: ds.name,
        ...(ds.description === undefined ? {} : { description: ds.description }),
        table: tableName(ds.name, ds.version),
        columns: ds.columns.map((col) => ({
          name: col.name,
          header: headerOf(col),
          aliases: col.aliases ?? [],
          type: typeLabel(col),
          nullable: col.nullable,
          optional: col.optional,
          retired: col.retired,
          ...(col.description === undefined ? {} : { description: col.description }),
          rules: describeColumn(col),
        })),
        fileRules: fileRules(ds),
        declaration: ds,
      }),
    );
  return { datasets: views };
}

// ---------------------------------------------------------------------------------------------
// GET /api/files

const filesCursor = z.strictObject({ receivedAt: z.string(), key: z.string(), version: z.string() });

async function files(ports: ReadPorts, query: ApiRequest['query']): Promise<FilesResponse> {
  const limit = limitParam(query, FILES_PAGE);
  const status = query.status || undefined;
  if (status !== undefined && !(LEDGER_STATUSES as readonly string[]).includes(status))
    throw badRequest('status', status, `is not a ledger status: give one of ${LEDGER_STATUSES.join(', ')}`);
  const since = query.since || undefined;
  if (since !== undefined && (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(Date.parse(since))))
    throw badRequest('since', since, 'is not a date: give YYYY-MM-DD or an ISO 8601 time');
  const after = decodeCursor(query.cursor, filesCursor);
  const dataset = query.dataset || undefined;
  // One more than the page: whether there is a next page, without a second round trip.
  const items = await ports.ledger.list({
    limit: limit + 1,
    ...(dataset === undefined ? {} : { dataset }),
    ...(status === undefined ? {} : { status: status as LedgerStatus }),
    ...(since === undefined ? {} : { since: since.length === 10 ? `${since}T00:00:00.000Z` : since }),
    ...(after === undefined ? {} : { after }),
  });
  const page = items.slice(0, limit);
  const last = page.at(-1);
  return {
    files: page,
    ...(items.length > limit && last
      ? { next: encodeCursor({ receivedAt: last.receivedAt, key: last.key, version: last.version }) }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/file

/** The item a `key` and optional `version` name, and every version of the key; 404 when there is none. */
async function findItem(
  ports: ReadPorts,
  query: ApiRequest['query'],
): Promise<{ item: LedgerItem; versions: LedgerItem[] }> {
  const key = required(query, 'key');
  const version = query.version || undefined;
  const versions = await ports.ledger.versions(key);
  if (versions.length === 0)
    throw new ApiError(
      404,
      'not_found',
      `no file ${shown(key)} in the ledger: a key is <dataset>/<file name>, as GET /api/files lists them`,
    );
  const item = version === undefined ? versions[0] : versions.find((v) => v.version === version);
  if (!item) {
    const known = versions.slice(0, 5).map((v) => v.version);
    throw new ApiError(
      404,
      'not_found',
      `file ${shown(key)} has no version ${shown(version!)} (versions: ${known.join(', ')}${versions.length > 5 ? ', …' : ''})`,
    );
  }
  return { item, versions };
}

const TIMELINE: readonly [LedgerStatus, keyof LedgerItem][] = [
  ['RECEIVED', 'receivedAt'],
  ['VALIDATED', 'validatedAt'],
  ['REJECTED', 'rejectedAt'],
  ['CURATED', 'curatedAt'],
  ['FAILED', 'failedAt'],
];

/** The steps an item went through, in time order. */
export function timeline(item: LedgerItem): TimelineStep[] {
  return TIMELINE.flatMap(([status, field]) => {
    const at = item[field];
    return typeof at === 'string' && at !== '' ? [{ status, at }] : [];
  }).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

const problemText = (uri: string, problem: string) =>
  `the report ${uri} cannot be read (${problem}): it was deleted or archived (the failure zone moves to Glacier after its transition days); the ledger's reason and error count still stand`;

async function file(ports: ReadPorts, query: ApiRequest['query']): Promise<FileResponse> {
  const { item, versions } = await findItem(ports, query);
  const base: FileResponse = {
    file: item,
    versions: versions.map((v) => ({ version: v.version, status: v.status, receivedAt: v.receivedAt })),
    timeline: timeline(item),
  };
  if (item.status !== 'REJECTED' || !item.report) return base;
  const read = await readReport(ports.s3, item.report);
  if ('problem' in read) return { ...base, reportProblem: problemText(item.report, read.problem) };
  const { reason, rows, errorCount, errorsByColumn, errorsByRule } = read.report;
  return { ...base, report: { reason, rows, errorCount, errorsByColumn, errorsByRule } };
}

// ---------------------------------------------------------------------------------------------
// GET /api/file/errors

const errorsCursor = z.strictObject({ part: z.number().int().min(0), line: z.number().int().min(0) });

async function errors(ports: ReadPorts, query: ApiRequest['query']): Promise<ErrorsResponse> {
  const limit = limitParam(query, ERRORS_PAGE);
  const from = decodeCursor(query.cursor, errorsCursor);
  const { item } = await findItem(ports, query);
  if (item.status !== 'REJECTED' || !item.report)
    throw new ApiError(
      404,
      'not_found',
      `file ${shown(item.key)} version ${item.version} has no error report: it is ${item.status}, only a REJECTED file has one`,
    );
  const read = await readReport(ports.s3, item.report);
  if ('problem' in read)
    throw new ApiError(404, 'report_unavailable', problemText(item.report, read.problem));
  const page: ReportedError[] = [];
  let next: ErrorPosition | undefined;
  const all = reportErrors(ports.s3, read.report.errorFiles, from);
  for await (const { error, at } of all) {
    if (page.length === limit) {
      next = at;
      break;
    }
    page.push(error);
  }
  // Stopped early, the generator's `finally` closes the part's stream.
  await all.return(undefined);
  const ds = ports.datasets.get(item.dataset);
  const found =
    item.failure && ds && page.length > 0
      ? await offendingRecords(ports, item.failure, ds, page)
      : { records: [] as OffendingRecord[] };
  const header = 'header' in found ? found.header : undefined;
  return {
    errors: header && ds ? withFields(page, header, ds) : page,
    ...(header ? { header } : {}),
    records: found.records,
    total: read.report.errorCount,
    ...(next ? { next: encodeCursor(next) } : {}),
  };
}

/** Each error with the header cell its column is in: by the header's match to the dataset, or by its text. */
function withFields(
  page: readonly ReportedError[],
  header: readonly (string | null)[],
  ds: Dataset,
): PagedError[] {
  const { fields } = matchHeader(ds, header);
  return page.map((error) => {
    if (error.column === null) return error;
    let field = fields.findIndex((col) => col?.name === error.column);
    // A header error names the cell's own text (an unknown or duplicate column).
    if (field < 0) field = header.indexOf(error.column);
    return field < 0 ? error : { ...error, field };
  });
}

/**
 * The header and the records of the page's lines, read from the failure copy through the
 * validator's tokenizer (the dataset's dialect, gzip told by content), up to the page's last line
 * or the read budget, whichever comes first.
 */
async function offendingRecords(
  ports: ReadPorts,
  uri: string,
  ds: Dataset,
  page: readonly ReportedError[],
): Promise<{ header?: (string | null)[]; records: OffendingRecord[] }> {
  const lines = new Set(page.map((e) => e.line));
  const lastLine = Math.max(...lines);
  const budget = ports.recordBudgetBytes ?? RECORD_BUDGET_BYTES;
  let header: (string | null)[] | undefined;
  const records: OffendingRecord[] = [];
  let done = false;
  const tokenizer = new CsvValidator(ds, {
    maxErrors: 0,
    onRecord: (fields, line) => {
      if (header === undefined) header = fields;
      else if (lines.has(line)) records.push({ line, fields });
      if (line >= lastLine) done = true;
    },
  });
  let object: GetObjectCommandOutput;
  try {
    object = await ports.s3.send(new GetObjectCommand(s3Location(uri)));
  } catch (error) {
    const name = (error as Error).name;
    // The copy is gone or archived: the errors stand without their records.
    if (name === 'NoSuchKey' || name === 'InvalidObjectState') return { records };
    throw error;
  }
  const body = object.Body as unknown as AsyncIterable<Uint8Array> & { destroy?: () => void };
  let read = 0;
  let inflate: ReturnType<typeof createGunzip> | undefined;
  try {
    const source = body[Symbol.asyncIterator]();
    const first = await source.next();
    if (first.done) return { records };
    const chunks = (async function* () {
      yield first.value;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield next.value;
      }
    })();
    let input: AsyncIterable<Uint8Array> = chunks;
    if (startsWithGzipMagic(first.value)) {
      inflate = createGunzip({ chunkSize: 1 << 20 });
      // pipeline (not pipe): a source error reaches the loop below instead of stalling it.
      pipeline(Readable.from(chunks), inflate, () => {});
      input = inflate;
    }
    for await (const chunk of input) {
      // Past the budget the records are omitted (the contract's `records` says not every line has one).
      const within = chunk.length <= budget - read ? chunk : chunk.subarray(0, budget - read);
      tokenizer.push(within);
      read += within.length;
      if (done || read >= budget) break;
    }
    // The whole file read: its last record may lack a line break, which only the end completes.
    if (!done && read < budget) tokenizer.finish(read, inflate !== undefined);
  } catch (error) {
    // A copy that is not valid gzip: the records the tokenizer gave before it stand.
    if (!String((error as { code?: unknown }).code ?? '').startsWith('Z_')) throw error;
  } finally {
    inflate?.destroy();
    body.destroy?.();
  }
  return { ...(header ? { header } : {}), records };
}

// ---------------------------------------------------------------------------------------------
// POST /api/uploads

const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/** Why a file name cannot be the last segment of a landing key, or undefined when it can. */
export function fileNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'is not a file name';
  if (name.includes('/') || name.includes('\\')) return 'holds a "/" or "\\": give the file name alone';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'holds a control character: rename the file';
  if (!/\.csv(\.gz)?$/i.test(name)) return 'does not end in .csv or .csv.gz: only CSV files are ingested';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) return `is ${bytes} bytes of UTF-8, over ${MAX_NAME_BYTES}: shorten it`;
  return undefined;
}

async function upload(ports: UploadPorts, request: ApiRequest): Promise<UploadResponse> {
  const schema = z.strictObject({
    dataset: z.string({ error: 'must be a dataset name' }),
    name: z.string({ error: 'must be a file name' }),
    size: z
      .number({ error: 'must be the file size in bytes' })
      .int({ error: 'must be a whole number of bytes' }),
    sha256: z.string({ error: "must be the file's SHA-256, base64" }),
  });
  const body = parseBody(
    request.body,
    schema,
    '{"dataset":"orders","name":"orders.csv","size":1234,"sha256":"<base64 SHA-256>"}',
  );
  knownDataset(ports.datasets, body.dataset);
  const nameProblem = fileNameProblem(body.name);
  if (nameProblem) throw badRequest('name', body.name, nameProblem);
  if (body.size <= 0)
    throw badRequest('size', String(body.size), 'is not a size: an empty file has no rows to ingest');
  if (body.size > ports.maxUploadBytes)
    throw new ApiError(
      413,
      'too_large',
      `size ${body.size} is over the console's cap of ${ports.maxUploadBytes} bytes: upload larger files with \`datalake put\``,
    );
  if (!SHA256_BASE64.test(body.sha256) || Buffer.from(body.sha256, 'base64').length !== 32)
    throw badRequest(
      'sha256',
      body.sha256,
      'is not a SHA-256 in base64 (44 characters ending in "="): hash the file again',
    );
  const key = `${body.dataset}/${body.name}`;
  // The page sends Cognito's access token: it names the user by `username` and `sub`, never email.
  const uploadedBy = asciiMetadata(request.user?.username ?? request.user?.sub ?? 'local');
  const fields = {
    'x-amz-checksum-algorithm': 'SHA256',
    'x-amz-checksum-sha256': body.sha256,
    'x-amz-meta-uploaded-by': uploadedBy,
  };
  const now = (ports.now ?? (() => new Date()))();
  const signed = await ports.presign({
    key,
    fields,
    conditions: [
      ['content-length-range', body.size, body.size],
      ...Object.entries(fields).map(([name, value]) => ['eq', `$${name}`, value]),
    ],
    expiresSeconds: UPLOAD_EXPIRY_SECONDS,
  });
  return {
    url: signed.url,
    fields: signed.fields,
    key,
    maxBytes: ports.maxUploadBytes,
    expiresAt: new Date(now.getTime() + UPLOAD_EXPIRY_SECONDS * 1000).toISOString(),
  };
}

/**
 * A user metadata value S3 takes in a POST form, which must be US-ASCII: printable ASCII as it is,
 * anything else one RFC 2047 encoded-word over its UTF-8 (`=?UTF-8?B?…?=`), the form S3 itself
 * uses for non-ASCII metadata values.
 */
function asciiMetadata(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

// ---------------------------------------------------------------------------------------------
// POST /api/queries, GET /api/queries/{id}

async function startQuery(ports: QueryPorts, body: string | undefined): Promise<QueryStarted> {
  const { sql } = parseBody(
    body,
    z.strictObject({ sql: z.string({ error: 'must be one SELECT statement' }) }),
    '{"sql":"SELECT * FROM orders LIMIT 10"}',
  );
  const refused = notASelect(sql);
  if (refused) throw new ApiError(400, 'not_a_select', `${refused}: the console runs read-only queries`);
  return ports.start(sql);
}

const queryCursor = z.strictObject({ offset: z.number().int().min(0), token: z.string().optional() });

async function queryPage(ports: QueryPorts, id: string, query: ApiRequest['query']): Promise<QueryPage> {
  const cursor = decodeCursor(query.cursor, queryCursor) ?? { offset: 0 };
  const page = await ports.page(id, cursor, QUERY_PAGE_ROWS);
  if (!page)
    throw new ApiError(
      404,
      'not_found',
      `no query ${shown(id)}: it was never started here, or its results are no longer kept (start it again)`,
    );
  const { next, ...rest } = page;
  return { ...rest, ...(next ? { next: encodeCursor(next) } : {}) };
}
