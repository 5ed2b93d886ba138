/** The ledger: every file received, newest first, paged, filtered, with live status. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { LEDGER_STATUSES } from '../../../lib/ledger/model.ts';
import { useApp } from '../app-context.ts';
import { formatBytes, formatCount, formatTime, MOVING, STATUS_WORDS } from '../format.ts';
import { type FilesPage, olderPage, type PageFetcher, reloadPages } from '../paging.ts';
import { href } from '../router.ts';
import { Problem, ScrollRegion, StatusBadge, TableHead, usePoll, ViewHeading } from './common.tsx';

/** Files a page asks for. */
const PAGE = 25;
const MOVING_POLL_MS = 2000;
const IDLE_POLL_MS = 10_000;

export function FilesView({ dataset, status }: { dataset: string | undefined; status: string | undefined }) {
  const { api, datasets } = useApp();
  const [pages, setPages] = useState<readonly FilesPage[]>([]);
  const [problem, setProblem] = useState<string>();
  const [loading, setLoading] = useState(false);
  // Loads run one at a time, each from the pages the one before left: a poll and "Older files"
  // never race (the later would overwrite the other's pages with ones from a stale cursor).
  const queue = useRef<Promise<void>>(Promise.resolve());
  const shown = useRef<readonly FilesPage[]>([]);
  const pending = useRef(0);

  const load = (next: (fetchPage: PageFetcher, before: readonly FilesPage[]) => Promise<FilesPage[]>) => {
    const fetchPage: PageFetcher = (cursor) => api.files({ dataset, status, cursor, limit: PAGE });
    pending.current++;
    const run = queue.current.then(async () => {
      try {
        shown.current = await next(fetchPage, shown.current);
        setPages(shown.current);
        setProblem(undefined);
      } catch (error) {
        setProblem((error as Error).message);
      } finally {
        pending.current--;
      }
    });
    queue.current = run;
    return run;
  };

  useEffect(() => {
    shown.current = [];
    setPages([]);
    setLoading(true);
    load((fetchPage) => reloadPages(fetchPage, 1)).finally(() => setLoading(false));
  }, [dataset, status]);

  const files = pages.flatMap((p) => p.files);
  const moving = files.some((f) => MOVING.includes(f.status));
  // Every shown page is refreshed: often while a file is on its way (RECEIVED, VALIDATED), and
  // now and then otherwise, for files that arrive meanwhile (one just uploaded may not be listed yet).
  // A slow refresh (many pages shown) is not queued behind by more polls.
  usePoll(true, moving ? MOVING_POLL_MS : IDLE_POLL_MS, () => {
    if (pending.current === 0) void load((fetchPage, before) => reloadPages(fetchPage, before.length));
  });
  const next = pages.at(-1)?.next;

  const filter = (name: 'dataset' | 'status', value: string) => {
    location.hash = href('files', { dataset, status, [name]: value });
  };

  return (
    <section>
      <ViewHeading>Files</ViewHeading>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          id="filter-dataset"
          label="Dataset"
          value={dataset}
          any="all datasets"
          options={(datasets ?? []).map((d) => [d.name, d.name])}
          onChange={(v) => filter('dataset', v)}
        />
        <FilterSelect
          id="filter-status"
          label="Status"
          value={status}
          any="any status"
          options={LEDGER_STATUSES.map((s) => [s, STATUS_WORDS[s]])}
          onChange={(v) => filter('status', v)}
        />
      </form>
      {problem && <Problem>{problem}</Problem>}
      <p aria-live="polite" class="aside">
        {loading
          ? 'Loading files…'
          : moving
            ? 'Some files are still on their way: this list refreshes every 2 seconds.'
            : `${formatCount(files.length)} files shown.`}
      </p>
      {files.length === 0 && !loading && !problem && (
        <p>No file yet{dataset || status ? ' matches these filters' : ''}.</p>
      )}
      {files.length > 0 && (
        <ScrollRegion label="files">
          <table class="files">
            <caption>Files received, newest first</caption>
            <TableHead columns={['file', 'dataset', 'status', 'received', 'size', 'rows', 'errors']} />
            <tbody>
              {files.map((f) => (
                <tr key={`${f.key}@${f.version}`} data-key={f.key}>
                  <th scope="row">
                    <a href={href('file', { key: f.key, version: f.version })}>{f.key}</a>
                  </th>
                  <td>{f.dataset}</td>
                  <td>
                    <StatusBadge status={f.status} />
                  </td>
                  <td>{formatTime(f.receivedAt)}</td>
                  <td class="num">{formatBytes(f.size)}</td>
                  <td class="num">{f.rows === undefined ? '' : formatCount(f.rows)}</td>
                  <td class="num">{f.errorCount === undefined ? '' : formatCount(f.errorCount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {next && (
        <button type="button" onClick={() => void load(olderPage)}>
          Older files
        </button>
      )}
    </section>
  );
}

/** A labelled select of one filter, its first option "any". */
function FilterSelect(props: {
  id: string;
  label: string;
  value: string | undefined;
  any: string;
  options: readonly (readonly [string, string])[];
  onChange: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value ?? ''} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">{props.any}</option>
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}
