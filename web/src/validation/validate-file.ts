/**
 * Validates a file in the browser with the pipeline's own core (`CsvValidator`), reading it as a
 * stream chunk by chunk, so memory stays flat whatever its size, and hashing the same bytes
 * (SHA-256, for the upload's checksum) in the same pass. The counterpart of `validateCsv`
 * (lib/validation/validate-csv.ts) over Web streams: gzip is told by its magic bytes and
 * inflated with DecompressionStream. Runs in the worker; in Node too (Blob and
 * DecompressionStream are globals there), which the unit tests use.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Dataset } from '../../../lib/datasets/model.ts';
import {
  CsvValidator,
  type ValidationError,
  type ValidationResult,
} from '../../../lib/validation/csv-validator.ts';
import { startsWithGzipMagic } from '../../../lib/validation/gzip-magic.ts';

/** What {@link validateFile} reports as it goes. */
export interface ValidateFileHooks {
  /**
   * After each chunk read: bytes of the file read so far, and the errors found since the last
   * call; `last` on the call after the whole file is read.
   */
  readonly onProgress?: (bytesRead: number, newErrors: readonly ValidationError[], last?: boolean) => void;
}

/** A progress message for the page: bytes read, the errors to list, and every error found so far. */
export interface ProgressNews {
  readonly bytesRead: number;
  readonly errors: readonly ValidationError[];
  readonly errorCount: number;
}

/**
 * An `onProgress` hook that hands the page at most `maxErrors` errors in all (the ones the result
 * lists; the rest are only counted), and news at most every `everyBytes` unless it lists new
 * errors, and always on the last call (so its count is the file's): a broken 1 GB file has millions
 * of errors, which the page must not receive one by one.
 */
export function forwardProgress(
  maxErrors: number,
  post: (news: ProgressNews) => void,
  everyBytes = 4 << 20,
): NonNullable<ValidateFileHooks['onProgress']> {
  let last = 0;
  let errorCount = 0;
  let listed = 0;
  return (bytesRead, newErrors, final) => {
    errorCount += newErrors.length;
    const errors = listed < maxErrors ? newErrors.slice(0, maxErrors - listed) : [];
    listed += errors.length;
    if (!final && errors.length === 0 && bytesRead - last < everyBytes) return;
    last = bytesRead;
    post({ bytesRead, errors, errorCount });
  };
}

/** The verdict, and the checksum the upload needs. */
export interface FileVerdict {
  readonly result: ValidationResult;
  /** SHA-256 of the file's bytes as stored, base64. */
  readonly sha256: string;
  /** Bytes of CSV validated (the inflated size of a gzip file). */
  readonly csvBytes: number;
}

/**
 * Where the file's bytes are hashed: on this thread, or in a helper worker, which runs the hash
 * beside the checks on a second core (each is about as fast as the other; see bench/console.ts).
 */
export interface FileHasher {
  /** Takes the next bytes; a promise asks the reader to wait (the helper is behind). */
  update(chunk: Uint8Array): void | Promise<void>;
  digest(): Promise<Uint8Array>;
}

/** SHA-256 on this thread. */
export function inlineHasher(): FileHasher {
  const hash = sha256.create();
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => hash.digest(),
  };
}

/** Validates and hashes `file` against `dataset`. */
export async function validateFile(
  file: Blob,
  dataset: Dataset,
  maxErrors: number,
  hooks: ValidateFileHooks = {},
  hash: FileHasher = inlineHasher(),
): Promise<FileVerdict> {
  let fresh: ValidationError[] = [];
  const validator = new CsvValidator(dataset, { maxErrors, onError: (e) => fresh.push(e) });
  let bytesRead = 0;
  const compressed = startsWithGzipMagic(new Uint8Array(await file.slice(0, 2).arrayBuffer()));

  // Every byte of the file passes here once: hashed, counted, then handed on (inflated if gzip).
  const raw = file.stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        await hash.update(chunk);
        bytesRead += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  );
  // The DOM lib types its input as BufferSource, of which Uint8Array is one.
  const inflate = () => new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>;
  const csv = compressed ? raw.pipeThrough(inflate()) : raw;
  const reader = csv.getReader();
  let csvBytes = 0;
  let wanted = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      csvBytes += value.length;
      // A verdict that is final (UTF-16) stops the checks, not the read: the hash needs every byte.
      if (wanted) {
        validator.push(value);
        wanted = validator.wantsMore;
      }
      hooks.onProgress?.(bytesRead, fresh);
      fresh = [];
    }
  } catch (error) {
    if (!compressed) throw error;
    // A corrupt gzip stream is an invalid file, as in validateCsv; hash the rest for the upload.
    validator.reportFileError('gzip', `the file is not a valid gzip stream: ${(error as Error).message}`);
    await hashRest(file, bytesRead, hash);
    bytesRead = file.size;
  }
  const result = validator.finish(bytesRead, compressed);
  hooks.onProgress?.(bytesRead, fresh, true);
  return { result, sha256: base64(await hash.digest()), csvBytes };
}

async function hashRest(file: Blob, from: number, hash: FileHasher): Promise<void> {
  const reader = file.slice(from).stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    await hash.update(value);
  }
}

/** Standard base64 of bytes (what S3's `x-amz-checksum-sha256` wants). */
export function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
