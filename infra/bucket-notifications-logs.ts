/**
 * CDK's bucket-notifications handler (a singleton function of the stack, made for S3 event
 * notifications) logs, by default, to /aws/lambda/<name>, a group Lambda creates itself at the
 * first invocation: without a retention and outside the stack, so it outlives the stack. This
 * gives it a log group of the stack with a retention instead (Lambda's LoggingConfig.LogGroup;
 * the handler's role already may write any log group: AWSLambdaBasicExecutionRole).
 */
import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** CDK's construct id of the handler (aws-cdk-lib/aws-s3, BucketNotificationsHandler). */
const HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Routes the stack's bucket-notifications handler, if it has one, to a new log group with `retention`; returns it. */
export function ownBucketNotificationsLogs(scope: Construct, retention: logs.RetentionDays): logs.LogGroup | undefined {
  const stack = Stack.of(scope);
  const handler = stack.node.tryFindChild(HANDLER_ID);
  const fn = handler?.node.tryFindChild('Resource');
  if (!(fn instanceof CfnResource)) return undefined;
  const existing = stack.node.tryFindChild(`${HANDLER_ID}Logs`);
  if (existing !== undefined) return existing as logs.LogGroup;
  const group = new logs.LogGroup(stack, `${HANDLER_ID}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });
  fn.addPropertyOverride('LoggingConfig.LogGroup', group.logGroupName);
  return group;
}
