/**
 * The Convert Lambda's core: the DuckDB engine (lib/conversion/csv-to-parquet.ts) sized to the
 * function it runs in. DuckDB gets one thread per vCPU, a memory limit below the function's memory,
 * and its spill folder on /tmp under a cap; the run stops before the function's own timeout. A run
 * that runs out of any of them throws a `ResourceLimitError`, on which the workflow hands the file
 * to the Glue job; a bad file throws a `ConversionError` and fails as it would on Glue.
 */
import { availableParallelism } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { convertCsvToParquet, ResourceLimitError } from '../../lib/conversion/csv-to-parquet.ts';
import {
  duckdbSettings,
  type FunctionLimits,
  PUBLISH_RESERVE_MS,
  workBytes,
} from '../../lib/conversion/lambda-sizing.ts';
import type { ConvertTaskInput, ConvertTaskOutput } from '../shared/contract.ts';
import type { Log } from '../shared/logger.ts';

/** What the core needs from its surroundings. */
export interface ConvertDeps {
  readonly s3: S3Client;
  /** /tmp on Lambda. */
  readonly workDir: string;
  readonly limits: FunctionLimits;
  /** Milliseconds the invocation has left (Lambda's context); no deadline when unset. */
  readonly remainingMs?: () => number;
  /** The run's id in the output (the Lambda request id). */
  readonly id: string;
  readonly log: Log;
}

/** Converts the file the Glue job would have converted; see the module doc for its limits. */
export async function convertInLambda(
  input: ConvertTaskInput,
  deps: ConvertDeps,
): Promise<ConvertTaskOutput> {
  const source = input.arguments['--source'];
  const deadline = deps.remainingMs ? Date.now() + deps.remainingMs() - PUBLISH_RESERVE_MS : undefined;
  try {
    if (deadline !== undefined && deadline <= Date.now())
      throw new ResourceLimitError('time', `less than ${PUBLISH_RESERVE_MS / 1000} s left at the start`);
    const result = await convertCsvToParquet(input.arguments, deps.s3, {
      workDir: deps.workDir,
      duckdb: duckdbSettings(deps.limits, availableParallelism()),
      maxWorkBytes: workBytes(deps.limits),
      ...(deadline === undefined ? {} : { deadline }),
    });
    deps.log.info('converted', {
      source,
      rows: result.rows,
      outputs: result.outputs,
      seconds: result.seconds,
    });
    return {
      id: deps.id,
      state: 'SUCCEEDED',
      seconds: result.seconds,
      engine: 'lambda',
      rows: result.rows,
      outputs: result.outputs,
    };
  } catch (error) {
    if (error instanceof ResourceLimitError)
      deps.log.warn('handing the file to the Glue job', { source, reason: error.message });
    throw error;
  }
}
