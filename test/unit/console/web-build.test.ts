/**
 * The console's build (lib/console/web-build.ts): the four files CloudFront and `local up` serve,
 * the same bytes from the same sources, nothing the content security policy would block (no
 * inline script or style), and the validator worker without the loader's zod and ReDoS check.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWebSync } from '../../../lib/console/web-build.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function build() {
  const dir = await mkdtemp(join(tmpdir(), 'web-build-'));
  dirs.push(dir);
  const result = buildWebSync(dir);
  const digests: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    digests[name] = createHash('sha256')
      .update(await readFile(join(dir, name)))
      .digest('hex');
  }
  return { dir, result, digests };
}

describe('buildWebSync', () => {
  it('writes the page, its script and style, and the worker, the same bytes each time', async () => {
    const a = await build();
    const b = await build();
    expect(Object.keys(a.digests).sort()).toEqual(['index.html', 'main.js', 'style.css', 'worker.js']);
    expect(a.digests).toEqual(b.digests);
    expect(a.result.files.map((f) => f.path).sort()).toEqual(['main.js', 'style.css', 'worker.js']);
  });

  it('leaves nothing inline for the CSP to block', async () => {
    const { dir } = await build();
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
    const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['main.js']);
    const main = await readFile(join(dir, 'main.js'), 'utf8');
    // No string evaluated as code (script-src 'self' has no 'unsafe-eval').
    expect(main).not.toMatch(/\bnew Function\(|\beval\(/);
  });

  it('bundles the validator worker without zod and the ReDoS check, under 100 KB', async () => {
    const { dir, result } = await build();
    const worker = await readFile(join(dir, 'worker.js'), 'utf8');
    expect(worker).toContain('the file is not a valid gzip stream');
    expect(worker).not.toContain('ZodError');
    expect(worker).not.toContain('redos');
    expect(result.files.find((f) => f.path === 'worker.js')!.bytes).toBeLessThan(100_000);
  });
});
