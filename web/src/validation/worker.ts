/**
 * The validation worker: validates the dropped file off the page's thread (a 1 GB file keeps the
 * page responsive) and streams progress and errors back as it reads.
 */
import type { ValidateRequest, WorkerMessage } from './protocol.ts';
import { validateFile } from './validate-file.ts';

/** The parts of the worker's global scope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ValidateRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  const { file, dataset, maxErrors } = event.data;
  let last = 0;
  validateFile(file, dataset, maxErrors, {
    onProgress: (bytesRead, errors) => {
      // A message per chunk would flood the page on a fast disk: at most every 4 MB, or with news.
      if (errors.length === 0 && bytesRead - last < 4 << 20) return;
      last = bytesRead;
      scope.postMessage({ type: 'progress', bytesRead, errors });
    },
  }).then(
    ({ result, sha256, csvBytes }) => scope.postMessage({ type: 'done', result, sha256, csvBytes }),
    (error: unknown) =>
      scope.postMessage({
        type: 'failed',
        message: `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
      }),
  );
};
