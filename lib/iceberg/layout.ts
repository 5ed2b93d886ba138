/**
 * Where a dataset's Iceberg table lives in the curated bucket. The table is at a fresh prefix
 * (`<dataset>/iceberg/`, never the Hive-era `<dataset>/ingest_date=…/` folders), so the orphan-file
 * deleter, which removes everything unreferenced under `data/`, can never see a Hive-era file.
 *
 * ```
 * s3://<curated>/<dataset>/iceberg/                    the table location
 *   metadata/<V>-<uuid>.metadata.json, *.avro          written only by the committer
 *   data/ingest_date=<D>/<stem>-<run>-<uniq>-part-NNNNN.parquet   written by the engines, never overwritten
 * s3://<curated>/_commits/<dataset>/<run-id>.json       an engine's commit request (the files it wrote)
 * ```
 */

/** The Glue table of a dataset (format version 1 of a declaration: the dataset's own name). */
export function tableName(dataset: string): string {
  return dataset;
}

/** `s3://<curated>/<dataset>/iceberg`, without a trailing slash (Iceberg's `location`). */
export function tableLocation(curatedBucket: string, dataset: string): string {
  return `s3://${curatedBucket}/${dataset}/iceberg`;
}

/** The prefix every data file of the table is under (the orphan-file deleter's scope), ending in `/`. */
export function dataPrefix(curatedBucket: string, dataset: string): string {
  return `${tableLocation(curatedBucket, dataset)}/data/`;
}

/** The folder of one day's data files: an engine's `--target`, ending in `/`. */
export function partitionPrefix(curatedBucket: string, dataset: string, ingestDate: string): string {
  return `${dataPrefix(curatedBucket, dataset)}ingest_date=${ingestDate}/`;
}

/** Key prefix (in the curated bucket) of the engines' commit requests. */
export const COMMIT_REQUESTS_PREFIX = '_commits/';

/** The commit request of one run: `s3://<curated>/_commits/<dataset>/<run-id>.json`. */
export function commitRequestUri(curatedBucket: string, dataset: string, runId: string): string {
  return `s3://${curatedBucket}/${COMMIT_REQUESTS_PREFIX}${dataset}/${runId}.json`;
}

/**
 * The idempotency tag of a landed object version, kept in the snapshot summary
 * (`csvlake.sources`): a second commit of the same version finds it and changes nothing.
 */
export function sourceTag(key: string, version: string): string {
  return `${key}#${version}`;
}
