/** The Athena workgroup users query the curated tables through. */
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Where in the results bucket the workgroup writes query results (the operator policy grants it). */
export const RESULTS_PREFIX = 'results/';

/** Properties of {@link QueryWorkgroup}. */
export interface QueryWorkgroupProps {
  readonly name: string;
  readonly results: s3.IBucket;
  readonly key: kms.IKey;
  /** Queries scanning more than this many bytes are cancelled. */
  readonly bytesScannedCutoff: number;
}

/**
 * An Athena engine v3 workgroup whose settings clients cannot override: results KMS-encrypted in
 * the results bucket, a per-query scan cap, CloudWatch metrics on.
 */
export class QueryWorkgroup extends Construct {
  readonly workgroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.name,
      description: 'CSV data lake: queries over the curated Parquet tables',
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup with its query history: with false, Athena refuses
      // to delete a workgroup that holds query executions, and `cdk destroy` ends DELETE_FAILED
      // once anyone has queried. The results themselves stay in the retained results bucket.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: props.results.s3UrlForObject(RESULTS_PREFIX),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
  }

  /** The workgroup's name. */
  get name(): string {
    return this.workgroup.ref;
  }
}
