/** Shared builders for the Lambda tests: S3 event records, a recording logger, fixture paths. */

import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import {
  type IngestRequest,
  NO_DATASET,
  type ValidateTaskInput,
  type ValidateTaskOutput,
} from '../../../lambdas/shared/contract.ts';
import type { Log } from '../../../lambdas/shared/logger.ts';
import { type ValidateDeps, validateIngest } from '../../../lambdas/validate/core.ts';
import { parseConfig } from '../../../lib/config.ts';
import { conversionSettings } from '../../../lib/conversion/plan.ts';
import { ledgerVersion } from '../../../lib/ledger/model.ts';

/** The repo's example dataset declarations (`orders`, `sensor_readings`). */
export const DATASETS_DIR = fileURLToPath(new URL('../../../datasets/', import.meta.url));
/** The orders fixtures: 3 valid rows; 4 rows with 10 errors. */
export const ORDERS_VALID = fileURLToPath(new URL('../../fixtures/orders-valid.csv', import.meta.url));
export const ORDERS_INVALID = fileURLToPath(new URL('../../fixtures/orders-invalid.csv', import.meta.url));

/** A key as S3 writes it into an event: URL-encoded, `/` kept, a space as `+`. */
export function s3EncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** What a test sets on an event record; the key is given as S3 sends it (URL-encoded). */
export interface RecordSpec {
  readonly key: string;
  readonly bucket?: string;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly size?: number;
  readonly eventName?: string;
  readonly eventTime?: string;
  readonly sequencer?: string;
}

/** One S3 event record as S3 delivers it. */
export function s3Record(spec: RecordSpec): S3EventRecord {
  const bucket = spec.bucket ?? 'landing';
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: spec.eventTime ?? '2024-03-01T10:00:00.000Z',
    eventName: spec.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:PRODUCER' },
    requestParameters: { sourceIPAddress: '10.0.0.1' },
    responseElements: { 'x-amz-request-id': 'REQ', 'x-amz-id-2': 'ID2' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ingest',
      bucket: { name: bucket, ownerIdentity: { principalId: 'OWNER' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: spec.key,
        size: spec.size ?? 1234,
        eTag: spec.eTag ?? '0123456789abcdef0123456789abcdef',
        ...(spec.versionId === undefined ? {} : { versionId: spec.versionId }),
        sequencer: spec.sequencer ?? '0065E1F0A1B2C3D4E5',
      },
    },
  };
}

/** An S3 event of the given records. */
export function s3Event(...specs: RecordSpec[]): S3Event {
  return { Records: specs.map(s3Record) };
}

/** One line a core logged. */
export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

/** A `Log` that records what it is told, so tests can assert on what a core logs. */
/** The conversion router's settings at the app's defaults, as the stack passes them to Validate. */
export const DEFAULT_CONVERSION = conversionSettings(parseConfig(() => undefined));

export function recordingLog(): Log & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const record =
    (level: LogLine['level']) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) });
    };
  return { lines, info: record('info'), warn: record('warn') };
}

/**
 * The version tag a zone file name carries: 8 hex characters of the sha256 of
 * `[bucket, key, "version", versionId]` (`"etag", etag` without a version id). Computed here on
 * its own, as the oracle of the code under test.
 */
export function versionTag(object: {
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
}): string {
  const pin = object.versionId !== null ? ['version', object.versionId] : ['etag', object.etag];
  return createHash('sha256')
    .update(JSON.stringify([object.bucket, object.key, ...pin]))
    .digest('hex')
    .slice(0, 8);
}

/**
 * The file name an object version should get in a zone: the key after its dataset folder, `/`
 * flattened to `__`, with its version tag before the extension (`.csv`, `.csv.gz` or another).
 */
export function zoneFileOf(object: {
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
}): string {
  const slash = object.key.indexOf('/');
  const flat = (slash < 0 ? object.key : object.key.slice(slash + 1)).replaceAll('/', '__');
  return flat.replace(/(\.csv(?:\.gz)?|\.[A-Za-z0-9]{1,10})?$/i, `.${versionTag(object)}$1`);
}

/** The verdict of a run with no slice and no deadline: such a run never hands over to slices. */
export async function validateWhole(
  input: ValidateTaskInput,
  deps: ValidateDeps,
): Promise<ValidateTaskOutput> {
  const out = await validateIngest(input, deps);
  if (!out.done) throw new Error('expected a verdict, got a slice to go on with');
  return out;
}

/** A request as the trigger makes it: the dataset is the key's first segment, else `no-dataset`. */
export function ingestRequest(key: string, extra: Partial<IngestRequest> = {}): IngestRequest {
  const slash = key.indexOf('/');
  const request = {
    bucket: 'landing',
    key,
    versionId: 'v1',
    etag: 'e1',
    size: 100,
    dataset: slash <= 0 ? NO_DATASET : key.slice(0, slash),
    ...extra,
  };
  return { ...request, version: extra.version ?? ledgerVersion(request) };
}
