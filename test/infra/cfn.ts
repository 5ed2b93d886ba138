/** Helpers for reading synthesized CloudFormation templates in the infrastructure tests. */
import type { Template } from 'aws-cdk-lib/assertions';

/** A resource of a template with its logical id. */
export type Resource = {
  id: string;
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

/** Every resource of one type, with its logical id. */
export const resourcesOf = (t: Template, type: string): Resource[] =>
  Object.entries(t.findResources(type) as Record<string, Omit<Resource, 'id'>>).map(([id, r]) => ({
    id,
    ...r,
  }));

/** The one resource of a type whose logical id starts with `prefix` (fails unless exactly one). */
export function resourceNamed(t: Template, type: string, prefix: string): Resource {
  const found = resourcesOf(t, type).filter((r) => r.id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${found.length}`);
  return found[0]!;
}

/** A stack's outputs by name, as their values (to follow a cross-stack `Fn::GetStackOutput`). */
export const outputsOf = (t: Template): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries((t.toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>).map(([name, o]) => [
      name,
      o.Value,
    ]),
  );

/**
 * A CloudFormation value as readable text: `{Ref: X}` → `<X>`, `Fn::GetAtt` → `<X.Attr>`,
 * `Fn::Join` joined, `Fn::Sub` as written, a cross-stack output → `<output:Name>`, or, when the
 * producing stack's `outputs` are given, the output's own value rendered (so the storage key
 * referenced from the pipeline stack reads `<BucketsKey….Arn>` in both templates).
 */
export function render(value: unknown, outputs?: Record<string, unknown>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  const v = value as Record<string, unknown>;
  if ('Ref' in v) return `<${v.Ref as string}>`;
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Sub' in v) return (v['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, '<$1>');
  if ('Fn::GetStackOutput' in v) {
    const name = (v['Fn::GetStackOutput'] as { OutputName: string }).OutputName;
    if (outputs === undefined) return `<output:${name}>`;
    if (!(name in outputs)) throw new Error(`no output ${name} in the producing stack`);
    return render(outputs[name], outputs);
  }
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(p, outputs)).join(sep);
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** `value` or `[value]`; `[]` for undefined. */
export const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
