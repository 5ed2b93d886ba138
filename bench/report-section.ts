/** BENCHMARKS.md is written by several scripts: each owns one `## ` section and keeps the others. */
import { readFile, writeFile } from 'node:fs/promises';

/** The report file every bench script writes to. */
export const REPORT_FILE = 'BENCHMARKS.md';

/** The `## title` section of a markdown text (heading included, up to the next `## `), or ''. */
export function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start + 1, next < 0 ? undefined : next + 1).trimEnd();
}

/** Replaces (or appends) the `## title` section of the report with `body`. */
export async function writeSection(title: string, body: string): Promise<void> {
  const old = await readFile(REPORT_FILE, 'utf8').catch(() => '# Benchmarks\n');
  const current = section(old, title);
  const fresh = `## ${title}\n\n${body.trim()}`;
  const text = current ? old.replace(current, fresh) : `${old.trimEnd()}\n\n${fresh}\n`;
  await writeFile(REPORT_FILE, text.endsWith('\n') ? text : `${text}\n`);
}
