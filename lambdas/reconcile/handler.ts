/**
 * The scheduled reconciler: every landing object version must reach a terminal outcome, which the
 * ingest ledger records (Step Functions is asked only about the files it has no final status for). It
 * re-drives the orphans it finds and publishes, on every run, the count of landed files not known
 * to have an outcome as the `Orphans` metric (embedded metric format in its log, so it needs no
 * CloudWatch permission): the orphans, the objects it could not check or re-drive, and one more when
 * the listing broke off. An alarm watches it. A broken listing also fails the invocation, after
 * the metric, so that Lambda's asynchronous retries run the sweep again.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { dynamoLedgerReader } from '../../lib/ledger/dynamodb-reader.ts';
import { landedVersions, stepFunctionsLedger } from '../../lib/reconcile/aws-ledger.ts';
import {
  fromLedger,
  type ReconcileReport,
  reconcile,
  withoutOutcome,
} from '../../lib/reconcile/reconcile.ts';
import { ENV, ORPHAN_METRIC } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';

const env = readEnv(ENV.reconcile);
const s3 = new S3Client({});
const sfn = new SFNClient({});
// Eventually consistent: half the read units of one GetItem per landed version every hour.
const ledgerItems = dynamoLedgerReader(new DynamoDBClient({}), env.ledgerTable, { consistentGets: false });
const logger = createLogger('reconcile');

/** Reconciles the landing bucket once (the schedule's event carries nothing the run needs). */
export async function handler(): Promise<ReconcileReport> {
  let broke: { error: unknown } | undefined;
  async function* listing() {
    try {
      yield* landedVersions(s3, env.landingBucket);
    } catch (error) {
      broke = { error };
    }
  }
  // A ledger per run: what it learns of each object's attempts holds for this sweep only (a warm
  // container's next run asks Step Functions afresh).
  const ledger = fromLedger(ledgerItems, stepFunctionsLedger(sfn, env.stateMachineArn));
  const report = await reconcile(env.landingBucket, listing(), ledger, { redrive: env.redrive === 'true' });
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
      [ORPHAN_METRIC.name]: withoutOutcome(report) + (broke ? 1 : 0),
    })}\n`,
  );
  logger.info('reconciled', {
    ...report,
    orphans: report.orphans.slice(0, 20),
    errors: report.errors.slice(0, 20),
  });
  if (broke) throw broke.error;
  return report;
}
