/**
 * The v2 table metadata model: a valid table is accepted, a table lacking any required field
 * (spec, "Table Metadata Fields", v2 column) is refused naming the field, and 64-bit ids survive a
 * round trip through the metadata JSON and the Avro files exactly.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readManifest,
  readManifestList,
  writeManifest,
  writeManifestList,
} from '../../../lib/iceberg/avro.ts';
import {
  currentSnapshot,
  MetadataError,
  parseMetadata,
  stringifyMetadata,
  withMetadataLog,
  withSnapshot,
} from '../../../lib/iceberg/metadata.ts';
import { history } from '../../../lib/iceberg/scan.ts';
import { avroOracle } from './harness.ts';

const fixture = await readFile(join(import.meta.dirname, 'fixtures', 'table-metadata-v2.json'), 'utf8');

/** The fields the spec's v2 column marks required. */
const REQUIRED_V2 = [
  'format-version',
  'table-uuid',
  'location',
  'last-sequence-number',
  'last-updated-ms',
  'last-column-id',
  'schemas',
  'current-schema-id',
  'partition-specs',
  'default-spec-id',
  'last-partition-id',
  'sort-orders',
  'default-sort-order-id',
];
/** Required fields of a snapshot in v2. */
const REQUIRED_SNAPSHOT = ['snapshot-id', 'sequence-number', 'timestamp-ms', 'manifest-list', 'summary'];

/** The fixture's text without one top-level (or one snapshot) field, edited as text to keep its ids exact. */
function without(field: string, inSnapshot = false): string {
  const json = JSON.parse(fixture) as Record<string, unknown> & { snapshots: Record<string, unknown>[] };
  if (inSnapshot) delete json.snapshots[0]![field];
  else delete json[field];
  // JSON.parse rounded the ids; put the exact ones back by their rounded spelling.
  return JSON.stringify(json)
    .replaceAll('3051729675574597000', '3051729675574597004')
    .replaceAll('3055729675574597000', '3055729675574597004')
    .replaceAll('9223372036854776000', '9223372036854775807');
}

const BIG = 9223372036854775807n;
const SPARK_ID = 3055729675574597004n;

describe('parseMetadata', () => {
  it('accepts a valid v2 table and keeps unknown fields', () => {
    const m = parseMetadata(fixture);
    expect(m['current-snapshot-id']).toBe(SPARK_ID);
    expect(m.snapshots!.map((s) => s['snapshot-id'])).toEqual([3051729675574597004n, SPARK_ID, BIG]);
    expect(m.refs!.max).toEqual({ 'snapshot-id': BIG, type: 'tag', 'max-ref-age-ms': 86400000 });
    expect(m.statistics).toEqual([]);
    expect((m.schemas[1] as Record<string, unknown>)['identifier-field-ids']).toEqual([1, 2]);
    expect((m.snapshots![2] as Record<string, unknown>)['first-row-id']).toBe(7);
    expect(currentSnapshot(m)!['manifest-list']).toBe('s3://a/b/2.avro');
  });

  it.each(REQUIRED_V2)('refuses a table without "%s"', (field) => {
    expect(() => parseMetadata(without(field))).toThrow(MetadataError);
    expect(() => parseMetadata(without(field))).toThrow(new RegExp(`^invalid table metadata: ${field}: `));
  });

  it.each(REQUIRED_SNAPSHOT)('refuses a snapshot without "%s"', (field) => {
    expect(() => parseMetadata(without(field, true))).toThrow(
      new RegExp(`^invalid table metadata: snapshots\\.0\\.${field}: `),
    );
  });

  it('refuses format version 1, an unknown operation, and text that is not JSON', () => {
    expect(() => parseMetadata(fixture.replace('"format-version": 2', '"format-version": 1'))).toThrow(
      /format-version/,
    );
    expect(() => parseMetadata(fixture.replace('"operation": "replace"', '"operation": "merge"'))).toThrow(
      /snapshots\.2\.summary\.operation/,
    );
    expect(() => parseMetadata('{"format-version": 2,')).toThrow(/not JSON/);
  });
});

describe('64-bit ids', () => {
  it('round-trip through the metadata JSON exactly', () => {
    const text = stringifyMetadata(parseMetadata(fixture));
    expect(text).toContain('"current-snapshot-id": 3055729675574597004');
    expect(text).toContain('"snapshot-id": 9223372036854775807');
    expect(parseMetadata(text)).toEqual(parseMetadata(fixture));
    expect(history(parseMetadata(text)).map((s) => s.snapshotId)).toEqual([
      '3051729675574597004',
      '3055729675574597004',
      '9223372036854775807',
    ]);
  });

  it('round-trip through a manifest and a manifest list, as our reader and python3-avro read them', async () => {
    const manifest = writeManifest(
      {
        schema: { type: 'struct', 'schema-id': 0, fields: [] },
        schemaId: 0,
        partitionSpec: [],
        partitionSpecId: 0,
      },
      [
        {
          status: 0,
          snapshotId: BIG,
          sequenceNumber: BIG - 1n,
          fileSequenceNumber: SPARK_ID,
          file: {
            content: 0,
            path: 's3://b/f.parquet',
            format: 'PARQUET',
            ingestDateDays: 20789,
            rows: 2n ** 60n,
            bytes: 10n,
          },
        },
      ],
    );
    const list = writeManifestList({ snapshotId: SPARK_ID, parentSnapshotId: BIG, sequenceNumber: 3n }, [
      {
        path: 's3://b/m.avro',
        length: 1n,
        specId: 0,
        content: 0,
        sequenceNumber: 3n,
        minSequenceNumber: 1n,
        addedSnapshotId: SPARK_ID,
        addedFiles: 0,
        existingFiles: 1,
        deletedFiles: 0,
        addedRows: 0n,
        existingRows: 2n ** 60n,
        deletedRows: 0n,
        partitions: [],
      },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'avro-'));
    await writeFile(join(dir, 'm.avro'), manifest);
    await writeFile(join(dir, 'l.avro'), list);

    const [entry] = readManifest(manifest);
    const [file] = readManifestList(list);
    const [pm, pl] = await avroOracle([join(dir, 'm.avro'), join(dir, 'l.avro')]);

    expect(entry).toMatchObject({ snapshotId: BIG, sequenceNumber: BIG - 1n, fileSequenceNumber: SPARK_ID });
    expect(entry!.file.rows).toBe(2n ** 60n);
    expect(file).toMatchObject({ addedSnapshotId: SPARK_ID, existingRows: 2n ** 60n });
    expect(pm!.snapshotIds).toEqual([BIG.toString()]);
    expect(pl!.snapshotIds).toEqual([SPARK_ID.toString()]);
    expect(pl!.meta).toMatchObject({
      'snapshot-id': SPARK_ID.toString(),
      'parent-snapshot-id': BIG.toString(),
    });
  });
});

describe('withSnapshot and withMetadataLog', () => {
  const base = parseMetadata(fixture);
  const snapshot = {
    'snapshot-id': 42n,
    'sequence-number': base['last-sequence-number'] + 1,
    'timestamp-ms': base['last-updated-ms'] + 1000,
    'manifest-list': `${base.location}/metadata/snap-42.avro`,
    summary: { operation: 'append' as const },
  };

  it("moves main and keeps the branch's retention settings", () => {
    const withRetention = {
      ...base,
      refs: {
        ...(base.refs ?? {}),
        main: {
          'snapshot-id': base['current-snapshot-id']!,
          type: 'branch' as const,
          'min-snapshots-to-keep': 7,
          'max-snapshot-age-ms': 86_400_000,
        },
      },
    };
    const next = withSnapshot(withRetention, 's3://b/t/metadata/00001-x.metadata.json', snapshot, Date.now());
    expect(next.refs?.main).toEqual({
      'snapshot-id': 42n,
      type: 'branch',
      'min-snapshots-to-keep': 7,
      'max-snapshot-age-ms': 86_400_000,
    });
  });

  it('never sets last-updated-ms before the base (a clock behind the last writer)', () => {
    const behind = base['last-updated-ms'] - 5 * 60_000;
    const next = withMetadataLog(
      { ...base, 'last-updated-ms': behind },
      base,
      's3://b/t/metadata/00001-x.metadata.json',
    );
    expect(next['last-updated-ms']).toBe(base['last-updated-ms']);
    expect(next['metadata-log']?.at(-1)).toEqual({
      'timestamp-ms': base['last-updated-ms'],
      'metadata-file': 's3://b/t/metadata/00001-x.metadata.json',
    });
  });
});
