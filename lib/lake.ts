/** Builds the lake's two stacks into an app; shared by bin/app.ts and the infrastructure tests. */
import { resolve } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { type LakeConfig, parseConfig } from './config.ts';
import { guardDatasetChanges } from './datasets/baseline.ts';
import { loadDatasets } from './datasets/load.ts';
import type { Dataset } from './datasets/model.ts';
import { zoneBucketNames } from './naming.ts';
import { ConsoleStack } from './stacks/console-stack.ts';
import { PipelineStack } from './stacks/pipeline-stack.ts';
import { StorageStack } from './stacks/storage-stack.ts';

/** What the lake is built from. */
export interface LakeInputs {
  readonly config: LakeConfig;
  readonly datasets: readonly Dataset[];
  /** Absolute path of the dataset declarations folder. */
  readonly datasetsDir: string;
}

/**
 * The StorageStack (stateful) and the PipelineStack (stateless) wired together, and the
 * ConsoleStack when `console` is on (`console` is then undefined otherwise).
 */
export function buildLake(app: App, { config, datasets, datasetsDir }: LakeInputs) {
  const base = `${config.prefix}-${config.stage}`;
  // A plain name, not the database's token: the pipeline then needs no export for it.
  const databaseName = base.replace(/-/g, '_');
  const storage = new StorageStack(app, `${base}-storage`, {
    description: 'CSV data lake: buckets, key, topics and Glue catalog (stateful, retained)',
    config,
    datasets,
    datasetsDir,
    databaseName,
  });
  const { buckets, notifications } = storage;
  const pipeline = new PipelineStack(app, `${base}-pipeline`, {
    description: 'CSV data lake: trigger, validation, workflow, Glue job, Athena workgroup, alarms',
    config,
    datasets,
    datasetsDir,
    key: buckets.key,
    bucketNames: zoneBucketNames(config.prefix, config.stage),
    events: notifications.events,
    alarms: notifications.alarms,
    databaseName,
    storageStackName: storage.stackName,
  });
  // The pipeline commits to the tables the storage stack creates.
  pipeline.addStackDependency(storage);
  if (!config.console) return { storage, pipeline, console: undefined };
  const consoleStack = new ConsoleStack(app, `${base}-console`, {
    description: 'CSV data lake: web console (sign-in, HTTP API, static site behind CloudFront)',
    config,
    datasets,
    datasetsDir,
    key: buckets.key,
    bucketNames: zoneBucketNames(config.prefix, config.stage),
    databaseName,
    // The pipeline's QueryWorkgroup is named so: a plain name, no export.
    workgroupName: base,
  });
  // The ledger, buckets and key come from storage; the workgroup from the pipeline.
  consoleStack.addStackDependency(storage);
  consoleStack.addStackDependency(pipeline);
  return { storage, pipeline, console: consoleStack };
}

/**
 * The whole app as `cdk synth` builds it: the configuration from the app's context, the dataset
 * declarations, the compatibility guard against `datasetsBaseline` (a breaking change that is not
 * a new version throws before any stack exists), then the lake. `warn` gets the guard's warning.
 */
export async function buildLakeApp(app: App, warn: (message: string) => void) {
  const config = parseConfig((key) => app.node.tryGetContext(key));
  const datasetsDir = resolve(config.datasetsDir);
  const declared = await loadDatasets(datasetsDir);
  await guardDatasetChanges({
    datasets: declared,
    datasetsDir,
    warn,
    ...(config.datasetsBaseline === undefined ? {} : { baseline: config.datasetsBaseline }),
  });
  const datasets = [...declared.values()];
  return { config, datasets, ...buildLake(app, { config, datasets, datasetsDir }) };
}
