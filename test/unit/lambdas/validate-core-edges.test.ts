/**
 * The validate core at its edges: zone names of odd keys and long ones, clipped texts, the log lines
 * an operator searches for, the gzip sniff of the large-file route, slices and their hand-over, and
 * backpressure from a slow error list.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type IngestRequest,
  type ObjectRef,
  type ReportedError,
  type SliceProgress,
  STATE_ERRORS,
  type ValidateTaskInput,
  type ValidateTaskOutput,
} from '../../../lambdas/shared/contract.ts';
import { toIngestRequest } from '../../../lambdas/trigger/core.ts';
import {
  type ErrorReport,
  flatFileName,
  type LineSink,
  MAX_NAME_BYTES,
  type ObjectStore,
  type ValidateDeps,
  validateIngest,
  zoneFileName,
  zoneKey,
} from '../../../lambdas/validate/core.ts';
import { loadDatasets } from '../../../lib/datasets/load.ts';
import type { Dataset } from '../../../lib/datasets/model.ts';
import { PARALLEL_MIN_BYTES } from '../../../lib/validation/parallel.ts';
import { validateCsv } from '../../../lib/validation/validate-csv.ts';
import {
  DATASETS_DIR,
  DEFAULT_CONVERSION,
  recordingLog,
  ingestRequest as req,
  s3Record,
  validateWhole,
  versionTag,
} from './helpers.ts';

const BUCKETS = { rawBucket: 'raw', failureBucket: 'failure', curatedBucket: 'curated' };
const LAST_MODIFIED = new Date('2024-03-02T10:00:00Z');
const DATE = '2024-03-02';
const HEADER = 'order_id,Customer Name,sku,quantity,amount,currency,discount,gift,ordered_at,ship_date\n';
const goodRow = (id: number) => `${id},Ann,ABC-12345,1,1.00,USD,0,true,2024-01-01T00:00:00Z,\n`;
/** A row with exactly one error: its sku misses a digit. */
const badRow = (id: number) => `${id},Bob,ABC-1234,1,1.00,USD,0,true,2024-01-01T00:00:00Z,\n`;

/**
 * An in-memory object store that serves ranged reads (`from`), records the S3 operations in `ops`
 * and, in `events`, each chunk pulled from a body and each write to and drain of an error list.
 */
class RangeStore implements ObjectStore {
  readonly ops: string[] = [];
  readonly events: string[] = [];
  readonly json = new Map<string, unknown>();
  readonly lines = new Map<string, unknown[]>();
  closed = 0;
  /** Which writes (1-based, over all error lists) the sink refuses, asking the caller to wait. */
  refuseWrite: (n: number) => boolean = () => false;
  private writes = 0;

  constructor(
    private readonly content: Uint8Array,
    private readonly chunkBytes = 7,
  ) {}

  async open(request: IngestRequest, from = 0) {
    this.ops.push(from === 0 ? `open ${request.key}` : `open ${request.key} from ${from}`);
    const { content, chunkBytes, events } = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = from; i < content.length; i += chunkBytes) {
        const chunk = content.subarray(i, i + chunkBytes);
        events.push(`read ${chunk.length}`);
        yield chunk;
      }
    }
    return { body: chunks(), lastModified: LAST_MODIFIED, close: () => void this.closed++ };
  }

  async head(request: IngestRequest) {
    this.ops.push(`head ${request.key}`);
    return { lastModified: LAST_MODIFIED };
  }

  async copy(from: IngestRequest, to: ObjectRef) {
    this.ops.push(`copy ${from.bucket}/${from.key} -> ${to.bucket}/${to.key}`);
  }

  async putJson(to: ObjectRef, value: unknown) {
    this.ops.push(`put ${to.bucket}/${to.key}`);
    this.json.set(`${to.bucket}/${to.key}`, JSON.parse(JSON.stringify(value)));
  }

  writeLines(to: ObjectRef): LineSink {
    const lines: string[] = [];
    return {
      write: (line) => {
        lines.push(line);
        const ok = !this.refuseWrite(++this.writes);
        this.events.push(ok ? 'write' : 'write refused');
        return ok;
      },
      drained: () => {
        this.events.push('drain');
        // Resolves later, as an upload catching up does: reading must wait for it.
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            this.events.push('drained');
            resolve();
          }, 1),
        );
      },
      end: async () => {
        this.ops.push(`lines ${to.bucket}/${to.key}`);
        this.lines.set(
          `${to.bucket}/${to.key}`,
          lines.map((l) => JSON.parse(l)),
        );
      },
      abort: async () => {
        this.ops.push(`abort lines ${to.bucket}/${to.key}`);
      },
    };
  }

  report(out: ValidateTaskOutput): ErrorReport {
    return this.json.get(`failure/${out.report!.key}`) as ErrorReport;
  }
}

let datasets: Map<string, Dataset>;

beforeAll(async () => {
  datasets = await loadDatasets(DATASETS_DIR);
});

function depsOf(store: RangeStore, extra: Pick<ValidateDeps, 'remainingMs'> = {}) {
  return { store, datasets, buckets: BUCKETS, log: recordingLog(), conversion: DEFAULT_CONVERSION, ...extra };
}

/** Every error of a file, in order, from one pass of the validator: the oracle of the error lists. */
async function allErrors(content: string): Promise<ReportedError[]> {
  const errors: ReportedError[] = [];
  await validateCsv(Readable.from([Buffer.from(content)]), datasets.get('orders')!, {
    onError: ({ line, column, value, rule, message }) => errors.push({ line, column, value, rule, message }),
  });
  return errors;
}

const sha16 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

describe('zone names of odd keys', () => {
  it.each([
    ['orders/', '_'],
    ['orders/.', '_.'],
    ['/a.csv', 'a.csv'],
  ])(
    'flatFileName(%s) is %s: no empty or navigating name, the empty dataset segment dropped',
    (key, expected) => {
      // Act
      const file = flatFileName(key);

      // Assess
      expect(file).toBe(expected);
    },
  );

  it.each([
    ['orders/README', 'README.#'],
    ['orders/report.v2.xlsx', 'report.v2.#.xlsx'],
    ['orders/a.b.csv.gz', 'a.b.#.csv.gz'],
  ])('zoneFileName(%s) puts the version tag before the last extension only: %s', (key, expected) => {
    // Prepare
    const request = req(key);

    // Act
    const file = zoneFileName(request);

    // Assess
    expect(file).toBe(expected.replace('#', versionTag(request)));
  });
});

describe('zone file names at the local name limit', () => {
  const prefix = `orders/ingest_date=${DATE}/`;
  /**
   * Bytes for the file name: the 233 the local S3 endpoint stores in a key's last segment (255 less
   * s3rver's 22-byte suffix) less the longest suffix (`.errors.00000.jsonl`).
   */
  const budget = 255 - 22 - 19;

  it('keeps a name of exactly the budget whole', () => {
    // Prepare
    const file = `${'a'.repeat(budget - 4)}.csv`;

    // Act
    const key = zoneKey('orders', DATE, file);

    // Assess
    expect(key).toBe(prefix + file);
  });

  it('cuts a name one byte over, filling the budget exactly, with a hash of the whole name and the extension', () => {
    // Prepare
    const file = `${'a'.repeat(budget - 3)}.csv`;

    // Act
    const key = zoneKey('orders', DATE, file);

    // Assess
    expect(key).toBe(`${prefix}${'a'.repeat(budget - 17 - 4)}~${sha16(file)}.csv`);
    expect(Buffer.byteLength(key.slice(prefix.length))).toBe(MAX_NAME_BYTES - '.errors.00000.jsonl'.length);
  });

  it('cuts a long name without a CSV extension with nothing after the hash', () => {
    // Prepare
    const file = 'x'.repeat(2000);

    // Act
    const key = zoneKey('orders', DATE, file);

    // Assess
    expect(key).toBe(`${prefix}${'x'.repeat(budget - 17)}~${sha16(file)}`);
  });

  it.each([
    ['é', 2],
    ['😀', 4],
  ])('never cuts a multi-byte character (%s, %i bytes) in two', (ch, bytes) => {
    // Prepare: a head budget of budget - 17 - 4 bytes, which is no multiple of 2 or 4
    const file = `${ch.repeat(1000)}.csv`;
    const whole = Math.floor((budget - 17 - 4) / bytes);

    // Act
    const key = zoneKey('orders', DATE, file);

    // Assess
    expect((budget - 17 - 4) % bytes).not.toBe(0);
    expect(key).toBe(`${prefix}${ch.repeat(whole)}~${sha16(file)}.csv`);
  });

  it('cuts a deeply nested key, flattened into one name, to the budget', () => {
    // Prepare: ten 100-byte folders, each short enough for the local endpoint, 1,020 bytes flat
    const landing = `orders/${'f'.repeat(100).concat('/').repeat(9)}${'n'.repeat(96)}.csv`;
    const file = flatFileName(landing);

    // Act
    const key = zoneKey('orders', DATE, file);

    // Assess
    expect(Buffer.byteLength(file)).toBeGreaterThan(budget);
    expect(key).toBe(`${prefix}${file.slice(0, budget - 17 - 4)}~${sha16(file)}.csv`);
  });
});

describe('files rejected unread', () => {
  it.each([
    ['./a.csv', 'no-dataset'],
    ['../a.csv', 'no-dataset'],
    [`${'d'.repeat(255)}/a.csv`, 'd'.repeat(255)],
    [`${'d'.repeat(256)}/a.csv`, 'no-dataset'],
    ['ordrs/a.csv', 'ordrs'],
    // Never sent by the trigger, but an empty folder would put the file at the zone's root.
    ['/a.csv', 'no-dataset', ''],
  ])(
    'files an unknown dataset folder usable as a folder name (key %#) under it, else under no-dataset',
    async (key, folder, dataset?: string) => {
      // Prepare
      const store = new RangeStore(Buffer.from(HEADER));
      const request = req(key, dataset === undefined ? {} : { dataset });

      // Act
      const out = await validateWhole({ request, executionName: 'run' }, depsOf(store));

      // Assess
      expect(out.failure).toEqual({
        bucket: 'failure',
        key: `${folder}/ingest_date=${DATE}/a.${versionTag(request)}.csv`,
      });
    },
  );

  it('tells the producer of a key without a dataset folder, as the trigger hands it over, how to land files', async () => {
    // Prepare
    const request = toIngestRequest(s3Record({ key: 'loose.csv', versionId: 'v1' }))!;
    const store = new RangeStore(Buffer.from(HEADER));

    // Act
    const out = await validateWhole({ request, executionName: 'run' }, depsOf(store));

    // Assess
    expect(out.errors).toEqual([
      {
        line: 0,
        column: null,
        value: 'no-dataset',
        rule: 'unknown_dataset',
        message:
          'the key "loose.csv" names no dataset folder: land files as <dataset>/<file>.csv (known: orders, sensor_readings)',
      },
    ]);
    expect(out.failure!.key).toBe(`no-dataset/ingest_date=${DATE}/loose.${versionTag(request)}.csv`);
  });

  it('clips a long dataset name in the error value (80 characters) and message (200), marking the cut with …', async () => {
    // Prepare
    const name = 'd'.repeat(255);
    const store = new RangeStore(Buffer.from(HEADER));

    // Act
    const out = await validateWhole({ request: req(`${name}/a.csv`), executionName: 'run' }, depsOf(store));

    // Assess
    expect(out.errors[0]).toMatchObject({
      value: `${'d'.repeat(80)}…`,
      message: `unknown dataset "${'d'.repeat(200)}…" (known: orders, sensor_readings)`,
    });
  });

  it('keeps a dataset name of exactly 80 characters whole in the error value', async () => {
    // Prepare
    const name = 'd'.repeat(80);
    const store = new RangeStore(Buffer.from(HEADER));

    // Act
    const out = await validateWhole({ request: req(`${name}/a.csv`), executionName: 'run' }, depsOf(store));

    // Assess
    expect(out.errors[0]!.value).toBe(name);
  });

  it('says "known: none" when no dataset is declared', async () => {
    // Prepare
    const store = new RangeStore(Buffer.from(HEADER));

    // Act
    const out = await validateWhole(
      { request: req('orders/a.csv'), executionName: 'run' },
      { ...depsOf(store), datasets: new Map() },
    );

    // Assess
    expect(out.errors[0]!.message).toBe('unknown dataset "orders" (known: none)');
  });

  it('names its one-part error list in the report and logs the rejection', async () => {
    // Prepare
    const store = new RangeStore(Buffer.from(HEADER));
    const request = req('orders/a.xlsx');
    const deps = depsOf(store);

    // Act
    const out = await validateWhole({ request, executionName: 'run' }, deps);

    // Assess
    const failure = { bucket: 'failure', key: `orders/ingest_date=${DATE}/a.${versionTag(request)}.xlsx` };
    const report = store.report(out);
    expect(report.errorFiles).toEqual([{ bucket: 'failure', key: `${failure.key}.errors.00001.jsonl` }]);
    expect(store.lines.get(`failure/${failure.key}.errors.00001.jsonl`)).toEqual(report.errors);
    expect(deps.log.lines).toEqual([
      {
        level: 'info',
        message: 'file rejected: copied to the failure zone',
        attributes: { source: request, failure, reason: 'not_csv', errorCount: 1 },
      },
    ]);
  });
});

describe('a file read in one run', () => {
  it('logs where a valid file went', async () => {
    // Prepare
    const store = new RangeStore(Buffer.from(HEADER + goodRow(1) + goodRow(2)));
    const request = req('orders/a.csv');
    const deps = depsOf(store);

    // Act
    await validateWhole({ request, executionName: 'run' }, deps);

    // Assess
    expect(deps.log.lines).toEqual([
      {
        level: 'info',
        message: 'file is valid: copied to the raw zone',
        attributes: {
          source: request,
          raw: { bucket: 'raw', key: `orders/ingest_date=${DATE}/a.${versionTag(request)}.csv` },
          rows: 2,
        },
      },
    ]);
  });

  it('waits for a full error list to drain before reading on, once per refused write', async () => {
    // Prepare: the upload refuses the first error line only
    const store = new RangeStore(Buffer.from(HEADER + badRow(1) + goodRow(2) + badRow(3) + goodRow(4)), 16);
    store.refuseWrite = (n) => n === 1;

    // Act
    const out = await validateWhole({ request: req('orders/a.csv'), executionName: 'run' }, depsOf(store));

    // Assess
    expect(out.errorCount).toBe(2);
    const events = store.events.filter((e) => !e.startsWith('read'));
    expect(events).toEqual(['write refused', 'drain', 'drained', 'write']);
    const refused = store.events.indexOf('write refused');
    expect(store.events.slice(refused, store.events.indexOf('drained') + 1)).toEqual([
      'write refused',
      'drain',
      'drained',
    ]);
  });
});

describe('a large plain file on the single route', () => {
  it('is validated in parallel ranges, each a ranged read, with the output and error list of one pass', async () => {
    // Prepare: over the size that goes parallel, an error every 1,000 rows.
    const rows: string[] = [];
    let bytes = HEADER.length;
    for (let id = 1; bytes < PARALLEL_MIN_BYTES + 1e6; id++) {
      rows.push(id % 1000 ? goodRow(id) : badRow(id));
      bytes += rows.at(-1)!.length;
    }
    const content = Buffer.from(HEADER + rows.join(''));
    const request = { ...req('orders/big.csv'), size: content.length };
    const one = new RangeStore(content, 1 << 16);
    const ranged = new RangeStore(content, 1 << 16);

    // Act
    const whole = await validateWhole({ request, executionName: 'run' }, depsOf(one));
    const parallel = await validateWhole(
      { request, executionName: 'run' },
      { ...depsOf(ranged), parallel: { threads: 2, inThread: true } },
    );

    // Assess: the same output, report and error list; the object read in ranges from several offsets.
    expect(whole.errorCount).toBeGreaterThan(100);
    expect(parallel).toEqual(whole);
    expect(ranged.report(parallel)).toEqual(one.report(whole));
    expect([...ranged.lines]).toEqual([...one.lines]);
    expect(ranged.ops.filter((op) => op.startsWith('open orders/big.csv from')).length).toBeGreaterThan(4);
    expect(one.ops.filter((op) => op.startsWith('open orders/big.csv from'))).toEqual([]);
  });
});

describe('the large-file route', () => {
  it.each([
    [1, 2],
    [2, 1],
    [64, 1],
  ])(
    'rejects a gzip file as too_large from its first two bytes (chunks of %i bytes: %i read), and closes the body',
    async (chunkBytes, chunksRead) => {
      // Prepare
      const gz = gzipSync(Buffer.from(HEADER + goodRow(1)));
      const store = new RangeStore(gz, chunkBytes);
      const request = req('orders/a.csv.gz', { size: 123_456 });
      const deps = depsOf(store);

      // Act
      const out = await validateIngest(
        { request, executionName: 'run', slice: { bytes: 1000, index: 1 } },
        deps,
      );

      // Assess
      const failureKey = `orders/ingest_date=${DATE}/a.${versionTag(request)}.csv.gz`;
      expect(store.ops).toEqual([
        'open orders/a.csv.gz',
        'head orders/a.csv.gz',
        `lines failure/${failureKey}.errors.00001.jsonl`,
        `put failure/${failureKey}.errors.json`,
        `copy landing/orders/a.csv.gz -> failure/${failureKey}`,
      ]);
      expect(store.events.filter((e) => e.startsWith('read'))).toHaveLength(chunksRead);
      expect(store.closed).toBe(1);
      expect(out).toMatchObject({ done: true, valid: false, reason: 'too_large', rows: 0, bytes: 123_456 });
      expect((out as ValidateTaskOutput).errors).toEqual([
        {
          line: 0,
          column: null,
          value: null,
          rule: 'too_large',
          message:
            'a gzip file of 123456 bytes is over the 1000-byte limit of one validation run, and a gzip stream cannot be validated in slices: land it uncompressed, or split it',
        },
      ]);
    },
  );

  it('reads a resumed slice once, from its checkpoint, without sniffing for gzip again', async () => {
    // Prepare: a first slice that stops after the header, a second that reads the rest
    const content = HEADER + goodRow(1);
    const store = new RangeStore(Buffer.from(content), 16);
    const request = req('orders/a.csv', { size: content.length });
    const first = await validateIngest(
      { request, executionName: 'run', slice: { bytes: 100, index: 1 } },
      depsOf(store),
    );
    const offset = (first as SliceProgress).slice.resume!.offset;
    store.ops.length = 0;

    // Act
    const second = await validateIngest(first as SliceProgress, depsOf(store));

    // Assess
    expect(first.done).toBe(false);
    expect(store.ops).toEqual([
      `open orders/a.csv from ${offset}`,
      `copy landing/orders/a.csv -> raw/orders/ingest_date=${DATE}/a.${versionTag(request)}.csv`,
    ]);
    expect(second).toMatchObject({ done: true, valid: true, rows: 1, bytes: content.length });
  });

  it('stops at the first record boundary once exactly slice.bytes bytes are read', async () => {
    // Prepare: the first chunk is the header, exactly slice.bytes long
    const content = HEADER + goodRow(1) + goodRow(2);
    const store = new RangeStore(Buffer.from(content), HEADER.length);
    const request = req('orders/a.csv', { size: content.length });

    // Act
    const out = await validateIngest(
      { request, executionName: 'run', slice: { bytes: HEADER.length, index: 1 } },
      depsOf(store),
    );

    // Assess
    expect(out).toMatchObject({
      done: false,
      bytes: HEADER.length,
      rows: 0,
      slice: { bytes: HEADER.length, index: 2, resume: { offset: HEADER.length } },
    });
  });

  it('validates a file in slices: previews its first errors, lists every part written, and logs each stop', async () => {
    // Prepare: three clean rows, then eight rows with one error each
    const content = [
      HEADER,
      goodRow(1),
      goodRow(2),
      goodRow(3),
      ...[4, 5, 6, 7, 8, 9, 10, 11].map(badRow),
    ].join('');
    const store = new RangeStore(Buffer.from(content), 16);
    const request = req('orders/a.csv', { size: content.length });
    const deps = depsOf(store);
    const oracle = await allErrors(content);

    // Act
    const runs: SliceProgress[] = [];
    let out = await validateIngest({ request, executionName: 'run', slice: { bytes: 150, index: 1 } }, deps);
    while (!out.done) {
      runs.push(out);
      out = await validateIngest(out, deps);
    }

    // Assess: every slice hands over its progress
    expect(oracle).toHaveLength(8);
    expect(runs.length).toBeGreaterThan(2);
    const failureKey = `orders/ingest_date=${DATE}/a.${versionTag(request)}.csv`;
    const part = (n: number) => `${failureKey}.errors.${String(n).padStart(5, '0')}.jsonl`;
    const written = [...store.lines.keys()].map((k) => Number(/\.errors\.(\d{5})\.jsonl$/.exec(k)![1]));
    runs.forEach((run, k) => {
      expect(run.slice.index).toBe(k + 2);
      expect(run.slice.bytes).toBe(150);
      expect(run.slice.errorSlices).toEqual(written.filter((n) => n <= k + 1));
      expect(run.slice.preview).toEqual(oracle.slice(0, Math.min(run.errorCount, STATE_ERRORS)));
      // Each run reads on from the previous checkpoint for at least a slice's bytes.
      expect(run.bytes - (k === 0 ? 0 : runs[k - 1]!.slice.resume!.offset)).toBeGreaterThanOrEqual(150);
    });
    expect(runs[0]).toMatchObject({ errorCount: 0, slice: { errorSlices: [], preview: [] } });
    expect(runs.at(-1)!.errorCount).toBeGreaterThan(STATE_ERRORS);
    // The verdict: the report previews the first errors of the file, not those of the last slice.
    expect(out).toMatchObject({ valid: false, reason: 'invalid_rows', rows: 11, errorCount: 8 });
    const report = store.report(out);
    expect(report.errors).toEqual(oracle.slice(0, STATE_ERRORS));
    expect(report.truncated).toBe(true);
    expect(report.errorFiles).toEqual(written.map((n) => ({ bucket: 'failure', key: part(n) })));
    expect(written[0]).toBeGreaterThan(1);
    expect(report.errorFiles.flatMap((f) => store.lines.get(`failure/${f.key}`)!)).toEqual(oracle);
    // What an operator reads in the logs: one line per slice that stopped, then the verdict.
    expect(deps.log.lines.map((l) => l.message)).toEqual([
      ...runs.map(() => 'validation stopped: the next slice goes on from its checkpoint'),
      'file rejected: copied to the failure zone',
    ]);
    runs.forEach((run, k) => {
      expect(deps.log.lines[k]!.attributes).toEqual({
        source: request,
        slice: k + 1,
        offset: run.slice.resume!.offset,
        rows: run.rows,
        errorCount: run.errorCount,
      });
    });
  });

  it.each([
    [5 * 60_000 - 1, false],
    [5 * 60_000, true],
  ])(
    'with %i ms left, hands over to slices (no byte limit) unless five minutes remain: done %s',
    async (left, done) => {
      // Prepare
      const content = HEADER + goodRow(1) + goodRow(2);
      const store = new RangeStore(Buffer.from(content), 16);
      const input: ValidateTaskInput = { request: req('orders/a.csv'), executionName: 'run' };

      // Act
      const out = await validateIngest(input, depsOf(store, { remainingMs: () => left }));

      // Assess
      if (done) expect(out).toMatchObject({ done: true, valid: true, rows: 2 });
      else
        expect(out).toMatchObject({
          done: false,
          slice: { bytes: Number.MAX_SAFE_INTEGER, index: 2, errorSlices: [], preview: [] },
        });
    },
  );
});
