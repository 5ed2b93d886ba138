/**
 * The cost model's results as one JSON document (`npm run cost -- --json`) and as the
 * "Cost and latency" section of BENCHMARKS.md (and the console table of `npm run cost`).
 */

import type { LakeConfig } from '../config.ts';
import {
  ASSUMPTIONS,
  type CostConfig,
  type DailyEstimate,
  daily,
  type Engine,
  estimateFile,
  type FileEstimate,
  inputsFor,
  type ModelInputs,
  type PathProfile,
  routedEngine,
} from './model.ts';
import { PRICE_REGION, PRICES, PRICES_READ_ON } from './prices.ts';

/** The file sizes `npm run cost` reports, with their labels. */
export const REPORT_SIZES: readonly { readonly label: string; readonly bytes: number }[] = [
  { label: '1 KB', bytes: 1e3 },
  { label: '1 MB', bytes: 1e6 },
  { label: '100 MB', bytes: 1e8 },
  { label: '1 GB', bytes: 1e9 },
  { label: '10 GB', bytes: 1e10 },
];

/** Files a day in the daily and monthly figures. */
export const FILES_PER_DAY = 1_000;

/** One file size: its estimate on each path the workflow has, and the path the router takes. */
export interface SizeResult {
  readonly label: string;
  readonly bytes: number;
  readonly routed: Engine;
  /** Absent when the synthesized workflow has no such path (e.g. no Convert Lambda). */
  readonly lambda?: FileEstimate & { readonly daily: DailyEstimate };
  readonly glue?: FileEstimate & { readonly daily: DailyEstimate };
}

/** The whole result, as `--json` prints it. */
export interface CostDocument {
  readonly region: string;
  readonly pricesReadOn: string;
  readonly fastPathMaxBytes: number;
  readonly filesPerDay: number;
  readonly profiles: Readonly<Partial<Record<Engine, PathProfile>>>;
  readonly prices: typeof PRICES;
  readonly assumptions: typeof ASSUMPTIONS;
  readonly functions: ModelInputs['functions'];
  readonly sizes: readonly SizeResult[];
}

/** Runs the model for every reported size on each recorded path. */
export function costDocument(
  profiles: Partial<Record<Engine, PathProfile>>,
  config: CostConfig & Pick<LakeConfig, 'convertArchitecture'>,
  inputs: ModelInputs = inputsFor(config),
): CostDocument {
  const on = (profile: PathProfile | undefined, bytes: number) => {
    if (!profile) return undefined;
    const file = estimateFile(bytes, profile, config, inputs);
    return { ...file, daily: daily(file, FILES_PER_DAY) };
  };
  const sizes = REPORT_SIZES.map(({ label, bytes }) => {
    const lambda = on(profiles.lambda, bytes);
    const glue = on(profiles.glue, bytes);
    return {
      label,
      bytes,
      routed: routedEngine(bytes, config),
      ...(lambda ? { lambda } : {}),
      ...(glue ? { glue } : {}),
    };
  });
  return {
    region: PRICE_REGION,
    pricesReadOn: PRICES_READ_ON,
    fastPathMaxBytes: config.fastPathMaxBytes,
    filesPerDay: FILES_PER_DAY,
    profiles,
    prices: PRICES,
    assumptions: ASSUMPTIONS,
    functions: inputs.functions,
    sizes,
  };
}

/** Dollars with enough digits to tell a fraction of a cent apart. */
export function usd(value: number): string {
  if (value === 0) return '$0';
  if (value >= 100) return `$${value.toFixed(0)}`;
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(2)}`;
}

/** Seconds as people read them. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function pathCells(estimate: (FileEstimate & { daily: DailyEstimate }) | undefined): string[] {
  if (!estimate) return ['—', '—', '—', '—'];
  const note = estimate.fits ? '' : ' (does not fit)';
  return [
    `${usd(estimate.ingestUsd)}${note}`,
    duration(estimate.seconds),
    usd(estimate.daily.usdPerDay),
    usd(estimate.daily.usdPerMonth),
  ];
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The result table: per size, each path's cost per file, drop → queryable, per day and per month. */
export function resultTable(doc: CostDocument): string {
  const n = doc.filesPerDay.toLocaleString('en-US');
  return table(
    [
      'file',
      'router',
      'Lambda path: per file',
      'drop → queryable',
      `${n} a day`,
      'a month',
      'Glue path: per file',
      'drop → queryable',
      `${n} a day`,
      'a month',
    ],
    doc.sizes.map((s) => [s.label, s.routed, ...pathCells(s.lambda), ...pathCells(s.glue)]),
  );
}

/** The "Cost and latency" section of BENCHMARKS.md. */
export function costSection(doc: CostDocument, writtenBy: string): string {
  const size = (label: string) => doc.sizes.find((s) => s.label === label);
  const callout = (label: string) => {
    const s = size(label);
    const lambda = s?.lambda ? usd(s.lambda.ingestUsd) : '—';
    const glue = s?.glue ? usd(s.glue.ingestUsd) : '—';
    return `${label}: ${lambda} on the Lambda path, ${glue} on the Glue path`;
  };
  const pathNote = (engine: Engine) => {
    const p = doc.profiles[engine];
    if (!p) return `- ${engine} path: not in the synthesized workflow, so not reported.`;
    const s3 = Object.entries(p.s3Commands)
      .map(([c, k]) => `${c} ${k}`)
      .join(', ');
    const how = `recorded on a ${p.profiledBytes}-byte file`;
    return `- ${engine} path, ${how}: ${p.states.length} states entered (${p.states.join(' → ')}); Lambda invocations ${p.lambdaInvocations.join(', ') || 'none'} (and Trigger); Glue runs ${p.glueRuns}; SNS publishes ${p.snsPublishes}; S3 commands ${s3}.`;
  };
  const breakdown = (label: string, engine: Engine) => {
    const e = size(label)?.[engine];
    if (!e) return '';
    return `\n**${label} on the ${engine} path** (${usd(e.ingestUsd)} a file; storage ${usd(e.storageUsdPerMonth)} a month; one one-column Athena query ${usd(e.queryUsd)}; drop → queryable ${duration(e.seconds)}: ${e.timeline.map((t) => `${t.step} ${t.seconds.toFixed(2)} s`).join(', ')})\n\n${table(
      ['item', 'quantity', 'unit', 'dollars'],
      e.lines.map((l) => [l.item, l.quantity.toPrecision(3), l.unit, usd(l.usd)]),
    )}\n`;
  };
  return [
    `Written by ${writtenBy} (bench/cost.ts, lib/cost/) on ${new Date().toISOString()}: a model, not a bill. Prices: ${doc.region}, read on ${doc.pricesReadOn}, on-demand, no free tier. The states, Lambda invocations, Glue runs, SNS publishes, ledger writes and S3 commands of each path are recorded from one run of the local runtime executing the synthesized workflow; the rest is the inputs below.`,
    '',
    `Cost per file, ingest only (Lambda, Step Functions, Glue, S3 requests, Glue Data Catalog, SNS, KMS, CloudWatch Logs, the DynamoDB ledger): ${callout('1 KB')}; ${callout('100 MB')}. The router sends files up to fastPathMaxBytes (${doc.fastPathMaxBytes.toLocaleString('en-US')} bytes, the default) to the Lambda path.`,
    '',
    resultTable(doc),
    '',
    `- The ingest ledger (DynamoDB, on demand) costs a file its writes and their states: RECEIVED, VALIDATED and CURATED (or REJECTED) are three UpdateItem Task states, three more state transitions and about 12 write request units (the item and its two indexes), ${usd((3 * PRICES.stepFunctionsTransitions.usd) / PRICES.stepFunctionsTransitions.per + (12 * PRICES.dynamodbWriteRequestUnits.usd) / PRICES.dynamodbWriteRequestUnits.per)} a file, nearly all of it the transitions. Its storage (about 1 KB an item, three times with the indexes: some 90 MB for a month of files at 1,000 a day, kept for good) and its point-in-time recovery, billed per GB-month, come to a few cents a month for each month of files kept; they are not modelled. Reading it is the hourly reconciler's GetItem of each landed version (eventually consistent, half a read unit): at 1,000 files a day kept 30 days in landing, 30,000 reads a sweep, ${usd((30_000 * 24 * 30 * 0.5 * PRICES.dynamodbReadRequestUnits.usd) / PRICES.dynamodbReadRequestUnits.per)} a month, where the DescribeExecution it replaces for ended files cost nothing (Step Functions bills transitions, not API calls) but is throttled and forgets executions after 90 days.`,
    `- A month is 30 days of ingest plus a month of S3 Standard storage for those files (landing for its expiry, raw and curated kept); storage keeps adding to every later month. "does not fit": the Lambda path cannot take the file (15 minutes or /tmp); the router's threshold keeps such files on Glue.`,
    pathNote('lambda'),
    pathNote('glue'),
    breakdown('1 KB', 'lambda'),
    breakdown('1 KB', 'glue'),
    breakdown('100 MB', 'lambda'),
    breakdown('100 MB', 'glue'),
    '',
    '### Prices',
    '',
    table(
      ['price', 'dollars', 'per', 'source', 'verified'],
      Object.entries(doc.prices).map(([name, p]) => [
        name,
        String(p.usd),
        `${p.per.toLocaleString('en-US')} ${p.unit}`,
        `${p.source}${'note' in p && p.note ? ` (${p.note})` : ''}`,
        p.verified ? 'yes' : 'not verified here',
      ]),
    ),
    '',
    '### Throughputs and assumptions',
    '',
    table(
      ['figure', 'value', 'from'],
      [
        ...Object.entries(doc.functions).map(([id, f]) => [
          `Lambda ${id}`,
          `${f.memoryMb} MB ${f.architecture}${f.mbPerSecond ? `, ${f.mbPerSecond} MB/s` : ''}, ${f.fixedSeconds} s fixed`,
          f.source,
        ]),
        ...doc.assumptions.map((a) => [a.figure, a.value, a.why]),
      ],
    ),
  ].join('\n');
}
