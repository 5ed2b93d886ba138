import { describe, expect, it } from 'vitest';
import { DEFAULT_FAST_PATH_MAX_BYTES, parseConfig } from '../../lib/config.ts';
import {
  type ConversionSettings,
  conversionSettings,
  parseConversionSettings,
  planConversion,
} from '../../lib/conversion/plan.ts';

const SETTINGS: ConversionSettings = {
  mode: 'auto',
  fastPathMaxBytes: 1000,
  glue: { workerType: 'G.1X', maxWorkers: 10, maxTimeoutMinutes: 60 },
};

describe('planConversion', () => {
  it('sends a file up to fastPathMaxBytes to the Lambda and a byte more to Glue', () => {
    expect(
      planConversion({ bytes: 1000, csvBytes: 1000, compressed: false, recordSpansLines: false }, SETTINGS)
        .engine,
    ).toBe('lambda');
    expect(
      planConversion({ bytes: 1001, csvBytes: 1001, compressed: false, recordSpansLines: false }, SETTINGS)
        .engine,
    ).toBe('glue');
    expect(
      planConversion({ bytes: 0, csvBytes: 0, compressed: false, recordSpansLines: false }, SETTINGS).engine,
    ).toBe('lambda');
  });

  it('routes a gzip file by its inflated size, not by its stored one', () => {
    const gzip = (csvBytes: number) =>
      planConversion({ bytes: 10, csvBytes, compressed: true, recordSpansLines: false }, SETTINGS).engine;
    expect([gzip(1000), gzip(1001)]).toEqual(['lambda', 'glue']);
  });

  it('sends every file to Glue in glue mode', () => {
    expect(
      planConversion(
        { bytes: 1, csvBytes: 1, compressed: false, recordSpansLines: false },
        { ...SETTINGS, mode: 'glue' },
      ).engine,
    ).toBe('glue');
  });

  it("carries the Glue run's size from the Glue sizing", () => {
    const plan = planConversion(
      { bytes: 5000, csvBytes: 5000, compressed: false, recordSpansLines: false },
      SETTINGS,
    );
    expect(plan.glueWorkers).toBeGreaterThanOrEqual(2);
    expect(plan.glueWorkers).toBeLessThanOrEqual(10);
    expect(plan.glueTimeoutMinutes).toBeGreaterThanOrEqual(1);
    expect(plan.glueTimeoutMinutes).toBeLessThanOrEqual(60);
  });
});

describe('conversion settings', () => {
  it('come from the configuration', () => {
    const config = parseConfig(
      (key) => ({ conversion: 'glue', glueWorkers: 7, glueTimeoutMinutes: 30 })[key],
    );
    expect(conversionSettings(config)).toEqual({
      mode: 'glue',
      fastPathMaxBytes: DEFAULT_FAST_PATH_MAX_BYTES,
      glue: { workerType: 'G.1X', maxWorkers: 7, maxTimeoutMinutes: 30 },
    });
  });

  it('travel as JSON through the environment and back', () => {
    expect(parseConversionSettings(JSON.stringify(SETTINGS), 'CONVERSION_SETTINGS')).toEqual(SETTINGS);
  });

  it('name the variable and the bad field when they are wrong', () => {
    expect(() => parseConversionSettings('{', 'CONVERSION_SETTINGS')).toThrow(
      'CONVERSION_SETTINGS is not JSON: "{"',
    );
    expect(() =>
      parseConversionSettings(JSON.stringify({ ...SETTINGS, mode: 'spark' }), 'CONVERSION_SETTINGS'),
    ).toThrow(/CONVERSION_SETTINGS is not valid conversion settings: mode: /);
  });
});
