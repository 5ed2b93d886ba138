/**
 * The compatibility check's verdicts (lib/datasets/compat.ts): one case per change kind of the
 * README's table "Changing a dataset", each from a base declaration to one changed form.
 */
import { describe, expect, it } from 'vitest';
import { compareDeclarations, type DeclarationChange } from '../../lib/datasets/compat.ts';
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
