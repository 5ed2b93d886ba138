/**
 * The CSV→Parquet twin held to the conformance corpus: every case runs through the real local S3
 * server, the Parquet is read back with hyparquet (not DuckDB, which wrote it) and compared by
 * value and by Parquet type, its field ids read with DuckDB's parquet_schema(), and the commit
 * request compared with the files written; failures must name their columns and write nothing.
 * Also: unique names and re-runs, and the twin's plan, written schema, commit request and guards
 * against the Glue script's own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import type { CommitRequestFile, GlueJobArguments } from '../../lambdas/shared/contract.ts';
import { zoneFileName, zoneKey } from '../../lambdas/validate/core.ts';
import {
  ConversionError,
  commitRequest,
  convertCsvToParquet,
  dataFileStem,
  outputStem,
} from '../../lib/conversion/csv-to-parquet.ts';
import {
  castPlan,
  GUARD_DATE,
  GUARD_DOUBLE,
  GUARD_INT,
  GUARD_TIMESTAMP,
  guardDecimal,
  sqlString,
} from '../../lib/conversion/parquet-cast-plan.ts';
import { sparkSchema } from '../../lib/datasets/derive.ts';
import { type Column, type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import {
  fieldIds,
  ICEBERG_SCHEMA_KEY,
  type IcebergSchema,
  icebergSchema,
  LINEAGE_FIELDS,
  SPARK_FIELD_ID_KEY,
} from '../../lib/iceberg/schema.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../lib/local/s3-server.ts';
import { tryDelete } from '../../lib/s3-keys.ts';
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
/** The lineage arguments of every run: the landed key and version, and when S3 received it. */
const LINEAGE = {
  '--source-key': 'landing-key/2024/01/05/export.csv',
  '--source-version': '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
  '--ingested-at': '2024-01-05T23:59:59.987Z',
} as const;

/**
 * A declaration using every rule of change (issue 16): an aliased header, a retired column
 * (declared non-nullable before it retired), two optional columns, extra columns ignored.
 */
const EVOLVED = parseDataset(
  {
    name: 'customers',
    extraColumns: 'ignore',
    columns: [
      { name: 'id', type: 'bigint', nullable: false },
      { name: 'customer', type: 'string', header: 'Customer', aliases: ['Client', 'client name'] },
      { name: 'legacy_code', type: 'int', nullable: false, retired: true },
      { name: 'discount', type: 'decimal', precision: 12, scale: 2, optional: true },
      { name: 'seen_at', type: 'timestamp', optional: true },
      { name: 'note', type: 'string', optional: true },
    ],
  },
  'customers.json',
);
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

/** Where a case's source lands and where its output goes: one table (named as the case) per case. */
function locations(c: CorpusCase, dataset: Dataset, runId = 'run-1') {
  const prefix = `${c.name}/iceberg/data/ingest_date=${DATE}/`;
  return {
    sourceKey: `${dataset.name}/ingest_date=${DATE}/${c.source}`,
    targetPrefix: prefix,
    target: `s3://${CURATED}/${prefix}`,
    requestKey: `_commits/${c.name}/${runId}.json`,
  };
}

function jobArguments(c: CorpusCase, dataset: Dataset, runId = 'run-1'): GlueJobArguments {
  const where = locations(c, dataset, runId);
  return {
    '--dataset': dataset.name,
    '--source': `s3://${RAW}/${where.sourceKey}`,
    '--target': where.target,
    '--ingest-date': DATE,
    '--commit-request': `s3://${CURATED}/${where.requestKey}`,
    '--schema': JSON.stringify(sparkSchema(dataset)),
    '--expected-rows': String(c.expectedRowsArgument ?? c.expectedRows?.length ?? 0),
    '--run-id': runId,
    '--delimiter': c.delimiterArgument ?? dataset.dialect.delimiter,
    '--quote': dataset.dialect.quote,
    ...LINEAGE,
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

/** A regular expression matching `text` literally. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** DuckDB's reading of a Parquet footer: each leaf column's field id, and the key-value metadata. */
async function footerOf(
  bytes: Buffer,
  name: string,
): Promise<{ ids: [string, number | null][]; kv: Record<string, string> }> {
  const path = join(root, `${name}.parquet`);
  await writeFile(path, bytes);
  const connection = await instance.connect();
  try {
    const ids = (
      await connection.runAndReadAll(
        `SELECT name, field_id FROM parquet_schema(${sqlString(path)}) WHERE num_children IS NULL`,
      )
    )
      .getRows()
      .map(([n, id]) => [String(n), id === null ? null : Number(id)] as [string, number | null]);
    const kv = Object.fromEntries(
      (
        await connection.runAndReadAll(
          `SELECT decode(key), decode(value) FROM parquet_kv_metadata(${sqlString(path)})`,
        )
      )
        .getRows()
        .map(([k, v]) => [String(k), String(v)]),
    );
    return { ids, kv };
  } finally {
    connection.closeSync();
    await rm(path, { force: true });
  }
}

/** An Iceberg schema without the fields' docs (the file's copy carries none for declared columns). */
const withoutDocs = (schema: IcebergSchema) => ({
  ...schema,
  fields: schema.fields.map(({ doc: _doc, ...field }) => field),
});

/** The `ingest_date` column as the corpus reads values: a date. */
const INGEST_DATE_COLUMN = { name: 'ingest_date', type: 'date', nullable: false } as Column;
/** The lineage fields as the corpus reads values: two strings and a timestamp. */
const LINEAGE_AS_COLUMNS = LINEAGE_FIELDS.map(
  (f) =>
    ({ name: f.name, type: f.type === 'timestamptz' ? 'timestamp' : 'string', nullable: true }) as Column,
);

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

    // Assess: one data file under a unique name (the case's stem, the run id, a random part),
    // nothing else in the folder or on disk.
    const [outputKey, ...others] = await keys(CURATED, where.targetPrefix);
    expect(others).toEqual([]);
    const stem = c.output!.replace(/-part-00000\.parquet$/, '');
    expect(outputKey!.slice(where.targetPrefix.length)).toMatch(
      new RegExp(`^${literally(stem)}-run-1-[0-9a-f]{16}-part-00000\\.parquet$`),
    );
    expect(result.rows).toBe(c.expectedRows!.length);
    expect(result.outputs).toEqual([`s3://${CURATED}/${outputKey}`]);
    expect(result.bytesIn).toBe(sourceBytes(c).length);
    expect(readdirSync(workDir)).toEqual([]);
    const bytes = await get(CURATED, outputKey!);
    expect(result.bytesOut).toBe(bytes.length);
    const { metadata, rows } = await readParquet(bytes);

    // Assess: the commit request names exactly that file, with its true rows (its footer's) and size.
    expect(result.request).toBe(`s3://${CURATED}/${where.requestKey}`);
    const request = JSON.parse((await get(CURATED, where.requestKey)).toString()) as CommitRequestFile;
    expect(request).toEqual({
      version: 1,
      dataset: dataset.name,
      runId: 'run-1',
      source: `s3://${RAW}/${where.sourceKey}`,
      ingestDate: DATE,
      rows: Number(metadata.num_rows),
      files: [{ path: `s3://${CURATED}/${outputKey}`, rows: Number(metadata.num_rows), bytes: bytes.length }],
    });

    // Assess: every column's field id (ingest_date 1, the declared columns theirs), and the
    // Iceberg schema in the footer.
    const footer = await footerOf(bytes, c.name);
    const ids = fieldIds(dataset);
    expect(footer.ids).toEqual([
      ...dataset.columns.map((col) => [col.name, ids.get(col.name)!]),
      ['ingest_date', 1],
      ...LINEAGE_FIELDS.map((f) => [f.name, f.id]),
    ]);
    expect(withoutDocs(JSON.parse(footer.kv[ICEBERG_SCHEMA_KEY]!))).toEqual(
      withoutDocs(icebergSchema(dataset)),
    );

    // Assess: the schema (names in declared order, then ingest_date; types), the codec, then every value.
    const leaves = metadata.schema.slice(1);
    expect(leaves.map((e) => e.name)).toEqual([
      ...dataset.columns.map((col) => col.name),
      'ingest_date',
      ...LINEAGE_FIELDS.map((f) => f.name),
    ]);
    expect(leaves.map(parquetTypeOf)).toEqual(
      [...dataset.columns, INGEST_DATE_COLUMN, ...LINEAGE_AS_COLUMNS].map(contractParquetType),
    );
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
    expect(rows.map((row) => canonical(row.ingest_date, INGEST_DATE_COLUMN))).toEqual(
      c.expectedRows!.map(() => DATE),
    );
    // Every row carries the run's lineage arguments, the instant exact to the millisecond.
    expect(rows.map((row) => LINEAGE_AS_COLUMNS.map((col) => canonical(row[col.name], col)))).toEqual(
      c.expectedRows!.map(() => [
        LINEAGE['--source-key'],
        LINEAGE['--source-version'],
        '2024-01-05T23:59:59.987000Z',
      ]),
    );
  });

  it.each(negatives.map((c) => [c.name, c] as const))('%s fails and writes nothing', async (_name, c) => {
    // Prepare: a file the validator would reject (or a wrong --expected-rows) that arrives anyway.
    const dataset = parseDataset(c.dataset, `${c.name}.json`);
    const where = locations(c, dataset);
    const verdict = await validatorVerdict(c, dataset);
    expect(verdict.valid).toBe(!c.failure!.validatorRejects);
    await put(RAW, where.sourceKey, sourceBytes(c));

    // Act
    const run = convertCsvToParquet(jobArguments(c, dataset), s3, { workDir, instance });

    // Assess: a ConversionError naming the columns and counts, one line; no data file, no request.
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConversionError);
    const message = (error as Error).message;
    for (const part of c.failure!.messageIncludes) expect(message).toContain(part);
    expect(message).not.toContain('\n');
    expect(await keys(CURATED, where.targetPrefix)).toEqual([]);
    expect(await keys(CURATED, where.requestKey)).toEqual([]);
    expect(readdirSync(workDir)).toEqual([]);
  });
});

describe('writing data files', () => {
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
  const prefix = `orders/iceberg/data/ingest_date=${DATE}/`;
  const rawPrefix = `orders/ingest_date=${DATE}/`;
  const requestKey = (runId: string) => `_commits/orders/${runId}.json`;
  const args = (source: string, rows: number, runId: string): GlueJobArguments => ({
    '--dataset': 'orders',
    '--source': `s3://${RAW}/${rawPrefix}${source}`,
    '--target': `s3://${CURATED}/${prefix}`,
    '--ingest-date': DATE,
    '--commit-request': `s3://${CURATED}/${requestKey(runId)}`,
    '--schema': JSON.stringify(sparkSchema(dataset)),
    '--expected-rows': String(rows),
    '--run-id': runId,
    '--delimiter': ',',
    '--quote': '"',
    // What the Validate core passes for these one-line records; the twin reads every file whole.
    '--multiline': 'false',
    ...LINEAGE,
  });
  /** The data files of `stem` in the day's folder and the ids each holds (or its planted text). */
  const filesOf = async (stem: string) =>
    Object.fromEntries(
      await Promise.all(
        (await keys(CURATED, `${prefix}${stem}-`)).map(async (key) => {
          const bytes = await get(CURATED, key);
          const ids =
            bytes.subarray(0, 4).toString() === 'PAR1'
              ? (await readParquet(bytes)).rows.map((r) => r.id)
              : bytes.toString();
          return [key.slice(prefix.length), ids];
        }),
      ),
    );

  it("writes a re-run's files beside the earlier run's, never over them, and each request names only its own", async () => {
    // Prepare: orders-eu.csv has a data file of its own in the folder.
    await put(RAW, `${rawPrefix}orders.csv`, 'id,amount\n1,1.50\n2,2.50\n');
    await put(CURATED, `${prefix}orders-eu-other-0123456789abcdef-part-00000.parquet`, 'another source');

    // Act: two runs of the same source, under one run id (a retry) and another
    const first = await convertCsvToParquet(args('orders.csv', 2, 'rerun-1'), s3, { workDir, instance });
    const retry = await convertCsvToParquet(args('orders.csv', 2, 'rerun-1'), s3, { workDir, instance });
    const second = await convertCsvToParquet(args('orders.csv', 2, 'rerun-2'), s3, { workDir, instance });

    // Assess: three files of the source, all whole; the other source's untouched
    const names = [first, retry, second].map((r) => r.outputs[0]!.slice(`s3://${CURATED}/${prefix}`.length));
    expect(new Set(names).size).toBe(3);
    expect(await filesOf('orders')).toEqual({
      ...Object.fromEntries(names.map((n) => [n, [1, 2]])),
      'orders-eu-other-0123456789abcdef-part-00000.parquet': 'another source',
    });
    const request = JSON.parse((await get(CURATED, requestKey('rerun-2'))).toString()) as CommitRequestFile;
    expect(request.files.map((f) => f.path)).toEqual(second.outputs);
    // The retry under the same run id replaced the request: it names the retry's file only.
    const retried = JSON.parse((await get(CURATED, requestKey('rerun-1'))).toString()) as CommitRequestFile;
    expect(retried.files.map((f) => f.path)).toEqual(retry.outputs);
  });

  it('writes no data file and no commit request when the conversion fails, and touches no earlier file', async () => {
    // Prepare: an earlier run's data file, then a source with a value that does not convert.
    await put(RAW, `${rawPrefix}broken.csv`, 'id,amount\n1,1.005\n');
    await put(CURATED, `${prefix}broken-run-0-0123456789abcdef-part-00000.parquet`, 'earlier output');

    // Act
    const run = convertCsvToParquet(args('broken.csv', 1, 'failing-3'), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(
      `dataset orders, source s3://${RAW}/${rawPrefix}broken.csv: 1 non-empty value did not convert to the declared type in column amount (decimal(12,2)): 1`,
    );
    expect(await filesOf('broken')).toEqual({
      'broken-run-0-0123456789abcdef-part-00000.parquet': 'earlier output',
    });
    expect(await keys(CURATED, requestKey('failing-3'))).toEqual([]);
  });

  /** A client of the same server whose requests `refused` picks fail with S3's AccessDenied (not retried). */
  const failing = (refused: (command: string, key: string) => boolean): S3Client => {
    const client = localS3Client(server.endpoint);
    client.middlewareStack.add(
      (next, context) => async (input) => {
        const key = String((input.input as { Key?: unknown }).Key ?? '');
        if (refused(context.commandName ?? '', key))
          throw Object.assign(new Error('Access Denied'), {
            name: 'AccessDenied',
            $metadata: { httpStatusCode: 403 },
          });
        return next(input);
      },
      { step: 'initialize', priority: 'low', name: 'writeFault' },
    );
    return client;
  };

  it('writes no commit request when its data file cannot be uploaded', async () => {
    // Prepare
    await put(RAW, `${rawPrefix}nodata.csv`, 'id,amount\n7,1.50\n');
    const client = failing((command, key) => command === 'PutObjectCommand' && key.endsWith('.parquet'));

    // Act
    const run = convertCsvToParquet(args('nodata.csv', 1, 'nodata-1'), client, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow('Access Denied');
    expect(await filesOf('nodata')).toEqual({});
    expect(await keys(CURATED, requestKey('nodata-1'))).toEqual([]);
    expect(readdirSync(workDir)).toEqual([]);
    client.destroy();
  });

  it('fails when the commit request cannot be written, leaving its data file unreferenced (never committed)', async () => {
    // Prepare
    await put(RAW, `${rawPrefix}norequest.csv`, 'id,amount\n8,2.50\n');
    const client = failing((command, key) => command === 'PutObjectCommand' && key.endsWith('.json'));

    // Act
    const run = convertCsvToParquet(args('norequest.csv', 1, 'noreq-1'), client, { workDir, instance });

    // Assess: the run fails (no committer will see its file; the orphan-file removal deletes it)
    await expect(run).rejects.toThrow('Access Denied');
    expect(Object.values(await filesOf('norequest'))).toEqual([[8]]);
    expect(await keys(CURATED, requestKey('noreq-1'))).toEqual([]);
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
    expect(outputStem(`s3://${RAW}/${rawPrefix}daily.csv`)).toBe(
      outputStem(`s3://${RAW}/${rawPrefix}daily.csv.gz`),
    );
  });

  it('refuses bad arguments before touching S3', async () => {
    // Prepare
    const good = args('orders.csv', 2, 'r');
    const cases: [Partial<Record<keyof GlueJobArguments, string>>, string][] = [
      [{ '--expected-rows': 'ten' }, '--expected-rows must be a non-negative integer'],
      [{ '--run-id': 'a/b' }, '--run-id must be 1-80 characters'],
      [{ '--run-id': 'a\n' }, '--run-id must be 1-80 characters'],
      [{ '--source': `s3://${RAW}/${rawPrefix}orders.csv\n` }, 'must be a .csv or .csv.gz file'],
      [{ '--delimiter': ';;' }, '--delimiter must be one ASCII character other than NUL, CR, LF'],
      [{ '--delimiter': '\u0000' }, '--delimiter must be one ASCII character other than NUL, CR, LF'],
      [{ '--delimiter': "'", '--quote': "'" }, `and the quote "'", got "'"`],
      [{ '--quote': '""' }, '--quote must be one ASCII character above space'],
      [{ '--quote': '\t' }, '--quote must be one ASCII character above space'],
      [{ '--multiline': 'yes' }, '--multiline must be true or false'],
      [{ '--multiline': 'True' }, '--multiline must be true or false'],
      [{ '--source': `s3://${RAW}/${rawPrefix}orders.json` }, 'must be a .csv or .csv.gz file'],
      [{ '--target': 'curated/x/' }, 'not an s3:// URI'],
      [
        {
          '--schema':
            '{"type":"struct","fields":[{"name":"x","type":"float","metadata":{"parquet.field.id":2}}]}',
        },
        "column 'x': unsupported",
      ],
      [{ '--dataset': '' }, 'missing job argument(s): --dataset'],
      [{ '--ingest-date': '' }, 'missing job argument(s): --ingest-date'],
      [{ '--commit-request': '' }, 'missing job argument(s): --commit-request'],
      [{ '--ingest-date': '2024-02-30' }, '--ingest-date must be a date YYYY-MM-DD, got "2024-02-30"'],
      [{ '--ingest-date': '2024-1-05' }, '--ingest-date must be a date YYYY-MM-DD'],
      [{ '--ingest-date': '0000-01-01' }, '--ingest-date must be a date YYYY-MM-DD'],
      [{ '--ingest-date': '2024-01-05\n' }, '--ingest-date must be a date YYYY-MM-DD'],
      [
        { '--commit-request': `s3://${CURATED}/_commits/orders/r.txt` },
        '--commit-request must name a .json object',
      ],
      [
        { '--commit-request': `s3://${CURATED}/_commits/orders/.json` },
        '--commit-request must name a .json object',
      ],
      [{ '--commit-request': 'curated/_commits/orders/r.json' }, 'not an s3:// URI'],
      [
        { '--schema': '{"type":"struct","fields":[{"name":"x","type":"string"}]}' },
        `column 'x': metadata["parquet.field.id"] must be an integer field id above 1 (ingest_date's), got none`,
      ],
      [
        {
          '--schema':
            '{"type":"struct","fields":[{"name":"x","type":"string","metadata":{"parquet.field.id":2}},{"name":"y","type":"string","metadata":{"parquet.field.id":2}}]}',
        },
        'field id 2 is declared twice',
      ],
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
    await put(RAW, `${rawPrefix}unterminated.csv`, 'id,amount\n1,"2.50\n');

    // Act
    const run = convertCsvToParquet(args('unterminated.csv', 1, 'r-4'), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(/unterminated\.csv: the CSV could not be read: .*CSV Error/);
    expect(await keys(CURATED, `${prefix}unterminated`)).toEqual([]);
    expect(await keys(CURATED, requestKey('r-4'))).toEqual([]);
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
    await put(RAW, `${rawPrefix}mixed.csv`, mixed);

    // Act
    const run = convertCsvToParquet(args('mixed.csv', 2, 'r-5'), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(/mixed\.csv: the CSV could not be read/);
    expect(await keys(CURATED, `${prefix}mixed`)).toEqual([]);
  });
});

describe('the rules of change in the DuckDB engine', () => {
  const prefix = `customers/iceberg/data/ingest_date=${DATE}/`;
  const rawPrefix = `customers/ingest_date=${DATE}/`;
  const args = (
    source: string,
    rows: number,
    extra: Pick<GlueJobArguments, '--ingested-at'> = {},
  ): GlueJobArguments => ({
    '--dataset': 'customers',
    '--source': `s3://${RAW}/${rawPrefix}${source}`,
    '--target': `s3://${CURATED}/${prefix}`,
    '--ingest-date': DATE,
    '--commit-request': `s3://${CURATED}/_commits/customers/${source}.json`,
    '--schema': JSON.stringify(sparkSchema(EVOLVED)),
    '--expected-rows': String(rows),
    '--run-id': 'run-1',
    '--delimiter': ',',
    '--quote': '"',
    ...LINEAGE,
    ...extra,
  });
  const fetchOutput = (uri: string) => get(CURATED, uri.slice(`s3://${CURATED}/`.length));
  /** Converts `csv` as `source` and returns the one data file written. */
  const convert = async (source: string, csv: string, rows: number) => {
    await put(RAW, `${rawPrefix}${source}`, csv);
    const result = await convertCsvToParquet(args(source, rows), s3, { workDir, instance });
    expect(result.outputs).toHaveLength(1);
    return fetchOutput(result.outputs[0]!);
  };

  it('reads an aliased header, ignores extra and retired file columns, and writes absent optional and retired columns as typed NULLs with their ids', async () => {
    // Prepare: a new export naming `customer` by an alias, in another order, without `discount`
    // (optional), still carrying the retired `legacy_code` and an extra `Promo` column (both
    // ignored: text no cast would take), and with `seen_at` (optional) present.
    const csv = [
      'Client,legacy_code,id,Promo,seen_at',
      'Ann,not-a-number,1,zzz,2024-01-05T10:00:00.5Z',
      '"Bob, Jr",,2,,',
    ].join('\n');

    // Act
    const bytes = await convert('alias.csv', `${csv}\n`, 2);

    // Assess: every value by hyparquet, the typed NULLs included.
    const { metadata, rows } = await readParquet(bytes);
    const columns = [...EVOLVED.columns, INGEST_DATE_COLUMN, ...LINEAGE_AS_COLUMNS];
    const lineage = {
      ingest_date: DATE,
      _source_key: LINEAGE['--source-key'],
      _source_version: LINEAGE['--source-version'],
      _ingested_at: '2024-01-05T23:59:59.987000Z',
    };
    expect(
      rows.map((row) => Object.fromEntries(columns.map((col) => [col.name, canonical(row[col.name], col)]))),
    ).toEqual([
      {
        id: '1',
        customer: 'Ann',
        legacy_code: null,
        discount: null,
        seen_at: '2024-01-05T10:00:00.500000Z',
        note: null,
        ...lineage,
      },
      {
        id: '2',
        customer: 'Bob, Jr',
        legacy_code: null,
        discount: null,
        seen_at: null,
        note: null,
        ...lineage,
      },
    ]);
    // Assess: the typed NULL columns have their declared Parquet types (not DuckDB's NULL type),
    // the ignored `Promo` is not written, and the footer's Iceberg schema is the table's.
    const leaves = metadata.schema.slice(1);
    expect(leaves.map((e) => [e.name, parquetTypeOf(e), e.field_id])).toEqual(
      columns.map((col, i) => [
        col.name,
        contractParquetType(col),
        [2, 3, 4, 5, 6, 7, 1, 100_001, 100_002, 100_003][i],
      ]),
    );
    const footer = await footerOf(bytes, 'alias');
    expect(withoutDocs(JSON.parse(footer.kv[ICEBERG_SCHEMA_KEY]!))).toEqual(
      withoutDocs(icebergSchema(EVOLVED)),
    );

    // Assess: DuckDB reads them back typed, and by field id under the table's schema.
    const path = join(root, 'alias.parquet');
    await writeFile(path, bytes);
    const connection = await instance.connect();
    try {
      const types = (
        await connection.runAndReadAll(
          `SELECT typeof(legacy_code), typeof(discount), typeof(seen_at), typeof(_ingested_at) FROM read_parquet(${sqlString(path)}) LIMIT 1`,
        )
      ).getRows();
      expect(types).toEqual([
        ['INTEGER', 'DECIMAL(12,2)', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH TIME ZONE'],
      ]);
      const byId = (
        await connection.runAndReadAll(
          `SELECT client, epoch_ms(stamp) FROM read_parquet(${sqlString(path)}, schema = MAP {3: {name: 'client', type: 'VARCHAR', default_value: NULL}, 100003: {name: 'stamp', type: 'TIMESTAMPTZ', default_value: NULL}}) ORDER BY client`,
        )
      ).getRows();
      expect(byId.map(([client, ms]) => [String(client), Number(ms)])).toEqual([
        ['Ann', Date.parse(LINEAGE['--ingested-at'])],
        ['Bob, Jr', Date.parse(LINEAGE['--ingested-at'])],
      ]);
    } finally {
      connection.closeSync();
      await rm(path, { force: true });
    }
  });

  it('reads a column by its name or its header as well as by an alias, and an optional column when present', async () => {
    // Prepare: the old export: `customer` by its name, the optional columns present.
    const csv = 'customer,id,discount,seen_at\nCy,3,-0.50,2024-01-05 10:00:00+01:00\n';

    // Act
    const named = await readParquet(await convert('named.csv', csv, 1));
    const headed = await readParquet(await convert('header.csv', 'Customer,id\nDee,4\n', 1));

    // Assess
    const read = Object.fromEntries(
      EVOLVED.columns.map((col) => [col.name, canonical(named.rows[0]![col.name], col)]),
    );
    expect(read).toEqual({
      id: '3',
      customer: 'Cy',
      legacy_code: null,
      discount: '-0.50',
      seen_at: '2024-01-05T09:00:00.000000Z',
      note: null,
    });
    expect(headed.rows.map((row) => row.customer)).toEqual(['Dee']);
  });

  it('still refuses a file without a column that is not optional, naming it', async () => {
    // Prepare: `id` is neither optional nor retired.
    await put(RAW, `${rawPrefix}no-id.csv`, 'Client,discount\nEd,1.00\n');

    // Act
    const run = convertCsvToParquet(args('no-id.csv', 1), s3, { workDir, instance });

    // Assess
    await expect(run).rejects.toThrow(
      "the file's header has no column 'id' (file header: 'Client', 'discount')",
    );
  });

  it('needs the lineage arguments when the schema has lineage fields, and converts a schema from before them without', async () => {
    // Prepare: arguments without --source-version and --ingested-at; then a schema as an execution
    // started before the lineage fields carries it, with no lineage argument at all.
    await put(RAW, `${rawPrefix}old.csv`, 'id,customer\n5,Flo\n');
    const { '--source-version': _v, '--ingested-at': _t, ...partial } = args('old.csv', 1);
    const before = {
      type: 'struct',
      fields: sparkSchema(EVOLVED).fields.filter((f) => !('lineage' in f.metadata)),
    };
    const { '--source-key': _k, ...old } = { ...partial, '--schema': JSON.stringify(before) };

    // Act
    const refused = convertCsvToParquet(partial, s3, { workDir, instance });
    await expect(refused).rejects.toThrow(
      "the schema has lineage fields, so the job needs --source-version, --ingested-at (the landed object's key, version and LastModified)",
    );
    const converted = await convertCsvToParquet(old, s3, { workDir, instance });

    // Assess
    const { metadata, rows } = await readParquet(await fetchOutput(converted.outputs[0]!));
    expect(metadata.schema.slice(1).map((e) => e.name)).toEqual([
      ...EVOLVED.columns.map((c) => c.name),
      'ingest_date',
    ]);
    expect(rows.map((row) => row.customer)).toEqual(['Flo']);
  });

  it.each([
    ['2024-01-05T10:00:00Z', 'no milliseconds'],
    ['2024-01-05T10:00:00.000+01:00', 'an offset'],
    ['2024-02-30T10:00:00.000Z', 'no such day'],
    ['2024-01-05T24:00:00.000Z', 'hour 24'],
    ['0000-01-01T00:00:00.000Z', 'year 0'],
  ])('refuses --ingested-at %s (%s) before touching S3', async (ingestedAt) => {
    // Act
    const run = convertCsvToParquet(args('never.csv', 1, { '--ingested-at': ingestedAt }), s3, {
      workDir,
      instance,
    });

    // Assess
    await expect(run).rejects.toThrow(
      `--ingested-at must be an ISO 8601 UTC instant with milliseconds (2024-01-05T10:00:00.000Z, an S3 LastModified), got "${ingestedAt}"`,
    );
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
    // Prepare: every corpus schema, as the pipeline derives it, and one with every rule of change.
    const schemas = [...corpus.map((c) => parseDataset(c.dataset, `${c.name}.json`)), EVOLVED].map((d) =>
      JSON.stringify(sparkSchema(d)),
    );
    const program = [
      'import json, sys, csv_to_parquet as j',
      'schemas = json.load(sys.stdin)',
      'print(json.dumps({"guards": [j.GUARD_INT, j.GUARD_DOUBLE, j.GUARD_DATE, j.GUARD_TIMESTAMP]',
      '  + [j.guard_decimal(s) for s in (0, 1, 2, 10, 38)],',
      '  "plans": [[[s.column, s.header, s.spark_type, s.nullable, s.declared_type, s.field_id,',
      '              list(s.aliases), s.optional, s.retired, s.lineage]',
      '             for s in j.cast_plan(x)] for x in schemas],',
      '  "written": [j.output_schema(j.cast_plan(x)) for x in schemas]}))',
    ].join('\n');

    // Act
    const output = execFileSync(python, ['-c', program], {
      cwd: glueScripts,
      input: JSON.stringify(schemas),
    });
    const python_ = JSON.parse(output.toString()) as {
      guards: string[];
      plans: unknown[][][];
      written: { fields: { name: string; type: string; metadata: Record<string, unknown> }[] }[];
    };

    // Assess
    expect(python_.guards).toEqual([
      GUARD_INT,
      GUARD_DOUBLE,
      GUARD_DATE,
      GUARD_TIMESTAMP,
      ...[0, 1, 2, 10, 38].map(guardDecimal),
    ]);
    const plans = schemas.map((schema) =>
      castPlan(schema).map((s) => [
        s.column,
        s.header,
        s.sparkType,
        s.nullable,
        s.declaredType,
        s.fieldId,
        s.aliases,
        s.optional,
        s.retired,
        s.lineage,
      ]),
    );
    expect(python_.plans).toEqual(plans);
    // The rules of change reach both plans: aliases, optional, retired (nullable), the lineage sources.
    expect(
      plans
        .at(-1)!
        .map(([column, , , nullable, , , aliases, optional, retired, lineage]) => [
          column,
          nullable,
          aliases,
          optional,
          retired,
          lineage,
        ]),
    ).toEqual([
      ['id', false, [], false, false, null],
      ['customer', true, ['Client', 'client name'], false, false, null],
      ['legacy_code', true, [], false, true, null],
      ['discount', true, [], true, false, null],
      ['seen_at', true, [], true, false, null],
      ['note', true, [], true, false, null],
      ['_source_key', true, [], false, false, 'source_key'],
      ['_source_version', true, [], false, false, 'source_version'],
      ['_ingested_at', true, [], false, false, 'ingested_at'],
    ]);
    // What Spark writes: the StructType the script gives its written columns carries every
    // column's field id (the dataset's, from lib/iceberg/schema.ts), ingest_date's, 1, and the
    // lineage fields' (lib/iceberg/schema.ts), in the table schema's order.
    [...corpus.map((c) => parseDataset(c.dataset, `${c.name}.json`)), EVOLVED].forEach((dataset, i) => {
      const ids = fieldIds(dataset);
      const spark = sparkSchema(dataset).fields;
      const declared = spark.slice(0, dataset.columns.length);
      expect(python_.written[i]!.fields, dataset.name).toEqual([
        ...declared.map((f) => ({
          name: f.name,
          type: f.type,
          nullable: f.nullable,
          metadata: { [SPARK_FIELD_ID_KEY]: ids.get(f.name) },
        })),
        { name: 'ingest_date', type: 'date', nullable: false, metadata: { [SPARK_FIELD_ID_KEY]: 1 } },
        ...LINEAGE_FIELDS.map((f) => ({
          name: f.name,
          type: f.type === 'timestamptz' ? 'timestamp' : 'string',
          nullable: true,
          metadata: { [SPARK_FIELD_ID_KEY]: f.id },
        })),
      ]);
    });
  });

  it('reads the metadata of the rules of change alike: the same refusals in the same words, optional and retired columns nullable', () => {
    if (!python) throw new Error('no python3 on this machine, so the Glue script cannot be compared');
    // Prepare: hand-written schemas (the model would refuse most), each field given its field id.
    const field = (name: string, type: string, metadata: Record<string, unknown>, nullable = true) => ({
      name,
      type,
      nullable,
      metadata: { [SPARK_FIELD_ID_KEY]: 2, ...metadata },
    });
    const schema = (...fields: ReturnType<typeof field>[]) =>
      JSON.stringify({
        type: 'struct',
        fields: fields.map((f, i) => ({ ...f, metadata: { ...f.metadata, [SPARK_FIELD_ID_KEY]: i + 2 } })),
      });
    const schemas = [
      schema(
        field('kept', 'integer', { retired: true }, false),
        field('late', 'string', { optional: true }, false),
        field('plain', 'string', {}, false),
      ),
      schema(field('a', 'string', { aliases: ['A'] }), field('b', 'string', { header: 'A' })),
      schema(field('a', 'string', { aliases: ['x', ''] })),
      schema(field('a', 'string', { aliases: 'x' })),
      schema(field('a', 'string', { optional: 'yes' })),
      schema(field('a', 'string', { retired: 1 })),
      schema(field('a', 'string', {}), field('t', 'string', { lineage: 'landed_at' })),
      schema(field('a', 'string', {}), field('t', 'string', { lineage: 'ingested_at' })),
      schema(
        field('a', 'string', {}),
        field('k', 'string', { lineage: 'source_key' }),
        field('k2', 'string', { lineage: 'source_key' }),
      ),
      // A lineage field's header names nothing in the file: it may equal a column's.
      schema(field('a', 'string', {}), field('_k', 'string', { lineage: 'source_key', header: 'a' })),
    ];
    const program = [
      'import json, sys, csv_to_parquet as j',
      'out = []',
      'for x in json.load(sys.stdin):',
      '    try:',
      '        out.append([s.nullable for s in j.cast_plan(x)])',
      '    except ValueError as e:',
      '        out.append(str(e))',
      'print(json.dumps(out))',
    ].join('\n');
    const twin = (x: string) => {
      try {
        return castPlan(x).map((s) => s.nullable);
      } catch (error) {
        return (error as Error).message;
      }
    };

    // Act
    const script = JSON.parse(
      execFileSync(python, ['-c', program], { cwd: glueScripts, input: JSON.stringify(schemas) }).toString(),
    ) as unknown[];

    // Assess
    expect(schemas.map(twin)).toEqual([
      [true, true, false],
      "header 'A' is declared twice",
      "column 'a': metadata.aliases must be a list of non-empty strings",
      "column 'a': metadata.aliases must be a list of non-empty strings",
      'column \'a\': metadata.optional must be true or false, got "yes"',
      "column 'a': metadata.retired must be true or false, got 1",
      'column \'t\': metadata.lineage must be one of source_key, source_version, ingested_at, got "landed_at"',
      'column \'t\': the lineage field ingested_at must be of type TIMESTAMP_LTZ, got "string"',
      'lineage source_key is declared twice',
      [true, true],
    ]);
    expect(script).toEqual(schemas.map(twin));
  });

  it("builds the commit request and cuts long stems as the twin does, and reads a DuckDB file's row count from its footer", async () => {
    if (!python) throw new Error('no python3 on this machine, so the Glue script cannot be compared');
    // Prepare: a request's inputs, and Parquet files of DuckDB with 0, 1, 3000 rows (3 row groups),
    // 200 columns, and a long key-value entry.
    const job = {
      dataset: 'orders',
      runId: 'exec-9',
      source: `s3://${RAW}/orders/ingest_date=${DATE}/a.1f0c9a2e.csv`,
      ingestDate: DATE,
    };
    const files = [
      { path: `s3://${CURATED}/x/a.parquet`, rows: 3, bytes: 1234 },
      { path: `s3://${CURATED}/x/b.parquet`, rows: 0, bytes: 400 },
    ];
    // Sources whose names are cut to the name limit (ASCII, 2- and 4-byte characters) or kept.
    const sources = [
      'orders',
      '_daily',
      `${'x'.repeat(300)}`,
      `é${'é'.repeat(200)}`,
      `${'😀'.repeat(80)}`,
    ].map((stem) => `s3://${RAW}/orders/ingest_date=${DATE}/${stem}.csv`);
    const suffix = `-${'r'.repeat(80)}-${'f'.repeat(16)}`;
    const made: { path: string; rows: number }[] = [];
    const connection = await instance.connect();
    try {
      const selects: [string, number, string][] = [
        ['SELECT 1 AS a WHERE false', 0, ''],
        ["SELECT 42 AS a, 'x' AS b", 1, ''],
        ['SELECT range AS a FROM range(3000)', 3000, ', ROW_GROUP_SIZE 1000'],
        [`SELECT ${Array.from({ length: 200 }, (_, i) => `${i} AS c${i}`).join(', ')}`, 1, ''],
        [
          'SELECT range AS a FROM range(7)',
          7,
          `, KV_METADATA {'iceberg.schema': ${sqlString('x'.repeat(70_000))}}`,
        ],
      ];
      for (const [i, [select, rows, options]] of selects.entries()) {
        const path = join(root, `footer-${i}.parquet`);
        await connection.run(`COPY (${select}) TO ${sqlString(path)} (FORMAT parquet${options})`);
        made.push({ path, rows });
      }
    } finally {
      connection.closeSync();
    }
    const program = [
      'import json, sys, csv_to_parquet as j',
      'x = json.load(sys.stdin)',
      'a = j.JobArgs(x["job"]["dataset"], x["job"]["source"], "s3://c/t/", "{}", 0, x["job"]["ingestDate"],',
      '              "s3://c/r.json", x["job"]["runId"], ",")',
      'def rows(path):',
      '    data = open(path, "rb").read()',
      '    n = j.footer_length(data[-8:])',
      '    return j.parquet_num_rows(data[-8 - n:-8])',
      'print(json.dumps({"request": j.commit_request(a, x["files"]), "rows": [rows(p) for p in x["paths"]],',
      '                  "stems": [j.data_file_stem(s, x["suffix"]) for s in x["sources"]]}))',
    ].join('\n');

    // Act
    const output = execFileSync(python, ['-c', program], {
      cwd: fileURLToPath(new URL('../../glue-scripts/', import.meta.url)),
      input: JSON.stringify({ job, files, paths: made.map((m) => m.path), sources, suffix }),
    });
    const result = JSON.parse(output.toString()) as { request: unknown; rows: number[]; stems: string[] };

    // Assess
    expect(result.request).toEqual(commitRequest(job, files));
    expect(result.rows).toEqual(made.map((m) => m.rows));
    expect(result.stems).toEqual(sources.map((source) => dataFileStem(source, suffix)));
    expect(new Set(result.stems).size).toBe(sources.length);
  });

  it('keeps the corpus bytes as the cases state them', () => {
    // Prepare / Act: a BOM and CRLF stated as bytes survive loading.
    const bom = corpus.find((c) => c.name === 'bom-crlf')!;
    // Assess
    expect([...csvBytes(bom).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csvBytes(bom).includes('\r\n')).toBe(true);
  });
});
