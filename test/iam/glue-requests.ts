/**
 * The Glue job's S3 calls: the script's own boto3 calls, recorded through the fakes of its unit
 * tests (test/iam/glue_calls.py) for the job arguments the local runs recorded, plus what Spark
 * does with the paths it is asked to read and write, as Hadoop's S3 filesystems do it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { GlueJobArguments } from '../../lambdas/shared/contract.ts';
import type { S3Command } from './s3-requests.ts';

const DRIVER = fileURLToPath(new URL('./glue_calls.py', import.meta.url));

/** One scenario of the script (first run, re-run, gzip source copied first) and its calls. */
export interface GlueRun {
  readonly scenario: string;
  readonly s3: readonly { method: string; args: Record<string, unknown> }[];
  readonly spark_reads: readonly string[];
  readonly spark_writes: readonly string[];
}

/** Runs the script's main() under its unit-test fakes for each set of job arguments. */
export async function recordGlueScript(jobArguments: readonly GlueJobArguments[]): Promise<GlueRun[]> {
  const child = promisify(execFile)('/usr/bin/python3', [DRIVER], { maxBuffer: 64 << 20 });
  child.child.stdin!.end(JSON.stringify(jobArguments));
  const { stdout } = await child;
  return JSON.parse(stdout) as GlueRun[];
}

const splitUri = (uri: string) => {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
};

/** The S3 commands behind one boto3 call of the script. */
export function boto3Commands(call: GlueRun['s3'][number]): S3Command[] {
  const a = call.args;
  switch (call.method) {
    case 'head_object':
      return [{ command: 'HeadObject', input: a }];
    case 'get_object':
      return [{ command: 'GetObject', input: a }];
    case 'list_objects_v2':
      return [{ command: 'ListObjectsV2', input: a }];
    case 'delete_objects':
      return [{ command: 'DeleteObjects', input: a }];
    case 'put_object':
      return [{ command: 'PutObject', input: { Bucket: a.Bucket, Key: a.Key } }];
    case 'copy': {
      // boto3's managed copy: a HEAD of the source, then CopyObject (UploadPartCopy above 8 MB,
      // which needs nothing more). No TaggingDirective: tags of the source, if any, are copied.
      const from = a.CopySource as { Bucket: string; Key: string };
      const copySource = `${from.Bucket}/${from.Key.split('/').map(encodeURIComponent).join('/')}`;
      return [
        { command: 'HeadObject', input: { Bucket: from.Bucket, Key: from.Key } },
        { command: 'CopyObject', input: { Bucket: a.Bucket, Key: a.Key, CopySource: copySource } },
      ];
    }
    default:
      throw new Error(
        `no mapping for the script's boto3 call ${call.method}: add it to test/iam/glue-requests.ts`,
      );
  }
}

/**
 * The directory probes of a Hadoop S3 filesystem for `key` seen as a directory: a HEAD of the key
 * (a file of that name?) and a one-key listing of `key/` (anything under it?). S3A's getFileStatus
 * does both; EMRFS, which Glue uses for s3:// paths, is not open source and is assumed to do the same.
 */
const probe = (bucket: string, key: string): S3Command[] => [
  { command: 'HeadObject', input: { Bucket: bucket, Key: key } },
  { command: 'ListObjectsV2', input: { Bucket: bucket, Prefix: `${key}/`, Delimiter: '/' } },
];

/** What Spark does on S3 to read one file: its status (probes), then the bytes. */
export function sparkReadCommands(uri: string): S3Command[] {
  const { bucket, key } = splitUri(uri);
  return [...probe(bucket, key), { command: 'GetObject', input: { Bucket: bucket, Key: key } }];
}

/**
 * What Spark does on S3 to write a Parquet directory in overwrite mode with Glue's S3-optimized
 * committer: the output path and each ancestor up to the dataset folder are probed (mkdirs walks up
 * to the first that exists: on a dataset's first run, none does), the earlier content is listed
 * (the run's folder is fresh, named by the run and a random part: the listing finds nothing, so
 * nothing is deleted), each task writes its part with a multipart upload straight to its final
 * name, and the job writes `_SUCCESS`; the `_temporary` folder is created and removed.
 */
export function sparkWriteCommands(uri: string): S3Command[] {
  const { bucket, key } = splitUri(uri);
  const dir = key.replace(/\/$/, '');
  const segments = dir.split('/');
  const ancestors = segments.map((_, i) => segments.slice(0, segments.length - i).join('/'));
  const part = `${dir}/part-00000-0000-c000.zstd.parquet`;
  const temporary = `${dir}/_temporary/0/`;
  return [
    ...ancestors.flatMap((a) => probe(bucket, a)),
    { command: 'ListObjectsV2', input: { Bucket: bucket, Prefix: `${dir}/` } },
    { command: 'PutObject', input: { Bucket: bucket, Key: temporary } },
    { command: 'CreateMultipartUpload', input: { Bucket: bucket, Key: part } },
    { command: 'UploadPart', input: { Bucket: bucket, Key: part } },
    { command: 'CompleteMultipartUpload', input: { Bucket: bucket, Key: part } },
    { command: 'AbortMultipartUpload', input: { Bucket: bucket, Key: part } },
    { command: 'PutObject', input: { Bucket: bucket, Key: `${dir}/_SUCCESS` } },
    { command: 'ListObjectsV2', input: { Bucket: bucket, Prefix: temporary } },
    { command: 'DeleteObjects', input: { Bucket: bucket, Delete: { Objects: [{ Key: temporary }] } } },
  ];
}

/** Every S3 command of one recorded run of the script. */
export function glueRunCommands(run: GlueRun): S3Command[] {
  return [
    ...run.s3.flatMap(boto3Commands),
    ...run.spark_reads.flatMap(sparkReadCommands),
    ...run.spark_writes.flatMap(sparkWriteCommands),
  ];
}
