#!/usr/bin/env node
/** The CDK app: configuration → datasets → StorageStack + PipelineStack, checked by cdk-nag. */
import { resolve } from 'node:path';
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../lib/config.ts';
import { loadDatasets } from '../lib/datasets/load.ts';
import { buildLake } from '../lib/lake.ts';

const app = new App();
const config = parseConfig((key) => app.node.tryGetContext(key));
const datasetsDir = resolve(config.datasetsDir);
const datasets = [...(await loadDatasets(datasetsDir)).values()];
buildLake(app, { config, datasets, datasetsDir });
Tags.of(app).add('project', `${config.prefix}-${config.stage}`);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
