/**
 * The compatibility check's verdicts (lib/datasets/compat.ts): one case per change kind of the
 * README's table "Changing a dataset", each from a base declaration to one changed form.
 */
import { describe, expect, it } from 'vitest';
import { compareDeclarations, type DeclarationChange, hasBreaking } from '../../lib/datasets/compat.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';

type Json = Record<string, unknown>;

/** The base form of the dataset every case changes. */
const BASE_COLUMNS: Json[] = [
  { name: 'id', type: 'int', nullable: false },
  { name: 'customer', type: 'string', header: 'Customer Name' },
  { name: 'amount', type: 'decimal', precision: 12, scale: 2, min: 0 },
  { name: 'currency', type: 'string', enum: ['USD', 'EUR', 'GBP'] },
];

function dataset(columns: Json[] = BASE_COLUMNS, extra: Json = {}): Dataset {
  return parseDataset({ name: 'orders', columns, ...extra }, 'datasets/orders.json');
}

const one = (ds: Dataset) => new Map([[ds.name, ds]]);

/** The changes from the base form (or `before`) to `after`. */
function changes(after: Dataset, before: Dataset = dataset()): DeclarationChange[] {
  return compareDeclarations(one(before), one(after));
}

/** The base columns with column `name` replaced by `with` (merged). */
function withColumn(name: string, patch: Json): Json[] {
  return BASE_COLUMNS.map((c) => (c.name === name ? { ...c, ...patch } : c));
}

/** Drops `key` from the base column `name`. */
function without(name: string, key: string): Json[] {
  return BASE_COLUMNS.map((c) => {
    if (c.name !== name) return c;
    const { [key]: _, ...rest } = c;
    return rest;
  });
}

const brief = (c: DeclarationChange) => [c.column ?? '', c.verdict, c.rule];

describe('no change, datasets added and removed', () => {
  it('reports nothing for equal declarations', () => {
    expect(changes(dataset())).toEqual([]);
  });

  it('a new dataset is compatible and names the table it creates', () => {
    const added = compareDeclarations(new Map(), one(dataset(BASE_COLUMNS, { version: 2 })));
    expect(added.map(brief)).toEqual([['', 'compatible', 'dataset-added']]);
    expect(added[0]!.message).toContain('orders_v2');
  });

  it('a dataset no longer declared is compatible: its table is kept, no longer named by the policy and the local query', () => {
    const removed = compareDeclarations(one(dataset()), new Map());
    expect(removed.map(brief)).toEqual([['', 'compatible', 'dataset-removed']]);
    expect(removed[0]!.message).toContain(
      'table orders is kept with its data (never dropped), but the operator policy',
    );
  });
});

describe('columns added, removed, moved', () => {
  it('a nullable column appended at the end is compatible; old rows read null', () => {
    const found = changes(dataset([...BASE_COLUMNS, { name: 'note', type: 'string', optional: true }]));
    expect(found.map(brief)).toEqual([['note', 'compatible', 'column-appended']]);
    expect(found[0]!.message).toContain('field id 6');
  });

  it('a non-optional appended column says files must carry its header', () => {
    const [found] = changes(dataset([...BASE_COLUMNS, { name: 'note', type: 'string' }]));
    expect(found!.message).toContain('declare "optional": true');
  });

  it('a non-nullable column appended is breaking: old rows have no value', () => {
    const found = changes(dataset([...BASE_COLUMNS, { name: 'sku', type: 'string', nullable: false }]));
    expect(found.map(brief)).toEqual([['sku', 'breaking', 'column-added-required']]);
    expect(found[0]!.message).toContain('declare it nullable');
  });

  it('a column inserted before existing ones is breaking (field ids follow order)', () => {
    const [first, ...rest] = BASE_COLUMNS;
    const found = changes(dataset([first!, { name: 'note', type: 'string' }, ...rest]));
    expect(found.map(brief)).toEqual([['note', 'breaking', 'column-inserted']]);
    expect(found[0]!.message).toContain('declare it after the last column');
  });

  it('columns reordered is breaking, naming the column that moved', () => {
    const [a, b, c, d] = BASE_COLUMNS;
    const found = changes(dataset([d!, a!, b!, c!]));
    expect(found.map(brief)).toEqual([['currency', 'breaking', 'column-moved']]);
    expect(found[0]!.message).toContain('moved from position 4 to 1');
    // Two columns swapped: one of them is named as moved (putting it back fixes both).
    expect(changes(dataset([a!, c!, b!, d!])).map((x) => x.rule)).toEqual(['column-moved']);
    // Reversed: the column left in place is not named.
    expect(changes(dataset([c!, b!, a!, d!])).map((x) => x.column)).toEqual(['amount', 'id']);
  });

  it('a removed column is breaking and says to retire it or declare a version', () => {
    const found = changes(dataset(BASE_COLUMNS.filter((c) => c.name !== 'currency')));
    expect(found.map(brief)).toEqual([['currency', 'breaking', 'column-removed']]);
    expect(found[0]!.message).toContain('retire it ("retired": true)');
    expect(found[0]!.message).toContain('declare "version": 2');
  });

  it('a column removed in the middle is one line, not one per shifted column', () => {
    const found = changes(dataset(BASE_COLUMNS.filter((c) => c.name !== 'customer')));
    expect(found.map(brief)).toEqual([['customer', 'breaking', 'column-removed']]);
  });

  it('a retired column removed from the declaration is still breaking', () => {
    const retired = dataset(withColumn('currency', { retired: true, enum: undefined }));
    const found = changes(dataset(BASE_COLUMNS.slice(0, 3)), retired);
    expect(found.map(brief)).toEqual([['currency', 'breaking', 'column-removed']]);
    expect(found[0]!.message).toContain('keep it declared, retired');
  });

  it('retiring is compatible; a file still carrying it is rejected under reject, ignored under ignore', () => {
    const [reject] = changes(dataset(withColumn('currency', { retired: true })));
    expect(brief(reject!)).toEqual(['currency', 'compatible', 'column-retired']);
    expect(reject!.message).toContain('rejected (retired_column');
    const [ignore] = changes(
      dataset(withColumn('currency', { retired: true }), { extraColumns: 'ignore' }),
      dataset(BASE_COLUMNS, { extraColumns: 'ignore' }),
    );
    expect(ignore!.message).toContain('ignored');
  });

  it('un-retiring a nullable column is compatible; a non-nullable one is breaking', () => {
    const retired = dataset(withColumn('customer', { retired: true }));
    expect(changes(dataset(), retired).map(brief)).toEqual([['customer', 'compatible', 'column-unretired']]);
    const retiredId = dataset(withColumn('id', { retired: true }));
    expect(changes(dataset(), retiredId).map(brief)).toEqual([
      ['id', 'breaking', 'column-unretired-required'],
    ]);
  });
});

describe('renames', () => {
  it('a new name with previousName at the same position is compatible', () => {
    const found = changes(dataset(withColumn('customer', { name: 'client', previousName: 'customer' })));
    expect(found.map(brief)).toEqual([['client', 'compatible', 'column-renamed']]);
  });

  it('a new name without previousName is breaking, with the previousName to declare', () => {
    const found = changes(dataset(withColumn('customer', { name: 'client' })));
    expect(found.map(brief)).toEqual([['client', 'breaking', 'rename-without-previous-name']]);
    expect(found[0]!.message).toContain('declare "previousName": "customer" on "client"');
  });

  it('a previousName that is not the column at that position is breaking', () => {
    const found = changes(dataset(withColumn('customer', { name: 'client', previousName: 'buyer' })));
    expect(found.map(brief)).toEqual([['client', 'breaking', 'previous-name-mismatch']]);
  });

  it('a rename that drops the only header text says files with it are rejected', () => {
    const before = dataset(without('customer', 'header'));
    const found = changes(
      dataset(
        without('customer', 'header').map((c) =>
          c.name === 'customer' ? { ...c, name: 'client', previousName: 'customer' } : c,
        ),
      ),
      before,
    );
    expect(found.map(brief)).toEqual([
      ['client', 'compatible', 'column-renamed'],
      ['client', 'compatible', 'header-changed'],
    ]);
    expect(found[1]!.message).toContain('new files headed "customer" are rejected');
  });

  it('a previousName on a new column that names no previous column is breaking', () => {
    const found = changes(
      dataset([...BASE_COLUMNS, { name: 'client', type: 'string', previousName: 'buyer' }]),
    );
    expect(found.map(brief)).toEqual([['client', 'breaking', 'previous-name-unknown']]);
  });

  it('a stale previousName (the column kept its name) is no change', () => {
    const renamed = dataset(withColumn('customer', { name: 'client', previousName: 'customer' }));
    expect(changes(renamed, renamed)).toEqual([]);
  });
});

describe('types', () => {
  it.each([
    ['int → bigint', 'id', { type: 'bigint' }, 'compatible', 'type-widened'],
    ['decimal precision up, same scale', 'amount', { precision: 18 }, 'compatible', 'decimal-widened'],
    ['decimal precision down', 'amount', { precision: 10 }, 'breaking', 'type-narrowed'],
    ['decimal scale changed', 'amount', { precision: 13, scale: 3 }, 'breaking', 'decimal-scale-changed'],
    ['int → double', 'id', { type: 'double' }, 'breaking', 'type-changed'],
    ['string → int', 'customer', { type: 'int' }, 'breaking', 'type-changed'],
    [
      'decimal → double',
      'amount',
      { type: 'double', precision: undefined, scale: undefined },
      'breaking',
      'type-changed',
    ],
  ])('%s', (_, column, patch, verdict, rule) => {
    expect(changes(dataset(withColumn(column, patch))).map(brief)).toEqual([[column, verdict, rule]]);
  });

  it.each([
    ['bigint → int', 'bigint', 'int', 'type-narrowed'],
    ['date → timestamp', 'date', 'timestamp', 'type-changed'],
    ['double → decimal', 'double', 'decimal', 'type-changed'],
    ['boolean → string', 'boolean', 'string', 'type-changed'],
  ])('%s is breaking', (_, from, to, rule) => {
    const typed = (type: string) =>
      dataset([
        ...BASE_COLUMNS,
        { name: 'x', type, ...(type === 'decimal' ? { precision: 10, scale: 2 } : {}) },
      ]);
    const [found] = changes(typed(to), typed(from));
    expect(brief(found!)).toEqual(['x', 'breaking', rule]);
    expect(found!.message).toContain('declare "version": 2');
  });
});

describe('nullable, optional, headers, aliases, value rules, dataset fields', () => {
  it.each([
    ['nullable true → false', withColumn('customer', { nullable: false }), 'breaking', 'nullable-tightened'],
    ['nullable false → true', withColumn('id', { nullable: true }), 'compatible', 'nullable-relaxed'],
    ['optional', withColumn('customer', { optional: true }), 'compatible', 'optional-changed'],
    ['header', withColumn('customer', { header: 'Client' }), 'compatible', 'header-changed'],
    ['aliases', withColumn('customer', { aliases: ['Client'] }), 'compatible', 'aliases-changed'],
    ['description', withColumn('customer', { description: 'who' }), 'compatible', 'description-changed'],
    ['pattern', withColumn('customer', { pattern: '^[A-Z]' }), 'compatible', 'pattern-changed'],
    ['maxLength', withColumn('customer', { maxLength: 10 }), 'compatible', 'max-length-changed'],
    ['min', withColumn('amount', { min: 1 }), 'compatible', 'min-changed'],
    ['max', withColumn('amount', { max: 100 }), 'compatible', 'max-changed'],
  ])('%s', (_, columns, verdict, rule) => {
    const [found, ...rest] = changes(dataset(columns));
    expect(rest).toEqual([]);
    expect([found!.verdict, found!.rule]).toEqual([verdict, rule]);
  });

  it('a narrowed enum says which values new files may no longer carry', () => {
    const [found] = changes(dataset(withColumn('currency', { enum: ['USD', 'EUR'] })));
    expect(brief(found!)).toEqual(['currency', 'compatible', 'enum-changed']);
    expect(found!.message).toBe('enum narrowed: new files with "GBP" are rejected');
  });

  it('a header moved to the aliases is still accepted, so nothing is said rejected', () => {
    const [found] = changes(
      dataset(withColumn('customer', { header: 'Client', aliases: ['Customer Name'] })),
    );
    expect(found!.message).toContain('header "Customer Name" → "Client"');
    expect(found!.message).not.toContain('rejected');
  });

  it('bounds say whether they tighten or relax', () => {
    expect(changes(dataset(withColumn('amount', { min: 5 })))[0]!.message).toContain('(tightened)');
    expect(changes(dataset(withColumn('amount', { min: -5 })))[0]!.message).toContain('(relaxed)');
    const dated = (max: string) => dataset([...BASE_COLUMNS, { name: 'd', type: 'date', max }]);
    expect(changes(dated('2030-01-01'), dated('2031-01-01'))[0]!.message).toContain('(tightened)');
  });

  it.each([
    ['dialect', { dialect: { delimiter: ';' } }, 'dialect-changed'],
    ['extraColumns', { extraColumns: 'ignore' }, 'extra-columns-changed'],
    ['key', { key: ['id'] }, 'key-changed'],
    ['description', { description: 'orders' }, 'description-changed'],
  ])('dataset %s is compatible', (_, extra, rule) => {
    expect(changes(dataset(BASE_COLUMNS, extra)).map(brief)).toEqual([['', 'compatible', rule]]);
  });
});

describe('versions', () => {
  it('a raised version accepts every change as the new table, each line marked', () => {
    const v2 = dataset(
      [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'amount', type: 'decimal', precision: 12, scale: 3 },
      ],
      { version: 2 },
    );
    const found = changes(v2);
    expect(found.every((c) => c.verdict === 'compatible')).toBe(true);
    expect(found[0]).toMatchObject({ rule: 'version-raised', kind: 'version' });
    expect(found[0]!.message).toContain('orders_v2');
    const rules = found.slice(1).map((c) => c.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['column-removed', 'decimal-scale-changed', 'type-widened']),
    );
    expect(found.slice(1).every((c) => c.newVersion === 2 && c.message.startsWith('new version'))).toBe(true);
  });

  it('a version raised by more than one is a new table too', () => {
    const found = changes(
      dataset(BASE_COLUMNS.slice(0, 2), { version: 3 }),
      dataset(BASE_COLUMNS, { version: 1 }),
    );
    expect(found.map((c) => c.verdict)).toEqual(['compatible', 'compatible', 'compatible']);
    expect(found[0]!.message).toContain('orders_v3');
  });

  it('a lowered version is breaking', () => {
    const found = changes(dataset(BASE_COLUMNS, { version: 1 }), dataset(BASE_COLUMNS, { version: 2 }));
    expect(found.map(brief)).toEqual([['', 'breaking', 'version-lowered']]);
  });

  it('the same breaking change without a raised version stays breaking', () => {
    const found = changes(
      dataset(withColumn('amount', { scale: 3, precision: 13 }), { version: 2 }),
      dataset(BASE_COLUMNS, { version: 2 }),
    );
    expect(found.map(brief)).toEqual([['amount', 'breaking', 'decimal-scale-changed']]);
    expect(found[0]!.message).toContain('declare "version": 3');
  });
});

/**
 * The exact lines a person reads, per change kind: each case is a small dataset (`id` first, the
 * changed column second) before and after, and the full change objects the check returns. The
 * message is the product here, so a changed word, bound direction or field id fails the case.
 */
describe('the message of every change kind, exactly', () => {
  const ID: Json = { name: 'id', type: 'int', nullable: false };
  const small = (columns: Json[], extra: Json = {}) => dataset([ID, ...columns], extra);
  const str = (name: string, patch: Json = {}): Json => ({ name, type: 'string', ...patch });
  const typed = (type: string, patch: Json = {}): Json => ({
    name: 'v',
    type,
    ...(type === 'decimal' ? { precision: 12, scale: 2 } : {}),
    ...patch,
  });
  /** The expected change objects: [column ('' for the dataset), kind, verdict, rule, message]. */
  const expected = (...rows: [string, string, string, string, string][]) =>
    rows.map(([column, kind, verdict, rule, message]) => ({
      dataset: 'orders',
      ...(column === '' ? {} : { column }),
      kind,
      verdict,
      rule,
      message,
    }));
  const V2 = 'declare "version": 2 (a new table orders_v2; orders stays queryable)';

  it.each([
    [
      'enum declared',
      [str('c')],
      [str('c', { enum: ['A', 'B'] })],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'enum-changed',
          'enum declared: new files with a value outside "A", "B" are rejected',
        ],
      ],
    ],
    [
      'enum dropped',
      [str('c', { enum: ['A'] })],
      [str('c')],
      [['c', 'value-rule', 'compatible', 'enum-changed', 'enum dropped: any value is accepted']],
    ],
    [
      'enum narrowed and widened at once',
      [str('c', { enum: ['A', 'B', 'C'] })],
      [str('c', { enum: ['A', 'D', 'E'] })],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'enum-changed',
          'enum narrowed: new files with "B", "C" are rejected',
        ],
        ['c', 'value-rule', 'compatible', 'enum-changed', 'enum widened: "D", "E" accepted'],
      ],
    ],
    [
      'pattern declared',
      [str('c')],
      [str('c', { pattern: '^[A-Z]+$' })],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'pattern-changed',
          'pattern declared "^[A-Z]+$": new files whose values do not match it are rejected',
        ],
      ],
    ],
    [
      'pattern changed',
      [str('c', { pattern: '^a' })],
      [str('c', { pattern: '^b' })],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'pattern-changed',
          'pattern "^a" → "^b": new files whose values do not match it are rejected',
        ],
      ],
    ],
    [
      'pattern dropped',
      [str('c', { pattern: '^a' })],
      [str('c')],
      [['c', 'value-rule', 'compatible', 'pattern-changed', 'pattern "^a" dropped: any text is accepted']],
    ],
    [
      'maxLength declared',
      [str('c')],
      [str('c', { maxLength: 5 })],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'max-length-changed',
          'maxLength none → 5 (tightened): new files with longer values are rejected',
        ],
      ],
    ],
    [
      'maxLength lowered',
      [str('c', { maxLength: 10 })],
      [str('c', { maxLength: 5 })],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'max-length-changed',
          'maxLength 10 → 5 (tightened): new files with longer values are rejected',
        ],
      ],
    ],
    [
      'maxLength raised',
      [str('c', { maxLength: 5 })],
      [str('c', { maxLength: 10 })],
      [['c', 'value-rule', 'compatible', 'max-length-changed', 'maxLength 5 → 10 (relaxed)']],
    ],
    [
      'maxLength dropped',
      [str('c', { maxLength: 5 })],
      [str('c')],
      [
        [
          'c',
          'value-rule',
          'compatible',
          'max-length-changed',
          'maxLength 5 dropped: any length is accepted',
        ],
      ],
    ],
    [
      'min declared, max dropped',
      [typed('int', { max: 5 })],
      [typed('int', { min: 1 })],
      [
        [
          'v',
          'value-rule',
          'compatible',
          'min-changed',
          'min none → 1 (tightened): new files with values below 1 are rejected',
        ],
        ['v', 'value-rule', 'compatible', 'max-changed', 'max 5 dropped (relaxed)'],
      ],
    ],
    [
      'max declared, min dropped',
      [typed('int', { min: 5 })],
      [typed('int', { max: 1 })],
      [
        ['v', 'value-rule', 'compatible', 'min-changed', 'min 5 dropped (relaxed)'],
        [
          'v',
          'value-rule',
          'compatible',
          'max-changed',
          'max none → 1 (tightened): new files with values above 1 are rejected',
        ],
      ],
    ],
    [
      'column renamed with previousName (header kept)',
      [str('a')],
      [str('b', { previousName: 'a', header: 'a' })],
      [['b', 'column-renamed', 'compatible', 'column-renamed', 'renamed from "a" (the field id stays)']],
    ],
    [
      'nullable tightened',
      [str('a')],
      [str('a', { nullable: false })],
      [
        [
          'a',
          'nullable',
          'breaking',
          'nullable-tightened',
          `nullable: true → false, but rows already in the table may hold null: keep it nullable (a file's empty values are then accepted); or ${V2}`,
        ],
      ],
    ],
    [
      'nullable relaxed',
      [str('a', { nullable: false })],
      [str('a')],
      [
        [
          'a',
          'nullable',
          'compatible',
          'nullable-relaxed',
          'nullable: false → true: new files may leave it empty',
        ],
      ],
    ],
    [
      'retired under reject',
      [str('a')],
      [str('a', { retired: true })],
      [
        [
          'a',
          'column-retired',
          'compatible',
          'column-retired',
          'retired: kept in the table and old data, null in new rows; a file that still carries it is rejected (retired_column; "extraColumns": "ignore" drops it instead)',
        ],
      ],
    ],
    [
      'un-retired as optional',
      [str('a', { retired: true })],
      [str('a', { optional: true })],
      [
        [
          'a',
          'column-unretired',
          'compatible',
          'column-unretired',
          'no longer retired: files carry it again (optional); rows landed while it was retired stay null',
        ],
        [
          'a',
          'optional',
          'compatible',
          'optional-changed',
          'optional: files without its header are accepted (null)',
        ],
      ],
    ],
    [
      'un-retired, not nullable',
      [str('a', { retired: true, nullable: false })],
      [str('a', { nullable: false })],
      [
        [
          'a',
          'column-unretired',
          'breaking',
          'column-unretired-required',
          `no longer retired, and nullable: false, but the rows landed while it was retired hold null: declare it nullable; or ${V2}`,
        ],
      ],
    ],
    [
      'no longer optional (names the header)',
      [str('a', { optional: true, header: 'A b' })],
      [str('a', { header: 'A b' })],
      [
        [
          'a',
          'optional',
          'compatible',
          'optional-changed',
          'no longer optional: new files without its header "A b" are rejected',
        ],
      ],
    ],
    [
      'column description dropped',
      [str('a', { description: 'x' })],
      [str('a')],
      [['a', 'description', 'compatible', 'description-changed', 'description changed']],
    ],
  ] as [string, Json[], Json[], [string, string, string, string, string][]][])(
    '%s',
    (_, before, after, rows) => {
      expect(changes(small(after), small(before))).toStrictEqual(expected(...rows));
    },
  );

  it.each([
    ['int', 9, 10],
    // Past 2^53, where a double would read both bounds as one number.
    ['bigint', '9007199254740992', '9007199254740993'],
    ['double', 9.5, 10.25],
    // 9 < 10 as numbers, not as text.
    ['decimal', '9', '10'],
    ['date', '2026-01-09', '2026-01-10'],
    // Years below 100, which a date parser may read as 19xx or 20xx.
    ['date', '0050-01-01', '1999-12-31'],
    // 10:00+02:00 is 08:00 UTC, before 09:00 (no offset: UTC).
    ['timestamp', '2026-01-01 10:00:00+02:00', '2026-01-01 09:00:00'],
  ] as [string, number | string, number | string][])(
    '%s bounds: raising min and lowering max tighten, the reverse relaxes',
    (type, low, high) => {
      // Prepare
      const at = (patch: Json) => small([typed(type, patch)]);
      const line = (rule: string, message: string) =>
        expected(['v', 'value-rule', 'compatible', rule, message]);
      // Act / Assess
      expect(changes(at({ min: high }), at({ min: low }))).toStrictEqual(
        line(
          'min-changed',
          `min ${low} → ${high} (tightened): new files with values below ${high} are rejected`,
        ),
      );
      expect(changes(at({ min: low }), at({ min: high }))).toStrictEqual(
        line('min-changed', `min ${high} → ${low} (relaxed)`),
      );
      expect(changes(at({ max: low }), at({ max: high }))).toStrictEqual(
        line(
          'max-changed',
          `max ${high} → ${low} (tightened): new files with values above ${low} are rejected`,
        ),
      );
      expect(changes(at({ max: high }), at({ max: low }))).toStrictEqual(
        line('max-changed', `max ${low} → ${high} (relaxed)`),
      );
    },
  );

  it.each([
    ['int', '05', 5],
    ['bigint', '+5', '5'],
    ['decimal', '9.0', '9'],
    ['double', '1e1', 10],
    ['timestamp', '2026-01-01T10:00:00+00:00', '2026-01-01 10:00:00'],
  ] as [string, number | string, number | string][])(
    'a %s bound rewritten to the same value is said to be the same, neither tightened nor relaxed',
    (type, was, now) => {
      const at = (patch: Json) => small([typed(type, patch)]);
      expect(changes(at({ min: now }), at({ min: was }))[0]!.message).toBe(
        `min ${was} → ${now}: the same bound, written differently`,
      );
      expect(changes(at({ max: now }), at({ max: was }))[0]!.message).toBe(
        `max ${was} → ${now}: the same bound, written differently`,
      );
    },
  );

  it('timestamp bounds compare to the microsecond, as the validator checks values', () => {
    // Prepare: the same millisecond, one microsecond apart.
    const at = (min: string) => small([typed('timestamp', { min })]);
    // Act / Assess
    expect(changes(at('2026-01-01T10:00:00.123457Z'), at('2026-01-01T10:00:00.123456Z'))[0]!.message).toBe(
      'min 2026-01-01T10:00:00.123456Z → 2026-01-01T10:00:00.123457Z (tightened): new files with values below 2026-01-01T10:00:00.123457Z are rejected',
    );
  });

  it('timestamp bounds with Z and a negative offset compare as instants', () => {
    // 11:00-02:00 is 13:00 UTC, after 10:00Z: a raised max.
    const at = (max: string) => small([typed('timestamp', { max })]);
    expect(changes(at('2026-01-01T11:00:00-02:00'), at('2026-01-01T10:00:00Z'))[0]!.message).toBe(
      'max 2026-01-01T10:00:00Z → 2026-01-01T11:00:00-02:00 (relaxed)',
    );
  });

  it.each([
    [
      'int → bigint',
      [ID],
      [{ ...ID, type: 'bigint' }],
      [
        [
          'id',
          'type',
          'compatible',
          'type-widened',
          'type int → bigint: Iceberg promotes int to long in place',
        ],
      ],
    ],
    [
      'string → bigint',
      [ID, str('a')],
      [ID, str('a', { type: 'bigint' })],
      [
        [
          'a',
          'type',
          'breaking',
          'type-changed',
          `type string → bigint: Iceberg changes a type in place only from int to bigint and from decimal(p,s) to decimal(p',s) with p' > p: ${V2}`,
        ],
      ],
    ],
    [
      'bigint → string',
      [ID, str('a', { type: 'bigint' })],
      [ID, str('a')],
      [
        [
          'a',
          'type',
          'breaking',
          'type-changed',
          `type bigint → string: Iceberg changes a type in place only from int to bigint and from decimal(p,s) to decimal(p',s) with p' > p: ${V2}`,
        ],
      ],
    ],
    [
      'bigint → int',
      [ID, str('a', { type: 'bigint' })],
      [ID, str('a', { type: 'int' })],
      [
        [
          'a',
          'type',
          'breaking',
          'type-narrowed',
          `type bigint → int: 32 bits may not hold the values already stored: keep bigint; or ${V2}`,
        ],
      ],
    ],
    [
      'decimal scale changed',
      [ID, typed('decimal')],
      [ID, typed('decimal', { scale: 3 })],
      [
        [
          'v',
          'type',
          'breaking',
          'decimal-scale-changed',
          `type decimal(12,2) → decimal(12,3): a changed scale changes the meaning of every stored value: keep scale 2; or ${V2}`,
        ],
      ],
    ],
    [
      'decimal precision raised',
      [ID, typed('decimal')],
      [ID, typed('decimal', { precision: 14 })],
      [
        [
          'v',
          'type',
          'compatible',
          'decimal-widened',
          "type decimal(12,2) → decimal(14,2): Iceberg widens a decimal's precision in place (same scale)",
        ],
      ],
    ],
    [
      'decimal precision lowered',
      [ID, typed('decimal')],
      [ID, typed('decimal', { precision: 10 })],
      [
        [
          'v',
          'type',
          'breaking',
          'type-narrowed',
          `type decimal(12,2) → decimal(10,2): a lower precision may not hold the values already stored: keep precision 12; or ${V2}`,
        ],
      ],
    ],
  ] as [string, Json[], Json[], [string, string, string, string, string][]][])(
    'type %s',
    (_, before, after, rows) => {
      expect(changes(dataset(after), dataset(before))).toStrictEqual(expected(...rows));
    },
  );

  it.each([
    [
      'header and one alias lost: each line names only its own text',
      str('a', { header: 'A', aliases: ['X', 'Y'] }),
      str('a', { header: 'B', aliases: ['X'] }),
      [
        [
          'a',
          'header',
          'compatible',
          'header-changed',
          'header "A" → "B"; new files headed "A" are rejected (add it to "aliases" to accept both)',
        ],
        [
          'a',
          'aliases',
          'compatible',
          'aliases-changed',
          'aliases removed: "Y"; new files headed "Y" are rejected (add it to "aliases" to accept both)',
        ],
      ],
    ],
    [
      'header changed, aliases unchanged: no aliases line',
      str('a', { header: 'A', aliases: ['X'] }),
      str('a', { header: 'B', aliases: ['X'] }),
      [
        [
          'a',
          'header',
          'compatible',
          'header-changed',
          'header "A" → "B"; new files headed "A" are rejected (add it to "aliases" to accept both)',
        ],
      ],
    ],
    [
      'alias added',
      str('a'),
      str('a', { aliases: ['X'] }),
      [['a', 'aliases', 'compatible', 'aliases-changed', 'aliases added: "X"']],
    ],
    [
      'one alias added and two removed',
      str('a', { aliases: ['X', 'Y'] }),
      str('a', { aliases: ['Z'] }),
      [
        [
          'a',
          'aliases',
          'compatible',
          'aliases-changed',
          'aliases added: "Z"; aliases removed: "X", "Y"; new files headed "X", "Y" are rejected (add them to "aliases" to accept both)',
        ],
      ],
    ],
    [
      'one alias swapped for another',
      str('a', { aliases: ['X'] }),
      str('a', { aliases: ['Z'] }),
      [
        [
          'a',
          'aliases',
          'compatible',
          'aliases-changed',
          'aliases added: "Z"; aliases removed: "X"; new files headed "X" are rejected (add it to "aliases" to accept both)',
        ],
      ],
    ],
    [
      'header moved to the aliases: nothing rejected',
      str('a', { header: 'A' }),
      str('a', { header: 'B', aliases: ['A'] }),
      [
        ['a', 'header', 'compatible', 'header-changed', 'header "A" → "B"'],
        ['a', 'aliases', 'compatible', 'aliases-changed', 'aliases added: "A"'],
      ],
    ],
  ] as [string, Json, Json, [string, string, string, string, string][]][])('%s', (_, before, after, rows) => {
    expect(changes(small([after]), small([before]))).toStrictEqual(expected(...rows));
  });

  it.each([
    [
      'extraColumns ignore → reject',
      { extraColumns: 'ignore' },
      {},
      'extra-columns',
      'extra-columns-changed',
      'extraColumns ignore → reject: new files with a header cell naming no column (or a retired one) are rejected',
    ],
    [
      'extraColumns reject → ignore',
      {},
      { extraColumns: 'ignore' },
      'extra-columns',
      'extra-columns-changed',
      'extraColumns reject → ignore: a header cell naming no column (or a retired one) is now dropped, not rejected',
    ],
    [
      'description dropped',
      { description: 'x' },
      {},
      'description',
      'description-changed',
      'description changed',
    ],
  ] as [string, Json, Json, string, string, string][])('%s', (_, before, after, kind, rule, message) => {
    expect(changes(small([], after), small([], before))).toStrictEqual(
      expected(['', kind, 'compatible', rule, message]),
    );
  });

  it('a key declared, changed and dropped names the view and every key column', () => {
    // Prepare: key columns whose names run together alike ("ab","c" and "a","bc").
    const cols = ['ab', 'c', 'a', 'bc'].map((n) => str(n, { nullable: false }));
    const keyed = (key?: string[]) => small(cols, key ? { key } : {});
    const line = (message: string) => expected(['', 'key', 'compatible', 'key-changed', message]);
    // Act / Assess
    expect(changes(keyed(['id', 'ab']), keyed())).toStrictEqual(
      line('key declared (id, ab): view orders_latest keeps the newest row per (id, ab)'),
    );
    expect(changes(keyed(['a', 'bc']), keyed(['ab', 'c']))).toStrictEqual(
      line('key (ab, c) → (a, bc): view orders_latest keeps the newest row per (a, bc)'),
    );
    // An unchanged key of two columns is no change.
    expect(changes(keyed(['id', 'ab']), keyed(['id', 'ab']))).toStrictEqual([]);
    expect(changes(keyed(), keyed(['id', 'ab']))).toStrictEqual(
      line('key (id, ab) dropped: view orders_latest is no longer defined'),
    );
  });

  it('a dialect change is one line per part, saying which files are rejected', () => {
    expect(changes(small([], { dialect: { delimiter: ';', quote: "'" } }), small([]))).toStrictEqual(
      expected(
        [
          '',
          'dialect',
          'compatible',
          'dialect-changed',
          'delimiter "," → ";": new files are read with ";"; a file still written with "," is rejected',
        ],
        [
          '',
          'dialect',
          'compatible',
          'dialect-changed',
          `quote "\\"" → "'": new files are read with "'"; a file still written with "\\"" is rejected`,
        ],
      ),
    );
  });

  it('a lowered version names the next version to declare', () => {
    expect(changes(small([], { version: 2 }), small([], { version: 3 }))).toStrictEqual(
      expected([
        '',
        'version',
        'breaking',
        'version-lowered',
        'version 3 → 2: a version never goes back (table orders_v2 holds data of an older declaration): declare "version": 4 for a new table',
      ]),
    );
  });

  it.each([
    [
      'renamed without previousName (field id of its position)',
      [str('a')],
      [str('b')],
      [
        [
          'b',
          'column-renamed',
          'breaking',
          'rename-without-previous-name',
          `column "a" is gone and "b" takes its position (field id 3): to rename it, declare "previousName": "a" on "b"; to drop "a", keep it declared with "retired": true and add "b" at the end; or ${V2}`,
        ],
      ],
    ],
    [
      'previousName naming another column',
      [str('a')],
      [str('b', { previousName: 'x' })],
      [
        [
          'b',
          'column-renamed',
          'breaking',
          'previous-name-mismatch',
          `"b" declares "previousName": "x", but the column at its position was "a": to rename it, declare "previousName": "a" on "b"; to drop "a", keep it declared with "retired": true and add "b" at the end; or ${V2}`,
        ],
      ],
    ],
    [
      'column removed',
      [str('a')],
      [],
      [
        [
          'a',
          'column-removed',
          'breaking',
          'column-removed',
          `column "a" removed: retire it ("retired": true): it stays in the table and old data, new rows get null; or ${V2}`,
        ],
      ],
    ],
    [
      'retired column removed (names its field id)',
      [str('a', { retired: true })],
      [],
      [
        [
          'a',
          'column-removed',
          'breaking',
          'column-removed',
          `retired column "a" is no longer declared (its field id 3 and data stay in the table): keep it declared, retired; or ${V2}`,
        ],
      ],
    ],
    [
      'column moved (positions counted from 1)',
      [str('a'), str('b')],
      [str('b'), str('a')],
      [
        [
          'a',
          'column-moved',
          'breaking',
          'column-moved',
          `column "a" moved from position 2 to 3 (field ids follow declaration order): keep it at position 2 and declare new columns at the end; or ${V2}`,
        ],
      ],
    ],
    [
      'column inserted',
      [str('a')],
      [str('n'), str('a')],
      [
        [
          'n',
          'column-added',
          'breaking',
          'column-inserted',
          `new column "n" declared at position 2, before existing columns (field ids follow declaration order): declare it after the last column; or ${V2}`,
        ],
      ],
    ],
    [
      'required column added',
      [],
      [str('n', { nullable: false })],
      [
        [
          'n',
          'column-added',
          'breaking',
          'column-added-required',
          `new column "n" is nullable: false, but the rows already in the table have no value for it: declare it nullable (with "optional": true if older files lack it); or ${V2}`,
        ],
      ],
    ],
    [
      'previousName on a new column naming no previous column',
      [],
      [str('n', { previousName: 'x' })],
      [
        [
          'n',
          'column-added',
          'breaking',
          'previous-name-unknown',
          `"n" declares "previousName": "x", which names no column of the previous declaration: drop "previousName" (a new column) or name the column it continues; or ${V2}`,
        ],
      ],
    ],
    [
      'retired column added',
      [],
      [str('n', { retired: true })],
      [
        [
          'n',
          'column-added',
          'compatible',
          'column-appended',
          'new column "n" (string, field id 3): rows already in the table read null; declared retired: never read from files, null in every row',
        ],
      ],
    ],
    [
      'optional column added',
      [],
      [str('n', { optional: true })],
      [
        [
          'n',
          'column-added',
          'compatible',
          'column-appended',
          'new column "n" (string, field id 3): rows already in the table read null; optional: files without its header get null',
        ],
      ],
    ],
    [
      'column added with a header (names the header, not the name)',
      [],
      [str('n', { header: 'Note Text' })],
      [
        [
          'n',
          'column-added',
          'compatible',
          'column-appended',
          'new column "n" (string, field id 3): rows already in the table read null; files must carry its header "Note Text" (declare "optional": true to accept files without it)',
        ],
      ],
    ],
  ] as [string, Json[], Json[], [string, string, string, string, string][]][])(
    '%s',
    (_, before, after, rows) => {
      expect(changes(small(after), small(before))).toStrictEqual(expected(...rows));
    },
  );

  it('findings come in declaration order: a change at position 1 before a removal at position 3', () => {
    // Prepare: `id` relaxed (position 1) and `b` removed (position 3); removals are found first.
    const before = small([str('a'), str('b')]);
    const after = dataset([{ ...ID, nullable: true }, str('a')]);
    // Act / Assess
    expect(changes(after, before).map((c) => [c.column, c.rule])).toEqual([
      ['id', 'nullable-relaxed'],
      ['b', 'column-removed'],
    ]);
  });

  it('a column appended right after the only kept one is appended, not inserted', () => {
    // Prepare: one previous column, kept; the new one at position 2.
    const before = dataset([str('a')]);
    // Act
    const found = changes(dataset([str('a'), str('b', { optional: true })]), before);
    // Assess
    expect(found.map(brief)).toEqual([['b', 'compatible', 'column-appended']]);
  });

  it('every column replaced: the first takes the old position, the second is appended', () => {
    const found = changes(dataset([str('b'), str('c')]), dataset([str('a')]));
    expect(found.map(brief)).toEqual([
      ['b', 'breaking', 'rename-without-previous-name'],
      ['c', 'compatible', 'column-appended'],
    ]);
    expect(found[0]!.message).toContain('(field id 2)');
  });
});

describe('hasBreaking and the order of datasets', () => {
  const base = (extra: Json = {}) => dataset(BASE_COLUMNS, extra);

  it('is true when any one change is breaking, false when none is or nothing changed', () => {
    // Prepare: one breaking (a removed column) beside a compatible one (a description).
    const mixed = changes(
      base({ description: 'x' }),
      dataset([...BASE_COLUMNS, { name: 'z', type: 'string' }]),
    );
    expect(mixed.map((c) => c.verdict)).toEqual(['compatible', 'breaking']);
    // Act / Assess
    expect(hasBreaking(mixed)).toBe(true);
    expect(hasBreaking(changes(base({ description: 'x' })))).toBe(false);
    expect(hasBreaking([])).toBe(false);
  });

  it('lists datasets by name, whichever map names them first', () => {
    // Prepare: `zeta` only before, `alpha` only after (map order would put zeta first).
    const zeta = parseDataset({ name: 'zeta', columns: BASE_COLUMNS }, 'datasets/zeta.json');
    const alpha = parseDataset({ name: 'alpha', columns: BASE_COLUMNS }, 'datasets/alpha.json');
    // Act
    const found = compareDeclarations(new Map([['zeta', zeta]]), new Map([['alpha', alpha]]));
    // Assess
    expect(found.map((c) => [c.dataset, c.kind])).toEqual([
      ['alpha', 'dataset-added'],
      ['zeta', 'dataset-removed'],
    ]);
  });
});

describe('which column is named as moved or inserted', () => {
  const named = (names: string[]) => dataset(names.map((name) => ({ name, type: 'string' })));

  it.each([
    ['a c b d e', 'b'],
    ['a b d c e', 'c'],
  ])('of two neighbours swapped (%s from a b c d e), the earlier one: %s', (order, moved) => {
    // Both fixes are one move; the rule names the same column every time.
    const found = changes(named(order.split(' ')), named(['a', 'b', 'c', 'd', 'e']));
    expect(found.map(brief)).toEqual([[moved, 'breaking', 'column-moved']]);
  });

  it('a column inserted before the only kept one is inserted, and the kept one did not move', () => {
    expect(changes(named(['n', 'a']), named(['a'])).map(brief)).toEqual([
      ['n', 'breaking', 'column-inserted'],
    ]);
  });
});
