/**
 * One snapshot per stack, asset hashes masked: a change detector only. Every property it covers has
 * its own assertion in lake.test.ts or security.test.ts, so an ordinary `vitest -u` cannot accept a
 * broken one. In a file of its own so that `npm run mutation` can leave it out: a snapshot fails on
 * any mutant of a construct and would count as a kill that no behavioural test made.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { synthTemplates } from './synth.ts';

let storage: Awaited<ReturnType<typeof synthTemplates>>['storage'];
let pipeline: Awaited<ReturnType<typeof synthTemplates>>['pipeline'];

beforeAll(async () => {
  ({ storage, pipeline } = await synthTemplates());
}, 120_000);

describe('the synthesized templates', () => {
  it.each(['storage', 'pipeline'] as const)('matches the %s stack snapshot (asset hashes masked)', (name) => {
    const template = name === 'storage' ? storage : pipeline;
    const masked = JSON.parse(
      JSON.stringify(template.toJSON())
        .replace(/[0-9a-f]{64}(\.zip|\.json|\.py)?/g, '<asset-hash>$1')
        .replace(/"S3Key":"[^"]+"/g, '"S3Key":"<asset>"'),
    );
    expect(masked).toMatchSnapshot();
  });
});
