/**
 * What a run of the integ suite leaves once its stacks are destroyed: the buckets, which the
 * storage stack retains by design (README, "Deploy", step 6) and CloudFormation could not delete
 * while they hold objects. This empties them (every version and delete marker) and deletes them.
 */
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** S3 deletes at most this many objects per DeleteObjects request. */
const DELETE_BATCH = 1000;
/** Access logs may arrive after a bucket was emptied: it is emptied again this many times. */
const ATTEMPTS = 4;

/** Names of the buckets in `region` whose name starts with `prefix`. */
export async function bucketsNamed(s3: S3Client, prefix: string, region: string): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListBucketsCommand({ Prefix: prefix, BucketRegion: region, ContinuationToken: token }),
    );
    for (const bucket of page.Buckets ?? []) if (bucket.Name?.startsWith(prefix)) names.push(bucket.Name);
    token = page.ContinuationToken;
  } while (token);
  return names;
}

/**
 * Deletes every object version and delete marker of a bucket; returns how many. Each is deleted by
 * its version id, `null` included (an object of an unversioned bucket, or from before versioning):
 * a delete by key alone would only add a delete marker to a versioned bucket.
 */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  const deleted = new Set<string>();
  for (;;) {
    // Always from the start: what is deleted leaves the listing.
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: DELETE_BATCH }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId ?? 'null',
    }));
    if (objects.length === 0) return deleted.size;
    const again = objects.find((o) => deleted.has(`${o.VersionId} ${o.Key}`));
    if (again)
      throw new Error(
        `s3://${bucket}: ${again.Key} (version ${again.VersionId}) is still listed once deleted`,
      );
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    const failed = result.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(
        `s3://${bucket}: ${failed.length} objects not deleted (${first.Key}: ${first.Code} ${first.Message})`,
      );
    }
    for (const o of objects) deleted.add(`${o.VersionId} ${o.Key}`);
  }
}

/** Empties and deletes each bucket whose name starts with `prefix`, telling `log` what it did. */
export async function removeBuckets(
  s3: S3Client,
  prefix: string,
  region: string,
  log: (line: string) => void,
): Promise<string[]> {
  const names = await bucketsNamed(s3, prefix, region);
  for (const bucket of names) {
    for (let attempt = 1; ; attempt++) {
      const objects = await emptyBucket(s3, bucket);
      try {
        await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
        log(`removed s3://${bucket} (${objects} object versions)`);
        break;
      } catch (error) {
        const name = error instanceof Error ? error.name : '';
        if (name !== 'BucketNotEmpty' || attempt === ATTEMPTS) throw error;
      }
    }
  }
  return names;
}
