/** The messages between the page and the validation worker (web/src/validation/worker.ts). */
import type { Dataset } from '../../../lib/datasets/model.ts';
import type { ValidationError, ValidationResult } from '../../../lib/validation/csv-validator.ts';

/** Page → worker: validate this file against this dataset. */
export interface ValidateRequest {
  readonly file: Blob;
  readonly dataset: Dataset;
  /** How many errors the result lists (all are counted). */
  readonly maxErrors: number;
}

/** Worker → page, in this order: progress and the first `maxErrors` errors as the file is read, then one end. */
export type WorkerMessage =
  | {
      readonly type: 'progress';
      readonly bytesRead: number;
      /** Errors to list, new since the last message: at most `maxErrors` over all messages. */
      readonly errors: readonly ValidationError[];
      /** Every error found so far, listed or not. */
      readonly errorCount: number;
    }
  | {
      readonly type: 'done';
      readonly result: ValidationResult;
      /** The file's SHA-256 (of its bytes as stored: compressed when gzip), base64, for the upload. */
      readonly sha256: string;
      readonly csvBytes: number;
    }
  | { readonly type: 'failed'; readonly message: string };

/** Validating worker → its hashing helper (the same script): bytes to hash, then the request for the digest. */
export type HashRequest = { readonly type: 'hash'; readonly chunk: Uint8Array } | { readonly type: 'digest' };

/** Hashing helper → validating worker: bytes hashed (so the reader may go on), then the digest. */
export type HashAnswer =
  | { readonly type: 'hashed'; readonly bytes: number }
  | { readonly type: 'digest'; readonly digest: Uint8Array };
