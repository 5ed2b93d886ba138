import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IngestRequest } from '../../../lambdas/shared/contract.ts';
import {
  datasetOf,
  decodeKey,
  type ExecutionStarter,
  encodeKey,
  executionName,
  MAX_EXECUTION_NAME,
  startIngests,
  toIngestRequest,
} from '../../../lambdas/trigger/core.ts';
import { type RecordSpec, recordingLog, s3EncodeKey, s3Record } from './helpers.ts';

/** An in-memory Step Functions: names it has seen are duplicates; listed keys fail. */
function fakeStarter(failKeys: string[] = []): ExecutionStarter & {
  readonly calls: { name: string; input: IngestRequest }[];
} {
  const calls: { name: string; input: IngestRequest }[] = [];
  const seen = new Set<string>();
  return {
    calls,
    async startExecution(name, input) {
      calls.push({ name, input });
      if (failKeys.includes(input.key)) throw new Error(`throttled on ${input.key}`);
      if (seen.has(name)) return 'duplicate';
      seen.add(name);
      return 'started';
    },
  };
}

const LEGAL_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function request(spec: RecordSpec): IngestRequest {
  const req = toIngestRequest(s3Record(spec));
  if (!req) throw new Error(`no request for ${spec.key}`);
  return req;
}

describe('decodeKey', () => {
  it.each([
    ['orders/my+file.csv', 'orders/my file.csv'],
    ['orders/a%2Bb.csv', 'orders/a+b.csv'],
    ['orders/caf%C3%A9.csv', 'orders/café.csv'],
    ['orders/2024%2F01.csv', 'orders/2024/01.csv'],
    ['orders/plain.csv', 'orders/plain.csv'],
  ])('decodes %s to %s', (encoded, decoded) => {
    // Act
    const key = decodeKey(encoded);

    // Assess
    expect(key).toBe(decoded);
  });
});

describe('toIngestRequest', () => {
  it('builds the canonical request: decoded key, dataset, version, unquoted etag, size', () => {
    // Prepare
    const record = s3Record({
      key: 'orders/2024/caf%C3%A9+%2B1.csv',
      versionId: 'v1',
      eTag: '"abc"',
      size: 42,
    });

    // Act
    const req = toIngestRequest(record);

    // Assess
    expect(req).toEqual({
      bucket: 'landing',
      key: 'orders/2024/café +1.csv',
      versionId: 'v1',
      etag: 'abc',
      size: 42,
      dataset: 'orders',
      version: 'v1',
    });
  });

  it('uses null for a missing version id and the dataset "no-dataset" for a key without a folder', () => {
    // Act
    const req = toIngestRequest(s3Record({ key: 'loose.csv', eTag: 'e1' }));

    // Assess
    expect(req).toEqual({
      bucket: 'landing',
      key: 'loose.csv',
      versionId: null,
      etag: 'e1',
      size: 1234,
      dataset: 'no-dataset',
      version: 'etag:e1',
    });
  });

  it('gives a key with a leading slash the dataset "no-dataset", not an empty one', () => {
    // An empty dataset would be an empty SNS message attribute, which SNS refuses.
    // Act
    const req = toIngestRequest(s3Record({ key: '/loose.csv', versionId: 'v1' }));

    // Assess
    expect(req?.dataset).toBe('no-dataset');
    expect(datasetOf('/orders/a.csv')).toBe('no-dataset');
    expect(datasetOf('orders/a.csv')).toBe('orders');
  });

  it('ingests an empty object whose key does not end in "/": the validator says it is empty', () => {
    const req = toIngestRequest(s3Record({ key: 'orders/empty.csv', size: 0, versionId: 'v1' }));
    expect(req).toMatchObject({ key: 'orders/empty.csv', size: 0, dataset: 'orders' });
  });

  it('returns null for a folder marker: an empty object whose key ends in "/"', () => {
    // Act
    const req = toIngestRequest(s3Record({ key: 'orders/2024/', size: 0 }));

    // Assess
    expect(req).toBeNull();
  });

  it('builds a request for an object ending in "/" that holds data, which must reach the failure zone', () => {
    // Act
    const req = toIngestRequest(
      s3Record({ key: 'orders/with%20body/', size: 1, versionId: 'v1', eTag: 'e1' }),
    );

    // Assess
    expect(req).toEqual({
      bucket: 'landing',
      key: 'orders/with body/',
      versionId: 'v1',
      etag: 'e1',
      size: 1,
      dataset: 'orders',
      version: 'v1',
    });
    expect(executionName(req!)).toMatch(/^orders-[0-9a-f]{32}$/);
  });
});

describe('executionName', () => {
  it('is a readable prefix, a dash and 32 hex characters', () => {
    // Act
    const name = executionName(request({ key: 'orders/daily+export.csv', versionId: 'v1' }));

    // Assess
    expect(name).toMatch(/^orders-daily_export_csv-[0-9a-f]{32}$/);
  });

  it('stays legal and at most 80 characters for a 1,000-character unicode key', () => {
    // Prepare
    const key = `${Array.from(`données/${'é🚀 ç/'.repeat(250)}`)
      .slice(0, 999)
      .join('')}x`;
    const spec = { key: s3EncodeKey(key), versionId: 'v1' };

    // Act
    const name = executionName(request(spec));

    // Assess
    expect(Array.from(key)).toHaveLength(1000);
    expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME);
    expect(name).toMatch(LEGAL_NAME);
    expect(name.startsWith('donnees-')).toBe(true);
  });

  it('is legal for a key made only of characters the name cannot carry', () => {
    // Act
    const name = executionName(request({ key: '%F0%9F%9A%80.csv' }));

    // Assess
    expect(name).toMatch(LEGAL_NAME);
  });

  it('leaves an empty part out of the readable prefix instead of doubling the dash', () => {
    // Prepare: a listing entry without a key (the reconciler reads a missing Key as '') has no
    // file name; its prefix is the dataset alone, exactly as documented: "<dataset>-<file>" without
    // empty parts.
    const req = toIngestRequest(s3Record({ key: '', versionId: 'v1' }));

    // Act
    const name = executionName(req!);

    // Assess
    expect(name).toBe(
      `no-dataset-${createHash('sha256').update('["landing","","version","v1"]').digest('hex').slice(0, 32)}`,
    );
  });

  it('is identical for identical objects, whatever the delivery', () => {
    // Prepare
    const first = request({ key: 'orders/a.csv', versionId: 'v1', eventTime: '2024-03-01T10:00:00Z' });
    const second = request({ key: 'orders/a.csv', versionId: 'v1', eventTime: '2024-03-01T10:05:00Z' });

    // Act
    const names = [executionName(first), executionName(second)];

    // Assess
    expect(names[0]).toBe(names[1]);
  });

  it.each<[string, RecordSpec, RecordSpec]>([
    ['versions', { key: 'orders/a.csv', versionId: 'v1' }, { key: 'orders/a.csv', versionId: 'v2' }],
    ['etags without versions', { key: 'orders/a.csv', eTag: 'e1' }, { key: 'orders/a.csv', eTag: 'e2' }],
    ['keys', { key: 'orders/a.csv', versionId: 'v1' }, { key: 'orders/b.csv', versionId: 'v1' }],
    [
      'buckets',
      { key: 'orders/a.csv', versionId: 'v1', bucket: 'one' },
      { key: 'orders/a.csv', versionId: 'v1', bucket: 'two' },
    ],
  ])('differs for different %s', (_what, a, b) => {
    // Act
    const names = [executionName(request(a)), executionName(request(b))];

    // Assess
    expect(names[0]).not.toBe(names[1]);
  });

  it('differs for long keys that share the prefix the name keeps', () => {
    // Prepare
    const long = `orders/${'x'.repeat(100)}`;

    // Act
    const names = [
      executionName(request({ key: `${long}1.csv`, versionId: 'v1' })),
      executionName(request({ key: `${long}2.csv`, versionId: 'v1' })),
    ];

    // Assess
    expect(names[0]!.slice(0, 47)).toBe(names[1]!.slice(0, 47));
    expect(names[0]).not.toBe(names[1]);
  });
});

/**
 * Names already given to executions: a change of hash input, hash length or format would orphan
 * every one of them (the reconciler would see each landed file as never started and run it again),
 * so each is pinned as a literal and derived here from the documented scheme, independently of the
 * code: `<prefix>-<first 32 hex of sha256(JSON [bucket, key, "version", versionId])>`, with
 * `"etag", etag` when there is no version id, and the prefix `<dataset>-<file name>` with accents
 * stripped, other runs of characters outside `[A-Za-z0-9_-]` as `_`, cut to 80 - 33 = 47.
 */
const GOLDEN_NAMES: readonly {
  readonly what: string;
  readonly spec: RecordSpec;
  /** The readable prefix, worked out by hand from the key. */
  readonly prefix: string;
  /** The exact JSON the digest is taken of, written out by hand. */
  readonly hashed: string;
  readonly name: string;
}[] = [
  {
    what: 'a plain key with an S3 version id',
    spec: { key: 'orders/2024/03/orders-2024-03-01.csv', versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' },
    prefix: 'orders-orders-2024-03-01_csv',
    hashed:
      '["landing","orders/2024/03/orders-2024-03-01.csv","version","3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"]',
    name: 'orders-orders-2024-03-01_csv-72d962a97622b8d0c210d01c5ffa8533',
  },
  {
    what: 'a key with spaces, a plus, an accent inside a word and an emoji',
    spec: { key: s3EncodeKey('orders/Zürich Q1 + 😀.csv'), versionId: 'v1' },
    prefix: 'orders-Zurich_Q1_csv',
    hashed: '["landing","orders/Zürich Q1 + 😀.csv","version","v1"]',
    name: 'orders-Zurich_Q1_csv-0fdb1b68bf166899c1feacc46281e562',
  },
  {
    what: 'a key too long for the name, cut to 80 characters',
    spec: { key: `sensor_readings/${'a'.repeat(120)}.csv`, versionId: 'v1' },
    prefix: `sensor_readings-${'a'.repeat(31)}`,
    hashed: `["landing","sensor_readings/${'a'.repeat(120)}.csv","version","v1"]`,
    name: 'sensor_readings-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1f60ba128e00769ba55bf47b456a5f23',
  },
  {
    what: 'an unversioned bucket: the ETag, unquoted, pins the object',
    spec: { key: 'orders/a.csv', eTag: '"0123456789abcdef0123456789abcdef"' },
    prefix: 'orders-a_csv',
    hashed: '["landing","orders/a.csv","etag","0123456789abcdef0123456789abcdef"]',
    name: 'orders-a_csv-d23192b3ad9dc19680ac3d9d0c423bab',
  },
  {
    what: 'the same key and version in the landing bucket',
    spec: { key: 'orders/a.csv', versionId: 'v1', bucket: 'landing' },
    prefix: 'orders-a_csv',
    hashed: '["landing","orders/a.csv","version","v1"]',
    name: 'orders-a_csv-5c19427031559f49e486d71a1937815b',
  },
  {
    what: 'the same key and version in another bucket',
    spec: { key: 'orders/a.csv', versionId: 'v1', bucket: 'landing-eu' },
    prefix: 'orders-a_csv',
    hashed: '["landing-eu","orders/a.csv","version","v1"]',
    name: 'orders-a_csv-a9adc991daea0d43d893868c3e101817',
  },
  {
    what: 'a key without a folder',
    spec: { key: 'loose.csv', versionId: 'v1' },
    prefix: 'no-dataset-loose_csv',
    hashed: '["landing","loose.csv","version","v1"]',
    name: 'no-dataset-loose_csv-d3888722d570916c3348c9a9730452bd',
  },
  {
    what: 'a key of characters the name cannot carry',
    spec: { key: '%F0%9F%9A%80.csv' },
    prefix: 'no-dataset-_csv',
    hashed: '["landing","🚀.csv","etag","0123456789abcdef0123456789abcdef"]',
    name: 'no-dataset-_csv-e702349713f26a0d0b4878ca39391ca5',
  },
];

describe('executionName, pinned', () => {
  it.each(GOLDEN_NAMES.map((g) => [g.what, g] as const))(
    '%s: the name every delivery got so far',
    (_what, g) => {
      // Act
      const name = executionName(request(g.spec));

      // Assess
      expect(name).toBe(g.name);
    },
  );

  it.each(GOLDEN_NAMES.map((g) => [g.what, g] as const))(
    '%s: the documented scheme gives the pinned name',
    (_what, g) => {
      // Act: the scheme computed here, from the inputs written out by hand.
      const digest = createHash('sha256').update(g.hashed, 'utf8').digest('hex');
      const derived = `${g.prefix}-${digest.slice(0, 32)}`;

      // Assess
      expect(derived).toBe(g.name);
      expect(g.name).toMatch(LEGAL_NAME);
    },
  );
});

describe('startIngests', () => {
  it('starts one execution per object with the canonical request as input', async () => {
    // Prepare
    const starter = fakeStarter();
    const log = recordingLog();
    const records = [
      s3Record({ key: 'orders/a+b.csv', versionId: 'v1' }),
      s3Record({ key: 'sensor_readings/x%2By.csv', versionId: 'v2' }),
    ];

    // Act
    const summary = await startIngests(records, { starter, log });

    // Assess
    expect(summary).toEqual({ started: 2, duplicates: 0, skipped: 0 });
    expect(starter.calls.map((c) => c.input.key)).toEqual(['orders/a b.csv', 'sensor_readings/x+y.csv']);
    expect(starter.calls.map((c) => c.name)).toEqual([
      'orders-a_b_csv-d24449dbc526a91ed317c3c5a8a2b14a',
      'sensor_readings-x_y_csv-2ea04a5d84e90726f29123e6a8d6d4b7',
    ]);
  });

  it('skips empty folder markers with a log line and starts nothing for them', async () => {
    // Prepare
    const starter = fakeStarter();
    const log = recordingLog();

    // Act
    const summary = await startIngests(
      [s3Record({ key: 'orders/2024%2F03/', size: 0 }), s3Record({ key: 'orders/full/', size: 7 })],
      { starter, log },
    );

    // Assess: the empty marker is skipped; the one holding data is started, to be filed as failed
    expect(summary).toEqual({ started: 1, duplicates: 0, skipped: 1 });
    expect(starter.calls.map((c) => c.input.key)).toEqual(['orders/full/']);
    expect(log.lines).toContainEqual({
      level: 'info',
      message: 'skipping a folder marker',
      attributes: { bucket: 'landing', key: 'orders/2024/03/' },
    });
  });

  it('skips records that are not object creations', async () => {
    // Prepare
    const starter = fakeStarter();
    const log = recordingLog();

    // Act
    const summary = await startIngests(
      [s3Record({ key: 'orders/a.csv', eventName: 'ObjectRemoved:Delete' })],
      {
        starter,
        log,
      },
    );

    // Assess
    expect(summary.skipped).toBe(1);
    expect(starter.calls).toHaveLength(0);
    expect(log.lines).toEqual([
      {
        level: 'info',
        message: 'skipping a record that is not an object creation',
        attributes: { eventName: 'ObjectRemoved:Delete', rawKey: 'orders/a.csv' },
      },
    ]);
  });

  it('counts a duplicate delivery as success and logs it', async () => {
    // Prepare
    const starter = fakeStarter();
    const log = recordingLog();
    const record = s3Record({ key: 'orders/a.csv', versionId: 'v1' });
    await startIngests([record], { starter, log: recordingLog() });

    // Act
    const summary = await startIngests([{ ...record, eventTime: '2024-03-01T11:00:00Z' }], { starter, log });

    // Assess
    expect(summary).toEqual({ started: 0, duplicates: 1, skipped: 0 });
    expect(starter.calls[1]!.input).toEqual(starter.calls[0]!.input);
    expect(log.lines).toEqual([
      {
        level: 'info',
        message: 'execution exists already: a duplicate delivery',
        attributes: { executionName: starter.calls[0]!.name, request: starter.calls[0]!.input },
      },
    ]);
  });

  it('logs each started execution with its name and request', async () => {
    // Prepare
    const starter = fakeStarter();
    const log = recordingLog();

    // Act
    await startIngests([s3Record({ key: 'orders/a+b.csv', versionId: 'v1' })], { starter, log });

    // Assess
    expect(log.lines).toEqual([
      {
        level: 'info',
        message: 'execution started',
        attributes: {
          executionName: 'orders-a_b_csv-d24449dbc526a91ed317c3c5a8a2b14a',
          request: {
            bucket: 'landing',
            key: 'orders/a b.csv',
            versionId: 'v1',
            etag: '0123456789abcdef0123456789abcdef',
            size: 1234,
            dataset: 'orders',
            version: 'v1',
          },
        },
      },
    ]);
  });

  it('attempts every record, then throws one error naming each record that failed', async () => {
    // Prepare
    const starter = fakeStarter(['orders/b.csv']);
    const log = recordingLog();
    const records = ['orders/a.csv', 'orders/b.csv', 'orders/c.csv'].map((key) => s3Record({ key }));

    // Act
    const act = startIngests(records, { starter, log });

    // Assess
    await expect(act).rejects.toThrow(
      'could not start 1 of 3 executions: "orders/b.csv" (Error: throttled on orders/b.csv)',
    );
    await expect(act).rejects.toBeInstanceOf(AggregateError);
    expect(starter.calls.map((c) => c.input.key)).toEqual(['orders/a.csv', 'orders/b.csv', 'orders/c.csv']);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'could not start an execution',
        attributes: { rawKey: 'orders/b.csv', error: 'Error: throttled on orders/b.csv' },
      },
    ]);
  });

  it('names every failed record in one message and carries each cause', async () => {
    // Prepare
    const starter = fakeStarter(['orders/a.csv', 'orders/c.csv']);
    const records = ['orders/a.csv', 'orders/b.csv', 'orders/c.csv'].map((key) => s3Record({ key }));

    // Act
    const error = await startIngests(records, { starter, log: recordingLog() }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AggregateError);
    const aggregate = error as AggregateError;
    expect(aggregate.message).toBe(
      'could not start 2 of 3 executions: "orders/a.csv" (Error: throttled on orders/a.csv), ' +
        '"orders/c.csv" (Error: throttled on orders/c.csv)',
    );
    expect(aggregate.errors.map((e: Error) => e.message)).toEqual([
      'throttled on orders/a.csv',
      'throttled on orders/c.csv',
    ]);
  });

  it('reports a malformed key escape as a failed record, not a crash of the others', async () => {
    // Prepare
    const starter = fakeStarter();
    const records = [s3Record({ key: 'orders/bad%E0.csv' }), s3Record({ key: 'orders/good.csv' })];

    // Act
    const act = startIngests(records, { starter, log: recordingLog() });

    // Assess
    await expect(act).rejects.toThrow(/could not start 1 of 2 executions: "orders\/bad%E0\.csv" \(URIError/);
    expect(starter.calls.map((c) => c.input.key)).toEqual(['orders/good.csv']);
  });
});

describe('encodeKey', () => {
  it.each(['orders/plain.csv', 'orders/a b+c.csv', 'orders/100% é 😀.csv', 'orders/x&y=z?.csv'])(
    'encodes %s as S3 events do, and decodeKey gives it back',
    (key) => {
      const encoded = encodeKey(key);
      expect(encoded).not.toMatch(/ /);
      expect(encoded.split('/')).toHaveLength(key.split('/').length);
      expect(decodeKey(encoded)).toBe(key);
    },
  );
});
