/** Synthesizes the lake once per test file, as bin/app.ts does, with the recommended feature flags. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { buildLake } from '../../lib/lake.ts';

const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };

/** Context used by the tests: the defaults plus e-mail subscriptions, to see them synthesized. */
export const TEST_CONTEXT = {
  notificationEmails: 'data-team@example.com',
  alarmEmails: ['oncall@example.com'],
  landingExpiryDays: 14,
};

/**
 * The template tests do not bundle the functions: no template assertion looks inside a bundle, and
 * bundling is most of a synth's time (5 s of 5.3). test/infra/bundles.test.ts synthesizes with
 * bundling and loads each function's staged bundle as deployed. (Stryker's worker threads could not spawn
 * esbuild anyway: a worker's stdio is no file descriptor.)
 */
const skipBundling = { 'aws:cdk:bundling-stacks': [] };

/**
 * The cloud assembly folders of this test file's apps, removed after its tests (an App without
 * `outdir` leaves a `/tmp/cdk.out*` folder behind at every synth).
 */
const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratchOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-test-cdk-'));
  scratchDirs.push(dir);
  return dir;
}

/**
 * Builds a fresh app with the lake in it (and optional extra context and app properties);
 * `bundle` bundles the functions as `cdk synth` does (test/infra/bundles.test.ts).
 */
export async function buildTestLake(
  context: Record<string, unknown> = TEST_CONTEXT,
  appProps: AppProps = {},
  { bundle = false }: { readonly bundle?: boolean } = {},
) {
  const app = new App({
    outdir: scratchOutdir(),
    ...appProps,
    context: { ...cdkJson.context, ...context, ...(bundle ? {} : skipBundling) },
  });
  const config = parseConfig((key) => app.node.tryGetContext(key));
  const datasetsDir = resolve(config.datasetsDir);
  const datasets = [...(await loadDatasets(datasetsDir)).values()];
  const stacks = buildLake(app, { config, datasets, datasetsDir });
  return { app, config, datasets, ...stacks };
}

/** The lake's two templates. */
export async function synthTemplates() {
  const lake = await buildTestLake();
  return {
    ...lake,
    storage: Template.fromStack(lake.storage),
    pipeline: Template.fromStack(lake.pipeline),
  };
}

/**
 * Runs a test file's setup once, before its first test; when the setup throws, every test of the
 * file fails with its error. (Vitest reports the tests of a failed beforeAll as skipped, and a
 * mutation run counts skipped as passing: a construct broken so badly that the synth throws would
 * survive every assertion.)
 */
export function setUpOrFailEach(setUp: () => Promise<void>): void {
  let failure: { readonly error: unknown } | undefined;
  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      failure = { error };
    }
  }, 120_000);
  beforeEach(() => {
    if (failure) throw failure.error;
  });
}

/** cdk-nag AwsSolutions findings of `app` not acknowledged, as `<rule> <construct path>`. */
export function unacknowledgedFindings(app: App): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`),
  );
}

/** The reasons of every cdk-nag acknowledgement in `scope` and below. */
export function acknowledgementReasons(scope: IConstruct): string[] {
  return scope.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
    .flatMap((m) => Object.values(m.data as Record<string, string>));
}
