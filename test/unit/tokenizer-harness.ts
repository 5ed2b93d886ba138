/** What the tokenizer-mutants tests share: datasets to validate against, and errors without messages. */
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import type { ValidationError, ValidationResult } from '../../lib/validation/csv-validator.ts';

/** A column as a declaration writes it. */
export type ColumnDecl = { name: string; type: string } & Record<string, unknown>;

/** A dataset of these columns. */
export function dataset(columns: ColumnDecl[], name = 'd'): Dataset {
  return parseDataset({ name, columns }, 'test.json');
}

/** Two nullable string columns a, b. */
export const AB = dataset([
  { name: 'a', type: 'string' },
  { name: 'b', type: 'string' },
]);

/** A string column and an int column, so that a value can be wrong. */
export const NAME_QTY = dataset([
  { name: 'name', type: 'string' },
  { name: 'qty', type: 'int' },
]);

/** The errors without their messages. */
export function brief(result: ValidationResult): Omit<ValidationError, 'message'>[] {
  return result.errors.map(({ line, column, value, rule }) => ({ line, column, value, rule }));
}
