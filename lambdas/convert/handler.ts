/** The ConvertInLambda task Lambda: converts a valid file to Parquet with DuckDB, the Glue job's contract. */
import { tmpdir } from 'node:os';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { type ConvertTaskInput, type ConvertTaskOutput, ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';
import { convertInLambda } from './core.ts';

const env = readEnv(ENV.convert);

/** A size in MB from the environment; a wrong one fails the cold start, naming the variable. */
function megabytes(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

const limits = {
  memoryMb: megabytes(env.memoryMb, ENV.convert.memoryMb),
  ephemeralMb: megabytes(env.ephemeralMb, ENV.convert.ephemeralMb),
};
const s3 = new S3Client({});
const logger = createLogger('convert');

/** Converts the file named by the job arguments; out of memory, disk or time, throws `ResourceLimitError`. */
export async function handler(
  input: ConvertTaskInput,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
): Promise<ConvertTaskOutput> {
  logger.appendKeys({ runId: input.arguments['--run-id'] });
  return convertInLambda(input, {
    s3,
    workDir: tmpdir(),
    limits,
    remainingMs: () => context.getRemainingTimeInMillis(),
    id: context.awsRequestId,
    log: logger,
  });
}
