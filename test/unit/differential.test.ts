/**
 * Differential test of the validator's tokenizer against csv-parse, the reference RFC 4180 parser.
 *
 * Thousands of random, well-formed CSV files (seeded, so every run sees the same files) are
 * tokenized by both parsers; the records handed to `onRecord` must equal csv-parse's, field by
 * field and line by line, whatever the chunking of the input. The generator is a third witness: it
 * knows where each record starts and which fields were written as an unquoted empty field (null).
 *
 * csv-parse options, settled by experiment (see the first describe block, which pins each choice):
 * - `bom: true`: a UTF-8 BOM is dropped (DESIGN §2).
 * - `relax_quotes: true`: a quote inside an unquoted field is literal (`ab"c`).
 * - `record_delimiter: ['\r\n', '\n']`: both endings, mixed in one file. Left to auto-discovery,
 *   csv-parse fixes the delimiter to the first one it sees and keeps the other's CR in the data.
 * - `relax_column_count: true`: trailing blank lines come out as one-field records, as from ours.
 * - `skip_empty_lines: false` (the default): blank lines are records, as `onRecord` sees them.
 * csv-parse's `info.lines` is the line a record ENDS on, and it counts every CR and every LF
 * inside a quoted field as a line break (a quoted CRLF counts two). Ours counts LF only, so the
 * start line derived from csv-parse is corrected by the CRs inside the earlier records' values.
 * For malformed input, `relax_quotes` must be off: with it on, csv-parse accepts `"a"b` as the
 * literal text `"a"b`; the malformed files therefore contain no bare quote in unquoted fields.
 */
import { type CsvError, type Options, parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { CsvValidator, type ValidationResult } from '../../lib/validation/csv-validator.ts';
import { type Random, random } from '../seeded-random.ts';

const RELAXED: Options = {
  bom: true,
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: false,
  record_delimiter: ['\r\n', '\n'],
};

const STRICT: Options = { ...RELAXED, relax_quotes: false };

/** Characters safe in an unquoted field: no delimiter, quote, CR or LF. Multi-byte ones included. */
const SAFE = [
  ...'abcxyzABCXYZ0189 -_.;:/\\|\t!?#',
  ...'éàüñçøÅß',
  ...'日本語中文한국',
  '😀',
  '🎉',
  '👍🏽',
  '€',
];
/** What a quoted field may hold besides safe characters. */
const SPECIAL = [',', '"', '\n', '\r\n', '""', ',"'];

type FieldKind = 'null' | 'emptyQuoted' | 'plain' | 'bareQuote' | 'quoted' | 'quotedPlain';

interface Field {
  /** As written in the file. */
  readonly raw: string;
  /** As a parser must read it: null for an unquoted empty field. */
  readonly value: string | null;
}

function safeText(r: Random, min: number, max: number): string {
  let s = '';
  const n = r.int(min, max);
  for (let k = 0; k < n; k++) s += r.pick(SAFE);
  return s;
}

function makeField(r: Random, kinds: readonly FieldKind[]): Field {
  const kind = r.pick(kinds);
  switch (kind) {
    case 'null':
      return { raw: '', value: null };
    case 'emptyQuoted':
      return { raw: '""', value: '' };
    case 'plain': {
      const value = safeText(r, 1, 12);
      return { raw: value, value };
    }
    case 'bareQuote': {
      // A quote anywhere but first: literal text (DESIGN §2), e.g. 5" or ab"c or a""b.
      let value = safeText(r, 1, 4);
      // Never spaces alone before the first quote: the validator refuses that (DuckDB would read
      // a quoted value, Spark the text).
      if (/^ +$/.test(value)) value = `a${value}`;
      const quotes = r.int(1, 3);
      for (let k = 0; k < quotes; k++) value += `"${r.chance(0.5) ? safeText(r, 0, 3) : ''}`;
      return { raw: value, value };
    }
    case 'quoted':
    case 'quotedPlain': {
      let value = '';
      const n = r.int(0, 10);
      for (let k = 0; k < n; k++)
        value += kind === 'quoted' && r.chance(0.35) ? r.pick(SPECIAL) : r.pick(SAFE);
      return { raw: `"${value.replaceAll('"', '""')}"`, value };
    }
  }
}

interface GeneratedRecord {
  readonly fields: readonly (string | null)[];
  readonly line: number;
}

interface GeneratedFile {
  readonly dataset: Dataset;
  readonly bytes: Buffer;
  /** Every record a tokenizer must produce, header and trailing blank lines included. */
  readonly records: readonly GeneratedRecord[];
  /** Data records (the header and trailing blank lines excluded). */
  readonly rows: number;
  /** True when the records end with both LF and CRLF. */
  readonly mixedEndings: boolean;
}

const WELL_FORMED_KINDS: readonly FieldKind[] = [
  'null',
  'emptyQuoted',
  'plain',
  'plain',
  'bareQuote',
  'quoted',
  'quoted',
  'quotedPlain',
];

/** Serializes records; returns the text and the 1-based line each record starts on. */
class Writer {
  text = '';
  private lines = 1;
  private readonly starts: number[] = [];

  constructor(
    private readonly r: Random,
    private readonly endings: 'LF' | 'CRLF' | 'mixed',
  ) {}

  record(raws: readonly string[]): number {
    const line = this.lines;
    this.starts.push(line);
    const text = raws.join(',');
    this.text += text;
    this.lines += countLf(text);
    return line;
  }

  /** The record terminators written, LF and CRLF. */
  readonly used = new Set<string>();

  newline(): void {
    const crlf = this.endings === 'CRLF' || (this.endings === 'mixed' && this.r.chance(0.5));
    this.text += crlf ? '\r\n' : '\n';
    this.used.add(crlf ? 'CRLF' : 'LF');
    this.lines++;
  }
}

function shuffle<T>(r: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let k = out.length - 1; k > 0; k--) {
    const j = r.int(0, k);
    [out[k], out[j]] = [out[j]!, out[k]!];
  }
  return out;
}

function countLf(text: string): number {
  let n = 0;
  for (const c of text) if (c === '\n') n++;
  return n;
}

function generateFile(seed: number, kinds: readonly FieldKind[] = WELL_FORMED_KINDS): GeneratedFile {
  const r = random(seed);
  const width = r.int(3, 6);
  const names = Array.from({ length: width }, (_, k) => `col_${k}`);
  const dataset = parseDataset(
    { name: 'd', columns: names.map((name) => ({ name, type: 'string' })) },
    'd.json',
  );
  const writer = new Writer(r, r.pick(['LF', 'CRLF', 'mixed'] as const));
  const records: GeneratedRecord[] = [];

  const header = shuffle(r, names);
  const headerRaw = header.map((name) => (r.chance(0.2) ? `"${name}"` : name));
  records.push({ fields: header, line: writer.record(headerRaw) });

  const rows = r.int(0, 12);
  for (let k = 0; k < rows; k++) {
    writer.newline();
    const fields = Array.from({ length: width }, () => makeField(r, kinds));
    records.push({ fields: fields.map((f) => f.value), line: writer.record(fields.map((f) => f.raw)) });
  }
  if (r.chance(0.7)) {
    writer.newline();
    // Blank lines after the final newline: records to both parsers, not rows, not errors.
    const blanks = r.chance(0.3) ? r.int(1, 2) : 0;
    for (let k = 0; k < blanks; k++) {
      records.push({ fields: [null], line: writer.record([]) });
      writer.newline();
    }
  }
  const bom = r.chance(0.25) ? '\uFEFF' : '';
  return {
    dataset,
    bytes: Buffer.from(bom + writer.text, 'utf8'),
    records,
    rows,
    mixedEndings: writer.used.size > 1,
  };
}

/** Chunk boundaries: 1-byte, small, large, or cut inside every multi-byte character and CRLF. */
function chunk(bytes: Buffer, r: Random, strategy: number): Buffer[] {
  const cuts = new Set<number>();
  if (strategy === 0) {
    for (let i = 1; i < bytes.length; i++) cuts.add(i);
  } else if (strategy === 1 || strategy === 2) {
    const max = strategy === 1 ? 8 : 512;
    for (let i = r.int(1, max); i < bytes.length; i += r.int(1, max)) cuts.add(i);
  } else {
    for (let i = 1; i < bytes.length; i++) {
      const continuation = (bytes[i]! & 0xc0) === 0x80;
      const crlf = bytes[i - 1] === 0x0d && bytes[i] === 0x0a;
      if (continuation || crlf || r.chance(0.02)) cuts.add(i);
    }
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of sorted) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

interface Tokenized {
  readonly records: GeneratedRecord[];
  readonly result: ValidationResult;
}

function tokenize(dataset: Dataset, chunks: readonly Buffer[]): Tokenized {
  const records: GeneratedRecord[] = [];
  const validator = new CsvValidator(dataset, { onRecord: (fields, line) => records.push({ fields, line }) });
  let bytes = 0;
  for (const c of chunks) {
    validator.push(c);
    bytes += c.length;
  }
  return { records, result: validator.finish(bytes, false) };
}

interface OracleRecord {
  readonly fields: string[];
  /** Start line, in our counting (LF only). */
  readonly line: number;
}

/** csv-parse's records, with the start line derived from its end-line counter (see the header). */
function oracle(bytes: Buffer, options: Options): OracleRecord[] {
  const out: OracleRecord[] = [];
  let previousEnd = 0;
  let crSoFar = 0;
  parse(bytes, {
    ...options,
    on_record: (record: string[], context) => {
      out.push({ fields: record, line: previousEnd + 1 - crSoFar });
      previousEnd = context.lines;
      for (const value of record) for (const c of value) if (c === '\r') crSoFar++;
      return record;
    },
  });
  return out;
}

function csvErrorCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as CsvError).code;
  }
}

describe('csv-parse configured as the oracle of our dialect', () => {
  it('reads a bare quote inside an unquoted field as literal only with relax_quotes', () => {
    // Prepare
    const input = 'a,b\nab"c,5"\n';

    // Act
    const relaxed = oracle(Buffer.from(input), RELAXED).map((rec) => rec.fields);
    const strict = csvErrorCode(() => parse(input, STRICT));

    // Assess
    expect(relaxed).toEqual([
      ['a', 'b'],
      ['ab"c', '5"'],
    ]);
    expect(strict).toBe('INVALID_OPENING_QUOTE');
  });

  it('needs an explicit record_delimiter to read LF and CRLF mixed in one file', () => {
    // Prepare
    const input = 'a,b\n1,2\r\n3,4\r\n';

    // Act
    const discovered = parse(input, { bom: true, relax_column_count: true });
    const explicit = oracle(Buffer.from(input), RELAXED).map((rec) => rec.fields);

    // Assess
    expect(discovered).toEqual([
      ['a', 'b'],
      ['1', '2\r'],
      ['3', '4\r'],
    ]);
    expect(explicit).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('reports with info.lines the line a record ends on, counting a quoted CR as a line', () => {
    // Prepare
    const input = 'a,b\r\n"x\r\ny",2\r\n3,4\r\n';
    const ends: number[] = [];

    // Act
    parse(input, {
      ...RELAXED,
      on_record: (rec: string[], ctx) => {
        ends.push(ctx.lines);
        return rec;
      },
    });
    const starts = oracle(Buffer.from(input), RELAXED).map((rec) => rec.line);

    // Assess: the quoted CRLF counts two lines in csv-parse, one in our counting.
    expect(ends).toEqual([1, 4, 5]);
    expect(starts).toEqual([1, 2, 4]);
  });

  it('accepts text after a closing quote with relax_quotes, rejects it without', () => {
    // Prepare
    const input = 'a,b\n"x"y,2\n';

    // Act
    const relaxed = parse(input, RELAXED);
    const strict = csvErrorCode(() => parse(input, STRICT));

    // Assess
    expect(relaxed[1]).toEqual(['"x"y', '2']);
    expect(strict).toBe('CSV_INVALID_CLOSING_QUOTE');
  });
});

describe('the validator tokenizes like csv-parse', () => {
  const FILES = 1200;

  it(`agrees with csv-parse and with the generator on ${FILES} random well-formed files`, () => {
    // Prepare
    const mismatches: string[] = [];
    let checkedRecords = 0;
    let nulls = 0;
    let multiLine = 0;
    let bomFiles = 0;
    let crlfFiles = 0;

    for (let seed = 1; seed <= FILES; seed++) {
      const file = generateFile(seed);
      const r = random(seed * 7919);
      const chunks = chunk(file.bytes, r, seed % 4);

      // Act
      const ours = tokenize(file.dataset, chunks);
      const theirs = oracle(file.bytes, RELAXED);

      // Assess (collected, so a failure shows the first few files that disagree, with their bytes)
      const problems: string[] = [];
      // Tokenized alike either way; a file that mixes LF and CRLF is refused, once, for that alone.
      const expectedRules = file.mixedEndings ? ['mixed_line_endings'] : [];
      if (JSON.stringify(ours.result.errors.map((e) => e.rule)) !== JSON.stringify(expectedRules)) {
        problems.push(`expected ${JSON.stringify(expectedRules)}: ${JSON.stringify(ours.result.errors)}`);
      }
      if (ours.result.rows !== file.rows) problems.push(`rows ${ours.result.rows} != ${file.rows}`);
      try {
        expect(ours.records).toEqual(file.records);
        expect(ours.records.map((rec) => rec.fields.map((f) => f ?? ''))).toEqual(
          theirs.map((rec) => rec.fields),
        );
        expect(ours.records.map((rec) => rec.line)).toEqual(theirs.map((rec) => rec.line));
      } catch (error) {
        problems.push((error as Error).message.slice(0, 2000));
      }
      if (problems.length > 0 && mismatches.length < 3) {
        mismatches.push(
          `seed ${seed} ${JSON.stringify(file.bytes.toString('latin1'))}\n${problems.join('\n')}`,
        );
      }
      checkedRecords += file.records.length;
      for (const rec of file.records) {
        for (const f of rec.fields) {
          if (f === null) nulls++;
          else if (f.includes('\n')) multiLine++;
        }
      }
      if (file.bytes[0] === 0xef) bomFiles++;
      if (file.bytes.includes('\r\n')) crlfFiles++;
    }

    expect(mismatches).toEqual([]);
    // The generator really produced what the test claims to cover.
    expect(checkedRecords).toBeGreaterThan(FILES * 5);
    expect(nulls).toBeGreaterThan(1000);
    expect(multiLine).toBeGreaterThan(500);
    expect(bomFiles).toBeGreaterThan(FILES / 8);
    expect(crlfFiles).toBeGreaterThan(FILES / 3);
  });

  it('gives the same records and verdict for any chunking of the same file', () => {
    // Prepare
    const differences: number[] = [];

    for (let seed = 5001; seed <= 5100; seed++) {
      const file = generateFile(seed);
      const whole = tokenize(file.dataset, [file.bytes]);

      // Act
      const pieces = [0, 1, 2, 3].map((strategy) =>
        tokenize(file.dataset, chunk(file.bytes, random(seed), strategy)),
      );

      // Assess
      for (const piece of pieces) {
        if (JSON.stringify(piece) !== JSON.stringify(whole)) differences.push(seed);
      }
    }
    expect(differences).toEqual([]);
  });
});

describe('both parsers agree that malformed files are malformed', () => {
  /** No bare quotes: csv-parse's strict mode (needed to see text after a closing quote) rejects them. */
  const STRICT_KINDS: readonly FieldKind[] = ['null', 'emptyQuoted', 'plain', 'quoted', 'quotedPlain'];

  interface Malformed {
    readonly dataset: Dataset;
    readonly bytes: Buffer;
    readonly rule: 'unterminated_quote' | 'invalid_quote';
    readonly csvParseCode: string;
    /** Line on which the broken record starts. */
    readonly line: number;
  }

  /** A well-formed file with one record broken, the last one (unterminated) or any (invalid quote). */
  function malformed(seed: number): Malformed {
    const r = random(seed);
    const base = generateFile(seed, STRICT_KINDS);
    const text = base.bytes.toString('utf8').replace(/(\r?\n)+$/, '');
    const separator = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = 1 + countLf(text);
    const width = base.dataset.columns.length;
    const pad = (k: number) => Array.from({ length: k }, () => safeText(r, 0, 3));
    if (r.chance(0.5)) {
      // An opening quote never closed: the rest of the file (newlines, commas) is inside the field.
      const at = r.int(0, width - 1);
      const open = `"${safeText(r, 0, 5)}${r.chance(0.5) ? `,${safeText(r, 1, 3)}\n${safeText(r, 0, 3)}` : ''}`;
      const record = [...pad(at), open].join(',');
      return {
        dataset: base.dataset,
        bytes: Buffer.from(`${text}${separator}${record}${r.chance(0.5) ? separator : ''}`),
        rule: 'unterminated_quote',
        csvParseCode: 'CSV_QUOTE_NOT_CLOSED',
        line: lines + 1,
      };
    }
    // Text after a closing quote, on a record that may span lines, followed by good records.
    const at = r.int(0, width - 1);
    const broken = `"${safeText(r, 0, 3)}${r.chance(0.5) ? '\n' : ''}${safeText(r, 0, 3)}"${r.pick([...'xé日 ;'])}${safeText(r, 0, 3)}`;
    const fields = [...pad(at), broken, ...pad(width - at - 1)];
    const after = r.chance(0.5) ? `${separator}${pad(width).join(',')}` : '';
    return {
      dataset: base.dataset,
      bytes: Buffer.from(`${text}${separator}${fields.join(',')}${after}${separator}`),
      rule: 'invalid_quote',
      csvParseCode: 'CSV_INVALID_CLOSING_QUOTE',
      line: lines + 1,
    };
  }

  it('reports an unterminated quote or text after a closing quote where csv-parse throws', () => {
    // Prepare
    const mismatches: string[] = [];
    const rulesSeen = new Set<string>();

    for (let seed = 9001; seed <= 9200; seed++) {
      const file = malformed(seed);
      const chunks = chunk(file.bytes, random(seed), seed % 4);

      // Act
      const ours = tokenize(file.dataset, chunks).result;
      const theirs = csvErrorCode(() => parse(file.bytes, STRICT));

      // Assess
      // The generator mixes LF and CRLF at random; that verdict is the other test's subject.
      const got = ours.errors
        .filter((e) => e.rule !== 'mixed_line_endings')
        .map((e) => `${e.rule}@${e.line}`);
      if (ours.valid || got.join() !== `${file.rule}@${file.line}` || theirs !== file.csvParseCode) {
        if (mismatches.length < 3) {
          mismatches.push(
            `seed ${seed} ${JSON.stringify(file.bytes.toString())}: ours ${got.join()}, csv-parse ${theirs}, expected ${file.rule}@${file.line}`,
          );
        }
      }
      rulesSeen.add(file.rule);
    }

    expect(mismatches).toEqual([]);
    expect([...rulesSeen].sort()).toEqual(['invalid_quote', 'unterminated_quote']);
  });
});
