/**
 * `npm run cost`: the cost and drop → queryable time of a valid file on AWS, on each conversion
 * path, for 1 KB to 10 GB and for 1,000 files a day (lib/cost/). What each path does (states
 * entered, Lambda invocations, Glue runs, SNS publishes, S3 commands) is recorded here from one
 * small file run through the local runtime, which executes the synthesized workflow: once as the
 * app synthesizes it by default (`conversion: auto`), once with `conversion: glue`. While the
 * workflow has no Convert Lambda, the Lambda path is projected from the Glue run (and says so).
 *
 * Prints the table and writes the "Cost and latency" section of BENCHMARKS.md;
 * `--json` prints one JSON document instead (and writes nothing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig } from '../lib/config.ts';
import { STATE } from '../lib/constructs/ingest-workflow.ts';
import { type Engine, type PathProfile, profileFromRun } from '../lib/cost/model.ts';
import { costDocument, costSection, resultTable } from '../lib/cost/report.ts';
import { DEFAULT_DATASETS_DIR, loadDatasets } from '../lib/datasets/load.ts';
import { LocalRuntime } from '../lib/local/runtime.ts';
import { type AslDefinition, synthesizeLocalDefinition } from '../lib/local/workflow.ts';
import { ORDERS_HEADER, orderRows } from '../lib/samples/orders-generator.ts';
import { writeSection } from './report-section.ts';

const SECTION = 'Cost and latency';

/** One small valid file's execution: the definition it ran, the states it entered, its S3 commands. */
export interface RecordedRun {
  readonly definition: AslDefinition;
  readonly states: readonly string[];
  readonly s3Commands: readonly string[];
  readonly bytes: number;
}

/**
 * Runs one small valid orders file through the local runtime on the workflow synthesized with
 * `context`, and records what the execution did.
 */
export async function recordRun(context: Readonly<Record<string, unknown>>): Promise<RecordedRun> {
  const datasets = await loadDatasets(DEFAULT_DATASETS_DIR);
  const definition = await synthesizeLocalDefinition([...datasets.values()], DEFAULT_DATASETS_DIR, context);
  const lakeDir = await mkdtemp(join(tmpdir(), 'datalake-cost-'));
  const s3Commands: string[] = [];
  const runtime = await LocalRuntime.start({
    lakeDir,
    definition,
    // The handlers' commands only: the producer's PUT into landing is not the pipeline's.
    // The commit's requests are modelled per batch (lib/cost/model.ts CommitModel): a lone local
    // commit's would be counted twice.
    trace: {
      s3: (c) => (c.state === undefined || c.state === STATE.commit ? undefined : s3Commands.push(c.command)),
    },
  });
  try {
    const body = ORDERS_HEADER + orderRows(7, 0, 6);
    const record = await runtime.land('orders/cost-profile.csv', body);
    if (record.status !== 'SUCCEEDED' || record.outcome !== 'curated')
      throw new Error(
        `the profile file did not end curated (${record.status}, ${record.outcome ?? 'no outcome'}: ${record.error?.message ?? ''})`,
      );
    return { definition, states: record.states, s3Commands, bytes: Buffer.byteLength(body) };
  } finally {
    await runtime.close();
    await rm(lakeDir, { recursive: true, force: true });
  }
}

/** The profile of a recorded run: the Glue path if it started a Glue run, else the Lambda path. */
export function profileOf(run: RecordedRun): PathProfile {
  const profile = profileFromRun('glue', run.definition, run.states, run.s3Commands, run.bytes);
  return profile.glueRuns > 0 ? profile : { ...profile, engine: 'lambda' };
}

/**
 * Each path's profile: the Glue path from a run with `conversion: glue`, the Lambda path from a
 * run with the defaults, which must have taken it (a router that sent the small file elsewhere is
 * a broken router, not a cost).
 */
export async function recordProfiles(): Promise<Record<Engine, PathProfile>> {
  const glue = profileOf(await recordRun({ conversion: 'glue' }));
  const lambda = profileOf(await recordRun({}));
  if (lambda.engine !== 'lambda')
    throw new Error(`the default run did not convert in the Convert Lambda: ${lambda.states.join(' → ')}`);
  return { lambda, glue };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
  const config = parseConfig(() => undefined);
  const profiles = await recordProfiles();
  const doc = costDocument(profiles, config);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${resultTable(doc)}\n`);
  await writeSection(SECTION, costSection(doc, '`npm run cost`'));
  process.stdout.write(`\nwrote the "${SECTION}" section of BENCHMARKS.md\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
