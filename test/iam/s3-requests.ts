/**
 * What S3 authorizes for one SDK command: the IAM actions on the bucket or objects it touches, with
 * the condition keys S3 sends, plus the KMS calls S3 makes with the caller's credentials for
 * SSE-KMS objects (every zone bucket is encrypted with the lake's key, with an S3 Bucket Key, so
 * the encryption context is the bucket's ARN).
 *
 * Sources: the S3 API reference's "Permissions" section of each operation; "Actions, resources and
 * condition keys for Amazon S3" (Service Authorization Reference); "Using server-side encryption
 * with AWS KMS keys" (multipart uploads need kms:Decrypt as well as kms:GenerateDataKey).
 */
import type { IamCall } from './simulate.ts';

/** An SDK command as recorded: its name (`GetObjectCommand` or `GetObject`) and its input. */
export interface S3Command {
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** Who sends the commands and where the lake's resources are. */
export interface S3Caller {
  /** For people: `Validate`, `ConvertToParquet (Glue job)`, … */
  readonly who: string;
  /** The role ARN that makes the calls on AWS. */
  readonly principal: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The AWS bucket name of a recorded bucket name (the local runtime's are `landing`, `raw`, …). */
  readonly bucket: (recorded: string) => string;
  /** The lake key's ARN: every zone bucket is SSE-KMS with it. */
  readonly keyArn: string;
  /**
   * Whether objects of a bucket may carry tags: a copy with the default TaggingDirective COPY then
   * reads the source's tags and writes them (s3:GetObject(Version)Tagging, s3:PutObjectTagging).
   * Producers may tag what they upload to landing; the lake itself never tags.
   */
  readonly mayBeTagged: (bucket: string) => boolean;
  /**
   * Whether reads of a bucket name a version on AWS although the recorded one did not: the local
   * landing bucket keeps no versions, while on AWS every landing event carries one, so both
   * s3:GetObject and s3:GetObjectVersion are checked there.
   */
  readonly versionedOnAws: (bucket: string) => boolean;
}

/** The IAM requests S3 authorizes (and the KMS requests it makes) for one command. */
export function s3Requests(recorded: S3Command, caller: S3Caller): IamCall[] {
  const name = recorded.command.replace(/Command$/, '');
  const input = recorded.input;
  const bucket = input.Bucket === undefined ? '' : caller.bucket(String(input.Bucket));
  const objectArn = (b: string, key: string) => `arn:${caller.partition}:s3:::${b}/${key}`;
  const bucketArn = (b: string) => `arn:${caller.partition}:s3:::${b}`;
  const key = String(input.Key ?? '');
  const call = (action: string, resource: string, context: IamCall['context'] = {}): IamCall => ({
    who: `${caller.who} ${name}`,
    principal: caller.principal,
    action,
    resource,
    context,
  });
  const kms = (action: string, b: string): IamCall =>
    call(action, caller.keyArn, {
      'kms:ViaService': `s3.${caller.region}.amazonaws.com`,
      'kms:CallerAccount': caller.account,
      'kms:EncryptionContext:aws:s3:arn': bucketArn(b),
      'kms:EncryptionContextKeys': ['aws:s3:arn'],
    });
  /** Reading an object: a named version is s3:GetObjectVersion (both when AWS would name one). */
  const read = (b: string, k: string, versionId: unknown): IamCall[] => {
    if (versionId)
      return [call('s3:GetObjectVersion', objectArn(b, k), { 's3:versionid': String(versionId) })];
    const reads = [call('s3:GetObject', objectArn(b, k))];
    if (caller.versionedOnAws(b)) reads.push(call('s3:GetObjectVersion', objectArn(b, k)));
    return reads;
  };
  const readTags = (b: string, k: string, versionId: unknown): IamCall[] =>
    versionId || caller.versionedOnAws(b)
      ? [call('s3:GetObjectVersionTagging', objectArn(b, k))]
      : [call('s3:GetObjectTagging', objectArn(b, k))];
  const write = (): IamCall[] => [
    call('s3:PutObject', objectArn(bucket, key)),
    ...(input.Tagging ? [call('s3:PutObjectTagging', objectArn(bucket, key))] : []),
  ];
  const source = () => parseCopySource(String(input.CopySource), caller.bucket);
  /** A copy's source read, and its tags when the directive copies them and the source may have some. */
  const copyRead = (copiesTags: boolean) => {
    const from = source();
    return [
      ...read(from.bucket, from.key, from.versionId),
      kms('kms:Decrypt', from.bucket),
      ...(copiesTags && caller.mayBeTagged(from.bucket)
        ? [
            ...readTags(from.bucket, from.key, from.versionId),
            call('s3:PutObjectTagging', objectArn(bucket, key)),
          ]
        : []),
    ];
  };

  switch (name) {
    case 'GetObject':
      return [...read(bucket, key, input.VersionId), kms('kms:Decrypt', bucket)];
    case 'HeadObject':
      // HEAD is authorized as a read and returns no data: S3 decrypts nothing.
      return read(bucket, key, input.VersionId);
    case 'PutObject':
      return [...write(), kms('kms:GenerateDataKey', bucket)];
    case 'CopyObject':
      return [
        ...copyRead(input.TaggingDirective !== 'REPLACE'),
        ...write(),
        kms('kms:GenerateDataKey', bucket),
      ];
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [...write(), kms('kms:GenerateDataKey', bucket), kms('kms:Decrypt', bucket)];
    case 'UploadPartCopy':
      // Tags are set (or not) when the upload is created; a part copy never copies them.
      return [
        ...copyRead(false),
        call('s3:PutObject', objectArn(bucket, key)),
        kms('kms:GenerateDataKey', bucket),
      ];
    case 'AbortMultipartUpload':
      return [call('s3:AbortMultipartUpload', objectArn(bucket, key))];
    case 'ListObjectsV2':
    case 'ListObjects':
      return [
        call('s3:ListBucket', bucketArn(bucket), {
          's3:prefix': String(input.Prefix ?? ''),
          ...(input.Delimiter ? { 's3:delimiter': String(input.Delimiter) } : {}),
        }),
      ];
    case 'ListObjectVersions':
      return [call('s3:ListBucketVersions', bucketArn(bucket), { 's3:prefix': String(input.Prefix ?? '') })];
    case 'DeleteObject':
      return [call(input.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objectArn(bucket, key))];
    case 'DeleteObjects': {
      const objects = (input.Delete as { Objects?: { Key?: string; VersionId?: string }[] }).Objects ?? [];
      return objects.map((o) =>
        call(o.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objectArn(bucket, o.Key ?? '')),
      );
    }
    default:
      throw new Error(
        `no IAM mapping for the S3 command ${recorded.command}: add it to test/iam/s3-requests.ts`,
      );
  }
}

/** `bucket/key?versionId=v` (URL-encoded, an optional leading `/`) as its parts. */
export function parseCopySource(text: string, bucketName: (recorded: string) => string) {
  const [path, query] = text.replace(/^\//, '').split('?', 2) as [string, string | undefined];
  const slash = path.indexOf('/');
  const versionId = new URLSearchParams(query ?? '').get('versionId') ?? undefined;
  return {
    bucket: bucketName(decodeURIComponent(path.slice(0, slash))),
    key: decodeURIComponent(path.slice(slash + 1)),
    versionId,
  };
}
