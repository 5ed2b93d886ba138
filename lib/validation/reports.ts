/**
 * Reading a rejected file's report back from the failure zone: the `.errors.json` summary and the
 * JSON Lines parts that hold every error. The CLI's `report` and the console API read them alike.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectRef, ReportedError } from '../../lambdas/shared/contract.ts';
import type { ErrorReport } from '../../lambdas/validate/core.ts';

/** An `s3://bucket/key` URI's parts. */
export function s3Location(uri: string): { Bucket: string; Key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { Bucket: m[1]!, Key: m[2]! };
}

/** S3 errors that mean an object is not at hand, though the ledger still says what happened. */
const GONE = new Set(['NoSuchKey', 'InvalidObjectState']);

/**
 * A rejected file's `.errors.json` report, or why it cannot be read: gone (deleted by hand) or
 * archived (the failure zone moves to Glacier after its transition days). Any other failure throws.
 */
export async function readReport(
  s3: Pick<S3Client, 'send'>,
  uri: string,
  signal?: AbortSignal,
): Promise<{ report: ErrorReport } | { problem: string }> {
  try {
    const object = await s3.send(
      new GetObjectCommand(s3Location(uri)),
      signal ? { abortSignal: signal } : {},
    );
    return { report: JSON.parse(await object.Body!.transformToString()) as ErrorReport };
  } catch (error) {
    const name = (error as Error).name;
    if (!GONE.has(name)) throw error;
    return { problem: name };
  }
}

/** Where an error is in a report's parts: the part's index and the 0-based line in it. */
export interface ErrorPosition {
  readonly part: number;
  readonly line: number;
}

/**
 * Every error of a report from `from` on, read line by line from its JSON Lines parts (never a
 * whole part in memory), each with its position. Stopping the iteration closes the part's stream.
 */
export async function* reportErrors(
  s3: Pick<S3Client, 'send'>,
  parts: readonly ObjectRef[],
  from: ErrorPosition = { part: 0, line: 0 },
  signal?: AbortSignal,
): AsyncGenerator<{ error: ReportedError; at: ErrorPosition }> {
  for (let part = from.part; part < parts.length; part++) {
    const ref = parts[part]!;
    const object = await s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }),
      signal ? { abortSignal: signal } : {},
    );
    const body = object.Body as Readable;
    const lines = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
    let line = 0;
    try {
      for await (const text of lines) {
        signal?.throwIfAborted();
        const at = { part, line };
        line++;
        if (text.trim() === '' || (part === from.part && at.line < from.line)) continue;
        yield { error: JSON.parse(text) as ReportedError, at };
      }
    } finally {
      lines.close();
      body.destroy();
    }
  }
}
