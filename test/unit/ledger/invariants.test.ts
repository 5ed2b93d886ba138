/** The soak's ledger checks (bench/ledger-invariants.ts): what counts as moving back, and the end state. */
import { describe, expect, it } from 'vitest';
import { backwardsMove, checkLedger, type ScannedItem } from '../../../bench/ledger-invariants.ts';
import type { LedgerStatus } from '../../../lib/ledger/model.ts';
import { STATUS_RANK } from '../../../lib/ledger/model.ts';
import type { ExecutionRecord } from '../../../lib/local/executions.ts';

const seen = (startedAt: string, status: LedgerStatus) => ({ startedAt, rank: STATUS_RANK[status], status });

describe('backwardsMove', () => {
  it.each([
    [seen('t1', 'RECEIVED'), seen('t1', 'VALIDATED')],
    [seen('t1', 'VALIDATED'), seen('t1', 'CURATED')],
    [seen('t1', 'CURATED'), seen('t1', 'CURATED')],
    [seen('t1', 'FAILED'), seen('t2', 'RECEIVED')],
  ])('lets %o move to %o', (last, now) => {
    // Act / Assess
    expect(backwardsMove(last, now)).toBeUndefined();
  });

  it.each([
    [seen('t1', 'VALIDATED'), seen('t1', 'RECEIVED'), /within one attempt/],
    [seen('t1', 'CURATED'), seen('t1', 'FAILED'), /CURATED → FAILED/],
    [seen('t2', 'RECEIVED'), seen('t1', 'FAILED'), /older attempt/],
  ])('catches %o moving back to %o', (last, now, why) => {
    // Act / Assess
    expect(backwardsMove(last, now)).toMatch(why);
  });
});

describe('checkLedger', () => {
  const item = (key: string, status: LedgerStatus, execution: string): ScannedItem => ({
    key,
    version: 'etag:e',
    dataset: 'orders',
    bucket: 'landing',
    size: 1,
    status,
    rank: STATUS_RANK[status],
    execution,
    executionStartedAt: 't1',
    receivedAt: 't1',
    updatedAt: 't1',
  });
  const record = (name: string, outcome: ExecutionRecord['outcome']) =>
    ({ name, outcome, status: 'SUCCEEDED' }) as ExecutionRecord;
  const landed = (key: string) => ({ key, size: 1, etag: 'e', versionId: null });

  it('counts a landed version without an item, a non-terminal item and a status its execution disagrees with', () => {
    // Arrange
    const items = [item('a', 'CURATED', 'ea'), item('b', 'VALIDATED', 'eb'), item('c', 'FAILED', 'ec')];
    const records = [record('ea', 'curated'), record('eb', 'curated'), record('ec', 'rejected')];

    // Act
    const figures = checkLedger(items, [landed('a'), landed('b'), landed('d')], records);

    // Assess
    expect(figures).toMatchObject({
      items: 3,
      landedWithItem: 2,
      landedWithoutItem: 1,
      itemsNotLanded: 1,
      curatedItems: 1,
      failedItems: 1,
      nonTerminalItems: 1,
      statusDisagrees: 2,
    });
    expect(figures.problems).toEqual([
      'd etag:e: landed, no item',
      'b etag:e: VALIDATED after the reconciler',
      'b etag:e: VALIDATED, but its execution eb ended curated',
      'c etag:e: FAILED, but its execution ec ended rejected',
    ]);
  });

  it('finds nothing wrong in a ledger that agrees with landing and the executions', () => {
    // Arrange / Act
    const figures = checkLedger([item('a', 'REJECTED', 'ea')], [landed('a')], [record('ea', 'rejected')]);

    // Assess
    expect(figures.problems).toEqual([]);
    expect(figures.rejectedItems).toBe(1);
  });
});
