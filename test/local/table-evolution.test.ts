/**
 * `local up` evolves the tables at start as the stack's tables custom resource does on deploy:
 * a declaration changed by the rules evolves its table's schema (same function,
 * `ensureDatasetTables`), a new `version` gets its own table next to the old one, and a change
 * the rules refuse stops the start with the reason, every table untouched.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { schemaOf } from '../../lib/iceberg/scan.ts';
import { loadTable } from '../../lib/iceberg/table.ts';
import { LOCAL_DATABASE } from '../../lib/local/lake-folder.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { type AslDefinition, synthesizeLocalDefinition } from '../../lib/local/workflow.ts';

let work: string;
let definition: AslDefinition;
const datasetsDir = () => join(work, 'datasets');
const lakeDir = () => join(work, 'lake');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'table-evolution-'));
  await mkdir(datasetsDir());
  await copyFile('datasets/orders.json', join(datasetsDir(), 'orders.json'));
  // The workflow does not depend on the columns: one synthesis for every start.
  definition = await synthesizeLocalDefinition(
    [...(await loadDatasets(datasetsDir())).values()],
    datasetsDir(),
  );
}, 60_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function declare(change: (orders: { columns: Record<string, unknown>[]; version?: number }) => void) {
  const orders = JSON.parse(await readFile('datasets/orders.json', 'utf8'));
  change(orders);
  await writeFile(join(datasetsDir(), 'orders.json'), JSON.stringify(orders));
}

/** Starts the runtime on the lake and the declarations, reads what `read` wants, and stops it. */
async function startAndRead<T>(read: (runtime: LocalRuntime) => Promise<T>): Promise<T> {
  const runtime = await LocalRuntime.start({ lakeDir: lakeDir(), datasetsDir: datasetsDir(), definition });
  try {
    return await read(runtime);
  } finally {
    await runtime.close();
  }
}

const table = (runtime: LocalRuntime, name: string) =>
  loadTable({ store: runtime.store, catalog: runtime.tables }, { database: LOCAL_DATABASE, name });

describe('local up: the tables at start', () => {
  it('creates, evolves by the rules, refuses the rest untouched, and creates a new version next to the old', async () => {
    const created = await startAndRead(async (r) => (await table(r, 'orders')).metadata);
    await declare((o) => {
      o.columns.push({ name: 'region', type: 'string' });
      o.columns.find((c) => c.name === 'quantity')!.type = 'bigint';
    });
    const evolved = await startAndRead(async (r) => (await table(r, 'orders')).metadata);
    await declare((o) => {
      o.columns.find((c) => c.name === 'quantity')!.type = 'bigint';
    });
    const refused = LocalRuntime.start({ lakeDir: lakeDir(), datasetsDir: datasetsDir(), definition });
    await expect(refused).rejects.toThrow(
      /table local\.orders: schema change refused: field 12 "region" is in the table but not in the declaration/,
    );
    await declare((o) => {
      o.version = 2;
    });
    const both = await startAndRead(async (r) => ({
      v1: (await table(r, 'orders')).metadata,
      v2: (await table(r, 'orders_v2')).metadata,
    }));

    expect(created['current-schema-id']).toBe(0);
    expect(evolved['current-schema-id']).toBe(1);
    const fields = schemaOf(evolved).fields;
    expect(fields.find((f) => f.name === 'quantity')?.type).toBe('long');
    expect(fields.find((f) => f.name === 'region')).toMatchObject({
      id: 12,
      required: false,
      type: 'string',
    });
    expect(both.v1).toEqual(evolved);
    expect(both.v2.location).toMatch(/\/orders\/v2\/iceberg$/);
    expect(schemaOf(both.v2).fields.find((f) => f.name === 'quantity')?.type).toBe('int');
  });
});
