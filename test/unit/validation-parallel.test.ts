/**
 * Validation in parallel ranges: each range starts at a guessed record boundary (the first line
 * break past its nominal start, as if outside quotes) and the merge confirms or redoes it. The
 * differential tests hold every split to the single pass: the same result (verdict, rows, bytes,
 * counts, recordSpansLines, the error list and its maxErrors cut) and the same errors in the same
 * order through onError. Ranges are tiny (a few bytes: boundaries inside quotes, inside CRLF,
 * inside UTF-8 sequences, inside records over the cap) and run in this thread for the many small
 * cases; a few cases start real worker threads. The oracle is the same validator in one pass:
 * this proves the split and the merge, not the rules.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import type { ValidationError } from '../../lib/validation/csv-validator.ts';
import { type ParallelOptions, type RangeReport, validateParallel } from '../../lib/validation/parallel.ts';
import { sourceWorkerEntry } from '../../lib/validation/source-worker.ts';
import { type ValidationRun, validateCsv } from '../../lib/validation/validate-csv.ts';
import {
  corpusSamples,
  crlf,
  evolvedOrders,
  evolvedOrdersCsv,
  fuzzSamples,
  generatedSamples,
  NAME_QTY,
  ORDERS,
  oversizedFuzzSamples,
  oversizedSamples,
  quotedNewlineOrders,
  type Sample,
  sample,
} from './validation-samples.ts';

interface Collected {
  readonly result: ValidationRun;
  /** Every error `onError` received, or null when none was passed. */
  readonly streamed: ValidationError[] | null;
}

/** How a test splits the files. */
interface Split {
  readonly label: string;
  /** Bytes a range reads at a time, for a file of `n` bytes. */
  readonly chunkBytes: (n: number) => number;
  /** Ranges, for a file of `n` bytes. */
  readonly ranges: (n: number) => number;
  readonly maxErrors: number;
  /** Whether every error is streamed out (onError), with ranges holding this many at most. */
  readonly errorBuffer: number | null;
}

const SPLITS: Split[] = [
  {
    label: 'a range every 2 bytes, chunks of 3 bytes, errors streamed, ranges holding 2 errors',
    chunkBytes: () => 3,
    ranges: (n) => Math.max(1, Math.floor(n / 2)),
    maxErrors: Number.MAX_SAFE_INTEGER,
    errorBuffer: 2,
  },
  {
    label: 'a range every 7 bytes, chunks of 16 bytes, the first 3 errors listed',
    chunkBytes: () => 16,
    ranges: (n) => Math.max(1, Math.floor(n / 7)),
    maxErrors: 3,
    errorBuffer: null,
  },
  {
    label: '5 ranges, chunks of a twentieth of the file, errors streamed, the first 5 listed',
    chunkBytes: (n) => Math.max(1, Math.floor(n / 20)),
    ranges: () => 5,
    maxErrors: 5,
    errorBuffer: 10_000,
  },
];

/** The single pass, reading the same chunks as the ranges do (so that `bytes` agrees for UTF-16). */
async function onePass(s: Sample, split: Split): Promise<Collected> {
  const size = split.chunkBytes(s.bytes.length);
  const chunks = async function* () {
    for (let p = 0; p < s.bytes.length; p += size) yield s.bytes.subarray(p, p + size);
  };
  const streamed: ValidationError[] = [];
  const result = await validateCsv(chunks(), s.dataset, {
    maxErrors: split.maxErrors,
    ...(s.maxRecordBytes === undefined ? {} : { maxRecordBytes: s.maxRecordBytes }),
    ...(split.errorBuffer === null ? {} : { onError: (e: ValidationError) => streamed.push(e) }),
  });
  return { result, streamed: split.errorBuffer === null ? null : streamed };
}

interface Ranged extends Collected {
  /** How each range went. */
  readonly ranges: RangeReport[];
}

async function inRanges(s: Sample, split: Split, more: Partial<ParallelOptions> = {}): Promise<Ranged> {
  const streamed: ValidationError[] = [];
  const ranges: Ranged['ranges'] = [];
  const result = await validateParallel({ kind: 'bytes', bytes: s.bytes }, s.dataset, {
    threads: 2,
    inThread: true,
    minBytes: 0,
    ranges: split.ranges(s.bytes.length),
    chunkBytes: split.chunkBytes(s.bytes.length),
    maxErrors: split.maxErrors,
    ...(s.maxRecordBytes === undefined ? {} : { maxRecordBytes: s.maxRecordBytes }),
    ...(split.errorBuffer === null
      ? {}
      : { onError: (e: ValidationError) => streamed.push(e), errorBuffer: split.errorBuffer }),
    onRange: (range) => ranges.push(range),
    ...more,
  });
  return { result, streamed: split.errorBuffer === null ? null : streamed, ranges };
}

const SAMPLES = [
  ...corpusSamples(),
  ...generatedSamples(),
  ...oversizedSamples(),
  ...fuzzSamples(150),
  ...oversizedFuzzSamples(60),
];

describe.each(SPLITS)('validation in parallel ranges, $label', (split) => {
  it.each(SAMPLES.map((s) => [s.name, s] as const))('%s: the same as one pass', async (_name, s) => {
    // Prepare
    const whole = await onePass(s, split);

    // Act
    const ranged = await inRanges(s, split);

    // Assess
    expect(ranged.result).toEqual(whole.result);
    expect(ranged.streamed).toEqual(whole.streamed);
  });

  it('takes both paths over the samples: guesses confirmed and guesses redone', async () => {
    // Prepare
    const outcomes = { confirmed: 0, redone: 0, 'in order': 0 };

    // Act
    for (const s of SAMPLES) for (const range of (await inRanges(s, split)).ranges) outcomes[range.outcome]++;

    // Assess: a split whose guesses were all right (or all wrong) would not test the merge. In
    // this thread every range is guessed: none waits for its turn.
    expect(outcomes['in order']).toBe(0);
    expect(outcomes.confirmed).toBeGreaterThan(100);
    expect(outcomes.redone).toBeGreaterThan(100);
  });
});

/** A quoted value holding line breaks and text that reads as records of the file from inside. */
const TRAP = [
  'name,qty\n',
  'a,1\n',
  `"${'x'.repeat(40)}\nfake,1\nfake,oops\n\nfake,2\n${'y'.repeat(40)}",3\n`,
  'b,x\n',
  'c,4\n',
].join('');

describe('a range that starts inside a quoted field', () => {
  it('is guessed wrong, validated again from the true state, and the result is the single pass', async () => {
    // Prepare: one range boundary, at the first line break past the middle of the quoted value.
    const s = sample('trap', NAME_QTY, TRAP);
    const split: Split = {
      label: 'two ranges',
      chunkBytes: () => 8,
      ranges: () => 2,
      maxErrors: 100,
      errorBuffer: 100,
    };
    const whole = await onePass(s, split);

    // Act
    const ranged = await inRanges(s, split);

    // Assess: the second range began inside the quotes (its guess would have reported "oops" and
    // a blank line), and the merged result has the single pass's one error, on line 9.
    const inside = TRAP.indexOf('fake');
    expect(ranged.ranges).toEqual([
      { start: expect.any(Number), outcome: 'confirmed' },
      { start: expect.any(Number), outcome: 'redone' },
    ]);
    expect(ranged.ranges[1]!.start).toBeGreaterThan(inside);
    expect(ranged.ranges[1]!.start).toBeLessThan(TRAP.indexOf('",3'));
    expect(ranged.result).toEqual(whole.result);
    expect(ranged.streamed).toEqual(whole.streamed);
    expect(whole.result.errors.map((e) => [e.line, e.value])).toEqual([[9, 'x']]);
  });
});

describe('validation in parallel worker threads', () => {
  const broken = brokenOrdersCsv();
  const body = broken.slice(ORDERS_HEADER.length);
  const cases: Sample[] = [
    sample('broken orders, repeated', ORDERS, ORDERS_HEADER + body.repeat(60)),
    sample('orders with quoted line breaks, CRLF', ORDERS, crlf(quotedNewlineOrders()).repeat(1)),
    sample('valid orders', ORDERS, ORDERS_HEADER + orderRows(3, 0, 3000)),
    sample('the trap, repeated', NAME_QTY, TRAP + TRAP.slice('name,qty\n'.length).repeat(200)),
    // The mapping (an alias, ignored cells in front) travels to the workers with each range's start.
    sample(
      'evolved orders, columns ignored, repeated',
      evolvedOrders('ignore'),
      evolvedOrdersCsv(ORDERS_HEADER + body.repeat(60)),
    ),
  ];
  const split: Split = {
    label: 'workers',
    chunkBytes: () => 512,
    ranges: () => 9,
    maxErrors: 10,
    errorBuffer: 50,
  };

  it.each(cases.map((s) => [s.name, s] as const))('%s: the same as one pass', async (_name, s) => {
    // Prepare
    const whole = await onePass(s, split);

    // Act
    const ranged = await inRanges(s, split, {
      inThread: false,
      threads: 3,
      workerEntry: await sourceWorkerEntry(),
    });

    // Assess: the last ranges at least were validated by the workers (they take ranges from the
    // end of the file, this thread from its start).
    expect(ranged.result).toEqual(whole.result);
    expect(ranged.streamed).toEqual(whole.streamed);
    expect(ranged.ranges.at(-1)!.outcome).not.toBe('in order');
  });
});

describe('validation in parallel ranges with stopWhen', () => {
  it('stops at a merged range with a checkpoint that a single pass resumes to the same result', async () => {
    // Prepare
    const s = sample('broken orders, CRLF', ORDERS, crlf(brokenOrdersCsv()).repeat(1));
    const split = SPLITS[1]!;
    const whole = await onePass(s, { ...split, errorBuffer: 10_000 });
    const streamed: ValidationError[] = [];
    let paced = 0;

    // Act: stop after the first range past a third of the file, then resume in one pass.
    const first = await validateParallel({ kind: 'bytes', bytes: s.bytes }, s.dataset, {
      threads: 2,
      inThread: true,
      minBytes: 0,
      ranges: 6,
      chunkBytes: 64,
      maxErrors: Number.MAX_SAFE_INTEGER,
      onError: (e) => streamed.push(e),
      pace: () => {
        paced++;
        return undefined;
      },
      stopWhen: (done) => done > s.bytes.length / 3,
    });
    const checkpoint = JSON.parse(JSON.stringify(first.checkpoint));
    const rest = await validateCsv(
      (async function* () {
        yield s.bytes.subarray(checkpoint.offset);
      })(),
      s.dataset,
      { resume: checkpoint, maxErrors: 0, onError: (e) => streamed.push(e) },
    );

    // Assess
    expect(first.complete).toBe(false);
    expect(checkpoint.offset).toBeGreaterThan(s.bytes.length / 3);
    expect(checkpoint.offset).toBeLessThan(s.bytes.length);
    expect(first).toMatchObject({ rows: checkpoint.rows, errorCount: checkpoint.errorCount });
    expect(streamed).toEqual(whole.streamed);
    const { valid, rows, errorCount, errorsByColumn, errorsByRule, recordSpansLines } = whole.result;
    expect(rest).toMatchObject({ valid, rows, errorCount, errorsByColumn, errorsByRule, recordSpansLines });
    expect(paced).toBeGreaterThan(0);
  });
});

describe('a range worker that fails', () => {
  it('fails the run with its error, name and message kept (the workflow matches on the name)', async () => {
    // Prepare: a worker entry whose source fails as S3 does when the object was replaced.
    const dir = await mkdtemp(join(tmpdir(), 'failing-worker-'));
    const entry = join(dir, 'entry.ts');
    const parallel = fileURLToPath(new URL('../../lib/validation/parallel.ts', import.meta.url));
    await writeFile(
      entry,
      `import { serveRanges } from ${JSON.stringify(parallel)};
serveRanges(() => ({
  size: 0,
  read() {
    throw Object.assign(new Error('the object was replaced'), { name: 'ObjectReplaced' });
  },
}));
`,
    );
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'entry.mjs'),
    });
    const s = sample('valid orders', ORDERS, ORDERS_HEADER + orderRows(3, 0, 3000));

    // Act
    const run = inRanges(s, SPLITS[1]!, {
      inThread: false,
      ranges: 4,
      chunkBytes: 4096,
      workerEntry: pathToFileURL(join(dir, 'entry.mjs')),
    });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ObjectReplaced', message: 'the object was replaced' });
    await rm(dir, { recursive: true, force: true });
  });
});
