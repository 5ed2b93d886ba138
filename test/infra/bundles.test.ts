/**
 * The Lambda bundles are self-sufficient (AWS review R1). Each function's bundle, staged by
 * NodejsFunction when the app is synthesized with bundling (as `cdk synth` and `cdk deploy` do),
 * loads in a fresh Node process from the cloud assembly in the OS temp folder, with no
 * node_modules anywhere above it, as on Lambda, where the runtime's own SDK is neither versioned
 * nor listed by AWS (`@aws-sdk/lib-storage` may be absent from it). Built again by esbuild with
 * the same options, each imports nothing but Node's own modules.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleHandler, coldImport, PLACEHOLDER_ENV } from '../../bench/lambda-bundles.ts';
import { HANDLERS } from '../../lib/constructs/lake-function.ts';
import { loadDatasets, pickDataset } from '../../lib/datasets/load.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { fileSource, type RangeReport, validateParallel } from '../../lib/validation/parallel.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';
import { buildTestLake, setUpOrFailEach, TEST_CONTEXT } from './synth.ts';

/** The construct id of each handler's function in the pipeline stack. */
const FUNCTION_IDS: Record<(typeof HANDLERS)[number], string> = {
  trigger: 'TriggerFunction',
  validate: 'ValidateFunction',
  'register-partition': 'RegisterPartitionFunction',
  reconcile: 'ReconcileFunction',
};

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Each handler's staged asset folder in the synthesized cloud assembly. */
let staged: Record<string, string>;
setUpOrFailEach(async () => {
  const { app, pipeline } = await buildTestLake(TEST_CONTEXT, {}, { bundle: true });
  const assembly = app.synth();
  const template = assembly.getStackByName(pipeline.stackName).template as {
    Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
  };
  staged = {};
  for (const handler of HANDLERS) {
    const found = Object.entries(template.Resources).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(FUNCTION_IDS[handler]),
    );
    expect(found, handler).toHaveLength(1);
    const hash = found[0]![1].Properties.Code!.S3Key!.replace(/\.zip$/, '');
    staged[handler] = join(assembly.directory, `asset.${hash}`);
  }
});

describe('the Lambda bundles', () => {
  it.each(HANDLERS)(
    '%s, as NodejsFunction staged it, loads with no node_modules in reach',
    async (handler) => {
      // Act
      const ms = await coldImport(join(staged[handler]!, 'index.mjs'));

      // Assess
      expect(ms).toBeGreaterThan(0);
    },
  );

  it("validate's bundle carries the dataset declarations it reads at /var/task/datasets", () => {
    const datasets = join(staged.validate!, 'datasets');
    expect(existsSync(datasets)).toBe(true);
    expect(
      readdirSync(datasets)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(
      readdirSync('datasets')
        .filter((f) => f.endsWith('.json'))
        .sort(),
    );
  });

  it.each(HANDLERS)(
    '%s, built by esbuild with the same options, imports only Node built-ins',
    async (handler) => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), `bundle-${handler}-`));
      dirs.push(dir);

      // Act
      const imports = await bundleHandler(handler, join(dir, 'index.mjs'));

      // Assess
      const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
      expect(imports.filter((m) => !builtin.has(m))).toEqual([]);
    },
  );

  it("validate's bundle, started as a worker thread, validates ranges: the parallel route runs as deployed", async () => {
    // Prepare: the handler reads its environment at import, in the worker too.
    Object.assign(process.env, PLACEHOLDER_ENV, { AWS_REGION: 'us-east-1' });
    const dir = await mkdtemp(join(tmpdir(), 'bundle-ranges-'));
    dirs.push(dir);
    const file = join(dir, 'orders.csv');
    const broken = brokenOrdersCsv();
    await writeFile(file, broken + broken.slice(broken.indexOf('\n') + 1).repeat(300));
    const dataset = pickDataset(await loadDatasets('datasets'), 'orders');
    const ranges: RangeReport[] = [];

    // Act
    const parallel = await validateParallel(await fileSource(file), dataset, {
      threads: 3,
      minBytes: 0,
      ranges: 6,
      chunkBytes: 4096,
      workerEntry: pathToFileURL(join(staged.validate!, 'index.mjs')),
      onRange: (range) => ranges.push(range),
    });
    const single = await validateCsv(
      (async function* () {
        yield await import('node:fs/promises').then((fs) => fs.readFile(file));
      })(),
      dataset,
    );

    // Assess: the same run, and the last ranges were validated by the bundle's worker threads.
    expect(parallel).toEqual({ ...single, bytes: parallel.bytes });
    expect(parallel.bytes).toBe(single.bytes);
    expect(ranges.at(-1)!.outcome).toBe('confirmed');
  });
});
