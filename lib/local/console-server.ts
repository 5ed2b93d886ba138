/**
 * The console of `local up`: node:http on 127.0.0.1 serving the built front end (with the
 * headers CloudFront sends on AWS), `/config.json` (no sign-in: the page says so) and `/api/*`
 * through the API's core with the local lake's ports. It listens only on 127.0.0.1 and refuses a
 * request whose Host is not its own (DNS rebinding) and a POST from another origin.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { type ConsolePorts, handleApi } from '../console/api.ts';
import type { ApiErrorBody, ConsoleConfig } from '../console/contract.ts';
import { securityHeaders } from '../console/headers.ts';

/** Options of {@link startConsoleServer}. */
export interface ConsoleServerOptions {
  /** The port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  readonly ports: ConsolePorts;
  /** The built front end (`buildWebSync().dir`). */
  readonly webDir: string;
  /** The local S3 endpoint the browser uploads to (allowed in the CSP's connect-src). */
  readonly s3Endpoint: string;
  readonly maxUploadBytes: number;
  /** The page header's label (`local lake /path`). */
  readonly label: string;
  /** Receives an unexpected failure of a request (the answer is a 500 without it). */
  readonly onUnexpected?: (error: unknown) => void;
}

/** A running console server. */
export interface ConsoleServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** The origins its pages have (`http://127.0.0.1:<port>`, `http://localhost:<port>`). */
  readonly origins: readonly string[];
  close(): Promise<void>;
}

/** A request body larger than this is refused (the API's bodies are a few hundred bytes). */
const MAX_BODY_BYTES = 64 * 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts the console server; resolves once it listens. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const root = resolve(options.webDir);
  let port = 0;
  let origins: string[] = [];
  const headers = securityHeaders({ connect: [options.s3Endpoint] });
  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      options.onUnexpected?.(error);
      if (!res.headersSent) sendJson(res, 500, failure('internal', 'the console server failed: see its log'));
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    const host = req.headers.host ?? '';
    // Another Host is a page of another site whose name resolves here (DNS rebinding).
    if (!origins.some((origin) => origin === `http://${host}`))
      return sendJson(
        res,
        421,
        failure(
          'wrong_host',
          `this server answers 127.0.0.1:${port} and localhost:${port} only, not ${JSON.stringify(host)}`,
        ),
      );
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    // A page of another site may POST here blindly (a form): only the console's own pages may.
    if (method !== 'GET' && method !== 'HEAD' && origin !== undefined && !origins.includes(origin))
      return sendJson(
        res,
        403,
        failure(
          'cross_origin',
          `requests from ${JSON.stringify(origin)} are refused: use the console at ${origins[0]}/`,
        ),
      );
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
      if (body === null)
        return sendJson(res, 413, failure('too_large', `a request body is at most ${MAX_BODY_BYTES} bytes`));
      const answer = await handleApi(
        {
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          ...(body === undefined ? {} : { body }),
        },
        options.ports,
        options.onUnexpected,
      );
      return sendJson(res, answer.status, answer.body);
    }
    if (method !== 'GET' && method !== 'HEAD')
      return sendJson(
        res,
        405,
        failure('method_not_allowed', `${method} is not allowed on ${url.pathname}: use GET`),
      );
    if (url.pathname === '/config.json') {
      const config: ConsoleConfig = {
        apiUrl: `http://${host}`,
        auth: 'none',
        maxUploadBytes: options.maxUploadBytes,
        label: options.label,
      };
      return sendJson(res, 200, config);
    }
    const path = staticPath(root, url.pathname);
    const info = path?.startsWith(root + sep) ? await stat(path).catch(() => undefined) : undefined;
    if (path === undefined || !info?.isFile())
      return sendJson(res, 404, failure('not_found', `no file ${url.pathname} here`));
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': 'no-cache',
    });
    if (method === 'HEAD') return void res.end();
    createReadStream(path).pipe(res);
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      done();
    });
  });
  port = (server.address() as AddressInfo).port;
  origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    origins,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** The file a static path names under root; undefined for a malformed percent escape (no such file). */
function staticPath(root: string, pathname: string): string | undefined {
  try {
    return resolve(join(root, decodeURIComponent(pathname === '/' ? '/index.html' : pathname)));
  } catch {
    return undefined;
  }
}

function failure(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The request's body as text, or null past {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
