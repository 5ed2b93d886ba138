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
export const EXPLAINED: readonly Explanation[] = [];
