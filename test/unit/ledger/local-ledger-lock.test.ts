/**
 * One process serves a lake's ledger (LevelDB takes a lock): `ledger.lock` names it, another
 * process waits for it, a lock left by a process that died is taken over, and this process never
 * waits for itself.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LedgerBusyError, serveLocalLedger } from '../../../lib/local/ledger.ts';

const folder = async () => join(await mkdtemp(join(tmpdir(), 'ledger-lock-')), 'ledger');

describe('the local ledger lock', () => {
  it('names the serving process and its endpoint, and is gone once it closes', async () => {
    // Prepare
    const dir = await folder();

    // Act
    const ledger = await serveLocalLedger(dir);
    const lock = JSON.parse(await readFile(`${dir}.lock`, 'utf8')) as { pid: number; endpoint: string };
    await ledger.close();

    // Assess
    expect(lock).toMatchObject({ pid: process.pid, endpoint: ledger.endpoint });
    await expect(readFile(`${dir}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses at once a second serve in the same process rather than wait for itself', async () => {
    // Prepare
    const dir = await folder();
    const first = await serveLocalLedger(dir);
    try {
      // Act
      const started = Date.now();
      const second = serveLocalLedger(dir, { waitMs: 60_000 });

      // Assess
      await expect(second).rejects.toBeInstanceOf(LedgerBusyError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await first.close();
    }
  });

  it('takes over a lock whose process has died, and keeps the items it served', async () => {
    // Prepare: a lock naming a pid that no longer runs.
    const dir = await folder();
    const first = await serveLocalLedger(dir);
    await first.close();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    await writeFile(`${dir}.lock`, JSON.stringify({ pid: dead.pid, endpoint: 'http://127.0.0.1:1' }));

    // Act
    const ledger = await serveLocalLedger(dir, { waitMs: 1_000 });

    // Assess
    expect(ledger.tableName).toBe('csvlake-dev-ledger');
    await ledger.close();
  });

  it('takes over a lock left empty (its process died between creating and writing it)', async () => {
    // Prepare
    const dir = await folder();
    await writeFile(`${dir}.lock`, '');

    // Act
    const ledger = await serveLocalLedger(dir, { waitMs: 5_000 });

    // Assess
    expect(JSON.parse(await readFile(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await ledger.close();
  });

  it('waits while another live process holds it, then names that process', async () => {
    // Prepare: a live process as the holder.
    const dir = await folder();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      await writeFile(`${dir}.lock`, JSON.stringify({ pid: holder.pid, endpoint: 'http://127.0.0.1:1' }));

      // Act
      const started = Date.now();
      const serving = serveLocalLedger(dir, { waitMs: 700 });

      // Assess
      await expect(serving).rejects.toThrow(`another process (pid ${holder.pid})`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    } finally {
      holder.kill();
    }
  });
});
