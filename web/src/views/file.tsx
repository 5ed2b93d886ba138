/** One file: its versions, its way through the pipeline, and for a rejected one its report and errors. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ErrorsResponse, FileResponse } from '../../../lib/console/contract.ts';
import { ApiError } from '../api.ts';
import { useApp } from '../app-context.ts';
import { formatBytes, formatCount, formatTime, MOVING } from '../format.ts';
import { href } from '../router.ts';
import { CountTable, Problem, StatusBadge, usePoll, ViewHeading } from './common.tsx';
import { ErrorTable, type RecordContext } from './errors.tsx';

/** Errors a page of the report asks for. */
const ERRORS_PAGE = 20;

export function FileView({
  fileKey,
  version,
  uploaded,
}: {
  fileKey: string;
  version: string | undefined;
  uploaded: boolean;
}) {
  const { api, datasets } = useApp();
  const [file, setFile] = useState<FileResponse>();
  const [problem, setProblem] = useState<string>();
  const [waiting, setWaiting] = useState(uploaded);
  const [errors, setErrors] = useState<ErrorsResponse>();
  const [errorsProblem, setErrorsProblem] = useState<string>();

  const load = async () => {
    try {
      setFile(await api.file(fileKey, version));
      setWaiting(false);
      setProblem(undefined);
    } catch (error) {
      // Just uploaded: the ledger has no item for this version until the lake's trigger records it.
      if (uploaded && error instanceof ApiError && error.code === 'not_found') return;
      setProblem((error as Error).message);
    }
  };
  useEffect(() => {
    setFile(undefined);
    setErrors(undefined);
    void load();
  }, [fileKey, version]);
  const status = file?.file.status;
  usePoll(waiting || (status !== undefined && MOVING.includes(status)), 1500, () => void load());

  const shownVersion = file?.file.version;
  const loadErrors = async (cursor?: string) => {
    try {
      const page = await api.errors(fileKey, shownVersion, cursor, ERRORS_PAGE);
      setErrors((before) =>
        before && cursor
          ? {
              ...page,
              errors: [...before.errors, ...page.errors],
              records: [...before.records, ...page.records],
            }
          : page,
      );
      setErrorsProblem(undefined);
    } catch (error) {
      setErrorsProblem((error as Error).message);
    }
  };
  useEffect(() => {
    if (status === 'REJECTED' && file?.report) void loadErrors();
  }, [status, shownVersion]);

  const dataset = datasets?.find((d) => d.name === file?.file.dataset);
  const context = useMemo(() => errors && recordContext(errors), [errors]);

  if (problem) {
    return (
      <section>
        <ViewHeading>File {fileKey}</ViewHeading>
        <Problem>{problem}</Problem>
      </section>
    );
  }
  if (!file) {
    return (
      <section>
        <ViewHeading>File {fileKey}</ViewHeading>
        <p aria-live="polite">{waiting ? 'Uploaded. Waiting for the pipeline to receive it…' : 'Loading…'}</p>
      </section>
    );
  }
  const f = file.file;
  return (
    <section>
      <ViewHeading>File {f.key}</ViewHeading>
      <p class="file-status" aria-live="polite">
        Status: <StatusBadge status={f.status} />
        {MOVING.includes(f.status) && (
          <span class="aside"> (this page refreshes until the file is done)</span>
        )}
      </p>
      <dl class="facts">
        <dt>Dataset</dt>
        <dd>
          <a href={href('files', { dataset: f.dataset })}>{f.dataset}</a>
        </dd>
        <dt>Size</dt>
        <dd>{formatBytes(f.size)}</dd>
        {f.rows !== undefined && (
          <>
            <dt>Rows</dt>
            <dd>{formatCount(f.rows)}</dd>
          </>
        )}
        {f.errorCount !== undefined && (
          <>
            <dt>Errors</dt>
            <dd>{formatCount(f.errorCount)}</dd>
          </>
        )}
        {f.reason && (
          <>
            <dt>Reason</dt>
            <dd>{f.reason}</dd>
          </>
        )}
        {f.cause && (
          <>
            <dt>Cause</dt>
            <dd>{f.cause}</dd>
          </>
        )}
        <dt>Version</dt>
        <dd>
          <code>{f.version}</code>
        </dd>
      </dl>
      <h2>Timeline</h2>
      <ol class="timeline">
        {file.timeline.map((step) => (
          <li key={step.status}>
            <StatusBadge status={step.status} /> <time dateTime={step.at}>{formatTime(step.at)}</time>
          </li>
        ))}
      </ol>
      {file.versions.length > 1 && (
        <>
          <h2>Versions</h2>
          <ul>
            {file.versions.map((v) => (
              <li key={v.version}>
                <a
                  href={href('file', { key: f.key, version: v.version })}
                  aria-current={v.version === f.version ? 'page' : undefined}
                >
                  {formatTime(v.receivedAt)}
                </a>{' '}
                <StatusBadge status={v.status} />
              </li>
            ))}
          </ul>
        </>
      )}
      {f.status === 'CURATED' && (
        <p>
          Its rows are in table <code>{dataset?.table ?? f.dataset}</code>:{' '}
          <a href={href('query', { table: dataset?.table ?? f.dataset })}>query them</a>.
        </p>
      )}
      {file.reportProblem && <Problem>{file.reportProblem}</Problem>}
      {file.report && (
        <>
          <h2>Report</h2>
          <p>
            {file.report.reason}: {formatCount(file.report.errorCount)} errors in{' '}
            {formatCount(file.report.rows)} rows.
          </p>
          <div class="count-tables">
            <CountTable caption="Errors by column" label="column" counts={file.report.errorsByColumn} />
            <CountTable caption="Errors by rule" label="rule" counts={file.report.errorsByRule} />
          </div>
          <h2>Errors</h2>
          {errorsProblem && <Problem>{errorsProblem}</Problem>}
          {errors && (
            <>
              <p class="aside">
                {formatCount(errors.errors.length)} of {formatCount(errors.total)} errors shown, each with its
                line of the file where it could be read; the offending value is highlighted.
              </p>
              <ErrorTable caption={`Errors in ${f.key}`} errors={errors.errors} context={context} />
              {errors.next && (
                <button type="button" onClick={() => void loadErrors(errors.next)}>
                  More errors
                </button>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}

/** The header and records of the errors shown, for {@link ErrorTable}; none without a header. */
function recordContext(page: ErrorsResponse): RecordContext | undefined {
  if (!page.header) return undefined;
  return { header: page.header, records: new Map(page.records.map((r) => [r.line, r])) };
}
