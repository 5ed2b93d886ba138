/**
 * `datalake tables`: a dataset's Iceberg table. `history` lists its snapshots (each one commit:
 * an append per batch of curated files, a replace per compaction), `tag` names one so that a
 * training set can be read again as it was (`query --tag`, Athena's `FOR VERSION AS OF`), and
 * `compact` rewrites the small files of a partition into one (local lake; on AWS the Glue
 * compaction optimizer does it). Each acts on the table of the dataset's current version as
 * declared (`orders`, or `orders_v2` for `"version": 2`); without the declarations at hand, on
 * version 1's.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Dataset } from '../datasets/model.ts';
import { tableLocation, tableName } from '../iceberg/layout.ts';
import { currentSnapshot, idString, type TableMetadata } from '../iceberg/metadata.ts';
import type { ObjectStore, TableCatalog } from '../iceberg/ports.ts';
import { history, type SnapshotInfo } from '../iceberg/scan.ts';
import { loadTable, type TableRef, tagSnapshot } from '../iceberg/table.ts';
import { escapeControl } from '../text.ts';
import { CliError, EXIT } from './failures.ts';
import { table } from './format.ts';
import type { CliIo } from './main.ts';

/** A lake's tables, as the `tables` commands reach them. */
export interface TablesAccess {
  /** For people: the target's label. */
  readonly label: string;
  readonly s3: S3Client;
  readonly store: ObjectStore;
  readonly catalog: TableCatalog;
  readonly database: string;
  readonly curatedBucket: string;
  /** The declared datasets, when at hand (to tell an unknown dataset from one without a table). */
  readonly datasets?: ReadonlyMap<string, Dataset>;
  /** Local lake only: the query cache and scratch folder compaction works in. */
  readonly local?: { readonly cacheDir: string; readonly workDir: string };
}

/** A `tables` command failed in a way the user can act on (exit 1). */
export class TablesError extends Error {
  override readonly name = 'TablesError';
}

/**
 * The table of the dataset's current version (its declaration's `version`; 1 without the
 * declarations) in the access's catalog; an unknown dataset or one without a table is refused.
 */
export async function openTable(
  access: TablesAccess,
  dataset: string,
): Promise<{ ref: TableRef; metadata: TableMetadata }> {
  const version = access.datasets?.get(dataset)?.version ?? 1;
  const ref: TableRef = {
    database: access.database,
    name: tableName(dataset, version),
    location: tableLocation(access.curatedBucket, dataset, version),
  };
  const pointer = await access.catalog.load(ref.database, ref.name);
  if (!pointer) {
    if (access.datasets && !access.datasets.has(dataset)) {
      const known = [...access.datasets.keys()].join(', ') || 'none';
      throw new CliError(`unknown dataset ${JSON.stringify(dataset)} (known: ${known})`);
    }
    throw new TablesError(
      `dataset ${dataset} has no table in ${access.label} yet: it is created when the lake starts (\`datalake local up\`) or deploys, and filled as files are curated${ref.name === dataset ? '' : ` (table ${ref.name}, of its declared version)`}`,
    );
  }
  const { metadata } = await loadTable({ store: access.store, catalog: access.catalog }, ref);
  return { ref, metadata };
}

/** Options of `datalake tables history`. */
export interface HistoryArgs {
  readonly dataset: string;
  readonly json: boolean;
}

/**
 * `tables history`: the table's snapshots, oldest first. `--json` prints an array of objects with
 * at least `snapshotId` (a decimal string: ids are 64-bit), `timestamp` (ISO 8601) and `addedRows`.
 */
export async function historyCommand(args: HistoryArgs, access: TablesAccess, io: CliIo): Promise<number> {
  const { metadata } = await openTable(access, args.dataset);
  const snapshots = history(metadata);
  if (args.json) {
    io.stdout(`${JSON.stringify(snapshots)}\n`);
    return EXIT.ok;
  }
  if (snapshots.length === 0) {
    io.stdout(`table ${args.dataset} has no snapshot yet (no file curated) in ${access.label}\n`);
    return EXIT.ok;
  }
  const lines = table(
    ['snapshot', 'time', 'operation', 'added rows', 'total rows', 'tags'],
    snapshots.map((s) => [
      s.snapshotId,
      s.timestamp.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z'),
      s.operation,
      s.addedRows.toLocaleString('en-US'),
      s.totalRows.toLocaleString('en-US'),
      s.tags.join(', '),
    ]),
  );
  io.stdout(`${escapeControl(lines.join('\n'))}\n`);
  return EXIT.ok;
}

/** Options of `datalake tables tag`. */
export interface TagArgs {
  readonly dataset: string;
  readonly name: string;
  /** @default - the current snapshot */
  readonly snapshotId?: string;
  readonly json: boolean;
}

/**
 * `tables tag`: names a snapshot (the current one by default). A tag that names another snapshot
 * already is refused (a training set's tag never moves); tagging the same snapshot again is a no-op.
 */
export async function tagCommand(args: TagArgs, access: TablesAccess, io: CliIo): Promise<number> {
  const { ref, metadata } = await openTable(access, args.dataset);
  const snapshots = history(metadata);
  const current = currentInfo(metadata, snapshots);
  if (!current) throw new TablesError(`table ${args.dataset} has no snapshot to tag yet (no file curated)`);
  const target = args.snapshotId === undefined ? current : find(snapshots, args);
  const holder = snapshots.find((s) => s.tags.includes(args.name));
  if (holder && holder.snapshotId !== target.snapshotId) {
    throw new TablesError(
      `tag ${JSON.stringify(args.name)} already names snapshot ${holder.snapshotId} of ${args.dataset}: a tag does not move; choose another name`,
    );
  }
  const result = holder
    ? { snapshotId: holder.snapshotId }
    : await tagSnapshot({ store: access.store, catalog: access.catalog }, ref, args.name, target.snapshotId);
  if (args.json) {
    io.stdout(
      `${JSON.stringify({ dataset: args.dataset, tag: args.name, snapshotId: result.snapshotId, created: !holder })}\n`,
    );
    return EXIT.ok;
  }
  io.stdout(
    `${escapeControl(
      holder
        ? `tag ${args.name} already names snapshot ${result.snapshotId} of ${args.dataset}`
        : `tagged snapshot ${result.snapshotId} of ${args.dataset} (${target.timestamp}, ${target.totalRows.toLocaleString('en-US')} rows) as ${args.name}`,
    )}\n  read it with \`datalake query "…" --tag ${escapeControl(args.name)}\`; on Athena: SELECT … FROM ${escapeControl(access.database)}.${escapeControl(ref.name)} FOR VERSION AS OF ${result.snapshotId}\n`,
  );
  return EXIT.ok;
}

/** The table's current snapshot (`current-snapshot-id`), undefined for an empty table. */
function currentInfo(metadata: TableMetadata, snapshots: readonly SnapshotInfo[]): SnapshotInfo | undefined {
  const current = currentSnapshot(metadata);
  return current && snapshots.find((s) => s.snapshotId === idString(current['snapshot-id']));
}

function find(snapshots: readonly SnapshotInfo[], args: TagArgs): SnapshotInfo {
  const found = snapshots.find((s) => s.snapshotId === args.snapshotId);
  if (!found) {
    throw new TablesError(
      `table ${args.dataset} has no snapshot ${args.snapshotId} (it may have expired): \`datalake tables history ${args.dataset}\` lists them`,
    );
  }
  return found;
}

/** Options of `datalake tables compact`. */
export interface CompactArgs {
  readonly dataset: string;
  /** Only this partition (`YYYY-MM-DD`). */
  readonly date?: string;
  readonly json: boolean;
}

/** `tables compact`: one file per partition of several, in one `replace` snapshot (local lake). */
export async function compactCommand(args: CompactArgs, access: TablesAccess, io: CliIo): Promise<number> {
  if (!access.local) throw new CliError('tables compact runs on the local lake only');
  const { ref } = await openTable(access, args.dataset);
  const { compactTable } = await import('../local/compact.ts');
  const result = await compactTable(
    {
      s3: access.s3,
      store: access.store,
      catalog: access.catalog,
      table: ref,
      dataset: args.dataset,
      curatedBucket: access.curatedBucket,
      cacheDir: access.local.cacheDir,
      workDir: access.local.workDir,
    },
    args.date,
  );
  if (args.json) {
    io.stdout(
      `${JSON.stringify({
        dataset: args.dataset,
        filesBefore: result.filesBefore,
        filesAfter: result.filesAfter,
        snapshotId: result.snapshotId ?? null,
        partitions: result.partitions.map((p) => ({
          ingestDate: p.ingestDate,
          filesBefore: p.before,
          rows: p.rows,
          file: p.file.path,
        })),
      })}\n`,
    );
    return EXIT.ok;
  }
  const scope = args.date === undefined ? args.dataset : `${args.dataset} ${args.date}`;
  if (!result.snapshotId) {
    io.stdout(
      `nothing to compact in ${scope}: ${result.filesBefore.toLocaleString('en-US')} live files, at most one per partition\n`,
    );
    return EXIT.ok;
  }
  const lines = [
    `compacted ${scope}: ${result.filesBefore.toLocaleString('en-US')} files → ${result.filesAfter.toLocaleString('en-US')} (snapshot ${result.snapshotId}, operation replace)`,
    ...result.partitions.map(
      (p) => `  ingest_date=${p.ingestDate}: ${p.before} files → 1 (${p.rows.toLocaleString('en-US')} rows)`,
    ),
  ];
  io.stdout(`${escapeControl(lines.join('\n'))}\n`);
  return EXIT.ok;
}
