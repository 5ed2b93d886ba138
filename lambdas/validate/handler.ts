/** The Validate task Lambda: validates a landed file and files it in the raw or failure zone. */
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { parseConversionSettings } from '../../lib/conversion/plan.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import type { Dataset } from '../../lib/datasets/model.ts';
import { bundleEntry, openLocalSource, serveRanges } from '../../lib/validation/parallel.ts';
import {
  ENV,
  type SliceProgress,
  type ValidateTaskInput,
  type ValidateTaskOutput,
} from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';
import { lambdaVcpus } from '../shared/vcpus.ts';
import { type ObjectSpec, objectSource, validateIngest } from './core.ts';
import { s3Store } from './s3-store.ts';

const env = readEnv(ENV.validate);
const store = s3Store(new S3Client({}));

// This bundle is also the worker entry of a parallel validation: started as a worker thread, it
// validates the ranges it is sent, each a ranged GET of the same object version, with its own client.
serveRanges((spec, chunkBytes) =>
  spec.kind === 'object'
    ? objectSource(store, (spec as ObjectSpec).request)
    : openLocalSource(spec, chunkBytes),
);
/** One thread per vCPU the function's memory buys (Lambda sets the variable; 1 elsewhere). */
const parallel = {
  threads: lambdaVcpus(Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 0)),
  workerEntry: bundleEntry(import.meta.url),
};
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
    parallel,
    conversion,
    ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  });
}
