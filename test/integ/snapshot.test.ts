/**
 * The integ suite without an AWS account: integ-runner in snapshot mode (no `--force`, no
 * `--update-on-failed`: it synthesizes and compares, and has no path that deploys) against the
 * committed test/integ/integ.lake.ts.snapshot, so a change that would invalidate the suite fails
 * `npm test`; and `npm run test:aws` refusing to run, as a skip and never a pass, without credentials.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SKIPPED } from './integ-stage.ts';

/** The environment with every way to AWS credentials taken away. */
function withoutAws(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const home = mkdtempSync(join(tmpdir(), 'no-aws-'));
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

describe('the integ suite, offline', () => {
  it('synthesizes what its committed snapshot holds (integ-runner snapshot mode, no credentials)', () => {
    const run = spawnSync('npx', ['integ-runner'], {
      env: withoutAws(),
      encoding: 'utf8',
    });
    const output = `${run.stdout}${run.stderr}`;
    // The whole report on failure: integ-runner prints the template diff of a changed snapshot. (Its
    // own hint, `integ-runner --update-on-failed`, would deploy: the offline update is named here.)
    const hint = 'if the change is meant, update the snapshot offline: npm run test:aws -- --update-snapshot';
    expect(run.status, `${output}\n${hint}`).toBe(0);
    expect(output).toMatch(/UNCHANGED\s+integ\.lake/);
    expect(output).not.toMatch(/Running integration tests/);
  }, 240_000);

  it('npm run test:aws without credentials says why and exits 77, not 0', () => {
    const run = spawnSync('npx', ['tsx', 'test/integ/run.ts'], { env: withoutAws(), encoding: 'utf8' });
    expect(run.status).toBe(SKIPPED);
    expect(run.stderr).toMatch(/^test:aws SKIPPED \(exit 77\): no AWS credentials/m);
    expect(run.stderr).toContain('Nothing was deployed and nothing was tested');
    expect(run.stderr).toContain('AWS_PROFILE');
  }, 60_000);
});
