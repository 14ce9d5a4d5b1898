/**
 * `QuotaAlarms`: the first quota wall the fleet meets (docs/capacity.md), alarmed and on the
 * dashboard. That wall is EventBridge's rule invocations quota ("Invocations throttle limit in
 * transactions per second", account-wide per region): past it EventBridge delays the invocations
 * instead of refusing PutEvents, so the notifier keeps up, and none of its alarms, nor a route's
 * (they fire only once an event runs out of retries), sees it. EventBridge counts it in
 * `ThrottledRules`; `InvocationsCreated` (no dimension) is the metric AWS names for watching the
 * quota's use ("Monitoring Amazon EventBridge",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html); both are published
 * without a dimension, for the account in the region, `ThrottledRules` per rule too (AWS Compute
 * Blog, "Enhanced Amazon CloudWatch metrics for Amazon EventBridge"). The quota and its defaults by
 * region: "Amazon EventBridge quotas" (infra/capacity-quotas.ts). The walls after it
 * are alarmed already: PutEvents throttling by "PutEvents failures" and then the iterator age,
 * Lambda concurrency by the iterator age (infra/alarms.ts).
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { QUOTA_TABLE, quotasFor } from './capacity-quotas.js';
import { notifyAlarmTopic } from './alarm-topic.js';

export interface QuotaAlarmsProps {
  /** The dashboard to draw the invocations against the quota on. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Topic the alarm notifies (alarm and OK). @default - no alarm actions */
  readonly alarmTopic?: sns.ITopic | undefined;
}

const PERIOD = Duration.minutes(5);

export class QuotaAlarms extends Construct {
  /** Fires when EventBridge throttles any rule invocation of the account in the stack's region. */
  readonly invocationsThrottledAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: QuotaAlarmsProps) {
    super(scope, id);
    const quota = QUOTA_TABLE.invocations;
    // No dimension: the quota is the account's in the region, shared by every bus and rule, so
    // another producer's rules reaching it delay ours just the same.
    const throttled = new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'ThrottledRules', statistic: 'Sum', period: PERIOD });
    const created = new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'InvocationsCreated', statistic: 'Sum', period: Duration.minutes(1) });

    this.invocationsThrottledAlarm = new cloudwatch.Alarm(this, 'RuleInvocationsThrottledAlarm', {
      metric: throttled,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // EventBridge reports throttled rules only when there are some: no data is nothing throttled.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `EventBridge throttled rule invocations of this account in this region: the '${quota.name}' quota (${quota.code}) is reached. ` +
        'Deliveries to every route are delayed (retried for up to 24 hours), not lost; the notifier keeps up. Ask for an increase, or send fewer notifications or match fewer rules (docs/capacity.md, "What to do at each wall").',
    });
    notifyAlarmTopic(props.alarmTopic, this.invocationsThrottledAlarm);

    const region = Stack.of(this).region;
    const known = !Token.isUnresolved(region);
    const perSecond = quotasFor(known ? region : undefined).invocationsPerSecond;
    props.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rule invocations of the account in the region (the first quota wall)',
        left: [new cloudwatch.MathExpression({ expression: 'created / 60', usingMetrics: { created }, label: 'invocations created a second', period: Duration.minutes(1) })],
        leftAnnotations: [{ value: perSecond, label: known ? `default quota in ${region}` : 'lowest default quota (region unknown at synth)' }],
        right: [throttled.with({ label: 'throttled rules' })],
        width: 16,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Quota alarms', alarms: [this.invocationsThrottledAlarm], width: 8 }),
    );
  }
}
