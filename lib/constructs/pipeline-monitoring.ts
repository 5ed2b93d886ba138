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
  /**
   * The Convert function, when there is one: its errors include the hand-offs to Glue, which are
   * no fault, so it is alarmed on its error rate rather than on every error.
   */
  readonly convert?: lambda.IFunction;
  readonly triggerFailures: sqs.IQueue;
  /**
   * The commit queue's dead-letter queue: commits every receive of which failed (their files
   * failed too, and the reconciler re-drives them; what is left there says why).
   * @default - no alarm on it
   */
  readonly commitDeadLetters?: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  readonly dashboardName: string;
}

/** The Convert function's alarm: this share of its invocations in an hour failing, out of at least the minimum. */
export const CONVERT_ALARM_ERROR_RATE = 0.5;
export const CONVERT_ALARM_MIN_INVOCATIONS = 5;

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
    if (props.commitDeadLetters) {
      alarm(
        'CommitDeadLetters',
        props.commitDeadLetters.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        'commits that failed every receive: their files failed, and the messages say which',
      );
    }
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
    if (props.convert) {
      // A hand-off (a file near the function's limits) is an error by design and rare; most
      // invocations failing means the function is broken (a bad binding, a bad deploy), and every
      // file then costs a Lambda run and a Glue run with nothing else to say so.
      const period = Duration.hours(1);
      const errorRate = new cloudwatch.MathExpression({
        expression: `IF(invocations >= ${CONVERT_ALARM_MIN_INVOCATIONS}, errors / invocations, 0)`,
        usingMetrics: {
          errors: props.convert.metricErrors({ period, statistic: 'Sum' }),
          invocations: props.convert.metricInvocations({ period, statistic: 'Sum' }),
        },
        period,
        label: 'Convert errors per invocation',
      });
      const a = new cloudwatch.Alarm(this, 'ConvertErrorRate', {
        metric: errorRate,
        threshold: CONVERT_ALARM_ERROR_RATE,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'most Convert Lambda invocations in an hour failed: files are handed to Glue (dearer, slower) or fail; check its logs',
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(a);
      alarm(
        'ConvertThrottles',
        props.convert.metricThrottles({ period: Duration.minutes(5) }),
        'the Convert function was throttled',
      );
    }
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
        left: [...Object.values(props.functions), ...(props.convert ? [props.convert] : [])].map((fn) =>
          fn.metricDuration({ statistic: 'p99' }),
        ),
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
  }
}
