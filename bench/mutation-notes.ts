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
];
