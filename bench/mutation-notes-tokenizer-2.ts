/** Why surviving mutants of the tokenizer (lib/validation/csv-validator.ts, part 2 of 3) are left alive; see mutation-notes.ts. */
import type { Explanation } from './mutation-notes.ts';

const FILE = 'lib/validation/csv-validator.ts';

/** Why the byte before a lone-LF record is never a CR (used by the line-ending guards below). */
const NO_CR_BEFORE_LF_RECORD =
  'a record that is the lone LF never follows a CR in the same buffer: the parser waits for the byte after a CR (non-final) and joins CR LF into one CRLF ending, and a buffer that starts at a record boundary (resume, after a skip, after a BOM) has no byte before it (b[-1] is undefined)';

export const TOKENIZER_NOTES_2: readonly Explanation[] = [
  // contentLength and oversizedRecord: the size cap's measure and an oversized record's line ending.
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'e - s',
    replacement: 'e + s',
    context: 'return e - s;',
    why: 'Equivalent: contentLength runs only when recordEnd − recordStart (e − s) is already over the cap, and s ≥ 0, so e + s ≥ e − s is over it too: the only use, content > cap, is true either way.',
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'e - s',
    replacement: 'e + s',
    context: 'return b[e - 1] === CR ? e - s - 1 : e - s;',
    why: 'Equivalent: contentLength runs only when e − s is already over the cap, and s ≥ 0, so e + s for a record without a line ending is over it too: the only use, content > cap, is true either way.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'e - 2 >= s',
    replacement: 'true',
    context: 'if (b[e - 1] === LF) return e - s - (e - 2 >= s',
    why: `Equivalent: the guard is false only for a record that is the lone LF (e = s + 1), where b[e − 2] is the byte before the record; ${NO_CR_BEFORE_LF_RECORD}. So 1 is subtracted either way.`,
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'e - 2',
    replacement: 'e + 2',
    context: 'if (b[e - 1] === LF) return e - s - (e - 2 >= s',
    why: `Equivalent: e + 2 >= s always holds, the same as the guard set to true: it is false only for a lone-LF record, where b[e − 2] is the byte before it; ${NO_CR_BEFORE_LF_RECORD}. So 1 is subtracted either way.`,
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'end - 2 >= this.recordStart',
    replacement: 'true',
    why: `Equivalent: the guard is false only for a record that is the lone LF, where b[end − 2] is the byte before the record; ${NO_CR_BEFORE_LF_RECORD}. So the ending noted is LF either way.`,
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'end - 2',
    replacement: 'end + 2',
    context: 'end - 2 >= this.recordStart',
    why: `Equivalent: end + 2 >= recordStart always holds, the same as the guard set to true: it is false only for a lone-LF record, where b[end − 2] is the byte before it; ${NO_CR_BEFORE_LF_RECORD}. So the ending noted is LF either way.`,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'end - 2 >= this.recordStart',
    replacement: 'end - 2 > this.recordStart',
    why: 'Equivalent for every cap ≥ 0: the two differ only for a 2-byte record CR LF (a blank CRLF line), whose content is 0 bytes, so oversizedRecord never sees it (content > cap is false). A negative maxRecordBytes would reach it, but the CLI refuses a cap below 1 and a negative cap is broken anyway (every push then reports its empty rest as a record too large).',
  },
  // startOversized
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.blankRunLength > 0',
    replacement: 'true',
    context: 'else if (this.blankRunLength > 0) this.flushBlanksAsRows();',
    why: 'Equivalent: with no pending blank line flushBlanksAsRows loops zero times and sets blankRunLength to the 0 it already is.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'this.blankRunLength > 0',
    replacement: 'this.blankRunLength >= 0',
    context: 'else if (this.blankRunLength > 0) this.flushBlanksAsRows();',
    why: 'Equivalent: the extra case, blankRunLength 0, makes flushBlanksAsRows loop zero times and set blankRunLength to the 0 it already is.',
  },
  // recordStructureOk
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.problemField >= 0',
    replacement: 'true',
    context: 'const column = this.problemField >= 0',
    why: 'Equivalent: with problemField −1 the lookup is fieldColumn[-1], undefined (an array has no "-1" element), so `?.name ?? null` gives the same null.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'default:',
    why: 'Equivalent: unreachable. Both callers call recordStructureOk only when recordProblem is not None, and the other three Problem values have their own cases.',
  },
  {
    file: FILE,
    mutator: 'BooleanLiteral',
    original: 'true',
    replacement: 'false',
    // The same text as the BareCr case two lines up, whose mutant the tests kill.
    context: '        return true;',
    why: "Equivalent: the switch's default is unreachable. Both callers call recordStructureOk only when recordProblem is not None, and the other three Problem values have their own cases (the BareCr case's `return true` is pinned by a test).",
  },
  // flushTrailingBlanks
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'Blank lines at the end of the file are not records',
    why: 'Equivalent: flushTrailingBlanks runs only at the end of finish(), the last call the contract allows: after it nothing reads blankRunLength (finish decides empty_file by the header state, the result holds no blank count; checkpoint() is taken between pushes only, and validateCsv never takes one after finish).',
  },
  // readHeader
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.recordProblem !== Problem.None',
    replacement: 'true',
    context: 'recordStructureOk(line, b)) {',
    why: "Equivalent: for a header without a problem recordStructureOk takes the switch's default, reports nothing and returns true (its column and value lookups have no side effects), so the header is read as before.",
  },
  // unescape: when the scratch buffer is reallocated, and how large.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.scratch.length < e - s',
    replacement: 'true',
    why: 'Equivalent: only the allocation changes: a fresh buffer of 2(e − s) bytes holds the unescaped field (at most e − s bytes), and every caller reads it before the next unescape, so the text is the same.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'this.scratch.length < e - s',
    replacement: 'this.scratch.length <= e - s',
    why: 'Equivalent: the extra case is a scratch of exactly e − s bytes, which already holds the unescaped field (at most e − s bytes); reallocating it changes only the allocation.',
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'e - s',
    replacement: 'e + s',
    context: 'if (this.scratch.length < e - s) this.scratch = Buffer.allocUnsafe(2 * (e - s));',
    why: 'Equivalent: with s ≥ 0 the buffer used always holds the unescaped field (at most e − s bytes): reallocating when length < e + s still allocates 2(e − s), a buffer of 2(e + s) is larger, and one not reallocated has length ≥ e + s ≥ e − s. Only the allocation differs.',
  },
  // report: the shortcut once the list is full.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'this.errors.length >= this.maxErrors && !this.onError',
    replacement: 'false',
    why: 'Equivalent: the early return is a shortcut (the counts are updated before it): without it the error is listed only while errors.length < maxErrors and onError is called only when set, so with the list full and no onError nothing happens either way.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'this.errors.length >= this.maxErrors',
    replacement: 'this.errors.length > this.maxErrors',
    why: 'Equivalent: the extra case, a full list (length = maxErrors) and no onError, goes on to list the error only if length < maxErrors (no) and to call onError only if set (no): nothing happens either way.',
  },
  // recordTooLarge: the skip never finds the record's end inside the leftover.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'after >= 0',
    replacement: 'false',
    why: 'Equivalent: unreachable, skipRecord returns −1 here. The leftover it skips is a record the parser found incomplete: outside quotes it holds no LF and no CR with a byte after it, and the skip machine tracks quotes exactly as the parser does (a quote opens only at a field start, doubled quotes stay inside, text after a closing quote runs to a delimiter or line end), so it reaches the end without the record ending.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'after >= 0',
    replacement: 'after > 0',
    why: 'Equivalent: unreachable, skipRecord returns −1 here (never 0). The leftover it skips is a record the parser found incomplete: outside quotes it holds no LF and no CR with a byte after it, and the skip machine tracks quotes exactly as the parser does, so it reaches the end without the record ending.',
  },
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'this.pending.push(rest.subarray(after));',
    why: 'Equivalent: unreachable (no test reaches it): skipRecord returns −1 on the leftover, a record the parser found incomplete, since the skip machine tracks quotes and line ends exactly as the parser does.',
  },
  {
    file: FILE,
    mutator: 'AssignmentOperator',
    original: 'this.pendingBytes += rest.length - after',
    why: 'Equivalent: unreachable (no test reaches it): skipRecord returns −1 on the leftover, a record the parser found incomplete, since the skip machine tracks quotes and line ends exactly as the parser does.',
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'rest.length - after',
    why: 'Equivalent: unreachable (no test reaches it): skipRecord returns −1 on the leftover, a record the parser found incomplete, since the skip machine tracks quotes and line ends exactly as the parser does.',
  },
  // completeUtf8Length: only bounds the fast whole-buffer UTF-8 test.
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'for (let k = 1; k <= 3 && k <= n; k++)',
    why: 'Equivalent: the length only bounds the fast UTF-8 test that sets `suspect` (check fields one by one); undefined makes it the whole buffer, which can turn suspect on but never off (a valid range is valid up to any character boundary), and a suspect buffer gets the same verdicts field by field (a cut character sits in the partial record, checked once complete). Only speed differs.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'k <= 3 && k <= n',
    replacement: 'false',
    why: 'Equivalent: the length becomes n, the whole buffer, which can turn `suspect` on but never off, and a suspect buffer gets the same verdicts field by field (a character cut at the end sits in the partial record, checked once complete). Only speed differs.',
  },
  {
    file: FILE,
    mutator: 'LogicalOperator',
    original: 'k <= 3 && k <= n',
    why: 'Equivalent: the extra steps return n, as the original does after its loop: past k = 3 a lead byte needs at most 4 ≤ k bytes (need > k is false) and ASCII returns n; past k = n, b[n − k] is undefined, which neither test matches, so the loop ends with n.',
  },
];
