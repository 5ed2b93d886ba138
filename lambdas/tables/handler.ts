/**
 * The IcebergTables custom resource's function (behind a CDK Provider): makes every declared
 * dataset's Iceberg table exist in the Glue Data Catalog; see core.ts.
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { glueTableCatalog } from '../../lib/iceberg/glue-catalog.ts';
import { s3ObjectStore } from '../../lib/iceberg/s3-store.ts';
import { ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';
import { handleTables, type TablesProperties } from './core.ts';

const env = readEnv(ENV.tables);
const logger = createLogger('tables');
const iceberg = { store: s3ObjectStore(new S3Client({})), catalog: glueTableCatalog(new GlueClient({})) };

/** The Provider framework's onEvent: its answer's PhysicalResourceId and Data go to CloudFormation. */
export async function handler(
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> {
  const { ServiceToken: _token, ...properties } = event.ResourceProperties;
  const out = await handleTables(
    {
      requestType: event.RequestType,
      ...('PhysicalResourceId' in event ? { physicalResourceId: event.PhysicalResourceId } : {}),
      properties: properties as unknown as TablesProperties,
    },
    // A Delete reads no declarations: a stack whose declarations were broken can still go.
    {
      iceberg,
      datasets: event.RequestType === 'Delete' ? new Map() : await loadDatasets(env.datasetsDir),
      log: logger,
    },
  );
  return {
    PhysicalResourceId: out.physicalResourceId,
    // Data values are strings; small (CloudFormation caps a response at 4 KB).
    Data: {
      Created: out.created.join(','),
      Evolved: out.evolved.join(','),
      Existing: out.existing.join(','),
    },
  };
}
