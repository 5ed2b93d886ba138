/** The Validate task Lambda: validates a landed file and files it in the raw or failure zone. */
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { parseConversionSettings } from '../../lib/conversion/plan.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import {
  ENV,
  type SliceProgress,
  type ValidateTaskInput,
  type ValidateTaskOutput,
} from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';
import { validateIngest } from './core.ts';
import { s3Store } from './s3-store.ts';

const env = readEnv(ENV.validate);
const store = s3Store(new S3Client({}));
const logger = createLogger('validate');
const buckets = {
  rawBucket: env.rawBucket,
  failureBucket: env.failureBucket,
  curatedBucket: env.curatedBucket,
};
const conversion = parseConversionSettings(env.conversion, ENV.validate.conversion);

let datasets: Promise<Map<string, Dataset>> | undefined;

/** The dataset declarations, read once per container on first use. */
function loadDatasetsOnce(): Promise<Map<string, Dataset>> {
  datasets ??= loadDatasets(env.datasetsDir).catch((error: unknown) => {
    // Do not cache a failure: the next invocation tries again rather than failing for the container's life.
    datasets = undefined;
    throw error;
  });
  return datasets;
}

/**
 * Validates the requested object version (or, on the large-file route, its next slice) and copies
 * it to the raw or the failure zone.
 */
export async function handler(
  input: ValidateTaskInput,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<ValidateTaskOutput | SliceProgress> {
  logger.appendKeys({ executionName: input.executionName });
  return validateIngest(input, {
    store,
    datasets: await loadDatasetsOnce(),
    buckets,
    log: logger,
    conversion,
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
}
