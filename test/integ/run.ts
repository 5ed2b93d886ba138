/**
 * `npm run test:aws`: the integ suite against a real AWS account (integ-runner deploys, asserts and
 * destroys), then the removal of what the stage retains. Without usable credentials it runs
 * nothing, says why, and exits 77 (skipped), so a skipped run never reads as a pass.
 *
 *   npm run test:aws                       deploy, assert, destroy, remove the retained buckets
 *   npm run test:aws -- --update-snapshot  rewrite test/integ/integ.lake.ts.snapshot offline (no AWS)
 *   npm run test:aws -- --remove-leftovers only empty and delete the integ stage's buckets
 *
 * Other arguments go to integ-runner (for example `--verbose`, `--no-clean`). A run starts by removing
 * the stage's buckets an earlier run left (their fixed names would fail the deploy); after a
 * `--no-clean` run, destroy its stacks first:
 * `npx cdk destroy --app "node --import tsx test/integ/integ.lake.ts" --all --force`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { INTEG_BASE, INTEG_DIR, SKIPPED } from './integ-stage.ts';
import { removeBuckets } from './leftovers.ts';

/** How long the credential chain may take (an unreachable instance metadata service waits). */
const CREDENTIALS_TIMEOUT_MS = 5_000;

const root = fileURLToPath(new URL('../../', import.meta.url));
const snapshotDir = fileURLToPath(new URL('integ.lake.ts.snapshot', INTEG_DIR));

/** integ-runner with the repository's integ.config.json (directory, language, `--app`). */
function integRunner(args: readonly string[]): number {
  const run = spawnSync('npx', ['integ-runner', ...args], { cwd: root, stdio: 'inherit' });
  return run.status ?? 1;
}

/**
 * Keeps the snapshot what the check compares and the same on every machine: integ-runner copies
 * the assertion functions' bundle into it (2 MB of integ-tests' own code, rebuilt at each synth),
 * and cdk-nag acknowledgements carry a stack trace with absolute paths.
 */
function pruneSnapshot(dir: string = snapshotDir): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry.startsWith('asset.')) {
      rmSync(path, { recursive: true, force: true });
    } else if (entry.endsWith('.metadata.json')) {
      const text = readFileSync(path, 'utf8');
      const pruned = JSON.stringify(
        JSON.parse(text, (k, v) => (k === 'trace' ? undefined : v)),
        undefined,
        2,
      );
      if (pruned !== text) writeFileSync(path, pruned);
    }
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The account's region and a client, or the reason the suite cannot run. */
async function awsAccess(): Promise<{ s3: S3Client; region: string } | { reason: string }> {
  const s3 = new S3Client({});
  try {
    await within(s3.config.credentials(), CREDENTIALS_TIMEOUT_MS, 'the AWS credential chain');
  } catch (error) {
    return { reason: `no AWS credentials (${error instanceof Error ? error.message : String(error)})` };
  }
  try {
    return { s3, region: await s3.config.region() };
  } catch {
    return { reason: 'no AWS region' };
  }
}

function skip(reason: string): never {
  process.stderr.write(
    [
      `test:aws SKIPPED (exit ${SKIPPED}): ${reason}. Nothing was deployed and nothing was tested.`,
      'The integ suite deploys the lake into a real account (stacks csvlakeinteg-integ-*). To run it, set',
      'credentials and a region the AWS SDK finds, for example AWS_PROFILE=<profile> AWS_REGION=eu-west-1,',
      'or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) with AWS_REGION, in an',
      'account bootstrapped with `npx cdk bootstrap`. One run costs cents and takes about 20 minutes (README).',
      'Without an account, `npm test` still checks the suite against its snapshot.',
      '',
    ].join('\n'),
  );
  process.exit(SKIPPED);
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--update-snapshot')) {
    // Offline: synthesizes and rewrites the snapshot, deploys nothing (--dry-run).
    const code = integRunner(['--update-on-failed', '--force', '--dry-run']);
    pruneSnapshot();
    return code;
  }
  const access = await awsAccess();
  if ('reason' in access) skip(access.reason);
  const { s3, region } = access;
  const removeLeftovers = () => removeBuckets(s3, `${INTEG_BASE}-`, region, (line) => console.log(line));
  if (args.includes('--remove-leftovers')) {
    await removeLeftovers();
    return 0;
  }
  // A bucket left by an earlier run would make the deploy fail on its fixed name.
  await removeLeftovers();
  const code = integRunner(['--force', '--update-on-failed', '--parallel-regions', region, ...args]);
  if (!args.includes('--no-clean')) await removeLeftovers();
  pruneSnapshot();
  return code;
}

process.exitCode = await main(process.argv.slice(2));
