/**
 * The rules a table's schema evolves by (issue 16), compared BY FIELD ID between the table's
 * current schema and the schema its declaration makes (`icebergSchema(ds)`). Allowed, as the
 * Iceberg spec ("Schema Evolution", "Type promotion") and every reader here can follow them:
 * a new field (optional, with an id never used by the table), a rename (same id, new name, where
 * the declaration names the old name as the column's `previousName`: a same-typed column moved,
 * replaced or removed in a declaration otherwise looks like a rename, and would relabel data),
 * required → optional, int → long, decimal(P, S) → decimal(P', S) with P' > P, and doc changes.
 * Everything else is refused with a {@link SchemaEvolutionError} that names the field, its id and
 * the rule: a field the table has that the declaration lacks (dropped, or added by hand in
 * Athena), optional → required, any other type change, an id used twice or used before.
 *
 * The promotions are proven to read right in DuckDB (read_parquet's by-id schema) and icebird
 * over files written before the change (test/unit/iceberg/evolve.test.ts), including a decimal
 * whose physical type changes (decimal(9, 2) in INT32 → decimal(20, 2) in FIXED_LEN_BYTE_ARRAY).
 */
import type { IcebergField, IcebergSchema } from './schema.ts';

/** A schema change the rules refuse: the table keeps its schema. */
export class SchemaEvolutionError extends Error {
  override readonly name = 'SchemaEvolutionError';
}

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** Whether a field of type `from` may become `to` in place (spec, "Type promotion"; equal types too). */
export function isPromotion(from: string, to: string): boolean {
  if (from.replace(/\s+/g, '') === to.replace(/\s+/g, '')) return true;
  if (from === 'int' && to === 'long') return true;
  const a = DECIMAL.exec(from);
  const b = DECIMAL.exec(to);
  // Precision only widens, the scale stays: every old value is the same number in the new type.
  return !!a && !!b && a[2] === b[2] && Number(b[1]) > Number(a[1]);
}

const field = (f: IcebergField) => `field ${f.id} "${f.name}"`;

/** Same fields, in the same order (the schema id aside). */
export function sameFields(a: IcebergSchema, b: IcebergSchema): boolean {
  const shape = (s: IcebergSchema) =>
    JSON.stringify(
      s.fields.map((f) => [f.id, f.name, f.required, String(f.type).replace(/\s+/g, ''), f.doc ?? null]),
    );
  return shape(a) === shape(b);
}

/**
 * The renames a declaration names: field id → the name it had before (`previousName`,
 * lib/iceberg/schema.ts `declaredRenames`); `'any'` allows every rename (only to ask whether one
 * schema is a later evolution of another, whose renames were declared when it was made).
 */
export type Renames = ReadonlyMap<number, string> | 'any';

/**
 * What changes from `current` to `target`, one line per change (empty when nothing does); throws
 * {@link SchemaEvolutionError} listing every change the rules refuse. `history` is every schema the
 * table ever had (its metadata's `schemas`): a new field must not take an id one of them used.
 * A field renamed is refused unless `renames` names its current name for its id.
 */
export function schemaChanges(
  current: IcebergSchema,
  target: IcebergSchema,
  history: readonly IcebergSchema[] = [current],
  renames: Renames = new Map(),
): string[] {
  const refused: string[] = [];
  const changes: string[] = [];
  const targetIds = new Map<number, IcebergField>();
  const targetNames = new Map<string, IcebergField>();
  for (const f of target.fields) {
    const twice = targetIds.get(f.id) ?? targetNames.get(f.name);
    if (twice) refused.push(`${field(f)} clashes with ${field(twice)} in the declaration (id clash)`);
    targetIds.set(f.id, f);
    targetNames.set(f.name, f);
  }
  const currentIds = new Map(current.fields.map((f) => [f.id, f]));
  for (const now of current.fields) {
    const next = targetIds.get(now.id);
    if (!next) {
      refused.push(
        `${field(now)} is in the table but not in the declaration (a removed column, or one added outside the pipeline): retire a column instead of removing it, and drop a foreign field from the table by hand`,
      );
      continue;
    }
    if (next.name !== now.name) {
      if (renames === 'any' || renames.get(now.id) === now.name) {
        changes.push(`${field(now)} renamed to "${next.name}"`);
      } else {
        refused.push(
          `${field(now)} would be renamed to "${next.name}", which the declaration does not say: a rename declares "previousName": "${now.name}"; a column moved, replaced or removed is not a rename (append new columns, retire old ones, or declare a new table version)`,
        );
      }
    }
    if (now.required !== next.required) {
      if (next.required) {
        refused.push(
          `${field(next)} is optional in the table and cannot become required (old rows may hold nulls): declare the column nullable, or declare a new table version`,
        );
      } else {
        changes.push(`${field(next)} becomes optional`);
      }
    }
    const [from, to] = [String(now.type), String(next.type)];
    if (!isPromotion(from, to)) {
      refused.push(
        `${field(next)} cannot change type from ${from} to ${to} in place (allowed: int → long, decimal(P, S) → decimal(P', S) with P' > P): declare a new table version`,
      );
    } else if (from.replace(/\s+/g, '') !== to.replace(/\s+/g, '')) {
      changes.push(`${field(next)} widened from ${from} to ${to}`);
    }
    if ((now.doc ?? '') !== (next.doc ?? '')) changes.push(`${field(next)} doc changed`);
  }
  const used = new Map<number, IcebergField>();
  for (const s of history) for (const f of s.fields) if (!currentIds.has(f.id)) used.set(f.id, f);
  for (const f of target.fields) {
    if (currentIds.has(f.id)) continue;
    const before = used.get(f.id);
    if (before) {
      refused.push(
        `${field(f)} takes id ${f.id}, which an older schema of the table gave to "${before.name}" (id clash: old data files hold that field)`,
      );
      continue;
    }
    const sameName = current.fields.find((c) => c.name === f.name);
    if (sameName) {
      refused.push(`${field(f)} takes the name of the table's ${field(sameName)} (id clash)`);
      continue;
    }
    if (f.required) {
      refused.push(
        `${field(f)} is new and required, but the rows already in the table have no value for it: a new column must be nullable`,
      );
      continue;
    }
    changes.push(`${field(f)} added (${String(f.type)})`);
  }
  if (!changes.length && !sameFields(current, target)) changes.push('field order changed');
  if (refused.length > 0) {
    throw new SchemaEvolutionError(`schema change refused: ${refused.join('; ')}`);
  }
  return changes;
}

/**
 * The table property naming the schema the pipeline itself last made current (by creating the
 * table, schema 0, or by evolving it). A current schema of another id was made by someone else
 * (an `ALTER TABLE` in Athena).
 */
export const DECLARED_SCHEMA_PROPERTY = 'csvlake.declared-schema-id';

/** What the table's schema is to the declaration's: the changes to make, or `ahead` of it. */
export interface SchemaPlan {
  /** One line per change to make (empty: nothing to do). */
  readonly changes: string[];
  /**
   * The declaration's schema is one the table had before, and its current one is the pipeline's
   * own later evolution of it by the rules: a rollback (CloudFormation's, or a `local up` of older
   * declarations) asks for the schema before an evolution. The table stays as it is (files written by the older
   * declaration fit it); refusing would leave the stack unable to roll back.
   */
  readonly ahead: boolean;
}

/**
 * The plan from a table's current schema (of its metadata `schemas`, `current-schema-id` and
 * properties) to `target`: {@link schemaChanges}, or `ahead` when those refuse it but the table
 * is the pipeline's own later evolution of it; a refusal otherwise, naming the table.
 */
export function planSchema(
  table: string,
  metadata: {
    readonly schemas: readonly unknown[];
    readonly 'current-schema-id': number;
    readonly properties?: Readonly<Record<string, string>>;
  },
  target: IcebergSchema,
  renames: Renames = new Map(),
): SchemaPlan {
  const schemas = metadata.schemas as readonly IcebergSchema[];
  const current = schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!current) throw new Error(`table ${table} has no current schema ${metadata['current-schema-id']}`);
  try {
    return { changes: schemaChanges(current, target, schemas, renames), ahead: false };
  } catch (err) {
    if (!(err instanceof SchemaEvolutionError)) throw err;
    // A rollback asks for exactly a schema the table had before, which the pipeline's own current
    // one evolved from by the rules. (A column removed from a declaration on purpose looks the
    // same here when nothing else changed: the declarations' compatibility check refuses that.)
    const ours = (metadata.properties?.[DECLARED_SCHEMA_PROPERTY] ?? '0') === String(current['schema-id']);
    const before = schemas.some((s) => s['schema-id'] !== current['schema-id'] && sameFields(s, target));
    if (ours && before && isLaterSchema(current, target)) return { changes: [], ahead: true };
    throw new SchemaEvolutionError(`table ${table}: ${err.message}`);
  }
}

/** Whether `later` is an evolution of `earlier` the rules allow. */
function isLaterSchema(later: IcebergSchema, earlier: IcebergSchema): boolean {
  try {
    schemaChanges(earlier, later, [earlier], 'any');
    return true;
  } catch {
    return false;
  }
}
