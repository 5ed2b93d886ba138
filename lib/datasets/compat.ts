/**
 * The compatibility check of issue 16: each change between two forms of the declarations, with its
 * verdict. A change is compatible when every engine and every old Parquet file can follow it in
 * place: the table keeps its field ids (declaration order, lib/iceberg/schema.ts), a type only
 * widens as Iceberg promotes it, and no column becomes required. Anything else is breaking unless
 * the dataset declares a higher `version`, which lands in a new table.
 */
import { latestViewName, tableName } from '../iceberg/layout.ts';
import { type Column, type Dataset, typeLabel } from './model.ts';
import { literalInstant } from './values.ts';

/** What a change does to the tables and the files: kept in place, or refused in place. */
export type Verdict = 'compatible' | 'breaking';

/** The kinds of change the check tells apart (the README's table lists each with its rules). */
export type ChangeKind =
  | 'dataset-added'
  | 'dataset-removed'
  | 'version'
  | 'column-added'
  | 'column-removed'
  | 'column-moved'
  | 'column-renamed'
  | 'column-retired'
  | 'column-unretired'
  | 'type'
  | 'nullable'
  | 'optional'
  | 'header'
  | 'aliases'
  | 'value-rule'
  | 'description'
  | 'dialect'
  | 'extra-columns'
  | 'key';

/** One change between the previous and the next declarations of a dataset. */
export interface DeclarationChange {
  readonly dataset: string;
  /** The column, by its name in the next declaration (its previous name when it was removed). */
  readonly column?: string;
  readonly kind: ChangeKind;
  readonly verdict: Verdict;
  /** A short stable id of the rule that decided the verdict, e.g. `column-removed`. */
  readonly rule: string;
  /** One line a person acts on; a breaking one says what to do instead. */
  readonly message: string;
  /**
   * Set when the change is accepted only because the dataset raised its version: the new table's
   * version (`<name>_v<N>`). @default - an in-place change
   */
  readonly newVersion?: number;
}

/** A change before its verdict is settled: what happened, and the fix when it breaks in place. */
interface Finding {
  readonly column?: string;
  readonly kind: ChangeKind;
  readonly rule: string;
  readonly what: string;
  /** What to do instead; present exactly when the change is breaking in place. */
  readonly fix?: string;
}

/**
 * Every change from `previous` to `next` (datasets by name), in dataset-name order, then the
 * dataset's own fields, then its columns in declaration order. Empty when nothing changed.
 */
export function compareDeclarations(
  previous: ReadonlyMap<string, Dataset>,
  next: ReadonlyMap<string, Dataset>,
): DeclarationChange[] {
  const names = [...new Set([...previous.keys(), ...next.keys()])].sort();
  return names.flatMap((name) => {
    const before = previous.get(name);
    const after = next.get(name);
    if (!before) return [datasetAdded(after!)];
    if (!after) return [datasetRemoved(before)];
    return compareDataset(before, after);
  });
}

/** Whether any change is breaking. */
export function hasBreaking(changes: readonly DeclarationChange[]): boolean {
  return changes.some((c) => c.verdict === 'breaking');
}

function datasetAdded(ds: Dataset): DeclarationChange {
  return {
    dataset: ds.name,
    kind: 'dataset-added',
    verdict: 'compatible',
    rule: 'dataset-added',
    message: `new dataset: table ${tableName(ds.name, ds.version)} is created on deploy (a table of that name left by an earlier declaration is evolved to this one by the rules instead, and refused if they do not allow it)`,
  };
}

function datasetRemoved(ds: Dataset): DeclarationChange {
  return {
    dataset: ds.name,
    kind: 'dataset-removed',
    verdict: 'compatible',
    rule: 'dataset-removed',
    message: `dataset no longer declared: table ${tableName(ds.name, ds.version)} is kept with its data (never dropped), but the operator policy and the local query no longer name it, and new files for it are refused`,
  };
}

function compareDataset(before: Dataset, after: Dataset): DeclarationChange[] {
  const findings = [...datasetFindings(before, after), ...columnFindings(before, after)];
  const raised = after.version > before.version;
  const changes: DeclarationChange[] = [];
  if (raised) {
    changes.push({
      dataset: after.name,
      kind: 'version',
      verdict: 'compatible',
      rule: 'version-raised',
      message: `version ${before.version} → ${after.version}: files land in the new table ${tableName(after.name, after.version)}; ${tableName(after.name, before.version)} keeps its schema and data and stays queryable`,
    });
  } else if (after.version < before.version) {
    changes.push({
      dataset: after.name,
      kind: 'version',
      verdict: 'breaking',
      rule: 'version-lowered',
      message: `version ${before.version} → ${after.version}: a version never goes back (table ${tableName(after.name, after.version)} holds data of an older declaration): declare "version": ${before.version + 1} for a new table`,
    });
  }
  for (const f of findings) {
    const base = {
      dataset: after.name,
      ...(f.column === undefined ? {} : { column: f.column }),
      kind: f.kind,
    };
    if (raised) {
      // The new table starts from this declaration: every change is its first schema.
      changes.push({
        ...base,
        verdict: 'compatible',
        rule: f.rule,
        message: `new version (table ${tableName(after.name, after.version)}): ${f.what}`,
        newVersion: after.version,
      });
    } else {
      changes.push({
        ...base,
        verdict: f.fix === undefined ? 'compatible' : 'breaking',
        rule: f.rule,
        message: f.fix === undefined ? f.what : `${f.what}: ${f.fix}`,
      });
    }
  }
  return changes;
}

/** The fix every breaking change can take: a new table. */
function newVersion(ds: Dataset): string {
  return `declare "version": ${ds.version + 1} (a new table ${tableName(ds.name, ds.version + 1)}; ${tableName(ds.name, ds.version)} stays queryable)`;
}

const quote = (text: string) => JSON.stringify(text);
const quoteAll = (texts: readonly string[]) => texts.map(quote).join(', ');

/** Changes of the dataset's own fields: all govern new files or the view, never the table's data. */
function datasetFindings(before: Dataset, after: Dataset): Finding[] {
  const found: Finding[] = [];
  if ((before.description ?? '') !== (after.description ?? ''))
    found.push({ kind: 'description', rule: 'description-changed', what: 'description changed' });
  for (const part of ['delimiter', 'quote'] as const) {
    const [was, now] = [before.dialect[part], after.dialect[part]];
    if (was !== now)
      found.push({
        kind: 'dialect',
        rule: 'dialect-changed',
        what: `${part} ${quote(was)} → ${quote(now)}: new files are read with ${quote(now)}; a file still written with ${quote(was)} is rejected`,
      });
  }
  if (before.extraColumns !== after.extraColumns)
    found.push({
      kind: 'extra-columns',
      rule: 'extra-columns-changed',
      what:
        after.extraColumns === 'ignore'
          ? 'extraColumns reject → ignore: a header cell naming no column (or a retired one) is now dropped, not rejected'
          : 'extraColumns ignore → reject: new files with a header cell naming no column (or a retired one) are rejected',
    });
  const [wasKey, nowKey] = [before.key ?? [], after.key ?? []];
  if (wasKey.join(',') !== nowKey.join(',')) {
    const view = latestViewName(after.name);
    found.push({
      kind: 'key',
      rule: 'key-changed',
      what:
        nowKey.length === 0
          ? `key (${wasKey.join(', ')}) dropped: view ${view} is no longer defined`
          : `key ${wasKey.length === 0 ? 'declared' : `(${wasKey.join(', ')}) →`} (${nowKey.join(', ')}): view ${view} keeps the newest row per (${nowKey.join(', ')})`,
    });
  }
  return found;
}

/**
 * Changes of the columns. A column of the next declaration is the previous column of its name, or
 * of its `previousName` (a rename). Field ids follow declaration order, so the table keeps its
 * ids only when every previous column keeps its position and new ones come after them all.
 */
function columnFindings(before: Dataset, after: Dataset): Finding[] {
  const was = before.columns;
  const now = after.columns;
  const previousIndex = new Map(was.map((c, i) => [c.name, i]));
  const nowNames = new Set(now.map((c) => c.name));
  // match[j]: the index in `was` of the next column j, when it is one of them.
  const match = now.map((col) => {
    const byName = previousIndex.get(col.name);
    if (byName !== undefined) return byName;
    if (col.previousName !== undefined && !nowNames.has(col.previousName))
      return previousIndex.get(col.previousName);
    return undefined;
  });
  const matchedPrevious = new Set(match.filter((i) => i !== undefined));
  const lastKept = Math.max(-1, ...match.map((i, j) => (i === undefined ? -1 : j)));
  const inOrder = longestIncreasing(match);
  const findings: { at: number; finding: Finding }[] = [];
  const at = (position: number, finding: Finding) => findings.push({ at: position, finding });

  // A previous column that no next one continues: removed, or (its position taken by a column
  // that continues none) renamed without saying so.
  const replaced = new Set<number>();
  was.forEach((col, i) => {
    if (matchedPrevious.has(i)) return;
    const successor = now[i];
    if (successor && match[i] === undefined) {
      replaced.add(i);
      const claimed = successor.previousName;
      at(i, {
        column: successor.name,
        kind: 'column-renamed',
        rule: claimed === undefined ? 'rename-without-previous-name' : 'previous-name-mismatch',
        what:
          claimed === undefined
            ? `column ${quote(col.name)} is gone and ${quote(successor.name)} takes its position (field id ${i + 2})`
            : `${quote(successor.name)} declares "previousName": ${quote(claimed)}, but the column at its position was ${quote(col.name)}`,
        fix: `to rename it, declare "previousName": ${quote(col.name)} on ${quote(successor.name)}; to drop ${quote(col.name)}, keep it declared with "retired": true and add ${quote(successor.name)} at the end; or ${newVersion(after)}`,
      });
      return;
    }
    at(i, {
      column: col.name,
      kind: 'column-removed',
      rule: 'column-removed',
      what: col.retired
        ? `retired column ${quote(col.name)} is no longer declared (its field id ${i + 2} and data stay in the table)`
        : `column ${quote(col.name)} removed`,
      fix: col.retired
        ? `keep it declared, retired; or ${newVersion(after)}`
        : `retire it ("retired": true): it stays in the table and old data, new rows get null; or ${newVersion(after)}`,
    });
  });

  now.forEach((col, j) => {
    const i = match[j];
    if (i === undefined) {
      if (replaced.has(j)) return;
      at(j, added(col, j, j > lastKept, after));
      return;
    }
    if (!inOrder.has(j))
      at(j, {
        column: col.name,
        kind: 'column-moved',
        rule: 'column-moved',
        what: `column ${quote(col.name)} moved from position ${i + 1} to ${j + 1} (field ids follow declaration order)`,
        fix: `keep it at position ${i + 1} and declare new columns at the end; or ${newVersion(after)}`,
      });
    for (const finding of compareColumn(was[i]!, col, after)) at(j, finding);
  });
  return findings.sort((a, b) => a.at - b.at).map((f) => f.finding);
}

/** A new column: appended after every kept one, or inserted before one (which shifts field ids). */
function added(col: Column, j: number, appended: boolean, ds: Dataset): Finding {
  const name = quote(col.name);
  if (col.previousName !== undefined)
    return {
      column: col.name,
      kind: 'column-added',
      rule: 'previous-name-unknown',
      what: `${name} declares "previousName": ${quote(col.previousName)}, which names no column of the previous declaration`,
      fix: `drop "previousName" (a new column) or name the column it continues; or ${newVersion(ds)}`,
    };
  if (!appended)
    return {
      column: col.name,
      kind: 'column-added',
      rule: 'column-inserted',
      what: `new column ${name} declared at position ${j + 1}, before existing columns (field ids follow declaration order)`,
      fix: `declare it after the last column; or ${newVersion(ds)}`,
    };
  if (!col.nullable && !col.retired)
    return {
      column: col.name,
      kind: 'column-added',
      rule: 'column-added-required',
      what: `new column ${name} is nullable: false, but the rows already in the table have no value for it`,
      fix: `declare it nullable (with "optional": true if older files lack it); or ${newVersion(ds)}`,
    };
  const reading = col.retired
    ? 'declared retired: never read from files, null in every row'
    : col.optional
      ? 'optional: files without its header get null'
      : `files must carry its header ${quote(col.header ?? col.name)} (declare "optional": true to accept files without it)`;
  return {
    column: col.name,
    kind: 'column-added',
    rule: 'column-appended',
    what: `new column ${name} (${typeLabel(col)}, field id ${j + 2}): rows already in the table read null; ${reading}`,
  };
}

/**
 * The positions (in `match`) of a longest run of matched columns whose previous positions
 * increase: the columns that kept their relative order; the rest moved. Among runs of that length
 * the one with the most columns at their own rank wins, so a column left in place is never the one
 * named as moved (in `c, b, a` from `a, b, c`, `c` and `a` moved, not `b`).
 */
function longestIncreasing(match: readonly (number | undefined)[]): Set<number> {
  const positions = match.flatMap((i, j) => (i === undefined ? [] : [j]));
  const rankBefore = new Map(
    [...positions].sort((a, b) => match[a]! - match[b]!).map((j, rank) => [j, rank]),
  );
  const stayed = positions.map((j, rank) => (rankBefore.get(j) === rank ? 1 : 0));
  // Length first, then columns in place: length × (n + 1) + in place. O(n²) is plenty: a dataset
  // has at most 10,000 columns and usually a few dozen.
  const weight = positions.length + 1;
  const score = positions.map((_, b) => weight + stayed[b]!);
  const back = positions.map(() => -1);
  for (let b = 0; b < positions.length; b++)
    for (let a = 0; a < b; a++)
      if (match[positions[a]!]! < match[positions[b]!]! && score[a]! + weight + stayed[b]! > score[b]!) {
        score[b] = score[a]! + weight + stayed[b]!;
        back[b] = a;
      }
  let end = score.indexOf(Math.max(0, ...score));
  const kept = new Set<number>();
  for (; end !== -1; end = back[end]!) kept.add(positions[end]!);
  return kept;
}

/** The changes of one column that keeps its field id (the same column, maybe renamed). */
function compareColumn(was: Column, now: Column, ds: Dataset): Finding[] {
  const found: Finding[] = [];
  const column = now.name;
  const push = (f: Omit<Finding, 'column'>) => found.push({ column, ...f });
  if (was.name !== now.name)
    push({
      kind: 'column-renamed',
      rule: 'column-renamed',
      what: `renamed from ${quote(was.name)} (the field id stays)`,
    });
  const typeFinding = compareType(was, now, ds);
  if (typeFinding) push(typeFinding);
  if (was.nullable && !now.nullable)
    push({
      kind: 'nullable',
      rule: 'nullable-tightened',
      what: 'nullable: true → false, but rows already in the table may hold null',
      fix: `keep it nullable (a file's empty values are then accepted); or ${newVersion(ds)}`,
    });
  else if (!was.nullable && now.nullable)
    push({
      kind: 'nullable',
      rule: 'nullable-relaxed',
      what: 'nullable: false → true: new files may leave it empty',
    });
  if (!was.retired && now.retired)
    push({
      kind: 'column-retired',
      rule: 'column-retired',
      what: `retired: kept in the table and old data, null in new rows; ${
        ds.extraColumns === 'ignore'
          ? 'a file that still carries it has it ignored'
          : 'a file that still carries it is rejected (retired_column; "extraColumns": "ignore" drops it instead)'
      }`,
    });
  else if (was.retired && !now.retired) {
    if (!now.nullable)
      push({
        kind: 'column-unretired',
        rule: 'column-unretired-required',
        what: 'no longer retired, and nullable: false, but the rows landed while it was retired hold null',
        fix: `declare it nullable; or ${newVersion(ds)}`,
      });
    else
      push({
        kind: 'column-unretired',
        rule: 'column-unretired',
        what: `no longer retired: files carry it again${now.optional ? ' (optional)' : ''}; rows landed while it was retired stay null`,
      });
  }
  if (was.optional !== now.optional && !now.retired)
    push({
      kind: 'optional',
      rule: 'optional-changed',
      what: now.optional
        ? 'optional: files without its header are accepted (null)'
        : `no longer optional: new files without its header ${quote(now.header ?? now.name)} are rejected`,
    });
  found.push(...headerFindings(was, now));
  found.push(...valueRuleFindings(was, now));
  if ((was.description ?? '') !== (now.description ?? ''))
    push({ kind: 'description', rule: 'description-changed', what: 'description changed' });
  return found;
}

/** Type changes: only Iceberg's promotions that this lake allows are compatible. */
function compareType(was: Column, now: Column, ds: Dataset): Omit<Finding, 'column'> | undefined {
  const [from, to] = [typeLabel(was), typeLabel(now)];
  if (from === to) return undefined;
  const change = `type ${from} → ${to}`;
  if (was.type === 'int' && now.type === 'bigint')
    return { kind: 'type', rule: 'type-widened', what: `${change}: Iceberg promotes int to long in place` };
  if (was.type === 'decimal' && now.type === 'decimal') {
    if (was.scale !== now.scale)
      return {
        kind: 'type',
        rule: 'decimal-scale-changed',
        what: `${change}: a changed scale changes the meaning of every stored value`,
        fix: `keep scale ${was.scale}; or ${newVersion(ds)}`,
      };
    if (now.precision! > was.precision!)
      return {
        kind: 'type',
        rule: 'decimal-widened',
        what: `${change}: Iceberg widens a decimal's precision in place (same scale)`,
      };
    return {
      kind: 'type',
      rule: 'type-narrowed',
      what: `${change}: a lower precision may not hold the values already stored`,
      fix: `keep precision ${was.precision}; or ${newVersion(ds)}`,
    };
  }
  if (was.type === 'bigint' && now.type === 'int')
    return {
      kind: 'type',
      rule: 'type-narrowed',
      what: `${change}: 32 bits may not hold the values already stored`,
      fix: `keep bigint; or ${newVersion(ds)}`,
    };
  return {
    kind: 'type',
    rule: 'type-changed',
    what: `${change}: Iceberg changes a type in place only from int to bigint and from decimal(p,s) to decimal(p',s) with p' > p`,
    fix: newVersion(ds),
  };
}

/** The header texts a file may name the column by: its header (or name), then its aliases. */
function headerTexts(col: Column): string[] {
  return [col.header ?? col.name, ...(col.aliases ?? [])];
}

/** Header and alias changes: compatible (they govern new files); a text no longer accepted is said. */
function headerFindings(was: Column, now: Column): Finding[] {
  const found: Finding[] = [];
  const accepted = new Set(headerTexts(now));
  const lost = headerTexts(was).filter((t) => !accepted.has(t));
  const refused = (texts: readonly string[]) =>
    texts.length === 0
      ? ''
      : `; new files headed ${quoteAll(texts)} are rejected (add ${texts.length === 1 ? 'it' : 'them'} to "aliases" to accept both)`;
  const [wasHeader, nowHeader] = [was.header ?? was.name, now.header ?? now.name];
  const headerLost = lost.filter((t) => t === wasHeader);
  if (wasHeader !== nowHeader)
    found.push({
      column: now.name,
      kind: 'header',
      rule: 'header-changed',
      what: `header ${quote(wasHeader)} → ${quote(nowHeader)}${refused(headerLost)}`,
    });
  const [wasAliases, nowAliases] = [new Set(was.aliases ?? []), new Set(now.aliases ?? [])];
  const addedAliases = [...nowAliases].filter((a) => !wasAliases.has(a));
  const removedAliases = [...wasAliases].filter((a) => !nowAliases.has(a));
  if (addedAliases.length + removedAliases.length > 0) {
    const parts = [
      ...(addedAliases.length ? [`aliases added: ${quoteAll(addedAliases)}`] : []),
      ...(removedAliases.length ? [`aliases removed: ${quoteAll(removedAliases)}`] : []),
    ];
    found.push({
      column: now.name,
      kind: 'aliases',
      rule: 'aliases-changed',
      what: `${parts.join('; ')}${refused(lost.filter((t) => t !== wasHeader))}`,
    });
  }
  return found;
}

/** Value rule changes: compatible (they govern new files), each said as tightened or relaxed. */
function valueRuleFindings(was: Column, now: Column): Finding[] {
  const found: Finding[] = [];
  const push = (rule: string, what: string) =>
    found.push({ column: now.name, kind: 'value-rule', rule, what });
  const [wasEnum, nowEnum] = [was.enum, now.enum];
  if (wasEnum === undefined && nowEnum !== undefined)
    push('enum-changed', `enum declared: new files with a value outside ${quoteAll(nowEnum)} are rejected`);
  else if (wasEnum !== undefined && nowEnum === undefined)
    push('enum-changed', 'enum dropped: any value is accepted');
  else if (wasEnum !== undefined && nowEnum !== undefined) {
    const dropped = wasEnum.filter((v) => !nowEnum.includes(v));
    const allowed = nowEnum.filter((v) => !wasEnum.includes(v));
    if (dropped.length > 0)
      push('enum-changed', `enum narrowed: new files with ${quoteAll(dropped)} are rejected`);
    if (allowed.length > 0) push('enum-changed', `enum widened: ${quoteAll(allowed)} accepted`);
  }
  if (was.pattern !== now.pattern)
    push(
      'pattern-changed',
      now.pattern === undefined
        ? `pattern ${quote(was.pattern!)} dropped: any text is accepted`
        : `pattern ${was.pattern === undefined ? 'declared' : `${quote(was.pattern)} →`} ${quote(now.pattern)}: new files whose values do not match it are rejected`,
    );
  if (was.maxLength !== now.maxLength)
    push(
      'max-length-changed',
      now.maxLength === undefined
        ? `maxLength ${was.maxLength} dropped: any length is accepted`
        : was.maxLength === undefined || now.maxLength < was.maxLength
          ? `maxLength ${was.maxLength ?? 'none'} → ${now.maxLength} (tightened): new files with longer values are rejected`
          : `maxLength ${was.maxLength} → ${now.maxLength} (relaxed)`,
    );
  for (const bound of ['min', 'max'] as const) {
    const [a, b] = [was[bound], now[bound]];
    if (String(a) === String(b)) continue;
    if (b === undefined) {
      push(`${bound}-changed`, `${bound} ${a} dropped (relaxed)`);
      continue;
    }
    const order = a === undefined ? undefined : compareBound(now, a, b);
    const tightened =
      a === undefined || order === undefined ? undefined : bound === 'min' ? order < 0 : order > 0;
    const what = `${bound} ${a ?? 'none'} → ${b}`;
    push(
      `${bound}-changed`,
      a === undefined || tightened
        ? `${what} (tightened): new files with values ${bound === 'min' ? 'below' : 'above'} ${b} are rejected`
        : order === 0
          ? `${what}: the same bound, written differently`
          : tightened === false
            ? `${what} (relaxed)`
            : `${what}: new files are checked against it`,
    );
  }
  return found;
}

/** The order of two bounds of a column (negative when `a` < `b`), or undefined when unknown. */
function compareBound(col: Column, a: number | string, b: number | string): number | undefined {
  const [x, y] = [String(a), String(b)];
  switch (col.type) {
    case 'int':
    case 'bigint': {
      const [p, q] = [BigInt(x), BigInt(y)];
      return p < q ? -1 : p > q ? 1 : 0;
    }
    case 'double':
    case 'decimal':
      return Math.sign(Number(x) - Number(y));
    case 'date':
      return x < y ? -1 : x > y ? 1 : 0;
    case 'timestamp': {
      // To the microsecond, as the validator compares (Date.parse stops at the millisecond).
      const [[xMs, xMicros], [yMs, yMicros]] = [literalInstant(x), literalInstant(y)];
      return Math.sign(xMs - yMs || xMicros - yMicros);
    }
    default:
      return undefined;
  }
}
