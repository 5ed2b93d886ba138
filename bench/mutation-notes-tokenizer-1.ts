/** Why surviving mutants of the tokenizer (lib/validation/csv-validator.ts, part 1 of 3) are left alive; see mutation-notes.ts. */
import type { Explanation } from './mutation-notes.ts';

export const TOKENIZER_NOTES_1: readonly Explanation[] = [];
