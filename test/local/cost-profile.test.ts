/**
 * `npm run cost` reads what each path does from a real execution: a small valid file through the
 * local runtime running the synthesized workflow, its states and its handlers' S3 commands.
 */
import { describe, expect, it } from 'vitest';
import { recordProfile } from '../../bench/cost.ts';
import { parseConfig } from '../../lib/config.ts';
import { estimateFile } from '../../lib/cost/model.ts';

describe('the cost profile of the Glue path', () => {
  it('is what one execution entered and sent, and prices a file', async () => {
    const profile = await recordProfile({ conversion: 'glue' });
    expect(profile.engine).toBe('glue');
    expect(profile.glueRuns).toBe(1);
    expect(profile.states).toContain('ConvertToParquet');
    expect(profile.states.at(-1)).toBe('Curated');
    expect(profile.lambdaInvocations).toContain('Validate');
    expect(profile.lambdaInvocations).toContain('RegisterPartition');
    // VALIDATED and CURATED.
    expect(profile.snsPublishes).toBe(2);
    // The validator's read and the copy into raw; the engine's read, upload and publish copy.
    expect(profile.s3Commands.GetObject).toBeGreaterThanOrEqual(2);
    expect(profile.s3Commands.CopyObject).toBeGreaterThanOrEqual(2);
    expect(profile.s3Commands.PutObject).toBeGreaterThanOrEqual(1);
    // The producer's PUT into landing is not the pipeline's.
    expect(profile.s3Commands.PutObject).toBeLessThan(2);
    const file = estimateFile(
      1000,
      profile,
      parseConfig(() => undefined),
    );
    expect(file.transitions).toBe(profile.states.length);
    expect(file.ingestUsd).toBeGreaterThan(0);
  });
});
