/**
 * The console's API client (web/src/api.ts): what it asks for, and that every failure becomes a
 * message a person can act on: the API's own, or the client's when the API cannot be reached or
 * answers something that is not its JSON. fetch is its port: real Response objects, no network.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, uploadedVersion, uploadFailure } from '../../../web/src/api.ts';

type Call = { url: string; init: RequestInit | undefined };

function client(answer: (call: Call) => Response | Promise<Response>, token?: string) {
  const calls: Call[] = [];
  let unauthorized = 0;
  const api = createApiClient({
    baseUrl: 'https://api.example.com/',
    token: () => token,
    onUnauthorized: () => unauthorized++,
    fetch: async (url, init) => {
      const call = { url: String(url), init };
      calls.push(call);
      return answer(call);
    },
  });
  return { api, calls, unauthorized: () => unauthorized };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('the API client', () => {
  it('builds each route with its parameters, leaving out empty ones, and sends the bearer token', async () => {
    const { api, calls } = client(() => json({ files: [] }), 'TOKEN');
    await api.files({ dataset: 'orders', status: undefined, cursor: 'c/1', limit: 25 });
    await api.file('orders/a b.csv');
    await api.queryPage('q/1', 'n');
    expect(calls.map((c) => c.url)).toEqual([
      'https://api.example.com/api/files?dataset=orders&cursor=c%2F1&limit=25',
      'https://api.example.com/api/file?key=orders%2Fa+b.csv',
      'https://api.example.com/api/queries/q%2F1?cursor=n',
    ]);
    expect((calls[0]!.init!.headers as Record<string, string>).authorization).toBe('Bearer TOKEN');
  });

  it('posts JSON bodies', async () => {
    const { api, calls } = client(() => json({ id: 'q1', state: 'QUEUED' }));
    expect(await api.startQuery('SELECT 1')).toEqual({ id: 'q1', state: 'QUEUED' });
    expect(calls[0]!.init?.method).toBe('POST');
    expect(calls[0]!.init?.body).toBe('{"sql":"SELECT 1"}');
    expect((calls[0]!.init!.headers as Record<string, string>)['content-type']).toBe('application/json');
  });

  it("gives the API's own code and message when it sends one", async () => {
    const { api } = client(() =>
      json(
        { error: { code: 'not_found', message: 'no file "orders/x.csv" in the ledger: check the key' } },
        404,
      ),
    );
    const error = await api.file('orders/x.csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'no file "orders/x.csv" in the ledger: check the key',
    });
  });

  it('names the API and what to do when it cannot be reached', async () => {
    const { api } = client(() => {
      throw new TypeError('fetch failed');
    });
    await expect(api.datasets()).rejects.toMatchObject({
      code: 'network',
      message:
        'cannot reach the API at https://api.example.com/api/datasets (fetch failed): check your connection, or that the lake is running, and try again',
    });
  });

  it('shows the start of a body that is not JSON (a proxy page), on one line', async () => {
    const { api } = client(() => new Response('<html>\n<h1>502 Bad Gateway</h1>\n</html>', { status: 502 }));
    await expect(api.datasets()).rejects.toMatchObject({
      status: 502,
      code: 'bad_response',
      message: 'the API answered GET /api/datasets with HTTP 502: <html> <h1>502 Bad Gateway</h1> </html>',
    });
    const ok = client(() => new Response('not json', { status: 200 }));
    await expect(ok.api.datasets()).rejects.toThrow('with HTTP 200 but no JSON body: not json');
  });

  it('asks the page to sign in again on a 401', async () => {
    const { api, unauthorized } = client(() => new Response('', { status: 401 }));
    await expect(api.datasets()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(unauthorized()).toBe(1);
  });

  it('on a 401 renews the token once and sends the call again, signing in only when that fails', async () => {
    let current = 'EXPIRED';
    const refreshes: string[] = [];
    const sent: (string | null)[] = [];
    let unauthorized = 0;
    const api = (renews: boolean) =>
      createApiClient({
        baseUrl: 'https://api.example.com',
        token: async () => current,
        refresh: async () => {
          refreshes.push(current);
          if (renews) current = 'FRESH';
          return renews;
        },
        onUnauthorized: () => unauthorized++,
        fetch: async (_url, init) => {
          const auth = new Headers(init?.headers).get('authorization');
          sent.push(auth);
          return auth === 'Bearer FRESH' ? json({ datasets: [] }) : new Response('', { status: 401 });
        },
      });
    await expect(api(true).datasets()).resolves.toEqual({ datasets: [] });
    expect(sent).toEqual(['Bearer EXPIRED', 'Bearer FRESH']);
    expect(unauthorized).toBe(0);

    current = 'REVOKED';
    sent.length = 0;
    await expect(api(false).datasets()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(sent).toEqual(['Bearer REVOKED']); // no second try without a new token
    expect(refreshes).toEqual(['EXPIRED', 'REVOKED']);
    expect(unauthorized).toBe(1);
  });
});

describe("S3's refusal of a presigned POST, in words", () => {
  const xml = (code: string, message: string) =>
    `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

  it('says what each common refusal means', () => {
    expect(
      uploadFailure(400, xml('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size')),
    ).toBe(
      'the file is larger than the upload allows: Your proposed upload exceeds the maximum allowed size',
    );
    expect(uploadFailure(400, xml('BadDigest', 'x'))).toMatch(/^the file changed since it was checked/);
    expect(uploadFailure(403, xml('AccessDenied', 'Invalid according to Policy: Policy expired.'))).toBe(
      'the upload form expired before the file was sent: upload again',
    );
    expect(uploadFailure(403, xml('AccessDenied', 'nope'))).toBe(
      'the store refused the file (HTTP 403, AccessDenied: nope)',
    );
    expect(uploadFailure(0, '')).toBe(
      'the upload did not reach the store: check your connection and try again',
    );
    expect(uploadFailure(500, '')).toBe('the store refused the file (HTTP 500)');
  });
});

describe("the ledger version of an upload, from S3's answer", () => {
  it('is the version id on a versioned bucket, else etag:<ETag> as the local lake records it', () => {
    expect(uploadedVersion('3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY', '"9b2cf535f27731c974343645a3985328"')).toBe(
      '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
    );
    expect(uploadedVersion(null, '"9b2cf535f27731c974343645a3985328"')).toBe(
      'etag:9b2cf535f27731c974343645a3985328',
    );
    expect(uploadedVersion(null, null)).toBeUndefined();
  });
});
