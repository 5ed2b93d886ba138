/**
 * `datalake reconcile`: finds landed objects without a terminal outcome (a lost event, a failed
 * execution) and, with `--redrive`, runs them again; on the local lake or a deployed stack.
 */

import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClientConfig } from '../aws/stack.ts';
import { awsTarget } from '../aws/target.ts';
import { localTableCatalog } from '../iceberg/local-catalog.ts';
import { dynamoLedgerReader } from '../ledger/dynamodb-reader.ts';
import { ExecutionRecords, LakeBusyError } from '../local/executions.ts';
import { lakePaths } from '../local/lake-folder.ts';
import { serveLocalLedger, useLocalLedger } from '../local/ledger.ts';
import { LocalRuntime, landedObjects, servedLedger } from '../local/runtime.ts';
import { localS3Client } from '../local/s3-server.ts';
import { landedVersions, stepFunctionsLedger } from '../reconcile/aws-ledger.ts';
import {
  fromLedger,
  type LandedObject,
  type ReconcileReport,
  reconcile,
  type WorkflowLedger,
} from '../reconcile/reconcile.ts';
import { escapeControl } from '../text.ts';
import { CliError, untilAborted } from './failures.ts';
import { table } from './format.ts';
import { onLake, requireLake, requireWritable, runningUp } from './lake-server.ts';
import { type CliIo, EXIT } from './main.ts';

/** Options of `datalake reconcile`. */
export interface ReconcileArgs {
  readonly redrive: boolean;
  readonly json: boolean;
  readonly lakeDir: string;
  readonly datasetsDir: string;
  /** Set for a deployed stack: its prefix and stage (the names come from its outputs), region and profile. */
  readonly aws?: {
    readonly prefix: string;
    readonly stage: string;
    readonly region?: string;
    readonly profile?: string;
  };
}

/** Runs one reconciliation; exit 0 when every object ended (after re-driving), 1 when not. */
export async function reconcileCommand(args: ReconcileArgs, io: CliIo): Promise<number> {
  let report: ReconcileReport;
  let after: ReconcileReport | undefined;
  if (args.aws) {
    const target = await awsTarget(args.aws);
    const sfn = new SFNClient(awsClientConfig({ ...args.aws, region: target.lake.region }));
    try {
      const landing = target.buckets.landing;
      const ledger = fromLedger(target.ledger, stepFunctionsLedger(sfn, target.lake.stateMachineArn));
      report = await untilAborted(
        reconcile(landing, landedVersions(target.s3, landing), ledger, { redrive: args.redrive }),
        io.signal,
      );
    } finally {
      sfn.destroy();
      await target.close();
    }
  } else {
    const paths = lakePaths(args.lakeDir);
    await requireLake(paths);
    if (args.redrive) await requireWritable(paths);
    // Two re-drives at once could retire and restart one execution twice: one at a time per lake.
    const records = new ExecutionRecords(paths.executions);
    const oneAtATime = <T>(work: () => Promise<T>): Promise<T> =>
      args.redrive
        ? records.exclusively(work).catch((error: unknown) => {
            throw error instanceof LakeBusyError ? new CliError(error.message) : error;
          })
        : work();
    /**
     * Checks (and, with --redrive, re-drives) the landed objects; after re-driving, waits for the
     * executions it started (`settled`) and checks again.
     */
    const sweep = async (
      landed: () => AsyncIterable<LandedObject>,
      ledger: WorkflowLedger,
      settled: () => Promise<void>,
    ): Promise<[ReconcileReport, ReconcileReport | undefined]> => {
      const found = await untilAborted(
        oneAtATime(() =>
          onLake(paths, () => reconcile('landing', landed(), ledger, { redrive: args.redrive })),
        ),
        io.signal,
      );
      if (!args.redrive || found.redriven === 0) return [found, undefined];
      await untilAborted(settled(), io.signal);
      return [found, await untilAborted(reconcile('landing', landed(), ledger), io.signal)];
    };
    const up = await runningUp(paths);
    if (up) {
      // up runs every execution of this lake: ask it through its endpoint, and re-drive by
      // delivering the landing object to it again (servedLedger), rather than run a second runtime.
      const client = localS3Client(up.endpoint);
      const serving = async () => (await runningUp(paths))?.pid === up.pid;
      // up serves the ledger too (an up older than the ledger did not: then serve it here).
      const items = up.ledger ? useLocalLedger(up.ledger) : await serveLocalLedger(paths.ledger);
      const ledger = servedLedger(
        client,
        localTableCatalog(paths.tables),
        records,
        serving,
        dynamoLedgerReader(items.client, items.tableName),
      );
      try {
        [report, after] = await sweep(
          () => landedObjects(client),
          ledger,
          () => ledger.settled(),
        );
      } finally {
        client.destroy();
        await items.close();
      }
    } else {
      const runtime = await LocalRuntime.start({ lakeDir: args.lakeDir, datasetsDir: args.datasetsDir });
      try {
        // Locally the re-driven executions run in this process: idle() waits for them.
        [report, after] = await sweep(
          () => runtime.landed(),
          runtime.reconcilerLedger(),
          () => runtime.idle(),
        );
      } finally {
        // Interrupted: executions in flight are left to end with the process (a next run finds them).
        if (!io.signal?.aborted) await runtime.close();
      }
    }
  }
  return finish(args, io, report, after);
}

/** Prints the report (and the one after re-driving); exit 0 when every object ended, 1 when not. */
function finish(
  args: ReconcileArgs,
  io: CliIo,
  report: ReconcileReport,
  after: ReconcileReport | undefined,
): number {
  const final = after ?? report;
  if (args.json) {
    io.stdout(`${JSON.stringify({ ...report, ...(after ? { after } : {}) })}\n`);
  } else {
    io.stdout(describe(report, args.redrive, after));
  }
  if (final.errors.length > 0) return EXIT.invalid;
  return final.orphans.length === 0 || (args.aws && args.redrive && report.redriven === report.orphans.length)
    ? EXIT.ok
    : EXIT.invalid;
}

function describe(report: ReconcileReport, redrive: boolean, after: ReconcileReport | undefined): string {
  const lines = [
    `objects: ${report.objects}, ended: ${report.terminal}, running: ${report.running}, without an outcome: ${report.orphans.length}`,
  ];
  if (report.orphans.length > 0) {
    lines.push(
      '',
      ...table(
        ['key', 'why', 'execution'],
        report.orphans.map((o) => [
          o.key,
          o.notRedriven ? `${o.reason}, not re-driven` : o.reason,
          o.execution,
        ]),
      ),
      // In full, below the table, which cuts long cells.
      ...report.orphans.flatMap((o) =>
        o.notRedriven ? [`not re-driven: ${escapeControl(o.key)}: ${o.notRedriven}`] : [],
      ),
    );
  }
  const unchecked = (r: ReconcileReport, when: string) => {
    if (r.errors.length === 0) return;
    lines.push(
      '',
      `could not check ${r.errors.length}${when} (the others were checked):`,
      ...table(
        ['key', 'error', 'execution'],
        r.errors.map((e) => [e.key, e.message, e.execution]),
      ),
    );
  };
  unchecked(report, '');
  if (redrive) lines.push('', `re-driven: ${report.redriven}`);
  if (after) {
    lines.push(`after re-driving: ${after.orphans.length} without an outcome, ${after.terminal} ended`);
    unchecked(after, ' after re-driving');
  } else if (!redrive && report.orphans.length > 0) lines.push('', 'run again with --redrive to re-run them');
  return `${lines.join('\n')}\n`;
}
