/**
 * The console API's core (lib/console/api.ts) against the real local adapters: a LocalRuntime
 * (s3rver, dynalite, DuckDB) with files landed through the pipeline, every route answered through
 * `handleApi` with the ports `local up` gives it. Paging is checked by following cursors over
 * more than one page; errors by their status and message.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiRequest, type ConsolePorts, handleApi } from '../../lib/console/api.ts';
import type {
  ApiErrorBody,
  DatasetsResponse,
  ErrorsResponse,
  FileResponse,
  FilesResponse,
  QueryPage,
  QueryStarted,
  UploadResponse,
} from '../../lib/console/contract.ts';
import { localConsolePorts, runtimeLake } from '../../lib/console/local-ports.ts';
import { headerTexts } from '../../lib/datasets/header-match.ts';
import { isTerminal, type LedgerItem } from '../../lib/ledger/model.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { reportErrors } from '../../lib/validation/reports.ts';

let runtime: LocalRuntime;
let ports: ReturnType<typeof localConsolePorts>;
const MAX_ROWS = 1_100;
const VALID = [0, 1, 2, 3, 4].map((i) => `${ORDERS_HEADER}${orderRows(i + 1, i * 10, i * 10 + 5)}`);

beforeAll(async () => {
  runtime = await LocalRuntime.start({ lakeDir: await mkdtemp(join(tmpdir(), 'console-api-')) });
  ports = localConsolePorts(runtimeLake(runtime), {
    maxUploadBytes: 1 << 20,
    maxRows: MAX_ROWS,
    keptQueries: 2,
  });
  for (const [i, body] of VALID.slice(0, 4).entries()) await runtime.land(`orders/valid-${i}.csv`, body);
  await runtime.land('orders/broken.csv', brokenOrdersCsv());
  await runtime.land('orders/broken.csv.gz', gzipSync(brokenOrdersCsv()));
  await runtime.land('orders/bad.csv', await readFile('test/fixtures/orders-invalid.csv'));
}, 120_000);

afterAll(async () => {
  await runtime?.close();
});

/** Calls the core as a handler would. */
async function call<T>(
  method: string,
  path: string,
  query: Record<string, string | undefined> = {},
  body?: unknown,
  with_: ConsolePorts = ports,
): Promise<{ status: number; body: T }> {
  const request: ApiRequest = {
    method,
    path,
    query,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
  const answer = await handleApi(request, with_);
  // What goes over the wire: the body must survive JSON.
  return { status: answer.status, body: JSON.parse(JSON.stringify(answer.body)) as T };
}

/** Every page of a paged GET, following `next`. */
async function pages<T extends { next?: string }>(path: string, query: Record<string, string>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await call<T>('GET', path, { ...query, ...(cursor ? { cursor } : {}) });
    expect(status).toBe(200);
    all.push(body);
    cursor = body.next;
  } while (cursor !== undefined);
  return all;
}

const errorOf = (body: unknown) => (body as ApiErrorBody).error;

describe('GET /api/datasets', () => {
  it('describes each declared dataset: table, columns with their rules in words, file rules, the declaration', async () => {
    // Act
    const { status, body } = await call<DatasetsResponse>('GET', '/api/datasets');

    // Assess
    expect(status).toBe(200);
    expect(body.datasets.map((d) => d.name)).toEqual([...runtime.datasets.keys()].sort());
    const orders = body.datasets.find((d) => d.name === 'orders')!;
    expect(orders.table).toBe('orders');
    const customer = orders.columns.find((c) => c.name === 'customer')!;
    expect(customer).toMatchObject({ header: 'Customer Name', type: 'string', nullable: false });
    expect(customer.rules).toContain('Required: an empty field is refused.');
    expect(customer.rules).toContain('Refused when longer than 200 characters.');
    const quantity = orders.columns.find((c) => c.name === 'quantity')!;
    expect(quantity.rules).toEqual([
      'Required: an empty field is refused.',
      'Expected a whole number (32-bit), e.g. 42 or -7.',
      'Refused when outside the 32-bit integer range -2147483648..2147483647.',
      'Refused when less than the minimum 1.',
      'Refused when greater than the maximum 10000.',
    ]);
    expect(orders.columns.find((c) => c.name === 'amount')!.type).toBe('decimal(12,2)');
    expect(orders.fileRules.join(' ')).toContain('orders_latest');
    // The declaration survives JSON: the browser's validator gets the parsed dataset back whole.
    expect(orders.declaration).toEqual(runtime.datasets.get('orders'));
  });
});

describe('GET /api/files', () => {
  it('lists the ledger newest first; pages of 2 followed by cursor hold every item once', async () => {
    // Act
    const whole = await call<FilesResponse>('GET', '/api/files', { limit: '200' });
    const paged = await pages<FilesResponse>('/api/files', { limit: '2' });

    // Assess
    const ids = (files: readonly LedgerItem[]) => files.map((f) => `${f.key}@${f.version}`);
    expect(whole.body.files).toHaveLength(7);
    expect(whole.body.next).toBeUndefined();
    const received = whole.body.files.map((f) => f.receivedAt);
    expect(received).toEqual([...received].sort().reverse());
    expect(paged.length).toBe(4);
    expect(paged.every((p) => p.files.length <= 2)).toBe(true);
    expect(ids(paged.flatMap((p) => p.files))).toEqual(ids(whole.body.files));
  });

  it('filters by status, dataset and since', async () => {
    // Act
    const rejected = await call<FilesResponse>('GET', '/api/files', { status: 'REJECTED' });
    const none = await call<FilesResponse>('GET', '/api/files', { dataset: 'sensor_readings' });
    const future = await call<FilesResponse>('GET', '/api/files', { since: '2999-01-01' });
    const rejectedOrders = await pages<FilesResponse>('/api/files', {
      dataset: 'orders',
      status: 'REJECTED',
      limit: '1',
    });

    // Assess
    expect(rejected.body.files.map((f) => f.key).sort()).toEqual([
      'orders/bad.csv',
      'orders/broken.csv',
      'orders/broken.csv.gz',
    ]);
    expect(none.body.files).toEqual([]);
    expect(future.body.files).toEqual([]);
    expect(rejectedOrders.flatMap((p) => p.files).map((f) => f.key)).toEqual(
      rejected.body.files.map((f) => f.key),
    );
  });

  it.each([
    [{ limit: '0' }, 'limit "0" is not a whole number from 1 to 200'],
    [{ limit: '201' }, 'limit "201" is not a whole number from 1 to 200'],
    [{ status: 'DONE' }, 'status "DONE" is not a ledger status: give one of RECEIVED'],
    [{ since: 'yesterday' }, 'since "yesterday" is not a date'],
    [{ cursor: 'xyz' }, 'cursor "xyz" is not a cursor this API gave'],
  ])('refuses %j with 400 naming the parameter and its value', async (query, message) => {
    // Act
    const { status, body } = await call('GET', '/api/files', query);

    // Assess
    expect(status).toBe(400);
    expect(errorOf(body)).toEqual({ code: 'bad_request', message: expect.stringContaining(message) });
  });
});

describe('GET /api/file', () => {
  it('a curated file: the item, its versions and its timeline in time order', async () => {
    // Act
    const { status, body } = await call<FileResponse>('GET', '/api/file', { key: 'orders/valid-0.csv' });

    // Assess
    expect(status).toBe(200);
    expect(body.file.status).toBe('CURATED');
    expect(body.versions).toEqual([
      { version: body.file.version, status: 'CURATED', receivedAt: body.file.receivedAt },
    ]);
    expect(body.timeline.map((s) => s.status)).toEqual(['RECEIVED', 'VALIDATED', 'CURATED']);
    expect(body.timeline[0]!.at).toBe(body.file.receivedAt);
    expect(body.report).toBeUndefined();
  });

  it("a rejected file: the report's summary", async () => {
    // Act
    const { body } = await call<FileResponse>('GET', '/api/file', { key: 'orders/broken.csv' });

    // Assess
    expect(body.file.status).toBe('REJECTED');
    expect(body.timeline.map((s) => s.status)).toEqual(['RECEIVED', 'REJECTED']);
    expect(body.report).toMatchObject({ reason: 'invalid_rows', errorCount: body.file.errorCount });
    expect(Object.values(body.report!.errorsByRule).reduce((a, b) => a + b, 0)).toBe(body.file.errorCount);
  });

  it('404 for a key the ledger does not know, and for a version the key does not have, naming its versions', async () => {
    // Act
    const unknown = await call('GET', '/api/file', { key: 'orders/nope.csv' });
    const version = await call('GET', '/api/file', { key: 'orders/valid-0.csv', version: 'v9' });
    const missing = await call('GET', '/api/file', {});

    // Assess
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body).message).toContain('no file "orders/nope.csv" in the ledger');
    expect(version.status).toBe(404);
    expect(errorOf(version.body).message).toMatch(/has no version "v9" \(versions: etag:/);
    expect(missing.status).toBe(400);
    expect(errorOf(missing.body).message).toContain('the key parameter is missing');
  });
});

describe('GET /api/file/errors', () => {
  it.each(['orders/broken.csv', 'orders/broken.csv.gz'])(
    '%s: pages of 2 followed by cursor are the whole list; each page has its records and the error cells map to header cells',
    async (key) => {
      // Act
      const whole = await call<ErrorsResponse>('GET', '/api/file/errors', { key, limit: '500' });
      const paged = await pages<ErrorsResponse>('/api/file/errors', { key, limit: '2' });

      // Assess: every error once, in order, across more than one page.
      expect(whole.body.errors.length).toBe(whole.body.total);
      expect(paged.length).toBeGreaterThan(1);
      expect(paged.flatMap((p) => p.errors)).toEqual(whole.body.errors);
      const orders = runtime.datasets.get('orders')!;
      for (const page of paged) {
        expect(page.header).toEqual(ORDERS_HEADER.trim().split(','));
        // One record per line with an error, in line order.
        const lines = [...new Set(page.errors.map((e) => e.line))].filter((l) => l > 1).sort((a, b) => a - b);
        expect(page.records.map((r) => r.line)).toEqual(lines);
        for (const error of page.errors) {
          if (error.column === null || error.line === 1) continue;
          // The highlighted cell: under the header text of the error's column, holding its value.
          expect(error.field).toBeGreaterThanOrEqual(0);
          const col = orders.columns.find((c) => c.name === error.column)!;
          expect(headerTexts(col)).toContain(page.header![error.field!]);
          const record = page.records.find((r) => r.line === error.line)!;
          if (error.value !== null && !error.value.endsWith('…'))
            expect(record.fields[error.field!] ?? '').toBe(error.value);
        }
      }
    },
  );

  it('reads errors across JSON Lines parts from a cursor, line by line, blank lines skipped', async () => {
    // Prepare: two parts, as the large-file route writes one per slice with errors.
    const error = (line: number) => ({
      line,
      column: 'sku',
      value: `x${line}`,
      rule: 'pattern',
      message: 'm',
    });
    const parts = [
      { bucket: LOCAL_BUCKETS.failure, key: 'orders/parts.errors.00001.jsonl' },
      { bucket: LOCAL_BUCKETS.failure, key: 'orders/parts.errors.00002.jsonl' },
    ];
    const bodies = [
      [2, 3, 4].map((l) => JSON.stringify(error(l))).join('\n'),
      `${JSON.stringify(error(9))}\n\n${JSON.stringify(error(11))}\n`,
    ];
    for (const [i, part] of parts.entries())
      await runtime.client.send(
        new PutObjectCommand({ Bucket: part.bucket, Key: part.key, Body: bodies[i] }),
      );

    // Act
    const read = [];
    for await (const { error: e, at } of reportErrors(runtime.client, parts, { part: 0, line: 1 }))
      read.push([e.line, at.part, at.line]);

    // Assess: from the second line of the first part on, each with its position.
    expect(read).toEqual([
      [3, 0, 1],
      [4, 0, 2],
      [9, 1, 0],
      [11, 1, 2],
    ]);
  });

  it('a read budget too small for the page: the errors without their records', async () => {
    // Act
    const { body } = await call<ErrorsResponse>(
      'GET',
      '/api/file/errors',
      { key: 'orders/broken.csv', limit: '500' },
      undefined,
      { read: { ...ports.read, recordBudgetBytes: 1 } },
    );

    // Assess
    expect(body.errors.length).toBe(body.total);
    expect(body.records.length).toBeLessThan(new Set(body.errors.map((e) => e.line)).size);
  });

  it('404 for a file without a report, naming its status', async () => {
    // Act
    const { status, body } = await call('GET', '/api/file/errors', { key: 'orders/valid-1.csv' });

    // Assess
    expect(status).toBe(404);
    expect(errorOf(body).message).toContain('it is CURATED, only a REJECTED file has one');
  });
});

describe('POST /api/uploads', () => {
  const sha = (body: Buffer) => createHash('sha256').update(body).digest('base64');
  const request = (body: Buffer, name = 'upload.csv') => ({
    dataset: 'orders',
    name,
    size: body.length,
    sha256: sha(body),
  });

  it('signs a POST whose policy fixes the key under <dataset>/, the size and the checksum', async () => {
    // Prepare
    const file = Buffer.from(VALID[0]!);

    // Act
    const { status, body } = await call<UploadResponse>('POST', '/api/uploads', {}, request(file));

    // Assess: decoded, the policy holds the exact key, the exact size and the checksum.
    expect(status).toBe(200);
    expect(body.key).toBe('orders/upload.csv');
    const policy = JSON.parse(Buffer.from(body.fields.Policy!, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.conditions).toContainEqual({ key: 'orders/upload.csv' });
    expect(policy.conditions).toContainEqual({ bucket: LOCAL_BUCKETS.landing });
    expect(policy.conditions).toContainEqual(['content-length-range', file.length, file.length]);
    expect(policy.conditions).toContainEqual(['eq', '$x-amz-checksum-sha256', sha(file)]);
    expect(policy.conditions).toContainEqual(['eq', '$x-amz-checksum-algorithm', 'SHA256']);
    expect(policy.conditions).toContainEqual(['eq', '$x-amz-meta-uploaded-by', 'local']);
    // No starts-with on the key: nothing outside <dataset>/<name> can be posted with it.
    expect(JSON.stringify(policy.conditions)).not.toContain('starts-with');
    const minutes = (Date.parse(policy.expiration) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(14);
    expect(minutes).toBeLessThanOrEqual(15);
  });

  it('the presigned form, posted to the local S3 server, lands the file and the pipeline curates it', async () => {
    // Prepare
    const file = Buffer.from(VALID[4]!);
    const { body } = await call<UploadResponse>('POST', '/api/uploads', {}, request(file, 'posted.csv'));
    const form = new FormData();
    for (const [name, value] of Object.entries(body.fields)) form.append(name, value);
    form.append('file', new Blob([file]), 'posted.csv');

    // Act
    const posted = await fetch(body.url, { method: 'POST', body: form });
    let item: LedgerItem | undefined;
    for (let i = 0; i < 200 && !isTerminal(item?.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      await runtime.idle();
      item = (await ports.read.ledger.versions(body.key))[0];
    }

    // Assess
    expect(posted.status).toBeLessThan(300);
    expect(item?.status).toBe('CURATED');
  });

  it.each([
    [{ dataset: 'ordrs' }, 404, 'unknown dataset "ordrs" (known: orders, sensor_readings)'],
    [{ name: 'a/b.csv' }, 400, 'name "a/b.csv" holds a "/"'],
    [{ name: 'x\u0001.csv' }, 400, 'holds a control character'],
    [{ name: 'x.txt' }, 400, 'name "x.txt" does not end in .csv or .csv.gz'],
    [{ name: `${'a'.repeat(300)}.csv` }, 400, 'bytes of UTF-8, over'],
    [{ size: 0 }, 400, 'size "0" is not a size'],
    [{ size: (1 << 20) + 1 }, 413, `over the console's cap of ${1 << 20} bytes`],
    [{ sha256: 'abc' }, 400, 'sha256 "abc" is not a SHA-256 in base64'],
    [{ size: '12' }, 400, 'size "12" must be the file size in bytes'],
  ])('refuses %j with %i', async (change, code, message) => {
    // Act
    const { status, body } = await call(
      'POST',
      '/api/uploads',
      {},
      { ...request(Buffer.from('x')), ...change },
    );

    // Assess
    expect(status).toBe(code);
    expect(errorOf(body).message).toContain(message);
  });

  it('refuses a body that is not JSON', async () => {
    const { status, body } = await call('POST', '/api/uploads', {}, '{oops');
    expect(status).toBe(400);
    expect(errorOf(body).message).toContain('the request body is not JSON');
  });
});

describe('POST /api/queries and GET /api/queries/{id}', () => {
  it('runs a SELECT and pages its rows up to the row limit', async () => {
    // Act
    const started = await call<QueryStarted>(
      'POST',
      '/api/queries',
      {},
      { sql: 'SELECT i FROM range(2000) t(i)' },
    );
    const paged = await pages<QueryPage>(`/api/queries/${started.body.id}`, {});

    // Assess: 1,100 rows (the limit) in pages of 500, each row once, the last page says truncated.
    expect(started.body.state).toBe('SUCCEEDED');
    expect(paged.map((p) => p.rows?.length)).toEqual([500, 500, 100]);
    expect(paged.flatMap((p) => p.rows!).map((r) => Number(r.i))).toEqual(
      Array.from({ length: MAX_ROWS }, (_, i) => i),
    );
    expect(paged.at(-1)!.truncated).toBe(true);
    expect(paged[0]!.truncated).toBeUndefined();
  });

  it('keeps both columns of one name (a.id, b.id) as id and id_2, timestamps still ISO 8601', async () => {
    // Act
    const started = await call<QueryStarted>(
      'POST',
      '/api/queries',
      {},
      {
        sql: "SELECT a.id, b.id, TIMESTAMP '2024-01-02 11:26:23.5' AS at FROM (SELECT 1 AS id) a, (SELECT 2 AS id) b",
      },
    );
    const [page] = await pages<QueryPage>(`/api/queries/${started.body.id}`, {});

    // Assess
    expect(page!.columns).toEqual(['id', 'id_2', 'at']);
    expect(page!.rows).toEqual([
      { id: 1, id_2: 2, at: expect.stringMatching(/^2024-01-02T11:26:23\.5\d*Z$/) },
    ]);
  });

  it('queries the curated table', async () => {
    const started = await call<QueryStarted>(
      'POST',
      '/api/queries',
      {},
      { sql: 'SELECT count(*) AS n FROM orders' },
    );
    const { body } = await call<QueryPage>('GET', `/api/queries/${started.body.id}`);
    // Four landed files of five rows, and the posted one (if that test ran first) of five more.
    expect(Number(body.rows![0]!.n) % 5).toBe(0);
    expect(Number(body.rows![0]!.n)).toBeGreaterThanOrEqual(20);
  });

  it('refuses anything but one SELECT, and reports a failing query as FAILED with its message', async () => {
    // Act
    const drop = await call('POST', '/api/queries', {}, { sql: 'DROP TABLE orders' });
    const failing = await call<QueryStarted>(
      'POST',
      '/api/queries',
      {},
      { sql: 'SELECT * FROM nothing_here' },
    );
    const failed = await call<QueryPage>('GET', `/api/queries/${failing.body.id}`);

    // Assess
    expect(drop.status).toBe(400);
    expect(errorOf(drop.body)).toEqual({
      code: 'not_a_select',
      message: expect.stringContaining('this is a DROP statement'),
    });
    expect(failed.body.state).toBe('FAILED');
    expect(failed.body.message).toContain('nothing_here');
  });

  it('404 for an unknown id, and for one whose results are no longer kept', async () => {
    // Prepare: three queries where two are kept.
    const first = await call<QueryStarted>('POST', '/api/queries', {}, { sql: 'SELECT 1 AS x' });
    await call('POST', '/api/queries', {}, { sql: 'SELECT 2 AS x' });
    await call('POST', '/api/queries', {}, { sql: 'SELECT 3 AS x' });

    // Act
    const unknown = await call('GET', '/api/queries/nope');
    const evicted = await call('GET', `/api/queries/${first.body.id}`);

    // Assess
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body).message).toContain('no query "nope"');
    expect(evicted.status).toBe(404);
  });
});

describe('routing and failures', () => {
  it('404 for an unknown route listing the routes, 405 for a known path with the wrong method', async () => {
    const unknown = await call('GET', '/api/nope');
    const method = await call('DELETE', '/api/files');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body).message).toContain('GET /api/datasets');
    expect(method.status).toBe(405);
    expect(errorOf(method.body).message).toBe('DELETE is not allowed on /api/files: use GET');
  });

  it('400 naming the path for a malformed percent escape in a path parameter', async () => {
    const { status, body } = await call('GET', '/api/queries/%E0%A4');
    expect(status).toBe(400);
    expect(errorOf(body)).toEqual({
      code: 'bad_request',
      message: expect.stringContaining('the path "/api/queries/%E0%A4" has a malformed percent escape'),
    });
  });

  it("404 for a route whose group this function does not serve (each Lambda has its group's ports only)", async () => {
    const { status } = await call('GET', '/api/datasets', {}, undefined, { query: ports.query });
    expect(status).toBe(404);
  });

  it('502 for a failing downstream call, with a message and no stack; 500 for anything else', async () => {
    // Prepare: a ledger whose calls fail as an SDK call does (with $metadata), and one that throws plainly.
    const sdkError = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const failing = (error: Error): ConsolePorts => ({
      read: { ...ports.read, ledger: { ...ports.read.ledger, list: () => Promise.reject(error) } },
    });

    // Act
    const downstream = await call('GET', '/api/files', {}, undefined, failing(sdkError));
    const internal = await call('GET', '/api/files', {}, undefined, failing(new TypeError('x is undefined')));

    // Assess
    expect(downstream.status).toBe(502);
    expect(errorOf(downstream.body).message).toContain('(ThrottlingException)');
    expect(internal.status).toBe(500);
    expect(errorOf(internal.body).message).not.toContain('at ');
  });
});
