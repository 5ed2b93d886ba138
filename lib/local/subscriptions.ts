/**
 * The local notifier's subscriptions: what `datalake subscribe` adds on a local lake, one JSON
 * line each in `subscriptions.jsonl` (SNS's subscriptions with their filter policies, locally), and
 * their delivery: every message whose attributes pass a subscription's filter policy is appended
 * to that endpoint's outbox file, and POSTed to an `https://` endpoint.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FilterPolicy, matchesFilterPolicy } from '../aws/subscribe.ts';
import type { LakePaths } from './lake-folder.ts';

/** One line of `subscriptions.jsonl`. */
export interface LocalSubscription {
  readonly endpoint: string;
  readonly protocol: 'email' | 'https' | 'sqs';
  readonly filterPolicy: FilterPolicy;
  /** When it was added (ISO 8601). */
  readonly at: string;
}

/** One line of an outbox file: a message as the endpoint would receive it. */
export interface OutboxEntry {
  readonly at: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly message: unknown;
}

/** How long a POST to an `https://` subscriber may take: the workflow does not wait on a slow one. */
const POST_TIMEOUT_MS = 3_000;

/**
 * Adds a subscription (appends its line); returns it as written. The same endpoint, protocol and
 * filter policy again is the subscription there is, as SNS answers it, not a second one that would
 * deliver every event twice.
 */
export async function addSubscription(
  paths: LakePaths,
  subscription: Omit<LocalSubscription, 'at'>,
): Promise<LocalSubscription> {
  const same = (s: LocalSubscription) =>
    s.endpoint === subscription.endpoint &&
    s.protocol === subscription.protocol &&
    JSON.stringify(s.filterPolicy) === JSON.stringify(subscription.filterPolicy);
  const existing = (await readSubscriptions(paths)).find(same);
  if (existing) return existing;
  const line: LocalSubscription = { ...subscription, at: new Date().toISOString() };
  await mkdir(paths.root, { recursive: true });
  await appendFile(paths.subscriptions, `${JSON.stringify(line)}\n`);
  return line;
}

/** The lake's subscriptions, in the order they were added (none when the file is absent). */
export async function readSubscriptions(paths: LakePaths): Promise<LocalSubscription[]> {
  const text = await readFile(paths.subscriptions, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  // A line cut short by a crash while it was appended is skipped, not fatal to every delivery.
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as LocalSubscription];
    } catch {
      return [];
    }
  });
}

/**
 * The outbox file of an endpoint: `<lake>/outbox/<name>.jsonl`, the name the endpoint with every
 * character a file name may not safely hold replaced by `_`, and a short hash of the endpoint so
 * that two endpoints that differ only there do not share a file.
 */
export function outboxFile(paths: LakePaths, endpoint: string): string {
  const safe = endpoint.replace(/[^A-Za-z0-9@._-]/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(endpoint).digest('hex').slice(0, 8);
  return join(paths.root, 'outbox', `${safe}-${hash}.jsonl`);
}

/**
 * Delivers one published message to every subscription whose filter policy its attributes pass:
 * appended to the endpoint's outbox file, and POSTed (as JSON) to an `https://` endpoint. A POST
 * that fails or times out is logged, not thrown: a subscriber never fails the workflow. Returns
 * the endpoints delivered to.
 */
export async function deliverToSubscribers(
  paths: LakePaths,
  message: unknown,
  attributes: Readonly<Record<string, string>>,
  options: { readonly log?: (line: string) => void } = {},
): Promise<string[]> {
  const matching = (await readSubscriptions(paths)).filter((s) =>
    matchesFilterPolicy(s.filterPolicy, attributes),
  );
  if (matching.length === 0) return [];
  const entry: OutboxEntry = { at: new Date().toISOString(), attributes, message };
  const line = `${JSON.stringify(entry)}\n`;
  await mkdir(join(paths.root, 'outbox'), { recursive: true });
  for (const subscription of matching) {
    await appendFile(outboxFile(paths, subscription.endpoint), line);
    if (subscription.protocol === 'https') await post(subscription.endpoint, line, options.log);
  }
  return matching.map((s) => s.endpoint);
}

/** POSTs one message; a failure is logged. */
async function post(
  endpoint: string,
  body: string,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    if (!response.ok) log?.(`subscriber ${endpoint} answered HTTP ${response.status}`);
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    log?.(`subscriber ${endpoint} unreachable: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  }
}
