/** Alarms and a dashboard for the ingest pipeline. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ORPHAN_METRIC } from '../../lambdas/shared/contract.ts';
import { STATE } from './ingest-workflow.ts';

/** Properties of {@link PipelineMonitoring}. */
export interface PipelineMonitoringProps {
  readonly stateMachine: sfn.StateMachine;
  /** The state machine's execution log group (level ALL): file counts are read from it. */
  readonly workflowLogs: logs.ILogGroup;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly triggerFailures: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  readonly dashboardName: string;
}

/** The metric namespace of the pipeline's own counts. */
export const METRIC_NAMESPACE = ORPHAN_METRIC.namespace;

/**
 * Counts files in, validated, rejected and curated from the workflow's log (no code in the
 * handlers), alarms on failures of every part, and shows it all on one dashboard.
 */
export class PipelineMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    const count = (metricName: string, filterPattern: logs.IFilterPattern) => {
      new logs.MetricFilter(this, `${metricName}Filter`, {
        logGroup: props.workflowLogs,
        metricNamespace: METRIC_NAMESPACE,
        metricName,
        filterPattern,
        metricValue: '1',
        defaultValue: 0,
      });
      return new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    };
    const entered = (state: string) =>
      logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.type', '=', 'TaskStateEntered'),
        logs.FilterPattern.stringValue('$.details.name', '=', state),
      );
    const filesIn = count('FilesIn', logs.FilterPattern.stringValue('$.type', '=', 'ExecutionStarted'));
    const validated = count('FilesValidated', entered(STATE.notifyValidated));
    const rejected = count('FilesRejected', entered(STATE.notifyRejected));
    const curated = count('FilesCurated', entered(STATE.notifyCurated));

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(a);
      return a;
    };
    alarm(
      'FailedExecutions',
      props.stateMachine.metricFailed({ period: Duration.minutes(5) }),
      'an ingest execution failed: a file did not reach a terminal zone',
    );
    alarm('RejectedFiles', rejected, 'a landed file was rejected: its report is in the failure zone');
    alarm(
      'TriggerFailures',
      props.triggerFailures.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      'S3 events the trigger could not turn into executions: re-drive them from the queue',
    );
    alarm(
      'Orphans',
      new cloudwatch.Metric({
        namespace: ORPHAN_METRIC.namespace,
        metricName: ORPHAN_METRIC.name,
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      'the reconciler found landed files without a terminal outcome (it re-drives them when configured to)',
    );
    // No alarm of its own for the Glue job: every run is started by the workflow, so a failed run
    // fails its execution and FailedExecutions fires. (IJob.metricFailure would count an
    // EventBridge rule with no target, whose TriggeredRules metric AWS does not document for that
    // case: AWS review R4.)
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: Duration.minutes(5) }),
        `the ${name} function raised errors`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period: Duration.minutes(5) }),
        `the ${name} function was throttled`,
      );
    }

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Files',
        left: [filesIn, validated, rejected, curated],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Workflow duration (ms)',
        left: [
          props.stateMachine.metricTime({ statistic: 'p50' }),
          props.stateMachine.metricTime({ statistic: 'p99' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (ms, p99)',
        left: Object.values(props.functions).map((fn) => fn.metricDuration({ statistic: 'p99' })),
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
  }
}
