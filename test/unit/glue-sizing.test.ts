/**
 * The Glue run sizing model (lib/conversion/glue-sizing.ts): workers follow the work on a split
 * read and stay at the minimum on one Spark cannot split, and the timeout scales with the file
 * within the configured cap. The figures are the model's assumptions, so the expectations are
 * derived from the exported constants, not from numbers typed in twice.
 */
import { describe, expect, it } from 'vitest';
import {
  GLUE_CORES_PER_DPU,
  GLUE_MB_PER_S_PER_CORE,
  GLUE_MB_PER_S_PER_WORKER,
  GLUE_MIN_TIMEOUT_MINUTES,
  GLUE_MIN_WORKERS,
  GLUE_MINIMUM_BILLED_SECONDS,
  GLUE_RUN_OVERHEAD_SECONDS,
  GLUE_SINGLE_TASK_MB_PER_S,
  GLUE_START_SECONDS,
  GLUE_TIMEOUT_FACTOR,
  type GlueSizingLimits,
  glueRunSize,
} from '../../lib/conversion/glue-sizing.ts';

const LIMITS: GlueSizingLimits = { workerType: 'G.1X', maxWorkers: 50, maxTimeoutMinutes: 2880 };
const MB = 1e6;
/** Bytes one executor core converts in the billed minimum. */
const CORE_MINUTE = GLUE_MB_PER_S_PER_CORE * MB * GLUE_MINIMUM_BILLED_SECONDS;

describe('glueRunSize', () => {
  it('gives a small file the minimum and the shortest timeout (its modelled run is far less)', () => {
    // Act
    const size = glueRunSize(1000, LIMITS);
    // Assess
    expect(size.workers).toBe(GLUE_MIN_WORKERS);
    expect(size.modelledSeconds).toBeCloseTo(
      GLUE_RUN_OVERHEAD_SECONDS + 1000 / (GLUE_MB_PER_S_PER_CORE * MB) / 4,
    );
    expect(Math.ceil((GLUE_START_SECONDS + GLUE_TIMEOUT_FACTOR * size.modelledSeconds) / 60)).toBeLessThan(
      GLUE_MIN_TIMEOUT_MINUTES,
    );
    expect(size.timeoutMinutes).toBe(GLUE_MIN_TIMEOUT_MINUTES);
    // A configured cap below the floor still wins.
    expect(glueRunSize(1000, { ...LIMITS, maxTimeoutMinutes: 5 }).timeoutMinutes).toBe(5);
  });

  it('adds an executor core per minute of single-core work on a split read', () => {
    // Prepare: 4 cores a G.1X worker; the driver takes one worker.
    const cores = GLUE_CORES_PER_DPU;
    // Act / Assess: just over 4 core-minutes needs 5 cores: two executor workers plus the driver.
    expect(glueRunSize(cores * CORE_MINUTE, LIMITS).workers).toBe(2);
    expect(glueRunSize(cores * CORE_MINUTE + 1, LIMITS).workers).toBe(3);
    expect(glueRunSize(10 * cores * CORE_MINUTE, LIMITS).workers).toBe(11);
    // The modelled time divides among the executors: 10 executors of 4 cores, one minute each.
    expect(glueRunSize(10 * cores * CORE_MINUTE, LIMITS).modelledSeconds).toBeCloseTo(
      GLUE_MINIMUM_BILLED_SECONDS + GLUE_RUN_OVERHEAD_SECONDS,
    );
    expect(GLUE_MB_PER_S_PER_WORKER).toBe(GLUE_MB_PER_S_PER_CORE * cores);
  });

  it('stops at the configured workers and lets the time grow instead', () => {
    // Act
    const capped = glueRunSize(100e9, { ...LIMITS, maxWorkers: 5 });
    // Assess: 4 executors of 4 cores on 100 GB.
    expect(capped.workers).toBe(5);
    expect(capped.modelledSeconds).toBeCloseTo(
      100e9 / (16 * GLUE_MB_PER_S_PER_CORE * MB) + GLUE_RUN_OVERHEAD_SECONDS,
    );
    // A configuration below Glue's minimum still gets the minimum.
    expect(glueRunSize(100e9, { ...LIMITS, maxWorkers: 1 }).workers).toBe(GLUE_MIN_WORKERS);
  });

  it('counts the cores of a larger worker type', () => {
    // Act: G.2X has 8 cores, so 16 core-minutes take two executors.
    const size = glueRunSize(16 * CORE_MINUTE, { ...LIMITS, workerType: 'G.2X' });
    // Assess
    expect(size.workers).toBe(3);
  });

  it('keeps a read Spark cannot split at the minimum, its time set by one task', () => {
    // Act
    const whole = glueRunSize(12e9, LIMITS, { splittable: false });
    const split = glueRunSize(12e9, LIMITS, { splittable: true });
    // Assess
    expect(whole.workers).toBe(GLUE_MIN_WORKERS);
    expect(whole.modelledSeconds).toBeCloseTo(
      12e9 / (GLUE_SINGLE_TASK_MB_PER_S * MB) + GLUE_RUN_OVERHEAD_SECONDS,
    );
    expect(split.workers).toBeGreaterThan(GLUE_MIN_WORKERS);
    expect(split.modelledSeconds).toBeLessThan(whole.modelledSeconds / 5);
  });

  it('scales the timeout with the file up to the configured cap', () => {
    // Act
    const sizes = [1e6, 1e9, 10e9, 100e9].map(
      (bytes) =>
        glueRunSize(bytes, { ...LIMITS, maxTimeoutMinutes: 60 }, { splittable: false }).timeoutMinutes,
    );
    // Assess: 1 MB at the floor; 1 GB (≈ 1.3 min modelled, ≈ 5 min) still at it; 10 GB (≈ 8 min
    // modelled, ≈ 27 min timeout) above it; 100 GB hits the cap.
    expect(sizes.slice(0, 2)).toEqual([GLUE_MIN_TIMEOUT_MINUTES, GLUE_MIN_TIMEOUT_MINUTES]);
    expect(sizes[1]).toBeLessThan(sizes[2]!);
    expect(sizes[2]).toBe(
      Math.ceil(
        (GLUE_START_SECONDS +
          GLUE_TIMEOUT_FACTOR * (10e9 / (GLUE_SINGLE_TASK_MB_PER_S * MB) + GLUE_RUN_OVERHEAD_SECONDS)) /
          60,
      ),
    );
    expect(sizes[3]).toBe(60);
  });
});
