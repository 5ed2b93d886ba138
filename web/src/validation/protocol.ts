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

/** Worker → page, in this order: progress and error batches as the file is read, then one end. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly bytesRead: number; readonly errors: readonly ValidationError[] }
  | {
      readonly type: 'done';
      readonly result: ValidationResult;
      /** The file's SHA-256 (of its bytes as stored: compressed when gzip), base64, for the upload. */
      readonly sha256: string;
      readonly csvBytes: number;
    }
  | { readonly type: 'failed'; readonly message: string };
