/** `files --since`: the ledger's times are UTC, so a time given without a zone is UTC too. */
import { afterEach, describe, expect, it } from 'vitest';
import { sinceTime } from '../../lib/cli/main.ts';

describe('files --since', () => {
  const zone = process.env.TZ;
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it('reads a date as midnight UTC and a time without a zone as UTC, whatever this machine’s zone', () => {
    // Arrange: a machine far from UTC.
    process.env.TZ = 'America/New_York';

    // Act and assess
    expect(sinceTime('2026-12-01')).toBe('2026-12-01T00:00:00.000Z');
    expect(sinceTime('2026-12-01T10:00')).toBe('2026-12-01T10:00:00.000Z');
    expect(sinceTime('2026-12-01T10:00:00+01:00')).toBe('2026-12-01T09:00:00.000Z');
  });
});
