/**
 * The Iceberg v2 table metadata (spec `format/spec.md`, "Table Metadata Fields"): a zod model of
 * the required fields, with every other field passed through untouched, read and written with
 * lossless JSON so 64-bit snapshot ids (Spark's and Java's exceed 2^53) stay exact. Snapshot ids
 * are bigints inside the model and decimal strings in every API of the core.
 */
import { isInteger, parse, stringify } from 'lossless-json';
import { z } from 'zod';

/** A 64-bit id: read as a bigint whatever its size. */
const id64 = z.union([z.bigint(), z.number().int()]).transform((v) => BigInt(v));

const nestedType: z.ZodType<unknown> = z.union([z.string(), z.looseObject({ type: z.string() })]);

const schemaField = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  required: z.boolean(),
  type: nestedType,
  doc: z.string().optional(),
});

const schemaModel = z.looseObject({
  type: z.literal('struct'),
  'schema-id': z.number().int(),
  fields: z.array(schemaField),
});

const partitionField = z.looseObject({
  'source-id': z.number().int(),
  'field-id': z.number().int(),
  name: z.string(),
  transform: z.string(),
});

const partitionSpec = z.looseObject({
  'spec-id': z.number().int(),
  fields: z.array(partitionField),
});

const sortField = z.looseObject({
  transform: z.string(),
  'source-id': z.number().int(),
  direction: z.enum(['asc', 'desc']),
  'null-order': z.enum(['nulls-first', 'nulls-last']),
});

const sortOrder = z.looseObject({
  'order-id': z.number().int(),
  fields: z.array(sortField),
});

const snapshotModel = z.looseObject({
  'snapshot-id': id64,
  'parent-snapshot-id': id64.optional(),
  'sequence-number': z.number().int().nonnegative(),
  'timestamp-ms': z.number().int(),
  'manifest-list': z.string(),
  summary: z.object({ operation: z.enum(['append', 'replace', 'overwrite', 'delete']) }).catchall(z.string()),
  'schema-id': z.number().int().optional(),
});

const refModel = z.looseObject({
  'snapshot-id': id64,
  type: z.enum(['branch', 'tag']),
  'min-snapshots-to-keep': z.number().int().optional(),
  'max-snapshot-age-ms': z.number().int().optional(),
  'max-ref-age-ms': z.number().int().optional(),
});

/** The v2 table metadata: required fields checked, optional ones typed when present, others kept. */
export const tableMetadataModel = z.looseObject({
  'format-version': z.literal(2),
  'table-uuid': z.string().min(1),
  location: z.string().min(1),
  'last-sequence-number': z.number().int().nonnegative(),
  'last-updated-ms': z.number().int(),
  'last-column-id': z.number().int(),
  schemas: z.array(schemaModel).min(1),
  'current-schema-id': z.number().int(),
  'partition-specs': z.array(partitionSpec).min(1),
  'default-spec-id': z.number().int(),
  'last-partition-id': z.number().int(),
  properties: z.record(z.string(), z.string()).optional(),
  'current-snapshot-id': id64.optional(),
  snapshots: z.array(snapshotModel).optional(),
  'snapshot-log': z
    .array(z.looseObject({ 'timestamp-ms': z.number().int(), 'snapshot-id': id64 }))
    .optional(),
  'metadata-log': z
    .array(z.looseObject({ 'timestamp-ms': z.number().int(), 'metadata-file': z.string() }))
    .optional(),
  'sort-orders': z.array(sortOrder).min(1),
  'default-sort-order-id': z.number().int(),
  refs: z.record(z.string(), refModel).optional(),
});

/** Parsed table metadata (snapshot ids as bigints). */
export type TableMetadata = z.output<typeof tableMetadataModel>;
/** One snapshot of the metadata. */
export type Snapshot = NonNullable<TableMetadata['snapshots']>[number];
/** One ref (`main`, a tag). */
export type SnapshotRef = NonNullable<TableMetadata['refs']>[string];

/** The metadata file is not valid v2 table metadata. */
export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

/** Integers as bigints only when a double would lose them; other numbers as numbers. */
function parseNumber(value: string): number | bigint {
  if (isInteger(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : BigInt(value);
  }
  return Number.parseFloat(value);
}

/** Parses a metadata file's text, keeping 64-bit ids exact; throws {@link MetadataError}. */
export function parseMetadata(text: string): TableMetadata {
  let json: unknown;
  try {
    json = parse(text, null, parseNumber);
  } catch (err) {
    throw new MetadataError(`table metadata is not JSON: ${(err as Error).message}`);
  }
  const result = tableMetadataModel.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new MetadataError(`invalid table metadata: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** The metadata as JSON text (bigints written as exact integers). */
export function stringifyMetadata(m: TableMetadata): string {
  return stringify(m, null, 2) ?? '';
}

/** A snapshot id as the core's APIs show it. */
export function idString(id: bigint): string {
  return id.toString(10);
}

/** The current snapshot; undefined for a table without one. */
export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  const id = m['current-snapshot-id'];
  if (id === undefined || id === -1n) return undefined;
  return m.snapshots?.find((s) => s['snapshot-id'] === id);
}

/** The snapshot of an id; undefined when there is none. */
export function snapshotById(m: TableMetadata, id: bigint): Snapshot | undefined {
  return m.snapshots?.find((s) => s['snapshot-id'] === id);
}

/** Reads a metadata property (with the spec's default). */
export function property(m: TableMetadata, key: string, fallback: string): string {
  return m.properties?.[key] ?? fallback;
}

/**
 * The metadata after a snapshot is added on `main`: sequence number, current snapshot, `main`
 * ref, snapshot log, and the metadata log gaining the base file (trimmed to
 * `write.metadata.previous-versions-max`).
 */
export function withSnapshot(
  base: TableMetadata,
  baseLocation: string,
  snapshot: Snapshot,
  nowMs: number,
): TableMetadata {
  return withMetadataLog(
    {
      ...base,
      'last-sequence-number': snapshot['sequence-number'],
      // Never before the snapshot: Iceberg Java refuses metadata updated before its last snapshot.
      'last-updated-ms': Math.max(nowMs, snapshot['timestamp-ms']),
      'current-snapshot-id': snapshot['snapshot-id'],
      snapshots: [...(base.snapshots ?? []), snapshot],
      // The branch moves; its retention settings (min-snapshots-to-keep, …) stay, as in Java.
      refs: {
        ...(base.refs ?? {}),
        main: { ...(base.refs?.main ?? {}), 'snapshot-id': snapshot['snapshot-id'], type: 'branch' },
      },
      'snapshot-log': [
        ...(base['snapshot-log'] ?? []),
        { 'timestamp-ms': snapshot['timestamp-ms'], 'snapshot-id': snapshot['snapshot-id'] },
      ],
    },
    base,
    baseLocation,
  );
}

/**
 * `next` with the base file added to its metadata log, trimmed to previous-versions-max, and its
 * last-updated-ms never before the base's.
 */
export function withMetadataLog(
  next: TableMetadata,
  base: TableMetadata,
  baseLocation: string,
): TableMetadata {
  const max = Number(property(base, 'write.metadata.previous-versions-max', '100'));
  const log = [
    ...(base['metadata-log'] ?? []),
    { 'timestamp-ms': base['last-updated-ms'], 'metadata-file': baseLocation },
  ];
  return {
    ...next,
    // Never before the base, now the metadata log's last entry: Iceberg Java refuses metadata
    // updated (beyond a minute's skew) before its latest metadata log entry.
    'last-updated-ms': Math.max(next['last-updated-ms'], base['last-updated-ms']),
    'metadata-log': log.slice(Math.max(0, log.length - max)),
  };
}
