/**
 * The text of a declaration file: a byte order mark loads (F23), a syntax error shows what it found
 * even when it is invisible, and a number JSON would round is refused instead of silently changing
 * a bound (F8).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDatasets, parseDeclaration, pickDataset, UnknownDatasetError } from '../../lib/datasets/load.ts';
import { type Column, DatasetDeclarationError, parseDataset } from '../../lib/datasets/model.ts';
import { compileValueCheck } from '../../lib/datasets/values.ts';

/** A one-column declaration's text with `column`'s JSON written as is (numbers keep their digits). */
const declaration = (column: string) => `{ "name": "t",\n  "columns": [ ${column} ]\n}\n`;

/** The problems `text` is refused with (fails the test when it loads). */
function problemsOf(text: string): string[] {
  try {
    parseDeclaration(text, 'datasets/t.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetDeclarationError);
    expect((error as Error).message).toContain('datasets/t.json: invalid dataset declaration');
    return [...(error as DatasetDeclarationError).problems];
  }
  throw new Error('declaration was accepted');
}

/** The rule `value` breaks in the first column of a declaration that loads. */
function ruleOf(text: string, value: string): string | undefined {
  const column = parseDeclaration(text, 't.json').columns[0] as Column;
  const bytes = Buffer.from(value);
  return compileValueCheck(column)(bytes, 0, bytes.length);
}

describe('a declaration saved with a byte order mark (F23)', () => {
  it('loads from a folder as without it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bom-'));
    await writeFile(join(dir, 't.json'), `\ufeff${declaration('{ "name": "a", "type": "string" }')}`);
    const datasets = await loadDatasets(dir);
    expect(datasets.get('t')?.columns.map((c) => c.name)).toEqual(['a']);
  });

  it('is skipped once only: a second one is an error that shows it', () => {
    expect(problemsOf(`\ufeff\ufeff${declaration('{ "name": "a", "type": "string" }')}`)).toEqual([
      `not valid JSON: Unexpected token '\\ufeff', "\\ufeff{ "name":"... is not valid JSON`,
    ]);
  });
});

describe('a JSON syntax error shows where and what it found', () => {
  it.each([
    ['a zero-width space', '{\u200b"name": "t" }', 'found U+200B'],
    ['a no-break space', '{\u00a0"name": "t" }', 'found U+00A0'],
    ['a trailing comma', '{ "name": "t", }', 'found "}"'],
    ['an object left open', '{ "name": "t"', 'found the end of the file'],
  ])('%s', (_, text, found) => {
    const [problem] = problemsOf(text);
    expect(problem).toMatch(/^not valid JSON: .* at position \d+ \(line 1, column \d+: found /);
    expect(problem).toContain(found);
  });

  it('counts lines and columns from 1', () => {
    expect(problemsOf('{\n  "name": "t",\n  x\n}')).toEqual([
      `not valid JSON: Expected double-quoted property name in JSON at position 19 (line 3, column 3: found "x")`,
    ]);
  });
});

describe('a number JSON cannot carry exactly is refused, not rounded (F8)', () => {
  it('F8: a bigint min of 9007199254740993 (read as ...992 by JSON.parse)', () => {
    expect(problemsOf(declaration('{ "name": "a", "type": "bigint", "min": 9007199254740993 }'))).toEqual([
      'number 9007199254740993 (line 2, column 56) cannot be read exactly: a JSON number is a double, which keeps 15 significant digits; write a min or max as a string, e.g. "9007199254740993"',
    ]);
  });

  it('a decimal max with more digits than a double keeps', () => {
    const text = declaration(
      '{ "name": "a", "type": "decimal", "precision": 20, "scale": 2, "max": 12345678901234567.89 }',
    );
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^number 12345678901234567\.89 \(line 2, column 86\) cannot be read exactly/),
    ]);
  });

  it('digits past the 15th that a double drops without a trace (0.10000000000000001 reads as 0.1)', () => {
    const text = declaration(
      '{ "name": "a", "type": "decimal", "precision": 20, "scale": 17, "min": 0.10000000000000001 }',
    );
    expect(problemsOf(text)[0]).toMatch(/^number 0\.10000000000000001 \(line 2, column \d+\) cannot be read/);
  });

  it('a number beyond the range of a double', () => {
    expect(problemsOf(declaration('{ "name": "a", "type": "double", "max": 1e400 }'))).toEqual([
      'number 1e400 (line 2, column 56) is outside the range of a double, which a JSON number is read as',
    ]);
    expect(problemsOf(declaration('{ "name": "a", "type": "double", "min": -1e-400 }'))[0]).toMatch(
      /^number -1e-400 .* outside the range/,
    );
  });

  it('digits inside strings are not numbers', () => {
    const text = `{ "name": "t", "description": "id 12345678901234567890 \\" 12345678901234567890",
      "columns": [ { "name": "a", "type": "bigint", "min": "9007199254740993" } ] }`;
    expect(parseDeclaration(text, 't.json').columns[0]?.min).toBe('9007199254740993');
  });

  it('15 significant digits, and zeros around them, are exact and load', () => {
    const text = declaration(
      '{ "name": "a", "type": "decimal", "precision": 38, "scale": 18, "min": -0.000123456789012345, "max": 1234567890123450000 }',
    );
    expect(parseDeclaration(text, 't.json').columns[0]).toMatchObject({
      min: -0.000123456789012345,
      max: 1234567890123450000,
    });
  });

  it('the quoted form is read exactly and enforced: 9007199254740992 is below the minimum', () => {
    const text = declaration('{ "name": "a", "type": "bigint", "min": "9007199254740993" }');
    expect(ruleOf(text, '9007199254740992')).toBe('min');
    expect(ruleOf(text, '9007199254740993')).toBeUndefined();
  });
});

describe('a bigint bound given as a JSON number beyond 2^53 is refused (F8)', () => {
  // parseDataset may be handed parsed JSON directly: there only the double JSON.parse produced is
  // left, so a bigint bound past ±2^53 must be a string whatever its digits.
  it.each([
    ['min', 2 ** 53 + 2],
    ['max', -(2 ** 53) - 2],
    ['max', 9e18],
  ])('%s %d', (key, value) => {
    const json = { name: 't', columns: [{ name: 'a', type: 'bigint', [key]: value }] };
    expect(() => parseDataset(json, 't.json')).toThrow(
      `columns[0].${key}: bigint ${key} reads as ${value}: a JSON number beyond ±9007199254740992 (2^53) may have been rounded, so write the exact value as a string, e.g. "${key}": "9007199254740993"`,
    );
  });

  it('alone: the other, valid bound is not compared with a refused one', () => {
    const json = { name: 't', columns: [{ name: 'a', type: 'bigint', min: 2 ** 53 + 2, max: '5' }] };
    expect(() => parseDataset(json, 't.json')).toThrow(
      /invalid dataset declaration\n {2}- columns\[0\]\.min: [^\n]*$/,
    );
  });

  it('±2^53, the last integers every double run holds exactly, load as numbers', () => {
    const json = { name: 't', columns: [{ name: 'a', type: 'bigint', min: -(2 ** 53), max: 2 ** 53 }] };
    expect(parseDataset(json, 't.json').columns[0]).toMatchObject({ min: -(2 ** 53), max: 2 ** 53 });
  });
});

describe('the datasets folder', () => {
  it('defaults to datasets/ under the working directory', async () => {
    expect([...(await loadDatasets()).keys()]).toEqual(['orders', 'sensor_readings']);
  });

  it('reads only the .json files, in name order (JavaScript string order), whatever order the folder lists them in', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'order-'));
    // libuv lists a folder sorted by bytes: U+E000 (EE 80 80) before 😀 (F0 9F 98 80). Compared as
    // JavaScript strings, 😀 (a surrogate pair, D83D …) comes first: the loader's order is the latter.
    const declare = (name: string) =>
      `{ "name": "${name}", "columns": [ { "name": "x", "type": "string" } ] }`;
    await writeFile(join(dir, '\ue000.json'), declare('private_use'));
    await writeFile(join(dir, '😀.json'), declare('emoji'));
    await writeFile(join(dir, 'README.md'), '# not a declaration');
    expect([...(await loadDatasets(dir)).keys()]).toEqual(['emoji', 'private_use']);
  });

  it('that cannot be read is named with the system error', async () => {
    const missing = join(tmpdir(), 'no-such-datasets-folder');
    await expect(loadDatasets(missing)).rejects.toThrow(
      `cannot read the datasets folder "${missing}": ENOENT`,
    );
  });

  it('names a bad file relative to the working directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'named-'));
    await writeFile(join(dir, 't.json'), '{ "name": ');
    await expect(loadDatasets(dir)).rejects.toThrow(
      `${relative(process.cwd(), join(dir, 't.json'))}: invalid dataset declaration`,
    );
  });
});

describe('picking a dataset by name', () => {
  it('returns the declared one; an unknown name is an UnknownDatasetError listing the known, or none', async () => {
    const datasets = await loadDatasets('datasets');
    expect(pickDataset(datasets, 'orders')).toBe(datasets.get('orders'));
    let unknown: Error | undefined;
    try {
      pickDataset(new Map(), 'x');
    } catch (error) {
      unknown = error as Error;
    }
    expect(unknown).toBeInstanceOf(UnknownDatasetError);
    expect(unknown?.name).toBe('UnknownDatasetError');
    expect(unknown?.message).toBe('unknown dataset "x" (known: none)');
  });
});

describe('what a syntax error shows of the character it found', () => {
  it('a control character inside a string as U+0001; DEL after a value as U+007F', () => {
    expect(problemsOf('{ "name": "t\u0001" }')[0]).toContain('found U+0001)');
    expect(problemsOf('{ "name": "t"\u007f}')[0]).toContain('found U+007F)');
  });
});

describe('numbers found in the text, around strings', () => {
  it('a long number in a string right after a number is text, not a number (the scan steps over the number only)', () => {
    const text = '{"name":"t","columns":[{"name":"a","type":"bigint","min":1,"max":"9007199254740993"}]}';
    expect(parseDeclaration(text, 't.json').columns[0]).toMatchObject({ min: 1, max: '9007199254740993' });
  });
});
