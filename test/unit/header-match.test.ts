/**
 * lib/datasets/header-match.ts, the one reading of a header under the rules of change: every
 * branch of matchHeader (by name, header and alias; undecodable cells; retired, duplicate, empty,
 * unknown and misspelt cells under both extra-column policies; optional and missing columns), the
 * order of its problems, and the edit distance that tells a misspelling from another column.
 */
import { describe, expect, it } from 'vitest';
import { editDistance, headerTexts, matchHeader, typoEdits } from '../../lib/datasets/header-match.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { prng } from '../../lib/samples/orders-generator.ts';

/** Orders after a few changes: an alias, an optional column, a retired one. */
function evolved(extraColumns: 'reject' | 'ignore' = 'reject'): Dataset {
  return parseDataset(
    {
      name: 'orders',
      extraColumns,
      columns: [
        { name: 'order_id', type: 'bigint', nullable: false },
        { name: 'customer', type: 'string', header: 'Customer Name', aliases: ['Client'] },
        { name: 'legacy_code', type: 'int', retired: true },
        { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
        { name: 'discount', type: 'double', header: 'Discount', optional: true },
      ],
    },
    'orders.json',
  );
}

/** What an unknown-column message adds under ignore. */
const UNDER_IGNORE =
  ': a header this near a column the file lacks is taken for a misspelling even under "extraColumns": "ignore" (correct it, or rename the extra column)';

/** A dataset of nullable string columns of these names. */
function stringColumns(...columns: string[]): Dataset {
  return parseDataset({ name: 'd', columns: columns.map((name) => ({ name, type: 'string' })) }, 'd.json');
}

/** The match reduced to names: fields by column name, problems without their messages. */
function names(ds: Dataset, cells: (string | null)[]) {
  const m = matchHeader(ds, cells);
  return {
    fields: m.fields.map((c) => c?.name ?? null),
    ignored: m.ignored,
    absent: m.absent.map((c) => c.name),
    problems: m.problems.map(({ position, column, value, rule }) => ({ position, column, value, rule })),
  };
}

describe('headerTexts', () => {
  it('gives the name, the header and every alias, each once', () => {
    // Prepare
    const ds = evolved();

    // Act / Assess
    expect(headerTexts(ds.columns[1]!)).toEqual(['customer', 'Customer Name', 'Client']);
    expect(headerTexts(ds.columns[0]!)).toEqual(['order_id']);
  });
});

describe('matchHeader', () => {
  it('maps a column by its name, its header or an alias, in any order', () => {
    // Act
    const byHeader = names(evolved(), ['amount', 'Customer Name', 'order_id', 'Discount']);
    const byAlias = names(evolved(), ['order_id', 'Client', 'amount']);
    const byName = names(evolved(), ['order_id', 'customer', 'amount', 'discount']);

    // Assess
    expect(byHeader).toEqual({
      fields: ['amount', 'customer', 'order_id', 'discount'],
      ignored: [],
      absent: [],
      problems: [],
    });
    expect(byAlias).toEqual({
      fields: ['order_id', 'customer', 'amount'],
      ignored: [],
      absent: ['discount'],
      problems: [],
    });
    expect(byName.fields).toEqual(['order_id', 'customer', 'amount', 'discount']);
  });

  it('maps an undecodable cell (null) to nothing and reports nothing for it', () => {
    // Act
    const m = names(evolved(), ['order_id', null, 'Client', 'amount']);

    // Assess
    expect(m).toEqual({
      fields: ['order_id', null, 'customer', 'amount'],
      ignored: [],
      absent: ['discount'],
      problems: [],
    });
  });

  it('reports a column named twice, by alias and by name, at its second cell', () => {
    // Act
    const m = matchHeader(evolved(), ['order_id', 'Customer Name', 'amount', 'customer']);

    // Assess
    expect(m.fields.map((c) => c?.name ?? null)).toEqual(['order_id', 'customer', 'amount', null]);
    expect(m.problems).toEqual([
      {
        position: 3,
        column: 'customer',
        value: 'customer',
        rule: 'duplicate_column',
        message: 'column "customer" appears twice in the header',
      },
    ]);
  });

  it('reports a retired column under reject, and drops it under ignore', () => {
    // Act
    const rejected = matchHeader(evolved('reject'), ['order_id', 'Client', 'legacy_code', 'amount']);
    const ignored = names(evolved('ignore'), ['order_id', 'Client', 'legacy_code', 'amount']);

    // Assess
    expect(rejected.problems).toEqual([
      {
        position: 2,
        column: 'legacy_code',
        value: 'legacy_code',
        rule: 'retired_column',
        message:
          'column "legacy_code" is retired: files no longer carry it (drop it from the file, or declare "extraColumns": "ignore")',
      },
    ]);
    expect(rejected.fields[2]).toBeNull();
    expect(rejected.ignored).toEqual([]);
    expect(ignored).toEqual({
      fields: ['order_id', 'customer', null, 'amount'],
      ignored: [2],
      absent: ['discount'],
      problems: [],
    });
  });

  it('lets an optional column be absent, and reports a missing one that is not optional', () => {
    // Act
    const m = matchHeader(evolved(), ['Client']);

    // Assess
    expect(m.absent.map((c) => c.name)).toEqual(['discount']);
    expect(m.problems).toEqual([
      {
        position: null,
        column: 'order_id',
        value: null,
        rule: 'missing_column',
        message: 'the header has no column "order_id"',
      },
      {
        position: null,
        column: 'amount',
        value: null,
        rule: 'missing_column',
        message: 'the header has no column "amount"',
      },
    ]);
  });

  it('never lists a retired column as missing or absent', () => {
    // Act
    const m = names(evolved(), ['order_id', 'Client', 'amount', 'Discount']);

    // Assess
    expect(m).toMatchObject({ absent: [], problems: [] });
  });

  it('reports an extra column under reject, without a hint when no column is near', () => {
    // Act
    const m = matchHeader(evolved(), ['order_id', 'Client', 'amount', 'warehouse']);

    // Assess
    expect(m.problems).toEqual([
      {
        position: 3,
        column: 'warehouse',
        value: 'warehouse',
        rule: 'unknown_column',
        message: 'the header names an unknown column "warehouse"',
      },
    ]);
    expect(m.ignored).toEqual([]);
  });

  it('drops an extra column under ignore', () => {
    // Act
    const m = names(evolved('ignore'), ['warehouse', 'order_id', 'Client', 'amount']);

    // Assess
    expect(m).toEqual({
      fields: [null, 'order_id', 'customer', 'amount'],
      ignored: [0],
      absent: ['discount'],
      problems: [],
    });
  });

  it('lists the ignored cells in cell order, retired and extra ones alike', () => {
    // Act: the retired cell is decided before the extra one, which stands before it.
    const m = names(evolved('ignore'), ['warehouse', 'order_id', 'legacy_code', 'Client', 'amount']);

    // Assess
    expect(m.ignored).toEqual([0, 2]);
  });

  it.each(['reject', 'ignore'] as const)(
    'under %s, reports a misspelt optional column the header lacks, with the hint',
    (policy) => {
      // Act
      const m = matchHeader(evolved(policy), ['order_id', 'Client', 'amount', 'Discont']);

      // Assess
      expect(m.problems).toEqual([
        {
          position: 3,
          column: 'Discont',
          value: 'Discont',
          rule: 'unknown_column',
          message: `the header names an unknown column "Discont" (did you mean "Discount"?)${policy === 'ignore' ? UNDER_IGNORE : ''}`,
        },
      ]);
      expect(m.ignored).toEqual([]);
      expect(m.absent.map((c) => c.name)).toEqual(['discount']);
    },
  );

  it('under ignore, catches a misspelling that differs in case, spacing, _ and - only', () => {
    // Act
    const m = matchHeader(evolved('ignore'), ['ORDER-ID', ' customer_name ', 'amount']);

    // Assess
    expect(m.problems.map((p) => [p.rule, p.message])).toEqual([
      [
        'unknown_column',
        `the header names an unknown column "ORDER-ID" (did you mean "order_id"?)${UNDER_IGNORE}`,
      ],
      [
        'unknown_column',
        `the header names an unknown column " customer_name " (did you mean "Customer Name"?)${UNDER_IGNORE}`,
      ],
      ['missing_column', 'the header has no column "order_id"'],
      ['missing_column', 'the header has no column "Customer Name"'],
    ]);
  });

  it('folds case, surrounding space and runs of space, _ and - before it counts edits, short names too', () => {
    // Prepare: names too short for any edit.
    const ds = parseDataset(
      {
        name: 'd',
        extraColumns: 'ignore',
        columns: [
          { name: 'id', type: 'int' },
          { name: 'x_y', type: 'int' },
        ],
      },
      'd.json',
    );

    // Act
    const m = matchHeader(ds, [' ID ', 'X -  Y', 'ix']);

    // Assess: "ix" is another column (no edit allowed under 4 characters), dropped.
    expect(m.problems.map((p) => p.message)).toEqual([
      `the header names an unknown column " ID " (did you mean "id"?)${UNDER_IGNORE}`,
      `the header names an unknown column "X -  Y" (did you mean "x_y"?)${UNDER_IGNORE}`,
      'the header has no column "id"',
      'the header has no column "x_y"',
    ]);
    expect(m.ignored).toEqual([2]);
  });

  it('under ignore, drops a cell near a column the header does carry: it is another column', () => {
    // Act
    const m = names(evolved('ignore'), ['order_id', 'Client', 'amount', 'amounts', 'Discount']);

    // Assess
    expect(m).toMatchObject({ ignored: [3], problems: [] });
  });

  it('under reject, hints at a column the header carries when the cell is near none it lacks', () => {
    // Act
    const m = matchHeader(evolved('reject'), ['order_id', 'Client', 'amount', 'amounts']);

    // Assess
    expect(m.problems.map((p) => p.message)).toEqual([
      'the header names an unknown column "amounts" (did you mean "amount"?)',
    ]);
  });

  it('hints at a column the header lacks before a nearer one it carries', () => {
    // Prepare
    const ds = stringColumns('amount', 'amount_sx');

    // Act: "amounts" is one edit from amount (carried), two from "amount sx" (lacked).
    const m = matchHeader(ds, ['amount', 'amounts']);

    // Assess
    expect(m.problems.map((p) => p.message)).toEqual([
      'the header names an unknown column "amounts" (did you mean "amount_sx"?)',
      'the header has no column "amount_sx"',
    ]);
  });

  it('hints at the nearest of the columns, not the first declared', () => {
    // Prepare
    const ds = stringColumns('abcdefgh', 'abcdefgx');

    // Act: "abcdefx" is two edits from abcdefgh, one from abcdefgx; "abcdefg" one from both.
    const nearest = matchHeader(ds, ['abcdefx']);
    const tie = matchHeader(ds, ['abcdefg']);

    // Assess
    expect(nearest.problems[0]!.message).toBe(
      'the header names an unknown column "abcdefx" (did you mean "abcdefgx"?)',
    );
    expect(tie.problems[0]!.message).toBe(
      'the header names an unknown column "abcdefg" (did you mean "abcdefgh"?)',
    );
  });

  it.each(['reject', 'ignore'] as const)('under %s, reports an empty header cell', (policy) => {
    // Act
    const m = matchHeader(evolved(policy), ['order_id', '', 'Client', 'amount']);

    // Assess
    expect(m.problems).toEqual([
      {
        position: 1,
        column: '',
        value: '',
        rule: 'unknown_column',
        message: 'an empty header cell: every column needs a name',
      },
    ]);
  });

  it('gives the problems in cell order, then the missing columns in declaration order', () => {
    // Act
    const m = names(evolved(), ['zzz', 'legacy_code', 'Client', 'customer', '']);

    // Assess
    expect(m.problems).toEqual([
      { position: 0, column: 'zzz', value: 'zzz', rule: 'unknown_column' },
      { position: 1, column: 'legacy_code', value: 'legacy_code', rule: 'retired_column' },
      { position: 3, column: 'customer', value: 'customer', rule: 'duplicate_column' },
      { position: 4, column: '', value: '', rule: 'unknown_column' },
      { position: null, column: 'order_id', value: null, rule: 'missing_column' },
      { position: null, column: 'amount', value: null, rule: 'missing_column' },
    ]);
  });

  it('quotes a long unknown cell cut to 80 characters in its message, and whole in the problem', () => {
    // Prepare
    const cell = `${'w'.repeat(79)}😀${'z'.repeat(50)}`;

    // Act
    const m = matchHeader(evolved(), ['order_id', 'Client', 'amount', cell]);

    // Assess: never a surrogate pair cut in two.
    expect(m.problems[0]).toMatchObject({ column: cell, value: cell });
    expect(m.problems[0]!.message).toBe(`the header names an unknown column "${'w'.repeat(79)}…"`);
  });
});

describe('what counts as a misspelling', () => {
  it('allows no edit under 4 characters, one under 8, two from 8', () => {
    // Act / Assess
    expect([0, 1, 3, 4, 7, 8, 30].map(typoEdits)).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });

  it.each([
    ['discount', 'discount', 2, 0],
    ['discont', 'discount', 2, 1], // a deletion
    ['discounts', 'discount', 2, 1], // an insertion
    ['dizcount', 'discount', 2, 1], // a replacement
    ['dsicount', 'discount', 2, 1], // a swap of neighbours
    ['kitten', 'sitting', 3, 3],
    ['kitten', 'sitting', 2, 3], // over the limit: limit + 1
    ['ca', 'abc', 3, 3], // optimal string alignment: no edit of a swapped pair
    ['abcd', 'abce', 1, 1], // at the limit on the last row
    ['abcd', 'wxyz', 1, 2], // over the limit from the first rows
    ['a', 'abcd', 2, 3], // lengths too far apart: not compared
    ['', 'ab', 2, 2],
    ['xxab', 'abyy', 2, 3], // every row within the limit somewhere, the end past it: limit + 1
  ])('%s → %s within %i: %i', (a, b, limit, distance) => {
    // Act / Assess
    expect(editDistance(a, b, limit)).toBe(distance);
    expect(editDistance(b, a, limit)).toBe(distance);
  });

  it('agrees with the whole table on 5,000 seeded pairs, within every limit (the band, the early end)', () => {
    // Prepare: the textbook table of the optimal string alignment distance, every cell computed.
    const table = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
      );
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) {
          const row = d[i]!;
          row[j] = Math.min(
            d[i - 1]![j]! + 1,
            row[j - 1]! + 1,
            d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
          );
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
            row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
        }
      return d[a.length]![b.length]!;
    };
    const rand = prng(16);
    const text = (n: number) => Array.from({ length: n }, () => 'abc'[Math.floor(rand() * 3)]).join('');
    const mismatches: string[] = [];

    // Act: lengths 0-11 over three letters (many swaps and near misses), limits 0-3; a long text
    // first now and then, so that the rows reused from call to call hold another call's values.
    for (let k = 0; k < 5000; k++) {
      if (k % 100 === 0) editDistance(text(40), text(40), 3);
      const a = text(Math.floor(rand() * 12));
      const b = text(Math.floor(rand() * 12));
      const limit = Math.floor(rand() * 4);
      const expected = Math.min(table(a, b), limit + 1);
      const got = editDistance(a, b, limit);
      if (got !== expected) mismatches.push(`${a} ${b} ${limit}: ${got}, not ${expected}`);
    }

    // Assess
    expect(mismatches).toEqual([]);
  });
});

describe('header cells equal up to letter case', () => {
  it("are refused under either policy, as Spark's CSV reader would rename them and read a later cell in their place", () => {
    // Prepare: under ignore, `id,ab,ab,ab2` reads as `id,ab1,ab2,ab2` in Spark, whose first
    // `ab2` is an ignored cell; DuckDB would read the declared ab2 from cell 4.
    const ds = parseDataset(
      {
        name: 'd',
        extraColumns: 'ignore',
        columns: [
          { name: 'id', type: 'string' },
          { name: 'ab2', type: 'string', optional: true },
        ],
      },
      'd.json',
    );

    // Act
    const repeated = matchHeader(ds, ['id', 'ab', 'ab', 'ab2']);
    const byCase = names(ds, ['id', 'Ab2', 'ab2']);
    const once = names(ds, ['id', 'ab', 'ab2']);

    // Assess
    expect(repeated.problems).toEqual([
      {
        position: 2,
        column: 'ab',
        value: 'ab',
        rule: 'duplicate_column',
        message:
          'header cell 3 "ab" repeats cell 2 "ab": Spark\'s CSV reader, which converts large files, would rename both (drop or rename one)',
      },
    ]);
    expect(repeated.fields.map((c) => c?.name ?? null)).toEqual(['id', null, null, 'ab2']);
    expect(byCase.problems).toEqual([
      { position: 1, column: 'Ab2', value: 'Ab2', rule: 'unknown_column' },
      { position: 2, column: 'ab2', value: 'ab2', rule: 'duplicate_column' },
    ]);
    expect(matchHeader(ds, ['id', 'Ab2', 'ab2']).problems[1]!.message).toContain(
      'repeats cell 2 "Ab2" up to letter case',
    );
    expect(once).toEqual({ fields: ['id', null, 'ab2'], ignored: [1], absent: [], problems: [] });
  });
});

describe('header matching: the edges the mutants found', () => {
  const cols = (...columns: Record<string, unknown>[]) => columns.map((c) => ({ type: 'string', ...c }));

  it('reports the very same text twice as a column appearing twice, not as a case repeat', () => {
    // Act
    const m = matchHeader(stringColumns('id', 'amount'), ['id', 'amount', 'amount']);
    // Assess
    expect(m.problems).toEqual([
      {
        position: 2,
        column: 'amount',
        value: 'amount',
        rule: 'duplicate_column',
        message: 'column "amount" appears twice in the header',
      },
    ]);
  });

  it('compares cells up to letter case as Spark does, by lower case: "Maße" and "MASSE" are two columns', () => {
    // Prepare: upper-casing would make both "MASSE"; lower-casing keeps "maße" and "masse".
    const ds = parseDataset(
      { name: 'd', columns: cols({ name: 'a', header: 'Maße' }, { name: 'b', header: 'MASSE' }) },
      'd.json',
    );
    // Act / Assess
    expect(names(ds, ['Maße', 'MASSE'])).toEqual({
      fields: ['a', 'b'],
      ignored: [],
      absent: [],
      problems: [],
    });
  });

  it('folds a header by lower case: "Straße" is no misspelling of "Strasse" (two edits for seven letters)', () => {
    const ds = parseDataset(
      {
        name: 'd',
        extraColumns: 'ignore',
        columns: cols({ name: 'id' }, { name: 's', header: 'Strasse', optional: true }),
      },
      'd.json',
    );
    expect(names(ds, ['id', 'Straße'])).toEqual({
      fields: ['id', null],
      ignored: [1],
      absent: ['s'],
      problems: [],
    });
  });

  it('folds `_` to a space that counts toward the length: "ab_cdexy" is two edits from the 8-letter "ab cdefg"', () => {
    // Prepare: 8 folded characters allow two edits; without the space, 7 would allow one.
    const ds = parseDataset(
      {
        name: 'd',
        extraColumns: 'ignore',
        columns: cols({ name: 'id' }, { name: 'x', header: 'ab cdefg', optional: true }),
      },
      'd.json',
    );
    // Act
    const m = matchHeader(ds, ['id', 'ab_cdexy']);
    // Assess
    expect(m.problems.map((p) => p.message)).toEqual([
      `the header names an unknown column "ab_cdexy" (did you mean "ab cdefg"?)${UNDER_IGNORE}`,
    ]);
  });

  it('takes no swap before the first character: "a" is three edits from "aaa\\u0001", U+0001 being no "character before"', () => {
    // Prepare: a call that leaves a small value where a wrong swap would read it (the rows are reused).
    expect(editDistance('ab', 'ba', 2)).toBe(1);
    // Act / Assess
    expect(editDistance('a', 'aaa\u0001', 3)).toBe(3);
  });

  it('measures texts longer than its first table rows (66, then 200 characters)', () => {
    // The first call past 62 characters grows the reused rows; the second grows them again.
    const long = `${'x'.repeat(60)}abcdef`;
    expect(editDistance(long, `${'x'.repeat(60)}abdcef`, 2)).toBe(1);
    expect(editDistance(long, `${'x'.repeat(60)}zzzdef`, 2)).toBe(3);
    const longer = 'y'.repeat(200);
    expect(editDistance(longer, `${'y'.repeat(100)}z${'y'.repeat(99)}`, 2)).toBe(1);
  });
});
