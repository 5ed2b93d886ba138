/** The query editor: one read-only SELECT at a time, its results paged, its cost when the engine gives one. */
import { useEffect, useState } from 'preact/hooks';
import type { QueryPage } from '../../../lib/console/contract.ts';
import { useApp } from '../app-context.ts';
import { formatBytes, formatCount } from '../format.ts';
import { Problem, ScrollRegion, TableHead, ViewHeading } from './common.tsx';

type Run =
  | { readonly phase: 'idle' }
  | { readonly phase: 'running'; readonly state: string }
  | { readonly phase: 'done'; readonly page: QueryPage; readonly rows: readonly Record<string, unknown>[] }
  | { readonly phase: 'failed'; readonly message: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function QueryView({ table }: { table: string | undefined }) {
  const { api, datasets } = useApp();
  const example = (t: string | undefined) => (t ? `SELECT * FROM ${t} LIMIT 100` : '');
  const [sql, setSql] = useState(() => example(table ?? datasets?.[0]?.table));
  const [run, setRun] = useState<Run>({ phase: 'idle' });

  // The datasets may arrive after the view opens: an example then, unless something was typed.
  useEffect(() => setSql((typed) => typed || example(table ?? datasets?.[0]?.table)), [datasets, table]);

  const execute = async () => {
    if (run.phase === 'running' || !sql.trim()) return;
    setRun({ phase: 'running', state: 'QUEUED' });
    try {
      const started = await api.startQuery(sql);
      let page = await api.queryPage(started.id);
      // Athena takes seconds; the local engine answers at once.
      for (
        let wait = 250;
        page.state === 'QUEUED' || page.state === 'RUNNING';
        wait = Math.min(2000, wait * 2)
      ) {
        setRun({ phase: 'running', state: page.state });
        await sleep(wait);
        page = await api.queryPage(started.id);
      }
      if (page.state !== 'SUCCEEDED') {
        setRun({ phase: 'failed', message: page.message ?? `the query ended ${page.state.toLowerCase()}` });
        return;
      }
      setRun({ phase: 'done', page, rows: page.rows ?? [] });
    } catch (error) {
      setRun({ phase: 'failed', message: (error as Error).message });
    }
  };

  const more = async () => {
    if (run.phase !== 'done' || !run.page.next) return;
    try {
      const page = await api.queryPage(run.page.id, run.page.next);
      setRun({ phase: 'done', page, rows: [...run.rows, ...(page.rows ?? [])] });
    } catch (error) {
      setRun({ phase: 'failed', message: (error as Error).message });
    }
  };

  return (
    <section>
      <ViewHeading>Query</ViewHeading>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void execute();
        }}
      >
        <label for="sql">SQL (one read-only SELECT; Ctrl+Enter runs it)</label>
        <textarea
          id="sql"
          rows={6}
          spellcheck={false}
          value={sql}
          onInput={(e) => setSql(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void execute();
            }
          }}
        />
        <div class="actions">
          <button type="submit" class="primary" disabled={run.phase === 'running'}>
            Run
          </button>
          {datasets && <span class="aside">Tables: {datasets.map((d) => d.table).join(', ')}</span>}
        </div>
      </form>
      <div aria-live="polite">
        {run.phase === 'running' && <p>Running ({run.state.toLowerCase()})…</p>}
        {run.phase === 'failed' && <Problem>{run.message}</Problem>}
        {run.phase === 'done' && <Results run={run} onMore={more} />}
      </div>
    </section>
  );
}

function Results({ run, onMore }: { run: Extract<Run, { phase: 'done' }>; onMore: () => void }) {
  const columns = run.page.columns ?? Object.keys(run.rows[0] ?? {});
  const facts = [
    `${formatCount(run.rows.length)} rows${run.page.next ? ' so far' : ''}`,
    run.page.scannedBytes !== undefined ? `${formatBytes(run.page.scannedBytes)} scanned` : undefined,
    run.page.costUsd !== undefined
      ? `cost $${run.page.costUsd.toFixed(run.page.costUsd < 0.01 ? 6 : 2)}`
      : undefined,
  ].filter(Boolean);
  return (
    <>
      <p data-testid="query-facts">{facts.join(' · ')}</p>
      {run.page.truncated && (
        <p class="aside">The results go on past the row limit: narrow the query to see the rest.</p>
      )}
      <ScrollRegion label="query results">
        <table class="results">
          <caption>Results</caption>
          <TableHead columns={columns} />
          <tbody>
            {run.rows.map((row, i) => (
              <tr key={i}>
                {columns.map((c) => (
                  <td key={c}>{cell(row[c])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      {run.page.next && (
        <button type="button" onClick={onMore}>
          More rows
        </button>
      )}
    </>
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
