/**
 * `datalake reconcile`: finds landed objects without a terminal outcome (a lost event, a failed
 * execution) and, with `--redrive`, runs them again; on the local lake or a deployed stack.
 */

import { readFile } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lakePaths } from '../local/lake-folder.ts';
import { LocalRuntime } from '../local/runtime.ts';
import { landedVersions, stepFunctionsLedger } from '../reconcile/aws-ledger.ts';
import { type ReconcileReport, reconcile } from '../reconcile/reconcile.ts';
import { table } from './format.ts';
import { type CliIo, EXIT, UsageError } from './main.ts';

/** Options of `datalake reconcile`. */
export interface ReconcileArgs {
  readonly redrive: boolean;
  readonly json: boolean;
  readonly lakeDir: string;
  readonly datasetsDir: string;
  /** Set for a deployed stack: its landing bucket and state machine. */
  readonly aws?: { readonly landingBucket: string; readonly stateMachineArn: string };
}

/** Runs one reconciliation; exit 0 when every object ended (after re-driving), 1 when not. */
export async function reconcileCommand(args: ReconcileArgs, io: CliIo): Promise<number> {
  let report: ReconcileReport;
  let after: ReconcileReport | undefined;
  if (args.aws) {
    const { landingBucket, stateMachineArn } = args.aws;
    const s3 = new S3Client({});
    const ledger = stepFunctionsLedger(new SFNClient({}), stateMachineArn);
    report = await reconcile(landingBucket, landedVersions(s3, landingBucket), ledger, {
      redrive: args.redrive,
    });
  } else {
    if (args.redrive && (await localUpRunning(args.lakeDir))) {
      throw new UsageError('local up is running on this lake: stop it to re-drive (it runs the executions)');
    }
    const runtime = await LocalRuntime.start({ lakeDir: args.lakeDir, datasetsDir: args.datasetsDir });
    try {
      report = await reconcile('landing', runtime.landed(), runtime.ledger(), { redrive: args.redrive });
      if (args.redrive && report.redriven > 0) {
        // Locally the re-driven executions run here: wait for them and check again.
        await runtime.idle();
        after = await reconcile('landing', runtime.landed(), runtime.ledger());
      }
    } finally {
      await runtime.close();
    }
  }
  const final = after ?? report;
  if (args.json) {
    io.stdout(`${JSON.stringify({ ...report, ...(after ? { after } : {}) })}\n`);
  } else {
    io.stdout(describe(report, args.redrive, after));
  }
  return final.orphans.length === 0 || (args.aws && args.redrive && report.redriven === report.orphans.length)
    ? EXIT.ok
    : EXIT.invalid;
}

async function localUpRunning(lakeDir: string): Promise<boolean> {
  try {
    const { pid } = JSON.parse(await readFile(lakePaths(lakeDir).server, 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
        report.orphans.map((o) => [o.key, o.reason, o.execution]),
      ),
    );
  }
  if (redrive) lines.push('', `re-driven: ${report.redriven}`);
  if (after)
    lines.push(`after re-driving: ${after.orphans.length} without an outcome, ${after.terminal} ended`);
  else if (!redrive && report.orphans.length > 0) lines.push('', 'run again with --redrive to re-run them');
  return `${lines.join('\n')}\n`;
}
