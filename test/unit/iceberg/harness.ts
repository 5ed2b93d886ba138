/**
 * What the Iceberg core's tests share: a local S3 server (s3rver) with a curated bucket, the S3
 * store and a local pointer catalog over it, data files written by DuckDB with field ids and the
 * `iceberg.schema` footer key, and two independent readers of a table state — DuckDB by field id
 * over `liveFiles` (the core's own scan) and icebird (an outside reader of the metadata,
 * manifest list and manifests) — whose rows the tests compare.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergRead } from 'icebird';
import { localTableCatalog } from '../../../lib/iceberg/local-catalog.ts';
import type { TableMetadata } from '../../../lib/iceberg/metadata.ts';
import type { ObjectStore } from '../../../lib/iceberg/ports.ts';
import { s3ObjectStore } from '../../../lib/iceberg/s3-store.ts';
import { liveFiles, readParquetSql, schemaOf, selectSnapshot } from '../../../lib/iceberg/scan.ts';
import type { IcebergSchema } from '../../../lib/iceberg/schema.ts';
import type { DataFileSpec, IcebergDeps, TableRef } from '../../../lib/iceberg/table.ts';
import { type LocalS3, localS3Client, startLocalS3 } from '../../../lib/local/s3-server.ts';

export const BUCKET = 'curated';

/** A data file's rows: `rows` orders from `firstId` on, landed on `ingestDate`. */
export const part = (firstId: number, rows: number, ingestDate: string) => ({ firstId, rows, ingestDate });

/** The test table's schema: as icebergSchema() builds for an orders dataset. */
export const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 2, name: 'order_id', required: true, type: 'long' },
    { id: 3, name: 'amount', required: false, type: 'decimal(12, 2)' },
    { id: 4, name: 'note', required: false, type: 'string' },
    { id: 1, name: 'ingest_date', required: true, type: 'date' },
  ],
};

export interface Lake {
  readonly server: LocalS3;
  readonly client: S3Client;
  readonly store: ObjectStore;
  readonly dir: string;
  readonly catalogDir: string;
  /** Fresh deps (own catalog object over the shared folder, as another process would have). */
  deps(overrides?: Partial<IcebergDeps>): IcebergDeps;
  table(name: string): TableRef;
  /**
   * python3-avro's report on every manifest and manifest list of every table this lake handed
   * out (`table()`): the tests assert each is readable with a field id on every field.
   */
  avroReport(): ReturnType<typeof avroOracle>;
  close(): Promise<void>;
}

/** Starts s3rver with the curated bucket, and a pointer folder. */
export async function startLake(): Promise<Lake> {
  const dir = await mkdtemp(join(tmpdir(), 'iceberg-'));
  const server = await startLocalS3({ directory: join(dir, 's3'), buckets: [BUCKET] });
  const client = localS3Client(server.endpoint);
  const store = s3ObjectStore(client);
  const catalogDir = join(dir, 'catalog');
  const tables = new Set<string>();
  return {
    server,
    client,
    store,
    dir,
    catalogDir,
    deps: (overrides = {}) => ({
      store,
      catalog: localTableCatalog(catalogDir),
      backoffMs: 5,
      ...overrides,
    }),
    table: (name) => {
      tables.add(name);
      return { database: 'lake', name, location: `s3://${BUCKET}/${name}/iceberg` };
    },
    async avroReport() {
      const local = join(dir, 'avro');
      await mkdir(local, { recursive: true });
      const paths: string[] = [];
      for (const name of tables) {
        // One listing per table: s3rver cannot list past 1,000 keys (see s3-store.test.ts).
        for (const uri of await store.list(`s3://${BUCKET}/${name}/iceberg/metadata/`)) {
          if (!uri.endsWith('.avro')) continue;
          const path = join(local, `${paths.length}-${uri.split('/').at(-1)}`);
          await writeFile(path, (await store.get(uri))!);
          paths.push(path);
        }
      }
      return paths.length ? avroOracle(paths) : [];
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let duck: DuckDBInstance | undefined;
async function connect() {
  duck ??= await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  await conn.run("SET TimeZone = 'UTC'");
  return conn;
}

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Writes `rows` order rows (order_id from `firstId`) for `ingestDate` with DuckDB, field ids and
 * the `iceberg.schema` footer key, stores it at `uri`, and returns its spec.
 */
export async function writeOrders(
  store: ObjectStore,
  uri: string,
  opts: { firstId: number; rows: number; ingestDate: string; fieldIds?: boolean; schema?: IcebergSchema },
): Promise<DataFileSpec> {
  const schema = opts.schema ?? SCHEMA;
  const local = join(await mkdtemp(join(tmpdir(), 'pq-')), 'f.parquet');
  const conn = await connect();
  try {
    const ids = `FIELD_IDS {${schema.fields.map((f) => `${f.name}: ${f.id}`).join(', ')}}, `;
    await conn.run(
      `COPY (SELECT (${opts.firstId} + range)::BIGINT AS order_id,
                    ((range % 1000) * 1.25)::DECIMAL(12, 2) AS amount,
                    CASE WHEN range % 7 = 0 THEN NULL ELSE 'n' || (${opts.firstId} + range) END AS note,
                    DATE ${q(opts.ingestDate)} AS ingest_date
             FROM range(${opts.rows}))
       TO ${q(local)} (FORMAT parquet, COMPRESSION zstd, ${opts.fieldIds === false ? '' : ids}KV_METADATA {'iceberg.schema': ${q(JSON.stringify(schema))}})`,
    );
  } finally {
    conn.closeSync();
  }
  const bytes = await readFile(local);
  await store.put(uri, new Uint8Array(bytes));
  await rm(local, { force: true });
  return { path: uri, rows: opts.rows, bytes: bytes.byteLength, ingestDate: opts.ingestDate };
}

/** Rows as comparable strings, sorted: `order_id|amount|note|ingest_date`. */
function normalise(rows: Record<string, unknown>[]): string[] {
  const str = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (v instanceof Date) return v.toISOString().slice(0, 10);
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
    return String(v);
  };
  return rows
    .map((r) => [r.order_id, r.amount, r.note, r.ingest_date].map(str).join('|'))
    .map((s) => s.replace(/^(\d+)\|(\d+)\|/, '$1|$2.00|').replace(/\|(\d+\.\d)\|/, '|$10|'))
    .sort();
}

/** DuckDB's rows of a table state: the core's `liveFiles` downloaded, read with `readParquetSql`. */
export async function duckdbRows(
  store: ObjectStore,
  metadata: TableMetadata,
  selector?: Parameters<typeof selectSnapshot>[1],
): Promise<string[]> {
  const snapshot = selectSnapshot(metadata, selector);
  const files = await liveFiles(store, metadata, snapshot);
  const dir = await mkdtemp(join(tmpdir(), 'scan-'));
  const local: string[] = [];
  for (const [i, f] of files.entries()) {
    const path = join(dir, `${i}.parquet`);
    await writeFile(path, (await store.get(f.path))!);
    local.push(path);
  }
  const conn = await connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT order_id::VARCHAR AS order_id, amount::VARCHAR AS amount, note, ingest_date::VARCHAR AS ingest_date
       FROM ${readParquetSql(local, schemaOf(metadata, snapshot))}`,
    );
    return normalise(reader.getRowObjectsJson() as Record<string, unknown>[]);
  } finally {
    conn.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * icebird's rows of the table state a metadata file holds. icebird fetches
 * `https://<bucket>.s3.amazonaws.com/<key>` with the global fetch: served here from the store.
 */
export async function icebirdRows(store: ObjectStore, metadataLocation: string): Promise<string[]> {
  return normalise(await icebirdRead(store, metadataLocation));
}

/** icebird's rows of the table state a metadata file describes, as icebird returns them. */
export async function icebirdRead(
  store: ObjectStore,
  metadataLocation: string,
): Promise<Record<string, unknown>[]> {
  const m = /^(s3:\/\/.+)\/metadata\/([^/]+)$/.exec(metadataLocation)!;
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const hit = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
    if (!hit) return original(input, init);
    const bytes = await store.get(`s3://${hit[1]}/${decodeURIComponent(hit[2]!)}`);
    if (!bytes) return new Response(null, { status: 404, statusText: 'Not Found' });
    const range = new Headers(init?.headers).get('range');
    if (init?.method === 'HEAD') {
      return new Response(null, { status: 200, headers: { 'content-length': String(bytes.byteLength) } });
    }
    if (range) {
      const r = /^bytes=(\d+)-(\d*)$/.exec(range)!;
      const start = Number(r[1]);
      const end = r[2] ? Number(r[2]) + 1 : bytes.byteLength;
      return new Response(bytes.slice(start, end), { status: 206 });
    }
    return new Response(bytes, { status: 200 });
  }) as typeof fetch;
  try {
    return (await icebergRead({ tableUrl: m[1]!, metadataFileName: m[2]! })) as Record<string, unknown>[];
  } finally {
    globalThis.fetch = original;
  }
}

/** The rows `writeOrders` wrote, as `normalise` shows them (the expected side of a comparison). */
export async function expectedOrders(
  parts: readonly { firstId: number; rows: number; ingestDate: string }[],
) {
  const conn = await connect();
  try {
    const union = parts
      .map(
        (p) => `SELECT (${p.firstId} + range)::BIGINT::VARCHAR AS order_id,
                       ((range % 1000) * 1.25)::DECIMAL(12, 2)::VARCHAR AS amount,
                       CASE WHEN range % 7 = 0 THEN NULL ELSE 'n' || (${p.firstId} + range) END AS note,
                       ${q(p.ingestDate)} AS ingest_date FROM range(${p.rows})`,
      )
      .join(' UNION ALL ');
    if (!union) return [];
    const reader = await conn.runAndReadAll(union);
    return normalise(reader.getRowObjectsJson() as Record<string, unknown>[]);
  } finally {
    conn.closeSync();
  }
}

/** Runs the python3-avro oracle over Avro files; returns its JSON report. */
export async function avroOracle(paths: readonly string[]): Promise<
  {
    path: string;
    records: number;
    fieldsWithoutId: string[];
    meta: Record<string, string>;
    snapshotIds: string[];
  }[]
> {
  const script = join(import.meta.dirname, 'avro_oracle.py');
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [script, ...paths], {
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout);
}
