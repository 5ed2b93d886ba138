/**
 * The console's client of its API (lib/console/contract.ts): one function a route, every failure
 * an {@link ApiError} whose message a person can act on (the API's own message when it sent one).
 * No DOM types beyond fetch, so Node's tests run it as it is.
 */

import { ApiError } from '../../lib/console/api-error.ts';
import type {
  ApiErrorBody,
  DatasetsResponse,
  ErrorsResponse,
  FileResponse,
  FilesResponse,
  QueryPage,
  QueryStarted,
  UploadRequest,
  UploadResponse,
} from '../../lib/console/contract.ts';
import { ledgerVersion } from '../../lib/ledger/model.ts';

export { ApiError };

/** What the client needs from its page. */
export interface ApiClientOptions {
  /** The API's base URL, without `/api` (config.json's `apiUrl`). */
  readonly baseUrl: string;
  /** The access token to send as `Authorization: Bearer`, if signed in. */
  readonly token?: () => string | undefined | Promise<string | undefined>;
  /** Called once on a 401: renews the token; on true the call is sent again, with the new one. */
  readonly refresh?: () => Promise<boolean>;
  /** Called on a 401 that a refresh did not cure (the session ended): the page signs in again. */
  readonly onUnauthorized?: () => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Query parameters; undefined and empty values are left out. */
type Params = Readonly<Record<string, string | number | undefined>>;

/** The API, one method a route. */
export interface ApiClient {
  datasets(): Promise<DatasetsResponse>;
  files(params: {
    dataset?: string;
    status?: string;
    cursor?: string;
    limit?: number;
  }): Promise<FilesResponse>;
  file(key: string, version?: string): Promise<FileResponse>;
  errors(key: string, version: string | undefined, cursor?: string, limit?: number): Promise<ErrorsResponse>;
  upload(request: UploadRequest): Promise<UploadResponse>;
  startQuery(sql: string): Promise<QueryStarted>;
  queryPage(id: string, cursor?: string): Promise<QueryPage>;
}

/** A client of the API at `options.baseUrl`. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const call = async <T>(
    method: 'GET' | 'POST',
    path: string,
    params: Params = {},
    body?: unknown,
  ): Promise<T> => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
    const url = `${base}${path}${query.toString() ? `?${query}` : ''}`;
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = { accept: 'application/json' };
      const token = await options.token?.();
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      try {
        return await (options.fetch ?? globalThis.fetch)(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        throw new ApiError(
          0,
          'network',
          `cannot reach the API at ${base}${path} (${(error as Error).message}): check your connection, or that the lake is running, and try again`,
        );
      }
    };
    let response = await send();
    // A token that expired or was revoked early: renew it once and send again (calls are reads,
    // or a POST that only signs a form or starts a query, so a second try does no harm).
    if (response.status === 401 && options.refresh && (await options.refresh())) response = await send();
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) {
      if (json === undefined) {
        throw new ApiError(
          response.status,
          'bad_response',
          `the API answered ${method} ${path} with HTTP ${response.status} but no JSON body: ${excerpt(text)}`,
        );
      }
      return json as T;
    }
    if (response.status === 401) options.onUnauthorized?.();
    const error = (json as Partial<ApiErrorBody> | undefined)?.error;
    if (error && typeof error.message === 'string') {
      throw new ApiError(
        response.status,
        typeof error.code === 'string' ? error.code : 'error',
        error.message,
      );
    }
    throw new ApiError(
      response.status,
      response.status === 401 ? 'unauthorized' : 'bad_response',
      `the API answered ${method} ${path} with HTTP ${response.status}${text ? `: ${excerpt(text)}` : ''}`,
    );
  };
  return {
    datasets: () => call('GET', '/api/datasets'),
    files: (p) => call('GET', '/api/files', p),
    file: (key, version) => call('GET', '/api/file', { key, version }),
    errors: (key, version, cursor, limit) => call('GET', '/api/file/errors', { key, version, cursor, limit }),
    upload: (request) => call('POST', '/api/uploads', {}, request),
    startQuery: (sql) => call('POST', '/api/queries', {}, { sql }),
    queryPage: (id, cursor) => call('GET', `/api/queries/${encodeURIComponent(id)}`, { cursor }),
  };
}

/** The start of a body that is not the API's JSON (an HTML error page, a proxy's text), on one line. */
function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/**
 * The ledger version of the object a presigned POST just stored, from S3's answer headers (the
 * landing bucket's CORS exposes both): its version id where the bucket keeps versions (AWS),
 * else `etag:<ETag>` (the local lake), as the lake's trigger records it (`ledgerVersion`).
 * Undefined when the answer carries neither.
 */
export function uploadedVersion(versionId: string | null, etag: string | null): string | undefined {
  if (!versionId && !etag) return undefined;
  return ledgerVersion({ versionId: versionId || null, etag: etag ? etag.replace(/"/g, '') : null });
}

/**
 * Why S3 refused a presigned POST, from its XML error body (`<Code>`, `<Message>`), or the
 * status when the body says nothing readable.
 */
export function uploadFailure(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  if (code === 'EntityTooLarge') return `the file is larger than the upload allows: ${message ?? code}`;
  if (code === 'BadDigest' || code === 'XAmzContentChecksumMismatch' || code === 'InvalidDigest')
    return `the file changed since it was checked (its checksum does not match): check it again, then upload`;
  if (code === 'AccessDenied' && message?.includes('expired'))
    return 'the upload form expired before the file was sent: upload again';
  if (code || message)
    return `the store refused the file (HTTP ${status}, ${[code, message].filter(Boolean).join(': ')})`;
  return status === 0
    ? 'the upload did not reach the store: check your connection and try again'
    : `the store refused the file (HTTP ${status})`;
}
