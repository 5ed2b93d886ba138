/** Drives the validator core from a byte stream: gzip detection, backpressure, progress. */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Dataset } from '../datasets/model.ts';
import { CsvValidator, type ValidateOptions, type ValidationResult } from './csv-validator.ts';

/**
 * Validates a CSV byte stream against a dataset. Chunks are pulled one at a time (async
 * iteration), so a fast source waits for the validator and memory stays flat. A stream that
 * starts with the gzip magic bytes is inflated on the fly; a corrupt gzip stream is an invalid
 * file, not an exception. Errors of the source itself (network, permissions) are thrown.
 */
export async function validateCsv(
  source: AsyncIterable<Uint8Array>,
  dataset: Dataset,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const validator = new CsvValidator(dataset, options);
  const iterator = source[Symbol.asyncIterator]();
  let bytesRead = 0;
  const counted = async function* (first: Uint8Array[]): AsyncGenerator<Uint8Array> {
    yield* first;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      bytesRead += next.value.length;
      options.onProgress?.(bytesRead);
      yield next.value;
    }
  };

  // Read until the two magic bytes can be told apart from CSV (a chunk may be one byte long).
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
    bytesRead += next.value.length;
  }
  const magic = Buffer.concat(head.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
  const compressed = magic.length >= 2 && magic[0] === 0x1f && magic[1] === 0x8b;

  if (!compressed) {
    for await (const chunk of counted(head)) validator.push(chunk);
    return validator.finish(bytesRead, false);
  }
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  // pipeline (not pipe) so that a source error reaches the loop below instead of stalling it.
  pipeline(Readable.from(counted(head)), gunzip, () => {});
  let sourceError: unknown;
  try {
    for await (const chunk of gunzip) validator.push(chunk as Buffer);
  } catch (error) {
    if (!isZlibError(error)) throw error;
    sourceError = error;
  } finally {
    // Stop reading the source (an S3 body holds a connection) once the gzip stream gave up.
    await iterator.return?.();
  }
  if (sourceError) {
    validator.reportFileError(
      'gzip',
      `the file is not a valid gzip stream: ${(sourceError as Error).message}`,
    );
  }
  return validator.finish(bytesRead, true);
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
