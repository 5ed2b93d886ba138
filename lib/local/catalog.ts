/**
 * The Hive-era local Glue catalog's partition record. The local tables are Iceberg tables now
 * (lib/iceberg/local-catalog.ts: pointer files in the lake folder), and nothing writes
 * `partitions.json` any more; the type stays only while lib/local/query.ts (rewritten on the
 * iceberg-cli branch to read the tables) still names it. Delete this file with that merge.
 */

/** A registered partition (Hive era). */
export interface LocalPartition {
  readonly table: string;
  readonly values: string[];
  readonly location: string;
}
