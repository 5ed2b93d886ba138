/** The reconciler against a deployed stack: the landing bucket's versions and Step Functions. */
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionStatus, LandedObject, WorkflowLedger } from './reconcile.ts';

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

/** Step Functions as the ledger: execution ARNs follow from the state machine's ARN and the name. */
export function stepFunctionsLedger(sfn: SFNClient, stateMachineArn: string): WorkflowLedger {
  const executionArn = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    async status(name) {
      try {
        const out = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(name) }));
        return out.status as ExecutionStatus | undefined;
      } catch (error) {
        if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
        throw error;
      }
    },
    async start(name, request) {
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }));
    },
    async redrive(name) {
      await sfn.send(new RedriveExecutionCommand({ executionArn: executionArn(name) }));
    },
  };
}
