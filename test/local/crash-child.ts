/**
 * The process the crash tests kill: it runs the local lake over a lake folder, lands one file, and
 * kills itself with SIGKILL (no cleanup, no handler runs: as kill -9 or a power cut) at one step of
 * the workflow. It exits 3 when the step was never reached, so a test cannot pass without a crash.
 *
 * Usage: node --import tsx test/local/crash-child.ts '<CrashSpec as JSON>'
 */
import { readFile } from 'node:fs/promises';
import type { LocalFaults } from '../../lib/local/runtime.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import type { AslDefinition } from '../../lib/local/workflow.ts';

/** Where to die: around a Task state, or at the n-th S3 request of a kind (counted from 1). */
export type CrashPoint =
  | { readonly task: string; readonly phase: 'before' | 'after' }
  | { readonly s3: string; readonly nth: number };

/** What the child does. */
export interface CrashSpec {
  readonly lake: string;
  /** A JSON file holding the synthesized definition (synthesized once by the test). */
  readonly definitionFile: string;
  readonly key: string;
  readonly file: string;
  readonly at: CrashPoint;
}

const spec = JSON.parse(process.argv[2] ?? '') as CrashSpec;
const die = (): undefined => {
  process.kill(process.pid, 'SIGKILL');
  return undefined;
};
const requests = new Map<string, number>();
const at = spec.at;
const faults: LocalFaults = {
  tasks: (state, _attempt, phase) =>
    'task' in at && state === at.task && phase === at.phase ? die() : undefined,
  s3: (command) => {
    if (!('s3' in at) || command !== at.s3) return undefined;
    const n = (requests.get(command) ?? 0) + 1;
    requests.set(command, n);
    return n === at.nth ? die() : undefined;
  },
};
const definition = JSON.parse(await readFile(spec.definitionFile, 'utf8')) as AslDefinition;
const runtime = await LocalRuntime.start({ lakeDir: spec.lake, definition, faults });
const record = await runtime.land(spec.key, await readFile(spec.file));
process.stdout.write(`crash point never reached: ${record.status} ${record.states.join(' → ')}\n`);
await runtime.close();
process.exit(3);
