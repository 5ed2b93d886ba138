/**
 * The console server of `local up` (lib/local/console-server.ts) over a real local lake: the
 * front end served with the security headers, config.json, the API passed through to the core,
 * the Host and Origin checks, and the landing bucket's CORS for the console's presigned uploads
 * (a browser's preflight and form POST, as fetch sends them).
 */
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleConfig, UploadResponse } from '../../lib/console/contract.ts';
import { LOCAL_MAX_UPLOAD_BYTES, localConsolePorts, runtimeLake } from '../../lib/console/local-ports.ts';
import { buildWebSync } from '../../lib/console/web-build.ts';
import { type ConsoleServer, startConsoleServer } from '../../lib/local/console-server.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';

let runtime: LocalRuntime;
let server: ConsoleServer;
let origin: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'console-server-'));
  runtime = await LocalRuntime.start({ lakeDir: join(dir, 'lake') });
  const web = buildWebSync(join(dir, 'web'));
  server = await startConsoleServer({
    ports: localConsolePorts(runtimeLake(runtime)),
    webDir: web.dir,
    s3Endpoint: runtime.s3.endpoint,
    maxUploadBytes: LOCAL_MAX_UPLOAD_BYTES,
    label: 'local lake test',
  });
  runtime.s3.allowBrowserUploads(LOCAL_BUCKETS.landing, server.origins);
  origin = server.origins[0]!;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await runtime?.close();
});

/** A raw HTTP request (fetch cannot set Host), answered with status, headers and body text. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the console server', () => {
  it('serves index.html at / with the security headers, and config.json with no sign-in', async () => {
    // Act
    const page = await raw(server.url);
    const config = await raw(`${origin}/config.json`);

    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<');
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${runtime.s3.endpoint}; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    );
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(JSON.parse(config.body) as ConsoleConfig).toEqual({
      apiUrl: origin,
      auth: 'none',
      maxUploadBytes: LOCAL_MAX_UPLOAD_BYTES,
      label: 'local lake test',
    });
  });

  it('answers /api/* through the core, with no-store', async () => {
    const answer = await raw(`${origin}/api/datasets`);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(
      (JSON.parse(answer.body) as { datasets: { name: string }[] }).datasets.map((d) => d.name),
    ).toContain('orders');
  });

  it('refuses another Host (DNS rebinding) and a POST from another origin; accepts localhost and its own origin', async () => {
    // Act
    const rebound = await raw(`${origin}/api/datasets`, {
      headers: { host: `attacker.example:${server.port}` },
    });
    const localhost = await raw(`${origin}/api/datasets`, { headers: { host: `localhost:${server.port}` } });
    const body = JSON.stringify({ sql: 'SELECT 1 AS x' });
    const foreign = await raw(`${origin}/api/queries`, {
      method: 'POST',
      headers: { origin: 'http://attacker.example' },
      body,
    });
    const own = await raw(`${origin}/api/queries`, { method: 'POST', headers: { origin }, body });

    // Assess
    expect(rebound.status).toBe(421);
    expect(rebound.body).toContain('not \\"attacker.example:');
    expect(localhost.status).toBe(200);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('requests from \\"http://attacker.example\\" are refused');
    expect(own.status).toBe(200);
  });

  it('does not serve a file outside the built front end; a malformed percent escape is 404 (static) or 400 (API), not 500', async () => {
    const traversal = await raw(`${origin}/..%2F..%2Fpackage.json`);
    const missing = await raw(`${origin}/nope.js`);
    const malformed = await raw(`${origin}/%E0%A4`);
    const malformedApi = await raw(`${origin}/api/queries/%E0%A4`);
    expect(traversal.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(malformed.status).toBe(404);
    expect(malformed.body).toContain('no file /%E0%A4 here');
    expect(malformedApi.status).toBe(400);
    expect(JSON.parse(malformedApi.body)).toMatchObject({ error: { code: 'bad_request' } });
  });

  it("the landing bucket answers the console's preflight and form POST with CORS, and not another origin's", async () => {
    // Prepare
    const file = Buffer.from(`${ORDERS_HEADER}${orderRows(9, 0, 3)}`);
    const signed = await raw(`${origin}/api/uploads`, {
      method: 'POST',
      headers: { origin },
      body: JSON.stringify({
        dataset: 'orders',
        name: 'cors.csv',
        size: file.length,
        sha256: createHash('sha256').update(file).digest('base64'),
      }),
    });
    const upload = JSON.parse(signed.body) as UploadResponse;
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append('file', new Blob([file]), 'cors.csv');

    // Act
    const preflight = await raw(upload.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    const posted = await fetch(upload.url, { method: 'POST', body: form, headers: { origin } });
    const foreign = await raw(upload.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://attacker.example', 'access-control-request-method': 'POST' },
    });

    // Assess
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(posted.status).toBeLessThan(300);
    expect(posted.headers.get('access-control-allow-origin')).toBe(origin);
    // The page reads the new object's version (and ETag) to tie its upload to the ledger item.
    const exposed = (posted.headers.get('access-control-expose-headers') ?? '')
      .toLowerCase()
      .split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['etag', 'x-amz-version-id']));
    expect(posted.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });
});
