/**
 * `npm run bench:console`: how fast the console's drop zone checks a file in the browser, and
 * how much memory the tab takes meanwhile. An orders file (lib/samples/orders-generator.ts) is
 * handed to the built worker (web/src/validation/worker.ts, the drop zone's) in Debian's chromium
 * through a file input, as a user's file is: the worker streams it (file.stream()) through the
 * validator core and SHA-256. Reported: MB/s against Node's validateCsv on the same file, and the
 * renderer process's resident memory (the tab: page and worker) before, at its peak, and after;
 * with --gb also for a 1 GB file, to show that memory stays flat as files grow.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebSync } from '../lib/console/web-build.ts';
import { loadDatasets } from '../lib/datasets/load.ts';
import { writeOrdersFile } from '../lib/samples/orders-generator.ts';
import { validateCsv } from '../lib/validation/validate-csv.ts';
import { CHROMIUM, checkInPage, HARNESS_PAGE, launchChromium, serveStatic } from '../test/browser/harness.ts';

const USAGE = `usage: npm run bench:console -- [--mb N] [--gb] [--rounds N]
  --mb N       size of the main file in MB (default 100)
  --gb         also a 1 GB file (memory must stay flat)
  --rounds N   rounds per file; the median speed is reported (default 3)`;

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    gb: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const MB = 1_000_000;
const BENCH_DIR = resolve('.bench');

/**
 * Private resident memory (RssAnon: heaps and buffers, not the mapped binary) of the browser's
 * renderer processes, bytes: the tab and its workers, plus the browser's idle ones, which stay put.
 */
function rendererRss(profile: string): number {
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const info = new Map<string, { ppid: string; cmd: string }>();
  for (const pid of procs) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
      info.set(pid, { ppid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  const root = [...info].find(([, p]) => p.cmd.includes(profile) && !p.cmd.includes('--type='))?.[0];
  const under = (pid: string): boolean => {
    for (let p = info.get(pid)?.ppid; p; p = info.get(p)?.ppid) if (p === root) return true;
    return false;
  };
  let rss = 0;
  for (const [pid, p] of info) {
    if (!root || !p.cmd.includes('--type=renderer') || !under(pid)) continue;
    try {
      rss +=
        Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return rss;
}

async function ordersFile(mb: number): Promise<string> {
  await mkdir(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `console-orders-${mb}mb.csv`);
  if (!existsSync(path)) await writeOrdersFile(path, mb * MB, 42);
  return path;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = Number(values.rounds);
  const sizes = [Number(values.mb), ...(values.gb ? [1000] : [])];
  const orders = (await loadDatasets()).get('orders')!;
  const buildDir = await mkdtemp(join(tmpdir(), 'web-bench-'));
  const build = buildWebSync(buildDir);
  const server = await serveStatic(buildDir, { '/harness.html': HARNESS_PAGE });
  const browser = await launchChromium();
  try {
    const version = execFileSync(CHROMIUM, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    console.log(`${version}; worker.js ${build.files.find((f) => f.path === 'worker.js')?.bytes} bytes`);
    const rows: string[] = [];
    for (const mb of sizes) {
      const path = await ordersFile(mb);
      const bytes = (await stat(path)).size;
      // Node's figure on the same file, for comparison (the pipeline's Validate task).
      const nodeSpeeds: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        await validateCsv(createReadStream(path, { highWaterMark: 1 << 20 }), orders);
        nodeSpeeds.push(bytes / MB / ((performance.now() - t) / 1000));
      }
      const speeds: number[] = [];
      let memory = { before: 0, peak: 0, after: 0 };
      for (let r = 0; r < rounds; r++) {
        const page = await browser.context.newPage();
        await page.goto(`${server.url}/harness.html`);
        await page.setInputFiles('#f', path);
        await new Promise((done) => setTimeout(done, 500));
        const before = rendererRss(browser.profile);
        let peak = before;
        const sampler = setInterval(() => {
          peak = Math.max(peak, rendererRss(browser.profile));
        }, 100);
        const [verdict] = await checkInPage(page, [
          { file: { input: true }, dataset: orders, maxErrors: 100 },
        ]);
        clearInterval(sampler);
        await new Promise((done) => setTimeout(done, 1000));
        const after = rendererRss(browser.profile);
        if (!verdict?.result.valid)
          throw new Error(`the orders file was found invalid: ${JSON.stringify(verdict?.result.errors[0])}`);
        speeds.push(bytes / MB / (verdict.milliseconds / 1000));
        if (r === 0) memory = { before, peak, after };
        await page.close();
      }
      const mib = (n: number) => (n / 2 ** 20).toFixed(0);
      rows.push(
        `| ${(bytes / MB).toFixed(0)} MB | ${median(speeds).toFixed(0)} MB/s | ${median(nodeSpeeds).toFixed(0)} MB/s | ${mib(memory.before)} / ${mib(memory.peak)} / ${mib(memory.after)} MiB |`,
      );
    }
    console.log(
      '\n| file | browser (worker, validate + SHA-256) | Node validateCsv | renderers RssAnon before / peak / after |',
    );
    console.log('|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await browser.close();
    await server.close();
    await rm(buildDir, { recursive: true, force: true });
  }
}

await main();
