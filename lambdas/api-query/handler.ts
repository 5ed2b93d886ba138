/** The console API's `query` routes: one read-only SELECT in the lake's Athena workgroup, its results paged. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { athenaQueryPorts } from '../../lib/console/aws-ports.ts';
import { apiHandler, positiveInteger } from '../shared/api-handler.ts';
import { ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';

const env = readEnv(ENV.apiQuery);
const query = athenaQueryPorts(new AthenaClient({}), {
  workgroup: env.workgroup,
  database: env.database,
  maxRows: positiveInteger(ENV.apiQuery.maxRows, env.maxRows),
});

/** API Gateway HTTP API (payload 2.0) → the core with the query ports. */
export const handler = apiHandler(createLogger('api-query'), async () => ({ query }));
