import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/contract.ts';
import { readEnv } from '../../../lambdas/shared/env.ts';
import { createLogger } from '../../../lambdas/shared/logger.ts';

describe('readEnv', () => {
  it('returns every variable under its key', () => {
    // Prepare
    const env = {
      RAW_BUCKET: 'raw',
      FAILURE_BUCKET: 'failure',
      CURATED_BUCKET: 'curated',
      DATASETS_DIR: 'd',
      CONVERSION_SETTINGS: '{}',
    };

    // Act
    const values = readEnv(ENV.validate, env);

    // Assess
    expect(values).toEqual({
      rawBucket: 'raw',
      failureBucket: 'failure',
      curatedBucket: 'curated',
      datasetsDir: 'd',
      conversion: '{}',
    });
  });

  it('names every missing variable in one error, counting empty ones as missing', () => {
    // Prepare
    const env = { RAW_BUCKET: 'raw', FAILURE_BUCKET: '' };

    // Act
    const act = () => readEnv(ENV.validate, env);

    // Assess
    expect(act).toThrow(
      new Error(
        'missing environment variables: FAILURE_BUCKET, CURATED_BUCKET, DATASETS_DIR, CONVERSION_SETTINGS',
      ),
    );
  });
});

describe('createLogger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes JSON lines carrying the service name', () => {
    // Prepare
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = createLogger('validate');

    // Act
    logger.info('hello', { dataset: 'orders' });

    // Assess
    expect(write).toHaveBeenCalledTimes(1);
    const line = JSON.parse(String(write.mock.calls[0]![0]));
    expect(line).toMatchObject({ level: 'INFO', message: 'hello', service: 'validate', dataset: 'orders' });
  });
});
