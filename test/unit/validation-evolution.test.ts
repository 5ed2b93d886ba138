/**
 * The validator under the rules of change (issue 16): a header read through matchHeader, so that
 * aliases, optional and retired columns and the extra-column policy hold for every file, in one
 * pass, resumed from a checkpoint, in parallel ranges (in this thread and in worker threads) and
 * through `datalake validate`. Ignored cells are not checked but still count as fields.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import {
  CsvValidator,
  type ValidationCheckpoint,
  type ValidationError,
  type ValidationResult,
} from '../../lib/validation/csv-validator.ts';
import { validateParallel } from '../../lib/validation/parallel.ts';
import { sourceWorkerEntry } from '../../lib/validation/source-worker.ts';
import { type ValidationRun, validateCsv } from '../../lib/validation/validate-csv.ts';
import { runCli } from './cli-run.ts';
import { brief } from './tokenizer-harness.ts';
import { evolvedOrders, evolvedOrdersCsv } from './validation-samples.ts';

/** A declaration after a few changes: an alias, a retired int column, an optional column. */
function declaration(extraColumns: 'reject' | 'ignore', legacyRetired = true) {
  return {
    name: 'orders',
    extraColumns,
    columns: [
      { name: 'order_id', type: 'bigint', nullable: false },
      { name: 'customer', type: 'string', nullable: false, header: 'Customer Name', aliases: ['Client'] },
      { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
      { name: 'legacy_code', type: 'int', retired: legacyRetired },
      { name: 'discount', type: 'double', header: 'Discount', optional: true, min: 0, max: 1 },
    ],
  };
}

const REJECT = parseDataset(declaration('reject'), 'orders.json');
const IGNORE = parseDataset(declaration('ignore'), 'orders.json');

function validate(ds: Dataset, text: string | Buffer): ValidationResult {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const validator = new CsvValidator(ds);
  validator.push(bytes);
  return validator.finish(bytes.length, false);
}

async function* once(bytes: Buffer): AsyncGenerator<Uint8Array> {
  yield bytes;
}

describe('aliases', () => {
  it('reads a column by its alias, and checks its values', () => {
    // Act
    const result = validate(REJECT, 'order_id,Client,amount\n1,Ann,2.50\n2,,3.00\n');

    // Assess
    expect(result.rows).toBe(2);
    expect(brief(result)).toEqual([{ line: 3, column: 'customer', value: '', rule: 'not_null' }]);
  });

  it('accepts the old and the new header text of an aliased column', () => {
    // Act
    const old = validate(REJECT, 'order_id,Customer Name,amount\n1,Ann,2.50\n');
    const renamed = validate(REJECT, 'order_id,Client,amount\n1,Ann,2.50\n');

    // Assess
    expect(old).toMatchObject({ valid: true, rows: 1, errorCount: 0 });
    expect(renamed).toMatchObject({ valid: true, rows: 1, errorCount: 0 });
  });

  it('reports a column named twice, by its header and by its name or alias, as duplicate_column', () => {
    // Act
    const byName = validate(REJECT, 'order_id,Customer Name,amount,customer\n1,Ann,2.50,x\n');
    const byAlias = validate(REJECT, 'order_id,Client,amount,Customer Name\n1,Ann,2.50,x\n');

    // Assess: the second cell is not read (its value is no customer's).
    expect(brief(byName)).toEqual([
      { line: 1, column: 'customer', value: 'customer', rule: 'duplicate_column' },
    ]);
    expect(brief(byAlias)).toEqual([
      { line: 1, column: 'customer', value: 'Customer Name', rule: 'duplicate_column' },
    ]);
    expect(byAlias.errors[0]!.message).toBe('column "customer" appears twice in the header');
  });
});

describe('optional columns', () => {
  it('accepts a file without an optional column: its rows are valid', () => {
    // Act
    const result = validate(REJECT, 'order_id,Client,amount\n1,Ann,2.50\n2,Bob,\n');

    // Assess
    expect(result).toMatchObject({ valid: true, rows: 2, errorCount: 0 });
  });

  it('checks the values of an optional column a file carries', () => {
    // Act
    const result = validate(
      REJECT,
      'order_id,Client,amount,Discount\n1,Ann,2.50,0.1\n2,Bob,1.00,1.5\n3,Cy,1,\n',
    );

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: 'discount', value: '1.5', rule: 'max' }]);
    expect(result.errorsByColumn).toEqual({ discount: 1 });
  });

  it('still reports a missing column that is not optional', () => {
    // Act
    const result = validate(REJECT, 'order_id,Client\n1,Ann\n');

    // Assess
    expect(brief(result)).toEqual([{ line: 1, column: 'amount', value: null, rule: 'missing_column' }]);
    expect(result.errors[0]!.message).toBe('the header has no column "amount"');
  });

  it.each([
    ['reject', REJECT],
    ['ignore', IGNORE],
  ] as const)(
    'under %s, reports a misspelt optional column with the hint, its values unchecked',
    (policy, ds) => {
      // Act
      const result = validate(ds, 'order_id,Client,amount,Discont\n1,Ann,2.50,lots\n');

      // Assess
      expect(brief(result)).toEqual([
        { line: 1, column: 'Discont', value: 'Discont', rule: 'unknown_column' },
      ]);
      expect(result.errors[0]!.message).toMatch(
        /^the header names an unknown column "Discont" \(did you mean "Discount"\?\)/,
      );
      // Under ignore it says why the cell was not dropped.
      expect(result.errors[0]!.message.includes('even under "extraColumns": "ignore"')).toBe(
        policy === 'ignore',
      );
    },
  );
});

describe('retired columns', () => {
  const FILE = 'order_id,Client,legacy_code,amount\n1,Ann,n/a,2.50\n2,Bob,x,3.00\n';

  it('under reject, reports a retired column a file still carries, and does not check its values', () => {
    // Act
    const result = validate(REJECT, FILE);

    // Assess
    expect(result.rows).toBe(2);
    expect(brief(result)).toEqual([
      { line: 1, column: 'legacy_code', value: 'legacy_code', rule: 'retired_column' },
    ]);
    expect(result.errors[0]!.message).toBe(
      'column "legacy_code" is retired: files no longer carry it (drop it from the file, or declare "extraColumns": "ignore")',
    );
    expect(result.errorsByRule).toEqual({ retired_column: 1 });
    expect(result.errorsByColumn).toEqual({ legacy_code: 1 });
  });

  it('under ignore, accepts it and does not check its values', () => {
    // Act
    const result = validate(IGNORE, FILE);

    // Assess
    expect(result).toMatchObject({ valid: true, rows: 2, errorCount: 0 });
  });

  it('does not miss a file without it', () => {
    // Act
    const result = validate(REJECT, 'order_id,Client,amount\n1,Ann,2.50\n');

    // Assess
    expect(result).toMatchObject({ valid: true, errorCount: 0 });
  });
});

describe('extra columns', () => {
  it('under reject, reports a column the declaration does not name', () => {
    // Act
    const result = validate(REJECT, 'order_id,Client,warehouse,amount\n1,Ann,W1,2.50\n');

    // Assess
    expect(brief(result)).toEqual([
      { line: 1, column: 'warehouse', value: 'warehouse', rule: 'unknown_column' },
    ]);
  });

  it('under ignore, accepts it without checking its values, and checks the columns after it', () => {
    // Act
    const result = validate(IGNORE, 'order_id,Client,warehouse,amount\n1,Ann,W1,2.50\n2,Bob,,x\n');

    // Assess: the values of the ignored cell are skipped, the next cell is amount.
    expect(brief(result)).toEqual([{ line: 3, column: 'amount', value: 'x', rule: 'type' }]);
  });

  it('counts an ignored cell as a field: a row without it is ragged', () => {
    // Act
    const result = validate(
      IGNORE,
      'order_id,Client,warehouse,legacy_code,amount\n1,Ann,W1,0,2.50\n2,Bob,3.00\n',
    );

    // Assess
    expect(brief(result)).toEqual([{ line: 3, column: null, value: null, rule: 'ragged_row' }]);
    expect(result.errors[0]!.message).toBe('expected 5 fields, found 3');
  });
});

describe('a long declared name', () => {
  it('is named whole in a header error, where an unknown cell is cut to 80 characters', () => {
    // Prepare: names of 100 characters (Glue allows 255).
    const long = 'c'.repeat(100);
    const ds = parseDataset(
      {
        name: 'd',
        columns: [
          { name: `${long}_live`, type: 'int' },
          { name: `${long}_gone`, type: 'int', retired: true },
        ],
      },
      'd.json',
    );

    // Act
    const result = validate(ds, `${long}_gone,${long}_x\n1,2\n`);

    // Assess
    expect(result.errors.map((e) => [e.column, e.rule])).toEqual([
      [`${long}_gone`, 'retired_column'],
      [`${'c'.repeat(80)}…`, 'unknown_column'],
      [`${long}_live`, 'missing_column'],
    ]);
  });
});

describe('a header cell that is not UTF-8', () => {
  it('is reported where it stands among the header problems, and its column is missing', () => {
    // Prepare: an unknown cell, an undecodable one (Client with a bad byte), a retired one.
    const text = Buffer.concat([
      Buffer.from('zzz,order_id,Cli'),
      Buffer.from([0xff]),
      Buffer.from('nt,legacy_code,amount\n1,2,3,4,5\n'),
    ]);

    // Act
    const result = validate(REJECT, text);

    // Assess
    expect(brief(result)).toEqual([
      { line: 1, column: 'zzz', value: 'zzz', rule: 'unknown_column' },
      { line: 1, column: null, value: 'Cli\\xFFnt', rule: 'invalid_utf8' },
      { line: 1, column: 'legacy_code', value: 'legacy_code', rule: 'retired_column' },
      { line: 1, column: 'customer', value: null, rule: 'missing_column' },
    ]);
  });
});

/** A longer file with ignored cells in front and in the middle, and bad values throughout. */
function ignoredColumnsFile(): Buffer {
  const header = 'warehouse,order_id,legacy_code,Client,amount,Discount';
  const rows: string[] = [];
  for (let i = 1; i <= 400; i++) {
    const amount = i % 37 === 0 ? 'x' : `${i}.50`; // checked: an error every 37 rows
    const discount = i % 53 === 0 ? '2' : '0.5';
    rows.push(`"W${i}\nbay",${i},${i % 5 === 0 ? 'n/a' : i},"Cust ${i}",${amount},${discount}`);
  }
  return Buffer.from(`${header}\n${rows.join('\n')}\n`);
}

describe('resuming from a checkpoint', () => {
  it('keeps the mapping with the ignored cells through JSON, with the result of one pass', async () => {
    // Prepare
    const bytes = ignoredColumnsFile();
    const whole = await validateCsv(once(bytes), IGNORE, { maxErrors: 1000 });
    const streamed: ValidationError[] = [];

    // Act: a first run stops after 2 KB, a second resumes from its checkpoint as JSON.
    const first = await validateCsv(
      (async function* () {
        for (let p = 0; p < bytes.length; p += 1024) yield bytes.subarray(p, p + 1024);
      })(),
      IGNORE,
      { maxErrors: 1000, onError: (e) => streamed.push(e), stopWhen: (read) => read >= 2048 },
    );
    const checkpoint = JSON.parse(JSON.stringify(first.checkpoint)) as ValidationCheckpoint;
    const rest = await validateCsv(once(bytes.subarray(checkpoint.offset)), IGNORE, {
      resume: checkpoint,
      maxErrors: 1000,
      onError: (e) => streamed.push(e),
    });

    // Assess: null where a cell is ignored; the errors are the checked columns' only.
    expect(first.complete).toBe(false);
    expect(checkpoint.columns).toEqual([null, 'order_id', null, 'customer', 'amount', 'discount']);
    expect(checkpoint.offset).toBeLessThan(bytes.length / 2);
    expect(streamed).toEqual(whole.errors);
    expect(rest).toMatchObject({
      valid: false,
      rows: 400,
      errorCount: whole.errorCount,
      errorsByColumn: { amount: 10, discount: 7 },
    });
    expect(whole.errorsByColumn).toEqual({ amount: 10, discount: 7 });
  });

  it('refuses a checkpoint that maps a column the declaration has since retired', async () => {
    // Prepare: a run against the declaration before legacy_code was retired.
    const before = parseDataset(declaration('ignore', false), 'orders.json');
    const bytes = ignoredColumnsFile();
    const first = await validateCsv(once(bytes.subarray(0, 2048)), before, { stopWhen: () => true });
    const checkpoint = first.checkpoint!;
    expect(checkpoint.columns).toContain('legacy_code');

    // Act
    const resume = () => new CsvValidator(IGNORE, { resume: checkpoint });

    // Assess
    expect(resume).toThrow(
      'cannot resume: the checkpoint maps field 3 to column "legacy_code", which dataset "orders" declares retired (the declaration changed since the run began: validate the file again from its start)',
    );
  });
});

describe('parallel ranges', () => {
  const evolved = evolvedOrders('ignore');
  const text = evolvedOrdersCsv(
    ORDERS_HEADER + orderRows(5, 0, 40) + brokenOrdersCsv().slice(ORDERS_HEADER.length),
  );

  it('map the header the same way as one pass: aliases, ignored cells, the same errors', async () => {
    // Prepare
    const bytes = Buffer.from(text);
    const whole = await validateCsv(once(bytes), evolved, { maxErrors: 1000 });
    const streamed: ValidationError[] = [];
    const outcomes: string[] = [];

    // Act: a range every 97 bytes, in this thread.
    const ranged = await validateParallel({ kind: 'bytes', bytes }, evolved, {
      threads: 2,
      inThread: true,
      minBytes: 0,
      ranges: Math.floor(bytes.length / 97),
      chunkBytes: 64,
      maxErrors: 1000,
      onError: (e) => streamed.push(e),
      onRange: (r) => outcomes.push(r.outcome),
    });

    // Assess: the single pass's five errors of the broken rows, none from the ignored cells.
    expect(ranged).toEqual({ ...whole, bytes: ranged.bytes, csvBytes: ranged.csvBytes });
    expect(streamed).toEqual(whole.errors);
    expect(whole.errorsByRule).toEqual({
      decimal_scale: 1,
      enum: 1,
      calendar_date: 1,
      not_null: 1,
      ragged_row: 1,
    });
    expect(outcomes).toContain('confirmed');
  });

  it('in worker threads too', async () => {
    // Prepare
    const bytes = Buffer.from(text.repeat(1) + text.slice(text.indexOf('\n') + 1).repeat(30));
    const whole = await validateCsv(once(bytes), evolved, { maxErrors: 1000 });
    const outcomes: string[] = [];

    // Act
    const ranged: ValidationRun = await validateParallel({ kind: 'bytes', bytes }, evolved, {
      threads: 3,
      minBytes: 0,
      ranges: 8,
      chunkBytes: 1024,
      maxErrors: 1000,
      workerEntry: await sourceWorkerEntry(),
      onRange: (r) => outcomes.push(r.outcome),
    });

    // Assess
    expect(ranged).toEqual({ ...whole, bytes: ranged.bytes, csvBytes: ranged.csvBytes });
    expect(whole.errorCount).toBe(5 * 31);
    expect(outcomes.at(-1)).not.toBe('in order');
  });
});

describe('datalake validate', () => {
  let dir: string;
  let file: string;
  const datasetsDir = (policy: string) => join(dir, policy);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evolution-cli-'));
    for (const policy of ['reject', 'ignore'] as const) {
      await mkdir(datasetsDir(policy));
      await writeFile(join(datasetsDir(policy), 'orders.json'), JSON.stringify(declaration(policy)));
    }
    file = join(dir, 'export.csv');
    await writeFile(
      file,
      'warehouse,order_id,Client,legacy_code,amount\nW1,1,Ann,n/a,2.50\nW2,2,Bob,n/a,x\n',
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `datalake validate` of the file against the declaration under `policy`. */
  const validateUnder = (policy: string, ...more: string[]) =>
    runCli(['validate', file, '--dataset', 'orders', '--datasets', datasetsDir(policy), ...more]);

  it('checks a file with an alias and ignored columns under ignore', async () => {
    // Act
    const { code, out } = await validateUnder('ignore', '--json');

    // Assess
    expect(code).toBe(1);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ valid: false, rows: 2, errorCount: 1, errorsByRule: { type: 1 } });
    expect(result.errors[0]).toMatchObject({ line: 3, column: 'amount', value: 'x', rule: 'type' });
  });

  it('reports the retired and the extra column under reject', async () => {
    // Act
    const { code, out } = await validateUnder('reject');

    // Assess
    expect(code).toBe(1);
    expect(out).toMatch(
      /\n1\s+warehouse\s+unknown_column\s+warehouse\s+the header names an unknown column "warehouse"/,
    );
    expect(out).toMatch(/\n1\s+legacy_code\s+retired_column\s+legacy_code\s+column "legacy_code" is retired/);
    expect(out).toMatch(/\n3\s+amount\s+type\s+x/);
  });
});
