/**
 * The removal of the integ stage's retained buckets (`npm run test:aws` runs it before and after the
 * suite), against a small in-memory S3 behind aws-sdk-client-mock: every version and delete marker
 * goes, only buckets of the prefix and region are touched, and a bucket that fills again (access logs
 * delivered late) is emptied again before it is deleted.
 */
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { removeBuckets } from './leftovers.ts';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

interface Stored {
  key: string;
  versionId: string;
  marker: boolean;
}

/** Buckets by name, each with its region and its object versions; `arrive` runs as a bucket delete begins. */
function fakeS3(
  buckets: Map<string, { region: string; objects: Stored[] }>,
  arrive = (_bucket: string) => {},
) {
  s3.on(ListBucketsCommand).callsFake((input) => ({
    Buckets: [...buckets]
      .filter(([name, b]) => name.startsWith(input.Prefix ?? '') && b.region === input.BucketRegion)
      .map(([name]) => ({ Name: name })),
  }));
  s3.on(ListObjectVersionsCommand).callsFake((input) => {
    const page = buckets.get(input.Bucket)!.objects.slice(0, input.MaxKeys);
    return {
      Versions: page.filter((o) => !o.marker).map((o) => ({ Key: o.key, VersionId: o.versionId })),
      DeleteMarkers: page.filter((o) => o.marker).map((o) => ({ Key: o.key, VersionId: o.versionId })),
    };
  });
  s3.on(DeleteObjectsCommand).callsFake((input) => {
    const bucket = buckets.get(input.Bucket)!;
    const gone = new Set(
      input.Delete.Objects.map((o: { Key: string; VersionId?: string }) => `${o.Key}@${o.VersionId}`),
    );
    bucket.objects = bucket.objects.filter((o) => !gone.has(`${o.key}@${o.versionId}`));
    return {};
  });
  s3.on(DeleteBucketCommand).callsFake((input) => {
    arrive(input.Bucket);
    if (buckets.get(input.Bucket)!.objects.length > 0) {
      throw new S3ServiceException({ name: 'BucketNotEmpty', $fault: 'client', $metadata: {} });
    }
    buckets.delete(input.Bucket);
    return {};
  });
}

const versions = (n: number, prefix = 'k'): Stored[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `${prefix}${i % 7}`,
    versionId: `v${i}`,
    marker: i % 5 === 0,
  }));

describe('removing the integ stage buckets', () => {
  it('empties every version and delete marker, pages past 1,000, and deletes only the prefix in the region', async () => {
    const buckets = new Map([
      ['csvlakeinteg-integ-raw-1-eu-west-1', { region: 'eu-west-1', objects: versions(2_345) }],
      ['csvlakeinteg-integ-storage-bucketsaccesslogs-x', { region: 'eu-west-1', objects: versions(3) }],
      ['csvlakeinteg-integ-raw-1-us-east-1', { region: 'us-east-1', objects: versions(2) }],
      ['csvlake-dev-raw-1-eu-west-1', { region: 'eu-west-1', objects: versions(2) }],
    ]);
    fakeS3(buckets);
    const lines: string[] = [];

    const removed = await removeBuckets(new S3Client({}), 'csvlakeinteg-integ-', 'eu-west-1', (l) =>
      lines.push(l),
    );

    expect(removed).toEqual([
      'csvlakeinteg-integ-raw-1-eu-west-1',
      'csvlakeinteg-integ-storage-bucketsaccesslogs-x',
    ]);
    expect([...buckets.keys()]).toEqual([
      'csvlakeinteg-integ-raw-1-us-east-1',
      'csvlake-dev-raw-1-eu-west-1',
    ]);
    expect(lines).toEqual([
      'removed s3://csvlakeinteg-integ-raw-1-eu-west-1 (2345 object versions)',
      'removed s3://csvlakeinteg-integ-storage-bucketsaccesslogs-x (3 object versions)',
    ]);
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectsCommand, 4);
    expect(s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Bucket: 'csvlakeinteg-integ-raw-1-eu-west-1',
      Delete: expect.objectContaining({ Objects: expect.arrayContaining([{ Key: 'k0', VersionId: 'v0' }]) }),
    });
  });

  it('empties a bucket again when objects arrive after it was emptied, then deletes it', async () => {
    const name = 'csvlakeinteg-integ-storage-bucketsaccesslogs-x';
    const buckets = new Map([[name, { region: 'eu-west-1', objects: versions(2) }]]);
    let late = 2;
    // An access log lands between the emptying and the delete, twice.
    fakeS3(buckets, (bucket) => {
      if (late-- > 0)
        buckets.get(bucket)!.objects.push({ key: `log${late}`, versionId: 'null', marker: false });
    });

    await removeBuckets(new S3Client({}), 'csvlakeinteg-integ-', 'eu-west-1', () => {});

    expect(buckets.has(name)).toBe(false);
    expect(s3).toHaveReceivedCommandTimes(DeleteBucketCommand, 3);
    // An object of an unversioned bucket is listed, and deleted, as version "null" (never by key alone).
    expect(s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Delete: { Objects: [{ Key: 'log1', VersionId: 'null' }], Quiet: true },
    });
  });

  it('stops with the S3 error when a bucket cannot be emptied', async () => {
    const buckets = new Map([
      ['csvlakeinteg-integ-raw-1-eu-west-1', { region: 'eu-west-1', objects: versions(1) }],
    ]);
    fakeS3(buckets);
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: 'k0', Code: 'AccessDenied', Message: 'Access Denied' }],
    });

    await expect(
      removeBuckets(new S3Client({}), 'csvlakeinteg-integ-', 'eu-west-1', () => {}),
    ).rejects.toThrow(
      's3://csvlakeinteg-integ-raw-1-eu-west-1: 1 objects not deleted (k0: AccessDenied Access Denied)',
    );
    expect(s3).not.toHaveReceivedCommand(DeleteBucketCommand);
  });
});
