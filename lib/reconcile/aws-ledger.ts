/** The reconciler against a deployed stack: the landing bucket's versions and Step Functions. */
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { attemptName } from '../../lambdas/trigger/core.ts';
import { type ExecutionStatus, type LandedObject, MAX_RETRIES, type WorkflowLedger } from './reconcile.ts';

export { MAX_RETRIES };

/** Ended without an outcome: FAILED, TIMED_OUT, ABORTED, or a status Step Functions adds later. */
const unsuccessful = (status: ExecutionStatus | undefined): boolean =>
  status !== undefined && status !== 'SUCCEEDED' && status !== 'RUNNING' && status !== 'PENDING_REDRIVE';

/** Every version of every object in the bucket (a versioned landing bucket keeps each landing). */
export async function* landedVersions(s3: S3Client, bucket: string): AsyncGenerator<LandedObject> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const v of page.Versions ?? []) {
      yield {
        key: v.Key ?? '',
        size: v.Size ?? 0,
        etag: v.ETag ? v.ETag.replace(/"/g, '') : null,
        // An unversioned bucket lists the version "null": the trigger then saw no version id.
        versionId: v.VersionId && v.VersionId !== 'null' ? v.VersionId : null,
      };
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
}

/**
 * Step Functions as the ledger: execution ARNs follow from the state machine's ARN and the name.
 * An object's outcome is its latest attempt's (the trigger's execution, then `-r1`, `-r2`… that the
 * reconciler started after it failed), and re-driving starts the next attempt: a new execution runs
 * the whole workflow, where RedriveExecution would only re-run the Fail state a caught error ended
 * in, and is refused 14 days after the failure. Every step is idempotent per object version (zone
 * keys and the ingest date follow from the version), so a new attempt overwrites what the failed
 * one left rather than adding to it.
 */
export function stepFunctionsLedger(sfn: SFNClient, stateMachineArn: string): WorkflowLedger {
  const executionArn = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const describe = async (name: string): Promise<ExecutionStatus | undefined> => {
    try {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(name) }));
      return out.status as ExecutionStatus | undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  };
  /** The latest attempt that exists, and its status (attempt 0 with no status: none exists). */
  const latest = async (name: string) => {
    let attempt = 0;
    let status = await describe(name);
    while (unsuccessful(status) && attempt < MAX_RETRIES) {
      const next = await describe(attemptName(name, attempt + 1));
      if (next === undefined) break;
      attempt++;
      status = next;
    }
    return { attempt, status };
  };
  /**
   * Starts an execution. ExecutionAlreadyExists means another sweep or the trigger started it
   * since it was listed (with the same input: a start while it runs would have succeeded), so the
   * file has its run; the next sweep reads its outcome.
   */
  const start = async (name: string, request: unknown) => {
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
    }
  };
  // The latest attempt of each unsuccessful object, as status() found it: redrive() starts the
  // next one without asking Step Functions again (DescribeExecution is throttled per account).
  // It is what one sweep learned: make a ledger per sweep.
  const failed = new Map<string, { attempt: number; status: ExecutionStatus | undefined }>();
  return {
    async status(name) {
      const found = await latest(name);
      if (unsuccessful(found.status)) failed.set(name, found);
      return found.status;
    },
    start,
    async redrive(name, request) {
      const { attempt, status } = failed.get(name) ?? (await latest(name));
      failed.delete(name);
      if (!unsuccessful(status)) return; // it ended or runs since it was listed
      if (attempt >= MAX_RETRIES) {
        throw new Error(
          `not started again: ${attempt + 1} executions of it ended ${status} (the last: ${attemptName(name, attempt)}); see its history, fix the cause, then upload the file again (a new version gets its own execution)`,
        );
      }
      await start(attemptName(name, attempt + 1), request);
    },
  };
}
