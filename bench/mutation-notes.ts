/**
 * Why each surviving mutant of `npm run mutation` is left alive. A survivor is matched by its file,
 * its mutator and a piece of the source text it replaced (robust to line moves); one without a note
 * fails the run. Add a note only when no test should kill the mutant: an equivalent mutant (the
 * program behaves the same), or a change that only touches wording nobody relies on. Otherwise,
 * write the test.
 */

/** One reason, for every survivor it matches. */
export interface Explanation {
  readonly file: string;
  readonly mutator: string;
  /** A piece of the original source text of the mutated span. */
  readonly original: string;
  /** A piece of the replacement, when the note is for one replacement only. */
  readonly replacement?: string;
  /** A piece of the source line the mutant starts on, when `original` alone is too common (`[]`). */
  readonly context?: string;
  readonly why: string;
}

/** The reasons, grouped by why (the report lists survivors under their reason). */
export const EXPLAINED: readonly Explanation[] = [
  {
    file: 'lambdas/trigger/core.ts',
    mutator: 'StringLiteral',
    original: "'object'",
    replacement: '""',
    why: 'Equivalent: an unreachable fallback. The readable part of a name always holds the dataset (never empty: datasetOf gives no-dataset) and, with a file name, a "-" that sanitize keeps, so the prefix is never empty.',
  },
  {
    file: 'lambdas/register-partition/core.ts',
    mutator: 'Regex',
    original: '/^\\d{4}-\\d{2}-\\d{2}$/',
    why: 'Equivalent: isCalendarDate also requires the text to equal toISOString().slice(0, 10), which is exactly YYYY-MM-DD or an expanded year (±YYYYYY-MM) that the regex without either anchor still refuses; the anchors decide nothing.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'ConditionalExpression',
    original: 'slash < 0',
    replacement: 'false',
    why: 'Equivalent: with no slash indexOf is -1 and key.slice(-1 + 1) is the whole key, the same as the true branch.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'MethodExpression',
    original: 'file.slice(0, file.length - ext.length)',
    replacement: 'file',
    why: 'Equivalent: only a name over the budget is cut, and then the name without its extension is already longer than the head budget (budget − 17 − extension bytes), so cutting the whole name yields the same head.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'ArithmeticOperator',
    original: 'file.length - ext.length',
    replacement: 'file.length + ext.length',
    why: 'Equivalent: only a name over the budget is cut, and then the name without its extension is already longer than the head budget (budget − 17 − extension bytes), so cutting the whole name yields the same head.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'OptionalChaining',
    original: 'early?.reason',
    why: 'Equivalent: earlyRejection returns a rejection whenever the dataset is not in the map, so inside `if (!dataset || early)` early is never null and the ?. and ?? fallbacks cannot run.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'StringLiteral',
    original: "'unknown_dataset'",
    context: 'early?.reason',
    why: 'Equivalent: earlyRejection returns a rejection whenever the dataset is not in the map, so inside `if (!dataset || early)` early is never null and the ?. and ?? fallbacks cannot run.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'OptionalChaining',
    original: 'early?.errors',
    why: 'Equivalent: earlyRejection returns a rejection whenever the dataset is not in the map, so inside `if (!dataset || early)` early is never null and the ?. and ?? fallbacks cannot run.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'ArrayDeclaration',
    original: '[]',
    context: 'early?.errors ?? []',
    why: 'Equivalent: earlyRejection returns a rejection whenever the dataset is not in the map, so inside `if (!dataset || early)` early is never null and the ?. and ?? fallbacks cannot run.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'ArithmeticOperator',
    original: '2 - magic.length',
    replacement: '2 + magic.length',
    why: 'Equivalent: a few more bytes of the same chunks are kept, and startsWithGzipMagic looks only at the first two, which are unchanged.',
  },
  {
    file: 'lambdas/validate/core.ts',
    mutator: 'MethodExpression',
    original: 'r.errors.slice(0, REPORT_ERRORS)',
    replacement: 'r.errors',
    why: 'Equivalent: no caller passes more than REPORT_ERRORS errors (validateCsv lists at most maxErrors = REPORT_ERRORS, a slice preview at most STATE_ERRORS, a file rejected unread at most two).',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'i < e - 1',
    replacement: 'true',
    context: 'leading zeros do not count',
    why: 'Equivalent: the skip goes further than the original only when every remaining digit is 0; the value is then zero, which both accept (under 19 significant digits) whatever bytes follow the field.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'EqualityOperator',
    original: 'i < e - 1',
    replacement: 'i <= e - 1',
    context: 'leading zeros do not count',
    why: 'Equivalent: the skip goes further than the original only when every remaining digit is 0; the value is then zero, which both accept (under 19 significant digits) whatever bytes follow the field.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ArithmeticOperator',
    original: 'e - 1',
    replacement: 'e + 1',
    context: 'leading zeros do not count',
    why: 'Equivalent: the skip goes further than the original only when every remaining digit is 0; the value is then zero, which both accept (under 19 significant digits) whatever bytes follow the field.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'EqualityOperator',
    original: 'd < l',
    replacement: 'd <= l',
    why: 'Equivalent: it sits inside `if (d !== l)`, where d <= l and d < l agree.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'intDigits === 1',
    replacement: 'true',
    why: 'Equivalent: the leading-zero skip stops on a 0 only when it is the last integer digit, so a run starting with 0 already has exactly one digit, or none (intDigits already 0).',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'EqualityOperator',
    original: 'scale > 0',
    replacement: 'scale >= 0',
    why: 'Equivalent: scale 0 (a trailing dot, "5.") divides by POWERS_OF_TEN[0] = 1.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'h >= 0',
    replacement: 'true',
    context: 'h <= 9 && l >= 0',
    why: 'Equivalent: with h < 0 and l <= 9, h * 10 + l is at most -1, and every caller of twoDigits treats any negative result as malformed.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'BlockStatement',
    original: 'i++',
    replacement: '{}',
    context: 'c === 0x5a',
    why: 'Equivalent: i is not read after the zone is parsed; the increment is a dead store.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'UpdateOperator',
    original: 'i++',
    replacement: 'i--',
    context: 'i++;',
    why: 'Equivalent: i is not read after the zone is parsed; the increment is a dead store.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ArithmeticOperator',
    original: 'micros % 1000',
    replacement: 'micros * 1000',
    why: 'Equivalent: instantMicros is compared only when the epoch milliseconds are equal, which fixes floor(micros / 1000), so micros * 1000 orders values as micros % 1000 does (exact below 2^53).',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'pattern === undefined',
    replacement: 'false',
    why: 'Equivalent: new RegExp(undefined, "u") is /(?:)/u, which every string matches; only the fast path is lost.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'maxLength === undefined && !inEnum && !regex',
    replacement: 'false',
    why: 'Equivalent: a fast path; with no maxLength, enum or pattern the full check also returns undefined.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'e - s > maxLength',
    context: 'codePoints(b, s, e) > maxLength',
    why: 'Equivalent: a byte-count fast path before counting code points; a field never has more code points than bytes, so codePoints(b, s, e) > maxLength alone decides, and with maxLength undefined that comparison is false.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'maxLength !== undefined',
    context: 'codePoints(b, s, e) > maxLength',
    why: 'Equivalent: a byte-count fast path before counting code points; a field never has more code points than bytes, so codePoints(b, s, e) > maxLength alone decides, and with maxLength undefined that comparison is false.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'LogicalOperator',
    original: 'maxLength !== undefined && e - s > maxLength',
    why: 'Equivalent: a byte-count fast path before counting code points; a field never has more code points than bytes, so codePoints(b, s, e) > maxLength alone decides, and with maxLength undefined that comparison is false.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'EqualityOperator',
    original: 'e - s > maxLength',
    replacement: 'e - s >= maxLength',
    why: 'Equivalent: a byte-count fast path before counting code points; a field never has more code points than bytes, so codePoints(b, s, e) > maxLength alone decides, and with maxLength undefined that comparison is false.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ArithmeticOperator',
    original: 'e - s',
    replacement: 'e + s',
    context: 'codePoints(b, s, e) > maxLength',
    why: 'Equivalent: a byte-count fast path before counting code points; a field never has more code points than bytes, so codePoints(b, s, e) > maxLength alone decides, and with maxLength undefined that comparison is false.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'StringLiteral',
    original: "'utf8'",
    replacement: '""',
    context: 'Buffer.from(v',
    why: 'Equivalent: Buffer.from(string, "") falls back to the default encoding, UTF-8.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ArithmeticOperator',
    original: '+ d - 1',
    replacement: '+ d + 1',
    why: 'Equivalent: it shifts every day count, FIRST_MS and END_MS included, by the same constant, and day counts are only compared with one another (exact below 2^53).',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ArithmeticOperator',
    original: 'doe - 719468',
    replacement: 'doe + 719468',
    why: 'Equivalent: it shifts every day count, FIRST_MS and END_MS included, by the same constant, and day counts are only compared with one another (exact below 2^53).',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'ConditionalExpression',
    original: 'values.length > 16',
    why: 'Equivalent: two ways to test enum membership, bytes in place for short lists and a string set for long ones, that agree for every value a declaration may hold (it refuses lone surrogates); only speed differs.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'EqualityOperator',
    original: 'values.length > 16',
    why: 'Equivalent: two ways to test enum membership, bytes in place for short lists and a string set for long ones, that agree for every value a declaration may hold (it refuses lone surrogates); only speed differs.',
  },
  {
    file: 'lib/datasets/values.ts',
    mutator: 'BlockStatement',
    original: 'const set = new Set(values)',
    why: 'Equivalent: two ways to test enum membership, bytes in place for short lists and a string set for long ones, that agree for every value a declaration may hold (it refuses lone surrogates); only speed differs.',
  },
];
