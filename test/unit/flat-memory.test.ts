/**
 * Memory stays flat however long a record is. Its own file because it pushes 50 MB through the
 * validator: under Stryker's instrumentation that takes minutes, so `npm run mutation` leaves this
 * file out (bench/mutation.ts) while `npm test` runs it every time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CsvValidator } from '../../lib/validation/csv-validator.ts';
import { brief, NAME_QTY } from './tokenizer-harness.ts';

describe('records over maxRecordBytes, with flat memory', () => {
  it('skips a 50 MB line under the default cap in 64 KiB chunks with flat memory', () => {
    // Prepare: the big line is one reused 64 KiB buffer pushed 800 times, so the input itself
    // costs no memory and any growth is the validator's.
    const gc = collector();
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const head = Buffer.from('name,qty\nok,1\n');
    const tail = Buffer.from(',2\nafter,bad\nlast,3\n');
    const records: number[] = [];
    const validator = new CsvValidator(NAME_QTY, { onRecord: (_fields, line) => records.push(line) });
    gc();
    const before = memory();
    let peak = 0;

    // Act
    validator.push(head);
    for (let k = 0; k < 800; k++) {
      validator.push(chunk);
      if (k % 8 === 0) peak = Math.max(peak, memory() - before);
    }
    validator.push(tail);
    const result = validator.finish(head.length + 800 * chunk.length + tail.length, false);
    gc();
    peak = Math.max(peak, memory() - before);

    // Assess
    expect(brief(result)).toEqual([
      { line: 3, column: null, value: null, rule: 'record_too_large' },
      { line: 4, column: 'qty', value: 'bad', rule: 'type' },
    ]);
    expect(result.rows).toBe(4);
    expect(records).toEqual([1, 2, 4, 5]);
    expect(peak).toBeLessThan(20 * 1024 * 1024);
  });
});

/** JS heap plus Buffer memory, in bytes. */
function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * A way to force a garbage collection: the global gc (vitest.config.ts starts the workers with
 * `--expose-gc`), or one exposed through V8 flags. Without one the memory bound could not be
 * measured, and a test that skipped it would pass unchecked: so it throws.
 */
function collector(): () => void {
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') return global;
  setFlagsFromString('--expose-gc');
  const exposed: unknown = runInNewContext('gc');
  if (typeof exposed !== 'function')
    throw new Error('no gc(): run the tests with node --expose-gc (vitest.config.ts execArgv)');
  return () => (exposed as () => void)();
}
