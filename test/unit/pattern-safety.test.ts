/**
 * A column `pattern` that can backtrack catastrophically is refused when the declaration loads
 * (adversarial review F4: `^(a+)+$` took 8.4 s on 28 characters and blocked the event loop), and
 * every pattern the project ships or tests with is still accepted.
 */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { type Column, DatasetDeclarationError, parseDataset } from '../../lib/datasets/model.ts';
import { compilePattern, patternProblem } from '../../lib/datasets/patterns.ts';
import { compileValueCheck } from '../../lib/datasets/values.ts';

/** The problems a one-column declaration with `pattern` is refused with; [] when it loads. */
function problemsOf(pattern: string): string[] {
  try {
    parseDataset({ name: 't', columns: [{ name: 'code', type: 'string', pattern }] }, 'datasets/t.json');
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetDeclarationError);
    return [...(error as DatasetDeclarationError).problems];
  }
}

describe('patterns that backtrack catastrophically are refused at load', () => {
  it.each([
    ['F4, nested quantifiers (exponential)', '^(a+)+$', '`a` at offset 2 in two repetitions'],
    ['overlapping alternatives under a star', '(a|a)*$', '`a` at offset 8 and `a` at offset 6'],
    ['a star of a star', '(a*)*b', 'can take the same characters'],
    ['optional separator inside a repetition', '(\\w+\\s?)*$', 'can take the same characters'],
    ['the OWASP example', '^(([a-z])+.)+[A-Z]([a-z])+$', 'can take the same characters'],
    ['polynomial: \\S takes the @', '^\\S+@\\S+$', '`\\S` at offset 1 and `@` at offset 4'],
    ['polynomial: unanchored trailing run', '\\s+$', 'can take the same characters'],
  ])('%s: %s', (_, pattern, overlap) => {
    const problems = problemsOf(pattern);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      `columns[0].pattern: pattern ${JSON.stringify(pattern)} can backtrack catastrophically`,
    );
    expect(problems[0]).toContain(overlap);
    expect(problems[0]).toContain('rewrite it so each character can match one way only');
  });

  it('names the file and the column when a folder is loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redos-'));
    const declaration = { name: 't', columns: [{ name: 'a', type: 'string', pattern: '^(a+)+$' }] };
    await writeFile(join(dir, 't.json'), JSON.stringify(declaration));
    await expect(loadDatasets(dir)).rejects.toThrow(
      /t\.json: invalid dataset declaration\n {2}- columns\[0\]\.pattern: pattern "\^\(a\+\)\+\$" can backtrack catastrophically/,
    );
  });

  it('refuses a pattern too complex to prove safe, saying so rather than calling it unsafe', () => {
    const [problem] = problemsOf('a'.repeat(3000));
    expect(problem).toMatch(/^columns\[0\]\.pattern: pattern "a{98}… is too complex to prove/);
    expect(problem).toContain('more than 2000 steps of the check');
  });

  it('refuses syntax the check cannot read (a named group) with the reason', () => {
    expect(problemsOf('^(?<year>\\d{4})$')).toEqual([
      'columns[0].pattern: pattern "^(?<year>\\\\d{4})$" cannot be checked for catastrophic backtracking (Expected atom at position 2): write it without named groups or other syntax the check does not read',
    ]);
  });

  it('still reports a pattern that does not compile as such', () => {
    expect(problemsOf('(')[0]).toMatch(/^columns\[0\]\.pattern: pattern is not a valid regular expression: /);
  });

  it('refuses the same pattern in the value rules, the other place a pattern is applied', () => {
    // A Column built by hand skips the loader: the compiled check must not apply the pattern either.
    const column = { name: 'a', type: 'string', nullable: true, pattern: '^(a+)+$' } as Column;
    expect(() => compileValueCheck(column)).toThrow('pattern "^(a+)+$" can backtrack catastrophically');
    expect(() => compilePattern('(a|a)*$')).toThrow('can backtrack catastrophically');
  });
});

describe('the patterns the project uses are accepted', () => {
  it('every pattern in datasets/ and the conformance cases', async () => {
    const files = [
      ...(await readdir('datasets')).map((n) => join('datasets', n)),
      ...(await readdir('test/conformance/cases')).map((n) => join('test/conformance/cases', n)),
    ].filter((f) => f.endsWith('.json'));
    const patterns = new Set<string>();
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/"pattern":\s*("(?:[^"\\]|\\.)*")/g)) patterns.add(JSON.parse(m[1]!));
    }
    expect(patterns).toEqual(new Set(['^[A-Z]{3}-\\d{5}$', '^[0-9a-f]{12}$']));
    for (const p of patterns) expect(patternProblem(p)).toBeUndefined();
  });

  it.each([
    // The value-rule tests' patterns.
    '\\d',
    '^.{1,3}$',
    '^.{3}$',
    '^[A-Z]{3}$',
    'b',
    '.*',
    // Shapes a user is likely to declare: none can match one text two ways.
    '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})$',
    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    '^[^@\\s]+@[^@\\s]+$',
    '^[A-Z][a-z]*( [A-Z][a-z]*)*$',
    '^\\p{Lu}\\p{Ll}+$',
    '^(\\+|-)?\\d+(\\.\\d+)?([eE][+-]?\\d+)?$',
    '^(?!0000)\\d{4}$',
  ])('%s', (pattern) => {
    expect(problemsOf(pattern)).toEqual([]);
  });
});

describe('how a pattern is read and applied', () => {
  it('is read with the u flag: an escape only loose mode accepts is refused as not compiling', () => {
    // `\-` outside a class is an identity escape, valid without `u`, a syntax error with it.
    expect(problemsOf('^a\\-b$')).toEqual([
      'columns[0].pattern: pattern is not a valid regular expression: Invalid regular expression: /^a\\-b$/u: Invalid escape',
    ]);
  });

  it('is checked with the u flag: \\u{61} is the letter a, so (?:\\u{61}|a)+ overlaps', () => {
    // Without `u`, `\u{61}` would be 61 letters u and the two ways would never overlap.
    expect(problemsOf('^(?:\\u{61}|a)+$')[0]).toContain('can backtrack catastrophically');
  });

  it('is applied with the u flag: . is one code point, so an emoji is one character', () => {
    const re = compilePattern('^.$');
    expect(re.flags).toBe('u');
    expect(re.test('😀')).toBe(true);
  });

  it('shows a refused pattern of up to 100 characters (as JSON) whole, a longer one cut', () => {
    // JSON.stringify adds the two quotes: 98 characters of pattern make 100.
    const exact = `^(a+)+${'b'.repeat(91)}$`;
    const longer = `^(a+)+${'b'.repeat(92)}$`;
    expect(JSON.stringify(exact)).toHaveLength(100);
    expect(problemsOf(exact)[0]).toContain(`pattern ${JSON.stringify(exact)} can backtrack`);
    expect(problemsOf(longer)[0]).toContain(`pattern ${JSON.stringify(longer).slice(0, 99)}… can backtrack`);
  });
});
