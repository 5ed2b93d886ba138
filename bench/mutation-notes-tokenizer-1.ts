/** Why surviving mutants of the tokenizer (lib/validation/csv-validator.ts, part 1 of 3) are left alive; see mutation-notes.ts. */
import type { Explanation } from './mutation-notes.ts';

const FILE = 'lib/validation/csv-validator.ts';

/** Why drainInPlace may give up on any chunk (used by the notes on its shortcut below). */
const JOIN_PATH_SAME =
  'drainInPlace is a shortcut that spares copying the chunk; when it returns false (before parsing anything), drain joins leftover and chunk and parses them as one buffer, which completes the same records with the same checks and keeps the same partial record: the in-place path parses a prefix of that buffer ending at an LF (records that end inside a prefix are those of the whole, as the parser, non-final, waits rather than guess at the prefix end), then the rest of the chunk from where that prefix parse stopped. Only copying differs';

export const TOKENIZER_NOTES_1: readonly Explanation[] = [
  // Field initializers that are overwritten or never read.
  {
    file: FILE,
    mutator: 'ArrayDeclaration',
    original: '[]',
    context: 'private fieldColumn:',
    why: 'Equivalent: a position the header (or a checkpoint) did not map is read only as `fieldColumn[f]?.name ?? null` (in checkpoint and recordStructureOk), and a string has no `name`, so null either way; every other read is at a position with a check, which readHeader and restore set together with its column.',
  },
  {
    file: FILE,
    mutator: 'ArrayDeclaration',
    original: '[]',
    context: 'private fieldNullable:',
    why: 'Equivalent: fieldNullable[f] is read only where fieldCheck[f] is set (onRecord skips positions without a check; flushBlanksAsRows tests `!fieldNullable[0] && fieldCheck[0]`, falsy either way without a check), and readHeader and restore set both together.',
  },
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'this.header = HeaderState.Pending;',
    context: "cp.columns === 'pending'",
    why: 'Equivalent: restore runs in the constructor, after the field initializer has set header to Pending, and nothing changes it in between.',
  },
  {
    file: FILE,
    mutator: 'UnaryOperator',
    original: '-1',
    context: 'private problemField = -1',
    why: 'Equivalent: parseRecord sets problemField to −1 before tokenizing each record, and it is read (recordStructureOk) only for a record just parsed, so the initial value is never read.',
  },
  // push: the early return.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'chunk.length === 0',
    replacement: 'false',
    why: `Equivalent: a shortcut. An empty chunk let through adds nothing: in skip mode skipRecord returns −1 at once; otherwise an empty buffer joins pending, which parses nothing (a fresh drain leaves the same empty or partial leftover) or, when push waits for more bytes, only makes the next drain take the join path (pending holds two buffers), and ${JOIN_PATH_SAME}. Once ignoreRest is set (UTF-16, the leftover emptied), drain drops the pending bytes at \`if (this.ignoreRest) return\` before parsing them, and checkpoint() is null either way.`,
  },
  {
    file: FILE,
    mutator: 'LogicalOperator',
    original: 'chunk.length === 0 || this.ignoreRest',
    why: `Equivalent: a shortcut. An empty chunk let through adds nothing: in skip mode skipRecord returns −1 at once; otherwise an empty buffer joins pending, which parses nothing or, when push waits for more bytes, only makes the next drain take the join path, and ${JOIN_PATH_SAME}. Once ignoreRest is set (UTF-16, the leftover emptied), drain drops the pending bytes at \`if (this.ignoreRest) return\` before parsing them, and checkpoint() is null either way.`,
  },
  // drainInPlace: a shortcut the join path can always replace.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'lf < 0',
    replacement: 'true',
    why: `Equivalent: every chunk takes the join path; ${JOIN_PATH_SAME}.`,
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'lf < 0',
    replacement: 'false',
    why: 'Equivalent: with no LF in the chunk the head is the leftover alone (subarray(0, 0) is empty), a partial record the parser found incomplete with these very bytes, so it completes nothing, p = 0 < leftover.length, and drainInPlace returns false as before.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'lf < 0',
    why: `Equivalent: both only send more chunks to the join path (lf <= 0: a chunk that starts with LF; lf >= 0: every chunk with an LF, and one without still gives up, its head being the incomplete leftover alone); ${JOIN_PATH_SAME}.`,
  },
  {
    file: FILE,
    mutator: 'ArrayDeclaration',
    original: 'chunk.subarray(0, lf + 1)',
    why: `Equivalent: an empty head completes no record, so p = 0 < leftover.length and drainInPlace gives up, having emitted nothing; ${JOIN_PATH_SAME}.`,
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'lf + 1',
    replacement: 'lf - 1',
    why: `Equivalent: any prefix of leftover + chunk serves as the head, and subarray(0, lf − 1) still gives one (for lf = 0, subarray(0, −1): the chunk but its last byte). Non-final, the head completes exactly the records of the joined buffer that end inside it, the chunk is then parsed from where they stop, and a head that completes none (the leftover's record ends at the LF left out) makes drainInPlace give up; ${JOIN_PATH_SAME}.`,
  },
  // settle
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'p < b.length',
    replacement: 'true',
    why: 'Equivalent: p never exceeds b.length, and at p = b.length b.subarray(p) is an empty buffer like Buffer.alloc(0); only what memory the empty leftover points into differs.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'p < b.length',
    replacement: 'p <= b.length',
    why: 'Equivalent: parseBuffer returns at most b.length, and at p = b.length b.subarray(p) is an empty buffer like Buffer.alloc(0); only what memory the empty leftover points into differs.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'final',
    replacement: 'false',
    context: 'if (final) {',
    why: 'Equivalent: a final parse consumes the whole buffer (parseRecord returns −1 only when not final), so the size check that follows sees an empty leftover and does nothing; what is lost is flushTrailingBlanks, at the end of finish(), the last call the contract allows: nothing reads blankRunLength after it (finish decides empty_file by the header state, the result holds no blank count; checkpoint() is taken between pushes only, and validateCsv never takes one after finish).',
  },
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'this.flushTrailingBlanks();',
    context: 'if (final) {',
    why: 'Equivalent: a final parse consumes the whole buffer (parseRecord returns −1 only when not final), so the size check that then runs sees an empty leftover and does nothing; what is lost is flushTrailingBlanks, at the end of finish(), the last call the contract allows: nothing reads blankRunLength after it (finish decides empty_file by the header state, the result holds no blank count; checkpoint() is taken between pushes only, and validateCsv never takes one after finish).',
  },
  // parseRecord: bounds that other conditions already imply.
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'j >= n',
    replacement: 'j > n',
    // The quoted field's loop (more indented than the `if (j >= n)` after the fields).
    context: '          if (j >= n) {',
    why: 'Equivalent: at j = n the mutant reads b[n], undefined, which is neither the quote nor LF, so j becomes n + 1 and the same branch runs one step later; it uses n and i, never j, so the record (or the wait for more bytes) is the same.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'shown > i',
    replacement: 'true',
    why: 'Equivalent: b[i] is the opening quote, which the dialect refuses to be CR or LF, so trimming line breaks off the end always stops at shown = i + 1 at the latest: the bound is never what stops it.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'shown > i',
    replacement: 'shown >= i',
    why: 'Equivalent: b[i] is the opening quote, which the dialect refuses to be CR or LF, so trimming line breaks off the end stops at shown = i + 1 at the latest and never tests shown = i.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'j + 1 >= n && !final',
    replacement: 'false',
    context: 'if (j + 1 >= n && !final)',
    why: 'Equivalent: for a quote that is the last byte of a non-final buffer, the mutant closes the field there instead of waiting, but then j = n after the closing quote and `if (j >= n) { if (!final) return -1; …` waits anyway, with nothing reported or counted in between (the final case is unchanged: !final is false).',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'j + 1 >= n',
    replacement: 'j + 1 > n',
    why: 'Equivalent: the case dropped is a quote that is the last byte (j + 1 = n); non-final, the field then closes there, j becomes n and `if (j >= n) { if (!final) return -1; …` waits anyway, with nothing reported or counted in between.',
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'j + 1',
    replacement: 'j - 1',
    context: 'if (j + 1 >= n && !final)',
    why: 'Equivalent: j − 1 >= n never holds (j < n), so a quote that is the last byte of a non-final buffer closes the field; then j = n and `if (j >= n) { if (!final) return -1; …` waits anyway, with nothing reported or counted in between.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'j + 1 < n',
    replacement: 'true',
    context: 'b[j + 1] === Q && j + 1 < n',
    why: 'Equivalent: b[j + 1] === Q already implies j + 1 < n: a Buffer index at or past its length reads undefined.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'j + 1 < n',
    replacement: 'j + 1 <= n',
    context: 'b[j + 1] === Q && j + 1 < n',
    why: 'Equivalent: b[j + 1] === Q already implies j + 1 < n (a Buffer index at or past its length reads undefined), so the bound decides nothing.',
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'j + 1',
    replacement: 'j - 1',
    context: 'b[j + 1] === Q && j + 1 < n',
    why: 'Equivalent: j − 1 < n always holds (j < n), and b[j + 1] === Q already implies j + 1 < n (a Buffer index at or past its length reads undefined), so the bound decides nothing.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'nf === 1 && quoted === 0 && starts[0] === ends[0]',
    replacement: 'false',
    context: 'this.finishRecord(n, lines, problem,',
    why: 'Equivalent: the expression is always false here (the last record, cut by the end of the file): parseRecord starts at p < n, so a single unquoted field that runs to the end starts at p and ends at n > p, never empty.',
  },
  // onRecord
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.recordEnd - this.recordStart > this.maxRecordBytes',
    replacement: 'true',
    why: 'Equivalent: a fast pre-check: contentLength (the record without its line ending) is never more than recordEnd − recordStart, so when the pre-check is false the exact test is false too.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'this.recordEnd - this.recordStart > this.maxRecordBytes',
    replacement: 'this.recordEnd - this.recordStart >= this.maxRecordBytes',
    why: 'Equivalent: the extra case, recordEnd − recordStart = cap, goes on to the exact test, contentLength > cap, which is false since contentLength ≤ recordEnd − recordStart.',
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'this.recordEnd - this.recordStart',
    replacement: 'this.recordEnd + this.recordStart',
    why: 'Equivalent: recordStart ≥ 0, so end + start ≥ end − start: the pre-check passes whenever it did, and when it newly passes the exact test, contentLength ≤ end − start ≤ cap, is false.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.blankRunLength > 0',
    replacement: 'true',
    // onRecord's (the line starts with `if`, not `else if` as in startOversized).
    context: '    if (this.blankRunLength > 0) this.flushBlanksAsRows();',
    why: 'Equivalent: with no pending blank line flushBlanksAsRows loops zero times and sets blankRunLength to the 0 it already is.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'this.blankRunLength > 0',
    replacement: 'this.blankRunLength >= 0',
    context: '    if (this.blankRunLength > 0) this.flushBlanksAsRows();',
    why: 'Equivalent: the extra case, blankRunLength 0, makes flushBlanksAsRows loop zero times and set blankRunLength to the 0 it already is.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.recordProblem !== Problem.None',
    replacement: 'true',
    context: 'recordStructureOk(line, b)) return;',
    why: "Equivalent: for a record without a problem recordStructureOk takes the switch's default, reports nothing and returns true (its column and value lookups have no side effects), so the values are checked as before.",
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'f < nf',
    replacement: 'f <= nf',
    context: 'for (let f = 0; f < nf; f++) {',
    why: "Equivalent (onRecord's check loop): it runs after `nf !== expectedFields` returned, so the extra position is expectedFields, which has no check: readHeader sets checks only below the header's field count, and restore only at the positions of the checkpoint's columns, which a checkpoint lists for exactly expectedFields positions; fieldCheck[expectedFields] is undefined and the loop skips it.",
  },
  {
    file: 'lib/validation/csv-validator.ts',
    mutator: 'BooleanLiteral',
    original: 'true',
    replacement: 'false',
    context: '    return true;',
    why: 'Equivalent: drainInPlace returning false makes drain parse the leftover again, a record the parser already found incomplete, so no record completes and the same leftover is kept (with final, it is empty and the blank run is flushed again, which is idempotent).',
  },
];
