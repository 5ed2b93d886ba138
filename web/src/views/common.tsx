/** Small pieces the views share. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { LedgerStatus } from '../../../lib/ledger/model.ts';
import { STATUS_WORDS } from '../format.ts';

/** A status in words (the class only adds colour). */
export function StatusBadge({ status }: { status: LedgerStatus }) {
  return <span class={`status status-${status.toLowerCase()}`}>{STATUS_WORDS[status] ?? status}</span>;
}

/** A problem the user should read, announced to screen readers. */
export function Problem({ children }: { children: ComponentChildren }) {
  return (
    <p class="problem" role="alert">
      {children}
    </p>
  );
}

/** Counts by key as a small two-column table, largest first. */
export function CountTable({
  caption,
  label,
  counts,
}: {
  caption: string;
  label: string;
  counts: Readonly<Record<string, number>>;
}) {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return null;
  return (
    <table class="counts">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col">errors</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([k, n]) => (
          <tr key={k}>
            <td>{k}</td>
            <td class="num">{n.toLocaleString('en-US')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Runs `tick` every `ms` while `active` and the page is visible. */
export function usePoll(active: boolean, ms: number, tick: () => void): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    // A hidden tab (another tab in front, a minimised window) does not poll: each poll is an API
    // call, a Lambda run and ledger reads, paid for while no one looks (BENCHMARKS.md, "Web console").
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') latest.current();
    }, ms);
    return () => clearInterval(timer);
  }, [active, ms]);
}

/** Moves focus to the view's heading when the view changes, so keyboard and screen-reader users land on it. */
export function ViewHeading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/** A table wider than the screen scrolls inside a labelled region (Chromium lets the keyboard scroll it). */
export function ScrollRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <section class="scroll" aria-label={label}>
      {children}
    </section>
  );
}

/** A table's head row: one column header a name. */
export function TableHead({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
