/**
 * Deterministic generator of a realistic orders CSV matching `datasets/orders.json`: the same seed
 * gives the same bytes, so benchmark figures compare across runs and machines.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** A small, fast deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'Ann',
  'Bob',
  'Chloé',
  'Dmitri',
  'Eva',
  'Farah',
  'Gustav',
  'Hiro',
  'Inés',
  'José',
  'Kai',
  'Lena',
];
const LAST = [
  'Lee',
  "O'Brien",
  'Müller',
  'Smith',
  'García',
  'Nakamura',
  'Okafor',
  'Rossi',
  'Dubois',
  'Kowalski',
];
const COMPANIES = [
  'Acme Logistics GmbH',
  'Northwind Traders Ltd',
  'Globex Corporation',
  'Initech Software Solutions',
  'Umbrella Retail Group plc',
  'Stark Industrial Supplies',
  'Wayne Enterprises Europe',
  'Soylent Food Services',
];
const STREETS = ['Main Street', 'Rue de la Paix', 'Königsallee', 'Calle Mayor', 'High Street', 'Via Roma'];
const CITIES = [
  '10115 Berlin',
  '75002 Paris',
  '28013 Madrid',
  'SW1A 1AA London',
  '00184 Roma',
  '1012 Amsterdam',
];
const CURRENCIES = ['USD', 'EUR', 'GBP'];
export const ORDERS_HEADER =
  'order_id,Customer Name,sku,quantity,amount,currency,discount,gift,ordered_at,ship_date\n';

/** The rows `from` (inclusive) to `to` (exclusive) of the orders file with `seed`, as CSV text. */
export function orderRows(seed: number, from: number, to: number): string {
  const rand = prng(seed + from);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let out = '';
  for (let id = from + 1; id <= to; id++) {
    // A customer is a person at a company and an address: text with commas, quoted as a
    // spreadsheet export quotes it; a few carry doubled quotes.
    const nick = rand() < 0.05 ? ` ""${pick(FIRST)}""` : '';
    const customer = `"${pick(FIRST)}${nick} ${pick(LAST)}, ${pick(COMPANIES)}, ${1 + Math.floor(rand() * 300)} ${pick(STREETS)}, ${pick(CITIES)}"`;
    const sku = `${String.fromCharCode(65 + Math.floor(rand() * 26))}${String.fromCharCode(65 + Math.floor(rand() * 26))}X-${String(Math.floor(rand() * 100000)).padStart(5, '0')}`;
    const quantity = 1 + Math.floor(rand() * 20);
    const amount = (rand() * 100000).toFixed(2);
    const discount = rand() < 0.3 ? '' : (Math.floor(rand() * 50) / 100).toString();
    const gift = rand() < 0.5 ? 'true' : 'false';
    const t = Date.UTC(2024, 0, 1) + Math.floor(rand() * 365 * 86400) * 1000;
    const orderedAt = new Date(t).toISOString().replace('.000Z', 'Z');
    const ship = rand() < 0.2 ? '' : new Date(t + 2 * 86400000).toISOString().slice(0, 10);
    out += `${id},${customer},${sku},${quantity},${amount},${pick(CURRENCIES)},${discount},${gift},${orderedAt},${ship}\n`;
  }
  return out;
}

/** Writes an orders file of about `targetBytes` to `path`; returns its rows and bytes. */
export async function writeOrdersFile(
  path: string,
  targetBytes: number,
  seed = 42,
): Promise<{ rows: number; bytes: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let rows = 0;
  const block = 10_000;
  out.write(ORDERS_HEADER);
  bytes += ORDERS_HEADER.length;
  while (bytes < targetBytes) {
    const text = orderRows(seed, rows, rows + block);
    rows += block;
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { rows, bytes };
}
