/** Reads a handler's environment once, checked, so a misconfigured function fails on its first cold start. */

/**
 * The values of the named environment variables, keyed like `names` (e.g. `readEnv(ENV.validate)`).
 * An unset or empty variable is missing; one error names every missing variable, so a deploy
 * mistake is fixed in one round instead of one variable per cold start.
 */
export function readEnv<const T extends Readonly<Record<string, string>>>(
  names: T,
  env: NodeJS.ProcessEnv = process.env,
): { readonly [K in keyof T]: string } {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, name] of Object.entries(names)) {
    const value = env[name];
    if (value === undefined || value === '') missing.push(name);
    else values[key] = value;
  }
  if (missing.length > 0) {
    throw new Error(`missing environment variables: ${missing.join(', ')}`);
  }
  return values as { readonly [K in keyof T]: string };
}
