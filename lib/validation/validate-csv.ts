/** Drives the validator core from a byte stream: gzip detection, backpressure, progress, slices. */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Dataset } from '../datasets/model.ts';
import {
  CsvValidator,
  type ValidateOptions,
  type ValidationCheckpoint,
  type ValidationResult,
} from './csv-validator.ts';
import { startsWithGzipMagic } from './gzip-magic.ts';

// Its home is a module without Node imports, so the browser's driver can share it.
export { startsWithGzipMagic };

/** Options of {@link validateCsv}: those of the validator, and when to stop or wait. */
export interface ValidateCsvOptions extends ValidateOptions {
  /**
   * Asked after each chunk, with the bytes this run has read: true asks the run to stop at the
   * next point past where it started that it can resume from (a record boundary, or any byte
   * inside a record over `maxRecordBytes`, which is skipped unread), so that a file too large for
   * one process (a Lambda's 15 minutes) is validated in slices. The run then returns
   * `complete: false` and a `checkpoint` to pass as `resume` to the next run, with the file's
   * bytes from its `offset`.
   * A gzip input cannot stop there (the inflater's state does not serialise): it stops with
   * `checkpoint: null`, and the caller decides what to do with a file that large.
   * @default - the file is read to its end
   */
  readonly stopWhen?: (bytesReadThisRun: number) => boolean;
  /**
   * Awaited after each chunk when it returns a promise: backpressure from a slow consumer of
   * `onError` (the complete error report goes to a network stream), so that errors do not pile
   * up in memory faster than they are written.
   * @default - no waiting
   */
  readonly pace?: () => Promise<void> | undefined;
}

/**
 * One run of {@link validateCsv}: the verdict so far, and where to go on if it stopped early.
 * `bytes` counts this run's reads only; a stopped run has read past its checkpoint's offset, and
 * the next run reads those bytes again.
 */
export type ValidationRun = ValidationResult & {
  /** Where the next run resumes; null when the run completed, or stopped where it cannot resume (gzip). */
  readonly checkpoint: ValidationCheckpoint | null;
  /**
   * True when the verdict is final: the file was read to its end, or as far as it matters (a
   * UTF-16 file, whose rest is ignored; a broken gzip stream). False when `stopWhen` stopped it.
   */
  readonly complete: boolean;
  /**
   * Bytes of CSV this run validated: `bytes` for a plain file, the inflated size of a gzip one
   * (which the router and the Glue sizing need, and which only the inflating read knows).
   */
  readonly csvBytes: number;
};

/**
 * Validates a CSV byte stream against a dataset. Chunks are pulled one at a time (async
 * iteration), so a fast source waits for the validator and memory stays flat. A stream that
 * starts with the gzip magic bytes is inflated on the fly; a corrupt gzip stream is an invalid
 * file, not an exception. Errors of the source itself (network, permissions) are thrown. Reading
 * stops, and the source is released, as soon as the rest cannot change the verdict (UTF-16).
 *
 * With `resume`, the source is the file's bytes from `resume.offset` on: plain CSV only, as a
 * checkpoint is never taken in a gzip stream; there is no gzip or BOM detection.
 */
export async function validateCsv(
  source: AsyncIterable<Uint8Array>,
  dataset: Dataset,
  options: ValidateCsvOptions = {},
): Promise<ValidationRun> {
  const validator = new CsvValidator(dataset, options);
  const iterator = source[Symbol.asyncIterator]();
  const { stopWhen, pace } = options;
  const start = options.resume?.offset ?? 0;
  let bytesRead = 0;
  let exhausted = false;
  const read = async (): Promise<Uint8Array | undefined> => {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      exhausted = true; // a source that failed has ended: nothing to release
      throw error;
    }
    if (next.done) {
      exhausted = true;
      return undefined;
    }
    bytesRead += next.value.length;
    return next.value;
  };

  // Read until the two magic bytes can be told apart from CSV (a chunk may be one byte long).
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (!options.resume && headBytes < 2) {
    const chunk = await read();
    if (!chunk) break;
    head.push(chunk);
    headBytes += chunk.length;
  }
  const magic = Buffer.concat(head.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
  const compressed = startsWithGzipMagic(magic);

  if (!compressed) {
    try {
      for (let k = 0; ; k++) {
        let chunk: Uint8Array | undefined = head[k];
        if (!chunk) {
          chunk = await read();
          if (!chunk) break;
          options.onProgress?.(bytesRead);
        }
        validator.push(chunk);
        const wait = pace?.();
        if (wait) await wait;
        // The verdict is final: the rest of a 50 GB file is neither read nor waited for.
        if (!validator.wantsMore) break;
        if (stopWhen?.(bytesRead)) {
          // Only past the start: a record longer than a slice must not stop every run where it began.
          const checkpoint = validator.checkpoint();
          if (checkpoint && checkpoint.offset > start) {
            return {
              ...validator.resultSoFar(bytesRead, false),
              checkpoint,
              complete: false,
              csvBytes: bytesRead,
            };
          }
        }
      }
    } finally {
      // Stopped early, or a callback threw: release the source (an S3 body holds a connection).
      if (!exhausted) await iterator.return?.();
    }
    return { ...validator.finish(bytesRead, false), checkpoint: null, complete: true, csvBytes: bytesRead };
  }

  const counted = async function* (): AsyncGenerator<Uint8Array> {
    yield* head;
    for (;;) {
      const chunk = await read();
      if (!chunk) return;
      options.onProgress?.(bytesRead);
      yield chunk;
    }
  };
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  // pipeline (not pipe) so that a source error reaches the loop below instead of stalling it.
  pipeline(Readable.from(counted()), gunzip, () => {});
  let sourceError: unknown;
  let stopped = false;
  let inflated = 0;
  try {
    for await (const chunk of gunzip) {
      inflated += (chunk as Buffer).length;
      validator.push(chunk as Buffer);
      const wait = pace?.();
      if (wait) await wait;
      if (!validator.wantsMore) break;
      if (stopWhen?.(bytesRead)) {
        stopped = true;
        break;
      }
    }
  } catch (error) {
    if (!isZlibError(error)) throw error;
    sourceError = error;
  } finally {
    // Stop reading the source (an S3 body holds a connection) once the gzip stream gave up, the
    // run stopped, or the verdict is final.
    await iterator.return?.();
  }
  if (stopped)
    return {
      ...validator.resultSoFar(bytesRead, true),
      checkpoint: null,
      complete: false,
      csvBytes: inflated,
    };
  if (sourceError) {
    validator.reportFileError(
      'gzip',
      `the file is not a valid gzip stream: ${(sourceError as Error).message}`,
    );
  }
  return { ...validator.finish(bytesRead, true), checkpoint: null, complete: true, csvBytes: inflated };
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
