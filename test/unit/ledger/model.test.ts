/** The ledger model's pure parts: an item read back, a version named, a status ended. */
import { describe, expect, it } from 'vitest';
import {
  ATTR,
  fromAttributes,
  isTerminal,
  LEDGER_STATUSES,
  ledgerVersion,
} from '../../../lib/ledger/model.ts';

describe('fromAttributes', () => {
  it('reads every attribute the workflow writes, by name, numbers as numbers', () => {
    // Arrange: an item as lib-dynamodb returns a CURATED one.
    const stored = {
      [ATTR.key]: 'orders/a.csv',
      [ATTR.version]: 'v1',
      [ATTR.dataset]: 'orders',
      [ATTR.bucket]: 'landing',
      [ATTR.size]: 1234,
      [ATTR.status]: 'CURATED',
      [ATTR.rank]: 3,
      [ATTR.execution]: 'orders-a_csv-0123',
      [ATTR.executionStartedAt]: '2026-12-02T08:00:00.000Z',
      [ATTR.receivedAt]: '2026-12-02T08:00:00.100Z',
      [ATTR.validatedAt]: '2026-12-02T08:00:01.000Z',
      [ATTR.curatedAt]: '2026-12-02T08:00:03.000Z',
      [ATTR.updatedAt]: '2026-12-02T08:00:03.000Z',
      [ATTR.rows]: 17,
      [ATTR.errorCount]: 0,
      [ATTR.raw]: 's3://raw/orders/a.csv',
      [ATTR.curated]: 's3://curated/orders/iceberg/data/ingest_date=2026-12-02/',
      [ATTR.snapshotId]: '9223372036854775807',
      [ATTR.engine]: 'lambda',
    };

    // Act
    const item = fromAttributes(stored);

    // Assess
    expect(item).toEqual({
      key: 'orders/a.csv',
      version: 'v1',
      dataset: 'orders',
      bucket: 'landing',
      size: 1234,
      status: 'CURATED',
      execution: 'orders-a_csv-0123',
      executionStartedAt: '2026-12-02T08:00:00.000Z',
      receivedAt: '2026-12-02T08:00:00.100Z',
      validatedAt: '2026-12-02T08:00:01.000Z',
      curatedAt: '2026-12-02T08:00:03.000Z',
      updatedAt: '2026-12-02T08:00:03.000Z',
      rows: 17,
      errorCount: 0,
      raw: 's3://raw/orders/a.csv',
      curated: 's3://curated/orders/iceberg/data/ingest_date=2026-12-02/',
      // A 64-bit id, exact: a string, never a number.
      snapshotId: '9223372036854775807',
      engine: 'lambda',
    });
  });

  it('leaves out what an item lacks or holds in another type, rather than inventing it', () => {
    // Act: a RECEIVED item, and a rows attribute that is text.
    const item = fromAttributes({
      [ATTR.key]: 'orders/b.csv',
      [ATTR.version]: 'etag:e',
      [ATTR.status]: 'RECEIVED',
      [ATTR.rows]: '17',
    });

    // Assess
    expect(item).not.toHaveProperty('rows');
    for (const absent of [
      'errorCount',
      'reason',
      'raw',
      'failure',
      'report',
      'curated',
      'engine',
      'failedAt',
    ])
      expect(item).not.toHaveProperty(absent);
    expect(item).toMatchObject({ key: 'orders/b.csv', version: 'etag:e', status: 'RECEIVED', size: 0 });
  });
});

describe('ledgerVersion', () => {
  it('is the version id, or the ETag where the bucket keeps no versions', () => {
    expect(ledgerVersion({ versionId: 'v1', etag: 'e' })).toBe('v1');
    expect(ledgerVersion({ versionId: null, etag: 'e' })).toBe('etag:e');
  });
});

describe('isTerminal', () => {
  it('holds for REJECTED, CURATED and FAILED only, and not for no status', () => {
    expect(LEDGER_STATUSES.filter(isTerminal)).toEqual(['REJECTED', 'CURATED', 'FAILED']);
    expect(isTerminal(undefined)).toBe(false);
  });
});
