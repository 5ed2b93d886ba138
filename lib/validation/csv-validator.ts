/**
 * The validator core: a byte-level CSV tokenizer fused with the compiled per-column value checks.
 *
 * Pure and push-based: `push(chunk)` any number of times, then `finish()`. It holds at most one
 * partial record between chunks (bounded by `maxRecordBytes`), so memory stays flat whatever the
 * file size. `validateCsv` drives it from a byte stream, inflating gzip on the fly.
 *
 * Why hand-written: csv-parse (the oracle of the differential test) runs ≈ 10–18 MB/s on the bench machines and cannot
 * report invalid UTF-8 at a line; the target is ≥ 100 MB/s with the exact error semantics of
 * DESIGN §2. See BENCHMARKS.md for the figures.
 */
import { isUtf8 } from 'node:buffer';
import { type HeaderProblem, matchHeader } from '../datasets/header-match.ts';
import type { Column, Dataset } from '../datasets/model.ts';
import { compileValueCheck, describeRule, type ValueCheck, type ValueRule } from '../datasets/values.ts';
import { SHOWN_TEXT_CHARS, truncateText } from '../text.ts';

/** Rules about the file's structure rather than one value. */
export type StructureRule =
  | 'empty_file'
  | 'missing_header'
  | 'missing_column'
  | 'unknown_column'
  | 'duplicate_column'
  | 'retired_column'
  | 'ragged_row'
  | 'unterminated_quote'
  | 'invalid_quote'
  | 'bare_cr'
  | 'mixed_line_endings'
  | 'invalid_utf8'
  | 'encoding'
  | 'record_too_large'
  | 'gzip';

/** Every rule an error can name. */
export type Rule = ValueRule | StructureRule;

/** One problem found in a file. */
export interface ValidationError {
  /** 1-based line on which the record starts (the header is line 1). */
  readonly line: number;
  /** The declared column name (or the header text of an unknown column); null for record-level errors. */
  readonly column: string | null;
  /** The offending value, truncated; invalid UTF-8 bytes shown as `\xNN`; null where there is none. */
  readonly value: string | null;
  readonly rule: Rule;
  readonly message: string;
}

/** The verdict on one file. */
export interface ValidationResult {
  readonly valid: boolean;
  /** Data records read (the header and trailing blank lines excluded). */
  readonly rows: number;
  /** Bytes read from the input, as stored (compressed when gzip). */
  readonly bytes: number;
  /** True when the input was gzip and was inflated on the fly. */
  readonly compressed: boolean;
  /** All errors found, of which `errors` holds the first `maxErrors`. */
  readonly errorCount: number;
  readonly errors: ValidationError[];
  /** Error counts by column (errors without a column are counted under `errorsByRule` only). */
  readonly errorsByColumn: Record<string, number>;
  readonly errorsByRule: Partial<Record<Rule, number>>;
  /**
   * True when some record read so far holds a line break (LF or CR) inside a quoted field, so that
   * a reader splitting the file at line breaks would cut it: Spark then has to read the file with
   * multiLine on, which one task reads whole. False lets it split the read across tasks.
   */
  readonly recordSpansLines: boolean;
}

/** Options of a validation run. */
export interface ValidateOptions {
  /**
   * How many errors the result lists (all are counted).
   * @default 100
   */
  readonly maxErrors?: number;
  /**
   * The largest record accepted, in bytes; a longer one is reported and skipped, never buffered whole.
   * @default 1 MiB
   */
  readonly maxRecordBytes?: number;
  /** Called after each input chunk with the bytes read so far. */
  readonly onProgress?: (bytesRead: number) => void;
  /**
   * Receives every record the tokenizer completes (header and blank lines included, before any
   * check): its fields (null for an unquoted empty field) and the line it starts on. A record over
   * `maxRecordBytes` is not passed: it is skipped unread when it arrives in pieces, so passing it
   * when it arrives whole would make the output depend on the chunking. For the differential test
   * against csv-parse and for tools that want the rows; costs nothing when unset.
   */
  readonly onRecord?: (fields: (string | null)[], line: number) => void;
  /**
   * Receives every error in the order found, also those past `maxErrors`: the complete report is
   * streamed out while the result lists only the first ones.
   * @default - errors are only counted and listed
   */
  readonly onError?: (error: ValidationError) => void;
  /**
   * Continues a file from a checkpoint taken by an earlier run (see {@link ValidationCheckpoint}):
   * the bytes pushed are the file's from `resume.offset` on. Line numbers go on, the counts add
   * up, `errors` lists this run's errors only; `valid` is the verdict on the whole file so far.
   * @default - the bytes pushed are the whole file
   */
  readonly resume?: ValidationCheckpoint;
}

/**
 * Where a validation stopped and what it knew there, so that another process (the next Lambda
 * invocation of a large file) can go on from that byte with a result identical to a single pass.
 * Plain JSON, and as small as the header is wide: it travels in Step Functions state (256 KB).
 */
export interface ValidationCheckpoint {
  /** Format of this object: a checkpoint from another release is refused, not misread. */
  readonly version: typeof CHECKPOINT_VERSION;
  /** The dataset validated against: resuming against another one would map the wrong columns. */
  readonly dataset: string;
  /**
   * Byte offset in the uncompressed file (a BOM counted) where the next run reads from: where the
   * next unparsed record starts, a record boundary; or, inside a record over `maxRecordBytes`
   * (see `skip`), the byte after the last one skipped.
   */
  readonly offset: number;
  /**
   * The line the record at `offset` starts on (a quoted line break makes lines and records
   * differ); inside a skipped record, the line it starts on.
   */
  readonly line: number;
  /** Data records so far (blank lines still pending not counted). */
  readonly rows: number;
  /**
   * Per field position, the declared column it maps to, or null for a header cell mapped to none
   * (unknown, duplicate, retired, undecodable, or dropped by `extraColumns: "ignore"`): its values
   * are not checked, but it still counts as a field of every record. `'missing'`: the header
   * could not be read, so rows are counted, not checked. `'pending'`: only blank lines so far, the
   * header is still to come (they make it missing once it does). Names, not checks: the next run
   * compiles the checks again.
   */
  readonly columns: readonly (string | null)[] | 'missing' | 'pending';
  /** Fields a record must have (also kept with a missing header: blank lines are judged by it). */
  readonly expectedFields: number;
  /**
   * The run of blank lines just before `offset`: blank lines are forgiven at the end of the file
   * only, so whether they are errors is decided by what follows them, maybe in the next run.
   */
  readonly blankRunStart: number;
  readonly blankRunLength: number;
  /** The line ending of the lines so far: one that differs later is reported (once). */
  readonly ending: 'LF' | 'CRLF' | null;
  readonly mixedReported: boolean;
  /** Cumulative counts, so that the last run's verdict covers the whole file. */
  readonly errorCount: number;
  readonly errorsByColumn: Record<string, number>;
  readonly errorsByRule: Partial<Record<Rule, number>>;
  /**
   * {@link ValidationResult.recordSpansLines} so far. Absent in a checkpoint of an earlier release,
   * read as true: a reader that keeps records whole is always right, only slower.
   */
  readonly recordSpansLines?: boolean;
  /**
   * Set when `offset` lies inside a record over `maxRecordBytes`, which is skipped unread: a file
   * that is one huge line (or one unterminated quote) is still validated in slices. That record
   * is counted and reported already; the next run skips on to its end. Null at a record boundary.
   */
  readonly skip: SkippedRecord | null;
}

/** Where a run stopped inside a record over the size cap (see {@link ValidationCheckpoint.skip}). */
export interface SkippedRecord {
  /**
   * What the last byte skipped left open: the start of a field (`FieldStart`), an unquoted field,
   * a quoted field, a quote inside a quoted field (a doubled quote or the closing one: the next
   * byte tells), or a CR outside quotes (an LF next ends the record as CRLF, else it is bare).
   */
  readonly state: 'FieldStart' | 'Unquoted' | 'Quoted' | 'QuoteInQuoted' | 'Cr';
  /** Line breaks inside quotes skipped so far: the lines after the record are numbered on from them. */
  readonly lines: number;
  /** The line the record starts on, where its errors (bare CR, unterminated quote) are reported. */
  readonly startLine: number;
}

/**
 * The format of {@link ValidationCheckpoint} this release writes. It also reads version 1, which
 * is the same without `skip` (a release that could stop at record boundaries only); a release
 * that reads version 1 only refuses a version 2 checkpoint rather than misread one inside a record.
 */
export const CHECKPOINT_VERSION = 2;
/** The older format this release still reads (see {@link CHECKPOINT_VERSION}). */
const CHECKPOINT_VERSION_WITHOUT_SKIP = 1;

/**
 * univocity's default input buffer in characters (Spark 3.5 sets none unless
 * spark.sql.csv.parser.inputBufferSize is set; the Glue job sets none): the window in which it
 * detects the line separator of a multiLine read.
 */
export const SPARK_SEPARATOR_WINDOW = 1024 * 1024;
export const DEFAULT_MAX_ERRORS = 100;
export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
/** Longest value quoted in an error, in characters. */
export const MAX_VALUE_CHARS = SHOWN_TEXT_CHARS;

const BARE_CR_MESSAGE = 'the line ends with a bare CR: line endings must be LF or CRLF';
const LF = 0x0a;
const SPACE = 0x20;
const CR = 0x0d;
const QUOTED = 1;
const ESCAPED = 2;

enum Problem {
  None = 0,
  InvalidQuote = 1,
  BareCr = 2,
  Unterminated = 3,
  /** An unquoted field that starts with spaces and then a quote. */
  SpaceBeforeQuote = 4,
}

/** The record terminator a file uses. */
enum Ending {
  Unknown = 0,
  Lf = 1,
  Crlf = 2,
}

enum HeaderState {
  Pending = 0,
  Done = 1,
  /** The header could not be read: rows are counted, not checked. */
  Missing = 2,
}

/** Skip-mode states for a record over the size cap (quote-aware, so its end is found correctly). */
enum Skip {
  Off = 0,
  FieldStart = 1,
  Unquoted = 2,
  Quoted = 3,
  QuoteInQuoted = 4,
  /** After a CR outside quotes: a following LF ends the record there, anything else ended it at the CR. */
  Cr = 5,
}

/** The skip-mode states by the names a checkpoint carries. */
const SKIP_STATES: Readonly<Record<SkippedRecord['state'], Skip>> = {
  FieldStart: Skip.FieldStart,
  Unquoted: Skip.Unquoted,
  Quoted: Skip.Quoted,
  QuoteInQuoted: Skip.QuoteInQuoted,
  Cr: Skip.Cr,
};

/** Incremental validator of one CSV file against one dataset. */
export class CsvValidator {
  private readonly maxErrors: number;
  private readonly maxRecordBytes: number;
  private readonly delim: number;
  private readonly quote: number;

  // Per field position (header order): the column it maps to, its check and nullability.
  private fieldColumn: (Column | undefined)[] = [];
  private fieldCheck: (ValueCheck | undefined)[] = [];
  private fieldNullable: boolean[] = [];
  private expectedFields = 0;

  // Field boundaries of the record being parsed.
  private cap = 64;
  private starts = new Int32Array(this.cap);
  private ends = new Int32Array(this.cap);
  private flags = new Uint8Array(this.cap);
  private scratch = Buffer.allocUnsafe(4096);

  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private leftover: Buffer = Buffer.alloc(0);
  private bomChecked = false;

  private line = 1;
  private header = HeaderState.Pending;
  private blankRunStart = 0;
  private blankRunLength = 0;
  private skip = Skip.Off;
  private skipLines = 0;
  private skipStartLine = 0;

  private ending = Ending.Unknown;
  private mixedReported = false;
  private rows = 0;
  private errorCount = 0;
  private readonly errors: ValidationError[] = [];
  private readonly errorsByColumn: Record<string, number> = {};
  private readonly errorsByRule: Partial<Record<Rule, number>> = {};

  /** File offset of the first byte pushed (non-zero on a resumed run), and bytes pushed since. */
  private base = 0;
  private pushed = 0;

  constructor(
    private readonly dataset: Dataset,
    options: ValidateOptions = {},
  ) {
    this.maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.delim = dataset.dialect.delimiter.charCodeAt(0);
    this.quote = dataset.dialect.quote.charCodeAt(0);
    this.sink = options.onRecord;
    this.onError = options.onError;
    if (options.resume) this.restore(options.resume);
  }

  private readonly sink: ValidateOptions['onRecord'];
  private readonly onError: ValidateOptions['onError'];

  /**
   * Feeds the next bytes of the file. The validator may keep a reference to `chunk` until later
   * pushes (a partial record is not copied): do not reuse its memory, as Node streams never do.
   */
  push(chunk: Uint8Array): void {
    this.pushed += chunk.length;
    if (chunk.length === 0 || this.ignoreRest) return;
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.skip !== Skip.Off) {
      const rest = this.skipRecord(buf, 0);
      if (rest < 0) return;
      buf = buf.subarray(rest);
    }
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    // Re-parse a partial record only once as many new bytes arrived as it holds: linear time even
    // for a record that spans many small chunks.
    if (this.pendingBytes < this.leftover.length) return;
    this.drain(false);
  }

  /**
   * Parses the records that `push` held back (it waits until a partial record's size in new bytes
   * arrived, to stay linear), so that {@link checkpoint} lies at the last record boundary in the
   * bytes pushed: a parallel run asks whether a range ends exactly where the next one began.
   */
  flush(): void {
    if (this.pendingBytes > 0 && this.skip === Skip.Off && !this.ignoreRest) this.drain(false);
  }

  /** Ends the file and returns the verdict. */
  finish(bytesRead: number, compressed: boolean): ValidationResult {
    if (this.skip !== Skip.Off) {
      this.endSkip();
    } else {
      this.drain(true);
    }
    if (this.header === HeaderState.Pending && !this.fileError) {
      this.report(
        1,
        null,
        null,
        'empty_file',
        'the file is empty: expected a header line naming the columns',
      );
    }
    return this.resultSoFar(bytesRead, compressed);
  }

  /**
   * The verdict on the records read so far, without ending the file (trailing blank lines and a
   * partial record stay undecided): the result of a run stopped at a {@link checkpoint}.
   */
  resultSoFar(bytesRead: number, compressed: boolean): ValidationResult {
    return {
      valid: this.errorCount === 0,
      rows: this.rows,
      bytes: bytesRead,
      compressed,
      errorCount: this.errorCount,
      errors: this.errors,
      errorsByColumn: this.errorsByColumn,
      errorsByRule: this.errorsByRule,
      recordSpansLines: this.spansLines,
    };
  }

  /**
   * Where to resume this file in another run, or null where that is not possible: until the first
   * record that is not blank ends or outgrows the size cap (the header is not known yet: a wait
   * bounded by the cap), and once the rest of the file is ignored or the input is broken. Inside a
   * record over the cap it is the position of the skip, so that one huge line need not fit in one
   * run. Between pushes only; the bytes not yet parsed are read again by the next run.
   */
  checkpoint(): ValidationCheckpoint | null {
    if (this.ignoreRest || this.fileError) return null;
    // Before the header only after blank lines, which already make it missing (and may be many).
    if (this.header === HeaderState.Pending && this.blankRunLength === 0) return null;
    const columns =
      this.header === HeaderState.Pending
        ? 'pending'
        : this.header === HeaderState.Missing
          ? 'missing'
          : Array.from({ length: this.expectedFields }, (_, f) => this.fieldColumn[f]?.name ?? null);
    // In skip mode nothing is held back (leftover and pending are empty): every byte pushed is
    // consumed, so the offset is the end of the pushed bytes.
    return {
      version: CHECKPOINT_VERSION,
      dataset: this.dataset.name,
      offset: this.base + this.pushed - this.leftover.length - this.pendingBytes,
      line: this.line,
      rows: this.rows,
      columns,
      expectedFields: this.expectedFields,
      blankRunStart: this.blankRunLength > 0 ? this.blankRunStart : 0,
      blankRunLength: this.blankRunLength,
      ending: this.ending === Ending.Lf ? 'LF' : this.ending === Ending.Crlf ? 'CRLF' : null,
      mixedReported: this.mixedReported,
      errorCount: this.errorCount,
      errorsByColumn: { ...this.errorsByColumn },
      errorsByRule: { ...this.errorsByRule },
      recordSpansLines: this.spansLines,
      skip:
        this.skip === Skip.Off
          ? null
          : {
              state: Skip[this.skip] as SkippedRecord['state'],
              lines: this.skipLines,
              startLine: this.skipStartLine,
            },
    };
  }

  /**
   * False once no byte still to come can change the result, so the caller may stop reading and
   * call {@link finish}: the file is UTF-16 (reported once, the rest ignored). Other verdicts need
   * the whole file: its complete error list, or a late error that makes a valid file invalid.
   */
  get wantsMore(): boolean {
    return !this.ignoreRest;
  }

  /** Takes the state of a checkpoint: the BOM is behind, the mapping is rebuilt. */
  private restore(cp: ValidationCheckpoint): void {
    const version: number = cp.version;
    if (version !== CHECKPOINT_VERSION && version !== CHECKPOINT_VERSION_WITHOUT_SKIP) {
      throw new Error(
        `cannot resume from checkpoint version ${JSON.stringify(cp.version)} (this release reads ${CHECKPOINT_VERSION_WITHOUT_SKIP} and ${CHECKPOINT_VERSION})`,
      );
    }
    if (cp.dataset !== this.dataset.name) {
      throw new Error(`cannot resume a checkpoint of dataset "${cp.dataset}" against "${this.dataset.name}"`);
    }
    this.bomChecked = true;
    this.base = cp.offset;
    this.line = cp.line;
    this.rows = cp.rows;
    this.spansLines = cp.recordSpansLines ?? true;
    this.expectedFields = cp.expectedFields;
    if (cp.columns === 'pending') {
      this.header = HeaderState.Pending;
    } else if (cp.columns === 'missing') {
      this.header = HeaderState.Missing;
    } else {
      this.header = HeaderState.Done;
      const byName = new Map(this.dataset.columns.map((col) => [col.name, col]));
      cp.columns.forEach((name, f) => {
        if (name === null) return;
        const col = byName.get(name);
        if (!col) {
          throw new Error(
            `cannot resume: the checkpoint maps field ${f + 1} to column "${name}", which dataset "${this.dataset.name}" does not declare`,
          );
        }
        if (col.retired) {
          throw new Error(
            `cannot resume: the checkpoint maps field ${f + 1} to column "${name}", which dataset "${this.dataset.name}" declares retired (the declaration changed since the run began: validate the file again from its start)`,
          );
        }
        this.fieldColumn[f] = col;
        this.fieldCheck[f] = compileValueCheck(col);
        this.fieldNullable[f] = col.nullable;
      });
    }
    this.blankRunStart = cp.blankRunStart;
    this.blankRunLength = cp.blankRunLength;
    this.ending = cp.ending === 'LF' ? Ending.Lf : cp.ending === 'CRLF' ? Ending.Crlf : Ending.Unknown;
    this.mixedReported = cp.mixedReported;
    this.errorCount = cp.errorCount;
    for (const [column, n] of Object.entries(cp.errorsByColumn)) setCount(this.errorsByColumn, column, n);
    for (const [rule, n] of Object.entries(cp.errorsByRule)) setCount(this.errorsByRule, rule, n ?? 0);
    // Absent from version 1, which stopped at record boundaries only.
    if (cp.skip) this.restoreSkip(cp.skip);
  }

  /** Goes on skipping a record over the cap: it was counted and reported by the run that began it. */
  private restoreSkip(skip: SkippedRecord): void {
    const state = Object.hasOwn(SKIP_STATES, skip.state) ? SKIP_STATES[skip.state] : undefined;
    if (state === undefined) {
      throw new Error(
        `cannot resume: unknown skip state ${JSON.stringify(skip.state)} (known: ${Object.keys(SKIP_STATES).join(', ')})`,
      );
    }
    this.skip = state;
    this.skipLines = skip.lines;
    this.skipStartLine = skip.startLine;
  }

  /** Reports a problem not tied to one record (e.g. a corrupt gzip stream). */
  reportFileError(rule: Rule, message: string): void {
    this.fileError = true;
    this.report(this.line, null, null, rule, message);
  }

  private fileError = false;
  /** 1 when the file starts with a BOM: Spark's reader counts it as a character of its first buffer. */
  private bomChars = 0;

  private drain(final: boolean): void {
    if (this.bomChecked && !this.ignoreRest && this.drainInPlace(final)) return;
    let b = this.pending.length === 1 && this.leftover.length === 0 ? this.pending[0]! : undefined;
    if (!b) b = Buffer.concat([this.leftover, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.bomChecked) {
      if (b.length < 3 && !final) {
        this.leftover = b;
        return;
      }
      this.bomChecked = true;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
        b = b.subarray(3);
        this.bomChars = 1;
      } else if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) {
        this.report(
          1,
          null,
          null,
          'encoding',
          'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8',
        );
        this.header = HeaderState.Missing;
        this.leftover = Buffer.alloc(0);
        this.ignoreRest = true;
        return;
      }
    }
    if (this.ignoreRest) return;
    this.settle(b, this.parseBuffer(b, 0, final), final);
  }

  /**
   * The common case, one new chunk after a partial record: completes that record from the chunk's
   * first line only, then parses the rest of the chunk where it lies, so that the (1 MiB) chunk is
   * not copied. False when the partial record does not end on that line (a quoted line break, a
   * huge record): the caller then joins the buffers.
   */
  private drainInPlace(final: boolean): boolean {
    if (this.pending.length !== 1 || this.leftover.length === 0) return false;
    const chunk = this.pending[0]!;
    const lf = chunk.indexOf(LF);
    if (lf < 0) return false;
    const head = Buffer.concat([this.leftover, chunk.subarray(0, lf + 1)]);
    const p = this.parseBuffer(head, 0, false);
    // Nothing is checked until a record is complete, so giving up here has emitted nothing.
    if (p < this.leftover.length) return false;
    this.pending = [];
    this.pendingBytes = 0;
    this.settle(chunk, this.parseBuffer(chunk, p - this.leftover.length, final), final);
    return true;
  }

  /** Tokenizes and checks the complete records of `b` from `start`; returns where the rest begins. */
  private parseBuffer(b: Buffer, start: number, final: boolean): number {
    const n = b.length;
    // Strict UTF-8: validate the whole buffer natively; only when it fails are fields checked one
    // by one, to name the line and column. A multi-byte character cut by the chunk end is left for
    // the next round (it sits in the partial record anyway).
    const suspect = !isUtf8(b.subarray(start, final ? n : completeUtf8Length(b)));
    let p = start;
    while (p < n) {
      const next = this.parseRecord(b, p, n, final);
      if (next < 0) break;
      this.recordStart = p;
      this.onRecord(b, next, suspect);
      p = this.recordEnd;
    }
    return p;
  }

  /** Keeps the partial record after `p` for the next chunk, or settles the end of the file. */
  private settle(b: Buffer, p: number, final: boolean): void {
    this.leftover = p < b.length ? b.subarray(p) : Buffer.alloc(0);
    if (final) {
      this.flushTrailingBlanks();
      return;
    }
    // Over the cap only once the record's own bytes are: a CR at the end may be its line ending,
    // waiting for an LF. Any earlier and a record of the cap's size would pass or fail by chunking.
    const rest = this.leftover.length;
    if (rest > this.maxRecordBytes && (rest > this.maxRecordBytes + 1 || this.leftover[rest - 1] !== CR)) {
      this.recordTooLarge();
    }
  }

  private ignoreRest = false;
  /** Where the record parsed last starts and ends (after its terminator). */
  private recordStart = 0;
  private recordEnd = 0;
  private recordLines = 0;
  /** See {@link ValidationResult.recordSpansLines}. */
  private spansLines = false;
  private recordProblem = Problem.None;
  private recordBlank = false;

  /**
   * Tokenizes one record from `p`. Returns -1 when the record is incomplete (more bytes needed),
   * else the field count; boundaries land in starts/ends/flags, the end in `recordEnd`.
   */
  private parseRecord(b: Buffer, p: number, n: number, final: boolean): number {
    const D = this.delim;
    const Q = this.quote;
    let starts = this.starts;
    let ends = this.ends;
    let flags = this.flags;
    let nf = 0;
    let lines = 1;
    let problem = Problem.None;
    this.problemField = -1;
    let i = p;
    for (;;) {
      if (nf === this.cap) {
        this.grow();
        starts = this.starts;
        ends = this.ends;
        flags = this.flags;
      }
      let j: number;
      let quoted = 0;
      if (i < n && b[i] === Q) {
        j = i + 1;
        let escaped = 0;
        for (;;) {
          if (j >= n) {
            if (!final) return -1;
            starts[nf] = i + 1;
            ends[nf] = n;
            flags[nf] = QUOTED | escaped;
            let shown = n; // the value shown ends before the file's last line break
            while (shown > i && (b[shown - 1] === LF || b[shown - 1] === CR)) shown--;
            this.markProblemField(nf, i, shown);
            this.finishRecord(n, lines, Problem.Unterminated, false);
            return nf + 1;
          }
          const c = b[j];
          if (c === Q) {
            if (j + 1 >= n && !final) return -1;
            if (b[j + 1] === Q && j + 1 < n) {
              escaped = ESCAPED;
              j += 2;
              continue;
            }
            break;
          }
          if (c <= CR) {
            // One comparison for most bytes: only LF and CR go on to be told apart.
            if (c === LF) lines++;
            else if (c === CR) this.spansLines = true;
          }
          j++;
        }
        starts[nf] = i + 1;
        ends[nf] = j;
        flags[nf] = QUOTED | escaped;
        quoted = 1;
        j++; // past the closing quote
        if (j < n) {
          const c = b[j];
          if (c !== D && c !== LF && c !== CR) {
            // Text after a closing quote: report it, and resynchronise at the next delimiter.
            const first = problem === Problem.None;
            problem = Problem.InvalidQuote;
            while (j < n) {
              const d = b[j];
              if (d === D || d === LF || d === CR) break;
              j++;
            }
            if (first) this.markProblemField(nf, i, j);
          }
        }
      } else {
        j = i;
        while (j < n) {
          const c = b[j];
          if (c === D || c === LF || c === CR) break;
          j++;
        }
        starts[nf] = i;
        ends[nf] = j;
        flags[nf] = 0;
        // Spaces and then a quote: DuckDB (the local twin) drops a space before a quote and reads
        // a quoted value, Spark keeps the text as it is; refused rather than read two ways.
        if (b[i] === SPACE && problem === Problem.None && spacesThenQuote(b, i, j, Q)) {
          problem = Problem.SpaceBeforeQuote;
          this.markProblemField(nf, i, j);
        }
      }
      nf++;
      if (j >= n) {
        if (!final) return -1;
        this.finishRecord(n, lines, problem, nf === 1 && quoted === 0 && starts[0] === ends[0]);
        return nf;
      }
      const c = b[j];
      if (c === D) {
        i = j + 1;
        continue;
      }
      let end: number;
      if (c === LF) {
        end = j + 1;
      } else if (j + 1 < n) {
        if (b[j + 1] === LF) {
          end = j + 2;
        } else {
          // A lone CR ends the record (as editors show it) but is reported: LF or CRLF only.
          problem = Problem.BareCr;
          end = j + 1;
        }
      } else {
        if (!final) return -1;
        problem = Problem.BareCr;
        end = j + 1;
      }
      this.finishRecord(end, lines, problem, nf === 1 && quoted === 0 && starts[0] === ends[0]);
      return nf;
    }
  }

  /** The field a quoting problem is in, and its raw bytes (opening quote included), to report them. */
  private problemField = -1;
  private problemStart = 0;
  private problemEnd = 0;

  private markProblemField(field: number, start: number, end: number): void {
    this.problemField = field;
    this.problemStart = start;
    this.problemEnd = end;
  }

  private finishRecord(end: number, lines: number, problem: Problem, blank: boolean): void {
    this.recordEnd = end;
    this.recordLines = lines;
    if (lines > 1) this.spansLines = true;
    this.recordProblem = problem;
    this.recordBlank = blank;
  }

  private grow(): void {
    this.cap *= 2;
    const starts = new Int32Array(this.cap);
    const ends = new Int32Array(this.cap);
    const flags = new Uint8Array(this.cap);
    starts.set(this.starts);
    ends.set(this.ends);
    flags.set(this.flags);
    this.starts = starts;
    this.ends = ends;
    this.flags = flags;
  }

  /** Checks the record just parsed. */
  private onRecord(b: Buffer, nf: number, suspect: boolean): void {
    const line = this.line;
    this.line += this.recordLines;
    // One comparison on the hot path; the exact length (line ending excluded) only past it.
    if (
      this.recordEnd - this.recordStart > this.maxRecordBytes &&
      this.contentLength(b) > this.maxRecordBytes
    ) {
      this.oversizedRecord(line, b);
      return;
    }
    if (this.sink) this.emit(b, nf, line);
    // One line ending per file: Spark and DuckDB read LF and CRLF mixed in a file differently (a
    // stray CR left at the end of a value, or a failed read), so such a file is refused here.
    const end = this.recordEnd;
    if (b[end - 1] === LF) {
      const ending = b[end - 2] === CR ? Ending.Crlf : Ending.Lf;
      if (this.ending === Ending.Unknown) {
        this.ending = ending;
      } else if (ending !== this.ending && !this.mixedReported) {
        this.reportMixed(line, ending);
      }
    }
    if (this.recordBlank) {
      if (this.recordProblem === Problem.BareCr) this.report(line, null, null, 'bare_cr', BARE_CR_MESSAGE);
      // Blank lines are forgiven at the end of the file only; decided when the next record comes.
      if (this.blankRunLength === 0) this.blankRunStart = line;
      this.blankRunLength++;
      return;
    }
    if (this.header === HeaderState.Pending) {
      if (this.blankRunLength > 0) {
        this.leadingBlankLines();
      } else {
        this.readHeader(b, nf, line, suspect);
        return;
      }
    }
    if (this.blankRunLength > 0) this.flushBlanksAsRows();
    this.rows++;
    if (this.header === HeaderState.Missing) return;
    if (this.recordProblem !== Problem.None && !this.recordStructureOk(line, b)) return;
    if (nf !== this.expectedFields) {
      this.report(line, null, null, 'ragged_row', `expected ${this.expectedFields} fields, found ${nf}`);
      return;
    }
    const starts = this.starts;
    const ends = this.ends;
    const flags = this.flags;
    const checks = this.fieldCheck;
    for (let f = 0; f < nf; f++) {
      const check = checks[f];
      if (check === undefined) continue;
      const s = starts[f]!;
      const e = ends[f]!;
      const fl = flags[f]!;
      if (s === e && fl === 0) {
        if (!this.fieldNullable[f]) this.valueError(line, f, b, s, e, 'not_null');
        continue;
      }
      let bb = b;
      let ss = s;
      let ee = e;
      if (fl & ESCAPED) {
        bb = this.unescape(b, s, e);
        ss = 0;
        ee = this.scratchLength;
      }
      if (suspect && !isUtf8(bb.subarray(ss, ee))) {
        this.valueError(line, f, bb, ss, ee, 'invalid_utf8');
        continue;
      }
      const rule = check(bb, ss, ee);
      if (rule !== undefined) this.valueError(line, f, bb, ss, ee, rule);
    }
  }

  private reportMixed(line: number, ending: Ending): void {
    this.mixedReported = true;
    const [found, earlier] = ending === Ending.Crlf ? ['CRLF', 'LF'] : ['LF', 'CRLF'];
    this.report(
      line,
      null,
      null,
      'mixed_line_endings',
      `this line ends with ${found} where the lines before end with ${earlier}: use one line ending throughout the file`,
    );
  }

  /** The line-ending check of onRecord, for a record whose bytes were not kept (skipped or oversized). */
  private noteEnding(line: number, ending: Ending): void {
    if (this.ending === Ending.Unknown) this.ending = ending;
    else if (ending !== this.ending && !this.mixedReported) this.reportMixed(line, ending);
  }

  private leadingBlankLines(): void {
    this.report(
      1,
      null,
      null,
      'missing_header',
      'the file starts with a blank line: the first line must be the header',
    );
    this.header = HeaderState.Missing;
    this.blankRunLength = 0;
  }

  /** The parsed record's length without its line ending: what the size cap applies to. */
  private contentLength(b: Buffer): number {
    const s = this.recordStart;
    const e = this.recordEnd;
    // An unterminated quoted field runs to the end of the file, line breaks and all.
    if (this.recordProblem === Problem.Unterminated) return e - s;
    if (b[e - 1] === LF) return e - s - (e - 2 >= s && b[e - 2] === CR ? 2 : 1);
    return b[e - 1] === CR ? e - s - 1 : e - s;
  }

  /**
   * A record over the cap that arrived whole: reported exactly as skip mode reports one that
   * arrived in pieces (same errors, same order), so that the verdict does not depend on where the
   * chunks, or the slices of a resumed validation, happen to be cut.
   */
  private oversizedRecord(line: number, b: Buffer): void {
    this.startOversized(line);
    const end = this.recordEnd;
    if (this.recordProblem === Problem.Unterminated) this.reportUnterminated(line);
    else if (this.recordProblem === Problem.BareCr) this.report(line, null, null, 'bare_cr', BARE_CR_MESSAGE);
    else if (b[end - 1] === LF)
      this.noteEnding(line, end - 2 >= this.recordStart && b[end - 2] === CR ? Ending.Crlf : Ending.Lf);
  }

  /** Counts an oversized record where a record of normal size would count, and reports it. */
  private startOversized(line: number): void {
    if (this.header === HeaderState.Pending && this.blankRunLength === 0) {
      // The header itself: its columns are unknown, so rows are counted, not checked.
      this.header = HeaderState.Missing;
    } else {
      if (this.header === HeaderState.Pending) this.leadingBlankLines();
      else if (this.blankRunLength > 0) this.flushBlanksAsRows();
      this.rows++;
    }
    this.report(line, null, null, 'record_too_large', this.tooLargeMessage());
  }

  private reportUnterminated(line: number): void {
    this.report(
      line,
      null,
      null,
      'unterminated_quote',
      'a quoted field is not closed before the end of the file',
    );
  }

  private emit(b: Buffer, nf: number, line: number): void {
    const fields: (string | null)[] = [];
    for (let f = 0; f < nf; f++) {
      const s = this.starts[f]!;
      const e = this.ends[f]!;
      if (this.flags[f]! & ESCAPED)
        fields.push(this.unescape(b, s, e).toString('utf8', 0, this.scratchLength));
      else fields.push(s === e && this.flags[f] === 0 ? null : b.toString('utf8', s, e));
    }
    this.sink!(fields, line);
  }

  /** Reports a record's structural problem; true when its values can still be checked. */
  private recordStructureOk(line: number, b: Buffer): boolean {
    // A quoting problem lies in one field: name its column (once the header is read) and its text.
    const column = this.problemField >= 0 ? (this.fieldColumn[this.problemField]?.name ?? null) : null;
    const value = this.problemField >= 0 ? showBytes(b, this.problemStart, this.problemEnd) : null;
    switch (this.recordProblem) {
      case Problem.SpaceBeforeQuote:
        this.report(
          line,
          column,
          value,
          'invalid_quote',
          'spaces before a quote at the start of a field: readers disagree whether it opens a quoted value (DuckDB drops the space, Spark keeps the text); remove the spaces or quote the whole field',
        );
        return false;
      case Problem.InvalidQuote:
        this.report(
          line,
          column,
          value,
          'invalid_quote',
          'text after a closing quote: a quoted field must end at a delimiter or line end',
        );
        return false;
      case Problem.Unterminated:
        this.report(
          line,
          column,
          value,
          'unterminated_quote',
          'a quoted field is not closed before the end of the file',
        );
        return false;
      case Problem.BareCr:
        this.report(line, null, null, 'bare_cr', BARE_CR_MESSAGE);
        return true;
      default:
        return true;
    }
  }

  private flushBlanksAsRows(): void {
    const count = this.blankRunLength;
    // In a one-column file a blank line would be a record of one empty field, but Spark skips
    // blank lines (and the twin drops the NULL row DuckDB reads for one): the job would read one
    // row fewer and fail on --expected-rows. So it is refused here too, where the producer can see
    // why (an empty string is written "").
    const message =
      this.expectedFields === 1
        ? 'blank line inside the data: Spark skips blank lines (and the DuckDB twin drops them), so its empty value would be lost (write "" for an empty string)'
        : `blank line inside the data: expected ${this.expectedFields} fields`;
    for (let k = 0; k < count; k++) {
      this.rows++;
      this.report(this.blankRunStart + k, null, null, 'ragged_row', message);
    }
    this.blankRunLength = 0;
  }

  private flushTrailingBlanks(): void {
    // Blank lines at the end of the file are not records (editors and exporters add them).
    this.blankRunLength = 0;
  }

  private readHeader(b: Buffer, nf: number, line: number, suspect: boolean): void {
    this.header = HeaderState.Done;
    this.expectedFields = nf;
    if (this.recordProblem !== Problem.None && !this.recordStructureOk(line, b)) {
      this.header = HeaderState.Missing;
      return;
    }
    this.checkSeparatorWindow(b, line);
    // The cells' texts; a cell that is not UTF-8 is reported here and maps to no column.
    const cells: (string | null)[] = [];
    const badCells = new Map<number, string>();
    for (let f = 0; f < nf; f++) {
      const s = this.starts[f]!;
      const e = this.ends[f]!;
      let bb = b;
      let ss = s;
      let ee = e;
      if (this.flags[f]! & ESCAPED) {
        bb = this.unescape(b, s, e);
        ss = 0;
        ee = this.scratchLength;
      }
      if (suspect && !isUtf8(bb.subarray(ss, ee))) {
        badCells.set(f, showBytes(bb, ss, ee));
        cells.push(null);
      } else {
        cells.push(bb.toString('utf8', ss, ee));
      }
    }
    // The one reading of a header (aliases, optional, retired and extra columns): a cell it maps
    // to no column (ignored, or in error) is not checked, yet still counts as a field of each row.
    const match = matchHeader(this.dataset, cells);
    match.fields.forEach((col, f) => {
      if (!col) return;
      this.fieldColumn[f] = col;
      this.fieldCheck[f] = compileValueCheck(col);
      this.fieldNullable[f] = col.nullable;
    });
    // In cell order (an undecodable cell where it stands), then the missing columns.
    const problems = match.problems;
    let k = 0;
    for (let f = 0; f < nf; f++) {
      const bad = badCells.get(f);
      if (bad !== undefined)
        this.report(line, null, bad, 'invalid_utf8', 'the header cell is not valid UTF-8');
      for (; k < problems.length && problems[k]!.position === f; k++)
        this.reportHeaderProblem(line, problems[k]!);
    }
    for (; k < problems.length; k++) this.reportHeaderProblem(line, problems[k]!);
  }

  /** A header problem in the validator's error shape; an unknown cell's text truncated as values are. */
  private reportHeaderProblem(line: number, problem: HeaderProblem): void {
    const column = problem.rule === 'unknown_column' ? truncate(problem.column) : problem.column;
    const value = problem.value === null ? null : truncate(problem.value);
    this.report(line, column, value, problem.rule, problem.message);
  }

  /**
   * Spark's CSV reader (univocity, multiLine) detects a file's line separator in its first input
   * buffer only, {@link SPARK_SEPARATOR_WINDOW} characters: a CRLF that ends the header past it is
   * never seen, the separator stays LF, and every line of the file would keep its CR. Such a
   * header (over a million characters) is refused; an LF file reads right either way.
   */
  private checkSeparatorWindow(b: Buffer, line: number): void {
    const end = this.recordEnd;
    if (end - this.recordStart < 2 || b[end - 1] !== LF || b[end - 2] !== CR) return;
    if (end - this.recordStart + this.bomChars <= SPARK_SEPARATOR_WINDOW) return;
    if (this.bomChars + utf16Length(b, this.recordStart, end) <= SPARK_SEPARATOR_WINDOW) return;
    this.report(
      line,
      null,
      null,
      'record_too_large',
      `the header line ends past character ${SPARK_SEPARATOR_WINDOW}, where Spark's CSV reader stops looking for the line ending: a CRLF file needs a shorter header`,
    );
  }

  private scratchLength = 0;

  /** Copies a quoted field with its doubled quotes undone into the scratch buffer. */
  private unescape(b: Buffer, s: number, e: number): Buffer {
    if (this.scratch.length < e - s) this.scratch = Buffer.allocUnsafe(2 * (e - s));
    const out = this.scratch;
    const Q = this.quote;
    let o = 0;
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      out[o++] = c;
      if (c === Q) i++;
    }
    this.scratchLength = o;
    return out;
  }

  private valueError(
    line: number,
    f: number,
    b: Buffer,
    s: number,
    e: number,
    rule: ValueRule | 'invalid_utf8',
  ): void {
    const col = this.fieldColumn[f]!;
    if (rule === 'invalid_utf8') {
      this.report(line, col.name, showBytes(b, s, e), rule, 'the value is not valid UTF-8');
      return;
    }
    const value = truncate(b.toString('utf8', s, e));
    const quoted = rule === 'not_null' ? '' : `${JSON.stringify(value)}: `;
    this.report(line, col.name, value, rule, `${quoted}${describeRule(col, rule)}`);
  }

  private report(
    line: number,
    column: string | null,
    value: string | null,
    rule: Rule,
    message: string,
  ): void {
    this.errorCount++;
    addOne(this.errorsByRule, rule);
    if (column !== null) addOne(this.errorsByColumn, column);
    if (this.errors.length >= this.maxErrors && !this.onError) return;
    const error: ValidationError = { line, column, value, rule, message };
    if (this.errors.length < this.maxErrors) this.errors.push(error);
    this.onError?.(error);
  }

  /** The partial record outgrew the cap: report it and skip to its end without buffering it. */
  private recordTooLarge(): void {
    const start = this.line;
    this.startOversized(start);
    const rest = this.leftover;
    this.leftover = Buffer.alloc(0);
    this.skip = Skip.FieldStart;
    this.skipLines = 0;
    this.skipStartLine = start;
    const after = this.skipRecord(rest, 0);
    if (after >= 0) {
      this.pending.push(rest.subarray(after));
      this.pendingBytes += rest.length - after;
    }
  }

  private tooLargeMessage(): string {
    return `a record is longer than ${this.maxRecordBytes} bytes (the record size cap): it is not checked`;
  }

  /** Advances skip mode over `b` from `i`: the offset after the record's end, or -1 if not reached. */
  private skipRecord(b: Buffer, i: number): number {
    const Q = this.quote;
    const D = this.delim;
    let state = this.skip;
    let lines = this.skipLines;
    for (; i < b.length; i++) {
      const c = b[i];
      if (state === Skip.Cr) {
        if (c === LF) {
          this.endSkipAt(lines, Ending.Crlf);
          return i + 1;
        }
        this.bareCrInSkip();
        this.endSkipAt(lines, Ending.Unknown);
        return i;
      }
      if (state === Skip.QuoteInQuoted) {
        // A doubled quote stays inside the field; anything else closed it.
        if (c === Q) {
          state = Skip.Quoted;
          continue;
        }
        state = Skip.Unquoted;
      }
      if (state === Skip.Quoted) {
        if (c === Q) state = Skip.QuoteInQuoted;
        else if (c === LF) {
          lines++;
          this.spansLines = true;
        } else if (c === CR) this.spansLines = true;
        continue;
      }
      if (c === LF) {
        this.endSkipAt(lines, Ending.Lf);
        return i + 1;
      }
      if (c === CR) state = Skip.Cr;
      else if (c === D) state = Skip.FieldStart;
      else if (state === Skip.FieldStart) state = c === Q ? Skip.Quoted : Skip.Unquoted;
    }
    this.skip = state;
    this.skipLines = lines;
    return -1;
  }

  /** `ending`: the skipped record's line ending, which counts like any other line's. */
  private endSkipAt(lines: number, ending: Ending): void {
    this.skip = Skip.Off;
    if (ending !== Ending.Unknown) this.noteEnding(this.skipStartLine, ending);
    this.line += lines + 1;
  }

  private bareCrInSkip(): void {
    this.report(this.skipStartLine, null, null, 'bare_cr', BARE_CR_MESSAGE);
  }

  private endSkip(): void {
    if (this.skip === Skip.Cr) this.bareCrInSkip();
    if (this.skip === Skip.Quoted) this.reportUnterminated(this.skipStartLine);
    this.skip = Skip.Off;
  }
}

/**
 * The characters (UTF-16 units, as Java counts them) of the UTF-8 bytes `b[s..e)`: every byte
 * but a continuation byte starts one, and a 4-byte sequence is two (a surrogate pair).
 */
function utf16Length(b: Buffer, s: number, e: number): number {
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

/** Whether `b[s..e)` is one or more spaces and then the quote `q`. */
function spacesThenQuote(b: Buffer, s: number, e: number, q: number): boolean {
  let k = s;
  while (k < e && b[k] === SPACE) k++;
  return k > s && k < e && b[k] === q;
}

/** Length of `b` without a multi-byte UTF-8 sequence cut off at its end. */
function completeUtf8Length(b: Buffer): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k]!;
    if (c < 0x80) return n;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return need > k ? n - k : n;
    }
  }
  return n;
}

/**
 * Counts by a key that may be any header text: `constructor` or `__proto__` must be an own
 * property like any other, not a lookup into Object.prototype (a count of `[object Object]1`).
 */
function addOne(counts: Record<string, number>, key: string): void {
  addCount(counts, key, 1);
}

/** Adds `n` to the count of `key`, any header text (see {@link addOne}). */
export function addCount(counts: Record<string, number>, key: string, n: number): void {
  setCount(counts, key, (Object.hasOwn(counts, key) ? counts[key]! : 0) + n);
}

function setCount(counts: Record<string, number>, key: string, n: number): void {
  if (key === '__proto__')
    Object.defineProperty(counts, key, { value: n, enumerable: true, writable: true, configurable: true });
  else counts[key] = n;
}

function truncate(text: string): string {
  return truncateText(text, MAX_VALUE_CHARS);
}

/** Shows bytes as text with every byte that is not part of valid UTF-8 as `\xNN`. */
function showBytes(b: Buffer, s: number, e: number): string {
  let out = '';
  let i = s;
  while (i < e && out.length < MAX_VALUE_CHARS) {
    const c = b[i]!;
    const need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    const valid = need > 0 && i + need <= e && isUtf8(b.subarray(i, i + need));
    const piece = valid
      ? b.toString('utf8', i, i + need)
      : `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    if (out.length + piece.length > MAX_VALUE_CHARS) break;
    out += piece;
    i += valid ? need : 1;
  }
  return i < e ? `${out}…` : out;
}
