/**
 * Manifests and manifest lists (spec, "Manifests" and "Manifest Lists"): Avro object container
 * files, deflate-compressed, whose header holds the full JSON schema with the spec's field ids
 * (avsc drops `field-id` from a parsed Type, so the container is framed here and the original
 * schema written as is) and longs read and written as bigints (64-bit snapshot ids).
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';

type AvroType = ReturnType<typeof avro.Type.forSchema>;

/** avsc's `long` as a bigint: exact over the whole 64-bit range. */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: number | string) => BigInt(v),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** A type for a schema, with bigint longs. */
export function avroType(schema: object | string): AvroType {
  return avro.Type.forSchema(schema as Parameters<typeof avro.Type.forSchema>[0], {
    registry: { long: bigintLong as unknown as AvroType },
  });
}

const optional = (type: unknown, name: string, fieldId: number, doc?: string) => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': fieldId,
  ...(doc ? { doc } : {}),
});
const required = (type: unknown, name: string, fieldId: number, doc?: string) => ({
  name,
  type,
  'field-id': fieldId,
  ...(doc ? { doc } : {}),
});

/** The partition tuple of the tables here: identity(ingest_date), partition field 1000. */
export const PARTITION_RECORD = {
  type: 'record',
  name: 'r102',
  fields: [optional({ type: 'int', logicalType: 'date' }, 'ingest_date', 1000)],
} as const;

/** The v2 manifest entry schema (`manifest_entry`), with the data file struct (field id 2). */
export const MANIFEST_ENTRY_SCHEMA = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    required('int', 'status', 0),
    optional('long', 'snapshot_id', 1),
    optional('long', 'sequence_number', 3),
    optional('long', 'file_sequence_number', 4),
    required(
      {
        type: 'record',
        name: 'r2',
        fields: [
          required(
            'int',
            'content',
            134,
            'Contents of the file: 0=data, 1=position deletes, 2=equality deletes',
          ),
          required('string', 'file_path', 100, 'Location URI with FS scheme'),
          required('string', 'file_format', 101, 'File format name: avro, orc, or parquet'),
          required(
            PARTITION_RECORD,
            'partition',
            102,
            'Partition data tuple, schema based on the partition spec',
          ),
          required('long', 'record_count', 103, 'Number of records in the file'),
          required('long', 'file_size_in_bytes', 104, 'Total file size in bytes'),
          optional('bytes', 'key_metadata', 131, 'Encryption key metadata blob'),
          optional(
            { type: 'array', items: 'long', 'element-id': 133 },
            'split_offsets',
            132,
            'Splittable offsets',
          ),
          optional(
            { type: 'array', items: 'int', 'element-id': 136 },
            'equality_ids',
            135,
            'Equality comparison field IDs',
          ),
          optional('int', 'sort_order_id', 140, 'Sort order ID'),
        ],
      },
      'data_file',
      2,
    ),
  ],
} as const;

/** The v2 manifest list schema (`manifest_file`). */
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    required('string', 'manifest_path', 500, 'Location URI with FS scheme'),
    required('long', 'manifest_length', 501, 'Total file size in bytes'),
    required('int', 'partition_spec_id', 502, 'Spec ID used to write'),
    required('int', 'content', 517, 'Contents of the manifest: 0=data, 1=deletes'),
    required('long', 'sequence_number', 515, 'Sequence number when the manifest was added'),
    required('long', 'min_sequence_number', 516, 'Lowest sequence number in the manifest'),
    required('long', 'added_snapshot_id', 503, 'Snapshot ID that added the manifest'),
    required('int', 'added_files_count', 504, 'Added entry count'),
    required('int', 'existing_files_count', 505, 'Existing entry count'),
    required('int', 'deleted_files_count', 506, 'Deleted entry count'),
    required('long', 'added_rows_count', 512, 'Added rows count'),
    required('long', 'existing_rows_count', 513, 'Existing rows count'),
    required('long', 'deleted_rows_count', 514, 'Deleted rows count'),
    optional(
      {
        type: 'array',
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            required('boolean', 'contains_null', 509, 'True if any file has a null partition value'),
            optional('boolean', 'contains_nan', 518, 'True if any file has a nan partition value'),
            optional('bytes', 'lower_bound', 510, 'Partition lower bound for all files'),
            optional('bytes', 'upper_bound', 511, 'Partition upper bound for all files'),
          ],
        },
        'element-id': 508,
      },
      'partitions',
      507,
      'Summary for each partition',
    ),
    optional('bytes', 'key_metadata', 519, 'Encryption key metadata blob'),
  ],
} as const;

const manifestEntryType = avroType(MANIFEST_ENTRY_SCHEMA);
const manifestFileType = avroType(MANIFEST_FILE_SCHEMA);

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const countType = avroType('long');

/**
 * An Avro object container file: header with `avro.schema` (the schema as given, attributes and
 * all), `avro.codec` deflate and the extra metadata; one deflated block of all records.
 */
export function writeContainer(
  schema: object,
  type: AvroType,
  records: readonly unknown[],
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  const sync = randomBytes(16);
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  meta['avro.schema'] = Buffer.from(JSON.stringify(schema), 'utf8');
  meta['avro.codec'] = Buffer.from('deflate', 'utf8');
  const parts: Buffer[] = [headerType.toBuffer({ magic: MAGIC, meta, sync })];
  if (records.length > 0) {
    const data = Buffer.concat(records.map((r) => type.toBuffer(r)));
    const compressed = deflateRawSync(data);
    parts.push(
      countType.toBuffer(BigInt(records.length)),
      countType.toBuffer(BigInt(compressed.length)),
      compressed,
      sync,
    );
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Reads an Avro object container file (null or deflate codec) with its writer schema. */
export function readContainer(bytes: Uint8Array): { metadata: Record<string, string>; records: unknown[] } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { value: header, offset: start } = headerType.decode(buf, 0) as {
    value: { magic: Buffer; meta: Record<string, Buffer>; sync: Buffer };
    offset: number;
  };
  if (start < 0 || !header.magic.equals(MAGIC)) throw new Error('not an Avro object container file');
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(header.meta)) metadata[k] = v.toString('utf8');
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`unsupported Avro codec "${codec}"`);
  const type = avroType(JSON.parse(metadata['avro.schema'] ?? 'null') as object);
  const records: unknown[] = [];
  let pos = start;
  while (pos < buf.length) {
    const count = countType.decode(buf, pos) as { value: bigint; offset: number };
    const size = countType.decode(buf, count.offset) as { value: bigint; offset: number };
    const blockEnd = size.offset + Number(size.value);
    const raw = buf.subarray(size.offset, blockEnd);
    const block = codec === 'deflate' ? inflateRawSync(raw) : raw;
    let p = 0;
    for (let i = 0n; i < count.value; i++) {
      const r = type.decode(block, p) as { value: unknown; offset: number };
      if (r.offset < 0) throw new Error('truncated Avro block');
      records.push(r.value);
      p = r.offset;
    }
    if (!buf.subarray(blockEnd, blockEnd + 16).equals(header.sync))
      throw new Error('Avro sync marker mismatch');
    pos = blockEnd + 16;
  }
  return { metadata, records };
}

/** Status of a manifest entry. */
export const EntryStatus = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;

/** A manifest entry as the core handles it (data files only). */
export interface ManifestEntry {
  readonly status: 0 | 1 | 2;
  /** Null when inherited from the manifest list (new entries). */
  readonly snapshotId: bigint | null;
  readonly sequenceNumber: bigint | null;
  readonly fileSequenceNumber: bigint | null;
  readonly file: {
    readonly content: number;
    readonly path: string;
    readonly format: string;
    /** Days since 1970-01-01 (the identity partition of `ingest_date`); null when unpartitioned. */
    readonly ingestDateDays: number | null;
    readonly rows: bigint;
    readonly bytes: bigint;
  };
}

/** One manifest in a manifest list. */
export interface ManifestFile {
  readonly path: string;
  readonly length: bigint;
  readonly specId: number;
  readonly content: number;
  readonly sequenceNumber: bigint;
  readonly minSequenceNumber: bigint;
  readonly addedSnapshotId: bigint;
  readonly addedFiles: number;
  readonly existingFiles: number;
  readonly deletedFiles: number;
  readonly addedRows: bigint;
  readonly existingRows: bigint;
  readonly deletedRows: bigint;
  readonly partitions: readonly {
    readonly containsNull: boolean;
    readonly containsNan?: boolean | null;
    readonly lowerBound: Uint8Array | null;
    readonly upperBound: Uint8Array | null;
  }[];
}

/** What a manifest's header says (spec: required key-value metadata). */
export interface ManifestHeader {
  /** The table schema as JSON. */
  readonly schema: object;
  readonly schemaId: number;
  /** The partition spec's fields as JSON. */
  readonly partitionSpec: readonly object[];
  readonly partitionSpecId: number;
}

/** Writes a v2 data manifest. */
export function writeManifest(header: ManifestHeader, entries: readonly ManifestEntry[]): Uint8Array {
  return writeContainer(
    MANIFEST_ENTRY_SCHEMA,
    manifestEntryType,
    entries.map((e) => ({
      status: e.status,
      snapshot_id: e.snapshotId,
      sequence_number: e.sequenceNumber,
      file_sequence_number: e.fileSequenceNumber,
      data_file: {
        content: e.file.content,
        file_path: e.file.path,
        file_format: e.file.format,
        partition: { ingest_date: e.file.ingestDateDays },
        record_count: e.file.rows,
        file_size_in_bytes: e.file.bytes,
        key_metadata: null,
        split_offsets: null,
        equality_ids: null,
        sort_order_id: null,
      },
    })),
    {
      schema: JSON.stringify(header.schema),
      'schema-id': String(header.schemaId),
      'partition-spec': JSON.stringify(header.partitionSpec),
      'partition-spec-id': String(header.partitionSpecId),
      'format-version': '2',
      content: 'data',
    },
  );
}

interface RawEntry {
  status: number;
  snapshot_id: bigint | null;
  sequence_number: bigint | null;
  file_sequence_number: bigint | null;
  data_file: {
    content?: number;
    file_path: string;
    file_format: string;
    partition: Record<string, number | null>;
    record_count: bigint;
    file_size_in_bytes: bigint;
  };
}

/** Reads a manifest's entries (as written; inheritance is the reader's, see scan.ts). */
export function readManifest(bytes: Uint8Array): ManifestEntry[] {
  return (readContainer(bytes).records as RawEntry[]).map((r) => {
    const partition = Object.values(r.data_file.partition ?? {});
    return {
      status: r.status as 0 | 1 | 2,
      snapshotId: r.snapshot_id ?? null,
      sequenceNumber: r.sequence_number ?? null,
      fileSequenceNumber: r.file_sequence_number ?? null,
      file: {
        content: r.data_file.content ?? 0,
        path: r.data_file.file_path,
        format: r.data_file.file_format,
        ingestDateDays: partition.length > 0 ? (partition[0] ?? null) : null,
        rows: r.data_file.record_count,
        bytes: r.data_file.file_size_in_bytes,
      },
    };
  });
}

/** Writes a manifest list, with the header keys Iceberg Java writes. */
export function writeManifestList(
  snapshot: {
    readonly snapshotId: bigint;
    readonly parentSnapshotId?: bigint;
    readonly sequenceNumber: bigint;
  },
  manifests: readonly ManifestFile[],
): Uint8Array {
  return writeContainer(
    MANIFEST_FILE_SCHEMA,
    manifestFileType,
    manifests.map((m) => ({
      manifest_path: m.path,
      manifest_length: m.length,
      partition_spec_id: m.specId,
      content: m.content,
      sequence_number: m.sequenceNumber,
      min_sequence_number: m.minSequenceNumber,
      added_snapshot_id: m.addedSnapshotId,
      added_files_count: m.addedFiles,
      existing_files_count: m.existingFiles,
      deleted_files_count: m.deletedFiles,
      added_rows_count: m.addedRows,
      existing_rows_count: m.existingRows,
      deleted_rows_count: m.deletedRows,
      partitions: m.partitions.map((p) => ({
        contains_null: p.containsNull,
        contains_nan: p.containsNan ?? null,
        lower_bound: p.lowerBound ? Buffer.from(p.lowerBound) : null,
        upper_bound: p.upperBound ? Buffer.from(p.upperBound) : null,
      })),
      key_metadata: null,
    })),
    {
      'snapshot-id': snapshot.snapshotId.toString(),
      'parent-snapshot-id': snapshot.parentSnapshotId?.toString() ?? 'null',
      'sequence-number': snapshot.sequenceNumber.toString(),
      'format-version': '2',
    },
  );
}

interface RawManifestFile {
  manifest_path: string;
  manifest_length: bigint;
  partition_spec_id: number;
  content?: number;
  sequence_number?: bigint;
  min_sequence_number?: bigint;
  added_snapshot_id: bigint;
  added_files_count?: number;
  existing_files_count?: number;
  deleted_files_count?: number;
  added_rows_count?: bigint;
  existing_rows_count?: bigint;
  deleted_rows_count?: bigint;
  partitions?:
    | {
        contains_null: boolean;
        contains_nan?: boolean | null;
        lower_bound?: Buffer | null;
        upper_bound?: Buffer | null;
      }[]
    | null;
}

/** Reads a manifest list. */
export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  return (readContainer(bytes).records as RawManifestFile[]).map((r) => ({
    path: r.manifest_path,
    length: r.manifest_length,
    specId: r.partition_spec_id,
    content: r.content ?? 0,
    sequenceNumber: r.sequence_number ?? 0n,
    minSequenceNumber: r.min_sequence_number ?? 0n,
    addedSnapshotId: r.added_snapshot_id,
    addedFiles: r.added_files_count ?? 0,
    existingFiles: r.existing_files_count ?? 0,
    deletedFiles: r.deleted_files_count ?? 0,
    addedRows: r.added_rows_count ?? 0n,
    existingRows: r.existing_rows_count ?? 0n,
    deletedRows: r.deleted_rows_count ?? 0n,
    partitions: (r.partitions ?? []).map((p) => ({
      containsNull: p.contains_null,
      containsNan: p.contains_nan ?? null,
      lowerBound: p.lower_bound ? new Uint8Array(p.lower_bound) : null,
      upperBound: p.upper_bound ? new Uint8Array(p.upper_bound) : null,
    })),
  }));
}

/** A day number as the spec's single-value binary form of a date: 4-byte little-endian. */
export function dayBound(days: number): Uint8Array {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(days);
  return new Uint8Array(buf);
}

/** `YYYY-MM-DD` → days since 1970-01-01. */
export function toDays(isoDate: string): number {
  const ms = Date.parse(`${isoDate}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over into March: the round trip must give the same text.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate) || Number.isNaN(ms) || fromDays(ms / 86_400_000) !== isoDate) {
    throw new Error(`invalid date "${isoDate}"`);
  }
  return ms / 86_400_000;
}

/** Days since 1970-01-01 → `YYYY-MM-DD`. */
export function fromDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** The partition summary of entries: null count and day bounds. */
export function partitionSummary(days: readonly (number | null)[]): ManifestFile['partitions'] {
  const present = days.filter((d): d is number => d !== null);
  return [
    {
      containsNull: present.length < days.length,
      containsNan: false,
      lowerBound: present.length ? dayBound(Math.min(...present)) : null,
      upperBound: present.length ? dayBound(Math.max(...present)) : null,
    },
  ];
}
