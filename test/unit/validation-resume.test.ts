/**
 * Validation in slices (the large-file route): a run stops at a record boundary, its checkpoint
 * goes through JSON as it does through Step Functions state, and the next run resumes from that
 * byte. The differential tests hold every slicing to the single pass: the same errors in the same
 * order (through `onError`), the same counts, the same verdict. Each such case asserts that a run
 * really stopped inside its file; the ten files no run can stop inside are listed, checked to be
 * exactly those, and tested apart. The oracle is the same validator in one pass: this proves
 * resuming, not the rules. Inputs: the conformance corpus, generated orders files, dialect edge
 * cases and seeded random files; no fixture files.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows, prng } from '../../lib/samples/orders-generator.ts';
import {
  CHECKPOINT_VERSION,
  CsvValidator,
  type ValidationCheckpoint,
  type ValidationError,
} from '../../lib/validation/csv-validator.ts';
import {
  type ValidateCsvOptions,
  type ValidationRun,
  validateCsv,
} from '../../lib/validation/validate-csv.ts';
import {
  corpusSamples,
  dataset,
  fuzzSamples,
  generatedSamples,
  NAME_QTY,
  ORDERS,
  oversizedFuzzSamples,
  oversizedSamples,
  PROTO_NAMES,
  type Sample,
} from './validation-samples.ts';

/** The bytes in chunks of random size from 1 to `maxChunk`. */
async function* chunked(bytes: Buffer, rand: () => number, maxChunk: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

interface Collected {
  readonly run: ValidationRun;
  /** Every error `onError` received. */
  readonly errors: ValidationError[];
}

/** One pass over the whole file, in one chunk. */
async function onePass(s: Sample): Promise<Collected> {
  const errors: ValidationError[] = [];
  const run = await validateCsv(
    chunked(s.bytes, () => 1, Math.max(1, s.bytes.length)),
    s.dataset,
    {
      maxRecordBytes: s.maxRecordBytes,
      maxErrors: Number.MAX_SAFE_INTEGER,
      onError: (e) => errors.push(e),
    },
  );
  return { run, errors };
}

interface Slicing {
  readonly label: string;
  /** Mixed into each case's seed, so every slicing chunks a file its own way. */
  readonly seed: number;
  /** The largest chunk, for a file of `n` bytes. */
  readonly maxChunk: (n: number) => number;
  /** Bytes a run reads before it asks to stop (0: after its first chunk), for a file of `n` bytes. */
  readonly slice: (n: number) => number;
}

/** `x` rounded down, within `[lo, hi]`. */
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(x)));

// Slices and chunks scale down with the file, so that every slicing cuts every file it can: a fixed
// 1,000-byte slice never cut 295 of the 305 samples (their median is 144 bytes), and a chunk as long
// as the file lets the first run read it whole. Chunks stay 1-4 bytes on a tiny file, not always 1,
// so that another seed gives another chunking (see sliceUntilCut).
const SLICINGS: Slicing[] = [
  { label: 'stopping as early as possible, chunks of 1-7 bytes', seed: 7, maxChunk: () => 7, slice: () => 0 },
  {
    label: 'stopping as early as possible, chunks of 1 to a quarter of the file (4-64 bytes)',
    seed: 64,
    maxChunk: (n) => clamp(n / 4, 4, 64),
    slice: () => 0,
  },
  {
    label: 'slices of min(64 bytes, a quarter of the file), chunks of 1 to an eighth of it (4-17 bytes)',
    seed: 17,
    maxChunk: (n) => clamp(n / 8, 4, 17),
    slice: (n) => Math.min(64, Math.floor(n / 4)),
  },
  {
    label: 'slices of min(1000 bytes, a third of the file), chunks of 1 to a tenth of it (4-300 bytes)',
    seed: 300,
    maxChunk: (n) => clamp(n / 10, 4, 300),
    slice: (n) => Math.min(1000, Math.floor(n / 3)),
  },
];

interface Sliced {
  readonly runs: ValidationRun[];
  /** The checkpoint of every run that stopped, as the next run read it (through JSON). */
  readonly checkpoints: ValidationCheckpoint[];
  readonly errors: ValidationError[];
  /** The errors each run listed, concatenated. */
  readonly listed: ValidationError[];
}

/** Validates run after run, each resuming from the JSON of the previous one's checkpoint. */
async function inSlices(s: Sample, slicing: Slicing, seed: number): Promise<Sliced> {
  const rand = prng(seed);
  const errors: ValidationError[] = [];
  const runs: ValidationRun[] = [];
  const checkpoints: ValidationCheckpoint[] = [];
  let resume: ValidationCheckpoint | undefined;
  for (;;) {
    const offset = resume?.offset ?? 0;
    const options: ValidateCsvOptions = {
      maxRecordBytes: s.maxRecordBytes,
      maxErrors: Number.MAX_SAFE_INTEGER,
      onError: (e) => errors.push(e),
      stopWhen: (bytesRead) => bytesRead >= slicing.slice(s.bytes.length),
      ...(resume ? { resume } : {}),
    };
    const run = await validateCsv(
      chunked(s.bytes.subarray(offset), rand, slicing.maxChunk(s.bytes.length)),
      s.dataset,
      options,
    );
    runs.push(run);
    if (run.complete) {
      expect(run.checkpoint).toBeNull();
      break;
    }
    const checkpoint = run.checkpoint!;
    expect(checkpoint.offset, 'every run makes progress').toBeGreaterThan(offset);
    expect(checkpoint.offset).toBeLessThanOrEqual(s.bytes.length);
    // The result of a stopped run is the checkpoint's state: what the caller reports as progress.
    expect(run).toMatchObject({ rows: checkpoint.rows, errorCount: checkpoint.errorCount });
    const json = JSON.parse(JSON.stringify(checkpoint)) as ValidationCheckpoint;
    expect(json).toStrictEqual(checkpoint);
    checkpoints.push(json);
    resume = json;
    if (runs.length > s.bytes.length + 1) throw new Error(`${s.name}: no end after ${runs.length} runs`);
  }
  return { runs, checkpoints, errors, listed: runs.flatMap((r) => r.errors) };
}

/** Runs that stopped before the end of the file, so that the run after them had bytes to read. */
function cutsInside(s: Sample, sliced: Sliced): number {
  return sliced.checkpoints.filter((c) => c.offset < s.bytes.length).length;
}

function verdict(run: ValidationRun) {
  const { valid, rows, errorCount, errorsByColumn, errorsByRule } = run;
  return { valid, rows, errorCount, errorsByColumn, errorsByRule };
}

const SAMPLES = [...corpusSamples(), ...generatedSamples(), ...fuzzSamples(150)];
const OVERSIZED_SAMPLES = oversizedSamples();
const OVERSIZED_FUZZ = oversizedFuzzSamples(60);

/**
 * The samples no run can stop inside, whatever the chunking. A run stops only after a settled
 * record (one whose next byte has been read) once the header, or a blank line before it, is known;
 * these files have no such point before their end: empty, only a header, three blank lines, or
 * UTF-16 (whose verdict comes at the byte order mark). The differential slicings skip them, since
 * they would compare one pass with one pass; `the samples` checks this list is exactly right.
 */
const UNCUTTABLE = new Set([
  'corpus header-only-no-final-newline',
  'corpus header-only',
  'header only',
  'header only, no final newline',
  'empty file',
  'only blank lines',
  'UTF-16',
  'random file 134', // empty
  'random file 136', // only the header
  'random file with long records 32', // only the header
]);
const cut = (samples: Sample[]) => samples.filter((s) => !UNCUTTABLE.has(s.name));

/** Chunkings a case may try before it must have cut its file (see {@link sliceUntilCut}). */
const ATTEMPTS = 16;

/**
 * {@link inSlices} with the case's seed, then with other seeds until a run stops inside the file.
 * On a short file, small chunks can leave every settled record to the last run (a partial record
 * is re-parsed only once as many new bytes arrived as it holds), so that slicing would compare
 * one pass with one pass; another chunking of the same file cuts it. Every attempt is returned,
 * for the caller to hold each to the single pass.
 */
async function sliceUntilCut(s: Sample, slicing: Slicing, seed: number): Promise<Sliced[]> {
  const attempts: Sliced[] = [];
  do attempts.push(await inSlices(s, slicing, seed + 100_003 * attempts.length));
  while (cutsInside(s, attempts.at(-1)!) === 0 && attempts.length < ATTEMPTS);
  return attempts;
}

/** Whether some run can stop inside the file: a first chunk of `p` bytes then a stop, for some `p`. */
async function cuttable(s: Sample): Promise<boolean> {
  for (let p = 1; p < s.bytes.length; p++) {
    const run = await validateCsv(
      (async function* () {
        yield s.bytes.subarray(0, p);
        yield s.bytes.subarray(p);
      })(),
      s.dataset,
      { maxRecordBytes: s.maxRecordBytes, stopWhen: () => true },
    );
    if (run.checkpoint && run.checkpoint.offset < s.bytes.length) return true;
  }
  return false;
}

/** The single-pass oracle: the error stream, the listed errors and the last run's verdict. */
function expectSameAsOnePass(sliced: Sliced, whole: Collected, listed = true): void {
  expect(sliced.errors).toEqual(whole.errors);
  if (listed) expect(sliced.listed).toEqual(whole.errors);
  expect(verdict(sliced.runs.at(-1)!)).toEqual(verdict(whole.run));
}

describe.each(SLICINGS)('validation in slices, $label', (slicing) => {
  it.each(cut(SAMPLES).map((s, k) => [s.name, s, k] as const))(
    '%s: the same as one pass',
    async (_name, s, k) => {
      // Prepare
      const whole = await onePass(s);

      // Act
      const attempts = await sliceUntilCut(s, slicing, 7 * k + slicing.seed);

      // Assess: every chunking tried gives the single pass's errors and verdict, and one of them
      // really cut the file (a run stopped before its end, so the next resumed with bytes to read).
      for (const sliced of attempts) expectSameAsOnePass(sliced, whole);
      expect(whole.run.errorCount).toBe(whole.errors.length);
      expect(cutsInside(s, attempts.at(-1)!), 'runs that stopped inside the file').toBeGreaterThan(0);
    },
  );
});

/** Slices much shorter than a record over the cap, so that several runs stop inside each. */
const SKIP_SLICINGS: Slicing[] = [
  {
    label: 'slices of min(8 bytes, a quarter of the file), chunks of 1-5 bytes',
    seed: 5,
    maxChunk: () => 5,
    slice: (n) => Math.min(8, Math.floor(n / 4)),
  },
  {
    label: 'slices of min(30 bytes, a quarter of the file), chunks of 1 to an eighth of it (4-13 bytes)',
    seed: 13,
    maxChunk: (n) => clamp(n / 8, 4, 13),
    slice: (n) => Math.min(30, Math.floor(n / 4)),
  },
];

describe.each([...SLICINGS, ...SKIP_SLICINGS])('records over the cap in slices, $label', (slicing) => {
  it.each(cut(OVERSIZED_SAMPLES).map((s, k) => [s.name, s, k] as const))(
    '%s: the same as one pass',
    async (_name, s, k) => {
      // Prepare
      const whole = await onePass(s);

      // Act
      const attempts = await sliceUntilCut(s, slicing, 11 * k + slicing.seed);

      // Assess
      for (const sliced of attempts) expectSameAsOnePass(sliced, whole);
      const sliced = attempts.at(-1)!;
      expect(cutsInside(s, sliced), 'runs that stopped inside the file').toBeGreaterThan(0);
      // Really inside: with slices shorter than a record over the cap, some such record ends
      // several runs, each from where the one before stopped in it.
      if (slicing.slice(s.bytes.length) <= 64 && s.maxRecordBytes !== undefined) {
        const stops = new Map<number, number>();
        for (const c of sliced.checkpoints)
          if (c.skip) stops.set(c.skip.startLine, (stops.get(c.skip.startLine) ?? 0) + 1);
        expect(Math.max(0, ...stops.values())).toBeGreaterThanOrEqual(2);
      }
    },
  );

  it.each(cut(OVERSIZED_FUZZ).map((s, k) => [s.name, s, k] as const))(
    '%s: the same as one pass',
    async (_name, s, k) => {
      // Prepare
      const whole = await onePass(s);

      // Act
      const attempts = await sliceUntilCut(s, slicing, 13 * k + slicing.seed);

      // Assess
      for (const sliced of attempts) expectSameAsOnePass(sliced, whole, false);
      expect(cutsInside(s, attempts.at(-1)!), 'runs that stopped inside the file').toBeGreaterThan(0);
    },
  );
});

describe('files no run can stop inside', () => {
  it.each(
    [...SAMPLES, ...OVERSIZED_SAMPLES, ...OVERSIZED_FUZZ]
      .filter((s) => UNCUTTABLE.has(s.name))
      .map((s) => [s.name, s] as const),
  )('%s: every slicing reads it in one run, the same as one pass', async (_name, s) => {
    // Prepare
    const whole = await onePass(s);

    for (const [k, slicing] of [...SLICINGS, ...SKIP_SLICINGS].entries()) {
      // Act
      const sliced = await inSlices(s, slicing, k);

      // Assess: at most a stop at the very end, then a run with nothing left to read.
      expectSameAsOnePass(sliced, whole);
      expect(cutsInside(s, sliced)).toBe(0);
    }
  });
});

describe('the samples', () => {
  it('cover the edge cases the differential test is for, in files it cuts', async () => {
    // Prepare / Act: the one-pass verdicts of the samples the slicings cut, and of the others.
    const rules = async (samples: Sample[]) => {
      const seen = new Set<string>();
      for (const s of samples) for (const e of (await onePass(s)).errors) seen.add(e.rule);
      return seen;
    };
    const sliced = await rules(cut([...SAMPLES, ...OVERSIZED_SAMPLES]));
    const uncut = await rules([...SAMPLES, ...OVERSIZED_SAMPLES].filter((s) => UNCUTTABLE.has(s.name)));

    // Assess: a sample set that lost its edge cases would pass the differential test vacuously.
    for (const rule of [
      'record_too_large',
      'mixed_line_endings',
      'bare_cr',
      'unterminated_quote',
      'invalid_quote',
      'ragged_row',
      'missing_header',
      'missing_column',
      'unknown_column',
      'duplicate_column',
      'retired_column',
      'invalid_utf8',
      'not_null',
      'type',
    ])
      expect(sliced, rule).toContain(rule);
    // These two come only with files no run can stop inside: an empty one, a UTF-16 one.
    expect([...uncut].sort()).toEqual(['empty_file', 'encoding']);
  });

  it('that no run can stop inside are exactly the ones the slicings skip', async () => {
    // Prepare
    const all = [...SAMPLES, ...OVERSIZED_SAMPLES, ...OVERSIZED_FUZZ];

    // Act
    const uncuttable: string[] = [];
    for (const s of all) if (!(await cuttable(s))) uncuttable.push(s.name);

    // Assess: a file that could be cut is never excused from the differential slicings, which
    // hold 302 files to the single pass.
    expect(uncuttable).toEqual([...UNCUTTABLE]);
    expect(all.length - uncuttable.length).toBe(302);
  });
});

describe('the size cap does not depend on the chunking', () => {
  // Resuming cuts the input anew, so a verdict that depended on where chunks end would differ.
  it.each([
    ['a record over the cap with a CRLF ending in an LF file', `a,b\n1,2\n${'x'.repeat(50)}\r\n3,4\n`, 1],
    ['a record of the cap plus one byte, LF', `a,b\n1,2\n${'x'.repeat(33)}\n3,4\n`, 1],
    ['a record of exactly the cap, CRLF', `a,b\r\n1,2\r\n${'x'.repeat(31)},\r\n3,4\r\n`, 0],
    ['an oversized record after leading blank lines', `\n\n${'x'.repeat(50)}\n1,2\n`, 1],
    ['an oversized header, then a blank line in the middle', `${'h'.repeat(50)}\nx,1\n\n2,3\n`, 1],
    ['an oversized record ended by a bare CR', `a,b\n${'x'.repeat(50)}\r3,4\n`, 1],
    ['an oversized unterminated record', `a,b\n1,2\n"${'x'.repeat(50)}\n`, 1],
  ])('%s', (_label, text, tooLarge) => {
    // Prepare
    const ds = dataset([
      { name: 'a', type: 'string' },
      { name: 'b', type: 'string' },
    ]);
    const input = Buffer.from(text);
    const validate = (size: number) => {
      const validator = new CsvValidator(ds, { maxRecordBytes: 32 });
      for (let i = 0; i < input.length; i += size) validator.push(input.subarray(i, i + size));
      return validator.finish(input.length, false);
    };
    const whole = validate(input.length);

    // Act
    const bySize = Array.from({ length: 40 }, (_, k) => validate(k + 1));

    // Assess
    expect(whole.errorsByRule.record_too_large ?? 0).toBe(tooLarge);
    bySize.forEach((piecewise, k) => {
      expect({ chunkSize: k + 1, ...piecewise }).toEqual({ chunkSize: k + 1, ...whole });
    });
  });

  it('takes the cap as the bytes of a record without its line ending', () => {
    // Prepare: 32 bytes pass, 33 do not, whatever the line ending and wherever the input is cut
    // (a chunk ending at the CR of a CRLF must not count that CR as part of the record).
    const ds = dataset([{ name: 'a', type: 'string' }]);
    const verdictOf = (...pieces: string[]) => {
      const validator = new CsvValidator(ds, { maxRecordBytes: 32 });
      for (const piece of pieces) validator.push(Buffer.from(piece));
      return validator.finish(pieces.join('').length, false).errors.map((e) => `${e.rule}@${e.line}`);
    };

    // Act / Assess
    expect(verdictOf(`a\n${'x'.repeat(32)}\n`)).toEqual([]);
    expect(verdictOf(`a\r\n${'x'.repeat(32)}\r\n`)).toEqual([]);
    expect(verdictOf(`a\r\n${'x'.repeat(32)}\r`, '\n')).toEqual([]);
    expect(verdictOf(`a\n${'x'.repeat(33)}\n`)).toEqual(['record_too_large@2']);
    expect(verdictOf(`a\n${'x'.repeat(33)}`, '\n')).toEqual(['record_too_large@2']);
    expect(verdictOf(`a\r\n${'x'.repeat(33)}\r\n`)).toEqual(['record_too_large@2']);
    expect(verdictOf(`a\r\n${'x'.repeat(33)}\r`, '\n')).toEqual(['record_too_large@2']);
  });
});

describe('onError', () => {
  it('receives every error in the order found while errors lists the first maxErrors', async () => {
    // Prepare: 40 broken files in one, each with 5 errors.
    const broken = brokenOrdersCsv();
    const body = broken.slice(ORDERS_HEADER.length);
    const input = Buffer.from(ORDERS_HEADER + body.repeat(40));
    const seen: ValidationError[] = [];

    // Act
    const result = await validateCsv(
      chunked(input, () => 0.5, 4096),
      ORDERS,
      {
        maxErrors: 3,
        onError: (e) => seen.push(e),
      },
    );

    // Assess
    expect(result.errorCount).toBe(200);
    expect(seen).toHaveLength(200);
    expect(result.errors).toEqual(seen.slice(0, 3));
    const lines = seen.map((e) => e.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(seen.at(-1)!.line).toBeGreaterThan(20 * 39);
  });
});

describe('errorsByColumn', () => {
  it('counts columns named like Object.prototype members as plain numbers, through a checkpoint', async () => {
    // Prepare: a declared column "constructor" and an unknown header cell "__proto__".
    const input = Buffer.from('constructor,to_string,__proto__\nx,1,a\ny,z,b\n');
    const first = new CsvValidator(PROTO_NAMES);
    first.push(input.subarray(0, 38));
    const checkpoint = JSON.parse(JSON.stringify(first.checkpoint())) as ValidationCheckpoint;

    // Act
    const run = await validateCsv(
      chunked(input.subarray(checkpoint.offset), () => 0.5, 8),
      PROTO_NAMES,
      {
        resume: checkpoint,
      },
    );

    // Assess: two bad "constructor" values (one per run), the unknown cell counted under its text.
    expect(checkpoint.offset).toBe(38);
    expect(Object.hasOwn(checkpoint.errorsByColumn, '__proto__')).toBe(true);
    expect(Object.entries(run.errorsByColumn)).toEqual([
      ['__proto__', 1],
      ['constructor', 2],
      ['to_string', 1],
    ]);
  });
});

describe('checkpoint()', () => {
  it('is null before the header is read, then points at the next unparsed record', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);

    // Act / Assess: the header line is not complete until its line ending arrives.
    validator.push(Buffer.from('name,q'));
    expect(validator.checkpoint()).toBeNull();
    validator.push(Buffer.from('ty\na,1\nb,'));
    expect(validator.checkpoint()).toMatchObject({
      version: CHECKPOINT_VERSION,
      dataset: 'd',
      offset: 'name,qty\na,1\n'.length,
      line: 3,
      rows: 1,
      columns: ['name', 'qty'],
      expectedFields: 2,
    });
  });

  it('counts a BOM in the offset and carries a pending blank-line run', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);

    // Act
    validator.push(Buffer.from('\uFEFFname,qty\r\na,1\r\n\r\n\r\n'));

    // Assess: the BOM is 3 bytes; the two blank lines (3 and 4) are undecided yet.
    expect(validator.checkpoint()).toMatchObject({
      offset: 3 + 'name,qty\r\na,1\r\n\r\n\r\n'.length,
      line: 5,
      rows: 1,
      blankRunStart: 3,
      blankRunLength: 2,
      ending: 'CRLF',
      mixedReported: false,
    });
  });

  it('holds back a record cut at a CR: its line ending is not known yet', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);

    // Act
    validator.push(Buffer.from('name,qty\r\na,1\r'));

    // Assess
    expect(validator.checkpoint()?.offset).toBe('name,qty\r\n'.length);
  });

  it('carries the skip inside a record over the cap, and is at a record boundary after it', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY, { maxRecordBytes: 16 });
    validator.push(Buffer.from('name,qty\n'));

    // Act / Assess: the record, counted and reported already, stops after a quote in a quoted
    // field that holds a line break; the offset is every byte pushed (none is held back).
    validator.push(Buffer.from(`"${'x'.repeat(20)}\n${'y'.repeat(19)}"`));
    expect(validator.checkpoint()).toMatchObject({
      offset: 9 + 42,
      line: 2,
      rows: 1,
      errorCount: 1,
      errorsByRule: { record_too_large: 1 },
      skip: { state: 'QuoteInQuoted', lines: 1, startLine: 2 },
    });
    validator.push(Buffer.from(',1\nb,2\n'));
    expect(validator.checkpoint()).toMatchObject({ offset: 9 + 42 + 3 + 4, line: 5, rows: 2, skip: null });
  });

  it('carries a CR after a record over the cap: the next byte, in the next run, tells its ending', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY, { maxRecordBytes: 16 });

    // Act
    validator.push(Buffer.from(`name,qty\n${'x'.repeat(40)}\r`));

    // Assess
    expect(validator.checkpoint()).toMatchObject({ offset: 9 + 41, skip: { state: 'Cr', startLine: 2 } });
  });

  it('carries a header over the cap as missing, the record not counted as a row', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY, { maxRecordBytes: 16 });

    // Act
    validator.push(Buffer.from('h'.repeat(40)));

    // Assess
    expect(validator.checkpoint()).toMatchObject({
      offset: 40,
      line: 1,
      rows: 0,
      columns: 'missing',
      expectedFields: 0,
      skip: { state: 'Unquoted', lines: 0, startLine: 1 },
    });
  });

  it('carries blank lines before the header: it is still to come, and missing once it does', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);

    // Act
    validator.push(Buffer.from('\n\n\nna'));

    // Assess
    expect(validator.checkpoint()).toMatchObject({
      offset: 3,
      line: 4,
      rows: 0,
      columns: 'pending',
      blankRunStart: 1,
      blankRunLength: 3,
      errorCount: 0,
      skip: null,
    });
  });

  it('marks a missing header, and is null once the rest of the file is ignored (UTF-16)', () => {
    // Prepare
    const missing = new CsvValidator(NAME_QTY);
    const utf16 = new CsvValidator(NAME_QTY);

    // Act
    missing.push(Buffer.from('\nname,qty\n1,2\n'));
    utf16.push(Buffer.from('\uFEFFname,qty\n1,2\n', 'utf16le'));

    // Assess
    expect(missing.checkpoint()).toMatchObject({ columns: 'missing', rows: 2, errorCount: 1 });
    expect(utf16.checkpoint()).toBeNull();
  });

  it('stays small: under 4 KB for a 10-column dataset after thousands of errors', async () => {
    // Prepare: 3,000 rows with a bad value in every column but one, and a bad header cell.
    const bad = '0,"",abc,0,1.234,JPY,2,maybe,yesterday,2023-02-30\n';
    const input = Buffer.from(`${ORDERS_HEADER.replace('sku', 'SKU')}${bad.repeat(3000)}`);

    // Act: stop half-way, after the errors piled up.
    const run = await validateCsv(
      chunked(input, () => 0.5, 1 << 16),
      ORDERS,
      {
        stopWhen: (bytesRead) => bytesRead >= input.length / 2,
      },
    );

    // Assess
    expect(run.complete).toBe(false);
    expect(run.checkpoint!.errorCount).toBeGreaterThan(10_000);
    expect(Object.keys(run.checkpoint!.errorsByColumn)).toHaveLength(10);
    expect(JSON.stringify(run.checkpoint).length).toBeLessThan(4096);
  });
});

describe('resume', () => {
  it('continues line numbers and counts, and lists only its own errors', async () => {
    // Prepare: a first run stopped after line 3.
    const input = Buffer.from('name,qty\na,x\nb,2\nc,y\nd,4\n');
    const first = new CsvValidator(NAME_QTY);
    first.push(input.subarray(0, 18));
    const checkpoint = first.checkpoint()!;

    // Act
    const run = await validateCsv(
      chunked(input.subarray(checkpoint.offset), () => 0.5, 4),
      NAME_QTY,
      {
        resume: checkpoint,
      },
    );

    // Assess
    expect(checkpoint).toMatchObject({ offset: 17, line: 4, rows: 2, errorCount: 1 });
    expect(run.errors.map((e) => `${e.rule}@${e.line}:${e.value}`)).toEqual(['type@4:y']);
    expect(run).toMatchObject({
      valid: false,
      rows: 4,
      errorCount: 2,
      errorsByColumn: { qty: 2 },
      complete: true,
    });
  });

  it('ends the file like a single pass when nothing is left after the checkpoint', async () => {
    // Prepare: trailing blank lines pending at the very end of the file.
    const input = Buffer.from('name,qty\na,1\n\n\n');
    const first = new CsvValidator(NAME_QTY);
    first.push(input);
    const checkpoint = first.checkpoint()!;

    // Act
    const run = await validateCsv(
      chunked(Buffer.alloc(0), () => 0, 1),
      NAME_QTY,
      { resume: checkpoint },
    );

    // Assess
    expect(checkpoint).toMatchObject({ offset: input.length, blankRunLength: 2 });
    expect(run).toMatchObject({ valid: true, rows: 1, errorCount: 0, complete: true, checkpoint: null });
  });

  it('refuses a checkpoint of another dataset, another version, an undeclared column or skip state', () => {
    // Prepare
    const validator = new CsvValidator(NAME_QTY);
    validator.push(Buffer.from('name,qty\n'));
    const checkpoint = validator.checkpoint()!;
    const other = dataset([{ name: 'name', type: 'string' }], 'other');
    const skip = { state: 'toString' as 'Cr', lines: 0, startLine: 2 };

    // Act / Assess
    expect(() => new CsvValidator(other, { resume: checkpoint })).toThrow(
      'cannot resume a checkpoint of dataset "d" against "other"',
    );
    expect(
      () =>
        new CsvValidator(NAME_QTY, { resume: { ...checkpoint, version: 3 as typeof CHECKPOINT_VERSION } }),
    ).toThrow('cannot resume from checkpoint version 3');
    expect(
      () => new CsvValidator(NAME_QTY, { resume: { ...checkpoint, columns: ['name', 'price'] } }),
    ).toThrow('column "price"');
    expect(() => new CsvValidator(NAME_QTY, { resume: { ...checkpoint, skip } })).toThrow(
      'unknown skip state "toString"',
    );
  });

  it('reads a version 1 checkpoint: one at a record boundary, without skip', () => {
    // Prepare: what the release before skip checkpoints wrote, taken after line 2.
    const validator = new CsvValidator(NAME_QTY);
    validator.push(Buffer.from('name,qty\na,x\n'));
    const { skip, ...v1 } = validator.checkpoint()!;
    const checkpoint = { ...v1, version: 1 } as unknown as ValidationCheckpoint;

    // Act
    const resumed = new CsvValidator(NAME_QTY, { resume: checkpoint });
    resumed.push(Buffer.from('b,y\n'));
    const result = resumed.finish(4, false);

    // Assess
    expect(skip).toBeNull();
    expect(result.errors.map((e) => `${e.rule}@${e.line}`)).toEqual(['type@3']);
    expect(result).toMatchObject({ rows: 2, errorCount: 2 });
  });
});

describe('validateCsv with stopWhen', () => {
  it('still advances through a record larger than the slice', async () => {
    // Prepare: one 10 KB record, slices of 50 bytes read in 100-byte chunks.
    const input = Buffer.from(`name,qty\n${'x'.repeat(10_000)},1\nb,2\n`);
    const offsets: number[] = [];
    let resume: ValidationCheckpoint | undefined;
    let run: ValidationRun;

    // Act
    do {
      const from = resume?.offset ?? 0;
      run = await validateCsv(
        chunked(input.subarray(from), () => 0.99, 100),
        NAME_QTY,
        {
          stopWhen: (bytesRead) => bytesRead >= 50,
          ...(resume ? { resume } : {}),
        },
      );
      if (run.checkpoint) offsets.push(run.checkpoint.offset);
      resume = run.checkpoint ?? undefined;
    } while (!run.complete && offsets.length < 100);

    // Assess: the first run stops after the header; the next reads past the big record (its
    // checkpoint cannot move until the record ends), to a later stop or to the end.
    expect(offsets[0]).toBe(9);
    expect(offsets.slice(1).every((o) => o >= 9 + 10_003)).toBe(true);
    expect(offsets.length).toBeLessThanOrEqual(2);
    expect(run).toMatchObject({ complete: true, valid: true, rows: 2 });
  });

  it('stops inside a record over the cap, which is skipped, not buffered', async () => {
    // Prepare: chunks of 32 bytes, a record of 5,000.
    const input = Buffer.from(`name,qty\n${'x'.repeat(5000)},1\nb,z\n`);
    const errors: ValidationError[] = [];
    const reads: number[] = [];
    let resume: ValidationCheckpoint | undefined;
    let run: ValidationRun;

    // Act
    do {
      run = await validateCsv(
        chunked(input.subarray(resume?.offset ?? 0), () => 0.99, 32),
        NAME_QTY,
        {
          maxRecordBytes: 100,
          stopWhen: () => true,
          onError: (e) => errors.push(e),
          ...(resume ? { resume } : {}),
        },
      );
      resume = run.checkpoint ?? undefined;
      reads.push(run.bytes);
    } while (!run.complete && reads.length < 1000);

    // Assess: past the cap, every run reads one chunk and stops; none reads the record whole.
    expect(run.complete).toBe(true);
    expect(reads.length).toBeGreaterThan(5000 / 32 - 10);
    expect(Math.max(...reads)).toBeLessThan(400);
    expect(errors.map((e) => `${e.rule}@${e.line}`)).toEqual(['record_too_large@2', 'type@3']);
  });

  it.each([
    ['one unquoted line', `${'x'.repeat(5 << 20)}\n`, ['record_too_large@1']],
    ['one unterminated quote', `"${'x\n'.repeat(5 << 19)}`, ['record_too_large@1', 'unterminated_quote@1']],
  ])(
    'advances run after run through a 5 MB file of %s, at the default cap',
    async (_label, text, expected) => {
      // Prepare: what a Lambda that stops as soon as it may does with a file that never ends a record.
      const input = Buffer.from(text);
      const whole = await validateCsv(
        chunked(input, () => 0.5, 1 << 19),
        NAME_QTY,
      );
      const errors: ValidationError[] = [];
      const offsets: number[] = [];
      const reads: number[] = [];
      let resume: ValidationCheckpoint | undefined;
      let run: ValidationRun;

      // Act
      do {
        run = await validateCsv(
          chunked(input.subarray(resume?.offset ?? 0), () => 0.5, 1 << 19),
          NAME_QTY,
          {
            stopWhen: () => true,
            onError: (e) => errors.push(e),
            ...(resume ? { resume } : {}),
          },
        );
        reads.push(run.bytes);
        if (run.checkpoint) offsets.push(run.checkpoint.offset);
        resume = run.checkpoint ?? undefined;
      } while (!run.complete && reads.length < 100);

      // Assess: the first run reads past the 1 MiB cap, then every run one chunk (256 KiB) further.
      expect(run.complete).toBe(true);
      expect(reads.length).toBeGreaterThanOrEqual(10);
      expect(Math.max(...reads)).toBeLessThan(input.length / 2);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(offsets).size).toBe(offsets.length);
      expect(errors.map((e) => `${e.rule}@${e.line}`)).toEqual(expected);
      expect(verdict(run)).toEqual(verdict(whole));
    },
  );

  it('stops a gzip input with no checkpoint and releases the source', async () => {
    // Prepare
    const input = gzipSync(Buffer.from(`name,qty\n${orderRows(1, 0, 2000)}`));
    let released = false;
    const source = async function* () {
      try {
        yield* chunked(input, () => 0.5, 1024);
      } finally {
        released = true;
      }
    };

    // Act
    const run = await validateCsv(source(), NAME_QTY, { stopWhen: () => true });
    const whole = await validateCsv(
      chunked(input, () => 0.5, 1024),
      NAME_QTY,
      { stopWhen: () => false },
    );

    // Assess
    expect(run).toMatchObject({ compressed: true, complete: false, checkpoint: null });
    expect(run.bytes).toBeLessThan(input.length);
    expect(released).toBe(true);
    expect(whole).toMatchObject({ compressed: true, complete: true, checkpoint: null, bytes: input.length });
  });

  it('releases a plain source when it stops', async () => {
    // Prepare
    const input = Buffer.from(`name,qty\n${'a,1\n'.repeat(1000)}`);
    let released = false;
    let pulled = 0;
    const source = async function* () {
      try {
        for await (const chunk of chunked(input, () => 0.5, 64)) {
          pulled++;
          yield chunk;
        }
      } finally {
        released = true;
      }
    };

    // Act
    const run = await validateCsv(source(), NAME_QTY, { stopWhen: (bytesRead) => bytesRead >= 256 });

    // Assess
    expect(run.complete).toBe(false);
    expect(run.checkpoint!.offset).toBeGreaterThanOrEqual(256 - 32);
    expect(pulled).toBeLessThan(10);
    expect(released).toBe(true);
  });
});

describe('validateCsv on a UTF-16 file', () => {
  /** A source that counts the bytes pulled from it and whether it was released. */
  function counting(input: Buffer, maxChunk: number) {
    const state = { pulled: 0, released: false };
    const source = async function* () {
      try {
        for await (const chunk of chunked(input, () => 0.5, maxChunk)) {
          state.pulled += chunk.length;
          yield chunk;
        }
      } finally {
        state.released = true;
      }
    };
    return { state, source: source() };
  }

  it('stops reading at the byte order mark, releases the source and returns the final verdict', async () => {
    // Prepare: 640 KB, of which the verdict needs the first 3 bytes; stopWhen never holds it up.
    const input = Buffer.from(`\uFEFFname,qty\n${'1,2\n'.repeat(80_000)}`, 'utf16le');
    const plain = counting(input, 64);
    const stopping = counting(input, 64);

    // Act
    const run = await validateCsv(plain.source, NAME_QTY);
    const stopped = await validateCsv(stopping.source, NAME_QTY, { stopWhen: () => true });

    // Assess
    for (const [r, { state }] of [
      [run, plain],
      [stopped, stopping],
    ] as const) {
      expect(r).toMatchObject({ complete: true, checkpoint: null, valid: false, rows: 0, errorCount: 1 });
      expect(r.errors.map((e) => `${e.rule}@${e.line}`)).toEqual(['encoding@1']);
      expect(r.bytes).toBe(state.pulled);
      expect(state.pulled).toBeLessThan(256);
      expect(state.released).toBe(true);
    }
  });

  it('stops reading a gzip stream too, once the inflated bytes show the byte order mark', async () => {
    // Prepare: random rows, so that the compressed file is large too (about 170 KB).
    const input = gzipSync(Buffer.from(`\uFEFF${ORDERS_HEADER}${orderRows(7, 0, 4000)}`, 'utf16le'));
    const { state, source } = counting(input, 1024);

    // Act
    const run = await validateCsv(source, ORDERS);

    // Assess
    expect(run).toMatchObject({ compressed: true, complete: true, checkpoint: null, errorCount: 1 });
    expect(run.errors[0]!.rule).toBe('encoding');
    expect(run.bytes).toBe(state.pulled);
    expect(state.pulled).toBeLessThan(input.length / 4);
    expect(state.released).toBe(true);
  });
});

describe('validateCsv with pace', () => {
  it('waits for the promise pace returns before it reads on', async () => {
    // Prepare
    const input = Buffer.from(`name,qty\n${'a,x\n'.repeat(50)}`);
    const events: string[] = [];

    // Act
    const run = await validateCsv(
      chunked(input, () => 0.5, 16),
      NAME_QTY,
      {
        onProgress: () => events.push('read'),
        pace: () => {
          events.push('wait');
          return new Promise((resolve) =>
            setTimeout(() => {
              events.push('resume');
              resolve();
            }, 1),
          );
        },
      },
    );

    // Assess: every read after the first comes after the previous wait ended.
    expect(run.errorCount).toBe(50);
    const reads = events.filter((e) => e === 'read').length;
    expect(reads).toBeGreaterThan(10);
    expect(events.join(' ')).not.toMatch(/wait read/);
    expect(events.join(' ')).not.toMatch(/read read/);
  });
});
