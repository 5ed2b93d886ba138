/** The console API's `read` routes (datasets, files, a file, its errors): the ledger and the failure zone, read-only. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { awsReadPorts } from '../../lib/console/aws-ports.ts';
import { apiHandler, datasetsOnce } from '../shared/api-handler.ts';
import { ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';

const env = readEnv(ENV.apiRead);
const s3 = new S3Client({});
const dynamodb = new DynamoDBClient({});
const datasets = datasetsOnce(env.datasetsDir);

/** API Gateway HTTP API (payload 2.0) → the core with the read ports. */
export const handler = apiHandler(createLogger('api-read'), async () => ({
  read: awsReadPorts({ datasets: await datasets(), dynamodb, ledgerTable: env.ledgerTable, s3 }),
}));
