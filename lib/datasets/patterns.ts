/**
 * The one rule for a column's `pattern`: a JavaScript regular expression (`u` flag) that V8
 * matches, accepted only when a static check proves it cannot backtrack catastrophically.
 *
 * V8's matcher backtracks: `^(a+)+$` takes exponential time on `aaaa…!`, and one `test()` cannot
 * be interrupted, so a single value would hang the validator (adversarial review F4). The check is
 * redos-detector's, chosen by measurement over recheck (precise, but 2.9 MB bundled against the
 * Lambda's 300 KB target) and safe-regex2 (misses `(a|a)*$` and polynomial shapes): it follows
 * ECMAScript semantics, is pure JavaScript (71 KB bundled), and bounds its own work by a step
 * count, never by a clock, so a verdict is the same on every machine. It is conservative: a
 * pattern it cannot prove safe within the step budget is refused too, with a different reason.
 */
import { isSafePattern, type RedosDetectorResult } from 'redos-detector';

/**
 * Work budget of the check, in redos-detector's steps. Its default (20,000) took 17–45 s on
 * `(a|a)*$` on this machine; 2,000 keeps any verdict near a second or two while every realistic
 * pattern measured (ISO timestamps, UUIDs, IBAN-like groups, e-mail shapes) is decided well within.
 */
const MAX_STEPS = 2000;

/** Why `pattern` is refused, as a sentence fragment; `undefined` when it may be applied. */
export function patternProblem(pattern: string): string | undefined {
  let verdict = verdicts.get(pattern);
  if (verdict === undefined) {
    verdict = judge(pattern) ?? '';
    verdicts.set(pattern, verdict);
  }
  return verdict || undefined;
}

/** Verdicts by pattern (the check costs milliseconds to seconds; a validator compiles per file). */
const verdicts = new Map<string, string>();

function judge(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    return `pattern is not a valid regular expression: ${(error as Error).message}`;
  }
  let result: RedosDetectorResult;
  try {
    result = isSafePattern(pattern, { unicode: true, maxSteps: MAX_STEPS });
  } catch (error) {
    // Valid for V8 but not for the checker's parser: named groups `(?<name>…)` are the known case.
    const why = (error as Error).message.split('\n')[0];
    return `pattern ${shown(pattern)} cannot be checked for catastrophic backtracking (${why}): write it without named groups or other syntax the check does not read`;
  }
  if (result.safe) return undefined;
  // The first step where the two ways part shows the overlap best (`\S` and `@` in `^\S+@\S+$`).
  const trail = result.trails[0]?.trail ?? [];
  const entry = trail.find((t) => t.a.node.start.offset !== t.b.node.start.offset) ?? trail[0];
  if (entry === undefined) {
    return `pattern ${shown(pattern)} is too complex to prove that it cannot backtrack catastrophically (more than ${MAX_STEPS} steps of the check): simplify it, or list the allowed values with enum`;
  }
  const where = (side: typeof entry.a) => `\`${side.node.source}\` at offset ${side.node.start.offset}`;
  const same = entry.a.node.start.offset === entry.b.node.start.offset;
  const ways = same ? `${where(entry.a)} in two repetitions` : `${where(entry.a)} and ${where(entry.b)}`;
  return `pattern ${shown(pattern)} can backtrack catastrophically: one text can match it in many ways (${ways} can take the same characters), so a long value that does not match would take exponential or polynomial time; rewrite it so each character can match one way only, e.g. "^a+$" rather than "^(a+)+$"`;
}

/** The pattern as a JSON string, cut to a readable length (a refused pattern may be kilobytes long). */
function shown(pattern: string): string {
  const text = JSON.stringify(pattern);
  return text.length <= 100 ? text : `${text.slice(0, 99)}…`;
}

/**
 * The pattern compiled as the value rules apply it (`u` flag). Throws for a pattern the
 * declaration loader refuses, so no path can apply one that slipped past it.
 */
export function compilePattern(pattern: string): RegExp {
  const problem = patternProblem(pattern);
  if (problem) throw new Error(problem);
  return new RegExp(pattern, 'u');
}
