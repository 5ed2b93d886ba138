/**
 * `recordSpansLines`: whether a reader that splits the file at line breaks (Spark with multiLine
 * off) would cut a record. It must be true for a line break of either kind inside quotes, false
 * otherwise, whatever the chunking, and carried through a checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { validateCsv } from '../../lib/validation/validate-csv.ts';
import { NAME_QTY } from './tokenizer-harness.ts';

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function spans(text: string, size = 1 << 20): Promise<boolean> {
  return (await validateCsv(chunks(Buffer.from(text), size), NAME_QTY)).recordSpansLines;
}

describe('recordSpansLines', () => {
  const cases: [string, string, boolean][] = [
    ['no quotes', 'name,qty\na,1\nb,2\n', false],
    ['quotes without a line break', 'name,qty\n"a,b",1\n"say ""hi""",2\n', false],
    ['CRLF file, quotes without a line break', 'name,qty\r\n"a",1\r\nb,2\r\n', false],
    ['an LF inside quotes', 'name,qty\n"a\nb",1\n', true],
    ['a CRLF inside quotes', 'name,qty\r\n"a\r\nb",1\r\n', true],
    ['a CR alone inside quotes', 'name,qty\n"a\rb",1\n', true],
    ['a line break inside quotes in the header', '"na\nme",qty\na,1\n', true],
    ['a line break inside quotes on the last record, no final newline', 'name,qty\na,1\n"b\nc",2', true],
  ];
  for (const [name, text, expected] of cases) {
    it(`${name}: ${expected}`, async () => {
      for (const size of [1, 2, 3, 7, 1 << 20]) expect(await spans(text, size)).toBe(expected);
    });
  }

  it('goes through a checkpoint: a line break before the stop is remembered after it', async () => {
    const text = Buffer.from('name,qty\n"a\nb",1\nc,2\nd,3\ne,4\n');
    const stopAt = text.indexOf('e,4');
    const first = await validateCsv(chunks(text, 4), NAME_QTY, {
      stopWhen: (read) => read >= stopAt,
    });
    // The run stopped after the spanning record, so the next run does not read it again.
    expect(first.checkpoint!.offset).toBeGreaterThan(text.indexOf('c,2'));
    expect(first.recordSpansLines).toBe(true);
    const resume = JSON.parse(JSON.stringify(first.checkpoint));
    const second = await validateCsv(chunks(text.subarray(resume.offset), 4), NAME_QTY, { resume });
    expect(second.recordSpansLines).toBe(true);
    // A checkpoint of an earlier release has no such field: read as true, the safe reading.
    const { recordSpansLines: _, ...older } = resume;
    const third = await validateCsv(chunks(text.subarray(resume.offset), 4), NAME_QTY, { resume: older });
    expect(third.recordSpansLines).toBe(true);
  });

  it('a checkpoint taken before any spanning record stays false after it', async () => {
    const text = Buffer.from('name,qty\na,1\nc,2\nd,3\n');
    const stopAt = text.indexOf('c,2');
    const first = await validateCsv(chunks(text, 4), NAME_QTY, {
      stopWhen: (read) => read >= stopAt,
    });
    const resume = JSON.parse(JSON.stringify(first.checkpoint));
    const second = await validateCsv(chunks(text.subarray(resume.offset), 4), NAME_QTY, { resume });
    expect(second.recordSpansLines).toBe(false);
  });
});
