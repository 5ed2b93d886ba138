/**
 * The owner of a local execution: a RUNNING record reads as ABORTED once its process is gone,
 * including when the system has given its pid to another process since.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IngestRequest } from '../../lambdas/shared/contract.ts';
import {
  type ExecutionRecord,
  ExecutionRecords,
  LakeBusyError,
  ownerAlive,
  RUNTIME_DIED,
  thisProcess,
} from '../../lib/local/executions.ts';

const request = { dataset: 'orders', key: 'orders/a.csv' } as IngestRequest;

/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('execution owners', () => {
  it('this process is alive; an ended one is not; nor a live pid with another start time', () => {
    const me = thisProcess();
    expect(me.pid).toBe(process.pid);
    expect(me.since).toMatch(/^\d+$/); // Linux: /proc is there
    expect(ownerAlive(me)).toBe(true);
    expect(ownerAlive({ pid: deadPid() })).toBe(false);
    // The pid is ours, but the process that started the execution started at another time.
    expect(ownerAlive({ pid: process.pid, since: '1' })).toBe(false);
    expect(ownerAlive({ pid: process.pid })).toBe(true);
  });

  it('a RUNNING record of a dead owner reads as ABORTED with the task it was in; a live one stays RUNNING', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'records-'));
    const dead = new ExecutionRecords(dir, { pid: deadPid() });
    const live = new ExecutionRecords(dir);
    await dead.claim('e-dead', request);
    await live.claim('e-live', request);
    // The dead owner had started its conversion.
    const record = JSON.parse(await readFile(join(dir, 'e-dead.json'), 'utf8')) as ExecutionRecord;
    await dead.save({ ...record, task: 'ConvertToParquet' });

    const aborted = await live.get('e-dead');
    expect(aborted).toMatchObject({
      status: 'ABORTED',
      outcome: 'failed',
      error: {
        name: RUNTIME_DIED,
        message: `the process running it (pid ${aborted?.owner?.pid}) ended in state ConvertToParquet; \`datalake reconcile --redrive\` runs it again`,
      },
    });
    expect((await dead.get('e-live'))?.status).toBe('RUNNING');
    expect((await live.list()).map((r) => [r.name, r.status]).sort()).toEqual([
      ['e-dead', 'ABORTED'],
      ['e-live', 'RUNNING'],
    ]);
    // Retired, it can be claimed again (a re-drive), by a live owner.
    await live.retire('e-dead');
    expect(await live.claim('e-dead', request)).toBe(true);
    expect((await live.get('e-dead'))?.status).toBe('RUNNING');
  });

  it('a record that ended stays as it ended, whoever owned it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'records-'));
    const dead = new ExecutionRecords(dir, { pid: deadPid() });
    await dead.claim('e', request);
    const record = (await dead.get('e'))!;
    await dead.save({ ...record, status: 'SUCCEEDED', outcome: 'curated' });
    expect(await dead.get('e')).toMatchObject({ status: 'SUCCEEDED', outcome: 'curated' });
  });
});

describe('the re-drive lock', () => {
  it('one holder at a time: a second is refused naming the first; a dead holder is taken over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'records-'));
    const live = new ExecutionRecords(dir);
    const dead = new ExecutionRecords(dir, { pid: deadPid() });

    // Held by a live process: a second is refused while the first works, then admitted.
    const second = await live.exclusively(() =>
      live.exclusively(async () => 'nested').catch((e: Error) => e),
    );
    expect(second).toBeInstanceOf(LakeBusyError);
    expect((second as Error).message).toBe(
      `another reconcile --redrive is running on this lake (pid ${process.pid}): let it finish`,
    );
    expect(await live.exclusively(async () => 'after')).toBe('after');

    // Left by a process that died (its lock file stays behind): taken over.
    await writeFile(join(dir, 'redrive.lock'), JSON.stringify({ pid: deadPid() }));
    expect(await dead.exclusively(async () => 'taken over')).toBe('taken over');
  });
});
