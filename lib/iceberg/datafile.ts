/**
 * The committer's check of a data file before it enters the table: its Parquet footer, read with
 * ranged reads, must carry a known field id on every column with a type compatible with the
 * field's Iceberg type, hold every required field, and count the rows the validator counted. A
 * file WITHOUT field ids is refused: DuckDB's by-id read would return it as all NULLs, silently.
 */
import { parquetMetadataAsync } from 'hyparquet';
import type { SchemaElement } from 'hyparquet/src/types.js';
import type { ObjectStore } from './ports.ts';
import type { IcebergField, IcebergSchema } from './schema.ts';
import type { DataFileSpec } from './table.ts';

/** A data file the table must not take, with what is wrong. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
}

function describe(el: SchemaElement): string {
  const logical = el.logical_type ? ` ${JSON.stringify(el.logical_type)}` : '';
  const converted = el.converted_type ? ` (${el.converted_type})` : '';
  return `${el.type ?? 'group'}${logical}${converted}`;
}

/** Why a Parquet column cannot hold an Iceberg type; undefined when it can (spec, Appendix A). */
export function typeMismatch(el: SchemaElement, type: string): string | undefined {
  const lt = el.logical_type;
  const ct = el.converted_type;
  const plainInt = (bits: 32 | 64) =>
    (!lt || (lt.type === 'INTEGER' && lt.bitWidth === bits && lt.isSigned)) &&
    (!ct || ct === (bits === 32 ? 'INT_32' : 'INT_64'));
  const ok = (() => {
    const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
    if (decimal) {
      const [p, s] = [Number(decimal[1]), Number(decimal[2])];
      const fp = lt?.type === 'DECIMAL' ? lt.precision : el.precision;
      const fs = lt?.type === 'DECIMAL' ? lt.scale : el.scale;
      const isDecimal = lt?.type === 'DECIMAL' || ct === 'DECIMAL';
      const physical = ['INT32', 'INT64', 'FIXED_LEN_BYTE_ARRAY', 'BYTE_ARRAY'].includes(el.type ?? '');
      // Promotion widens precision at the same scale: a file may hold a narrower decimal.
      return isDecimal && physical && fs === s && fp !== undefined && fp <= p;
    }
    switch (type) {
      case 'boolean':
        return el.type === 'BOOLEAN';
      case 'int':
        return el.type === 'INT32' && plainInt(32);
      case 'long':
        // int → long is a valid promotion: older files may hold INT32.
        return (el.type === 'INT64' && plainInt(64)) || (el.type === 'INT32' && plainInt(32));
      case 'float':
        return el.type === 'FLOAT';
      case 'double':
        return el.type === 'DOUBLE' || el.type === 'FLOAT';
      case 'date':
        return el.type === 'INT32' && (lt?.type === 'DATE' || ct === 'DATE');
      case 'timestamptz':
      case 'timestamp': {
        const utc = type === 'timestamptz';
        if (el.type !== 'INT64') return false;
        if (lt?.type === 'TIMESTAMP') return lt.unit === 'MICROS' && lt.isAdjustedToUTC === utc;
        return utc && ct === 'TIMESTAMP_MICROS';
      }
      case 'string':
        return el.type === 'BYTE_ARRAY' && (lt?.type === 'STRING' || ct === 'UTF8');
      case 'binary':
        return el.type === 'BYTE_ARRAY' && !lt && !ct;
      default:
        return false;
    }
  })();
  return ok ? undefined : `holds ${describe(el)}, not compatible with Iceberg type ${type}`;
}

/**
 * Checks a data file against the table schema and the engine's counts; throws
 * {@link DataFileError} naming the file and every problem found.
 */
export async function checkDataFile(
  store: ObjectStore,
  file: DataFileSpec,
  schema: IcebergSchema,
): Promise<void> {
  const size = await store.size(file.path);
  if (size === undefined) throw new DataFileError(`data file ${file.path} does not exist`);
  const problems: string[] = [];
  if (size !== file.bytes)
    problems.push(`its size is ${size} bytes, not ${file.bytes} as the commit request says`);
  let meta: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    meta = await parquetMetadataAsync({
      byteLength: size,
      slice: async (start, end) => {
        const bytes = await store.getRange(file.path, start, end ?? size);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    });
  } catch (err) {
    throw new DataFileError(
      `data file ${file.path} is not a readable Parquet file: ${(err as Error).message}`,
    );
  }
  if (meta.num_rows !== BigInt(file.rows)) {
    problems.push(`it holds ${meta.num_rows} rows, not ${file.rows} as counted`);
  }
  const byId = new Map<number, IcebergField>(schema.fields.map((f) => [f.id, f]));
  const seen = new Set<number>();
  const [root, ...elements] = meta.schema;
  if (root?.num_children !== elements.length)
    problems.push('it has nested columns, which these tables do not have');
  for (const el of elements) {
    if (el.num_children) continue;
    if (el.field_id === undefined) {
      problems.push(`column "${el.name}" has no field id (it would read as NULL by field id)`);
      continue;
    }
    const field = byId.get(el.field_id);
    if (!field) {
      problems.push(`column "${el.name}" has field id ${el.field_id}, which the table schema does not know`);
      continue;
    }
    if (seen.has(el.field_id)) problems.push(`field id ${el.field_id} is on more than one column`);
    seen.add(el.field_id);
    const mismatch = typeMismatch(el, String(field.type));
    if (mismatch) problems.push(`column "${el.name}" (field ${field.id} "${field.name}") ${mismatch}`);
    if (field.required && el.repetition_type !== 'REQUIRED') {
      // An optional column may still hold no nulls; the spec allows reading it for a required
      // field only if it has none, so check the footer's null counts.
      const nulls = meta.row_groups.reduce((acc, rg) => {
        const chunk = rg.columns.find((c) => c.meta_data?.path_in_schema.join('.') === el.name);
        return acc + (chunk?.meta_data?.statistics?.null_count ?? 1n);
      }, 0n);
      if (nulls > 0n)
        problems.push(
          `column "${el.name}" may hold nulls, but field ${field.id} "${field.name}" is required`,
        );
    }
  }
  for (const f of schema.fields) {
    if (f.required && !seen.has(f.id)) problems.push(`required field ${f.id} "${f.name}" is missing`);
  }
  if (problems.length > 0)
    throw new DataFileError(`data file ${file.path} is refused: ${problems.join('; ')}`);
}
