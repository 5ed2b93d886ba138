/**
 * The scheduled reconciler: every landing object version must have an execution that ended. It
 * re-drives the orphans it finds and publishes their count as the `Orphans` metric (embedded
 * metric format in its log, so it needs no CloudWatch permission); an alarm watches it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { landedVersions, stepFunctionsLedger } from '../../lib/reconcile/aws-ledger.ts';
import { type ReconcileReport, reconcile } from '../../lib/reconcile/reconcile.ts';
import { ENV, ORPHAN_METRIC } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';

const env = readEnv(ENV.reconcile);
const s3 = new S3Client({});
const ledger = stepFunctionsLedger(new SFNClient({}), env.stateMachineArn);
const logger = createLogger('reconcile');

/** Reconciles the landing bucket once (the schedule's event carries nothing the run needs). */
export async function handler(): Promise<ReconcileReport> {
  const report = await reconcile(env.landingBucket, landedVersions(s3, env.landingBucket), ledger, {
    redrive: env.redrive === 'true',
  });
  // One EMF line: CloudWatch turns it into the Orphans metric, with no API call or permission.
  process.stdout.write(
    `${JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: ORPHAN_METRIC.namespace,
            Dimensions: [[]],
            Metrics: [{ Name: ORPHAN_METRIC.name, Unit: 'Count' }],
          },
        ],
      },
      [ORPHAN_METRIC.name]: report.orphans.length,
    })}\n`,
  );
  logger.info('reconciled', { ...report, orphans: report.orphans.slice(0, 20) });
  return report;
}
