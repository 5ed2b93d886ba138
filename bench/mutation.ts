/**
 * `npm run mutation`: mutation testing (Stryker, with its vitest runner) of the modules where a
 * silent change hurts most, group by group, each against the test files that exercise it. Writes
 * MUTATION.md: the score per module (against the baseline measured before the suite was hardened),
 * every surviving mutant with the reason it is left alive (bench/mutation-notes.ts), and fails when a
 * module scores below the target or a survivor has no reason.
 *
 * Too slow for `npm test` (about an hour for all groups on two cores). Stryker's incremental mode keeps the
 * results in reports/mutation/, so a rerun tests only the mutants whose code or tests changed; it
 * missed the kills of new test files among mutants of module-level code, so after adding tests run
 * the group with --full before trusting its survivors.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EXPLAINED, type Explanation } from './mutation-notes.ts';

const USAGE = `usage: npm run mutation -- [--group NAME[,NAME]] [--full] [--report-only] [--baseline FILE]
  --group NAME     run only these groups (values, declarations, tokenizer, lambdas, ledger, iceberg, evolution, console, conversion, constructs); the report keeps the others' last results
  --full           forget the incremental results and test every mutant again (do, after adding test files)
  --report-only    rewrite MUTATION.md from the last results without running Stryker
  --baseline FILE  write the scores to FILE (JSON) instead of MUTATION.md: the "before" column`;

/** Every module must kill at least this share of its mutants (issue 11). */
export const TARGET_SCORE = 0.85;
const REPORT = 'MUTATION.md';
const RESULTS = join('reports', 'mutation');
const BASELINE = join('bench', 'mutation-baseline.json');

interface Group {
  readonly name: string;
  readonly mutate: readonly string[];
  /** The test files run against its mutants (globs); see vitest.mutation.config.ts. */
  readonly tests: readonly string[];
  /** Test files left out of `tests`' globs: too slow under instrumentation (each says why at its top). */
  readonly exclude?: readonly string[];
  /**
   * Leave out the mutants of code run when the module loads (constants, tables): each would run
   * every test of the group. They are counted as ignored, outside the score.
   */
  readonly ignoreStatic?: boolean;
  readonly why: string;
}

/** The modules under mutation, grouped by the tests that exercise them. */
export const GROUPS: readonly Group[] = [
  {
    name: 'values',
    mutate: ['lib/datasets/values.ts'],
    tests: [
      'test/unit/value-rules.test.ts',
      'test/unit/value-rules-edges.test.ts',
      'test/unit/value-rules-messages.test.ts',
      'test/unit/value-rules-differential.test.ts',
      'test/unit/schema-model.test.ts',
      'test/unit/dialect.test.ts',
    ],
    why: 'the value rules: every verdict a user reads about a value',
  },
  {
    name: 'declarations',
    mutate: ['lib/datasets/patterns.ts', 'lib/datasets/load.ts'],
    tests: [
      'test/unit/pattern-safety.test.ts',
      'test/unit/declaration-text.test.ts',
      'test/unit/schema-model.test.ts',
    ],
    why: 'what a declaration may say: patterns that cannot hang, bounds read exactly, files read as written',
  },
  {
    name: 'tokenizer',
    mutate: ['lib/validation/csv-validator.ts'],
    // The validate core and handler, the CLI and the conformance corpus also read files through
    // the validator, but each takes seconds a run under instrumentation.
    tests: [
      'test/unit/dialect.test.ts',
      'test/unit/differential.test.ts',
      'test/unit/value-rules.test.ts',
      'test/unit/validation-resume.test.ts',
      'test/unit/tokenizer-*.test.ts',
    ],
    ignoreStatic: true,
    why: 'the tokenizer, checkpoints and resume: every line, column and structural error',
  },
  {
    name: 'lambdas',
    mutate: [
      'lambdas/trigger/core.ts',
      'lib/reconcile/reconcile.ts',
      'lib/reconcile/aws-ledger.ts',
      'lambdas/reconcile/handler.ts',
      'lambdas/validate/core.ts',
      'lambdas/commit/core.ts',
    ],
    tests: ['test/unit/**/*.test.ts'],
    why: 'execution names (the ledger), the reconciler (its core, its Step Functions ledger and its handler), and the validate and commit cores',
  },
  {
    name: 'ledger',
    mutate: [
      'lib/ledger/model.ts',
      'lib/ledger/dynamodb-reader.ts',
      'lib/aws/athena.ts',
      'lib/aws/subscribe.ts',
    ],
    tests: [
      'test/unit/ledger/*.test.ts',
      'test/unit/aws/athena.test.ts',
      'test/unit/aws/subscribe.test.ts',
      'test/local/ledger-writes.test.ts',
    ],
    // Module-level constants (attribute names, index names) are the table's shape: every test reads them.
    ignoreStatic: true,
    why: "the ledger's model and conditional-write rule, its DynamoDB reader, and the CLI's Athena and SNS adapters",
  },
  {
    name: 'iceberg',
    mutate: [
      'lib/iceberg/table.ts',
      'lib/iceberg/datafile.ts',
      'lib/iceberg/scan.ts',
      'lambdas/commit/core.ts',
    ],
    tests: ['test/unit/iceberg/*.test.ts', 'test/unit/lambdas/commit-core.test.ts'],
    // Module-level constants (summary keys, the manifest-merge threshold) are the format's shape.
    ignoreStatic: true,
    why: "the Iceberg committer: snapshots, idempotency, the compare-and-swap loop, the footer check, the scan, and the commit step's batch",
  },
  {
    name: 'evolution',
    mutate: [
      'lib/datasets/header-match.ts',
      'lib/datasets/compat.ts',
      'lib/iceberg/evolve.ts',
      'lib/datasets/latest-view.ts',
    ],
    tests: [
      'test/unit/header-match.test.ts',
      'test/unit/validation-evolution.test.ts',
      'test/unit/datasets-compat.test.ts',
      'test/unit/iceberg/evolve.test.ts',
      'test/unit/latest-view.test.ts',
    ],
    ignoreStatic: true,
    why: "the rules of change: a header's reading, the declarations' compatibility check, the table's evolution by field id, and the newest-row view",
  },
  {
    name: 'console',
    mutate: ['lib/console/api.ts', 'lib/datasets/describe.ts', 'lib/validation/reports.ts'],
    tests: [
      'test/local/console-api.test.ts',
      'test/unit/lambdas/api-handlers.test.ts',
      'test/local/console-server.test.ts',
    ],
    ignoreStatic: true,
    why: "the console API's one core (routes, parameters, paging, the offending records, the upload policy, queries), the rules in words, and the reading of a rejected file's report and errors",
  },
  {
    name: 'conversion',
    mutate: [
      'lib/conversion/plan.ts',
      'lib/conversion/glue-sizing.ts',
      'lib/conversion/lambda-sizing.ts',
      'lib/cost/model.ts',
    ],
    tests: [
      'test/unit/conversion-plan.test.ts',
      'test/unit/glue-sizing.test.ts',
      'test/unit/cost-model.test.ts',
      'test/unit/lambdas/validate-core.test.ts',
      'test/local/convert-core.test.ts',
    ],
    // Module-level figures (the cost model's inputs, its assumption texts) are most of its mutants
    // and would rerun every test each; the functions that read them are mutated and tested.
    ignoreStatic: true,
    why: "the conversion router's plan, the Glue and Lambda sizing it follows, and the cost model",
  },
  {
    name: 'constructs',
    mutate: ['lib/constructs/ingest-workflow.ts', 'lib/constructs/lake-buckets.ts'],
    tests: ['test/infra/**/*.test.ts'],
    // The bundles test runs esbuild, which Stryker's worker threads cannot spawn; it checks no construct logic.
    exclude: ['test/infra/snapshot.test.ts', 'test/infra/bundles.test.ts'],
    why: 'the state machine and the buckets as synthesized',
  },
];

type Status = 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'RuntimeError' | 'CompileError' | 'Ignored';

interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: Status;
  readonly location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface StrykerReport {
  readonly files: Record<string, { source: string; mutants: ReportMutant[] }>;
}

/** One module's counts. The score is Stryker's: (killed + timed out) / every mutant that ran or had no test. */
export interface ModuleScore {
  readonly mutants: number;
  readonly killed: number;
  readonly timeout: number;
  readonly survived: number;
  readonly noCoverage: number;
  readonly ignored: number;
  readonly errors: number;
  readonly score: number;
}

interface Survivor {
  readonly file: string;
  readonly line: number;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  readonly status: Status;
  readonly explanation: Explanation | undefined;
}

function parse() {
  const { values } = parseArgs({
    options: {
      group: { type: 'string' },
      full: { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const names = values.group?.split(',') ?? GROUPS.map((g) => g.name);
  const unknown = names.filter((n) => !GROUPS.some((g) => g.name === n));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown group "${unknown.join('", "')}" (known: ${GROUPS.map((g) => g.name).join(', ')})\n`,
    );
    process.exit(2);
  }
  return { ...values, groups: GROUPS.filter((g) => names.includes(g.name)) };
}

/** Runs Stryker on one group in a child process; resolves with its exit code. */
async function runGroup(group: Group, full: boolean): Promise<number> {
  const config = {
    $schema: '../../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'vitest.mutation.config.ts' },
    coverageAnalysis: 'perTest',
    ignoreStatic: group.ignoreStatic ?? false,
    mutate: group.mutate,
    concurrency: os.availableParallelism(),
    reporters: ['progress', 'json'],
    jsonReporter: { fileName: join(RESULTS, `${group.name}.json`) },
    incremental: !full,
    incrementalFile: join(RESULTS, `${group.name}.incremental.json`),
    // Stryker rewrites tsconfig.json through the TypeScript API, which the native TypeScript 7
    // compiler does not have; this tsconfig has no `extends` or references to rewrite anyway.
    tsconfigFile: 'tsconfig.stryker-none.json',
    ignorePatterns: ['.lake', '.bench', 'reports', 'cdk.out', '.scratch'],
    timeoutMS: 30_000,
    cleanTempDir: 'always',
  };
  const file = join(RESULTS, `${group.name}.stryker.json`);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  process.stdout.write(`\n━━ mutation group "${group.name}": ${group.mutate.join(', ')}\n`);
  const child = spawn(process.execPath, ['node_modules/@stryker-mutator/core/bin/stryker.js', 'run', file], {
    stdio: 'inherit',
    env: {
      ...process.env,
      MUTATION_TESTS: group.tests.join(','),
      MUTATION_EXCLUDE: (group.exclude ?? []).join(','),
    },
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function readReport(group: Group): Promise<StrykerReport | undefined> {
  const file = join(RESULTS, `${group.name}.json`);
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as StrykerReport) : undefined;
}

/** The source text a mutant replaced (1-based lines and columns, end exclusive). */
function originalText(source: string, m: ReportMutant): string {
  const lines = source.split('\n');
  const { start, end } = m.location;
  if (start.line === end.line) return lines[start.line - 1]!.slice(start.column - 1, end.column - 1);
  const first = lines[start.line - 1]!.slice(start.column - 1);
  const middle = lines.slice(start.line, end.line - 1);
  const last = lines[end.line - 1]!.slice(0, end.column - 1);
  return [first, ...middle, last].join('\n');
}

const oneLine = (text: string, max = 90) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * The explanation that names this survivor: same file and mutator, its original text contains the
 * note's, and so do its replacement and its first source line where the note gives them.
 */
function explain(file: string, mutator: string, original: string, replacement: string, line: string) {
  return EXPLAINED.find(
    (e) =>
      e.file === file &&
      e.mutator === mutator &&
      original.includes(e.original) &&
      (e.replacement === undefined || replacement.includes(e.replacement)) &&
      (e.context === undefined || line.includes(e.context)),
  );
}

/** Counts per module and the survivors of each, from the groups' JSON reports. */
export function score(report: StrykerReport): { scores: Map<string, ModuleScore>; survivors: Survivor[] } {
  const scores = new Map<string, ModuleScore>();
  const survivors: Survivor[] = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const count = (s: Status) => mutants.filter((m) => m.status === s).length;
    const killed = count('Killed');
    const timeout = count('Timeout');
    const survived = count('Survived');
    const noCoverage = count('NoCoverage');
    const valid = killed + timeout + survived + noCoverage;
    scores.set(file, {
      mutants: mutants.length,
      killed,
      timeout,
      survived,
      noCoverage,
      ignored: count('Ignored'),
      errors: count('RuntimeError') + count('CompileError'),
      score: valid === 0 ? 1 : (killed + timeout) / valid,
    });
    for (const m of mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const original = originalText(source, m);
      const replacement = m.replacement ?? '';
      survivors.push({
        file,
        line: m.location.start.line,
        mutator: m.mutatorName,
        original,
        replacement,
        status: m.status,
        explanation: explain(
          file,
          m.mutatorName,
          original,
          replacement,
          source.split('\n')[m.location.start.line - 1] ?? '',
        ),
      });
    }
  }
  return { scores, survivors };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function markdown(
  scores: Map<string, ModuleScore>,
  survivors: Survivor[],
  baseline: Record<string, ModuleScore> | undefined,
  meta: string,
): string {
  const rows = GROUPS.flatMap((g) =>
    g.mutate.map((file) => {
      const s = scores.get(file);
      const before = baseline?.[file];
      if (!s)
        return `| ${g.name} | \`${file}\` | not run yet | | | | | | | ${before ? pct(before.score) : ''} |`;
      const mark = s.score >= TARGET_SCORE ? '' : ' (below target)';
      return `| ${g.name} | \`${file}\` | ${s.mutants} | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.ignored ?? 0} | **${pct(s.score)}**${mark} | ${before ? `${pct(before.score)} (${before.survived + before.noCoverage} alive)` : 'not measured'} |`;
    }),
  );
  const byReason = new Map<string, Survivor[]>();
  for (const s of survivors) {
    const key = s.explanation?.why ?? '';
    byReason.set(key, [...(byReason.get(key) ?? []), s]);
  }
  const unexplained = byReason.get('') ?? [];
  const survivorLine = (s: Survivor) =>
    `- \`${s.file}:${s.line}\` ${s.mutator}${s.status === 'NoCoverage' ? ' (no test reaches it)' : ''}: \`${oneLine(s.original)}\` → \`${oneLine(s.replacement)}\``;
  const explained = [...byReason.entries()]
    .filter(([why]) => why !== '')
    .map(([why, list]) => `**${why}**\n\n${list.map(survivorLine).join('\n')}`);
  return `# Mutation testing

Written by \`npm run mutation\` (bench/mutation.ts); do not edit by hand. Stryker ${meta}.
Each group's mutants run against the test files that exercise it (\`vitest.mutation.config.ts\`):
the end-to-end suites under test/local/ are left out for speed, so a score here is a lower bound on
what \`npm test\` kills. The stack snapshots (test/infra/snapshot.test.ts) are never run: a snapshot
fails on any change, so its kills would be no behavioural test's. Score = (killed + timed out) / (killed + timed out + survived + no coverage).
Ignored: mutants of code that runs when the module loads, left out where the group says so
(each would run every test of the group). Target: at least ${pct(TARGET_SCORE)} per module.
"Before" is the suite at b965f43, before issue 11 hardened it, run the same way (same test lists,
the 50 MB test and the snapshot left out): bench/mutation-baseline.json. It was not measured for
the tokenizer (an hour of CPU) nor for the constructs (the infra tests of b965f43 synthesized in
beforeAll, whose failures the runner counts as passes, so any figure would have been wrong).

| group | module | mutants | killed | timed out | survived | no coverage | ignored | score | before |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Groups: ${GROUPS.map((g) => `**${g.name}**, ${g.why} (tests: ${[...g.tests.map((t) => `\`${t}\``), ...(g.exclude ?? []).map((t) => `not \`${t}\``)].join(', ')})`).join('; ')}.

## Surviving mutants

Each is left alive for the reason above it (bench/mutation-notes.ts); a survivor without a reason
fails the run.

${explained.join('\n\n') || 'None.'}

## Unexplained

${unexplained.length === 0 ? 'None.' : unexplained.map(survivorLine).join('\n')}
`;
}

async function main(): Promise<number> {
  const args = parse();
  await mkdir(RESULTS, { recursive: true });
  const started = Date.now();
  let failedRuns = 0;
  if (!args['report-only']) {
    for (const group of args.groups) if ((await runGroup(group, args.full)) !== 0) failedRuns++;
  }
  const minutes = (Date.now() - started) / 60_000;
  const files: StrykerReport['files'] = {};
  for (const group of GROUPS) Object.assign(files, (await readReport(group))?.files ?? {});
  const { scores, survivors } = score({ files });
  if (args.baseline) {
    await writeFile(args.baseline, `${JSON.stringify(Object.fromEntries(scores), null, 2)}\n`);
    process.stdout.write(`wrote ${args.baseline}\n`);
    return failedRuns === 0 ? 0 : 1;
  }
  const baseline = existsSync(BASELINE)
    ? (JSON.parse(await readFile(BASELINE, 'utf8')) as Record<string, ModuleScore>)
    : undefined;
  const version = JSON.parse(await readFile('node_modules/@stryker-mutator/core/package.json', 'utf8')) as {
    version: string;
  };
  const meta = `${version.version}, Node ${process.version}, ${os.availableParallelism()} cores${args['report-only'] ? '' : `; the last run (${args.groups.map((g) => g.name).join(', ')}) took ${minutes.toFixed(1)} min`}`;
  await writeFile(REPORT, markdown(scores, survivors, baseline, meta));
  const below = [...scores].filter(([, s]) => s.score < TARGET_SCORE);
  const unexplained = survivors.filter((s) => !s.explanation);
  for (const [file, s] of scores) process.stdout.write(`${pct(s.score).padStart(8)}  ${file}\n`);
  process.stdout.write(
    `wrote ${REPORT}: ${below.length} module(s) below ${pct(TARGET_SCORE)}, ${unexplained.length} unexplained survivor(s)\n`,
  );
  return failedRuns === 0 && below.length === 0 && unexplained.length === 0 ? 0 : 1;
}

process.exit(await main());
