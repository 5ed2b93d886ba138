#!/usr/bin/env node
/** The CDK app: configuration → datasets (checked against their baseline) → StorageStack + PipelineStack, checked by cdk-nag. */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildLakeApp } from '../lib/lake.ts';

const app = new App();
// A declaration change the tables cannot follow stops here (context datasetsBaseline, README).
const { config } = await buildLakeApp(app, (message) => process.stderr.write(`${message}\n`));
Tags.of(app).add('project', `${config.prefix}-${config.stage}`);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
