/** Why surviving mutants of the tokenizer (lib/validation/csv-validator.ts, part 3 of 3) are left alive; see mutation-notes.ts. */
import type { Explanation } from './mutation-notes.ts';

const FILE = 'lib/validation/csv-validator.ts';

/**
 * Why completeUtf8Length may return a longer length, or leave out any trailing bytes ≥ 0x80
 * (checked for every survivor on its line by trying all buffers of up to 5 bytes drawn from
 * LF, CR, ",", "A" and the boundary bytes 80 8F A9 BF C0 C1 C2 C3 DF E0 E2 ED EF F0 F4 F5 F8 FF:
 * each mutant returns n, more, or leaves out only bytes ≥ 0x80). The mutant that also leaves out
 * an LF (`c < 0x80` → false) is killed by test/unit/tokenizer-mutants-3.test.ts.
 */
const PRECHECK_COVERS_COMPLETE_RECORDS =
  'Equivalent: completeUtf8Length only bounds the native UTF-8 pre-check of a non-final parse (`suspect`, which turns on the field-by-field checks), and with this mutant it still returns the whole buffer (a length past it is clamped by subarray) or leaves out only a run of bytes ≥ 0x80 at its end. A record completed in a non-final parse ends in LF or CR, so those bytes belong to the unfinished record, parsed and checked again with the next chunk, and every complete record stays inside the pre-check: an invalid field in one still turns suspect on (UTF-8 splits at ASCII bytes, so a range holding an invalid field is invalid), and a pre-check that fails on bytes of the unfinished record only makes the field-by-field checks run over valid fields and find nothing. The same errors either way';

const COUNTS_ARE_PLAIN =
  'Equivalent: the counts are plain objects ({}); for any key but __proto__, assignment creates (or updates) an own data property that is writable, enumerable and configurable, in the same place of the key order, exactly what defineProperty with those three true does. Assignment could differ only through a setter or a read-only property on Object.prototype, and it has neither but __proto__, which keeps its own branch';

const BREAK_STOPS_AT_THE_LIMIT =
  'Equivalent: the break below adds a piece only while out stays within MAX_VALUE_CHARS, and every piece is at least one character (a valid sequence decodes to one character or two, an escape is four), so once out holds MAX_VALUE_CHARS characters the extra pass the mutant allows breaks at once with i and out unchanged: the loop ends in the same state';

export const TOKENIZER_NOTES_3: readonly Explanation[] = [
  // completeUtf8Length: the loop over the last three bytes.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'k <= 3',
    replacement: 'true',
    context: 'for (let k = 1; k <= 3 && k <= n; k++)',
    why: 'Equivalent: the loop only runs on past k = 3 over continuation bytes, and a byte four or more from the end returns n whatever it is (ASCII: n; a lead byte needs at most 4 ≤ k bytes: n; a continuation byte: go on), which is what the loop’s end returns; the same length for every buffer.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'k <= n',
    replacement: 'true',
    context: 'for (let k = 1; k <= 3 && k <= n; k++)',
    why: 'Equivalent: past the buffer’s first byte b[n - k] is undefined, for which both comparisons are false, so the loop goes on to k = 4 and returns n, as the original does on leaving the loop; the same length for every buffer.',
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'k <= ',
    context: 'for (let k = 1; k <= 3 && k <= n; k++)',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'const c = b[n - k]!;',
    context: 'for (let k = 1; k <= 3 && k <= n; k++)',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'n - k',
    context: 'const c = b[n - k]!;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'c < 0x80',
    replacement: 'true',
    context: 'if (c < 0x80) return n;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'c < 0x80',
    context: 'if (c < 0x80) return n;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  // completeUtf8Length: the lead byte and how many bytes it needs.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'c >= 0xc0',
    context: 'if (c >= 0xc0) {',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'c >= 0xc0',
    context: 'if (c >= 0xc0) {',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'BlockStatement',
    original: 'const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;',
    context: 'if (c >= 0xc0) {',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'c >= 0x',
    context: 'const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'c >= 0x',
    context: 'const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'need > k',
    context: 'return need > k ? n - k : n;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'need > k',
    context: 'return need > k ? n - k : n;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  {
    file: FILE,
    mutator: 'ArithmeticOperator',
    original: 'n - k',
    context: 'return need > k ? n - k : n;',
    why: PRECHECK_COVERS_COMPLETE_RECORDS,
  },
  // setCount.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: "key === '__proto__'",
    replacement: 'true',
    context: "if (key === '__proto__')",
    why: COUNTS_ARE_PLAIN,
  },
  // showBytes.
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'out.length < MAX_VALUE_CHARS',
    replacement: 'true',
    context: 'while (i < e && out.length < MAX_VALUE_CHARS)',
    why: BREAK_STOPS_AT_THE_LIMIT,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'out.length < MAX_VALUE_CHARS',
    replacement: 'out.length <= MAX_VALUE_CHARS',
    context: 'while (i < e && out.length < MAX_VALUE_CHARS)',
    why: BREAK_STOPS_AT_THE_LIMIT,
  },
  {
    file: FILE,
    mutator: 'EqualityOperator',
    original: 'c < 0x80',
    replacement: 'c <= 0x80',
    context: 'const need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;',
    why: 'Equivalent: it differs for the byte 0x80 only, which gets need 1 instead of 0; a lone 0x80 is a continuation byte, which isUtf8 refuses, so it is shown as \\x80 and passed one byte at a time either way.',
  },
  {
    file: FILE,
    mutator: 'ConditionalExpression',
    original: 'c >= 0xc2',
    replacement: 'true',
    context: 'const need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;',
    why: 'Equivalent: it differs for bytes 0x80–0xC1 only, which get need 2 instead of 0; no valid UTF-8 sequence starts with a continuation byte (80–BF) or with C0 or C1 (overlong), so isUtf8 refuses the two bytes (or they pass the end) and the byte is shown as \\xNN and passed alone, as with need 0.',
  },
  {
    file: FILE,
    mutator: 'StringLiteral',
    original: "'0'",
    context: "padStart(2, '0')",
    why: 'Equivalent: only bytes ≥ 0x80 are escaped (an ASCII byte gets need 1 and is a valid one-byte sequence), and those have two hex digits, so padStart never pads.',
  },
];
