/**
 * Reading a table: its history, a snapshot by id, time or tag, the live data files of a snapshot,
 * its schema, and a DuckDB relation over local copies of the files that maps columns by field id.
 */
import { EntryStatus, fromDays } from './avro.ts';
import { currentSnapshot, idString, type Snapshot, snapshotById, type TableMetadata } from './metadata.ts';
import type { ObjectStore } from './ports.ts';
import type { IcebergField, IcebergSchema } from './schema.ts';
import { manifestEntries, snapshotManifests, snapshotSources } from './table.ts';

/** One snapshot as people and the CLI see it. */
export interface SnapshotInfo {
  snapshotId: string;
  parentSnapshotId?: string;
  sequenceNumber: number;
  timestampMs: number;
  timestamp: string /*ISO*/;
  operation: string;
  addedRows: number;
  totalRows: number;
  addedFiles: number;
  totalFiles: number;
  sources: string[];
  tags: string[];
  schemaId: number;
}

const count = (s: Snapshot, key: string) => Number(s.summary[key] ?? '0');

/** The table's snapshots, oldest first. */
export function history(metadata: TableMetadata): SnapshotInfo[] {
  const tags = new Map<bigint, string[]>();
  for (const [name, ref] of Object.entries(metadata.refs ?? {})) {
    if (ref.type !== 'tag') continue;
    tags.set(ref['snapshot-id'], [...(tags.get(ref['snapshot-id']) ?? []), name]);
  }
  return [...(metadata.snapshots ?? [])]
    .sort((a, b) => a['sequence-number'] - b['sequence-number'] || a['timestamp-ms'] - b['timestamp-ms'])
    .map((s) => ({
      snapshotId: idString(s['snapshot-id']),
      ...(s['parent-snapshot-id'] !== undefined
        ? { parentSnapshotId: idString(s['parent-snapshot-id']) }
        : {}),
      sequenceNumber: s['sequence-number'],
      timestampMs: s['timestamp-ms'],
      timestamp: new Date(s['timestamp-ms']).toISOString(),
      operation: s.summary.operation,
      addedRows: count(s, 'added-records'),
      totalRows: count(s, 'total-records'),
      addedFiles: count(s, 'added-data-files'),
      totalFiles: count(s, 'total-data-files'),
      sources: snapshotSources(s),
      tags: (tags.get(s['snapshot-id']) ?? []).sort(),
      schemaId: s['schema-id'] ?? metadata['current-schema-id'],
    }));
}

/** Which snapshot to read: by id, the one current at a time (epoch ms), or a tag. */
export type SnapshotSelector = { snapshotId: string } | { asOfMs: number } | { tag: string };

/** The selected snapshot cannot be found. */
export class SnapshotNotFoundError extends Error {
  override readonly name = 'SnapshotNotFoundError';
}

/**
 * The snapshot a selector names (the current one without a selector; undefined for an empty
 * table). "As of" a time is the snapshot of `main` current then, found in the snapshot log.
 */
export function selectSnapshot(metadata: TableMetadata, selector?: SnapshotSelector): Snapshot | undefined {
  if (!selector) return currentSnapshot(metadata);
  if ('snapshotId' in selector) {
    if (!/^-?\d+$/.test(selector.snapshotId)) {
      throw new SnapshotNotFoundError(`"${selector.snapshotId}" is not a snapshot id (a decimal number)`);
    }
    const s = snapshotById(metadata, BigInt(selector.snapshotId));
    if (!s) {
      const ids = (metadata.snapshots ?? []).map((x) => idString(x['snapshot-id']));
      throw new SnapshotNotFoundError(
        `no snapshot ${selector.snapshotId} in the table (${ids.length ? `known: ${ids.slice(-5).join(', ')}${ids.length > 5 ? ', …' : ''}` : 'it has none'})`,
      );
    }
    return s;
  }
  if ('tag' in selector) {
    const ref = metadata.refs?.[selector.tag];
    if (!ref) {
      const tags = Object.entries(metadata.refs ?? {})
        .filter(([, r]) => r.type === 'tag')
        .map(([n]) => n);
      throw new SnapshotNotFoundError(
        `no tag "${selector.tag}" in the table (${tags.length ? `tags: ${tags.sort().join(', ')}` : 'it has no tags'})`,
      );
    }
    const s = snapshotById(metadata, ref['snapshot-id']);
    if (!s)
      throw new SnapshotNotFoundError(
        `tag "${selector.tag}" points at snapshot ${idString(ref['snapshot-id'])}, which has expired`,
      );
    return s;
  }
  let found: bigint | undefined;
  for (const e of metadata['snapshot-log'] ?? [])
    if (e['timestamp-ms'] <= selector.asOfMs) found = e['snapshot-id'];
  const first = metadata['snapshot-log']?.[0];
  if (found === undefined) {
    throw new SnapshotNotFoundError(
      `no snapshot as of ${new Date(selector.asOfMs).toISOString()} (${first ? `the oldest kept is of ${new Date(first['timestamp-ms']).toISOString()}` : 'the table has none'})`,
    );
  }
  const s = snapshotById(metadata, found);
  if (!s) {
    throw new SnapshotNotFoundError(
      `the snapshot current as of ${new Date(selector.asOfMs).toISOString()} (${idString(found)}) has expired`,
    );
  }
  return s;
}

/** A data file of a snapshot. */
export interface LiveFile {
  path: string;
  rows: number;
  bytes: number;
  ingestDate: string;
}

/** The data files a snapshot holds (none for no snapshot), in manifest order. */
export async function liveFiles(
  store: ObjectStore,
  _metadata: TableMetadata,
  snapshot: Snapshot | undefined,
): Promise<LiveFile[]> {
  const files: LiveFile[] = [];
  for (const mf of await snapshotManifests(store, snapshot)) {
    if (mf.content !== 0)
      throw new Error(`manifest ${mf.path} holds delete files, which this reader does not apply`);
    for (const e of await manifestEntries(store, mf)) {
      if (e.status === EntryStatus.DELETED) continue;
      if (e.file.content !== 0)
        throw new Error(`${e.file.path} is a delete file, which this reader does not apply`);
      files.push({
        path: e.file.path,
        rows: Number(e.file.rows),
        bytes: Number(e.file.bytes),
        ingestDate: e.file.ingestDateDays === null ? '' : fromDays(e.file.ingestDateDays),
      });
    }
  }
  return files;
}

/**
 * The schema a snapshot was written with (the current schema without a snapshot, or for a snapshot
 * that records none). This is the schema a time-travel query reads under on Athena engine v3:
 * Trino's Iceberg connector reads `FOR VERSION AS OF` / `FOR TIMESTAMP AS OF` with the snapshot's
 * schema since release 392 ("Use the correct table schema when reading a past version of a
 * table", trinodb/trino#12786, fixing #12743; Iceberg's SnapshotUtil.schemaFor), and a query
 * without AS OF with the table's current schema (README, "Which schema time travel sees").
 */
export function schemaOf(metadata: TableMetadata, snapshot?: Snapshot): IcebergSchema {
  const id = snapshot?.['schema-id'] ?? metadata['current-schema-id'];
  const schema = metadata.schemas.find((s) => s['schema-id'] === id);
  if (!schema) throw new Error(`schema ${id} is not in the table metadata`);
  return schema as unknown as IcebergSchema;
}

/** The DuckDB type of an Iceberg primitive type. */
export function duckdbType(type: string): string {
  const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  const map: Record<string, string> = {
    boolean: 'BOOLEAN',
    int: 'INTEGER',
    long: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    date: 'DATE',
    time: 'TIME',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    string: 'VARCHAR',
    uuid: 'UUID',
    binary: 'BLOB',
  };
  const t = map[type];
  if (!t) throw new Error(`Iceberg type "${type}" has no DuckDB mapping here`);
  return t;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const sqlIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;

/**
 * A DuckDB relation over local copies of data files, columns mapped by field id
 * (`read_parquet([...], schema = MAP {...})`): every schema column, in schema order, of the
 * schema's type whatever type a file holds (an int read as long, a narrower decimal as the wider
 * one, INT32 or FIXED_LEN_BYTE_ARRAY alike: the promotions evolve.ts allows, proven in
 * test/unit/iceberg/evolve.test.ts), a typed NULL where a file lacks a field (a column added
 * later). No files: an empty relation of the same columns.
 */
export function readParquetSql(localPaths: readonly string[], schema: IcebergSchema): string {
  const fields: readonly IcebergField[] = schema.fields;
  const columns = fields.map((f) => sqlIdent(f.name)).join(', ');
  if (localPaths.length === 0) {
    return `(SELECT ${fields.map((f) => `CAST(NULL AS ${duckdbType(f.type)}) AS ${sqlIdent(f.name)}`).join(', ')} WHERE false)`;
  }
  const map = fields
    .map(
      (f) =>
        `${f.id}: {name: ${sqlString(f.name)}, type: ${sqlString(duckdbType(f.type))}, default_value: NULL}`,
    )
    .join(', ');
  return `(SELECT ${columns} FROM read_parquet([${localPaths.map(sqlString).join(', ')}], schema = MAP {${map}}))`;
}
