/**
 * The console API's ports on AWS: the ledger table, the failure zone, the landing bucket's
 * presigned POST and Athena. Clients are the caller's (the handlers create them at module scope).
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { athenaQueryCost, columnNames, endedReason, rowObject } from '../aws/athena.ts';
import type { Dataset } from '../datasets/model.ts';
import { dynamoLedgerReader } from '../ledger/dynamodb-reader.ts';
import type { QueryPorts, ReadPorts, UploadPorts } from './api.ts';
import type { QueryState } from './contract.ts';

/** What every route group with declarations and S3 is built from. */
interface DatasetsAndS3 {
  readonly datasets: ReadonlyMap<string, Dataset>;
  readonly s3: S3Client;
}

/** The read routes' ports: the ledger table and the zones' objects. */
export function awsReadPorts(
  options: DatasetsAndS3 & { readonly dynamodb: DynamoDBClient; readonly ledgerTable: string },
): ReadPorts {
  return {
    datasets: options.datasets,
    ledger: dynamoLedgerReader(options.dynamodb, options.ledgerTable),
    s3: options.s3,
  };
}

/** A signer of presigned POSTs into `bucket` (the landing bucket), with the core's fields and conditions. */
export function presignPost(s3: S3Client, bucket: string): UploadPorts['presign'] {
  return ({ key, fields, conditions, expiresSeconds }) =>
    createPresignedPost(s3, {
      Bucket: bucket,
      Key: key,
      Fields: { ...fields },
      // The signer adds the bucket, the exact key and the fields' own conditions.
      Conditions: conditions as Parameters<typeof createPresignedPost>[1]['Conditions'],
      Expires: expiresSeconds,
    });
}

/** The upload route's ports on AWS. */
export function awsUploadPorts(
  options: DatasetsAndS3 & { readonly landingBucket: string; readonly maxUploadBytes: number },
): UploadPorts {
  return {
    datasets: options.datasets,
    maxUploadBytes: options.maxUploadBytes,
    presign: presignPost(options.s3, options.landingBucket),
  };
}

/** GetQueryResults answers at most this many rows a call. */
const ATHENA_PAGE_ROWS = 1_000;

/**
 * The query routes on Athena: StartQueryExecution in the workgroup (which enforces the results
 * location and the scan cap), then GetQueryExecution and one GetQueryResults per page.
 */
export function athenaQueryPorts(
  athena: AthenaClient,
  options: { readonly workgroup: string; readonly database: string; readonly maxRows: number },
): QueryPorts {
  return {
    maxRows: options.maxRows,
    async start(sql) {
      const started = await athena.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: options.workgroup,
          QueryExecutionContext: { Database: options.database },
        }),
      );
      if (!started.QueryExecutionId)
        throw new Error('athena answered StartQueryExecution without a query id');
      return { id: started.QueryExecutionId, state: 'QUEUED' };
    },

    async page(id, cursor, rows) {
      let execution: Awaited<ReturnType<typeof getExecution>>;
      try {
        execution = await getExecution(athena, id);
      } catch (error) {
        // An id Athena does not know (or not in this account): not found, as locally.
        if ((error as Error).name === 'InvalidRequestException') return undefined;
        throw error;
      }
      const state = (execution?.Status?.State ?? 'QUEUED') as QueryState;
      if (state === 'FAILED' || state === 'CANCELLED')
        return { id, state, message: endedReason(execution!).replace(/\s+/g, ' ') };
      if (state !== 'SUCCEEDED') return { id, state };
      const scannedBytes = execution?.Statistics?.DataScannedInBytes ?? 0;
      const wanted = Math.min(rows, options.maxRows - cursor.offset);
      const first = cursor.token === undefined;
      const results = await athena.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          // The first page starts with the header row.
          MaxResults: Math.min(ATHENA_PAGE_ROWS, Math.max(1, wanted) + (first ? 1 : 0)),
          ...(first ? {} : { NextToken: cursor.token }),
        }),
      );
      const columns = results.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const names = columnNames(columns);
      const data = (results.ResultSet?.Rows ?? []).slice(
        first ? 1 : 0,
        (first ? 1 : 0) + Math.max(0, wanted),
      );
      const offset = cursor.offset + data.length;
      const more = results.NextToken !== undefined;
      return {
        id,
        state,
        columns: names,
        rows: data.map((row) => rowObject(columns, names, row)),
        ...(more && offset < options.maxRows ? { next: { offset, token: results.NextToken! } } : {}),
        ...(more && offset >= options.maxRows ? { truncated: true } : {}),
        scannedBytes,
        costUsd: athenaQueryCost(scannedBytes),
      };
    },
  };
}

async function getExecution(athena: AthenaClient, id: string) {
  const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
  return QueryExecution;
}
