/**
 * Child process of `npm run bench`: validates one orders file and prints one JSON line with its
 * peak RSS. Peak RSS never goes down within a process, so each file size gets a fresh process
 * (`node --import tsx bench/rss-child.ts <file> [--threads N]`); without a file it only loads the
 * same modules, which gives the baseline the validator's own memory sits on. With `--threads N`
 * it validates in parallel ranges; bundled, the bundle is also its own worker entry.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadDatasets, pickDataset } from '../lib/datasets/load.ts';
import { bundleEntry, fileSource, serveRanges, validateParallel } from '../lib/validation/parallel.ts';
import { validateCsv } from '../lib/validation/validate-csv.ts';

/** What the child reports on stdout (one JSON line). */
export interface RssReport {
  /**
   * Peak resident set size of this process's own memory, in bytes: `VmHWM` of /proc/self/status
   * where there is one, else `process.resourceUsage().maxRSS`. On Linux maxRSS also counts the
   * parent: exec records the RSS of the address space forked from the parent as a floor, so a child
   * of a 100 MB bench process reports ≥ 100 MB whatever it does. VmHWM is the same high-water mark
   * for the new address space only.
   */
  readonly peakRssBytes: number;
  /** `process.resourceUsage().maxRSS` in bytes (Linux reports KiB), for comparison. */
  readonly maxRssBytes: number;
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly errorCount: number;
}

/** VmHWM of /proc/self/status in bytes, or undefined off Linux. */
function highWaterMark(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { threads: { type: 'string', default: '1' } },
  });
  const file = positionals[0];
  const threads = Number(values.threads);
  const dataset = pickDataset(await loadDatasets('datasets'), 'orders');
  const started = performance.now();
  const workerEntry = bundleEntry(import.meta.url);
  const result = !file
    ? { rows: 0, bytes: 0, errorCount: 0 }
    : threads > 1
      ? await validateParallel(await fileSource(file), dataset, {
          threads,
          workerEntry,
        })
      : await validateCsv(createReadStream(file, { highWaterMark: 1 << 20 }), dataset);
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  const report: RssReport = {
    peakRssBytes: highWaterMark() ?? maxRssBytes,
    maxRssBytes,
    rows: result.rows,
    bytes: result.bytes,
    seconds: (performance.now() - started) / 1000,
    errorCount: result.errorCount,
  };
  console.log(JSON.stringify(report));
}

// Started as a range worker (the bundle is its own worker entry), it serves ranges instead.
if (!serveRanges()) await main();
