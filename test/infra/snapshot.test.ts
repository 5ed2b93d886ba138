/**
 * One snapshot per stack, asset hashes masked: a change detector only. Every property it covers has
 * its own assertion in lake.test.ts, security.test.ts or console.test.ts, so an ordinary `vitest -u`
 * cannot accept a broken one. In a file of its own so that `npm run mutation` can leave it out: a
 * snapshot fails on any mutant of a construct and would count as a kill that no behavioural test made.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTestLake, synthTemplates, TEST_CONTEXT } from './synth.ts';

let templates: Record<'storage' | 'pipeline' | 'console', Template>;

beforeAll(async () => {
  const { storage, pipeline } = await synthTemplates();
  // The console stack (opt-in): the core stacks are the same with it on (console.test.ts).
  const lake = await buildTestLake({ ...TEST_CONTEXT, console: true });
  if (!lake.console) throw new Error('console: true built no console stack');
  templates = { storage, pipeline, console: Template.fromStack(lake.console) };
}, 120_000);

describe('the synthesized templates', () => {
  it.each(['storage', 'pipeline', 'console'] as const)(
    'matches the %s stack snapshot (asset hashes masked)',
    (name) => {
      const masked = JSON.parse(
        JSON.stringify(templates[name].toJSON())
          .replace(/[0-9a-f]{64}(\.zip|\.json|\.py)?/g, '<asset-hash>$1')
          .replace(/"S3Key":"[^"]+"/g, '"S3Key":"<asset>"'),
      );
      expect(masked).toMatchSnapshot();
    },
  );
});
