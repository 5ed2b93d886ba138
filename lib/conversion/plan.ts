/**
 * The conversion router's decision for one valid file: which engine converts it (the Convert
 * Lambda running DuckDB, or the Glue job) and, for Glue, the run's workers and timeout. Pure: the
 * Validate core computes it from the file's size and the settings the stack passes in its
 * environment; the workflow's ChooseConversion state reads `engine`.
 */
import * as z from 'zod';
import type { LakeConfig } from '../config.ts';
import { GLUE_WORKER_DPU, type GlueSizingLimits, glueRunSize } from './glue-sizing.ts';

/** Which engine converts a file. */
export type ConversionEngine = 'lambda' | 'glue';

/** The router's decision, carried in the Validate output as `conversion`. */
export interface ConversionPlan {
  readonly engine: ConversionEngine;
  /** Workers of the Glue run, should the file go to Glue (up front or handed off by the Lambda). */
  readonly glueWorkers: number;
  /** Timeout of the Glue run, minutes. */
  readonly glueTimeoutMinutes: number;
}

/** What the router needs from the configuration; the Validate Lambda gets it as one JSON variable. */
export interface ConversionSettings {
  /** `auto`: files up to `fastPathMaxBytes` go to the Lambda; `glue`: every file goes to Glue. */
  readonly mode: LakeConfig['conversion'];
  readonly fastPathMaxBytes: number;
  readonly glue: GlueSizingLimits;
}

/** What the validator found that sizes the conversion. */
export interface ConvertedFile {
  /** Bytes as stored (compressed for gzip). */
  readonly bytes: number;
  /**
   * Bytes of CSV, inflated for gzip: what the engines' time and /tmp grow with. The validator
   * inflates every gzip file it checks, so this is a count, not an estimate.
   */
  readonly csvBytes: number;
  /** The object is gzip. */
  readonly compressed: boolean;
  /** A quoted value holds a line break: Spark reads the file whole (multiLine), in one task. */
  readonly recordSpansLines: boolean;
}

/**
 * Routes one valid file. Glue's run is sized even when the Lambda takes the file, since a Lambda
 * that runs out of memory, disk or time hands it to Glue. Spark splits neither a file read whole
 * (multiLine) nor a gzip stream: one task reads either, which glueRunSize sizes apart.
 */
export function planConversion(file: ConvertedFile, settings: ConversionSettings): ConversionPlan {
  const { csvBytes } = file;
  const glue = glueRunSize(csvBytes, settings.glue, {
    splittable: !file.recordSpansLines && !file.compressed,
  });
  const fits = settings.mode === 'auto' && csvBytes <= settings.fastPathMaxBytes;
  return {
    engine: fits ? 'lambda' : 'glue',
    glueWorkers: glue.workers,
    glueTimeoutMinutes: glue.timeoutMinutes,
  };
}

/** The router's settings from the app's configuration: one derivation for the stack and the local runtime. */
export function conversionSettings(
  config: Pick<
    LakeConfig,
    'conversion' | 'fastPathMaxBytes' | 'glueWorkerType' | 'glueWorkers' | 'glueTimeoutMinutes'
  >,
): ConversionSettings {
  return {
    mode: config.conversion,
    fastPathMaxBytes: config.fastPathMaxBytes,
    glue: {
      workerType: config.glueWorkerType,
      maxWorkers: config.glueWorkers,
      maxTimeoutMinutes: config.glueTimeoutMinutes,
    },
  };
}

const settingsSchema = z.strictObject({
  mode: z.enum(['auto', 'glue']),
  fastPathMaxBytes: z.number().int().min(0),
  glue: z.strictObject({
    workerType: z.enum(Object.keys(GLUE_WORKER_DPU) as [keyof typeof GLUE_WORKER_DPU]),
    maxWorkers: z.number().int().min(1),
    maxTimeoutMinutes: z.number().int().min(1),
  }),
});

/** Parses the settings from their environment variable; the error names the variable and the bad field. */
export function parseConversionSettings(text: string, variable: string): ConversionSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${variable} is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const result = settingsSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`);
    throw new Error(`${variable} is not valid conversion settings: ${problems.join('; ')}`);
  }
  return result.data;
}
