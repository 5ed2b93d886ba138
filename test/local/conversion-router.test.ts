/**
 * The conversion router end to end, through the synthesized state machine executed locally: a
 * small file takes the Convert Lambda's task, a file above `fastPathMaxBytes` the Glue task, and a
 * Convert Lambda that runs out of memory, disk or time (its own ResourceLimitError, or the error
 * names Lambda reports when the function dies of its limits) hands its file to the Glue task,
 * which curates it. A bad file still fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { ResourceLimitError } from '../../lib/conversion/csv-to-parquet.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime.ts';
import {
  type AslDefinition,
  runLocalExecution,
  synthesizeLocalDefinition,
} from '../../lib/local/workflow.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';

const dirs: string[] = [];
const runtimes: LocalRuntime[] = [];
afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The state machine at the default settings, synthesized once for the lakes that use them. */
let defaults: Promise<AslDefinition> | undefined;

async function lake(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const lakeDir = await mkdtemp(join(tmpdir(), 'lake-router-'));
  dirs.push(lakeDir);
  defaults ??= loadDatasets('datasets').then((d) => synthesizeLocalDefinition([...d.values()], 'datasets'));
  const definition = options.conversion ? {} : { definition: await defaults };
  const runtime = await LocalRuntime.start({ lakeDir, ...definition, ...options });
  runtimes.push(runtime);
  return runtime;
}

/** Orders `from + 1` to `to`. */
function ordersFile(from: number, to: number): string {
  return `${ORDERS_HEADER}${orderRows(7, from, to)}`;
}

async function rowCount(runtime: LocalRuntime, from: number, to: number): Promise<number> {
  const result = await runtime.query(
    `SELECT count(*) AS n FROM orders WHERE order_id > ${from} AND order_id <= ${to}`,
  );
  return Number(result.rows[0]?.n);
}

/**
 * The errors that must hand a file to Glue, written out here rather than read from the workflow:
 * the engine's own, and the names Step Functions gives a Lambda that died of its limits.
 */
const HANDOFF_ERRORS = [
  'ResourceLimitError',
  'Sandbox.Timedout',
  'Runtime.OutOfMemory',
  'Runtime.ExitError',
  'Lambda.Unknown',
];

const UP_TO_CONVERSION = [
  'RecordReceived',
  'RouteBySize',
  'Validate',
  'MoreSlices',
  'IsValid',
  'RecordValidated',
  'NotifyValidated',
];
const AFTER_CONVERSION = ['CommitToTable', 'NotifyCurated', 'RecordCurated', 'Curated'];

/** The error a task fault raises: Step Functions matches Catch and Retry by `name`. */
function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('the conversion router (conversion: auto)', () => {
  let runtime: LocalRuntime;
  let fault: ((state: string) => Error | undefined) | undefined;
  beforeAll(async () => {
    runtime = await lake({
      faults: { tasks: (state, _attempt, phase) => (phase === 'before' ? fault?.(state) : undefined) },
    });
  }, 60_000);

  it('converts a small file in the Convert Lambda, and the record says which engine did', async () => {
    // Act
    const record = await runtime.land('orders/small.csv', ordersFile(1, 11));

    // Assess
    expect(record.outcome).toBe('curated');
    expect(record.states).toEqual([
      ...UP_TO_CONVERSION,
      'ChooseConversion',
      'ConvertInLambda',
      ...AFTER_CONVERSION,
    ]);
    expect(record.output).toMatchObject({
      validation: { conversion: { engine: 'lambda' } },
      conversion: { engine: 'lambda', state: 'SUCCEEDED', rows: 10 },
    });
    expect(record.curated).toHaveLength(1);
    expect(await rowCount(runtime, 1, 11)).toBe(10);
  });

  it.each(HANDOFF_ERRORS)(
    'hands the file to the Glue task when the Convert Lambda fails with %s, and it ends curated',
    async (error) => {
      // Prepare: the Lambda task fails as Lambda reports a function that died of its limits.
      const from = 100 + HANDOFF_ERRORS.indexOf(error) * 10;
      fault = (state) => (state === 'ConvertInLambda' ? named(error, 'the function ran out') : undefined);

      // Act
      const record = await runtime.land(`orders/handoff-${from}.csv`, ordersFile(from, from + 5));
      fault = undefined;

      // Assess
      expect(record.outcome).toBe('curated');
      expect(record.states).toEqual([
        ...UP_TO_CONVERSION,
        'ChooseConversion',
        'ConvertInLambda',
        'SizeGlueAtMost',
        'ConvertToParquet',
        ...AFTER_CONVERSION,
      ]);
      expect(record.output).toMatchObject({ handoff: { Error: error }, conversion: { state: 'SUCCEEDED' } });
      expect(await rowCount(runtime, from, from + 5)).toBe(5);
    },
  );

  it('fails, without a hand-off, a file the Convert Lambda finds bad (ConversionError)', async () => {
    // Prepare
    fault = (state) =>
      state === 'ConvertInLambda' ? named('ConversionError', 'expected 5 rows, read 4') : undefined;

    // Act
    const record = await runtime.land('orders/bad-conversion.csv', ordersFile(200, 205));
    fault = undefined;

    // Assess
    expect(record.outcome).toBe('failed');
    expect(record.states).not.toContain('ConvertToParquet');
    expect(record.states.slice(-4)).toEqual(['ConvertInLambda', 'RecordFailed', 'NotifyFailed', 'Failed']);
  });
});

describe('the Convert Lambda out of its real limits', () => {
  it.each([
    ['memory', { memoryMb: 16, ephemeralMb: 10_240 }],
    ['disk', { memoryMb: 10_240, ephemeralMb: 1 }],
  ] as const)(
    'out of %s, hands its file to the Glue task, which curates it',
    async (resource, limits) => {
      // Prepare: a function too small for a 1.5 MB file (DuckDB gets 9 MB of memory, or /tmp 0.75 MB).
      const runtime = await lake({ convertLimits: limits });

      // Act
      const record = await runtime.land('orders/too-big.csv', ordersFile(1, 10_001));

      // Assess
      expect(record.outcome).toBe('curated');
      expect(record.states).toContain('ConvertToParquet');
      const handoff = (record.output as { handoff: { Error: string; Cause: string } }).handoff;
      expect(handoff.Error).toBe(new ResourceLimitError(resource, '').name);
      expect(handoff.Cause).toContain(`out of ${resource}`);
      expect(await rowCount(runtime, 1, 10_001)).toBe(10_000);
    },
    60_000,
  );
});

describe('the route by size', () => {
  it.each([
    ['a file above fastPathMaxBytes goes to the Glue task up front', { fastPathMaxBytes: 100 }],
    [
      'with conversion: glue, there is no Convert Lambda: every file takes the Glue task, as in the seed',
      { conversion: 'glue' },
    ],
  ] as const)(
    '%s',
    async (_name, conversion) => {
      // Prepare
      const runtime = await lake({ conversion });

      // Act
      const record = await runtime.land('orders/to-glue.csv', ordersFile(1, 6));

      // Assess
      expect(record.outcome).toBe('curated');
      expect(record.states).toEqual([
        ...UP_TO_CONVERSION,
        'ChooseConversion',
        'ConvertToParquet',
        ...AFTER_CONVERSION,
      ]);
      expect(record.output).toMatchObject({ validation: { conversion: { engine: 'glue' } } });
    },
    60_000,
  );
});

describe('a Glue run no size from the Validate output fits', () => {
  /** The workflow at the defaults, Task states bound to stubs; what ConvertToParquet was started with. */
  async function run(validation: Record<string, unknown>, convertFails?: string) {
    defaults ??= loadDatasets('datasets').then((d) => synthesizeLocalDefinition([...d.values()], 'datasets'));
    const definition = await defaults;
    const started: Record<string, unknown>[] = [];
    const states: string[] = [];
    const result = await runLocalExecution(
      definition,
      {
        name: 'no-plan',
        input: { dataset: 'orders', bucket: 'landing', key: 'orders/a.csv', size: 10, version: 'etag:e' },
      },
      {
        lambda: {
          Validate: async () => validation,
          Convert: async () => {
            throw named(convertFails ?? 'Unexpected', 'the function ran out');
          },
        },
        sendMessageForToken: async () => ({
          table: 'local.orders',
          location: 's3://curated/orders/iceberg/data/ingest_date=2024-01-05/',
          snapshotId: '1',
        }),
        dynamodb: async () => ({}),
        glueJob: async (parameters) => {
          started.push(parameters);
          return { Id: 'j', JobRunState: 'SUCCEEDED', ExecutionTime: 1 };
        },
        publish: async () => ({ MessageId: 'm' }),
      },
      (state) => void states.push(state),
    );
    return { result, started, states };
  }

  const config = parseConfig(() => undefined);
  const atMost = { NumberOfWorkers: config.glueWorkers, Timeout: config.glueTimeoutMinutes };
  const valid = {
    valid: true,
    done: true,
    dataset: 'orders',
    ingestDate: '2024-01-05',
    rows: 3,
    errorCount: 0,
    source: {},
    raw: { bucket: 'raw', key: 'orders/ingest_date=2024-01-05/a.csv' },
    jobArguments: {
      '--dataset': 'orders',
      '--commit-request': 's3://curated/_commits/orders/no-plan.json',
      '--target': 's3://curated/orders/iceberg/data/ingest_date=2024-01-05/',
    },
  };

  it('a Validate output without the plan (a function older than the definition) gets the configured most', async () => {
    // Act
    const { result, started, states } = await run(valid);

    // Assess
    expect({ error: result.error, states }).toEqual({ error: undefined, states: expect.anything() });
    expect(result.status).toBe('SUCCEEDED');
    expect(states).toEqual(expect.arrayContaining(['SizeGlueAtMost', 'ConvertToParquet', 'Curated']));
    expect(started).toEqual([expect.objectContaining(atMost)]);
  });

  it('a file the Convert Lambda hands over gets the configured most, not its sized run', async () => {
    // Prepare: a plan that sized a small Glue run, and a Lambda that ran out of time.
    const plan = { engine: 'lambda', glueWorkers: 2, glueTimeoutMinutes: 15 };

    // Act
    const { result, started, states } = await run({ ...valid, conversion: plan }, 'Sandbox.Timedout');

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(states).toEqual(
      expect.arrayContaining(['ConvertInLambda', 'SizeGlueAtMost', 'ConvertToParquet', 'Curated']),
    );
    expect(started).toEqual([expect.objectContaining(atMost)]);
  });

  it('a Validate output that sized the run for Glue keeps its size', async () => {
    // Prepare
    const plan = { engine: 'glue', glueWorkers: 3, glueTimeoutMinutes: 17 };

    // Act
    const { started, states } = await run({ ...valid, conversion: plan });

    // Assess
    expect(states).not.toContain('SizeGlueAtMost');
    expect(started).toEqual([expect.objectContaining({ NumberOfWorkers: 3, Timeout: 17 })]);
  });
});
