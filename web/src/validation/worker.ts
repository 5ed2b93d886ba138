/**
 * The validation worker: validates the dropped file off the page's thread (a 1 GB file keeps the
 * page responsive) and streams progress and errors back as it reads. The same script is also its
 * own hashing helper: the validating worker starts a second copy and hands it a copy of each
 * chunk, so SHA-256 runs on another core in the same pass over the file.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { HashAnswer, HashRequest, ValidateRequest, WorkerMessage } from './protocol.ts';
import { type FileHasher, forwardProgress, inlineHasher, validateFile } from './validate-file.ts';

/** The parts of a worker's global scope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ValidateRequest | HashRequest>) => void) | null;
  postMessage(message: WorkerMessage | HashAnswer, transfer?: Transferable[]): void;
  readonly location: { readonly href: string };
  readonly Worker?: typeof Worker;
}

const scope = self as unknown as WorkerScope;

/** Bytes handed to the helper and not yet hashed, past which the reader waits: bounds memory. */
const HASH_WINDOW = 16 << 20;

/** SHA-256 in a helper worker (this script again); on this thread where workers cannot start workers. */
function helperHasher(): FileHasher {
  if (!scope.Worker) return inlineHasher();
  const helper = new scope.Worker(scope.location.href);
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let answer: ((digest: Uint8Array) => void) | undefined;
  let failure: ((error: Error) => void) | undefined;
  helper.onmessage = (event: MessageEvent<HashAnswer>) => {
    const m = event.data;
    if (m.type === 'hashed') {
      inFlight -= m.bytes;
      if (wake && inFlight <= HASH_WINDOW / 2) {
        wake();
        wake = undefined;
      }
    } else {
      answer?.(m.digest);
      helper.terminate();
    }
  };
  helper.onerror = (event) => failure?.(new Error(`the checksum helper stopped: ${event.message}`));
  return {
    update(chunk) {
      // A copy: the validator may still hold the chunk (a partial record), so it cannot be transferred.
      const copy = chunk.slice();
      inFlight += copy.length;
      helper.postMessage({ type: 'hash', chunk: copy } satisfies HashRequest, [copy.buffer]);
      return inFlight > HASH_WINDOW ? new Promise<void>((resolve) => (wake = resolve)) : undefined;
    },
    digest: () =>
      new Promise<Uint8Array>((resolve, reject) => {
        answer = resolve;
        failure = reject;
        helper.postMessage({ type: 'digest' } satisfies HashRequest);
      }),
  };
}

/** This copy's hash, when it is a helper. */
let helping: ReturnType<typeof sha256.create> | undefined;

scope.onmessage = (event) => {
  const data = event.data;
  if ('type' in data) {
    helping ??= sha256.create();
    if (data.type === 'hash') {
      helping.update(data.chunk);
      scope.postMessage({ type: 'hashed', bytes: data.chunk.length });
    } else {
      const digest = helping.digest();
      scope.postMessage({ type: 'digest', digest }, [digest.buffer]);
    }
    return;
  }
  const { file, dataset, maxErrors } = data;
  const onProgress = forwardProgress(maxErrors, (news) => scope.postMessage({ type: 'progress', ...news }));
  validateFile(file, dataset, maxErrors, { onProgress }, helperHasher()).then(
    ({ result, sha256, csvBytes }) => scope.postMessage({ type: 'done', result, sha256, csvBytes }),
    (error: unknown) =>
      scope.postMessage({
        type: 'failed',
        message: `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
      }),
  );
};
