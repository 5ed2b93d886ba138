/**
 * The CSV→Parquet twin held to the conformance corpus: every case runs through the real local S3
 * server, the Parquet is read back with hyparquet (not DuckDB, which wrote it) and compared by
 * value and by Parquet type; failures must name their columns and publish nothing. Also: naming,
 * staging cleanup and re-runs, and the twin's guards against the Glue script's own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { type FileMetaData, parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GlueJobArguments } from '../../lambdas/shared/contract.ts';
import { zoneFileName, zoneKey } from '../../lambdas/validate/core.ts';
import {
  ConversionError,
  convertCsvToParquet,
  copyFailureMessage,
  deleteFailureMessage,
  outputStem,
  PublishError,
  tryDelete,
} from '../../lib/conversion/csv-to-parquet.ts';
import {
  castPlan,
  GUARD_DATE,
  GUARD_DOUBLE,
  GUARD_INT,
  GUARD_TIMESTAMP,
  guardDecimal,
} from '../../lib/conversion/parquet-cast-plan.ts';
import { sparkSchema } from '../../lib/datasets/derive.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';
import {
  type CorpusCase,
  canonical,
  contractParquetType,
  csvBytes,
  loadCorpus,
  minDecimalBytes,
  parquetTypeOf,
  RAW_PARSERS,
  rawDecimals,
  sourceBytes,
} from './corpus.ts';

const RAW = 'raw';
const CURATED = 'curated';
const DATE = '2024-01-05';
const corpus = loadCorpus();
const positives = corpus.filter((c) => !c.failure);
const negatives = corpus.filter((c) => c.failure);

let server: LocalS3;
let s3: S3Client;
let instance: DuckDBInstance;
let root: string;
let workDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(os.tmpdir(), 'conformance-'));
  server = await startLocalS3({ directory: join(root, 's3'), buckets: [RAW, CURATED] });
  s3 = localS3Client(server.endpoint);
  instance = await DuckDBInstance.create(':memory:');
  workDir = join(root, 'work');
});

afterAll(async () => {
  instance?.closeSync();
  s3?.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** Where a case's source lands and where its output goes: one partition prefix per case. */
function locations(c: CorpusCase, dataset: Dataset) {
  const prefix = `${c.name}/ingest_date=${DATE}/`;
  return {
    sourceKey: `${dataset.name}/ingest_date=${DATE}/${c.source}`,
    targetPrefix: prefix,
    target: `s3://${CURATED}/${prefix}`,
  };
}

function jobArguments(c: CorpusCase, dataset: Dataset, runId = 'run-1'): GlueJobArguments {
  const where = locations(c, dataset);
  return {
    '--dataset': dataset.name,
    '--source': `s3://${RAW}/${where.sourceKey}`,
    '--target': where.target,
    '--schema': JSON.stringify(sparkSchema(dataset)),
    '--expected-rows': String(c.expectedRowsArgument ?? c.expectedRows?.length ?? 0),
    '--run-id': runId,
    '--delimiter': c.delimiterArgument ?? dataset.dialect.delimiter,
    '--quote': dataset.dialect.quote,
  };
}

async function put(bucket: string, key: string, body: Buffer | string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function get(bucket: string, key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const response = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (response.Contents ?? []).map((o) => o.Key!).sort();
}

function arrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function readParquet(
  bytes: Buffer,
): Promise<{ metadata: FileMetaData; rows: Record<string, unknown>[] }> {
  const file = arrayBuffer(bytes);
  const metadata = parquetMetadata(file);
  const rows = await parquetReadObjects({
    file,
    metadata: rawDecimals(metadata),
    compressors,
    parsers: RAW_PARSERS,
  });
  return { metadata, rows };
}

async function validatorVerdict(c: CorpusCase, dataset: Dataset) {
  const bytes = sourceBytes(c);
  return validateCsv(
    (async function* () {
      yield bytes;
    })(),
    dataset,
  );
}

describe('the twin on the conformance corpus', () => {
  it('holds at least 20 cases that convert and a few that must fail', () => {
    // Prepare / Act: the corpus is loaded at import.
    // Assess
    expect(positives.length).toBeGreaterThanOrEqual(20);
    expect(negatives.length).toBeGreaterThanOrEqual(5);
  });

  it.each(positives.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // Prepare: the case's dataset, its source in the raw bucket; the validator must accept it and
    // count the rows the job is told to expect, as the pipeline does.
    const dataset = parseDataset(c.dataset, `${c.name}.json`);
    const where = locations(c, dataset);
    const verdict = await validatorVerdict(c, dataset);
    expect(verdict.errors, 'the validator accepts the case').toEqual([]);
    expect(verdict.rows).toBe(c.expectedRows!.length);
    await put(RAW, where.sourceKey, sourceBytes(c));

    // Act
    const result = await convertCsvToParquet(jobArguments(c, dataset), s3, { workDir, instance });

    // Assess: one file under the contract's name, nothing left in staging or on disk.
    const outputKey = `${where.targetPrefix}${c.output}`;
    expect(result.rows).toBe(c.expectedRows!.length);
    expect(result.outputs).toEqual([`s3://${CURATED}/${outputKey}`]);
    expect(await keys(CURATED, where.targetPrefix)).toEqual([outputKey]);
    expect(result.bytesIn).toBe(sourceBytes(c).length);
    expect(readdirSync(workDir)).toEqual([]);
    const bytes = await get(CURATED, outputKey);
    expect(result.bytesOut).toBe(bytes.length);
    const { metadata, rows } = await readParquet(bytes);

    // Assess: the schema (names in declared order, types), the codec, then every value.
    const leaves = metadata.schema.slice(1);
    expect(leaves.map((e) => e.name)).toEqual(dataset.columns.map((col) => col.name));
    expect(leaves.map(parquetTypeOf)).toEqual(dataset.columns.map(contractParquetType));
    expect(leaves.every((e) => e.repetition_type === 'OPTIONAL')).toBe(true);
    dataset.columns.forEach((col, i) => {
      const leaf = leaves[i]!;
      if (col.type === 'decimal' && leaf.type === 'FIXED_LEN_BYTE_ARRAY')
        expect(leaf.type_length).toBeGreaterThanOrEqual(minDecimalBytes(col.precision!));
    });
    expect(Number(metadata.num_rows)).toBe(c.expectedRows!.length);
    const codecs = new Set(
      metadata.row_groups.flatMap((g) => g.columns.map((chunk) => chunk.meta_data?.codec)),
    );
    if (c.expectedRows!.length > 0) expect([...codecs]).toEqual(['ZSTD']);
    const actual = rows.map((row) =>
      Object.fromEntries(dataset.columns.map((col) => [col.name, canonical(row[col.name], col)])),
    );
    expect(actual).toEqual(c.expectedRows);
  });

  it.each(negatives.map((c) => [c.name, c] as const))('%s fails and publishes nothing', async (_name, c) => {
    // Prepare: a file the validator would reject (or a wrong --expected-rows) that arrives anyway.
    const dataset = parseDataset(c.dataset, `${c.name}.json`);
    const where = locations(c, dataset);
    const verdict = await validatorVerdict(c, dataset);
    expect(verdict.valid).toBe(!c.failure!.validatorRejects);
    await put(RAW, where.sourceKey, sourceBytes(c));

    // Act
    const run = convertCsvToParquet(jobArguments(c, dataset), s3, { workDir, instance });

    // Assess: a ConversionError naming the columns and counts, one line; nothing published.
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConversionError);
    const message = (error as Error).message;
    for (const part of c.failure!.messageIncludes) expect(message).toContain(part);
    expect(message).not.toContain('\n');
    expect(await keys(CURATED, where.targetPrefix)).toEqual([]);
    expect(readdirSync(workDir)).toEqual([]);
  });
});

describe('publishing', () => {
  const dataset = parseDataset(
    {
      name: 'orders',
      columns: [
        { name: 'id', type: 'int' },
        { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
      ],
    },
    'orders.json',
  );
  const prefix = `orders/ingest_date=${DATE}/`;
  const args = (source: string, rows: number, runId: string): GlueJobArguments => ({
    '--dataset': 'orders',
    '--source': `s3://${RAW}/${prefix}${source}`,
    '--target': `s3://${CURATED}/${prefix}`,
    '--schema': JSON.stringify(sparkSchema(dataset)),
    '--expected-rows': String(rows),
    '--run-id': runId,
    '--delimiter': ',',
    '--quote': '"',
    // What the Validate core passes for these one-line records; the twin reads every file whole.
    '--multiline': 'false',
  });

  it("replaces a re-run's own output, deletes its leftover parts and never touches another stem's files", async () => {
    // Prepare: an earlier run of orders.csv left two parts; orders-eu.csv has its own output.
    await put(RAW, `${prefix}orders.csv`, 'id,amount\n1,1.50\n2,2.50\n');
    await put(CURATED, `${prefix}orders-part-00000.parquet`, 'old part 0');
    await put(CURATED, `${prefix}orders-part-00001.parquet`, 'old part 1');
    await put(CURATED, `${prefix}orders-eu-part-00000.parquet`, 'another source');
    await put(CURATED, `${prefix}orders-part-notes.txt`, 'not an output');

    // Act
    const result = await convertCsvToParquet(args('orders.csv', 2, 'rerun-2'), s3, { workDir, instance });

    // Assess
    expect(result.outputs).toEqual([`s3://${CURATED}/${prefix}orders-part-00000.parquet`]);
    expect(await keys(CURATED, prefix)).toEqual([
      `${prefix}orders-eu-part-00000.parquet`,
      `${prefix}orders-part-00000.parquet`,
      `${prefix}orders-part-notes.txt`,
    ]);
    const { rows } = await readParquet(await get(CURATED, `${prefix}orders-part-00000.parquet`));
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect((await get(CURATED, `${prefix}orders-eu-part-00000.parquet`)).toString()).toBe('another source');
  });

  it('leaves the previous output in place and the staging prefix empty when a run fails', async () => {
    // Prepare: a published output, then a source with a value that does not convert.
    await put(RAW, `${prefix}broken.csv`, 'id,amount\n1,1.005\n');
    await put(CURATED, `${prefix}broken-part-00000.parquet`, 'previous output');

    // Act
    const run = convertCsvToParquet(args('broken.csv', 1, 'failing-3'), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(
      `dataset orders, source s3://${RAW}/${prefix}broken.csv: 1 non-empty value did not convert to the declared type in column amount (decimal(12,2)): 1`,
    );
    expect((await get(CURATED, `${prefix}broken-part-00000.parquet`)).toString()).toBe('previous output');
    expect(await keys(CURATED, `${prefix}_staging/`)).toEqual([]);
  });

  /** A client of the same server whose `command` requests fail with S3's AccessDenied (not retried). */
  const failing = (command: string): S3Client => {
    const client = localS3Client(server.endpoint);
    client.middlewareStack.add(
      (next, context) => async (input) => {
        if (context.commandName === command)
          throw Object.assign(new Error('Access Denied'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
          });
        return next(input);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'publishFault' },
    );
    return client;
  };

  /** The partition's `stem-part-*` files and what each holds (its rows' ids, or the planted text). */
  const partsOf = async (stem: string) =>
    Object.fromEntries(
      await Promise.all(
        (await keys(CURATED, `${prefix}${stem}-part-`)).map(async (key) => {
          const bytes = await get(CURATED, key);
          const ids =
            bytes.subarray(0, 4).toString() === 'PAR1'
              ? (await readParquet(bytes)).rows.map((r) => r.id)
              : [];
          return [key.slice(prefix.length), ids.length > 0 ? ids : bytes.toString()];
        }),
      ),
    );

  it('says the earlier output is untouched when its copy fails, and a re-run converges to exactly its own output', async () => {
    // Prepare: an earlier run of the source left two parts
    await put(RAW, `${prefix}copyfail.csv`, 'id,amount\n7,1.50\n8,2.50\n');
    await put(CURATED, `${prefix}copyfail-part-00000.parquet`, 'old part 0');
    await put(CURATED, `${prefix}copyfail-part-00001.parquet`, 'old part 1');
    const client = failing('CopyObjectCommand');

    // Act
    const run = convertCsvToParquet(args('copyfail.csv', 2, 'copy-1'), client, { workDir, instance });

    // Assess: the script's words, the partition as they say, the staging folder gone
    await expect(run).rejects.toThrow(PublishError);
    await expect(run).rejects.toThrow(
      `publishing to s3://${CURATED}/${prefix} failed at part 1 of 1 (copyfail-part-00000.parquet: AccessDenied: Access Denied). Nothing was published: the partition still holds the earlier output of this source (copyfail-part-00000.parquet to copyfail-part-00001.parquet). It stays so until a re-run of this file, under any run id, publishes its output whole and deletes the rest.`,
    );
    expect(await partsOf('copyfail')).toEqual({
      'copyfail-part-00000.parquet': 'old part 0',
      'copyfail-part-00001.parquet': 'old part 1',
    });
    expect(await keys(CURATED, `${prefix}_staging/`)).toEqual([]);

    // Act: the re-run, under another run id, with S3 working
    await convertCsvToParquet(args('copyfail.csv', 2, 'copy-2'), s3, { workDir, instance });

    // Assess
    expect(await partsOf('copyfail')).toEqual({ 'copyfail-part-00000.parquet': [7, 8] });
    client.destroy();
  });

  it('fails saying the new output is live when an earlier part cannot be deleted, and a re-run deletes it', async () => {
    // Prepare: an earlier run of the source left three parts; deletes are refused
    await put(RAW, `${prefix}delfail.csv`, 'id,amount\n5,1.50\n');
    for (const i of [0, 1, 2]) await put(CURATED, `${prefix}delfail-part-0000${i}.parquet`, `old part ${i}`);
    const client = failing('DeleteObjectsCommand');

    // Act
    const run = convertCsvToParquet(args('delfail.csv', 1, 'del-1'), client, { workDir, instance });

    // Assess: this run's part is live beside the earlier run's surplus, and the message says so
    await expect(run).rejects.toThrow(PublishError);
    await expect(run).rejects.toThrow(
      `published this run's 1 part(s) to s3://${CURATED}/${prefix} (delfail-part-00000.parquet), but could not delete 2 part(s) of an earlier run of this source (delfail-part-00001.parquet to delfail-part-00002.parquet: AccessDenied: Access Denied): readers see their rows beside this run's (duplicates) until a re-run of this file, under any run id, publishes its output whole and deletes the rest.`,
    );
    expect(await partsOf('delfail')).toEqual({
      'delfail-part-00000.parquet': [5],
      'delfail-part-00001.parquet': 'old part 1',
      'delfail-part-00002.parquet': 'old part 2',
    });

    // Act: the re-run under the same run id (its staging left behind, as the refused delete left it)
    await convertCsvToParquet(args('delfail.csv', 1, 'del-1'), s3, { workDir, instance });

    // Assess
    expect(await partsOf('delfail')).toEqual({ 'delfail-part-00000.parquet': [5] });
    expect(await keys(CURATED, `${prefix}_staging/`)).toEqual([]);
    client.destroy();
  });

  it('goes on deleting past a refused batch and names every key it could not delete', async () => {
    // Prepare: 2,500 keys, the second request of three refused as a whole, one key refused in the third
    const all = Array.from({ length: 2500 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    const deleted: string[] = [];
    let request = 0;
    const client = {
      send: async (command: DeleteObjectsCommand) => {
        request++;
        const batch = command.input.Delete!.Objects!.map((o) => o.Key!);
        if (request === 2)
          throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
        const refused = request === 3 ? [batch[0]!] : [];
        deleted.push(...batch.filter((k) => !refused.includes(k)));
        return { Errors: refused.map((Key) => ({ Key, Code: 'AccessDenied', Message: 'Access Denied' })) };
      },
    } as unknown as S3Client;

    // Act
    const result = await tryDelete(client, CURATED, all);

    // Assess
    expect(request).toBe(3);
    expect(result).toEqual({
      left: [...all.slice(1000, 2000), 'k2000'],
      reason: 'ServiceUnavailable: Service Unavailable',
    });
    expect(deleted).toEqual([...all.slice(0, 1000), ...all.slice(2001)]);
  });

  it('gives landing keys that differ only by extension outputs of their own: zone names carry a tag of the whole key', () => {
    // Prepare: the stem drops `.csv`/`.csv.gz` in any case, so the job alone would map all of
    // these to one stem; the pipeline hands it zone names (README of glue-scripts: one-to-one).
    const landed = [
      'daily.csv',
      'daily.csv.gz',
      'daily.CSV',
      'daily.Csv.Gz',
      `${'x'.repeat(300)}.csv`,
      `${'x'.repeat(300)}.csv.gz`,
    ];
    const raw = (file: string) =>
      `s3://${RAW}/${zoneKey('orders', DATE, zoneFileName({ bucket: 'landing', key: `orders/${file}`, versionId: null, etag: 'e1', size: 1, dataset: 'orders', version: 'etag:e1' }))}`;

    // Act
    const stems = landed.map((file) => outputStem(raw(file)));

    // Assess: six distinct stems (the job itself maps daily.csv and daily.csv.gz alike)
    expect(new Set(stems).size).toBe(landed.length);
    expect(outputStem(`s3://${RAW}/${prefix}daily.csv`)).toBe(
      outputStem(`s3://${RAW}/${prefix}daily.csv.gz`),
    );
  });

  it('refuses bad arguments before touching S3', async () => {
    // Prepare
    const good = args('orders.csv', 2, 'r');
    const cases: [Partial<Record<keyof GlueJobArguments, string>>, string][] = [
      [{ '--expected-rows': 'ten' }, '--expected-rows must be a non-negative integer'],
      [{ '--run-id': 'a/b' }, '--run-id must be 1-80 characters'],
      [{ '--run-id': 'a\n' }, '--run-id must be 1-80 characters'],
      [{ '--source': `s3://${RAW}/${prefix}orders.csv\n` }, 'must be a .csv or .csv.gz file'],
      [{ '--delimiter': ';;' }, '--delimiter must be one ASCII character other than NUL, CR, LF'],
      [{ '--delimiter': '\u0000' }, '--delimiter must be one ASCII character other than NUL, CR, LF'],
      [{ '--delimiter': "'", '--quote': "'" }, `and the quote "'", got "'"`],
      [{ '--quote': '""' }, '--quote must be one ASCII character above space'],
      [{ '--quote': '\t' }, '--quote must be one ASCII character above space'],
      [{ '--multiline': 'yes' }, '--multiline must be true or false'],
      [{ '--multiline': 'True' }, '--multiline must be true or false'],
      [{ '--source': `s3://${RAW}/${prefix}orders.json` }, 'must be a .csv or .csv.gz file'],
      [{ '--target': 'curated/x/' }, 'not an s3:// URI'],
      [{ '--schema': '{"type":"struct","fields":[{"name":"x","type":"float"}]}' }, "column 'x': unsupported"],
      [{ '--dataset': '' }, 'missing job argument(s): --dataset'],
    ];
    for (const [change, message] of cases) {
      // Act
      const run = convertCsvToParquet({ ...good, ...change }, s3, { workDir, instance });
      // Assess
      await expect(run).rejects.toThrow(ConversionError);
      await expect(run).rejects.toThrow(message);
    }
  });

  it("fails with DuckDB's reason on a CSV it cannot read, such as an unterminated quote", async () => {
    // Prepare
    await put(RAW, `${prefix}unterminated.csv`, 'id,amount\n1,"2.50\n');

    // Act
    const run = convertCsvToParquet(args('unterminated.csv', 1, 'r-4'), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(/unterminated\.csv: the CSV could not be read: .*CSV Error/);
    expect(await keys(CURATED, `${prefix}unterminated`)).toEqual([]);
  });

  it('fails on a file mixing LF and CRLF line endings, which the validator rejects before it', async () => {
    // Prepare: the engines read such a file differently (Spark keeps a CR, DuckDB stops), so the
    // validator refuses it; should one arrive anyway, the twin fails rather than guess.
    const mixed = 'id,amount\n1,1.50\r\n2,2.50\n';
    const verdict = await validateCsv(
      (async function* () {
        yield Buffer.from(mixed);
      })(),
      dataset,
    );
    expect(verdict.errors.map((e) => e.rule)).toEqual(['mixed_line_endings']);
    await put(RAW, `${prefix}mixed.csv`, mixed);

    // Act
    const run = convertCsvToParquet(args('mixed.csv', 2, 'r-5'), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(/mixed\.csv: the CSV could not be read/);
    expect(await keys(CURATED, `${prefix}mixed`)).toEqual([]);
  });
});

describe("the cast plan is the Glue script's", () => {
  const glueScripts = fileURLToPath(new URL('../../glue-scripts/', import.meta.url));
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);

  // Not skipped without python3: `npm test` must not pass on a comparison that never ran (CI
  // installs it, see .ci/run).
  it('uses the same guards and reads every corpus schema into the same steps', () => {
    if (!python)
      throw new Error(
        'no python3 on this machine, so the Glue script cannot be compared (Debian/Ubuntu: apt-get install python3)',
      );
    // Prepare: every corpus schema, as the pipeline derives it.
    const schemas = corpus.map((c) => JSON.stringify(sparkSchema(parseDataset(c.dataset, `${c.name}.json`))));
    const program = [
      'import json, sys, csv_to_parquet as j',
      'schemas = json.load(sys.stdin)',
      'print(json.dumps({"guards": [j.GUARD_INT, j.GUARD_DOUBLE, j.GUARD_DATE, j.GUARD_TIMESTAMP]',
      '  + [j.guard_decimal(s) for s in (0, 1, 2, 10, 38)],',
      '  "plans": [[[s.column, s.header, s.spark_type, s.nullable, s.declared_type] for s in j.cast_plan(x)]',
      '            for x in schemas]}))',
    ].join('\n');

    // Act
    const output = execFileSync(python, ['-c', program], {
      cwd: glueScripts,
      input: JSON.stringify(schemas),
    });
    const python_ = JSON.parse(output.toString()) as { guards: string[]; plans: unknown[][][] };

    // Assess
    expect(python_.guards).toEqual([
      GUARD_INT,
      GUARD_DOUBLE,
      GUARD_DATE,
      GUARD_TIMESTAMP,
      ...[0, 1, 2, 10, 38].map(guardDecimal),
    ]);
    expect(python_.plans).toEqual(
      schemas.map((schema) =>
        castPlan(schema).map((s) => [s.column, s.header, s.sparkType, s.nullable, s.declaredType]),
      ),
    );
  });

  it('keeps the corpus bytes as the cases state them', () => {
    // Prepare / Act: a BOM and CRLF stated as bytes survive loading.
    const bom = corpus.find((c) => c.name === 'bom-crlf')!;
    // Assess
    expect([...csvBytes(bom).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csvBytes(bom).includes('\r\n')).toBe(true);
  });
});

describe("publish failures are worded as the Glue script's", () => {
  it('gives the same message as csv_to_parquet for every state a failed copy or delete can leave', () => {
    const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);
    if (!python) throw new Error('no python3 on this machine, so the Glue script cannot be compared');
    // Prepare: each copy-failure state (nothing, earlier only, ours only, a mix) and a delete failure
    const target = 's3://curated/orders/ingest_date=2024-01-05/';
    const part = (i: number) => `orders/ingest_date=2024-01-05/o-part-${String(i).padStart(5, '0')}.parquet`;
    const copies: [number, string[], string[], string, string][] = [
      [1, [], [], part(0), 'AccessDenied: Access Denied'],
      [2, [], [part(0), part(1), part(4)], part(0), 'Boom: x'],
      [3, [part(0), part(1)], [], part(2), 'Boom: y'],
      [3, [part(0)], [part(1), part(2), part(3), part(7)], part(1), 'Boom: z'],
    ];
    const deletes: [string[], string[], string][] = [
      [[part(0), part(1)], [part(2), part(5), part(6)], 'AccessDenied Access Denied'],
    ];
    const program = [
      'import json, sys, csv_to_parquet as j',
      'cases = json.load(sys.stdin)',
      'print(json.dumps([j.copy_failure_message(cases["target"], *c) for c in cases["copies"]]',
      '  + [j.delete_failure_message(cases["target"], *d) for d in cases["deletes"]]))',
    ].join('\n');

    // Act
    const output = execFileSync(python, ['-c', program], {
      cwd: fileURLToPath(new URL('../../glue-scripts/', import.meta.url)),
      input: JSON.stringify({ target, copies, deletes }),
    });

    // Assess
    expect(JSON.parse(output.toString())).toEqual([
      ...copies.map((c) => copyFailureMessage(target, ...c)),
      ...deletes.map((d) => deleteFailureMessage(target, ...d)),
    ]);
  });
});
