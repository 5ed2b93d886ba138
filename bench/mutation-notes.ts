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
];
