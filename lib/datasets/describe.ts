/**
 * A dataset's rules in words, one sentence each, for people reading them (the console's dataset
 * page). The value rules' sentences are the validator's own (`describeRule`), so what the page
 * says is what an error message will say.
 */

import { latestViewName } from '../iceberg/layout.ts';
import { headerOf } from './derive.ts';
import type { Column, Dataset } from './model.ts';
import { describeRule, type ValueRule } from './values.ts';

/** The value rules a column's values are checked against, in the order the validator checks them. */
export function columnValueRules(col: Column): ValueRule[] {
  const rules: ValueRule[] = [];
  if (!col.nullable) rules.push('not_null');
  rules.push('type');
  if (['int', 'bigint', 'double', 'timestamp'].includes(col.type)) rules.push('range');
  if (col.type === 'date' || col.type === 'timestamp') rules.push('calendar_date');
  if (col.type === 'decimal') rules.push('decimal_scale', 'decimal_precision');
  if (col.enum !== undefined) rules.push('enum');
  if (col.pattern !== undefined) rules.push('pattern');
  if (col.maxLength !== undefined) rules.push('max_length');
  if (col.min !== undefined) rules.push('min');
  if (col.max !== undefined) rules.push('max');
  return rules;
}

/** Every rule a value of the column must meet, one sentence each. */
export function describeColumn(col: Column): string[] {
  const sentences = columnValueRules(col).map((rule) => {
    if (rule === 'not_null') return 'Required: an empty field is refused.';
    // The type's sentence says what is expected; the others say what is refused.
    if (rule === 'type') return `${capitalize(describeRule(col, rule))}.`;
    return `Refused when ${describeRule(col, rule)}.`;
  });
  if (col.nullable) sentences.push('May be empty (an unquoted empty field is null).');
  if (col.optional) sentences.push("May be absent from a file's header: its rows get null.");
  if (col.retired) sentences.push('Retired: files no longer carry it; older rows keep their values.');
  return sentences;
}

/** The file-level rules of a dataset: dialect, header, extra columns, key, compression. */
export function fileRules(ds: Dataset): string[] {
  const { delimiter, quote } = ds.dialect;
  const live = ds.columns.filter((col) => !col.retired);
  const required = live.filter((col) => !col.optional);
  const rules = [
    `Fields are separated by ${JSON.stringify(delimiter)} and quoted with ${JSON.stringify(quote)} (a quote inside a quoted value is doubled).`,
    `The first line is a header naming each column by its header text, name or an alias, in any order: ${required.length} required (${required.map((col) => JSON.stringify(headerOf(col))).join(', ')}).`,
    ds.extraColumns === 'reject'
      ? 'A header cell that names no column rejects the file.'
      : 'A header cell that names no column is ignored (unless it looks like a misspelt column).',
    'Every record has as many fields as the header; line endings are one kind throughout (LF or CRLF).',
    'The file is plain UTF-8 CSV (.csv) or gzip-compressed (.csv.gz).',
  ];
  if (ds.key !== undefined)
    rules.push(
      `Rows are identified by ${ds.key.join(', ')}: the ${latestViewName(ds.name)} view keeps the newest row per key.`,
    );
  return rules;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
