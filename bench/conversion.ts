/**
 * Figures of the CSV→Parquet twin on a CSV file: curated Parquet bytes / CSV bytes (target ≤ 25%),
 * conversion MB/s through the local S3 server, and the bytes a one-column aggregate
 * (`SELECT sum(amount)`) reads against the file size. `measureConversion` is for the bench to
 * call; `tsx bench/conversion.ts [file.csv]` prints the figures once (default: the bench's
 * 200 MB orders file, which `npm run bench` generates).
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parquetMetadata } from 'hyparquet';
import { convertCsvToParquet } from '../lib/conversion/csv-to-parquet.ts';
import { sparkSchema } from '../lib/datasets/derive.ts';
import { loadDatasets, pickDataset } from '../lib/datasets/load.ts';
import type { Dataset } from '../lib/datasets/model.ts';
import { commitRequestUri, partitionPrefix } from '../lib/iceberg/layout.ts';
import { localS3Client, startLocalS3 } from '../lib/local/s3-server.ts';
import { validateCsv } from '../lib/validation/validate-csv.ts';

/** Decimal megabytes, as the rest of the bench counts them. */
const MB = 1e6;
/** Parquet bytes / CSV bytes the curated zone should reach on the orders file. */
export const TARGET_PARQUET_RATIO = 0.25;
/** The column the one-column aggregate reads. */
export const AGGREGATE_COLUMN = 'amount';

/** What {@link measureConversion} reports. */
export interface ConversionFigures {
  readonly csvBytes: number;
  readonly rows: number;
  readonly parquetBytes: number;
  /** parquetBytes / csvBytes. */
  readonly ratio: number;
  /** CSV megabytes per second through the whole twin: download, DuckDB, upload, publish. */
  readonly mbPerSecond: number;
  readonly seconds: number;
  /** Bytes `SELECT sum(<column>)` reads: the column's chunks plus the footer. */
  readonly oneColumnBytesRead: number;
  /** Size of the Parquet file that query opens. */
  readonly fileBytes: number;
  /** Compressed bytes of each column's chunks, by column name. */
  readonly columnBytes: Readonly<Record<string, number>>;
  /** The footer a reader fetches before any chunk (metadata, its length, the magic). */
  readonly footerBytes: number;
}

/**
 * Converts `csvPath` (a valid file of `dataset`) with the twin through a local S3 server in a
 * temp folder under `workDir` and measures the result. The row count comes from the validator, as
 * in the pipeline.
 */
export async function measureConversion(
  csvPath: string,
  dataset: Dataset,
  workDir: string,
  column: string = AGGREGATE_COLUMN,
  options: { readonly lineage?: boolean } = {},
): Promise<ConversionFigures> {
  // Without lineage: the schema a Validate function from before issue 16 passed (no lineage
  // fields, no lineage arguments), which the engines still convert.
  const lineage = options.lineage ?? true;
  const schema = sparkSchema(dataset);
  const fields = lineage ? schema.fields : schema.fields.filter((f) => !('lineage' in f.metadata));
  const csvBytes = (await stat(csvPath)).size;
  const verdict = await validateCsv(createReadStream(csvPath, { highWaterMark: 1 << 20 }), dataset);
  if (!verdict.valid)
    throw new Error(`${csvPath} is not a valid ${dataset.name} file: ${verdict.errorCount} errors`);
  await mkdir(workDir, { recursive: true });
  // A folder of its own under workDir: only that is removed at the end.
  const dir = await mkdtemp(join(workDir, 'conversion-'));
  const server = await startLocalS3({ directory: join(dir, 's3'), buckets: ['raw', 'curated'] });
  const s3 = localS3Client(server.endpoint);
  try {
    const key = `${dataset.name}/ingest_date=2024-01-05/bench.csv`;
    await new Upload({
      client: s3,
      params: { Bucket: 'raw', Key: key, Body: createReadStream(csvPath, { highWaterMark: 1 << 20 }) },
    }).done();
    const result = await convertCsvToParquet(
      {
        '--dataset': dataset.name,
        '--source': `s3://raw/${key}`,
        '--target': partitionPrefix('curated', dataset.name, '2024-01-05'),
        '--ingest-date': '2024-01-05',
        '--commit-request': commitRequestUri('curated', dataset.name, 'bench'),
        '--schema': JSON.stringify({ ...schema, fields }),
        '--expected-rows': String(verdict.rows),
        '--run-id': 'bench',
        '--delimiter': dataset.dialect.delimiter,
        '--quote': dataset.dialect.quote,
        ...(lineage
          ? {
              '--source-key': `${dataset.name}/bench.csv`,
              '--source-version': 'v1',
              '--ingested-at': '2024-01-05T10:00:00.000Z',
            }
          : {}),
      },
      s3,
      { workDir: join(dir, 'tmp') },
    );
    const output = result.outputs[0]!;
    const [bucket, ...rest] = output.slice('s3://'.length).split('/');
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: rest.join('/') }));
    const bytes = await object.Body!.transformToByteArray();
    const metadata = parquetMetadata(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const columnBytes: Record<string, number> = {};
    for (const group of metadata.row_groups)
      for (const chunk of group.columns) {
        const name = chunk.meta_data?.path_in_schema.join('.');
        if (name !== undefined)
          columnBytes[name] = (columnBytes[name] ?? 0) + Number(chunk.meta_data!.total_compressed_size);
      }
    const chunkBytes = columnBytes[column] ?? 0;
    if (chunkBytes === 0) throw new Error(`no column ${column} in ${output}`);
    // A reader fetches the footer (metadata, its 4-byte length and the 4-byte magic), then the chunks.
    const footerBytes = metadata.metadata_length + 8;
    return {
      csvBytes,
      rows: result.rows,
      parquetBytes: result.bytesOut,
      ratio: result.bytesOut / csvBytes,
      mbPerSecond: csvBytes / MB / result.seconds,
      seconds: result.seconds,
      oneColumnBytesRead: chunkBytes + footerBytes,
      fileBytes: bytes.length,
      columnBytes,
      footerBytes,
    };
  } finally {
    s3.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const csvPath = resolve(process.argv[2] ?? '.bench/orders-200mb.csv');
  const dataset = pickDataset(await loadDatasets(), 'orders');
  const figures = await measureConversion(csvPath, dataset, resolve('.bench'));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`CSV → Parquet (local twin) on ${csvPath}: ${figures.rows} rows`);
  console.log(
    `  size     ${(figures.parquetBytes / MB).toFixed(1)} MB Parquet / ${(figures.csvBytes / MB).toFixed(1)} MB CSV = ${pct(figures.ratio)} (target ≤ ${pct(TARGET_PARQUET_RATIO)})`,
  );
  console.log(
    `  speed    ${figures.mbPerSecond.toFixed(0)} MB/s (${figures.seconds.toFixed(2)} s, download to upload)`,
  );
  console.log(
    `  sum(${AGGREGATE_COLUMN}) reads ${(figures.oneColumnBytesRead / MB).toFixed(2)} MB of the ${(figures.fileBytes / MB).toFixed(1)} MB file (${pct(figures.oneColumnBytesRead / figures.fileBytes)})`,
  );
  console.log(
    `  peak RSS of this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (includes the S3 server)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
