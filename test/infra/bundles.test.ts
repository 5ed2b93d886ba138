/**
 * The Lambda bundles are self-sufficient (AWS review R1). Each function's bundle, staged by
 * NodejsFunction when the app is synthesized with bundling (as `cdk synth` and `cdk deploy` do),
 * loads in a fresh Node process from the cloud assembly in the OS temp folder, with no
 * node_modules anywhere above it, as on Lambda, where the runtime's own SDK is neither versioned
 * nor listed by AWS (`@aws-sdk/lib-storage` may be absent from it). Built again by esbuild with
 * the same options, each imports nothing but Node's own modules.
 *
 * The Convert function's bundle keeps DuckDB's binding external and carries it in its asset: the
 * staged asset, run in a fresh process as Lambda runs it, converts a file from a local S3 server,
 * and the Parquet it publishes is read back with hyparquet (not DuckDB).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, describe, expect, it } from 'vitest';
import { runBundledConvert } from '../../bench/convert-lambda.ts';
import { bundleHandler, coldImport, PLACEHOLDER_ENV } from '../../bench/lambda-bundles.ts';
import { HANDLERS } from '../../lib/constructs/lake-function.ts';
import { CONVERT_FUNCTION } from '../../lib/conversion/lambda-sizing.ts';
import { sparkSchema } from '../../lib/datasets/derive.ts';
import { loadDatasets, pickDataset } from '../../lib/datasets/load.ts';
import { localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { fileSource, type RangeReport, validateParallel } from '../../lib/validation/parallel.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';
import { buildTestLake, setUpOrFailEach, TEST_CONTEXT } from './synth.ts';

/** The construct id of each handler's function (the tables function's in the storage stack). */
const FUNCTION_IDS: Record<(typeof HANDLERS)[number] | 'convert', string> = {
  trigger: 'TriggerFunction',
  validate: 'ValidateFunction',
  commit: 'CommitFunction',
  reconcile: 'ReconcileFunction',
  convert: 'ConvertFunction',
  tables: 'CatalogTablesFunction',
};

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Each handler's staged asset folder in the synthesized cloud assembly. */
let staged: Record<string, string>;
setUpOrFailEach(async () => {
  const { app, pipeline, storage } = await buildTestLake(TEST_CONTEXT, {}, { bundle: true });
  const assembly = app.synth();
  type Resources = Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
  const resources: Resources = {
    ...(assembly.getStackByName(storage.stackName).template as { Resources: Resources }).Resources,
    ...(assembly.getStackByName(pipeline.stackName).template as { Resources: Resources }).Resources,
  };
  staged = {};
  for (const handler of [...HANDLERS, 'convert' as const]) {
    const found = Object.entries(resources).filter(
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

  it.each(['validate', 'tables'])(
    "%s's bundle carries the dataset declarations it reads at /var/task/datasets",
    (handler) => {
      const datasets = join(staged[handler]!, 'datasets');
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
    },
  );

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

  it("convert's staged bundle converts a file in a fresh process, with the x64 DuckDB binding of its asset", async () => {
    // Prepare: a local S3 with an orders file in raw, and a /tmp of its own.
    const root = await mkdtemp(join(tmpdir(), 'bundle-convert-run-'));
    dirs.push(root);
    const server = await startLocalS3({ directory: join(root, 's3'), buckets: ['raw', 'curated'] });
    const s3 = localS3Client(server.endpoint);
    const key = 'orders/ingest_date=2024-01-05/proof.csv';
    await s3.send(
      new PutObjectCommand({ Bucket: 'raw', Key: key, Body: `${ORDERS_HEADER}${orderRows(5, 0, 300)}` }),
    );
    const orders = (await loadDatasets('datasets')).get('orders')!;
    await mkdir(join(root, 'tmp'));

    try {
      // Act
      const run = await runBundledConvert(
        staged.convert!,
        {
          arguments: {
            '--dataset': 'orders',
            '--source': `s3://raw/${key}`,
            '--target': 's3://curated/orders/iceberg/data/ingest_date=2024-01-05/',
            '--ingest-date': '2024-01-05',
            '--commit-request': 's3://curated/_commits/orders/bundle-proof.json',
            '--schema': JSON.stringify(sparkSchema(orders)),
            '--expected-rows': '300',
            '--run-id': 'bundle-proof',
            '--delimiter': ',',
            '--quote': '"',
            '--source-key': 'orders/proof.csv',
            '--source-version': 'v1',
            '--ingested-at': '2024-01-05T10:00:00.000Z',
          },
        },
        { endpoint: server.endpoint, tmpDir: join(root, 'tmp'), limits: CONVERT_FUNCTION },
      );

      // Assess: the output, then the Parquet itself, read by hyparquet.
      expect(run.error).toBeUndefined();
      expect(run.output).toMatchObject({ state: 'SUCCEEDED', engine: 'lambda', rows: 300 });
      const [written] = (run.output as { outputs: string[] }).outputs;
      expect(written).toMatch(
        /^s3:\/\/curated\/orders\/iceberg\/data\/ingest_date=2024-01-05\/proof-bundle-proof-[0-9a-f]{16}-part-00000\.parquet$/,
      );
      const object = await s3.send(
        new GetObjectCommand({ Bucket: 'curated', Key: written!.slice('s3://curated/'.length) }),
      );
      const bytes = await object.Body!.transformToByteArray();
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const metadata = parquetMetadata(file);
      expect(Number(metadata.num_rows)).toBe(300);
      const types = Object.fromEntries(
        metadata.schema.slice(1).map((c) => [c.name, c.logical_type?.type ?? c.converted_type ?? c.type]),
      );
      expect(types).toMatchObject({
        order_id: 'INT_64',
        amount: 'DECIMAL',
        gift: 'BOOLEAN',
        ordered_at: 'TIMESTAMP',
        ship_date: 'DATE',
        customer: 'UTF8',
      });
      const rows = await parquetReadObjects({ file, compressors, columns: ['order_id'] });
      expect(rows.map((r) => Number(r.order_id))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    } finally {
      s3.destroy();
      await server.close();
    }
  }, 60_000);

  it("convert's asset carries the linux x86-64 DuckDB binding, matching the function's architecture", async () => {
    // ELF header: e_machine at byte 18, little-endian; 0x3e is x86-64 (0xb7 would be AArch64).
    const handle = await open(
      join(staged.convert!, 'node_modules/@duckdb/node-bindings-linux-x64/duckdb.node'),
      'r',
    );
    const header = Buffer.alloc(20);
    await handle.read(header, 0, 20, 0);
    await handle.close();
    expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(header.readUInt16LE(18)).toBe(0x3e);
  });
});
