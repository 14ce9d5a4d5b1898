/**
 * CDK's bucket-notifications handler (a singleton function of the stack, made for S3 event
 * notifications) logs, by default, to /aws/lambda/<name>, a group Lambda creates itself at the
 * first invocation: without a retention and outside the stack, so it outlives the stack. This
 * gives it a log group of the stack with a retention instead (infra/singleton-function-logs.ts;
 * the handler's role already may write any log group: AWSLambdaBasicExecutionRole).
 */
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ownSingletonFunctionLogs } from './singleton-function-logs.js';

/** CDK's construct id of the handler (aws-cdk-lib/aws-s3, BucketNotificationsHandler). */
const HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Routes the stack's bucket-notifications handler, if it has one, to a new log group with `retention`; returns it. */
export function ownBucketNotificationsLogs(scope: Construct, retention: logs.RetentionDays): logs.LogGroup | undefined {
  return ownSingletonFunctionLogs(scope, HANDLER_ID, retention)?.group;
}
