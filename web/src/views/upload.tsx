/**
 * The drop zone: checks a file in the browser with the pipeline's own validator (in a worker,
 * streaming), shows its errors at once, then uploads it by the API's presigned POST.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DatasetView, UploadResponse } from '../../../lib/console/contract.ts';
import type { ValidationError, ValidationResult } from '../../../lib/validation/csv-validator.ts';
import { uploadedVersion, uploadFailure } from '../api.ts';
import { useApp } from '../app-context.ts';
import { formatBytes, formatCount } from '../format.ts';
import { href } from '../router.ts';
import type { ValidateRequest, WorkerMessage } from '../validation/protocol.ts';
import { CountTable, Problem, ViewHeading } from './common.tsx';
import { ErrorTable } from './errors.tsx';

/** Errors listed in the page (all are counted): enough to see every kind, few enough to stay quick. */
const MAX_LISTED_ERRORS = 1000;

type Check =
  | {
      readonly phase: 'checking';
      readonly bytesRead: number;
      readonly errors: readonly ValidationError[];
      readonly errorCount: number;
    }
  | {
      readonly phase: 'checked';
      readonly result: ValidationResult;
      readonly sha256: string;
      readonly seconds: number;
    }
  | { readonly phase: 'failed'; readonly message: string };

type Upload =
  | { readonly phase: 'idle' }
  | { readonly phase: 'sending'; readonly sent: number }
  | { readonly phase: 'failed'; readonly message: string };

export function UploadView({ initialDataset }: { initialDataset: string | undefined }) {
  const { datasets, datasetsError, config, api } = useApp();
  const [datasetName, setDatasetName] = useState(initialDataset ?? '');
  const [file, setFile] = useState<File>();
  const [check, setCheck] = useState<Check>();
  const [upload, setUpload] = useState<Upload>({ phase: 'idle' });
  const [dragging, setDragging] = useState(false);
  const worker = useRef<Worker>();

  useEffect(() => {
    if (!datasetName && datasets?.[0]) setDatasetName(initialDataset ?? datasets[0].name);
  }, [datasets]);
  useEffect(() => () => worker.current?.terminate(), []);

  const dataset: DatasetView | undefined = datasets?.find((d) => d.name === datasetName);

  const start = (chosen: File, ds: DatasetView | undefined) => {
    worker.current?.terminate();
    setFile(chosen);
    setUpload({ phase: 'idle' });
    if (!ds) return;
    const w = new Worker('worker.js');
    worker.current = w;
    const began = performance.now();
    let errors: ValidationError[] = [];
    setCheck({ phase: 'checking', bytesRead: 0, errors, errorCount: 0 });
    w.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const m = event.data;
      if (m.type === 'progress') {
        // The worker sends at most MAX_LISTED_ERRORS errors in all, and counts the rest.
        if (m.errors.length > 0) errors = [...errors, ...m.errors];
        setCheck({ phase: 'checking', bytesRead: m.bytesRead, errors, errorCount: m.errorCount });
      } else if (m.type === 'done') {
        setCheck({
          phase: 'checked',
          result: m.result,
          sha256: m.sha256,
          seconds: (performance.now() - began) / 1000,
        });
        w.terminate();
      } else {
        setCheck({ phase: 'failed', message: m.message });
        w.terminate();
      }
    };
    w.onerror = (event) => {
      setCheck({ phase: 'failed', message: `the checker stopped: ${event.message}` });
      w.terminate();
    };
    const request: ValidateRequest = { file: chosen, dataset: ds.declaration, maxErrors: MAX_LISTED_ERRORS };
    w.postMessage(request);
  };

  const chooseDataset = (name: string) => {
    setDatasetName(name);
    if (file)
      start(
        file,
        datasets?.find((d) => d.name === name),
      );
  };

  const send = async () => {
    if (!file || !dataset || check?.phase !== 'checked') return;
    setUpload({ phase: 'sending', sent: 0 });
    try {
      const form = await api.upload({
        dataset: dataset.name,
        name: file.name,
        size: file.size,
        sha256: check.sha256,
      });
      const version = await postForm(form, file, (sent) => setUpload({ phase: 'sending', sent }));
      // This upload's own ledger item: the key alone would show the newest item the ledger already
      // has, which for a name sent before is the earlier file's.
      location.hash = href('file', { key: form.key, version, uploaded: '1' });
    } catch (error) {
      setUpload({ phase: 'failed', message: (error as Error).message });
    }
  };

  const nameProblem =
    file && !/\.csv(\.gz)?$/i.test(file.name)
      ? `the file "${file.name}" is not named .csv or .csv.gz: rename it, then choose it again`
      : undefined;
  const sizeProblem =
    file && file.size > config.maxUploadBytes
      ? `the file is ${formatBytes(file.size)}, over the upload limit of ${formatBytes(config.maxUploadBytes)}: split it, or send it to the landing bucket with the CLI`
      : undefined;

  return (
    <section>
      <ViewHeading>Check and upload a file</ViewHeading>
      <p>
        The file is checked here, in your browser, with the same rules the lake applies: nothing is sent until
        you upload it.
      </p>
      {datasetsError && <Problem>{datasetsError}</Problem>}
      <div class="field">
        <label for="dataset">Dataset</label>
        <select id="dataset" value={datasetName} onChange={(e) => chooseDataset(e.currentTarget.value)}>
          {datasets?.map((d) => (
            <option key={d.name} value={d.name}>
              {d.name}
            </option>
          ))}
        </select>
        {dataset && (
          <a class="aside" href={href('datasets')}>
            rules of {dataset.name}
          </a>
        )}
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is by pointer only; the labelled file input inside is the keyboard's way */}
      <div
        class={`dropzone${dragging ? ' dragging' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const dropped = e.dataTransfer?.files[0];
          if (dropped) start(dropped, dataset);
        }}
      >
        <p>Drop a CSV file here, or</p>
        <label for="file">Choose a CSV file (.csv or .csv.gz)</label>
        <input
          id="file"
          type="file"
          accept=".csv,.gz,text/csv"
          onChange={(e) => {
            const chosen = e.currentTarget.files?.[0];
            if (chosen) start(chosen, dataset);
          }}
        />
      </div>
      {file && <CheckReport file={file} check={check} />}
      {nameProblem && <Problem>{nameProblem}</Problem>}
      {sizeProblem && <Problem>{sizeProblem}</Problem>}
      {file && check?.phase === 'checked' && !nameProblem && !sizeProblem && (
        <div class="actions">
          {check.result.valid ? (
            <button type="button" class="primary" onClick={send} disabled={upload.phase === 'sending'}>
              Upload {file.name} to {datasetName}
            </button>
          ) : (
            <button type="button" onClick={send} disabled={upload.phase === 'sending'}>
              Upload anyway — the lake will reject it and report its errors
            </button>
          )}
        </div>
      )}
      {upload.phase === 'sending' && file && (
        <p>
          <label for="upload-progress">Uploading {file.name}</label>{' '}
          <progress id="upload-progress" max={file.size} value={upload.sent} />{' '}
          {Math.floor((100 * upload.sent) / Math.max(1, file.size))}%
        </p>
      )}
      {upload.phase === 'failed' && <Problem>{upload.message}</Problem>}
    </section>
  );
}

function CheckReport({ file, check }: { file: File; check: Check | undefined }) {
  if (!check) return null;
  if (check.phase === 'failed') return <Problem>{check.message}</Problem>;
  const errors = check.phase === 'checking' ? check.errors : check.result.errors;
  return (
    <div class="check" aria-live="polite">
      {check.phase === 'checking' ? (
        <p>
          <label for="check-progress">Checking {file.name}</label>{' '}
          <progress id="check-progress" max={file.size} value={check.bytesRead} />{' '}
          {formatBytes(check.bytesRead)} of {formatBytes(file.size)}
          {check.errorCount > 0 && `, ${formatCount(check.errorCount)} errors so far`}
        </p>
      ) : check.result.valid ? (
        <p class="verdict verdict-valid" data-testid="verdict">
          Valid: {file.name} has {formatCount(check.result.rows)} rows and no errors (checked{' '}
          {formatBytes(check.result.bytes)} in {check.seconds.toFixed(1)} s).
        </p>
      ) : (
        <p class="verdict verdict-invalid" data-testid="verdict">
          Not valid: {formatCount(check.result.errorCount)} errors in {file.name} (
          {formatCount(check.result.rows)} rows checked). The lake would reject it.
          {check.result.errorCount > check.result.errors.length &&
            ` The first ${formatCount(check.result.errors.length)} are listed.`}
        </p>
      )}
      {check.phase === 'checked' && !check.result.valid && (
        <div class="count-tables">
          <CountTable caption="Errors by column" label="column" counts={check.result.errorsByColumn} />
          <CountTable
            caption="Errors by rule"
            label="rule"
            counts={check.result.errorsByRule as Record<string, number>}
          />
        </div>
      )}
      {errors.length > 0 && <ErrorTable caption={`Errors in ${file.name}`} errors={errors} />}
    </div>
  );
}

/**
 * POSTs the presigned form: its fields, then the file last (S3 ignores fields after it), with
 * progress. Resolves with the stored object's ledger version, when S3's answer tells it.
 */
function postForm(
  form: UploadResponse,
  file: File,
  onProgress: (sent: number) => void,
): Promise<string | undefined> {
  const body = new FormData();
  for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
  body.append('file', file);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.url);
    xhr.upload.onprogress = (e) => onProgress(Math.min(e.loaded, file.size));
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve(uploadedVersion(xhr.getResponseHeader('x-amz-version-id'), xhr.getResponseHeader('etag')))
        : reject(new Error(uploadFailure(xhr.status, xhr.responseText)));
    xhr.onerror = () => reject(new Error(uploadFailure(0, '')));
    xhr.send(body);
  });
}
