/**
 * The validator against Spark's own CSV tokenizer (issue 10, item 4): univocity-parsers 2.9.1,
 * set up by SparkCsvHarness.java exactly as Spark 3.5's `CSVOptions.asParserSettings` does from the
 * reader options the Glue script's `reader_options` returns for the job arguments the Validate core
 * builds (one table feeds both: dataset → `glueJobArguments` → `parse_args` → `reader_options` →
 * univocity). Every file is read at several univocity input buffer sizes and compared field by
 * field with the records the validator tokenized (`onRecord`: null for an unquoted empty field).
 *
 * Spark's steps after univocity that this comparison models:
 * - header: with `header` and `multiLine`, the first record univocity returns is the header
 *   (CSVHeaderChecker.checkHeaderColumnNames); univocity itself skips blank lines (Spark keeps
 *   univocity's `skipEmptyLines` default), so the validator's trailing blank lines are dropped
 *   before comparing, and its inner ones stay (it counts them as rows, Spark does not);
 * - NULL: a datum equal to `nullValue` becomes NULL (UnivocityParser.nullSafeDatum): the harness
 *   prints it as null, and a quoted empty field stays "" (`emptyValue`);
 * - line endings: in multiLine mode without `lineSep` univocity takes the line separator from the
 *   file's first line break and turns that separator into LF inside quoted values; so when the
 *   first line break is CRLF, a CRLF inside the validator's values is compared as LF (the rule the
 *   contract states, glue-scripts/README.md "How values are read").
 * Not modelled (no effect on the tokens): casts, makeSafeHeader (identity on every header the
 * validator accepts: declared texts, non-empty, distinct), gzip (Spark inflates before univocity).
 *
 * A file that reads differently must be one the validator rejects, for a rule listed in
 * {@link RULES_FOR_DIFFERENCES} with the reason Spark would read it otherwise; a file it accepts
 * must read identically, unless {@link OTHER_EXPLANATIONS} says why not.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { glueJobArguments } from '../../lambdas/validate/core.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { CsvValidator, type Rule, SPARK_SEPARATOR_WINDOW } from '../../lib/validation/csv-validator.ts';
import { csvBytes, loadCorpus } from '../conformance/corpus.ts';
import { BAD_INPUTS } from '../fixtures/bad-input-corpus.ts';
import { type Dialect, dialectSweep, type FuzzFile, fuzzFile } from './fuzz-corpus.ts';
import {
  glueReaderOptions,
  type ReaderOptions,
  readWithSpark,
  requireJava,
  type SparkJob,
  type SparkReading,
  type SparkRecord,
  scriptReaderOptions,
} from './spark-tokenizer.ts';

/** univocity input buffer sizes (Spark's `inputBufferSize`); 0 is univocity's default (1M chars). */
const BUFFER_SIZES = [16, 64, 1024, 0];

/** The dialects of the fuzzed corpus, each read at every buffer size. */
const DIALECTS: readonly Dialect[] = [
  { delimiter: ',', quote: '"' },
  { delimiter: ';', quote: '"' },
  { delimiter: '\t', quote: '"' },
  { delimiter: ',', quote: "'" },
  { delimiter: '\\', quote: '"' },
  { delimiter: '"', quote: "'" },
  { delimiter: ',', quote: '\\' },
  { delimiter: ' ', quote: '"' },
  { delimiter: '|', quote: '`' },
];
const FILES_PER_DIALECT = 150;

/** Every character the model allows in each role (fewer files each). */
const SWEEP: readonly Dialect[] = dialectSweep();
const FILES_PER_SWEEP_DIALECT = 4;

/**
 * Rules under which the validator refuses a file that Spark would read differently, and why
 * Spark's reading differs. A difference on a file the validator accepts, or rejects for any other
 * rule, fails the test.
 */
const RULES_FOR_DIFFERENCES: Partial<Record<Rule, string>> = {
  ragged_row:
    'a record with another field count than the header: Spark FAILFAST fails the run (UnivocityParser.convert), and univocity skips a blank line the validator counts',
  unterminated_quote: 'univocity reads an unclosed quoted value on to the end of the file',
  invalid_quote:
    'text after a closing quote: univocity (STOP_AT_DELIMITER) keeps the quotes and the text as the value',
  bare_cr: 'a lone CR: univocity either keeps it in the value or takes it as the line separator',
  mixed_line_endings:
    'univocity takes the line separator from the first line break: the other ending leaves a CR in the value or joins records',
  missing_header: 'univocity skips blank lines before the header',
  empty_file: 'a file of only a BOM: univocity returns one record holding a NUL character',
  encoding: 'UTF-16: Spark decodes the bytes as UTF-8 (encoding UTF-8), one NUL after every character',
  record_too_large:
    "a CRLF file whose header line ends past univocity's first input buffer (1,048,576 characters): the separator is never detected and every line keeps its CR",
  unknown_column:
    'a header cell holding a line break (no declared header may, lib/datasets/model.ts): univocity takes the line separator from the first line break, even inside quotes',
};

/**
 * Differences on files the validator accepts that are no wrong reading by the job: only at a
 * buffer size Spark does not use (documented in glue-scripts/README.md, "Known differences").
 */
const OTHER_EXPLANATIONS = {
  separatorBeyondSmallBuffer:
    "univocity detects the line separator in its first input buffer only: a buffer smaller than Spark's (Glue sets no spark.sql.csv.parser.inputBufferSize, so univocity's 1M characters) that ends before a CRLF file's first line break leaves the default separator, LF",
};

interface Input {
  readonly corpus: 'conformance' | 'bad-input' | 'fuzz' | 'sweep' | 'lines' | 'window' | 'refused';
  readonly name: string;
  readonly dataset: Dataset;
  readonly bytes: Buffer;
  /** Buffer sizes to read it at (all by default). */
  readonly bufferSizes?: readonly number[];
}

interface ValidatorReading {
  /** The records the job would get were the validator's tokens Spark's: header first. */
  readonly records: SparkRecord[];
  readonly valid: boolean;
  readonly rows: number;
  readonly rules: Set<Rule>;
  /** The file's first line break is CRLF (the separator univocity detects, in its window). */
  readonly crlf: boolean;
  /**
   * Where univocity's separator detection needs its buffer to reach for a file whose first line
   * break is not LF (univocity's default separator): the break's end, in UTF-16 units of the
   * decoded text (a BOM counted); 0 for a file whose first break is LF or that has none.
   */
  readonly detectionNeeds: number;
  /** The validator's `recordSpansLines`: the job is told to read the file whole. */
  readonly spansLines: boolean;
}

/** The validator's tokens, with Spark's post-univocity steps applied (see the module doc). */
function validatorReading(dataset: Dataset, bytes: Buffer): ValidatorReading {
  const records: SparkRecord[] = [];
  const validator = new CsvValidator(dataset, {
    maxErrors: Number.MAX_SAFE_INTEGER,
    onRecord: (fields) => records.push(fields),
  });
  validator.push(bytes);
  const result = validator.finish(bytes.length, false);
  const blank = (r: SparkRecord) => r.length === 1 && r[0] === null;
  while (records.length > 0 && blank(records.at(-1)!)) records.pop();
  const text = bytes.toString('utf8');
  const firstBreak = text.search(/[\r\n]/);
  const crlf = firstBreak >= 0 && text.startsWith('\r\n', firstBreak);
  const normalized = crlf
    ? records.map((r) => r.map((f) => (f === null ? null : f.replaceAll('\r\n', '\n'))))
    : records;
  return {
    records: normalized,
    valid: result.valid,
    rows: result.rows,
    rules: new Set(result.errors.map((e) => e.rule)),
    crlf,
    detectionNeeds: firstBreak < 0 || text[firstBreak] === '\n' ? 0 : firstBreak + (crlf ? 2 : 1),
    spansLines: result.recordSpansLines,
  };
}

function corpusInputs(): Input[] {
  const conformance: Input[] = loadCorpus().map((c) => ({
    corpus: 'conformance',
    name: c.name,
    dataset: parseDataset(c.dataset, `${c.name}.json`),
    bytes: csvBytes(c),
  }));
  const datasets = new Map<string, Dataset>();
  const datasetOf = (name: string) => {
    if (!datasets.has(name)) {
      const declaration =
        name === 'limits'
          ? BAD_INPUTS.limitsDataset
          : JSON.parse(readFileSync(`datasets/${name}.json`, 'utf8'));
      datasets.set(name, parseDataset(declaration, `${name}.json`));
    }
    return datasets.get(name)!;
  };
  // The two large files (a 50 MB line, 100,000 rows) test the validator's size cap and report
  // volume, not tokenizing: every construct in them is in the small files.
  const badInput: Input[] = BAD_INPUTS.files
    .filter((f) => !f.large)
    .map((f) => {
      const body = Buffer.from(f.body());
      return {
        corpus: 'bad-input',
        name: f.name,
        dataset: datasetOf(f.dataset),
        // Spark inflates gzip before univocity sees a byte; the validator does too.
        bytes: body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body,
      };
    });
  const fuzz: Input[] = DIALECTS.flatMap((d, k) =>
    Array.from({ length: FILES_PER_DIALECT }, (_, i) => fuzzInput('fuzz', fuzzFile(1000 * k + i + 1, d))),
  );
  const sweep: Input[] = SWEEP.flatMap((d, k) =>
    Array.from({ length: FILES_PER_SWEEP_DIALECT }, (_, i) => ({
      ...fuzzInput('sweep', fuzzFile(100_000 + 10 * k + i, d)),
      bufferSizes: [16, 0],
    })),
  );
  // Records on one line each (what the line-by-line read is for), in every dialect, with rows of
  // empty or blank fields: read whole at Spark's buffer only, and line by line.
  const lines: Input[] = [...DIALECTS, ...SWEEP].flatMap((d, k) =>
    Array.from({ length: k < DIALECTS.length ? FILES_PER_DIALECT / 2 : 2 }, (_, i) => ({
      ...fuzzInput('lines', fuzzFile(300_000 + 100 * k + i, d, { lineBreaksInQuotes: false })),
      bufferSizes: [0],
    })),
  );
  return [...conformance, ...badInput, ...fuzz, ...sweep, ...lines, ...windowInputs(), ...refusedInputs()];
}

/** Dialects the model refuses because Spark's tokenizer does not follow them (lib/datasets/model.ts). */
const REFUSED: readonly Dialect[] = [
  { delimiter: ',', quote: '\t' },
  { delimiter: ',', quote: ' ' },
  { delimiter: ',', quote: '\u0001' },
  { delimiter: ',', quote: '\u0000' },
  { delimiter: '\u0000', quote: '"' },
];

/** Fuzzed files in the refused dialects, their datasets built past the model, to show why. */
function refusedInputs(): Input[] {
  return REFUSED.flatMap((d, k) =>
    Array.from({ length: 40 }, (_, i) => {
      const file = fuzzFile(200_000 + 100 * k + i, { delimiter: ',', quote: '"' });
      const text = file.bytes.toString('utf8').replaceAll('"', d.quote).replaceAll(',', d.delimiter);
      const dataset: Dataset = { ...file.dataset, dialect: { ...d } };
      return { corpus: 'refused', name: file.name, dataset, bytes: Buffer.from(text), bufferSizes: [0] };
    }),
  );
}

/**
 * CRLF files whose one-column header line ends just inside and just past univocity's default
 * input buffer, where it detects the line separator, with and without a BOM (which takes one
 * character of the buffer); read at that buffer size only (Spark's).
 */
function windowInputs(): Input[] {
  const cases = [
    { bom: '', length: SPARK_SEPARATOR_WINDOW - 2 },
    { bom: '', length: SPARK_SEPARATOR_WINDOW - 1 },
    { bom: '\ufeff', length: SPARK_SEPARATOR_WINDOW - 3 },
    { bom: '\ufeff', length: SPARK_SEPARATOR_WINDOW - 2 },
    // 1,048,576 bytes (the validator's record cap) but half as many characters: inside.
    { bom: '', length: SPARK_SEPARATOR_WINDOW / 2, letter: 'é' },
  ];
  return cases.map(({ bom, length, letter = 'h' }) => {
    const header = letter.repeat(length);
    const dataset = parseDataset(
      { name: 'wide', columns: [{ name: 'c', header, type: 'string' }] },
      'wide.json',
    );
    return {
      corpus: 'window',
      name: `${bom ? 'bom-' : ''}header-of-${length}-${letter}`,
      dataset,
      bytes: Buffer.from(`${bom}${header}\r\n"a\r\nb"\r\nc\r\n`),
      bufferSizes: [0],
    };
  });
}

function fuzzInput(corpus: 'fuzz' | 'sweep' | 'lines', file: FuzzFile): Input {
  return { corpus, name: file.name, dataset: file.dataset, bytes: file.bytes };
}

const dialectKey = (ds: Dataset) => JSON.stringify([ds.dialect.delimiter, ds.dialect.quote]);

/** A dialect's reader options for the whole-file read and for the line-by-line read. */
interface DialectOptions {
  readonly whole: ReaderOptions;
  readonly lines: ReaderOptions;
}

/**
 * The reader options of every dialect in `inputs`, from the Glue script (python3, once per kind):
 * through `parse_args` from the job arguments the Validate core builds (`--multiline` true and
 * false), or, for a dialect the model refuses (so the script refuses it too), from
 * `reader_options` directly (whole-file only).
 */
function readerOptionsByDialect(inputs: readonly Input[]): Map<string, DialectOptions> {
  const allowed = new Map<string, Dataset>();
  const refusedDialects = new Map<string, Dialect>();
  for (const input of inputs) {
    if (input.corpus === 'refused') refusedDialects.set(dialectKey(input.dataset), input.dataset.dialect);
    else allowed.set(dialectKey(input.dataset), input.dataset);
  }
  const keys = [...allowed.keys()];
  const options = glueReaderOptions(
    keys.flatMap((key) =>
      [true, false].map((recordSpansLines) =>
        glueJobArguments(allowed.get(key)!, {
          source: 's3://raw/d/ingest_date=2024-01-05/f.csv',
          target: 's3://curated/d/iceberg/data/ingest_date=2024-01-05/',
          ingestDate: '2024-01-05',
          commitRequest: 's3://curated/_commits/d/differential.json',
          rows: 0,
          runId: 'differential',
          recordSpansLines,
          landed: { key: 'd/f.csv', version: 'etag:0123' },
          lastModified: new Date('2024-01-05T10:00:00.123Z'),
        }),
      ),
    ),
  );
  const refusedOptions = scriptReaderOptions([...refusedDialects.values()]);
  return new Map([
    ...keys.map((key, i) => [key, { whole: options[2 * i]!, lines: options[2 * i + 1]! }] as const),
    ...[...refusedDialects.keys()].map(
      (key, i) => [key, { whole: refusedOptions[i]!, lines: refusedOptions[i]! }] as const,
    ),
  ]);
}

interface Comparison {
  readonly input: Input;
  readonly bufferSize: number;
  readonly validator: ValidatorReading;
  readonly spark: SparkReading;
}

/** A buffer smaller than Spark's that ends before the file's first line break: detection fails there. */
function beyondSmallBuffer(c: Comparison): boolean {
  return c.bufferSize > 0 && c.validator.detectionNeeds > c.bufferSize;
}

/** What a comparison shows: the same reading, or the rule or safe failure that covers the difference. */
function verdict(c: Comparison): { same: true } | { same: false; covered: string | undefined } {
  const { validator, spark } = c;
  if ('records' in spark && JSON.stringify(spark.records) === JSON.stringify(validator.records))
    return { same: true };
  if (beyondSmallBuffer(c)) return { same: false, covered: 'separatorBeyondSmallBuffer' };
  // unknown_column explains a difference only through a header cell holding a line break: any
  // other unknown header says nothing about how the records are tokenized.
  const headerBreak = (validator.records[0] ?? []).some((f) => f !== null && /[\r\n]/.test(f));
  const rule = [...validator.rules].find(
    (r) => r in RULES_FOR_DIFFERENCES && (r !== 'unknown_column' || headerBreak),
  );
  if (rule) return { same: false, covered: rule };
  return { same: false, covered: undefined };
}

/** One file read both ways by Spark: whole (multiLine, at Spark's buffer) and line by line. */
interface LineComparison {
  readonly input: Input;
  readonly validator: ValidatorReading;
  readonly whole: SparkReading;
  readonly lines: SparkReading;
}

let inputs: Input[];
let comparisons: Comparison[];
let refused: Comparison[];
let lineComparisons: LineComparison[];

beforeAll(async () => {
  // Prepare: every file, its validator reading, and the reader options of its dialect.
  const all = corpusInputs();
  const options = readerOptionsByDialect(all);
  const jobs: SparkJob[] = [];
  const owners: { input: Input; bufferSize: number; validator: ValidatorReading }[] = [];
  const lineOwners: { input: Input; validator: ValidatorReading }[] = [];
  for (const input of all) {
    const validator = validatorReading(input.dataset, input.bytes);
    const dialect = options.get(dialectKey(input.dataset))!;
    for (const bufferSize of input.bufferSizes ?? BUFFER_SIZES) {
      jobs.push({ bytes: input.bytes, options: dialect.whole, bufferSize });
      owners.push({ input, bufferSize, validator });
    }
    if (input.corpus !== 'refused') lineOwners.push({ input, validator });
  }
  for (const o of lineOwners)
    jobs.push({
      bytes: o.input.bytes,
      options: options.get(dialectKey(o.input.dataset))!.lines,
      bufferSize: 0,
    });
  // Act: one JVM reads every file at every buffer size, and line by line.
  const readings = await readWithSpark(jobs);
  const compared = owners.map((o, i) => ({ ...o, spark: readings[i]! }));
  inputs = all.filter((i) => i.corpus !== 'refused');
  comparisons = compared.filter((c) => c.input.corpus !== 'refused');
  refused = compared.filter((c) => c.input.corpus === 'refused');
  const wholeAtSparksBuffer = new Map(
    comparisons.filter((c) => c.bufferSize === 0).map((c) => [c.input, c.spark]),
  );
  lineComparisons = lineOwners.map((o, k) => ({
    input: o.input,
    validator: o.validator,
    whole: wholeAtSparksBuffer.get(o.input)!,
    lines: readings[owners.length + k]!,
  }));
}, 120_000);

/** A difference, readable in a failure message. */
function describeDifference(c: Comparison): string {
  return JSON.stringify({
    corpus: c.input.corpus,
    file: c.input.name,
    dialect: c.input.dataset.dialect,
    bufferSize: c.bufferSize,
    csv: c.input.bytes.toString('utf8'),
    validatorRules: [...c.validator.rules],
    validator: c.validator.records,
    spark: c.spark,
  });
}

describe("Spark's CSV tokenizer (univocity 2.9.1) against the validator", () => {
  it('reads every file the validator accepts exactly as the validator does, null and "" apart', () => {
    // Assess: field by field, at every buffer size; no accepted file may differ.
    const accepted = comparisons.filter((c) => c.validator.valid);
    const differing = accepted.filter((c) => {
      const v = verdict(c);
      return !v.same && !(v.covered !== undefined && v.covered in OTHER_EXPLANATIONS);
    });
    expect(differing.map(describeDifference).slice(0, 5)).toEqual([]);
    // The model of what the job receives matches the validator's own row count.
    const same = accepted.filter((c) => verdict(c).same);
    for (const c of same) expect(c.validator.records.length - 1).toBe(c.validator.rows);
  });

  it('finds a listed rule of the validator behind every difference', () => {
    // Assess
    const unexplained = comparisons.filter((c) => {
      const v = verdict(c);
      return !v.same && v.covered === undefined;
    });
    expect(unexplained.map(describeDifference).slice(0, 5)).toEqual([]);
  });

  it('needs every listed rule: each one covers at least one difference in the corpus', () => {
    // Assess: a rule that explains nothing is stale (or the corpus lost its case).
    const used = new Set(comparisons.map((c) => verdict(c)).flatMap((v) => (v.same ? [] : [v.covered])));
    expect(
      [...Object.keys(RULES_FOR_DIFFERENCES), ...Object.keys(OTHER_EXPLANATIONS)].filter((r) => !used.has(r)),
    ).toEqual([]);
  });

  it("reads every accepted file at every buffer size as at Spark's, once the buffer holds the first line break", () => {
    // Assess: univocity's reading of an accepted file does not depend on where its buffer is cut;
    // only its line separator detection does (it looks in the first buffer only). Rejected files
    // may: a lone LF in a CRLF file ends the record or stays in the value depending on the buffer
    // boundaries (univocity 2.9.1), one more reason for mixed_line_endings.
    const atDefault = new Map(comparisons.filter((c) => c.bufferSize === 0).map((c) => [c.input, c.spark]));
    const varying = comparisons.filter(
      (c) =>
        c.validator.valid &&
        c.bufferSize > 0 &&
        !beyondSmallBuffer(c) &&
        JSON.stringify(c.spark) !== JSON.stringify(atDefault.get(c.input)),
    );
    expect(varying.map(describeDifference).slice(0, 5)).toEqual([]);
  });

  it("refuses exactly the CRLF headers that end past univocity's separator window", () => {
    // Assess: just inside reads alike, just past is refused, a BOM counted as a character.
    const window = comparisons.filter((c) => c.input.corpus === 'window');
    expect(window.map((c) => [c.input.name, c.validator.valid, verdict(c).same])).toEqual([
      [`header-of-${SPARK_SEPARATOR_WINDOW - 2}-h`, true, true],
      [`header-of-${SPARK_SEPARATOR_WINDOW - 1}-h`, false, false],
      [`bom-header-of-${SPARK_SEPARATOR_WINDOW - 3}-h`, true, true],
      [`bom-header-of-${SPARK_SEPARATOR_WINDOW - 2}-h`, false, false],
      [`header-of-${SPARK_SEPARATOR_WINDOW / 2}-é`, true, true],
    ]);
  });

  it('covers the corpora it claims', () => {
    // Assess: sizes, so a corpus that silently shrank is seen.
    const count = (corpus: Input['corpus']) => inputs.filter((i) => i.corpus === corpus).length;
    const fields = comparisons.reduce(
      (n, c) => n + ('records' in c.spark ? c.spark.records.reduce((m, r) => m + r.length, 0) : 0),
      0,
    );
    const records = comparisons.reduce((n, c) => n + ('records' in c.spark ? c.spark.records.length : 0), 0);
    const outcomes = new Map<string, number>();
    for (const c of comparisons) {
      const v = verdict(c);
      const key = v.same
        ? c.validator.valid
          ? 'same (accepted)'
          : 'same (rejected)'
        : `differ: ${v.covered}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.info(
      `spark tokenizer differential: ${inputs.length} files (conformance ${count('conformance')}, bad-input ${count('bad-input')}, fuzz ${count('fuzz')}, sweep ${count('sweep')}, lines ${count('lines')}, window ${count('window')}), ${comparisons.length} readings, ${records} records, ${fields} fields, buffers ${BUFFER_SIZES.join('/')}; ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    expect(count('conformance')).toBeGreaterThanOrEqual(50);
    expect(count('bad-input')).toBeGreaterThanOrEqual(25);
    expect(count('fuzz')).toBe(DIALECTS.length * FILES_PER_DIALECT);
    expect(comparisons.filter((c) => c.validator.valid).length).toBeGreaterThan(comparisons.length / 3);
  });
});

/** Java's `String.trim()`: strips every character up to U+0020 at both ends. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

/**
 * What the line-by-line read gives when the only thing it does differently is drop the lines
 * Java's trim() empties (CSVExprUtils.filterCommentAndEmpty): the whole read's records with those
 * lines' records left out. For a file whose records span no lines, each record after the header is
 * one non-empty line (univocity skips empty ones); undefined when the file does not map so.
 */
function wholeLessTrimEmptyLines(c: LineComparison): SparkRecord[] | undefined {
  if (!('records' in c.whole)) return undefined;
  const lines = c.input.bytes
    .toString('utf8')
    .replace(/^\ufeff/, '')
    .split(/\r\n|\r|\n/);
  const header = lines.findIndex((l) => javaTrim(l) !== '');
  const data = lines.slice(header + 1).filter((l) => l !== '');
  const [head, ...records] = c.whole.records;
  if (header < 0 || head === undefined || data.length !== records.length) return undefined;
  return [head, ...records.filter((_, i) => javaTrim(data[i]!) !== '')];
}

/** How the two reads of a file compare, and the reason when they differ. */
function lineVerdict(c: LineComparison): string {
  const same = (a: SparkReading, b: SparkReading | SparkRecord[] | undefined) =>
    JSON.stringify('records' in a ? a.records : a) === JSON.stringify(b && 'records' in b ? b.records : b);
  if (same(c.lines, c.whole)) return 'same';
  if (c.validator.valid && !c.validator.spansLines)
    return same(c.lines, wholeLessTrimEmptyLines(c))
      ? 'line of only characters up to U+0020 dropped'
      : 'UNEXPLAINED';
  if (c.validator.valid) return 'a record spans lines (the job reads it whole)';
  return 'rejected';
}

describe("Spark's line-by-line read (multiLine off) against its whole-file read", () => {
  it('reads every accepted file whose records span no lines as the whole read does, less the lines trim() empties', () => {
    // Assess: the only difference is the dropped lines, and they are rows the validator counted, so
    // the job's row count falls short and it reads the file again whole (after_write).
    const accepted = lineComparisons.filter((c) => c.validator.valid && !c.validator.spansLines);
    const unexplained = accepted.filter((c) => lineVerdict(c) === 'UNEXPLAINED');
    expect(
      unexplained
        .map((c) =>
          JSON.stringify({
            file: c.input.name,
            csv: c.input.bytes.toString('utf8'),
            whole: c.whole,
            lines: c.lines,
          }),
        )
        .slice(0, 5),
    ).toEqual([]);
    for (const c of accepted) {
      const rows = 'records' in c.lines ? c.lines.records.length - 1 : -1;
      if (lineVerdict(c) === 'same') expect(rows).toBe(c.validator.rows);
      else expect(rows).toBeLessThan(c.validator.rows);
    }
  });

  it('meets each case it claims: dropped blank-looking lines, and records that span lines', () => {
    // Assess: counts by outcome, so a corpus that lost its cases is seen.
    const outcomes = new Map<string, number>();
    const rejectedByRule = new Map<string, number>();
    for (const c of lineComparisons) {
      const v = lineVerdict(c);
      outcomes.set(v, (outcomes.get(v) ?? 0) + 1);
      // A rejected file that reads differently, under each rule it breaks.
      if (v === 'rejected')
        for (const r of c.validator.rules) rejectedByRule.set(r, (rejectedByRule.get(r) ?? 0) + 1);
    }
    const acceptedLineFiles = lineComparisons.filter(
      (c) => c.validator.valid && !c.validator.spansLines,
    ).length;
    console.info(
      `spark line-by-line differential: ${lineComparisons.length} files, ${acceptedLineFiles} accepted with no record spanning lines; ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}; rejected files reading differently, by rule: ${[...rejectedByRule].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    expect(acceptedLineFiles).toBeGreaterThan(500);
    expect(outcomes.get('line of only characters up to U+0020 dropped')).toBeGreaterThan(0);
    expect(outcomes.get('a record spans lines (the job reads it whole)')).toBeGreaterThan(0);
  });
});

describe('what the dataset model refuses', () => {
  it.each(REFUSED.map((d) => [JSON.stringify(d), d] as const))(
    'refuses %s: Spark reads files the validator accepts otherwise',
    (_name, d) => {
      // Assess: the model says no, and Spark's tokenizer shows why on accepted files.
      const role = d.delimiter === ',' ? 'quote' : 'delimiter';
      expect(() =>
        parseDataset({ name: 'd', dialect: d, columns: [{ name: 'c0', type: 'string' }] }, 'd.json'),
      ).toThrow(new RegExp(`dialect.${role}: ${role} must be one ASCII character`));
      const mine = refused.filter((c) => JSON.stringify(c.input.dataset.dialect) === JSON.stringify(d));
      const accepted = mine.filter((c) => c.validator.valid);
      expect(accepted.length).toBeGreaterThan(10);
      expect(accepted.filter((c) => !verdict(c).same).length).toBeGreaterThan(0);
    },
  );
});

describe('the harness itself', () => {
  it('fails, never skips, without a JDK or the univocity jar, naming the Debian packages', () => {
    // Act / Assess: what `npm test` says on a machine that lacks either.
    expect(() => requireJava({ jar: '/nonexistent/univocity-parsers.jar' })).toThrow(
      /missing \/nonexistent\/univocity-parsers\.jar \(Debian: libunivocity-parsers-java\)/,
    );
    expect(() => requireJava({ javas: ['/nonexistent/bin/java'] })).toThrow(
      /missing a JDK \(Debian: default-jdk-headless\)/,
    );
    expect(requireJava()).toMatch(/java$/);
  });
});
