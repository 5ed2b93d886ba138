/**
 * The table operations: create, append, replace (compaction), tag, expire, each one commit
 * (compare-and-swap on the catalog pointer, retried on conflict, idempotent per source tag).
 *
 * A commit writes the manifest(s), the manifest list and `<V+1>-<uuid>.metadata.json`, then asks
 * the catalog to swap the pointer from the base it read. On {@link CommitConflictError} it reloads
 * and retries with full-jitter backoff; an append's manifest is written once and reused, since its
 * new entries inherit their sequence numbers from the manifest list. After any other swap error
 * it re-reads the pointer, as Iceberg's GlueTableOperations.checkCommitStatus does: success iff
 * the pointer (or its metadata log) is ours; else the attempt failed and its files are deleted.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import {
  EntryStatus,
  type ManifestEntry,
  type ManifestFile,
  partitionSummary,
  readManifest,
  readManifestList,
  toDays,
  writeManifest,
  writeManifestList,
} from './avro.ts';
import { DECLARED_SCHEMA_PROPERTY, planSchema, type Renames, sameFields } from './evolve.ts';
import {
  currentSnapshot,
  idString,
  parseMetadata,
  type Snapshot,
  snapshotById,
  stringifyMetadata,
  type TableMetadata,
  withMetadataLog,
  withSnapshot,
} from './metadata.ts';
import {
  CommitConflictError,
  CommitStateUnknownError,
  type ObjectStore,
  type TableCatalog,
  type TableDisplay,
  type TablePointer,
} from './ports.ts';
import { type IcebergSchema, lastColumnId, PARTITION_FIELD_ID } from './schema.ts';

/** A table in a catalog. */
export interface TableRef {
  readonly database: string;
  readonly name: string;
  /** `s3://…/<dataset>/iceberg` (no trailing slash). */
  readonly location: string;
}

/** What every operation needs. */
export interface IcebergDeps {
  readonly store: ObjectStore;
  readonly catalog: TableCatalog;
  /** @default Date.now */
  readonly now?: () => number;
  /** Commit attempts on conflict (Iceberg's commit.retry.num-retries is 4, so 5 attempts). @default 8 */
  readonly attempts?: number;
  /** Backoff base in ms (full jitter, doubling). @default 100 */
  readonly backoffMs?: number;
}

/** A data file to append, as an engine wrote it. */
export interface DataFileSpec {
  /** `s3://bucket/key`. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** `YYYY-MM-DD`: the file's partition value. */
  readonly ingestDate: string;
}

/** One landed object version's files: appended together, once. */
export interface AppendSource {
  /** `sourceTag(key, version)` (layout.ts). */
  readonly tag: string;
  readonly files: readonly DataFileSpec[];
}

/** What an append did for each source. */
export interface AppendResult {
  readonly metadataLocation: string;
  readonly bySource: Readonly<
    Record<
      string,
      {
        readonly snapshotId: string;
        readonly sequenceNumber: number;
        readonly status: 'committed' | 'exists';
      }
    >
  >;
  /** Swap attempts made (1 without conflict) and conflicts met. */
  readonly attempts: number;
  readonly conflicts: number;
}

/** Table properties written at creation (history retention etc.). */
export type TableProperties = Readonly<Record<string, string>>;

/** The summary key holding the source tags a snapshot appended (a JSON array). */
export const SOURCES_SUMMARY_KEY = 'csvlake.sources';
/** Above this many manifests an append merges the carried-over ones into one (as MergeAppend). */
export const MAX_MANIFESTS = 100;

/** The catalog has no such table. */
export class TableNotFoundError extends Error {
  override readonly name = 'TableNotFoundError';
}

/** A replace whose removed files are no longer all live: the compaction must be planned again. */
export class ReplaceConflictError extends Error {
  override readonly name = 'ReplaceConflictError';
}

/** The table's pointer and parsed metadata. */
export async function loadTable(
  deps: Pick<IcebergDeps, 'store' | 'catalog'>,
  table: Pick<TableRef, 'database' | 'name'>,
): Promise<{ readonly pointer: TablePointer; readonly metadata: TableMetadata }> {
  const pointer = await deps.catalog.load(table.database, table.name);
  if (!pointer) throw new TableNotFoundError(`no table ${table.database}.${table.name} in the catalog`);
  const bytes = await deps.store.get(pointer.metadataLocation);
  if (!bytes) {
    throw new Error(
      `table ${table.database}.${table.name}: metadata file ${pointer.metadataLocation} is missing`,
    );
  }
  return { pointer, metadata: parseMetadata(new TextDecoder().decode(bytes)) };
}

/** The Glue column type of an Iceberg primitive type (display only). */
function glueType(type: unknown): string {
  const t = String(type);
  if (t === 'long') return 'bigint';
  if (t === 'timestamptz' || t === 'timestamp') return 'timestamp';
  if (t.startsWith('decimal')) return t.replace(/\s+/g, '');
  return t;
}

/** The catalog's display of the table (columns of the current schema). */
export function tableDisplay(m: TableMetadata): TableDisplay {
  const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id']) ?? m.schemas[0]!;
  return {
    location: m.location,
    columns: schema.fields.map((f) => ({
      name: f.name,
      type: glueType(f.type),
      ...(f.doc ? { comment: f.doc } : {}),
    })),
  };
}

const jsonBytes = (text: string) => new TextEncoder().encode(text);

/** `<location>/metadata/<V>-<uuid>.metadata.json`, V zero-padded as Iceberg does. */
function metadataFile(location: string, version: number): string {
  return `${location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
}

function versionOf(metadataLocation: string): number {
  const m = /\/(\d+)-[^/]*\.metadata\.json$/.exec(metadataLocation);
  return m ? Number(m[1]) : 0;
}

/** Creates the table if the catalog has none of that name; a no-op otherwise. */
export async function ensureTable(
  deps: IcebergDeps,
  table: TableRef,
  schema: IcebergSchema,
  properties: TableProperties = {},
): Promise<{ readonly metadataLocation: string; readonly created: boolean }> {
  const existing = await deps.catalog.load(table.database, table.name);
  if (existing) return { metadataLocation: existing.metadataLocation, created: false };
  const metadata = newTableMetadata(table.location, schema, properties, (deps.now ?? Date.now)());
  const location = metadataFile(table.location, 0);
  await deps.store.put(location, jsonBytes(stringifyMetadata(metadata)), 'application/json');
  const outcome = await deps.catalog.create(table.database, table.name, location, tableDisplay(metadata));
  if (outcome === 'created') return { metadataLocation: location, created: true };
  const winner = await deps.catalog.load(table.database, table.name);
  if (!winner) throw new Error(`table ${table.database}.${table.name} exists and has no pointer`);
  // 'exists' may be our own create, met again by a retried request: then the file is the table's.
  if (winner.metadataLocation === location) return { metadataLocation: location, created: true };
  await deps.store.delete([location]);
  return { metadataLocation: winner.metadataLocation, created: false };
}

/** The metadata of a new, empty v2 table partitioned by identity(ingest_date). */
export function newTableMetadata(
  location: string,
  schema: IcebergSchema,
  properties: TableProperties,
  nowMs: number,
): TableMetadata {
  const ingestDate = schema.fields.find((f) => f.name === 'ingest_date');
  if (!ingestDate) throw new Error('the table schema has no ingest_date field (the partition source)');
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0,
    'last-updated-ms': nowMs,
    'last-column-id': lastColumnId(schema),
    schemas: [{ ...schema, fields: schema.fields.map((f) => ({ ...f })) }],
    'current-schema-id': schema['schema-id'],
    'partition-specs': [
      {
        'spec-id': 0,
        fields: [
          {
            name: 'ingest_date',
            transform: 'identity',
            'source-id': ingestDate.id,
            'field-id': PARTITION_FIELD_ID,
          },
        ],
      },
    ],
    'default-spec-id': 0,
    'last-partition-id': PARTITION_FIELD_ID,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    'default-sort-order-id': 0,
    properties: { ...properties },
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

// ---------------------------------------------------------------------------------------------
// Schema evolution

/** What {@link evolveSchema} did. */
export interface EvolveResult {
  readonly metadataLocation: string;
  /** Whether a commit changed the current schema. */
  readonly evolved: boolean;
  /** The current schema id after the call. */
  readonly schemaId: number;
  /** One line per change (empty when unchanged). */
  readonly changes: readonly string[];
  /**
   * The table's schema is the pipeline's own later evolution of the target (a rollback asked for
   * the schema before it): left as it is (evolve.ts `planSchema`).
   */
  readonly ahead: boolean;
}

/**
 * Makes `target` the table's current schema if the rules allow it (evolve.ts, by field id): a new
 * schema (`schema-id` = max + 1, or the id of an identical older schema), `current-schema-id`,
 * `last-column-id`, a new metadata file, one compare-and-swap retried on conflict. The same
 * target again changes nothing, nor does the target of a rollback (`ahead`). A field is renamed
 * only where `renames` names its current name (a declaration's `previousName`). Throws {@link SchemaEvolutionError} naming the table, the field,
 * its id and the rule when the change is refused; the table is then left as it is.
 */
export async function evolveSchema(
  deps: IcebergDeps,
  table: TableRef,
  target: IcebergSchema,
  renames: Renames = new Map(),
): Promise<EvolveResult> {
  const now = deps.now ?? Date.now;
  let changes: string[] = [];
  let ahead = false;
  const out = await commit<{ metadataLocation: string; evolved: boolean; schemaId: number }>(
    deps,
    table,
    async (base) => {
      const m = base.metadata;
      const schemas = m.schemas as unknown as IcebergSchema[];
      const plan = planSchema(`${table.database}.${table.name}`, m, target, renames);
      changes = plan.changes;
      ahead = plan.ahead;
      const schemaId = m['current-schema-id'];
      if (changes.length === 0) {
        return { done: { metadataLocation: base.pointer.metadataLocation, evolved: false, schemaId } };
      }
      // As Iceberg Java: a schema identical to an older one is made current again, not added twice.
      const same = schemas.find((s) => sameFields(s, target));
      const nextId = same?.['schema-id'] ?? Math.max(...m.schemas.map((s) => s['schema-id'])) + 1;
      const added = {
        type: 'struct' as const,
        'schema-id': nextId,
        fields: target.fields.map((f) => ({ ...f })),
      };
      const next = withMetadataLog(
        {
          ...m,
          'last-updated-ms': now(),
          'last-column-id': Math.max(m['last-column-id'], lastColumnId(target)),
          schemas: same ? m.schemas : [...m.schemas, added],
          'current-schema-id': nextId,
          // This schema is the pipeline's own: a later rollback to the declaration before may leave it.
          properties: { ...(m.properties ?? {}), [DECLARED_SCHEMA_PROPERTY]: String(nextId) },
        },
        m,
        base.pointer.metadataLocation,
      );
      return {
        next,
        written: [],
        result: (metadataLocation) => ({ metadataLocation, evolved: true, schemaId: nextId }),
      };
    },
  );
  return { ...out.value, changes: out.value.evolved ? changes : [], ahead };
}

// ---------------------------------------------------------------------------------------------
// The commit loop

type Loaded = Awaited<ReturnType<typeof loadTable>>;

/** One attempt's plan: nothing to do, or a new metadata (and the files written for it). */
type Plan<R> =
  | { readonly done: R }
  | {
      readonly next: TableMetadata;
      /** Files written for this attempt only (deleted when it fails for certain). */
      readonly written: readonly string[];
      readonly result: (metadataLocation: string) => R;
    };

interface Committed<R> {
  readonly value: R;
  readonly attempts: number;
  readonly conflicts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bestEffortDelete(store: ObjectStore, uris: readonly string[]): Promise<void> {
  if (uris.length === 0) return;
  await store.delete(uris).catch(() => undefined);
}

async function commit<R>(
  deps: IcebergDeps,
  table: Pick<TableRef, 'database' | 'name'>,
  attempt: (base: Loaded) => Promise<Plan<R>>,
): Promise<Committed<R>> {
  const maxAttempts = deps.attempts ?? 8;
  const backoff = deps.backoffMs ?? 100;
  let conflicts = 0;
  for (let n = 1; ; n++) {
    const base = await loadTable(deps, table);
    const plan = await attempt(base);
    if ('done' in plan) return { value: plan.done, attempts: n - 1, conflicts };
    const location = metadataFile(plan.next.location, versionOf(base.pointer.metadataLocation) + 1);
    await deps.store.put(location, jsonBytes(stringifyMetadata(plan.next)), 'application/json');
    let failure: unknown;
    try {
      await deps.catalog.swap(table.database, table.name, base.pointer, location, tableDisplay(plan.next));
      return { value: plan.result(location), attempts: n, conflicts };
    } catch (err) {
      failure = err;
    }
    // Whatever the error, the swap may have happened: a lost response, or an SDK that retried a
    // request which had succeeded and then met its own change as a conflict (Glue's VersionId).
    // Re-read the pointer, as GlueTableOperations.checkCommitStatus does, before deleting a file
    // the table may point at.
    let ours: boolean;
    try {
      const now = await loadTable(deps, table);
      ours =
        now.pointer.metadataLocation === location ||
        (now.metadata['metadata-log'] ?? []).some((e) => e['metadata-file'] === location);
    } catch (checkErr) {
      throw new CommitStateUnknownError(
        `commit to ${table.database}.${table.name} may or may not have happened (swap: ${String(failure)}; re-read: ${String(checkErr)}); ${location} is kept`,
      );
    }
    if (ours) return { value: plan.result(location), attempts: n, conflicts };
    if (failure instanceof CommitConflictError) conflicts++;
    await bestEffortDelete(deps.store, [location, ...plan.written]);
    if (n >= maxAttempts) throw failure;
    await sleep(Math.random() * backoff * 2 ** Math.min(n - 1, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshot pieces

/** A new positive 63-bit snapshot id not used in the table. */
function newSnapshotId(m: TableMetadata): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
    if (id !== 0n && !snapshotById(m, id)) return id;
  }
}

/** The source tags a snapshot appended. */
export function snapshotSources(s: Snapshot): string[] {
  const raw = s.summary[SOURCES_SUMMARY_KEY];
  if (!raw) return [];
  try {
    const tags = JSON.parse(raw) as unknown;
    return Array.isArray(tags) ? tags.map(String) : [];
  } catch {
    return [];
  }
}

/** The manifests of a snapshot (none for no snapshot). */
export async function snapshotManifests(
  store: ObjectStore,
  s: Snapshot | undefined,
): Promise<ManifestFile[]> {
  if (!s) return [];
  const bytes = await store.get(s['manifest-list']);
  if (!bytes) throw new Error(`manifest list ${s['manifest-list']} is missing`);
  return readManifestList(bytes);
}

/** A manifest's entries with inherited snapshot id and sequence numbers filled in. */
export async function manifestEntries(store: ObjectStore, m: ManifestFile): Promise<ManifestEntry[]> {
  const bytes = await store.get(m.path);
  if (!bytes) throw new Error(`manifest ${m.path} is missing`);
  return readManifest(bytes).map((e) =>
    e.status === EntryStatus.ADDED
      ? {
          ...e,
          snapshotId: e.snapshotId ?? m.addedSnapshotId,
          sequenceNumber: e.sequenceNumber ?? m.sequenceNumber,
          fileSequenceNumber: e.fileSequenceNumber ?? m.sequenceNumber,
        }
      : e,
  );
}

/**
 * Every data file some snapshot of the table reads (its manifests' entries that are not DELETED):
 * what no clean-up may delete, whatever the snapshots' summaries say.
 */
export async function referencedDataFiles(store: ObjectStore, m: TableMetadata): Promise<Set<string>> {
  const seen = new Set<string>();
  const files = new Set<string>();
  for (const s of m.snapshots ?? []) {
    for (const mf of await snapshotManifests(store, s)) {
      if (seen.has(mf.path)) continue;
      seen.add(mf.path);
      for (const e of await manifestEntries(store, mf)) {
        if (e.status !== EntryStatus.DELETED) files.add(e.file.path);
      }
    }
  }
  return files;
}

function manifestHeader(m: TableMetadata) {
  const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])!;
  const spec = m['partition-specs'].find((s) => s['spec-id'] === m['default-spec-id'])!;
  return {
    schema,
    schemaId: schema['schema-id'],
    partitionSpec: spec.fields,
    partitionSpecId: spec['spec-id'],
  };
}

/** Writes a manifest and returns its manifest-list entry (sequence numbers set by the caller). */
async function putManifest(
  store: ObjectStore,
  m: TableMetadata,
  entries: readonly ManifestEntry[],
  addedSnapshotId: bigint,
): Promise<Omit<ManifestFile, 'sequenceNumber' | 'minSequenceNumber'>> {
  const path = `${m.location}/metadata/${randomUUID()}-m0.avro`;
  const bytes = writeManifest(manifestHeader(m), entries);
  await store.put(path, bytes, 'application/octet-stream');
  const count = (s: number) => entries.filter((e) => e.status === s);
  const rows = (es: ManifestEntry[]) => es.reduce((a, e) => a + e.file.rows, 0n);
  return {
    path,
    length: BigInt(bytes.byteLength),
    specId: m['default-spec-id'],
    content: 0,
    addedSnapshotId,
    addedFiles: count(EntryStatus.ADDED).length,
    existingFiles: count(EntryStatus.EXISTING).length,
    deletedFiles: count(EntryStatus.DELETED).length,
    addedRows: rows(count(EntryStatus.ADDED)),
    existingRows: rows(count(EntryStatus.EXISTING)),
    deletedRows: rows(count(EntryStatus.DELETED)),
    partitions: partitionSummary(entries.map((e) => e.file.ingestDateDays)),
  };
}

/** Entries carried into another manifest: explicit snapshot id and sequence numbers. */
function carried(e: ManifestEntry, status: 0 | 2, deletedBy?: bigint): ManifestEntry {
  return {
    ...e,
    status,
    snapshotId: status === EntryStatus.DELETED ? deletedBy! : e.snapshotId,
    sequenceNumber: e.sequenceNumber,
    fileSequenceNumber: e.fileSequenceNumber,
  };
}

function minSeq(entries: readonly ManifestEntry[], fallback: bigint): bigint {
  let min = fallback;
  for (const e of entries) if (e.sequenceNumber !== null && e.sequenceNumber < min) min = e.sequenceNumber;
  return min;
}

/** The parent's manifests, merged into one when there would be more than {@link MAX_MANIFESTS}. */
async function carriedManifests(
  store: ObjectStore,
  base: TableMetadata,
  parent: ManifestFile[],
  extra: number,
  snapshotId: bigint,
  sequenceNumber: bigint,
  written: string[],
): Promise<ManifestFile[]> {
  if (parent.length + extra <= MAX_MANIFESTS) return parent;
  const live: ManifestEntry[] = [];
  for (const m of parent) {
    for (const e of await manifestEntries(store, m)) {
      if (e.status !== EntryStatus.DELETED) live.push(carried(e, EntryStatus.EXISTING));
    }
  }
  const merged = await putManifest(store, base, live, snapshotId);
  written.push(merged.path);
  return [{ ...merged, sequenceNumber, minSequenceNumber: minSeq(live, sequenceNumber) }];
}

function parseCount(s: Snapshot | undefined, key: string): bigint {
  const v = s?.summary[key];
  return v && /^\d+$/.test(v) ? BigInt(v) : 0n;
}

interface Change {
  addedFiles: number;
  addedRows: bigint;
  addedBytes: bigint;
  deletedFiles: number;
  deletedRows: bigint;
  deletedBytes: bigint;
  partitions: number;
}

function summary(
  operation: 'append' | 'replace',
  parent: Snapshot | undefined,
  c: Change,
): Snapshot['summary'] {
  const total = (key: string, plus: bigint) => String(parseCount(parent, key) + plus);
  return {
    operation,
    ...(c.addedFiles ? { 'added-data-files': String(c.addedFiles) } : {}),
    ...(c.deletedFiles ? { 'deleted-data-files': String(c.deletedFiles) } : {}),
    ...(c.addedFiles
      ? { 'added-records': String(c.addedRows), 'added-files-size': String(c.addedBytes) }
      : {}),
    ...(c.deletedFiles
      ? { 'deleted-records': String(c.deletedRows), 'removed-files-size': String(c.deletedBytes) }
      : {}),
    'changed-partition-count': String(c.partitions),
    'total-records': total('total-records', c.addedRows - c.deletedRows),
    'total-files-size': total('total-files-size', c.addedBytes - c.deletedBytes),
    'total-data-files': total('total-data-files', BigInt(c.addedFiles - c.deletedFiles)),
    'total-delete-files': '0',
    'total-position-deletes': '0',
    'total-equality-deletes': '0',
  };
}

/** Writes the manifest list and returns the snapshot over it. */
async function putSnapshot(
  store: ObjectStore,
  base: TableMetadata,
  snapshotId: bigint,
  sequenceNumber: bigint,
  manifests: readonly ManifestFile[],
  summaryFields: Snapshot['summary'],
  nowMs: number,
  written: string[],
): Promise<Snapshot> {
  const parent = currentSnapshot(base);
  const listPath = `${base.location}/metadata/snap-${snapshotId}-${written.length + 1}-${randomUUID()}.avro`;
  await store.put(
    listPath,
    writeManifestList(
      { snapshotId, ...(parent ? { parentSnapshotId: parent['snapshot-id'] } : {}), sequenceNumber },
      manifests,
    ),
    'application/octet-stream',
  );
  written.push(listPath);
  return {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': Number(sequenceNumber),
    // Never before the parent: readers order snapshots by time (time travel).
    'timestamp-ms': Math.max(nowMs, parent?.['timestamp-ms'] ?? 0),
    'manifest-list': listPath,
    summary: summaryFields,
    'schema-id': base['current-schema-id'],
  };
}

// ---------------------------------------------------------------------------------------------
// Append

function checkSources(sources: readonly AppendSource[]): void {
  const seen = new Set<string>();
  const paths = new Set<string>();
  for (const s of sources) {
    if (seen.has(s.tag)) throw new Error(`source "${s.tag}" is given twice`);
    seen.add(s.tag);
    for (const f of s.files) {
      if (paths.has(f.path)) throw new Error(`data file "${f.path}" is given twice`);
      paths.add(f.path);
      if (!Number.isSafeInteger(f.rows) || f.rows < 0)
        throw new Error(`data file "${f.path}": bad row count ${f.rows}`);
      if (!Number.isSafeInteger(f.bytes) || f.bytes <= 0)
        throw new Error(`data file "${f.path}": bad size ${f.bytes}`);
      toDays(f.ingestDate);
    }
  }
}

/** The manifest entry of a data file a snapshot adds: its sequence numbers are inherited (null). */
function addedEntry(f: DataFileSpec, snapshotId: bigint): ManifestEntry {
  return {
    status: EntryStatus.ADDED,
    snapshotId,
    sequenceNumber: null,
    fileSequenceNumber: null,
    file: {
      content: 0,
      path: f.path,
      format: 'PARQUET',
      ingestDateDays: toDays(f.ingestDate),
      rows: BigInt(f.rows),
      bytes: BigInt(f.bytes),
    },
  };
}

/** Appends the sources' files in one snapshot (sources already in the table are `exists`). */
export async function appendFiles(
  deps: IcebergDeps,
  table: TableRef,
  sources: readonly AppendSource[],
): Promise<AppendResult> {
  checkSources(sources);
  const now = deps.now ?? Date.now;
  let snapshotId: bigint | undefined;
  // The manifest of the pending sources, written once and reused by every retry that has the same
  // pending sources (its new entries inherit their sequence numbers).
  let manifest: { key: string; file: Omit<ManifestFile, 'sequenceNumber' | 'minSequenceNumber'> } | undefined;
  const obsolete: string[] = [];
  try {
    const out = await commit<Omit<AppendResult, 'attempts' | 'conflicts'>>(deps, table, async (base) => {
      const m = base.metadata;
      const known = new Map<string, Snapshot>();
      for (const s of m.snapshots ?? []) for (const tag of snapshotSources(s)) known.set(tag, s);
      const existing = Object.fromEntries(
        sources
          .filter((s) => known.has(s.tag))
          .map((s) => {
            const snap = known.get(s.tag)!;
            return [
              s.tag,
              {
                snapshotId: idString(snap['snapshot-id']),
                sequenceNumber: snap['sequence-number'],
                status: 'exists' as const,
              },
            ];
          }),
      );
      const pending = sources.filter((s) => !known.has(s.tag));
      if (pending.length === 0) {
        return { done: { metadataLocation: base.pointer.metadataLocation, bySource: existing } };
      }
      if (snapshotId === undefined || snapshotById(m, snapshotId)) snapshotId = newSnapshotId(m);
      const id = snapshotId;
      const key = `${id}\n${pending.map((s) => s.tag).join('\n')}`;
      if (manifest?.key !== key) {
        if (manifest) obsolete.push(manifest.file.path);
        const entries = pending.flatMap((s) => s.files.map((f) => addedEntry(f, id)));
        manifest = { key, file: await putManifest(deps.store, m, entries, id) };
      }
      const seq = BigInt(m['last-sequence-number'] + 1);
      const parent = currentSnapshot(m);
      const written: string[] = [];
      const files = pending.flatMap((s) => s.files);
      const manifests: ManifestFile[] = [];
      if (files.length > 0) {
        manifests.push({ ...manifest.file, sequenceNumber: seq, minSequenceNumber: seq });
      }
      manifests.push(
        ...(await carriedManifests(
          deps.store,
          m,
          await snapshotManifests(deps.store, parent),
          manifests.length,
          id,
          seq,
          written,
        )),
      );
      const snapshot = await putSnapshot(
        deps.store,
        m,
        id,
        seq,
        manifests,
        {
          ...summary('append', parent, {
            addedFiles: files.length,
            addedRows: files.reduce((a, f) => a + BigInt(f.rows), 0n),
            addedBytes: files.reduce((a, f) => a + BigInt(f.bytes), 0n),
            deletedFiles: 0,
            deletedRows: 0n,
            deletedBytes: 0n,
            partitions: new Set(files.map((f) => f.ingestDate)).size,
          }),
          [SOURCES_SUMMARY_KEY]: JSON.stringify(pending.map((s) => s.tag)),
        },
        now(),
        written,
      );
      const committed = Object.fromEntries(
        pending.map((s) => [
          s.tag,
          { snapshotId: idString(id), sequenceNumber: Number(seq), status: 'committed' as const },
        ]),
      );
      return {
        next: withSnapshot(m, base.pointer.metadataLocation, snapshot, now()),
        written,
        result: (metadataLocation) => ({ metadataLocation, bySource: { ...existing, ...committed } }),
      };
    });
    if (!Object.values(out.value.bySource).some((s) => s.status === 'committed') && manifest) {
      obsolete.push(manifest.file.path);
    }
    return { ...out.value, attempts: out.attempts, conflicts: out.conflicts };
  } catch (err) {
    if (manifest && !(err instanceof CommitStateUnknownError)) obsolete.push(manifest.file.path);
    throw err;
  } finally {
    await bestEffortDelete(deps.store, obsolete);
  }
}

// ---------------------------------------------------------------------------------------------
// Replace (compaction)

/** Replaces live files by new ones holding the same rows (compaction): one `replace` snapshot. */
export async function replaceFiles(
  deps: IcebergDeps,
  table: TableRef,
  change: { readonly remove: readonly string[]; readonly add: readonly DataFileSpec[] },
): Promise<{ readonly snapshotId: string; readonly metadataLocation: string }> {
  if (change.remove.length === 0) throw new Error('a replace must remove at least one file');
  if (new Set(change.remove).size !== change.remove.length) throw new Error('a removed file is given twice');
  checkSources([{ tag: 'replace', files: change.add }]);
  const now = deps.now ?? Date.now;
  let snapshotId: bigint | undefined;
  const out = await commit(deps, table, async (base) => {
    const m = base.metadata;
    const parent = currentSnapshot(m);
    if (!parent)
      throw new ReplaceConflictError(`table ${table.database}.${table.name} has no data to replace`);
    if (snapshotId === undefined || snapshotById(m, snapshotId)) snapshotId = newSnapshotId(m);
    const id = snapshotId;
    const seq = BigInt(m['last-sequence-number'] + 1);
    const removing = new Set(change.remove);
    const written: string[] = [];
    const manifests: ManifestFile[] = [];
    const found = new Map<string, ManifestEntry>();
    const kept: ManifestFile[] = [];
    for (const mf of await snapshotManifests(deps.store, parent)) {
      const entries = await manifestEntries(deps.store, mf);
      const hits = entries.filter((e) => e.status !== EntryStatus.DELETED && removing.has(e.file.path));
      if (hits.length === 0) {
        kept.push(mf);
        continue;
      }
      for (const e of hits) found.set(e.file.path, e);
      const rewritten = entries
        .filter((e) => e.status !== EntryStatus.DELETED)
        .map((e) =>
          removing.has(e.file.path) ? carried(e, EntryStatus.DELETED, id) : carried(e, EntryStatus.EXISTING),
        );
      const file = await putManifest(deps.store, m, rewritten, id);
      written.push(file.path);
      manifests.push({ ...file, sequenceNumber: seq, minSequenceNumber: minSeq(rewritten, seq) });
    }
    const missing = change.remove.filter((p) => !found.has(p));
    if (missing.length > 0) {
      await bestEffortDelete(deps.store, written);
      throw new ReplaceConflictError(
        `cannot replace ${missing.length} file(s) no longer live in ${table.database}.${table.name}, first "${missing[0]}"`,
      );
    }
    const removed = [...found.values()];
    const removedRows = removed.reduce((a, e) => a + e.file.rows, 0n);
    const addedRows = change.add.reduce((a, f) => a + BigInt(f.rows), 0n);
    if (removedRows !== addedRows) {
      await bestEffortDelete(deps.store, written);
      throw new Error(`a replace must keep the rows: it removes ${removedRows} and adds ${addedRows}`);
    }
    if (change.add.length > 0) {
      const added = await putManifest(
        deps.store,
        m,
        change.add.map((f) => addedEntry(f, id)),
        id,
      );
      written.push(added.path);
      manifests.unshift({ ...added, sequenceNumber: seq, minSequenceNumber: seq });
    }
    manifests.push(...kept);
    const days = new Set([
      ...removed.map((e) => e.file.ingestDateDays),
      ...change.add.map((f) => toDays(f.ingestDate)),
    ]);
    const snapshot = await putSnapshot(
      deps.store,
      m,
      id,
      seq,
      manifests,
      summary('replace', parent, {
        addedFiles: change.add.length,
        addedRows,
        addedBytes: change.add.reduce((a, f) => a + BigInt(f.bytes), 0n),
        deletedFiles: removed.length,
        deletedRows: removedRows,
        deletedBytes: removed.reduce((a, e) => a + e.file.bytes, 0n),
        partitions: days.size,
      }),
      now(),
      written,
    );
    return {
      next: withSnapshot(m, base.pointer.metadataLocation, snapshot, now()),
      written,
      result: (metadataLocation: string) => ({ snapshotId: idString(id), metadataLocation }),
    };
  });
  return out.value;
}

// ---------------------------------------------------------------------------------------------
// Tags and expiry

/** Tags a snapshot (the current one by default); tags are kept by expiry. */
export async function tagSnapshot(
  deps: IcebergDeps,
  table: TableRef,
  name: string,
  snapshotId?: string,
): Promise<{ readonly snapshotId: string }> {
  if (!name || name === 'main') throw new Error(`invalid tag name "${name}"`);
  const now = deps.now ?? Date.now;
  const out = await commit<{ readonly snapshotId: string }>(deps, table, async (base) => {
    const m = base.metadata;
    const target = snapshotId === undefined ? currentSnapshot(m) : snapshotById(m, BigInt(snapshotId));
    if (!target) {
      throw new Error(
        snapshotId === undefined
          ? `table ${table.database}.${table.name} has no snapshot to tag`
          : `no snapshot ${snapshotId} in ${table.database}.${table.name}`,
      );
    }
    const id = target['snapshot-id'];
    const existing = m.refs?.[name];
    if (existing) {
      if (existing.type === 'tag' && existing['snapshot-id'] === id)
        return { done: { snapshotId: idString(id) } };
      throw new Error(
        `ref "${name}" exists already on snapshot ${idString(existing['snapshot-id'])} in ${table.database}.${table.name}`,
      );
    }
    const next = withMetadataLog(
      {
        ...m,
        'last-updated-ms': now(),
        refs: { ...(m.refs ?? {}), [name]: { 'snapshot-id': id, type: 'tag' } },
      },
      m,
      base.pointer.metadataLocation,
    );
    return { next, written: [], result: () => ({ snapshotId: idString(id) }) };
  });
  return out.value;
}

/** Iceberg's defaults of `history.expire.max-snapshot-age-ms` (5 days) and `…min-snapshots-to-keep`. */
const DEFAULT_MAX_SNAPSHOT_AGE_MS = 5 * 86_400_000;
const DEFAULT_MIN_SNAPSHOTS_TO_KEEP = 1;

/** The expiry policy a table's properties set (`history.expire.*`), as of `nowMs`. */
export function expiryPolicy(m: TableMetadata, nowMs: number): { olderThanMs: number; retainLast: number } {
  const num = (key: string, fallback: number) => {
    const v = Number(m.properties?.[key]);
    return Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return {
    olderThanMs: nowMs - num('history.expire.max-snapshot-age-ms', DEFAULT_MAX_SNAPSHOT_AGE_MS),
    retainLast: num('history.expire.min-snapshots-to-keep', DEFAULT_MIN_SNAPSHOTS_TO_KEEP),
  };
}

/**
 * Expires snapshots older than `olderThanMs` (a time, epoch ms) beyond the last `retainLast` of
 * `main`, keeping every snapshot a ref points at; then deletes the manifest lists, manifests and
 * data files no kept snapshot reaches.
 */
export async function expireSnapshots(
  deps: IcebergDeps,
  table: TableRef,
  policy: { readonly olderThanMs: number; readonly retainLast: number },
): Promise<{ readonly expired: string[] }> {
  const now = deps.now ?? Date.now;
  let removedSnapshots: Snapshot[] = [];
  let keptSnapshots: Snapshot[] = [];
  const out = await commit<string[]>(deps, table, async (base) => {
    const m = base.metadata;
    const all = m.snapshots ?? [];
    const keep = new Set<bigint>();
    for (const ref of Object.values(m.refs ?? {})) keep.add(ref['snapshot-id']);
    let s = currentSnapshot(m);
    for (let i = 0; s && i < Math.max(1, policy.retainLast); i++) {
      keep.add(s['snapshot-id']);
      s = s['parent-snapshot-id'] === undefined ? undefined : snapshotById(m, s['parent-snapshot-id']);
    }
    for (const snap of all) if (snap['timestamp-ms'] >= policy.olderThanMs) keep.add(snap['snapshot-id']);
    const removed = all.filter((x) => !keep.has(x['snapshot-id']));
    if (removed.length === 0) return { done: [] };
    removedSnapshots = removed;
    keptSnapshots = all.filter((x) => keep.has(x['snapshot-id']));
    const next = withMetadataLog(
      {
        ...m,
        'last-updated-ms': now(),
        snapshots: keptSnapshots,
        'snapshot-log': trimSnapshotLog(m['snapshot-log'] ?? [], keep),
      },
      m,
      base.pointer.metadataLocation,
    );
    return { next, written: [], result: () => removed.map((x) => idString(x['snapshot-id'])) };
  });
  if (out.value.length > 0) await deleteUnreachable(deps.store, removedSnapshots, keptSnapshots);
  return { expired: out.value };
}

/**
 * The snapshot log after expiry, as Iceberg Java keeps it: only the entries after the last
 * expired one, so that "as of" a time never answers with a kept snapshot that was not current then.
 */
function trimSnapshotLog(log: NonNullable<TableMetadata['snapshot-log']>, keep: ReadonlySet<bigint>) {
  let kept: typeof log = [];
  for (const e of log) kept = keep.has(e['snapshot-id']) ? [...kept, e] : [];
  return kept;
}

/** Deletes what only expired snapshots reached: their manifest lists, manifests and the data files no kept snapshot reads. */
async function deleteUnreachable(store: ObjectStore, removed: Snapshot[], kept: Snapshot[]): Promise<void> {
  const keptManifests = new Set<string>();
  const keptFiles = new Set<string>();
  for (const s of kept) {
    for (const mf of await snapshotManifests(store, s)) {
      if (keptManifests.has(mf.path)) continue;
      keptManifests.add(mf.path);
      for (const e of await manifestEntries(store, mf)) {
        if (e.status !== EntryStatus.DELETED) keptFiles.add(e.file.path);
      }
    }
  }
  const doomed = new Set<string>();
  for (const s of removed) {
    doomed.add(s['manifest-list']);
    let manifests: ManifestFile[];
    try {
      manifests = await snapshotManifests(store, s);
    } catch {
      continue;
    }
    for (const mf of manifests) {
      if (keptManifests.has(mf.path) || doomed.has(mf.path)) continue;
      doomed.add(mf.path);
      for (const e of await manifestEntries(store, mf))
        if (!keptFiles.has(e.file.path)) doomed.add(e.file.path);
    }
  }
  await store.delete([...doomed]);
}
