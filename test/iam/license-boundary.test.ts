/**
 * @cloud-copilot/iam-simulate is AGPL-3.0: a devDependency that only tests import. No shipped code
 * (lib/, lambdas/ — what the Lambda bundles are built from — bin/) may import it, and it must not
 * become a runtime dependency of the package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const AGPL = '@cloud-copilot/';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : /\.[cm]?[jt]s$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}

describe('the AGPL simulator stays in the tests', () => {
  it('no file of lib/, lambdas/ or bin/ names it', () => {
    const files = ['lib', 'lambdas', 'bin'].flatMap(sourceFiles);
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => readFileSync(f, 'utf8').includes(AGPL))).toEqual([]);
  });

  it('is a devDependency only', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, Record<string, string>>;
    expect(Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith(AGPL))).toEqual([]);
    expect(Object.keys(pkg.devDependencies ?? {})).toContain('@cloud-copilot/iam-simulate');
  });
});
