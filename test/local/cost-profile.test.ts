/**
 * `npm run cost` reads what each path does from a real execution: a small valid file through the
 * local runtime running the synthesized workflow, its states and its handlers' S3 commands.
 */
import { describe, expect, it } from 'vitest';
import { profileOf, recordRun } from '../../bench/cost.ts';
import { parseConfig } from '../../lib/config.ts';
import { STATE } from '../../lib/constructs/ingest-workflow.ts';
import { CONVERT_FUNCTION_ID, estimateFile } from '../../lib/cost/model.ts';

describe('the cost profile of the Glue path', () => {
  it('is what one execution entered and sent, and prices a file', async () => {
    const run = await recordRun({ conversion: 'glue' });
    const profile = profileOf(run);
    expect(profile.engine).toBe('glue');
    expect(profile.glueRuns).toBe(1);
    expect(profile.states).toContain('ConvertToParquet');
    expect(profile.states.at(-1)).toBe('Curated');
    expect(profile.lambdaInvocations).toContain('Validate');
    expect(profile.lambdaInvocations).toEqual(['Validate']);
    // CommitToTable: one message to the commit queue (the Commit function is priced per batch).
    expect(profile.commitMessages).toBe(1);
    // VALIDATED and CURATED.
    expect(profile.snsPublishes).toBe(2);
    // The ledger: RECEIVED, VALIDATED, CURATED.
    expect(profile.ledgerWrites).toBe(3);
    // The validator's read and the copy into raw; the engine's read, its data file and its commit
    // request (no publish copy: the data file is written in place). The producer's PUT into
    // landing is not the pipeline's, nor are the commit's calls (the Commit function's, per batch).
    expect(profile.s3Commands.GetObject).toBeGreaterThanOrEqual(2);
    expect(profile.s3Commands.CopyObject).toBe(1);
    expect(profile.s3Commands.PutObject).toBe(2);
    const file = estimateFile(
      1000,
      profile,
      parseConfig(() => undefined),
    );
    expect(file.transitions).toBe(profile.states.length);
    expect(file.ingestUsd).toBeGreaterThan(0);
  });
});

describe('the cost profile of the Lambda path', () => {
  it('is recorded from a run at the defaults, which converts in the Convert Lambda', async () => {
    const glue = profileOf(await recordRun({ conversion: 'glue' }));
    const lambda = profileOf(await recordRun({}));
    expect(lambda.engine).toBe('lambda');
    expect(lambda.glueRuns).toBe(0);
    expect(lambda.states).toContain(STATE.convertInLambda);
    expect(lambda.states).not.toContain(STATE.convert);
    expect(lambda.lambdaInvocations).toEqual(['Validate', CONVERT_FUNCTION_ID]);
    expect(lambda.commitMessages).toBe(1);
    // The same engine code on both paths: the same S3 commands.
    expect(lambda.s3Commands).toEqual(glue.s3Commands);
  });
});
