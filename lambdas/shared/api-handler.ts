/**
 * The console API's Lambda plumbing, shared by its three functions: an API Gateway HTTP API
 * (payload 2.0, JWT authorizer) event in, the core's answer out as JSON that no cache keeps.
 * CORS headers are API Gateway's (the stack configures them), not the function's. The JWT
 * authorizer's 401 and the stage's throttling 429 never reach a function: their bodies are API
 * Gateway's own `{"message": …}` (an HTTP API cannot customise them).
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  type ApiRequest,
  type ApiResponse,
  type ConsolePorts,
  errorResponse,
  handleApi,
} from '../../lib/console/api.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import { errorText, truncateText } from '../../lib/text.ts';
import type { Log } from './logger.ts';

/** The request the core sees: method, path (without a named stage's prefix), query, body, the user's claims. */
export function apiRequest(event: APIGatewayProxyEventV2WithJWTAuthorizer): ApiRequest {
  const { http, stage } = event.requestContext;
  const prefix = stage && stage !== '$default' ? `/${stage}` : '';
  const path =
    prefix && event.rawPath.startsWith(`${prefix}/`) ? event.rawPath.slice(prefix.length) : event.rawPath;
  const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  // Cognito's access token (what the console sends) has `sub` and `username`, no `email`.
  const username = typeof claims.username === 'string' ? claims.username : undefined;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: http.method,
    path,
    query: event.queryStringParameters ?? {},
    ...(body === undefined ? {} : { body }),
    ...(sub === undefined ? {} : { user: { sub, ...(username === undefined ? {} : { username }) } }),
  };
}

/**
 * A handler answering every request through the core with the ports `ports` resolves to. A failure
 * to resolve them (the dataset declarations read at cold start) is logged and answered as the API's
 * JSON error, not left to API Gateway's bare `Internal Server Error`.
 */
export function apiHandler(
  log: Log & { error(message: string, ...attributes: unknown[]): void },
  ports: () => Promise<ConsolePorts>,
): (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event) => {
    const request = apiRequest(event);
    const where = { method: request.method, path: request.path };
    let answer: ApiResponse;
    try {
      const bound = await ports();
      answer = await handleApi(request, bound, (error) =>
        log.error('console api request failed', { ...where, error }),
      );
    } catch (error) {
      log.error('console api could not start', { ...where, error });
      answer = startFailure(error);
    }
    return {
      statusCode: answer.status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(answer.body),
    };
  };
}

/** The answer when the function's ports could not be built: what failed, without a stack. */
function startFailure(error: unknown): ApiResponse {
  const shown = truncateText(errorText(error), 300);
  return errorResponse(
    500,
    'internal',
    `the console API could not load its dataset declarations (${shown}): the function's log has the details; redeploy with valid declarations`,
  );
}

/** The dataset declarations in `dir`, read once per container on first use (a failure is not kept). */
export function datasetsOnce(dir: string): () => Promise<Map<string, Dataset>> {
  let loaded: Promise<Map<string, Dataset>> | undefined;
  return () => {
    loaded ??= loadDatasets(dir).catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

/** A positive whole number from an environment variable, or an error naming it and its value. */
export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`environment variable ${name} is ${JSON.stringify(text)}: give a positive whole number`);
  return value;
}
