/**
 * Soak: randomized files (valid and invalid, some events delivered twice) through the local
 * runtime with S3 throttling injected on GetObject and CopyObject, then the reconciler; checks that
 * every landed object ends in exactly one terminal place, with no duplicated objects or rows. Then
 * the same with `local up` killed (SIGKILL) at random moments and concurrent uploads to one key:
 * see soak-crashes.ts.
 *
 *   npm run soak [-- --files N --fault-rate R --seed S --large-file-bytes L --crash-files N --kills K]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { LOCAL_BUCKETS } from '../lib/local/lake-folder.ts';
import { LocalRuntime, landingEvent } from '../lib/local/runtime.ts';
import { reconcile } from '../lib/reconcile/reconcile.ts';
import { listKeys } from '../lib/s3-keys.ts';
import { brokenOrdersCsv } from '../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows, prng } from '../lib/samples/orders-generator.ts';
import { ordersTable } from './iceberg-table.ts';
import { checkRuntimeLedger, watchLedger } from './ledger-invariants.ts';
import { writeSection } from './report-section.ts';
import { crashSoak } from './soak-crashes.ts';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000' },
    'fault-rate': { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '25' },
    'large-file-bytes': { type: 'string', default: '16384' },
    'crash-files': { type: 'string', default: '300' },
    kills: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
  },
});
const files = Number(values.files);
const faultRate = Number(values['fault-rate']);
const seed = Number(values.seed);
const batch = Number(values.batch);
const largeFileBytes = Number(values['large-file-bytes']);
const crashFiles = Number(values['crash-files']);
const kills = Number(values.kills);
if (
  !Number.isSafeInteger(crashFiles) ||
  crashFiles < 0 ||
  !Number.isSafeInteger(kills) ||
  kills < 0 ||
  !Number.isSafeInteger(files) ||
  files < 1 ||
  !(faultRate >= 0 && faultRate < 1) ||
  !(batch >= 1) ||
  !(largeFileBytes >= 1024)
) {
  process.stderr.write(
    'usage: npm run soak [-- --files N --fault-rate R (0 ≤ R < 1) --seed S --batch B --large-file-bytes L (≥ 1024) --crash-files N --kills K]\n',
  );
  process.exit(2);
}

const rand = prng(seed);
const faultRand = prng(seed + 1);
const FAULTED = new Set(['GetObjectCommand', 'CopyObjectCommand']);
let injected = 0;
/** Faults are injected while files are ingested, then lifted for the reconciler and the checks. */
let faulting = true;

const lakeDir = await mkdtemp(join(tmpdir(), 'lake-soak-'));
const runtime = await LocalRuntime.start({
  lakeDir,
  // Lowered, so that the larger files take the large-file route (validated in slices).
  largeFileBytes,
  faults: {
    s3: (command) => {
      if (!faulting || !FAULTED.has(command) || faultRand() >= faultRate) return undefined;
      injected++;
      return new S3ServiceException({
        name: 'SlowDown',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
        message: 'Please reduce your request rate.',
      });
    },
  },
});

/**
 * One randomized file: valid (1 to 5 rows; one in twenty 150 to 400 rows, above the lowered
 * large-file threshold; ids unique across the soak) or invalid.
 */
function file(i: number): { key: string; body: string; validRows: number; twice: boolean } {
  const key = `orders/soak-${String(i).padStart(5, '0')}.csv`;
  const twice = rand() < 0.1;
  if (rand() < 0.2) return { key, body: brokenOrdersCsv(), validRows: 0, twice };
  const rows = rand() < 0.05 ? 150 + Math.floor(rand() * 250) : 1 + Math.floor(rand() * 5);
  return { key, body: ORDERS_HEADER + orderRows(i, i * 1000, i * 1000 + rows), validRows: rows, twice };
}

const list = (bucket: string) => listKeys(runtime.client, bucket, '');

// The ledger sampled while files run and while the reconciler re-drives: no status moves back.
const watch = watchLedger(() => runtime.ledger.client, runtime.ledger.tableName);
const started = performance.now();
let expectedRows = 0;
let validFiles = 0;
let duplicateEvents = 0;
for (let first = 0; first < files; first += batch) {
  const group = Array.from({ length: Math.min(batch, files - first) }, (_, k) => file(first + k));
  await Promise.all(
    group.map(async (f) => {
      expectedRows += f.validRows;
      if (f.validRows > 0) validFiles++;
      const put = await runtime.client.send(
        new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: f.key, Body: f.body }),
      );
      if (!f.twice) return;
      duplicateEvents++;
      await runtime.deliver(
        landingEvent({ key: f.key, size: Buffer.byteLength(f.body), etag: put.ETag ?? '' }),
      );
    }),
  );
}
await runtime.idle();
const ingested = performance.now();
faulting = false;
const before = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger(), {
  redrive: true,
});
await runtime.idle();
const after = await reconcile(LOCAL_BUCKETS.landing, runtime.landed(), runtime.reconcilerLedger());
const wall = (performance.now() - started) / 1000;
const watched = await watch.stop();

// Every landed key in exactly one terminal place: raw + curated (valid) or failure (invalid).
// Zone names carry the object version's tag: `soak-00001.<8 hex>.csv`, `….<8 hex>-part-00000.parquet`.
const base = (key: string) =>
  key
    .replace(/^.*\//, '')
    .replace(/-[A-Za-z0-9_-]{1,80}-[0-9a-f]{16}-part-\d+\.parquet$/, '')
    .replace(/-part-\d+\.parquet$/, '')
    .replace(/\.[0-9a-f]{8}(?=\.csv$|$)/, '');
const REPORT = /\.errors(\.\d{5})?\.jsonl?$/;
const tally = (keys: string[]) => {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(base(k), (counts.get(base(k)) ?? 0) + 1);
  return counts;
};
const landed = await list(LOCAL_BUCKETS.landing);
const raw = await list(LOCAL_BUCKETS.raw);
const failure = (await list(LOCAL_BUCKETS.failure)).filter((k) => !REPORT.test(k));
// Curated is what the table holds: its live data files (files a failed or retried run wrote and
// never committed are invisible to readers, and left to the orphan-file deletion).
const table = await ordersTable(runtime, join(lakeDir, 'soak-read'));
const curated = table.live;
const sources = table.snapshots.flatMap((s) => s.sources);
const commitStats = runtime.commits.stats();
const [rawBy, failureBy, curatedBy] = [tally(raw), tally(failure), tally(curated)];
let duplicates = 0;
let misplaced = 0;
for (const key of landed) {
  const name = base(key).replace(/\.csv$/, '');
  const r = rawBy.get(`${name}.csv`) ?? 0;
  const f = failureBy.get(`${name}.csv`) ?? 0;
  const c = curatedBy.get(name) ?? 0;
  duplicates += Math.max(0, r - 1) + Math.max(0, f - 1) + Math.max(0, c - 1);
  if (!((r === 1 && c === 1 && f === 0) || (f === 1 && r === 0 && c === 0))) misplaced++;
}
const records = await runtime.executions.list();
const { problems: ledgerProblems, ...ledger } = await checkRuntimeLedger(runtime, records);
const executions = records.length;
const slicedFiles = records.filter((r) => r.states?.includes('ValidateSlice')).length;
const curatedExecutions = records.filter((r) => r.outcome === 'curated').length;
await runtime.close();
if (!values.keep) await rm(lakeDir, { recursive: true, force: true });

const figures = {
  files,
  faultRate,
  seed,
  faultsInjected: injected,
  duplicateEvents,
  landed: landed.length,
  raw: raw.length,
  failure: failure.length,
  curated: curated.length,
  executions,
  slicedFiles,
  redriven: before.redriven,
  orphans: after.orphans.length,
  duplicates,
  misplaced,
  curatedRows: table.n,
  distinctIds: table.ids,
  expectedRows,
  validFiles,
  commitRequests: commitStats.requests,
  commits: table.snapshots.length,
  commitBatches: commitStats.batches,
  largestBatch: commitStats.largestBatch,
  commitConflicts: commitStats.conflicts,
  commitRetries: commitStats.retries,
  sourceTags: sources.length,
  distinctSourceTags: new Set(sources).size,
  curatedExecutions,
  ...ledger,
  ledgerScans: watched.scans,
  ledgerObservations: watched.observations,
  ledgerMoves: watched.moves,
  backwardsMoves: watched.backwards.length,
  ingestSeconds: Number(((ingested - started) / 1000).toFixed(1)),
  wallSeconds: Number(wall.toFixed(1)),
};
for (const [name, value] of Object.entries(figures)) process.stdout.write(`${name.padEnd(18)} ${value}\n`);
if (values.keep) process.stdout.write(`lake             ${lakeDir}\n`);
for (const problem of [...ledgerProblems, ...watched.backwards].slice(0, 20)) {
  process.stderr.write(`ledger: ${problem}\n`);
}
const ok =
  ledgerProblems.length === 0 &&
  watched.backwards.length === 0 &&
  ledger.landedWithItem === figures.landed &&
  ledger.itemsNotLanded === 0 &&
  figures.orphans === 0 &&
  duplicates === 0 &&
  misplaced === 0 &&
  figures.curatedRows === expectedRows &&
  figures.distinctIds === expectedRows &&
  // Each valid file's version appended once: one source tag per curated version, none twice.
  figures.sourceTags === figures.distinctSourceTags &&
  figures.distinctSourceTags === validFiles &&
  figures.landed === files;
process.stdout.write(ok ? 'ok\n' : 'NOT OK\n');
await writeSection(
  'Soak',
  [
    `Written by \`npm run soak -- --files ${files} --fault-rate ${faultRate} --large-file-bytes ${largeFileBytes}\` (bench/soak.ts) on ${new Date().toISOString()}, ${ok ? 'all checks passed' : '**checks FAILED**'}: random valid and broken orders files through the local runtime, some events delivered twice, one valid file in twenty above the lowered large-file threshold (validated in slices: slicedFiles), S3 SlowDown injected on GetObject and CopyObject at the fault rate, then the reconciler with re-drive.`,
    '',
    '| figure | value |',
    '| --- | --: |',
    ...Object.entries(figures).map(([name, value]) => `| ${name} | ${value} |`),
    '',
    "Orphans (landed files without an ended execution after the reconciler), duplicates (raw objects or live data files of the table beyond one per landed key) and misplaced files (a landed key not in exactly raw and the table, or failure) must be 0; the table's rows (curatedRows, counted by DuckDB over the current snapshot's live files, columns by field id) must equal the valid files' rows, with distinct ids: 0 lost, 0 duplicated.",
    '',
    "Commits: CommitToTable sends each curated file's commit request to the local twin of the FIFO queue (lib/local/commit-queue.ts), which hands a dataset's pending requests to the commit core ten at most at a time, one batch in flight per dataset. commits is the table's snapshots (one per batch that appended), commitBatches the core's calls, commitConflicts the compare-and-swap conflicts the appends met (AppendResult.conflicts summed: 0 when the pipeline is the table's only writer, as the queue serializes it), commitRetries the requests retried after a transient outcome. Every valid file's object version is in exactly one snapshot's sources (sourceTags = distinctSourceTags = validFiles).",
    '',
    "The ledger (bench/ledger-invariants.ts), read whole after the reconciler: every landed object version has exactly one item (landedWithItem = landed, landedWithoutItem and itemsNotLanded 0), every item is terminal (curatedItems + rejectedItems + failedItems = items, nonTerminalItems 0), and each item's status is the outcome of the execution it names (statusDisagrees 0). While files ran and the reconciler re-drove, a Scan every 100 ms (ledgerScans, ledgerObservations item readings, ledgerMoves of them a change of attempt or rank) recorded each item's (executionStartedAt, statusRank): backwardsMoves, a lower rank within one attempt or a return to an older attempt, must be 0.",
  ].join('\n'),
);

// The second part: `local up` killed with SIGKILL at random moments (crashSoak says what it checks).
let crashOk = true;
if (crashFiles > 0) {
  process.stdout.write(`\ncrash soak: ${crashFiles} files, ${kills} kills of local up\n`);
  const { ok: passed, ...crash } = await crashSoak({ files: crashFiles, kills, seed, largeFileBytes });
  crashOk = passed;
  for (const [name, value] of Object.entries(crash)) process.stdout.write(`${name.padEnd(18)} ${value}\n`);
  process.stdout.write(passed ? 'ok\n' : 'NOT OK\n');
  await writeSection(
    'Soak with crashes',
    [
      `Written by \`npm run soak -- --crash-files ${crashFiles} --kills ${kills}\` (bench/soak-crashes.ts) on ${new Date().toISOString()}, ${passed ? 'all checks passed' : '**checks FAILED**'}: \`datalake local up\` in a child process, killed with SIGKILL at random moments (killedIn: the Task state each killed execution was in) and restarted on the same lake and port while producers upload and retry what a kill interrupted; one key in ten gets two different files at once (sameKeyPairs; the one replaced before it was read, or killed and replaced before the restart, ends FAILED and must leave nothing in the table: replacedVersions; a validated copy it leaves in raw must be named in its reason: keptInRaw); one file in fifty above 5 MB goes up in parts. Then a clean stop, a restart, and the reconciler with re-drive.`,
      '',
      '| figure | value |',
      '| --- | --: |',
      ...Object.entries(crash).map(([name, value]) => `| ${name} | ${value} |`),
      '',
      "Orphans, duplicates (raw, curated or failure objects beyond the executions that stand) and misplaced versions (an execution's zone objects missing, or a replaced version's found) must be 0; curated rows must equal the rows of the curated versions, with distinct ids. Random kills land where files spend their time (mostly validation, for these small files); test/local/crash-recovery.test.ts kills at every step of the workflow, the data file, the commit request and the inside of the commit included. curatedRows counts through the local query; tableRows reads the table with the Iceberg core; commits is the table's snapshots, and every curated version is in exactly one (sourceTags = distinctSourceTags).",
      '',
      "The ledger, read whole after the reconciler: every version still in landing has an item (landedWithoutItem 0; itemsNotLanded are the versions a concurrent upload replaced, which keep theirs), every item is terminal (nonTerminalItems 0) and its status is the outcome of the execution it names (statusDisagrees 0). A Scan every 100 ms through the kills and the re-drive (ledgerScansFailed: while `local up` was down) recorded each item's (executionStartedAt, statusRank): backwardsMoves must be 0.",
    ].join('\n'),
  );
}
process.exit(ok && crashOk ? 0 : 1);
