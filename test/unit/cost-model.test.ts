/**
 * The cost model's arithmetic on inputs small enough to check by hand, and the shape of what
 * `npm run cost` prints (the JSON document, the table, the BENCHMARKS.md section).
 */
import { describe, expect, it } from 'vitest';
import { copyRanges } from '../../lambdas/validate/s3-store.ts';
import { DEFAULT_FAST_PATH_MAX_BYTES, parseConfig } from '../../lib/config.ts';
import { GLUE_MINIMUM_BILLED_SECONDS, GLUE_START_SECONDS } from '../../lib/conversion/glue-sizing.ts';
import {
  classifyS3,
  DEFAULT_INPUTS,
  daily,
  estimateFile,
  glueBilledSeconds,
  glueRun,
  inputsFor,
  LOCAL_FUNCTION_ARN,
  type ModelInputs,
  type PathProfile,
  profileFromRun,
  routedEngine,
  s3RequestsFor,
  uploadRequests,
} from '../../lib/cost/model.ts';
import { dollars, PRICES } from '../../lib/cost/prices.ts';
import { costDocument, costSection, REPORT_SIZES, resultTable } from '../../lib/cost/report.ts';

const config = parseConfig(() => undefined);
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** Round figures: 1 GB functions, 1 s each, no cold start, nothing per byte. */
const flat: ModelInputs = {
  ...DEFAULT_INPUTS,
  functions: Object.fromEntries(
    ['Trigger', 'Validate', 'Convert', 'Commit'].map((id) => [
      id,
      { memoryMb: 1024, architecture: 'arm64' as const, fixedSeconds: 1, source: 'test' },
    ]),
  ),
  coldStartSeconds: {},
  rawCopyMbPerSecond: Number.POSITIVE_INFINITY,
  kmsRequestsPerPublish: 1,
  ledgerUnitsPerWrite: 4,
  logBytesPerState: 0,
  logBytesPerInvocation: 0,
};

const lambdaProfile: PathProfile = {
  engine: 'lambda',
  states: ['Validate', 'IsValid', 'NotifyValidated', 'Convert', 'CommitToTable', 'NotifyCurated', 'Curated'],
  lambdaInvocations: ['Validate', 'Convert'],
  glueRuns: 0,
  snsPublishes: 2,
  ledgerWrites: 3,
  commitMessages: 1,
  s3Commands: { GetObject: 2, CopyObject: 2, PutObject: 1, DeleteObjects: 1 },
  profiledBytes: 1000,
};
const glueProfile: PathProfile = {
  ...lambdaProfile,
  engine: 'glue',
  lambdaInvocations: ['Validate'],
  glueRuns: 1,
};

describe('Glue billing', () => {
  it('bills a 5-second run as the 1-minute minimum, a longer one per second rounded up', () => {
    expect(glueBilledSeconds(5)).toBe(GLUE_MINIMUM_BILLED_SECONDS);
    expect(glueBilledSeconds(GLUE_MINIMUM_BILLED_SECONDS + 40.2)).toBe(GLUE_MINIMUM_BILLED_SECONDS + 41);
  });

  it("bills the sized run's seconds", () => {
    for (const bytes of [1000, 1e10]) {
      const run = glueRun(bytes, config);
      expect(run.billedSeconds).toBe(glueBilledSeconds(run.runSeconds));
    }
    expect(glueRun(1e10, config).runSeconds).toBeGreaterThan(glueRun(1e9, config).runSeconds);
  });

  it('prices a 1 KB file on the Glue path at workers × DPU × the minimum', () => {
    const file = estimateFile(1000, glueProfile, config, flat);
    const { workers, billedSeconds } = glueRun(1000, config);
    const line = file.lines.find((l) => l.item.startsWith('Glue job'));
    expect(line?.quantity).toBeCloseTo((workers * billedSeconds) / 3600);
    expect(line?.usd).toBeCloseTo((PRICES.glueDpuHour.usd * workers * billedSeconds) / 3600, 12);
  });
});

describe('a 1 KB file on the Lambda path', () => {
  // Computed in each test, not when the file is collected, so that each test is seen to run it.
  const file = () => estimateFile(1000, lambdaProfile, config, flat);

  it('costs what its GB-seconds, requests, transitions and publishes say', () => {
    // Trigger, Validate, Convert and the Commit batch (a lone file: the whole batch), each 1 GB for 1 s.
    const lambda = 4 * PRICES.lambdaGbSecondArm.usd + (4 * PRICES.lambdaRequests.usd) / 1e6;
    const transitions = (7 * PRICES.stepFunctionsTransitions.usd) / 1000;
    // CopyObject 2 + PutObject 1 are PUT-class, and the commit's manifest, manifest list and
    // metadata JSON; GetObject 2, and the commit's request, footer HEAD and GET, metadata and
    // manifest list; DeleteObjects free.
    const s3 = ((3 + 3) * PRICES.s3PutCopyPostList.usd) / 1000 + ((2 + 5) * PRICES.s3Get.usd) / 1000;
    const sns = (2 * PRICES.snsPublishes.usd) / 1e6;
    const kms = (2 * PRICES.kmsRequests.usd) / 10_000;
    // GetTable twice and UpdateTable.
    const catalog = (3 * PRICES.glueCatalogRequests.usd) / 1e6;
    // SendMessage, and the batch's ReceiveMessage and DeleteMessageBatch.
    const sqs = (3 * PRICES.sqsFifoRequests.usd) / 1e6;
    // RECEIVED, VALIDATED, CURATED: 4 write units each (the item and its two indexes).
    const ledger = (3 * 4 * PRICES.dynamodbWriteRequestUnits.usd) / 1e6;
    expect(file().ingestUsd).toBeCloseTo(lambda + transitions + s3 + sns + kms + catalog + sqs + ledger, 12);
    expect(file().lines.some((l) => l.item.startsWith('Glue job'))).toBe(false);
  });

  it('takes the event delay, each invocation and each transition to become queryable', () => {
    expect(file().seconds).toBeCloseTo(
      DEFAULT_INPUTS.eventDelaySeconds + 4 + 7 * DEFAULT_INPUTS.secondsPerTransition,
    );
  });

  it('bills an x86_64 function at the x86_64 price', () => {
    const x86: ModelInputs = {
      ...flat,
      functions: { ...flat.functions, Convert: { ...flat.functions.Convert!, architecture: 'x86_64' } },
    };
    const line = estimateFile(1000, lambdaProfile, config, x86).lines.find((l) =>
      l.item.startsWith('Lambda Convert'),
    );
    expect(line?.usd).toBeCloseTo(PRICES.lambdaGbSecondX86.usd, 14);
  });

  it('adds the cold start and the work at the function throughput', () => {
    const inputs: ModelInputs = {
      ...flat,
      functions: { ...flat.functions, Convert: { ...flat.functions.Convert!, mbPerSecond: 10 } },
      coldStartSeconds: { Convert: 2 },
    };
    const step = estimateFile(100e6, lambdaProfile, config, inputs).timeline.find(
      (t) => t.step === 'Convert',
    );
    expect(step?.seconds).toBeCloseTo(2 + 1 + 10);
  });

  it('names an unknown function instead of pricing it at nothing', () => {
    const profile = { ...lambdaProfile, lambdaInvocations: ['ConvertFast'] };
    expect(() => estimateFile(1000, profile, config, flat)).toThrow(
      /no cost model for the Lambda function "ConvertFast"/,
    );
  });
});

describe("the Lambda path's limits", () => {
  it('fits 1 GB and not 10 GB, whose CSV and Parquet exceed /tmp', () => {
    expect(estimateFile(1e9, lambdaProfile, config, flat).fits).toBe(true);
    const big = estimateFile(1e10, lambdaProfile, config, flat);
    expect(big.fits).toBe(false);
    expect(big.reason).toMatch(/tmp/);
  });

  it('does not fit a conversion over 15 minutes', () => {
    const slow: ModelInputs = {
      ...flat,
      functions: { ...flat.functions, Convert: { ...flat.functions.Convert!, mbPerSecond: 1 } },
    };
    const file = estimateFile(1e9, lambdaProfile, config, slow);
    expect(file.fits).toBe(false);
    expect(file.reason).toMatch(/Convert would run 1001 s/);
  });

  it("agrees with the router's threshold: the default fastPathMaxBytes fits, a megabyte more does not", () => {
    expect(estimateFile(DEFAULT_FAST_PATH_MAX_BYTES, lambdaProfile, config, flat).fits).toBe(true);
    const over = estimateFile(DEFAULT_FAST_PATH_MAX_BYTES + 1e6, lambdaProfile, config, flat);
    expect([over.fits, over.reason]).toEqual([false, expect.stringMatching(/tmp/)]);
    // The reason gives the room the file needs (CSV and Parquet) against the function's, in GiB.
    const need = (((DEFAULT_FAST_PATH_MAX_BYTES + 1e6) * 1.5) / GIB).toFixed(1);
    const room = (flat.lambdaMaxTmpBytes / GIB).toFixed(1);
    expect(over.reason).toContain(`need ${need} GiB of /tmp, over the function's ${room} GiB`);
  });

  it("prices the Convert function at the configuration's architecture", () => {
    const convertLine = (convertArchitecture: 'x86_64' | 'arm64') =>
      estimateFile(1e8, lambdaProfile, config, inputsFor({ convertArchitecture })).lines.find((l) =>
        l.item.startsWith('Lambda Convert '),
      )!;
    const [x86, arm] = [convertLine('x86_64'), convertLine('arm64')];
    expect([x86.item, arm.item]).toEqual([
      expect.stringMatching(/x86_64\)$/),
      expect.stringMatching(/arm64\)$/),
    ]);
    expect(arm.quantity).toBe(x86.quantity);
    expect(arm.usd / x86.usd).toBeCloseTo(PRICES.lambdaGbSecondArm.usd / PRICES.lambdaGbSecondX86.usd, 9);
  });

  it('never applies the /tmp limit to the Glue path', () => {
    expect(estimateFile(1e10, glueProfile, config, flat).fits).toBe(true);
  });
});

describe('S3 requests', () => {
  it('prices DELETE as free and HEAD as a GET', () => {
    expect(classifyS3({ DeleteObjects: 3, HeadObject: 1, ListObjectsV2: 2, UploadPart: 4 })).toEqual({
      putClass: 6,
      getClass: 1,
      free: 3,
    });
  });

  it('counts an upload above one part as create, parts and complete', () => {
    expect(uploadRequests(5 * MIB, 5 * MIB)).toBe(1);
    expect(uploadRequests(5 * MIB + 1, 5 * MIB)).toBe(4);
  });

  it("grows the profile's requests with the Parquet's parts and the raw copy above 5 GiB", () => {
    const inputs = { ...flat, parquetRatio: 0.5 };
    const bytes = 6 * GIB;
    const parts = Math.ceil((bytes * 0.5) / (5 * MIB));
    const copyParts = copyRanges(bytes).length;
    expect(s3RequestsFor(lambdaProfile, bytes, inputs)).toEqual({
      putClass: 3 - 1 + parts + 2 + copyParts + 2 - 1,
      getClass: 2 + 1,
      free: 1,
    });
  });
});

describe('storage, query and a day of files', () => {
  it('stores landing for its days, raw and curated for the month', () => {
    const inputs = { ...flat, parquetRatio: 0.25, landingDays: 15 };
    const file = estimateFile(GIB, lambdaProfile, config, inputs);
    expect(file.storageUsdPerMonth).toBeCloseTo(PRICES.s3StandardGbMonth.usd * (0.5 + 1 + 0.25), 12);
  });

  it('bills a query at least 10 MB', () => {
    const file = estimateFile(1000, lambdaProfile, config, flat);
    expect(file.queryUsd).toBeCloseTo((PRICES.athenaTbScanned.usd * 10) / 1024 ** 2, 14);
  });

  it('adds 30 days of ingest and a month of their storage', () => {
    const file = estimateFile(GIB, lambdaProfile, config, flat);
    const day = daily(file, 1000);
    expect(day.usdPerDay).toBeCloseTo(file.ingestUsd * 1000, 12);
    expect(day.usdPerMonth).toBeCloseTo(file.ingestUsd * 30_000 + file.storageUsdPerMonth * 30_000, 9);
  });
});

describe('the router', () => {
  it('sends files up to fastPathMaxBytes to the Lambda path, larger ones and glue mode to Glue', () => {
    const auto = {
      conversion: 'auto' as const,
      fastPathMaxBytes: 1000,
      glueWorkerType: 'G.1X' as const,
      glueWorkers: 10,
      glueTimeoutMinutes: 60,
    };
    expect(routedEngine(1000, auto)).toBe('lambda');
    expect(routedEngine(1001, auto)).toBe('glue');
    expect(routedEngine(10, { ...auto, conversion: 'glue' })).toBe('glue');
  });
});

describe('profiles from an execution', () => {
  const definition = {
    States: {
      Validate: { Type: 'Task', Resource: `${LOCAL_FUNCTION_ARN}Validate` },
      IsValid: { Type: 'Choice' },
      Convert: { Type: 'Task', Resource: 'arn:aws:states:::glue:startJobRun.sync' },
      Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish' },
      Commit: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken' },
      Queue: { Type: 'Task', Resource: 'arn:aws:states:::events:putEvents' },
    },
  };

  it('counts transitions, invocations, runs, publishes and S3 commands', () => {
    const profile = profileFromRun(
      'glue',
      definition,
      ['Validate', 'IsValid', 'Notify', 'Convert', 'Commit', 'Notify'],
      ['GetObjectCommand', 'CopyObjectCommand', 'GetObjectCommand'],
      948,
    );
    expect(profile).toEqual({
      engine: 'glue',
      states: ['Validate', 'IsValid', 'Notify', 'Convert', 'Commit', 'Notify'],
      lambdaInvocations: ['Validate'],
      glueRuns: 1,
      snsPublishes: 2,
      ledgerWrites: 0,
      commitMessages: 1,
      s3Commands: { GetObject: 2, CopyObject: 1 },
      profiledBytes: 948,
    });
  });

  it('refuses a Task it has no price for, and a state not in the definition', () => {
    expect(() => profileFromRun('glue', definition, ['Queue'], [], 1)).toThrow(
      /no cost model for the resource/,
    );
    expect(() => profileFromRun('glue', definition, ['Nowhere'], [], 1)).toThrow(/not in the definition/);
  });
});

describe('what npm run cost prints', () => {
  // Computed in each test, not when the file is collected, so that each test is seen to run it.
  const doc = () => costDocument({ lambda: lambdaProfile, glue: glueProfile }, config);

  it('has every size on both paths, with the path the router takes', () => {
    expect(doc().sizes.map((s) => s.label)).toEqual(['1 KB', '1 MB', '100 MB', '1 GB', '10 GB']);
    for (const [i, s] of doc().sizes.entries()) {
      expect(s.bytes).toBe(REPORT_SIZES[i]?.bytes);
      expect(s.routed).toBe(s.bytes <= config.fastPathMaxBytes ? 'lambda' : 'glue');
      expect(s.lambda?.daily.filesPerDay).toBe(1000);
      expect(s.glue?.daily.usdPerMonth).toBeGreaterThan(0);
    }
    expect(JSON.parse(JSON.stringify(doc())).prices.glueDpuHour.usd).toBe(PRICES.glueDpuHour.usd);
  });

  it('prints one table row per size and a dash for a path the workflow lacks', () => {
    const rows = resultTable(costDocument({ glue: glueProfile }, config)).split('\n');
    expect(rows).toHaveLength(2 + REPORT_SIZES.length);
    expect(rows[2]).toMatch(/^\| 1 KB \| lambda \| — \| — \| — \| — \| \$0\.0\d+ \|/);
  });

  it('writes the section with the 1 KB and 100 MB call-outs, every price and its source', () => {
    const text = costSection(doc(), 'a test');
    expect(text).toMatch(/1 KB: \$[\d.e-]+ on the Lambda path, \$[\d.e-]+ on the Glue path/);
    expect(text).toMatch(/100 MB: \$[\d.e-]+ on the Lambda path/);
    for (const [name, price] of Object.entries(PRICES)) {
      expect(text).toContain(`| ${name} | ${price.usd} |`);
    }
    expect(text).toContain('### Throughputs and assumptions');
    expect(text).not.toMatch(/^## /m);
  });
});

describe('a 100 MB file with every input away from 1 and 0, worked by hand', () => {
  /** 2 GB functions, 2.5 s each; Validate reads at 50 MB/s after a 0.5 s cold start. */
  const inputs: ModelInputs = {
    ...DEFAULT_INPUTS,
    functions: Object.fromEntries(
      ['Trigger', 'Validate', 'Convert', 'Commit'].map((id) => [
        id,
        {
          memoryMb: 2048,
          architecture: 'arm64' as const,
          fixedSeconds: 2.5,
          source: 'test',
          ...(id === 'Validate' ? { mbPerSecond: 50 } : {}),
        },
      ]),
    ),
    coldStartSeconds: { Validate: 0.5 },
    rawCopyMbPerSecond: 200,
    eventDelaySeconds: 1.5,
    secondsPerTransition: 0.25,
    kmsRequestsPerPublish: 3,
    logBytesPerState: 3000,
    logBytesPerInvocation: 500,
    parquetRatio: 0.25,
    oneColumnReadRatio: 0.5,
    landingDays: 15,
  };
  const g2 = { ...config, glueWorkerType: 'G.2X' as const };
  const bytes = 100e6;
  const line = (file: ReturnType<typeof estimateFile>, prefix: string) =>
    file.lines.find((l) => l.item.startsWith(prefix))!;

  it('bills each function its memory × (cold start + fixed + work), Validate also the copy into raw', () => {
    const file = estimateFile(bytes, glueProfile, g2, inputs);
    // Validate: 0.5 + 2.5 + 100 MB at 50 MB/s (2 s) + the copy at 200 MB/s (0.5 s) = 5.5 s, at 2 GB.
    expect(line(file, 'Lambda Validate').quantity).toBeCloseTo(2 * 5.5, 12);
    expect(line(file, 'Lambda Trigger').quantity).toBeCloseTo(2 * 2.5, 12);
    expect(line(file, 'Lambda Commit').quantity).toBeCloseTo(2 * 2.5, 12);
  });

  it('bills Glue workers × DPUs of the worker type × billed seconds, and keeps the run', () => {
    const file = estimateFile(bytes, glueProfile, g2, inputs);
    const run = glueRun(bytes, g2);
    expect(line(file, 'Glue job').quantity).toBeCloseTo((run.workers * 2 * run.billedSeconds) / 3600, 12);
    expect(file.glue).toEqual(run);
    expect('glue' in estimateFile(bytes, lambdaProfile, g2, inputs)).toBe(false);
  });

  it('counts KMS per publish, log bytes per state and per invocation, the catalog per commit batch', () => {
    const file = estimateFile(bytes, lambdaProfile, g2, inputs);
    expect(line(file, 'KMS').quantity).toBe(2 * 3);
    // 7 states; Trigger and 2 tasks (the Commit function's log is not per file).
    expect(line(file, 'CloudWatch Logs').quantity).toBeCloseTo((7 * 3000 + 3 * 500) / GIB, 15);
    expect(line(file, 'Glue Data Catalog').quantity).toBe(DEFAULT_INPUTS.commit.catalogRequestsPerBatch);
    expect('reason' in file).toBe(false);
  });

  it('adds up the timeline: the event, each invocation, Glue start-up and run, the transitions', () => {
    const file = estimateFile(bytes, glueProfile, g2, inputs);
    const run = glueRun(bytes, g2);
    expect(file.timeline).toEqual([
      { step: 'S3 event', seconds: 1.5 },
      { step: 'Trigger', seconds: 2.5 },
      { step: 'Validate', seconds: expect.closeTo(5.5, 12) },
      { step: 'Commit', seconds: 2.5 },
      { step: 'Glue start-up', seconds: GLUE_START_SECONDS },
      { step: 'Glue run', seconds: run.runSeconds },
      { step: 'Step Functions', seconds: 7 * 0.25 },
    ]);
    expect(file.seconds).toBeCloseTo(1.5 + 2.5 + 5.5 + 2.5 + GLUE_START_SECONDS + run.runSeconds + 1.75, 9);
  });

  it('stores landing for its days, raw and curated kept, and scans a column of the Parquet', () => {
    const file = estimateFile(bytes, lambdaProfile, g2, inputs);
    const gbMonth = (bytes * (15 / 30) + bytes + bytes * 0.25) / GIB;
    expect(file.storageUsdPerMonth).toBeCloseTo(dollars(PRICES.s3StandardGbMonth, gbMonth), 15);
    // 12.5 MB of the Parquet read, rounded up to 12 MiB: above the 10 MB minimum.
    expect(file.queryUsd).toBeCloseTo(dollars(PRICES.athenaTbScanned, (12 * MIB) / 1024 ** 4), 15);
  });

  it('models a file up to largeFileBytes, refuses one byte more; adds ranged copies only above 5 GiB', () => {
    const small = { ...config, largeFileBytes: 1e6 };
    expect(() => estimateFile(1e6, lambdaProfile, small, inputs)).not.toThrow();
    expect(() => estimateFile(1e6 + 1, lambdaProfile, small, inputs)).toThrow(/above largeFileBytes/);
    const at = s3RequestsFor(glueProfile, 5 * GIB, inputs);
    const over = s3RequestsFor(glueProfile, 5 * GIB + 1, inputs);
    expect(over.getClass - at.getClass).toBe(1);
  });
});

describe('the commit of a file', () => {
  const batchOf = (filesPerBatch: number): ModelInputs => ({
    ...DEFAULT_INPUTS,
    commit: { ...DEFAULT_INPUTS.commit, filesPerBatch },
  });
  const commitUsd = (file: ReturnType<typeof estimateFile>) =>
    file.lines
      .filter((l) => /^(Lambda Commit|SQS FIFO|Glue Data Catalog)/.test(l.item))
      .reduce((sum, l) => sum + l.usd, 0);

  it('shares the batch’s invocation, snapshot writes and catalog calls among the files of a batch of ten', () => {
    const alone = estimateFile(1000, lambdaProfile, config, batchOf(1));
    const inTen = estimateFile(1000, lambdaProfile, config, batchOf(10));
    const c = DEFAULT_INPUTS.commit;
    expect(alone.s3.putClass - inTen.s3.putClass).toBeCloseTo(c.s3PutPerBatch * 0.9, 12);
    expect(alone.s3.getClass - inTen.s3.getClass).toBeCloseTo(c.s3GetPerBatch * 0.9, 12);
    const catalog = (l: typeof alone) => l.lines.find((x) => x.item === 'Glue Data Catalog')!.quantity;
    expect(catalog(inTen)).toBeCloseTo(c.catalogRequestsPerBatch / 10, 12);
    const sqs = (l: typeof alone) => l.lines.find((x) => x.item.startsWith('SQS FIFO'))!.quantity;
    expect([sqs(alone), sqs(inTen)]).toEqual([
      c.sqsPerFile + c.sqsPerBatch,
      c.sqsPerFile + c.sqsPerBatch / 10,
    ]);
    expect(commitUsd(inTen)).toBeLessThan(commitUsd(alone));
  });

  it('costs a few millionths of a dollar at the prices read on 2026-12-02 (us-east-1)', () => {
    // The Commit invocation (512 MB arm64, 0.5 s cold + 0.5 s), 3 SQS FIFO requests, 3 catalog
    // requests, and the commit's S3 requests (3 PUT, 5 GET/HEAD) for a lone file.
    const alone = estimateFile(1000, lambdaProfile, config, batchOf(1));
    // 512 MB for 1 s (0.5 s cold start + 0.5 s): 0.5 GB-s; the request is on the Lambda requests line.
    const expected =
      0.5 * PRICES.lambdaGbSecondArm.usd +
      (3 * PRICES.sqsFifoRequests.usd) / 1e6 +
      (3 * PRICES.glueCatalogRequests.usd) / 1e6;
    expect(commitUsd(alone)).toBeCloseTo(expected, 12);
    const s3 = (3 * PRICES.s3PutCopyPostList.usd) / 1000 + (5 * PRICES.s3Get.usd) / 1000;
    // $0.0000067 (Lambda GB-s) + $0.0000015 (SQS) + $0.000003 (catalog) + $0.000017 (S3): $0.000028.
    expect(commitUsd(alone) + s3).toBeGreaterThan(0.00002);
    expect(commitUsd(alone) + s3).toBeLessThan(0.00004);
  });
});
