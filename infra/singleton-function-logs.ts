/**
 * A singleton function CDK adds to a stack (the bucket-notifications handler, the log-retention
 * function) logs, by default, to /aws/lambda/<name>, a group Lambda creates itself at the first
 * invocation: without a retention and outside the stack, so it outlives the stack. This routes
 * such a function's logs to a log group of the stack with a retention (Lambda's
 * LoggingConfig.LogGroup), made once however many callers ask.
 */
import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The singleton function's resource and the stack's log group its logs go to. */
export interface SingletonFunctionLogs {
  readonly fn: CfnResource;
  readonly group: logs.LogGroup;
}

/**
 * Routes the stack's singleton function `constructId` (CDK's construct id of it), if the stack
 * has it, to the log group `<constructId>Logs` with `retention`, created on the first call.
 * Returns the function and the group, or undefined when the stack has no such function.
 */
export function ownSingletonFunctionLogs(scope: Construct, constructId: string, retention: logs.RetentionDays): SingletonFunctionLogs | undefined {
  const stack = Stack.of(scope);
  const fn = stack.node.tryFindChild(constructId)?.node.tryFindChild('Resource');
  if (!(fn instanceof CfnResource)) return undefined;
  const existing = stack.node.tryFindChild(`${constructId}Logs`) as logs.LogGroup | undefined;
  if (existing !== undefined) return { fn, group: existing };
  const group = new logs.LogGroup(stack, `${constructId}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });
  fn.addPropertyOverride('LoggingConfig.LogGroup', group.logGroupName);
  return { fn, group };
}
