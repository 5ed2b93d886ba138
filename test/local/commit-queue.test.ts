/**
 * The local twin of the FIFO commit queue: batches of at most ten per dataset, one batch in flight
 * per dataset, datasets side by side, task-token semantics (an output, or an Error named as the
 * outcome's), transient outcomes retried with backoff, conflicts counted. The commit function here
 * is a recorder the tests script: what is under test is the queue's scheduling, not the commit
 * (lambdas/commit/core.ts has its own tests against s3rver and real tables).
 */
import { describe, expect, it } from 'vitest';
import type { CommitOutcome } from '../../lambdas/commit/core.ts';
import type { CommitTaskInput, CommitTaskOutput } from '../../lambdas/shared/contract.ts';
import { type CommitFn, CommitQueue } from '../../lib/local/commit-queue.ts';

const input = (dataset: string, n: number): CommitTaskInput => ({
  dataset,
  runId: `run-${n}`,
  key: `${dataset}/f${n}.csv`,
  version: `v${n}`,
  ingestDate: '2026-12-02',
  rows: n,
  request: `s3://curated/_commits/${dataset}/run-${n}.json`,
});

const ok = (i: CommitTaskInput, snapshot: string): CommitOutcome => ({
  ok: {
    table: `local.${i.dataset}`,
    snapshotId: snapshot,
    sequenceNumber: 1,
    metadataLocation: 'm',
    location: 'l',
    files: 1,
    rows: i.rows,
    status: 'committed',
  },
});

/** A commit function that records each batch, holds it until released, and answers `answer`. */
function recorder(answer: (i: CommitTaskInput, call: number) => CommitOutcome = (i, c) => ok(i, `s${c}`)) {
  const calls: { dataset: string[]; runs: string[] }[] = [];
  let inFlight = new Map<string, number>();
  let maxInFlightPerDataset = 0;
  let maxDatasetsInFlight = 0;
  const commit: CommitFn = async (inputs, stats) => {
    const call = calls.length;
    calls.push({ dataset: inputs.map((i) => i.dataset), runs: inputs.map((i) => i.runId) });
    const ds = inputs[0]!.dataset;
    inFlight = new Map(inFlight).set(ds, (inFlight.get(ds) ?? 0) + 1);
    maxInFlightPerDataset = Math.max(maxInFlightPerDataset, ...inFlight.values());
    maxDatasetsInFlight = Math.max(maxDatasetsInFlight, [...inFlight.values()].filter((v) => v > 0).length);
    await new Promise((r) => setTimeout(r, 5));
    stats.onConflicts(1);
    inFlight.set(ds, (inFlight.get(ds) ?? 1) - 1);
    return inputs.map((i) => answer(i, call));
  };
  return {
    commit,
    calls,
    get maxInFlightPerDataset() {
      return maxInFlightPerDataset;
    },
    get maxDatasetsInFlight() {
      return maxDatasetsInFlight;
    },
  };
}

describe('CommitQueue', () => {
  it('batches the requests sent together, at most ten a batch, one batch in flight per dataset', async () => {
    // Prepare
    const rec = recorder();
    const queue = new CommitQueue(rec.commit);
    // Act: 25 requests of one dataset at once
    const outputs = await Promise.all(Array.from({ length: 25 }, (_, n) => queue.send(input('orders', n))));
    // Assess
    expect(rec.calls.map((c) => c.runs.length)).toEqual([10, 10, 5]);
    expect(rec.maxInFlightPerDataset).toBe(1);
    expect(new Set(rec.calls.flatMap((c) => c.runs)).size).toBe(25);
    // Each request gets its own batch's answer, in order.
    expect(outputs.map((o) => o.snapshotId)).toEqual([
      ...Array(10).fill('s0'),
      ...Array(10).fill('s1'),
      ...Array(5).fill('s2'),
    ]);
    expect(outputs.map((o) => o.rows)).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(queue.stats()).toMatchObject({
      requests: 25,
      batches: 3,
      largestBatch: 10,
      conflicts: 3,
      failed: 0,
    });
  });

  it('gathers what arrives while a batch is in flight into the next batch', async () => {
    const rec = recorder();
    const queue = new CommitQueue(rec.commit);
    const first = queue.send(input('orders', 0));
    await new Promise((r) => setTimeout(r, 1)); // the first batch is in flight
    const later = [1, 2, 3].map((n) => queue.send(input('orders', n)));
    await Promise.all([first, ...later]);
    expect(rec.calls.map((c) => c.runs)).toEqual([['run-0'], ['run-1', 'run-2', 'run-3']]);
  });

  it('keeps datasets apart: one batch per dataset, and datasets commit side by side', async () => {
    const rec = recorder();
    const queue = new CommitQueue(rec.commit);
    await Promise.all([
      ...[0, 1, 2].map((n) => queue.send(input('orders', n))),
      ...[3, 4].map((n) => queue.send(input('customers', n))),
    ]);
    expect(rec.calls.every((c) => new Set(c.dataset).size === 1)).toBe(true);
    expect(rec.calls).toHaveLength(2);
    expect(rec.maxDatasetsInFlight).toBe(2);
  });

  it('rejects a failed request with an Error named as its outcome, the others of its batch succeed', async () => {
    const rec = recorder((i, c) =>
      i.runId === 'run-1'
        ? { error: { name: 'DataFileError', message: 'no field ids in f1' }, transient: false }
        : ok(i, `s${c}`),
    );
    const queue = new CommitQueue(rec.commit);
    const [a, b] = await Promise.allSettled([queue.send(input('orders', 0)), queue.send(input('orders', 1))]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { snapshotId: 's0' } });
    expect(b.status).toBe('rejected');
    const error = (b as PromiseRejectedResult).reason as Error;
    expect(error.name).toBe('DataFileError');
    expect(error.message).toBe('no field ids in f1');
    // Not transient: not tried again.
    expect(rec.calls).toHaveLength(1);
    expect(queue.stats()).toMatchObject({ failed: 1, retries: 0 });
  });

  it('tries a transient outcome again after a backoff, and succeeds', async () => {
    const rec = recorder((i, c) =>
      c < 2 ? { error: { name: 'SlowDown', message: 'try later' }, transient: true } : ok(i, `s${c}`),
    );
    const queue = new CommitQueue(rec.commit, { backoffMs: 1 });
    const out = await queue.send(input('orders', 0));
    expect(out.snapshotId).toBe('s2');
    expect(rec.calls).toHaveLength(3);
    expect(queue.stats()).toMatchObject({ retries: 2, failed: 0 });
  });

  it('gives up on a transient outcome after its attempts, with the last error', async () => {
    const rec = recorder(() => ({
      error: { name: 'CommitConflictError', message: 'pointer moved' },
      transient: true,
    }));
    const queue = new CommitQueue(rec.commit, { backoffMs: 1, attempts: 3 });
    const act = queue.send(input('orders', 0));
    await expect(act).rejects.toMatchObject({ name: 'CommitConflictError', message: 'pointer moved' });
    expect(rec.calls).toHaveLength(3);
    expect(queue.stats()).toMatchObject({ retries: 2, failed: 1 });
  });

  it('redelivers the whole batch when the commit function itself throws', async () => {
    let call = 0;
    const queue = new CommitQueue(
      async (inputs) => {
        call++;
        if (call === 1) throw new Error('function crashed');
        return inputs.map((i) => ok(i, 'after'));
      },
      { backoffMs: 1 },
    );
    const outs: CommitTaskOutput[] = await Promise.all([
      queue.send(input('orders', 0)),
      queue.send(input('orders', 1)),
    ]);
    expect(outs.map((o) => o.snapshotId)).toEqual(['after', 'after']);
    expect(call).toBe(2);
  });
});
