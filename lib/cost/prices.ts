/**
 * The published prices the cost model (`npm run cost`) multiplies by, for one region, each with
 * the date it was read and where. On-demand list prices without free tiers or volume discounts:
 * the price of the next unit for an account past its free tier.
 *
 * Read with the `search` tool (stored copies of public pages) on 2026-12-02, not from AWS itself
 * (this machine cannot reach AWS). Where only a third-party page gave the figure, the source says
 * so; `verified: false` marks a figure no stored page confirmed.
 */

/** The region every price is for. */
export const PRICE_REGION = 'us-east-1';

/** The day the prices were read. */
export const PRICES_READ_ON = '2026-12-02';

/** One price: dollars per `per` of `unit`. */
export interface Price {
  readonly usd: number;
  /** How many units the price is for (1,000 requests, 1 GB-second, …). */
  readonly per: number;
  readonly unit: string;
  /** Where the figure was read (a URL), and who publishes it when that is not AWS. */
  readonly source: string;
  /** False when no stored page confirmed the figure: it is stated, not checked. */
  readonly verified: boolean;
  readonly note?: string;
}

const AWS_LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const LAMBDA_THIRD_PARTY =
  'https://cloudchipr.com/blog/aws-lambda-pricing (third party, us-east-1 tiers; the AWS page was stored without its table)';

/** The price table. Keys are the names the model and BENCHMARKS.md use. */
export const PRICES = {
  lambdaGbSecondX86: {
    usd: 0.0000166667,
    per: 1,
    unit: 'GB-second (x86_64, first 6 billion GB-s a month)',
    source: LAMBDA_THIRD_PARTY,
    verified: true,
    note: `duration is billed per 1 ms, init code included (${AWS_LAMBDA})`,
  },
  lambdaGbSecondArm: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-second (arm64, first 7.5 billion GB-s a month)',
    source: LAMBDA_THIRD_PARTY,
    verified: true,
  },
  lambdaRequests: {
    usd: 0.2,
    per: 1_000_000,
    unit: 'requests',
    source: `${LAMBDA_THIRD_PARTY}; ${AWS_LAMBDA} (what counts as a request)`,
    verified: true,
  },
  stepFunctionsTransitions: {
    usd: 0.025,
    per: 1_000,
    unit: 'state transitions (standard workflows)',
    source: 'https://aws.amazon.com/step-functions/pricing/',
    verified: true,
    note: 'a transition each time a step runs, each retry another',
  },
  glueDpuHour: {
    usd: 0.44,
    per: 1,
    unit: 'DPU-hour (Spark job; G.1X worker = 1 DPU; per second, 1-minute minimum on Glue 2.0+)',
    source:
      'https://aws.amazon.com/glue/pricing/ (localized copy: 6 DPU × 15 min = $0.66 at $0.44); minimum and worker DPUs from https://awsnegotiations.com/glue-job-cost-optimization.html (third party)',
    verified: true,
  },
  s3PutCopyPostList: {
    usd: 0.005,
    per: 1_000,
    unit: 'PUT, COPY, POST, LIST requests (S3 Standard)',
    source:
      'https://athena.guide/articles/athena-basics-pricing-model (third party: LIST $5 per million; the AWS page was stored without its table)',
    verified: true,
    note: 'multipart parts (UploadPart, UploadPartCopy) and their create/complete are PUT-class',
  },
  s3Get: {
    usd: 0.0004,
    per: 1_000,
    unit: 'GET, HEAD and other requests (S3 Standard)',
    source: 'https://athena.guide/articles/athena-basics-pricing-model (third party: GET $0.4 per million)',
    verified: true,
    note: 'DELETE and abort requests are free',
  },
  s3StandardGbMonth: {
    usd: 0.023,
    per: 1,
    unit: 'GB-month, S3 Standard (first 50 TB)',
    source: 'https://cloudburn.io/blog/amazon-s3-pricing (third party, us-east-1, March 2026)',
    verified: true,
  },
  kmsRequests: {
    usd: 0.03,
    per: 10_000,
    unit: 'requests (symmetric key)',
    source:
      'https://www.wring.co/blog/aws-kms-pricing-guide (third party); key storage ($1 a key a month) on https://aws.amazon.com/kms/pricing/',
    verified: true,
  },
  athenaTbScanned: {
    usd: 5,
    per: 1,
    unit: 'TB scanned (rounded up to the MB, 10 MB minimum a query)',
    source:
      'https://athena.guide/articles/athena-basics-pricing-model and https://rcpedia.stanford.edu/services/athena.html (third party)',
    verified: true,
  },
  dynamodbWriteRequestUnits: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'write request units (on-demand; one per 1 KB written to the table or an index)',
    source:
      'https://airbyte.com/data-engineering-resources/dynamodb-pricing (third party: on-demand halved in November 2024)',
    verified: true,
  },
  dynamodbReadRequestUnits: {
    usd: 0.125,
    per: 1_000_000,
    unit: 'read request units (on-demand; a strongly consistent read of up to 4 KB, or two eventually consistent)',
    source:
      'https://airbyte.com/data-engineering-resources/dynamodb-pricing (third party: on-demand halved in November 2024)',
    verified: true,
  },
  snsPublishes: {
    usd: 0.5,
    per: 1_000_000,
    unit: 'publishes (standard topic, each 64 KB chunk one request)',
    source: 'https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ (third party)',
    verified: true,
    note: 'deliveries are priced apart (e-mail $2 per 100,000); the lake subscribes none by default',
  },
  glueCatalogRequests: {
    usd: 1,
    per: 1_000_000,
    unit: 'Glue Data Catalog requests (after the first million a month)',
    source:
      'https://athena.guide/articles/athena-basics-pricing-model and https://awsnegotiations.com/glue-job-cost-optimization.html (third party)',
    verified: true,
  },
  sqsFifoRequests: {
    usd: 0.5,
    per: 1_000_000,
    unit: 'FIFO queue requests (each 64 KB of a payload is one; after the first million a month)',
    source:
      'https://cloudburn.io/blog/amazon-sqs-pricing (third party, us-east-1, March 2026) and https://www.factualminds.com/blog/amazon-sqs-pricing-64kb-rule-fifo-vs-standard/ (third party, June 2026)',
    verified: true,
  },
  cloudWatchLogsIngestedGb: {
    usd: 0.5,
    per: 1,
    unit: 'GB ingested (standard log class)',
    source: 'https://c3x.dev/blog/cloudwatch-logs-cost-optimization (third party, us-east-1, June 2026)',
    verified: true,
  },
} as const satisfies Record<string, Price>;

/**
 * How Athena bills a query's bytes (with {@link PRICES}`.athenaTbScanned`): rounded up to the
 * megabyte, 10 MB at least. Read on 2026-12-02; binary units, as the cost model counts them.
 */
export const ATHENA_BILLING = {
  roundUpToBytes: 1024 ** 2,
  minimumBytes: 10 * 1024 ** 2,
  source:
    'https://rcpedia.stanford.edu/services/athena.html and https://athena.guide/articles/athena-basics-pricing-model (third party: $5 per TB, rounded up to the nearest MB, 10 MB minimum per query)',
  verified: true,
} as const;

/** The name of a price in {@link PRICES}. */
export type PriceName = keyof typeof PRICES;

/** Dollars for `quantity` units of a price. */
export function dollars(price: Price, quantity: number): number {
  return (price.usd * quantity) / price.per;
}
