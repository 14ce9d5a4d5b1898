/**
 * `PipelineHeartbeat`: the pipeline proving itself. An EventBridge Scheduler schedule writes the
 * reserved heartbeat item of the compute node table (functions/notifier/contract/heartbeat.ts)
 * every `interval`, with DynamoDB `UpdateItem` as a universal target, so no function is needed
 * ("Using universal targets", https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html:
 * target ARN `arn:aws:scheduler:::aws-sdk:dynamodb:updateItem`, the request as JSON `Input`, an
 * execution role allowed to call it). The write carries the scheduled time (the context attribute
 * `<aws.scheduler.scheduled-time>`, https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html).
 * Its record travels the real path (stream, event source mapping, notifier, PutEvents) and the
 * notifier counts it (`HeartbeatsPublished`) and times it (`HeartbeatLag`); the "pipeline stalled"
 * alarm fires when none was published for `stalledAfterMinutes`.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE, heartbeatUpdateItem } from '../functions/notifier/contract/index.js';
import { METRIC, METRICS_NAMESPACE } from '../functions/notifier/metric-names.js';
import { keyStatement } from './secure-resources.js';
import { COMPUTE_NODE_TABLE } from '../functions/compute-node-table-definition.js';
import { notifyAlarmTopic } from './alarm-topic.js';

/** The heartbeat's settings, as the `heartbeat` prop of `HypervisorNotifier` takes them. */
export interface HeartbeatOptions {
  /** How often the heartbeat item is written: whole minutes, 1 to 60. @default Duration.minutes(1) */
  readonly interval?: Duration;
  /**
   * Minutes without a published heartbeat after which the "pipeline stalled" alarm fires
   * (missing data counts as breaching). At least twice the interval, so one late write does not fire it;
   * at most {@link MAX_STALLED_AFTER_MINUTES} (a day).
   * @default - the larger of 5 and twice the interval
   */
  readonly stalledAfterMinutes?: number;
}

export interface PipelineHeartbeatProps extends HeartbeatOptions {
  /** The compute node table (created or existing); its key, when it has one, is granted too. */
  readonly table: dynamodb.ITable;
  /** Powertools `service` dimension of the notifier's metrics. */
  readonly serviceName: string;
  /** @default METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
  /** The dashboard the lag and the heartbeat count go on. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Topic the stalled alarm notifies (alarm and OK). @default - no alarm actions */
  readonly alarmTopic?: sns.ITopic;
}

/** The longest `stalledAfterMinutes`: CloudWatch evaluates an alarm of one-minute periods over a day at most. */
export const MAX_STALLED_AFTER_MINUTES = 1440;

/** Universal target of DynamoDB UpdateItem (the service and action as in the AWS SDK). */
const UPDATE_ITEM_ACTION = 'aws-sdk:dynamodb:updateItem';

export class PipelineHeartbeat extends Construct {
  readonly schedule: scheduler.CfnSchedule;
  /** The execution role of the schedule: UpdateItem on the heartbeat item only, and the table's key. */
  readonly role: iam.Role;
  readonly stalledAlarm: cloudwatch.Alarm;
  /** End-to-end lag (write → PutEvents answered), ms, per minute's maximum. */
  readonly lagMetric: cloudwatch.Metric;
  readonly interval: Duration;

  constructor(scope: Construct, id: string, props: PipelineHeartbeatProps) {
    super(scope, id);
    const minutes = (props.interval ?? Duration.minutes(1)).toMinutes();
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60) {
      throw new Error(`heartbeat interval: must be whole minutes from 1 to 60, got ${props.interval?.toHumanString()}`);
    }
    this.interval = Duration.minutes(minutes);
    const stalledAfter = props.stalledAfterMinutes ?? Math.max(5, 2 * minutes);
    if (!Number.isInteger(stalledAfter) || stalledAfter < 2 * minutes) {
      throw new Error(`heartbeat stalledAfterMinutes: must be a whole number of at least twice the interval (${2 * minutes}), got ${stalledAfter}`);
    }
    // The alarm evaluates one-minute periods, over at most a day (CloudWatch API reference,
    // PutMetricAlarm, Period: under an hour, Period × EvaluationPeriods is at most 86,400 s).
    if (stalledAfter > MAX_STALLED_AFTER_MINUTES) {
      throw new Error(`heartbeat stalledAfterMinutes: must be at most ${MAX_STALLED_AFTER_MINUTES} (a day of one-minute periods, CloudWatch's limit), got ${stalledAfter}`);
    }
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      // Only schedules of this account may assume it (confused deputy).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Heartbeat schedule: write the reserved heartbeat item of the compute node table',
    });
    // Fine-grained access: the one reserved item (dynamodb:LeadingKeys), its key and written time
    // only (dynamodb:Attributes), nothing returned ("Using IAM policy conditions for fine-grained
    // access control", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteHeartbeatItem',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': [HEARTBEAT_ITEM_KEY],
            'dynamodb:Attributes': [COMPUTE_NODE_TABLE.partitionKey.name, HEARTBEAT_WRITTEN_AT_ATTRIBUTE],
          },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
        },
      }),
    );
    // A customer-managed table key, used only through DynamoDB (as the resync function's marker writes).
    if (props.table.encryptionKey !== undefined) {
      this.role.addToPrincipalPolicy(
        keyStatement('UseTableKeyViaDynamoDB', this, props.table.encryptionKey, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], ['dynamodb']),
      );
    }

    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: 'Writes the heartbeat item of the compute node table; the notifier turns it into hypervisor_notifier.heartbeat',
      scheduleExpression: minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`,
      // On time: the lag is measured from the scheduled time.
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: `arn:${stack.partition}:scheduler:::${UPDATE_ITEM_ACTION}`,
        roleArn: this.role.roleArn,
        input: stack.toJsonString(heartbeatUpdateItem(props.table.tableName, '<aws.scheduler.scheduled-time>')),
        // A heartbeat is worth its minute only: a late retry would hide the gap it should show.
        retryPolicy: { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 2 },
      },
    });

    const ns = props.metricsNamespace ?? METRICS_NAMESPACE;
    const dimensionsMap = { service: props.serviceName };
    const published = new cloudwatch.Metric({ namespace: ns, metricName: METRIC.heartbeatsPublished, dimensionsMap, statistic: 'Sum', period: Duration.minutes(1) });
    this.lagMetric = new cloudwatch.Metric({ namespace: ns, metricName: METRIC.heartbeatLag, dimensionsMap, statistic: 'Maximum', period: Duration.minutes(1) });

    // Every minute of the last `stalledAfter` without a heartbeat (a minute without the metric
    // counts): any such window holds a write when the path works, as it is at least twice the interval.
    this.stalledAlarm = new cloudwatch.Alarm(this, 'PipelineStalledAlarm', {
      metric: published,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: stalledAfter,
      datapointsToAlarm: stalledAfter,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription:
        `Pipeline stalled: no heartbeat was published for ${stalledAfter} minutes. The table → stream → notifier → EventBridge path is broken ` +
        '(schedule or its role, a disabled mapping, a disabled or replaced stream, a lost permission, a missing bus, a function failing at start-up); changes are not being notified.',
    });
    notifyAlarmTopic(props.alarmTopic, this.stalledAlarm);

    props.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Heartbeat lag, write → PutEvents (max, ms)', left: [this.lagMetric.with({ label: 'lag' })], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Heartbeats published', left: [published.with({ label: 'heartbeats' })], width: 8 }),
      new cloudwatch.AlarmStatusWidget({ title: 'Pipeline stalled', alarms: [this.stalledAlarm], width: 8 }),
    );
  }
}
