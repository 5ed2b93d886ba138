/** Why surviving mutants of the tokenizer (lib/validation/csv-validator.ts, part 3 of 3) are left alive; see mutation-notes.ts. */
import type { Explanation } from './mutation-notes.ts';

export const TOKENIZER_NOTES_3: readonly Explanation[] = [];
