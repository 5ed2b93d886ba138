/**
 * The synthesized state machine definition as plain ASL: CloudFormation's `DefinitionString`
 * (an `Fn::Join` of text and references) with every reference replaced by a value the caller
 * chooses. The ASL lint test and the local runtime both execute exactly what CDK synthesized.
 */

/** A CloudFormation intrinsic inside a template (Ref, Fn::GetAtt, Fn::ImportValue, …). */
export type Intrinsic = Record<string, unknown>;

/** Renders an intrinsic as text; e.g. maps a function's logical id to a local ARN. */
export type ResolveReference = (ref: Intrinsic) => string;

/** Finds the single state machine's definition in a synthesized template and resolves it. */
export function definitionFromTemplate(
  template: Record<string, unknown>,
  resolve: ResolveReference,
): unknown {
  const resources = (template.Resources ?? {}) as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the template, found ${machines.length}`);
  return JSON.parse(renderString(machines[0]!.Properties?.DefinitionString, resolve));
}

function renderString(value: unknown, resolve: ResolveReference): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const join = (value as Intrinsic)['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map((p) => renderString(p, resolve)).join(separator);
    }
    return resolve(value as Intrinsic);
  }
  throw new Error(`unexpected definition part: ${JSON.stringify(value)}`);
}

/**
 * The logical id, export or output name an intrinsic points at, for building substitutes:
 * `Ref` and `Fn::GetAtt` give the logical id, a cross-stack reference its output name.
 */
export function referenceName(ref: Intrinsic): string {
  if (typeof ref.Ref === 'string') return ref.Ref;
  const getAtt = ref['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  const importValue = ref['Fn::ImportValue'];
  if (typeof importValue === 'string') return importValue;
  const stackOutput = ref['Fn::GetStackOutput'] as { OutputName?: unknown } | undefined;
  if (typeof stackOutput?.OutputName === 'string') return stackOutput.OutputName;
  throw new Error(`unsupported reference in the definition: ${JSON.stringify(ref)}`);
}

/** Values for the pseudo parameters a definition may use, keyed by their `Ref` name. */
export const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
};
