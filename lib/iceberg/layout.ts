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

/**
 * The Glue table of a dataset's table version: version 1 is the dataset's own name, version N ≥ 2
 * is `<dataset>_v<N>` (a declaration's `version`; the loader refuses a dataset whose name is
 * another's versioned table name).
 */
export function tableName(dataset: string, version = 1): string {
  return version === 1 ? dataset : `${dataset}_v${version}`;
}

/** The view of the newest row per key (a dataset that declares a `key`): `<dataset>_latest`. */
export function latestViewName(dataset: string): string {
  return `${dataset}_latest`;
}

/**
 * The table version's key prefix in the curated bucket, without bucket or trailing slash:
 * `<dataset>/iceberg` (version 1) or `<dataset>/v<N>/iceberg`.
 */
export function tableKeyPrefix(dataset: string, version = 1): string {
  return version === 1 ? `${dataset}/iceberg` : `${dataset}/v${version}/iceberg`;
}

/**
 * `s3://<curated>/<dataset>/iceberg` (version 1) or `s3://<curated>/<dataset>/v<N>/iceberg`,
 * without a trailing slash (Iceberg's `location`). No version's prefix is a prefix of another's.
 */
export function tableLocation(curatedBucket: string, dataset: string, version = 1): string {
  return `s3://${curatedBucket}/${tableKeyPrefix(dataset, version)}`;
}

/**
 * Every table version of a dataset up to its current one (1…`version`): what the committer and
 * the engines may write to, since a run validated before a deploy that raised the version still
 * commits to the table it was validated for.
 */
export function tableVersions(
  dataset: string,
  version = 1,
): { readonly version: number; readonly name: string; readonly keyPrefix: string }[] {
  return Array.from({ length: version }, (_, i) => ({
    version: i + 1,
    name: tableName(dataset, i + 1),
    keyPrefix: tableKeyPrefix(dataset, i + 1),
  }));
}

/** The prefix every data file of the table is under (the orphan-file deleter's scope), ending in `/`. */
export function dataPrefix(curatedBucket: string, dataset: string, version = 1): string {
  return `${tableLocation(curatedBucket, dataset, version)}/data/`;
}

/** The folder of one day's data files: an engine's `--target`, ending in `/`. */
export function partitionPrefix(
  curatedBucket: string,
  dataset: string,
  ingestDate: string,
  version = 1,
): string {
  return locationPartitionPrefix(tableLocation(curatedBucket, dataset, version), ingestDate);
}

/**
 * The table version whose day folder `target` is (an engine's `--target`, as
 * {@link partitionPrefix} made it), or undefined when it is no such folder of the dataset.
 */
export function targetTableVersion(
  curatedBucket: string,
  dataset: string,
  ingestDate: string,
  target: string,
): number | undefined {
  if (target === partitionPrefix(curatedBucket, dataset, ingestDate)) return 1;
  const m = /\/v([1-9][0-9]{0,8})\/iceberg\/data\//.exec(target);
  const version = m ? Number(m[1]) : 0;
  return version >= 2 && target === partitionPrefix(curatedBucket, dataset, ingestDate, version)
    ? version
    : undefined;
}

/** The folder of one day's data files of the table at `location` (Iceberg's), ending in `/`. */
export function locationPartitionPrefix(location: string, ingestDate: string): string {
  return `${location}/data/ingest_date=${ingestDate}/`;
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
