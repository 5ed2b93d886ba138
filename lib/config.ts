/**
 * The app's configuration, parsed once from CDK context (`cdk.json` or `-c key=value`) with zod.
 * Constructs receive plain typed props derived from it and never read context or the environment.
 */
import * as z from 'zod';
import { GLUE_WORKER_DPU, type GlueWorkerType } from './conversion/glue-sizing.ts';
import {
  CONVERT_FUNCTION,
  CONVERT_SPEED_SHARE_ASSUMED,
  MEASURED_CONVERT_MB_PER_S,
  PARQUET_SHARE_OF_CSV,
  PUBLISH_RESERVE_MS,
  workBytes,
} from './conversion/lambda-sizing.ts';

const email = z.email({ error: (issue) => `not an e-mail address: ${JSON.stringify(issue.input)}` });

/** Context values may arrive as strings (`-c x=3`): numbers and lists are accepted in both forms. */
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A switch: `true`/`false`, or the same as text (`-c console=true`). */
const flag = () => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const emails = z
  .union([
    z.array(email),
    z.string().transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ])
  .pipe(z.array(email));

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * The validator's throughput measured by `npm run bench` (one core), MB/s: the slower of the two
 * machines it has run on (144.3 on an Intel Xeon, 80.0 on an AMD EPYC; BENCHMARKS.md and its history).
 */
export const MEASURED_VALIDATE_MB_PER_S = 80;

/**
 * The default large-file threshold: what one validation Lambda reads in the 10 of its 15 minutes a
 * slice may use (5 are kept for the copy and the report), at a quarter of the measured rate, for a
 * Lambda vCPU slower than the bench machine and an S3 stream slower than a local file: 12 GB.
 */
export const DEFAULT_LARGE_FILE_BYTES = Math.floor(MEASURED_VALIDATE_MB_PER_S * 1e6 * 0.25 * 600);

/**
 * The default `fastPathMaxBytes`: files up to this size are converted by the Convert Lambda
 * (DuckDB), larger ones by the Glue job. The smaller of what the function can convert in time and
 * what its /tmp can hold (lib/conversion/lambda-sizing.ts):
 * - time: half the measured 34 MB/s (2 DuckDB threads on the bench machine; the function has 6)
 *   for the 14 of its 15 minutes left after the publish reserve: 17 MB/s × 840 s = 14.3 GB;
 * - disk: the three quarters of its 10,240 MB /tmp not kept for DuckDB's spill, for the source and
 *   a Parquet of up to half its size: 7,680 MiB / 1.5 = 5,368,709,120 bytes (5.4 GB).
 * Disk is the limit: 5,368,709,120 bytes. Memory is not: DuckDB streams the file, and the
 * function's peak RSS converting 1 GB was under 500 MB of its 10,240 (BENCHMARKS.md).
 */
export const DEFAULT_FAST_PATH_MAX_BYTES = Math.floor(
  Math.min(
    MEASURED_CONVERT_MB_PER_S *
      1e6 *
      CONVERT_SPEED_SHARE_ASSUMED *
      (CONVERT_FUNCTION.timeoutMinutes * 60 - PUBLISH_RESERVE_MS / 1000),
    workBytes(CONVERT_FUNCTION) / (1 + PARQUET_SHARE_OF_CSV),
  ),
);

/** The largest object one S3 POST (a browser form upload) may carry: 5 GiB. */
export const MAX_POST_BYTES = 5 * 2 ** 30;

/** Days Step Functions keeps a closed standard execution (DescribeExecution answers for this long). */
export const EXECUTION_HISTORY_DAYS = 90;

/**
 * The longest `landingExpiryDays`. A landed version lives up to twice that (current, then
 * noncurrent for as long), and S3 applies lifecycle rules up to a day or two late; the reconciler
 * reads an execution's name as the version's outcome, so every version must be gone before Step
 * Functions forgets its execution, or the reconciler would take a file done long ago for one never
 * started and ingest it again: 2 × 40 + 2 < 90.
 */
export const MAX_LANDING_EXPIRY_DAYS = 40;

const configSchema = z.strictObject({
  /** Prefix of stack names and resource names; lower-case so it suits bucket and Glue names. */
  prefix: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,11}$/, {
      error: 'prefix must be 2–12 characters of [a-z0-9-], starting with a letter',
    })
    .default('csvlake'),
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,9}$/, {
      error: 'stage must be 1–10 characters of [a-z0-9], starting with a letter',
    })
    .default('dev'),
  notificationEmails: emails.default([]),
  alarmEmails: emails.default([]),
  landingExpiryDays: count(1, 3650)
    .refine((days) => days <= MAX_LANDING_EXPIRY_DAYS, {
      error: `landingExpiryDays must be at most ${MAX_LANDING_EXPIRY_DAYS}: a landed version lives up to twice as long (current, then noncurrent), and must be gone before Step Functions forgets its execution after ${EXECUTION_HISTORY_DAYS} days, or the reconciler would ingest it again`,
    })
    .default(30),
  athenaResultsExpiryDays: count(1, 3650).default(30),
  failureTransitionDays: count(30, 3650).default(90),
  /**
   * Which engine converts a valid file: `auto` sends files up to `fastPathMaxBytes` to the Convert
   * Lambda (DuckDB) and larger ones to the Glue job; `glue` sends every file to the Glue job.
   */
  conversion: z.enum(['auto', 'glue']).default('auto'),
  /** The largest file (bytes) the Convert Lambda takes when `conversion` is `auto`. */
  fastPathMaxBytes: count(0, 10_000_000_000).default(DEFAULT_FAST_PATH_MAX_BYTES),
  /**
   * The Convert Lambda's instruction set: `x86_64` carries the DuckDB binding the tests and the
   * bench run; `arm64` (about 20 % cheaper per GB-second) fetches its binding at synth.
   */
  convertArchitecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  glueWorkerType: z
    .enum(Object.keys(GLUE_WORKER_DPU) as [GlueWorkerType, ...GlueWorkerType[]])
    .default('G.1X'),
  /**
   * The most workers one Glue run gets. Each run is sized from its file by `glueRunSize`
   * (lib/conversion/glue-sizing.ts): a small file, or one Spark cannot split, gets 2.
   */
  glueWorkers: count(2, 299).default(10),
  glueMaxConcurrentRuns: count(1, 1000).default(10),
  /** The longest timeout of one Glue run; each run's timeout scales with its file up to this. */
  glueTimeoutMinutes: count(1, 2880).default(60),
  /**
   * Objects above this many bytes take the large-file route: validated in slices of this size, one
   * Lambda invocation each, resumed where the last stopped (gzip above it is refused: it cannot be
   * resumed mid-stream).
   */
  largeFileBytes: count(1024, Number.MAX_SAFE_INTEGER).default(DEFAULT_LARGE_FILE_BYTES),
  /** Athena's per-query scan cap; 10 GB by default. */
  athenaBytesScannedCutoff: count(10_000_000, Number.MAX_SAFE_INTEGER).default(10_000_000_000),
  /** Hours between two runs of the scheduled reconciler. */
  reconcileEveryHours: count(1, 24).default(1),
  /** Whether the scheduled reconciler re-drives the orphans it finds (it always counts them). */
  reconcileRedrive: flag().default(true),
  /**
   * Days the datasets' Iceberg snapshots are kept (the Glue retention optimizer and the tables'
   * `history.expire.max-snapshot-age-ms`): a training set pinned by snapshot id can be read again
   * for this long. Glue's own default is 5 days.
   */
  snapshotRetentionDays: count(1, 3650).default(90),
  /**
   * Whether the Glue Data Catalog table optimizers (compaction, snapshot retention, orphan-file
   * deletion) run on the datasets' tables.
   */
  tableOptimizers: flag().default(true),
  logRetentionDays: z.coerce
    .number()
    .int()
    .refine((d) => LOG_RETENTION_DAYS.includes(d), {
      error: `logRetentionDays must be one of CloudWatch's values: ${[1, 3, 5, 7, 14, 30, 60, 90, 365, 3653].join(', ')}, …`,
    })
    .default(90),
  datasetsDir: z.string().default('datasets'),
  /**
   * Whether the web console is deployed: a third stack (`<prefix>-<stage>-console`) with the
   * sign-in (Cognito), the HTTP API and the static site behind CloudFront. Off: the storage and
   * pipeline stacks are exactly what they are without it.
   */
  console: flag().default(false),
  /**
   * The largest file the console's upload route signs a POST for, bytes: 1 GiB by default, at
   * most 5 GiB, the most one S3 POST takes.
   */
  consoleMaxUploadBytes: count(1, MAX_POST_BYTES).default(2 ** 30),
  /** The most rows a console query's results are paged to. */
  consoleQueryMaxRows: count(1, 1_000_000).default(10_000),
  /** The API stage's steady request rate (requests per second, every route together). */
  consoleRateLimit: count(1, 10_000).default(25),
  /** The API stage's burst: requests allowed at once above the steady rate. */
  consoleBurstLimit: count(1, 5_000).default(50),
  /**
   * People the console stack creates as users on deploy: Cognito e-mails each a temporary
   * password to sign in with (then a new password, MFA optional). Others are added with
   * `aws cognito-idp admin-create-user` (README); a user removed from the list is deleted.
   */
  consoleAdminEmails: emails.default([]),
  /**
   * What `cdk synth` compares the declarations with before it builds the lake (a folder, or a git
   * ref of the repository holding `datasetsDir`): a breaking change that is not a new version stops
   * the synth. `none` turns the check off. Left out: `HEAD` (the uncommitted changes), skipped
   * with a warning outside a git checkout.
   */
  datasetsBaseline: z
    .string()
    .min(1, { error: 'datasetsBaseline must be a folder, a git ref or none' })
    .optional(),
});

/** The parsed configuration. */
export type LakeConfig = z.output<typeof configSchema>;

/** The context keys the app reads. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof LakeConfig)[];

/** Parses the configuration from a context lookup; errors name every bad key and its value. */
export function parseConfig(lookup: (key: string) => unknown): LakeConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = lookup(key);
    if (value !== undefined) raw[key] = value;
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `  - ${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new Error(`invalid configuration (CDK context):\n${problems.join('\n')}`);
}
