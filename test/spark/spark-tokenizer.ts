/**
 * Spark's CSV tokenizer from TypeScript: the Glue script's reader options, and univocity driven
 * with them by `SparkCsvHarness.java` (univocity-parsers 2.9.1, set up as Spark 3.5's
 * `CSVOptions.asParserSettings` does). One JVM reads every file of a test; see the harness for the
 * Spark sources it follows.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GlueJobArguments } from '../../lambdas/shared/contract.ts';

/** Where Debian's libunivocity-parsers-java puts the jar. */
export const UNIVOCITY_JAR = '/usr/share/java/univocity-parsers.jar';
const HARNESS = fileURLToPath(new URL('./SparkCsvHarness.java', import.meta.url));
const GLUE_SCRIPTS = fileURLToPath(new URL('../../glue-scripts/', import.meta.url));

/** Spark reader options, as `reader_options(...)` in the Glue script returns them. */
export type ReaderOptions = Record<string, string>;

/** A record as Spark's reader returns it: null where Spark makes NULL. */
export type SparkRecord = (string | null)[];

/** One file for the harness: its bytes, the reader options and univocity's input buffer size. */
export interface SparkJob {
  readonly bytes: Uint8Array;
  readonly options: ReaderOptions;
  /** univocity's `inputBufferSize` (Spark's option of that name); 0 leaves univocity's default. */
  readonly bufferSize: number;
}

/** What Spark read: every record (the header first), or the error the read failed with. */
export type SparkReading = { readonly records: SparkRecord[] } | { readonly error: string };

/**
 * The machine's java and the univocity jar; throws naming the Debian packages when one is missing:
 * `npm test` must fail, never skip, when the comparison cannot run.
 */
export function requireJava(
  where: { readonly javas?: readonly string[]; readonly jar?: string } = {},
): string {
  const { javas = ['java', '/usr/bin/java'], jar = UNIVOCITY_JAR } = where;
  const java = javas.find((j) => spawnSync(j, ['-version']).status === 0);
  const missing = [
    java ? undefined : 'a JDK (Debian: default-jdk-headless)',
    existsSync(jar) ? undefined : `${jar} (Debian: libunivocity-parsers-java)`,
  ].filter((m) => m !== undefined);
  if (missing.length > 0)
    throw new Error(
      `Spark's CSV tokenizer cannot run here: missing ${missing.join(' and ')}; install with apt-get install libunivocity-parsers-java default-jdk-headless (.ci/run does)`,
    );
  return java!;
}

/** The machine's python3; throws naming the Debian package when there is none. */
export function requirePython(): string {
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python)
    throw new Error(
      'no python3 on this machine, so the Glue script cannot give its reader options (Debian: apt-get install python3)',
    );
  return python;
}

/**
 * The Spark reader options the Glue script derives from each set of job arguments: the arguments
 * go through its `parse_args` (with a resolver that behaves as Glue's getResolvedOptions) and the
 * result through `read_whole` (for a plain, not gzip, file) and `reader_options`, so the test reads
 * files with exactly what the job would use.
 */
export function glueReaderOptions(argumentSets: readonly GlueJobArguments[]): ReaderOptions[] {
  const program = [
    'import json, sys, csv_to_parquet as j',
    'def resolve(argv, names):',
    '    given = dict(zip(argv[1::2], argv[2::2]))',
    '    return {n.replace("-", "_"): given["--" + n] for n in names}',
    'out = []',
    'for args in json.load(sys.stdin):',
    '    argv = ["csv_to_parquet.py"] + [x for kv in args.items() for x in kv]',
    '    a = j.parse_args(argv, resolve)',
    '    out.append(j.reader_options(a.delimiter, a.quote, j.read_whole(a.multiline, False)))',
    'print(json.dumps(out))',
  ].join('\n');
  return runGlueScript(program, argumentSets);
}

/**
 * `reader_options(delimiter, quote)` of the Glue script called directly, for dialects its
 * `parse_args` refuses: what Spark would be given were they let through.
 */
export function scriptReaderOptions(
  dialects: readonly { delimiter: string; quote: string }[],
): ReaderOptions[] {
  const program = [
    'import json, sys, csv_to_parquet as j',
    'print(json.dumps([j.reader_options(d["delimiter"], d["quote"]) for d in json.load(sys.stdin)]))',
  ].join('\n');
  return runGlueScript(program, dialects);
}

/** Runs `program` with python3 beside the Glue script, `input` as JSON on stdin; its JSON output. */
function runGlueScript(program: string, input: unknown): ReaderOptions[] {
  const output = execFileSync(requirePython(), ['-c', program], {
    cwd: GLUE_SCRIPTS,
    input: JSON.stringify(input),
  });
  return JSON.parse(output.toString()) as ReaderOptions[];
}

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

/** Reads every job's file with Spark's tokenizer, in one JVM. */
export async function readWithSpark(jobs: readonly SparkJob[]): Promise<SparkReading[]> {
  const java = requireJava();
  const dir = await mkdtemp(join(os.tmpdir(), 'spark-tokenizer-'));
  try {
    const dialects = new Map<string, number>();
    // A file read at several buffer sizes is written once.
    const files = new Map<Uint8Array, string>();
    const lines: string[] = [];
    for (const [index, job] of jobs.entries()) {
      const key = JSON.stringify(job.options);
      let dialect = dialects.get(key);
      if (dialect === undefined) {
        dialect = dialects.size;
        dialects.set(key, dialect);
        for (const [name, value] of Object.entries(job.options))
          lines.push(`O\t${dialect}\t${hex(name)}\t${hex(value)}`);
      }
      let path = files.get(job.bytes);
      if (path === undefined) {
        path = join(dir, `${files.size}.csv`);
        files.set(job.bytes, path);
        await writeFile(path, job.bytes);
      }
      lines.push(`J\t${index}\t${dialect}\t${job.bufferSize}\t${hex(path)}`);
    }
    const manifest = join(dir, 'manifest.txt');
    await writeFile(manifest, `${lines.join('\n')}\n`);
    // C1 only and the serial collector: the JVM starts and warms up about twice as fast for a
    // run of many small files (measured here: 2.7 s against 6.6 s for 2,000 files).
    const flags = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
    const run = spawnSync(java, [...flags, '-cp', UNIVOCITY_JAR, HARNESS, manifest], {
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`the Spark tokenizer harness failed: ${run.stderr}`);
    const readings: SparkReading[] = [];
    for (const line of run.stdout.split('\n')) {
      if (line === '') continue;
      const [index, payload, message] = line.split('\t');
      readings[Number(index)] =
        payload === 'ERROR' ? { error: message ?? '' } : { records: JSON.parse(payload!) as SparkRecord[] };
    }
    const answered: (SparkReading | undefined)[] = Array.from({ length: jobs.length }, (_, i) => readings[i]);
    if (readings.length !== jobs.length || answered.includes(undefined))
      throw new Error(`the harness answered ${readings.length} of ${jobs.length} jobs: ${run.stderr}`);
    return answered as SparkReading[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
