/**
 * What the browser tests and `npm run bench:console` share: Debian's chromium driven by
 * playwright-core (one browser per test file, with a fresh profile), and a static server over the
 * console's build that sends the same security headers as CloudFront, so a script or style the
 * content security policy would block fails here too.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { contentSecurityPolicy } from '../../lib/console/headers.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import type { ValidationError, ValidationResult } from '../../lib/validation/csv-validator.ts';

/** Where Debian puts chromium (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The console's content security policy, as the CDK stack and `local up` send it (same origin only here). */
export const CONSOLE_CSP = contentSecurityPolicy({ connect: [] });

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A running chromium with its own fresh profile; `close` ends it and deletes the profile. */
export interface Chromium {
  readonly context: BrowserContext;
  /** The profile folder (the browser process's command line names it). */
  readonly profile: string;
  close(): Promise<void>;
}

/** Starts chromium headless on a new temporary profile. */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1366, height: 900 },
  });
  return {
    context,
    profile,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/** A static server on 127.0.0.1 over `dir`, with the console's CSP; `pages` adds documents by path. */
export async function serveStatic(
  dir: string,
  pages: Readonly<Record<string, string>> = {},
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    const page = pages[path];
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': TYPES['.html'] });
      res.end(page);
      return;
    }
    const file = join(dir, normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const info = await stat(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': info.size,
      });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A page with nothing but a file input: the tests hand the worker files through it, as the drop zone does. */
export const HARNESS_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>harness</title></head><body><label for="f">file</label><input id="f" type="file" multiple></body></html>';

/** The parts of a page's Worker the tests use (their own types are Node's, without the DOM). */
interface PageWorker {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message: string }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}

/**
 * The worker's verdict on one file, with the errors it streamed before it, the error count its
 * last progress message gave, and how long it took.
 */
export interface PageVerdict {
  readonly result: ValidationResult;
  readonly sha256: string;
  readonly csvBytes: number;
  readonly streamed: ValidationError[];
  readonly streamedCount: number;
  readonly milliseconds: number;
}

/** A file for {@link checkInPage}: bytes (base64), or the file chosen in the harness page's input. */
export type PageFile = { readonly base64: string } | { readonly input: true };

/**
 * Checks files in the page's copy of the console's worker (`/worker.js`), as the drop zone does:
 * one worker a file, the file posted as a Blob; resolves with each verdict in order.
 */
export async function checkInPage(
  page: Page,
  files: readonly { readonly file: PageFile; readonly dataset: Dataset; readonly maxErrors: number }[],
): Promise<PageVerdict[]> {
  return page.evaluate(async (jobs) => {
    const g = globalThis as unknown as {
      Worker: new (url: string) => PageWorker;
      document: { getElementById(id: string): { files: ArrayLike<Blob> } };
    };
    const out: unknown[] = [];
    for (const job of jobs) {
      let blob: Blob;
      if ('base64' in job.file) {
        const bin = atob(job.file.base64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        blob = new Blob([bytes]);
      } else {
        blob = g.document.getElementById('f').files[0]!;
      }
      const worker = new g.Worker('/worker.js');
      const started = performance.now();
      const verdict = await new Promise<unknown>((resolve, reject) => {
        const streamed: unknown[] = [];
        let streamedCount = 0;
        worker.onmessage = (e) => {
          const m = e.data as { type: string; errors: unknown[]; errorCount: number; message: string };
          if (m.type === 'progress') {
            streamed.push(...m.errors);
            streamedCount = m.errorCount;
          } else if (m.type === 'done')
            resolve({ ...m, streamed, streamedCount, milliseconds: performance.now() - started });
          else reject(new Error(m.message));
        };
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage({ file: blob, dataset: job.dataset, maxErrors: job.maxErrors });
      });
      worker.terminate();
      out.push(verdict);
    }
    return out;
  }, files) as Promise<PageVerdict[]>;
}
