/**
 * The Iceberg committer's cost: append latency (one data file per commit) on a table with 1
 * snapshot and with 1,000, and the size of what each commit rewrites (the metadata JSON; the
 * manifest list), against the local S3 server and the local pointer catalog. Part of
 * `npm run bench` (bench/validate.bench.ts); `tsx bench/iceberg-commit.ts [--quick]` runs it alone
 * and rewrites its BENCHMARKS.md section (not with --quick).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { readManifestList } from '../lib/iceberg/avro.ts';
import { localTableCatalog } from '../lib/iceberg/local-catalog.ts';
import { currentSnapshot } from '../lib/iceberg/metadata.ts';
import { s3ObjectStore } from '../lib/iceberg/s3-store.ts';
import type { IcebergSchema } from '../lib/iceberg/schema.ts';
import {
  appendFiles,
  ensureTable,
  type IcebergDeps,
  loadTable,
  type TableRef,
} from '../lib/iceberg/table.ts';
import { localS3Client, startLocalS3 } from '../lib/local/s3-server.ts';
import { writeSection } from './report-section.ts';

/** The section of BENCHMARKS.md this script owns. */
export const ICEBERG_SECTION = 'Iceberg commit';

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 2, name: 'order_id', required: true, type: 'long' },
    { id: 1, name: 'ingest_date', required: true, type: 'date' },
  ],
};

/** Latencies at one table size. */
export interface CommitSeries {
  /** Snapshots in the table before the timed commits. */
  readonly snapshots: number;
  readonly commits: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** The metadata JSON and the manifest list after the timed commits, in bytes. */
  readonly metadataBytes: number;
  readonly manifestListBytes: number;
  readonly manifests: number;
}

/** What {@link measureIcebergCommit} measured. */
export interface IcebergCommitReport {
  readonly small: CommitSeries;
  readonly large: CommitSeries;
  /** Time to build the large table (all its commits, untimed individually), seconds. */
  readonly buildSeconds: number;
  /** One-minute load average at the start (two cores shared with whatever else runs). */
  readonly loadAverage: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Measures append latency at 1 and at `snapshots` snapshots (`commits` timed appends each). */
export async function measureIcebergCommit(
  opts: { readonly snapshots?: number; readonly commits?: number } = {},
): Promise<IcebergCommitReport> {
  const loadAverage = os.loadavg()[0]!;
  const large = opts.snapshots ?? 1000;
  const commits = opts.commits ?? 20;
  const dir = await mkdtemp(join(tmpdir(), 'iceberg-bench-'));
  const server = await startLocalS3({ directory: join(dir, 's3'), buckets: ['curated'] });
  const client = localS3Client(server.endpoint);
  try {
    const store = s3ObjectStore(client);
    const deps: IcebergDeps = { store, catalog: localTableCatalog(join(dir, 'catalog')) };
    // One small data file (DuckDB, field ids), stored again under each commit's own path.
    const local = join(dir, 'f.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    await conn.run(
      `COPY (SELECT range::BIGINT AS order_id, DATE '2026-12-01' AS ingest_date FROM range(100)) TO '${local}' (FORMAT parquet, FIELD_IDS {order_id: 2, ingest_date: 1})`,
    );
    conn.closeSync();
    const bytes = new Uint8Array(await readFile(local));
    let n = 0;
    const appendOne = async (t: TableRef) => {
      const path = `${t.location}/data/ingest_date=2026-12-01/f${n++}.parquet`;
      await store.put(path, bytes);
      const start = performance.now();
      await appendFiles(deps, t, [
        { tag: `src${n}#1`, files: [{ path, rows: 100, bytes: bytes.byteLength, ingestDate: '2026-12-01' }] },
      ]);
      return performance.now() - start;
    };
    const sizes = async (t: TableRef, snapshots: number, times: number[]): Promise<CommitSeries> => {
      const { pointer, metadata } = await loadTable(deps, t);
      const list = await store.get(currentSnapshot(metadata)!['manifest-list']);
      const sorted = [...times].sort((a, b) => a - b);
      return {
        snapshots,
        commits: times.length,
        medianMs: median(times),
        p95Ms: percentile(sorted, 95),
        metadataBytes: (await store.size(pointer.metadataLocation))!,
        manifestListBytes: list!.byteLength,
        manifests: readManifestList(list!).length,
      };
    };

    // At 1 snapshot: a fresh table per timed commit, each holding one snapshot already.
    const smallTimes: number[] = [];
    let lastSmall: TableRef | undefined;
    for (let i = 0; i < commits; i++) {
      const t = { database: 'bench', name: `small${i}`, location: `s3://curated/small${i}/iceberg` };
      await ensureTable(deps, t, SCHEMA);
      await appendOne(t);
      smallTimes.push(await appendOne(t));
      lastSmall = t;
    }
    const small = await sizes(lastSmall!, 1, smallTimes);

    // At `large` snapshots: one table grown to that size, then the timed commits.
    const big = { database: 'bench', name: 'large', location: 's3://curated/large/iceberg' };
    await ensureTable(deps, big, SCHEMA);
    const buildStart = performance.now();
    for (let i = 0; i < large; i++) await appendOne(big);
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const largeTimes: number[] = [];
    for (let i = 0; i < commits; i++) largeTimes.push(await appendOne(big));
    return { small, large: await sizes(big, large, largeTimes), buildSeconds, loadAverage };
  } finally {
    client.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number, digits: number) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The report as a markdown table and notes. */
export function icebergCommitMarkdown(r: IcebergCommitReport, command: string): string {
  const row = (s: CommitSeries) =>
    `| ${s.snapshots.toLocaleString('en-US')} | ${s.commits} | ${fmt(s.medianMs, 1)} ms | ${fmt(s.p95Ms, 1)} ms | ${fmt(s.metadataBytes / 1024, 1)} KiB | ${fmt(s.manifestListBytes / 1024, 1)} KiB (${s.manifests} manifests) |`;
  return [
    '| snapshots before | timed commits | median append | p95 append | metadata JSON after | manifest list after |',
    '|---:|---:|---:|---:|---:|---:|',
    row(r.small),
    row(r.large),
    '',
    `- One data file per commit (\`appendFiles\`: manifest, manifest list, metadata JSON, pointer swap), against the local S3 server (s3rver, in this process) and the local pointer catalog; the data file is written before the clock starts. Building the ${r.large.snapshots.toLocaleString('en-US')}-snapshot table took ${fmt(r.buildSeconds, 1)} s (${fmt((r.buildSeconds * 1000) / r.large.snapshots, 1)} ms a commit on average). Load average ${fmt(r.loadAverage, 2)} at the start: the two cores are shared, so compare medians of runs on a quiet machine.`,
    `- What grows with history is the metadata JSON every commit reads and rewrites whole (every snapshot with its summary): snapshot expiry (\`expireSnapshots\`, the table's \`history.expire.*\` properties, Glue's retention on AWS) is what keeps it small. The manifest list stays small: manifests are merged into one past 100, as Iceberg's MergeAppend does, so a p95 may include a merge.`,
    `- Written by ${command}.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const report = await measureIcebergCommit(values.quick ? { snapshots: 100, commits: 5 } : {});
  const md = icebergCommitMarkdown(report, '`tsx bench/iceberg-commit.ts`');
  console.log(md);
  if (!values.quick) await writeSection(ICEBERG_SECTION, md);
}
