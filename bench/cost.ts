/**
 * `npm run cost`: the cost and drop → queryable time of a valid file on AWS, on each conversion
 * path, for 1 KB to 10 GB and for 1,000 files a day (lib/cost/). What each path does (states
 * entered, Lambda invocations, Glue runs, SNS publishes, S3 commands) is recorded here from one
 * small file run through the local runtime, which executes the synthesized workflow: once as the
 * app synthesizes it by default (`conversion: auto`), once with `conversion: glue`.
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
import { type Engine, type PathProfile, profileFromRun } from '../lib/cost/model.ts';
import { costDocument, costSection, resultTable } from '../lib/cost/report.ts';
import { DEFAULT_DATASETS_DIR, loadDatasets } from '../lib/datasets/load.ts';
import { LocalRuntime } from '../lib/local/runtime.ts';
import { synthesizeLocalDefinition } from '../lib/local/workflow.ts';
import { ORDERS_HEADER, orderRows } from '../lib/samples/orders-generator.ts';
import { writeSection } from './report-section.ts';

const SECTION = 'Cost and latency';

/**
 * Runs one small valid orders file through the local runtime on the workflow synthesized with
 * `context`, and records what the execution did. The path is what the execution took (a Glue
 * run or not), whatever was asked for.
 */
export async function recordProfile(context: Readonly<Record<string, unknown>>): Promise<PathProfile> {
  const datasets = await loadDatasets(DEFAULT_DATASETS_DIR);
  const definition = await synthesizeLocalDefinition([...datasets.values()], DEFAULT_DATASETS_DIR, context);
  const lakeDir = await mkdtemp(join(tmpdir(), 'datalake-cost-'));
  const commands: string[] = [];
  const runtime = await LocalRuntime.start({
    lakeDir,
    definition,
    // The handlers' commands only: the producer's PUT into landing is not the pipeline's.
    trace: { s3: (c) => (c.state === undefined ? undefined : commands.push(c.command)) },
  });
  try {
    const body = ORDERS_HEADER + orderRows(7, 0, 6);
    const record = await runtime.land('orders/cost-profile.csv', body);
    if (record.status !== 'SUCCEEDED' || record.outcome !== 'curated')
      throw new Error(
        `the profile file did not end curated (${record.status}, ${record.outcome ?? 'no outcome'}: ${record.error?.message ?? ''})`,
      );
    const glue = profileFromRun('glue', definition, record.states, commands, Buffer.byteLength(body));
    const engine: Engine = glue.glueRuns > 0 ? 'glue' : 'lambda';
    return { ...glue, engine };
  } finally {
    await runtime.close();
    await rm(lakeDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
  const config = parseConfig(() => undefined);
  const auto = await recordProfile({});
  const glue = await recordProfile({ conversion: 'glue' });
  // Until the workflow has a Convert Lambda, the default workflow converts with Glue too.
  const profiles: Partial<Record<Engine, PathProfile>> = { glue };
  if (auto.engine === 'lambda') profiles.lambda = auto;
  const doc = costDocument(profiles, config);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${resultTable(doc)}\n`);
  if (!profiles.lambda)
    process.stdout.write(
      '\nThe synthesized workflow converts every file with Glue (no Convert Lambda): the Lambda path is not reported.\n',
    );
  await writeSection(SECTION, costSection(doc, '`npm run cost`'));
  process.stdout.write(`\nwrote the "${SECTION}" section of BENCHMARKS.md\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
