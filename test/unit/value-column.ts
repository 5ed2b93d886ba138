/** The dataset the value-rule tests validate one value against. */
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';

/**
 * Column `v` declared by `column`, then a string column `k`: the second column keeps an empty value
 * of `v` from being a blank line.
 */
export function valueColumnDataset(column: Record<string, unknown>): Dataset {
  return parseDataset(
    {
      name: 'd',
      columns: [
        { name: 'v', ...column },
        { name: 'k', type: 'string' },
      ],
    },
    'd.json',
  );
}
