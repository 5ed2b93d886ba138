/** The console API's `upload` route: a presigned POST into the landing bucket, for a declared dataset. */
import { S3Client } from '@aws-sdk/client-s3';
import { awsUploadPorts } from '../../lib/console/aws-ports.ts';
import { apiHandler, datasetsOnce, positiveInteger } from '../shared/api-handler.ts';
import { ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';

const env = readEnv(ENV.apiUpload);
const maxUploadBytes = positiveInteger(ENV.apiUpload.maxUploadBytes, env.maxUploadBytes);
const s3 = new S3Client({});
const datasets = datasetsOnce(env.datasetsDir);

/** API Gateway HTTP API (payload 2.0) → the core with the upload ports. */
export const handler = apiHandler(createLogger('api-upload'), async () => ({
  upload: awsUploadPorts({
    datasets: await datasets(),
    s3,
    landingBucket: env.landingBucket,
    maxUploadBytes,
  }),
}));
