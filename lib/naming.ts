/** Physical names that both stacks derive from the configuration, so neither exports them. */
import { Aws } from 'aws-cdk-lib';

/** The lake's data buckets (access logs have their own, unnamed bucket). */
export const ZONES = ['landing', 'raw', 'failure', 'curated', 'results'] as const;

/** One of the lake's buckets. */
export type Zone = (typeof ZONES)[number];

/**
 * The bucket name of a zone: `<prefix>-<stage>-<zone>-<account>-<region>`, unique per account and
 * region, and the same text (pseudo parameters included) in whichever stack computes it. A data
 * lake's buckets are addressed by people and tools too, so predictable names serve them as well.
 */
export function zoneBucketName(prefix: string, stage: string, zone: Zone): string {
  return `${prefix}-${stage}-${zone}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

/** Every zone's bucket name. */
export function zoneBucketNames(prefix: string, stage: string): Record<Zone, string> {
  return Object.fromEntries(ZONES.map((z) => [z, zoneBucketName(prefix, stage, z)])) as Record<Zone, string>;
}
