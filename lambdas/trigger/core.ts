/**
 * The trigger's pure core: from S3 event records to one workflow execution per landed object
 * version, named deterministically so a re-delivered event is recognised instead of run twice.
 */
import type { S3EventRecord } from 'aws-lambda';
import { ledgerVersion } from '../../lib/ledger/model.ts';
import { errorText } from '../../lib/text.ts';
import { type IngestRequest, NO_DATASET } from '../shared/contract.ts';
import type { Log } from '../shared/logger.ts';
import { versionDigest } from '../shared/object-version.ts';

/** Starts workflow executions; the adapter maps this onto Step Functions' StartExecution. */
export interface ExecutionStarter {
  /** `'duplicate'` when an execution of that name exists already (ExecutionAlreadyExists). */
  startExecution(name: string, input: IngestRequest): Promise<'started' | 'duplicate'>;
}

/** What the core needs from its surroundings. */
export interface TriggerDeps {
  readonly starter: ExecutionStarter;
  readonly log: Log;
}

/** What happened to the records of one event. */
export interface TriggerSummary {
  readonly started: number;
  readonly duplicates: number;
  readonly skipped: number;
}

/** Step Functions' limit on execution names. */
export const MAX_EXECUTION_NAME = 80;
/** Hex characters of the sha256 kept in a name: 128 bits, collision-free for any real lake. */
const HASH_CHARS = 32;
/** Room left for the readable prefix once `-<hash>` is appended. */
const PREFIX_CHARS = MAX_EXECUTION_NAME - HASH_CHARS - 1;

/**
 * The object key of an S3 event record, decoded: S3 URL-encodes keys in events and writes a space
 * as `+` (a literal plus arrives as `%2B`). A malformed escape throws (URIError).
 */
export function decodeKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** S3's encoding of a key in an event record (the inverse of `decodeKey`): `+` for a space, `/` kept. */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** The dataset a key names: its first path segment, `NO_DATASET` when it has none. */
export function datasetOf(key: string): string {
  const slash = key.indexOf('/');
  return slash <= 0 ? NO_DATASET : key.slice(0, slash);
}

/**
 * The canonical workflow input for one record, or null for a folder marker (an empty object whose
 * key ends in `/`, which consoles create). An object ending in `/` that holds data is a file the
 * lake cannot take: it gets an execution, which files it in the failure zone with its reason, and
 * is never silently dropped. Only fields that are the same in every delivery of the event are
 * used, so duplicates yield identical inputs.
 */
export function toIngestRequest(record: S3EventRecord): IngestRequest | null {
  const key = decodeKey(record.s3.object.key);
  const { versionId, eTag, size } = record.s3.object;
  if (key.endsWith('/') && !size) return null;
  const pin = { versionId: versionId ? versionId : null, etag: eTag ? eTag.replace(/"/g, '') : null };
  return {
    bucket: record.s3.bucket.name,
    key,
    ...pin,
    size: size ?? 0,
    dataset: datasetOf(key),
    version: ledgerVersion(pin),
  };
}

/**
 * A deterministic execution name: `<dataset>-<file>` made legal and cut to fit, then `-` and a
 * sha256 of bucket, key and version (the ETag when the bucket is not versioned). At most 80
 * characters of `[A-Za-z0-9_-]`. The prefix is for people reading the console; the hash alone
 * makes the name unique per object version.
 */
export function executionName(request: IngestRequest): string {
  const hash = versionDigest(request).slice(0, HASH_CHARS);
  const file = request.key.slice(request.key.lastIndexOf('/') + 1);
  const readable = [request.dataset, file].filter((part) => part !== '').join('-');
  const prefix = sanitize(readable).slice(0, PREFIX_CHARS) || 'object';
  return `${prefix}-${hash}`;
}

/**
 * The name of a later attempt at the same object version: `<name>-r<attempt>`, the readable prefix
 * cut so that it still fits 80 characters (the hash is kept whole). Attempt 0 is the name itself.
 * Step Functions' RedriveExecution cannot re-process a file whose failure was caught (a redrive
 * only re-runs the failed Fail state) nor one that failed more than 14 days ago; a new execution
 * under this name runs the whole workflow again.
 */
export function attemptName(name: string, attempt: number): string {
  if (attempt === 0) return name;
  const suffix = `-r${attempt}`;
  const hashed = name.slice(-(HASH_CHARS + 1));
  return `${name.slice(0, -(HASH_CHARS + 1)).slice(0, MAX_EXECUTION_NAME - hashed.length - suffix.length)}${hashed}${suffix}`;
}

/** Keeps `[A-Za-z0-9_-]`: accents are stripped (`é` → `e`), any other run of characters becomes `_`. */
function sanitize(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_');
}

/**
 * Starts one execution per object-created record. Every record is attempted; if any failed, one
 * error naming each failure is thrown afterwards so Lambda retries the event (records that
 * succeeded come back as duplicates, which change nothing) and, once retries are exhausted, the
 * event reaches the on-failure destination rather than being lost.
 */
export async function startIngests(
  records: readonly S3EventRecord[],
  { starter, log }: TriggerDeps,
): Promise<TriggerSummary> {
  let started = 0;
  let duplicates = 0;
  let skipped = 0;
  const failures: { key: string; error: unknown }[] = [];
  for (const record of records) {
    const rawKey = record.s3.object.key;
    try {
      if (!record.eventName.startsWith('ObjectCreated:')) {
        skipped++;
        log.info('skipping a record that is not an object creation', { eventName: record.eventName, rawKey });
        continue;
      }
      const request = toIngestRequest(record);
      if (request === null) {
        skipped++;
        log.info('skipping a folder marker', { bucket: record.s3.bucket.name, key: decodeKey(rawKey) });
        continue;
      }
      const name = executionName(request);
      const outcome = await starter.startExecution(name, request);
      if (outcome === 'duplicate') {
        duplicates++;
        log.info('execution exists already: a duplicate delivery', { executionName: name, request });
      } else {
        started++;
        log.info('execution started', { executionName: name, request });
      }
    } catch (error) {
      failures.push({ key: rawKey, error });
      log.warn('could not start an execution', { rawKey, error: errorText(error) });
    }
  }
  if (failures.length > 0) {
    const detail = failures.map((f) => `"${f.key}" (${errorText(f.error)})`).join(', ');
    throw new AggregateError(
      failures.map((f) => f.error),
      `could not start ${failures.length} of ${records.length} executions: ${detail}`,
    );
  }
  return { started, duplicates, skipped };
}
