/**
 * What the rules of change and the lineage columns (issue 16) cost in bytes: the curated Parquet
 * of one orders file with and without the three lineage columns, and the bytes Athena reads (and
 * bills) for a narrow query of `orders_latest` against the same query of the table. Bytes are
 * deterministic (the seeded orders file, DuckDB's writer), so the figures do not depend on a quiet
 * machine. `tsx bench/lineage.ts [megabytes]` (default 100) prints the figures.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PRICES, PRICES_READ_ON } from '../lib/cost/prices.ts';
import { loadDatasets, pickDataset } from '../lib/datasets/load.ts';
import { LINEAGE_COLUMNS } from '../lib/datasets/model.ts';
import { writeOrdersFile } from '../lib/samples/orders-generator.ts';
import { measureConversion } from './conversion.ts';

const MB = 1e6;

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 100);
  const dir = resolve('.bench');
  await mkdir(dir, { recursive: true });
  const csv = join(dir, `orders-lineage-${megabytes}mb.csv`);
  const { rows, bytes } = await writeOrdersFile(csv, megabytes * MB);
  const orders = pickDataset(await loadDatasets(), 'orders');
  const without = await measureConversion(csv, orders, dir, 'amount', { lineage: false });
  const withLineage = await measureConversion(csv, orders, dir, 'amount', { lineage: true });
  const read = (columns: readonly string[]) =>
    columns.reduce((sum, c) => sum + (withLineage.columnBytes[c] ?? 0), withLineage.footerBytes);
  const lineage = Object.values(LINEAGE_COLUMNS);
  const key = orders.key ?? ['order_id'];
  const everyColumn = Object.keys(withLineage.columnBytes);
  // SELECT order_id, amount FROM orders: the two columns. FROM orders_latest: the key, the lineage
  // the window orders by, and amount; with the former tie-break by every other column, all of them.
  const table = read(['order_id', 'amount']);
  const latest = read([...new Set([...key, ...lineage, 'amount'])]);
  const wide = read(everyColumn);
  const usdPerTb = PRICES.athenaTbScanned.usd / PRICES.athenaTbScanned.per;
  const perTb = (b: number) => (b / withLineage.fileBytes) * usdPerTb;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`orders file: ${(bytes / MB).toFixed(1)} MB, ${rows} rows (seed 42)`);
  console.log(
    `Parquet without lineage ${without.parquetBytes} B, with ${withLineage.parquetBytes} B: +${withLineage.parquetBytes - without.parquetBytes} B (${pct(withLineage.parquetBytes / without.parquetBytes - 1)})`,
  );
  for (const c of lineage) console.log(`  ${c}: ${withLineage.columnBytes[c] ?? 0} B`);
  console.log(
    `bytes read, SELECT order_id, amount: FROM orders ${table} B (${pct(table / withLineage.fileBytes)} of the file), FROM orders_latest ${latest} B (${pct(latest / withLineage.fileBytes)}), with a tie-break by every column ${wide} B (${pct(wide / withLineage.fileBytes)})`,
  );
  console.log(
    `Athena, per TB of such Parquet in the table ($${usdPerTb}/TB scanned, prices read on ${PRICES_READ_ON}): FROM orders $${perTb(table).toFixed(2)}, FROM orders_latest $${perTb(latest).toFixed(2)}, every-column tie-break $${perTb(wide).toFixed(2)} a query`,
  );
}

await main();
