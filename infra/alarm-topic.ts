/**
 * How every alarm of the stack is heard: both its ALARM and its OK state changes go to the alarm
 * topic (docs/operations.md), so an operator learns that a problem ended as well as that it began.
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';

/** Sends the ALARM and OK state changes of `alarms` to `topic`; nothing without a topic. */
export function notifyAlarmTopic(topic: sns.ITopic | undefined, ...alarms: cloudwatch.Alarm[]): void {
  if (topic === undefined) return;
  const action = new cwActions.SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}
