/** Keeps one notice of the AWS SDK off the CLI's output. */

/**
 * The AWS SDK v3 warns on every start under Node 20 that its releases from 2027 need Node 22. The
 * project pins its SDK version and supports Node ≥ 20, so for a user of the CLI it is noise; every
 * other warning still shows.
 */
export function quietSdkNodeVersionWarning(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('NodeVersionSupportWarning')) return;
    (emit as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
