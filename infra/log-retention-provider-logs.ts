/**
 * CDK's log-retention function (the singleton behind `logs.LogRetention`) logs, by default, to
 * /aws/lambda/<name>, which Lambda creates itself at the first invocation; and its handler
 * (aws-cdk-lib/custom-resource-handlers, aws-logs/log-retention-handler) creates that same group
 * on every Create and sets a 1-day retention on it, outside the stack either way. So: its logs go
 * to a log group of the stack with the stack's retention (infra/singleton-function-logs.ts, as for
 * the bucket-notifications handler), and /aws/lambda/<name> is a log group of the stack too, with the
 * 1 day the handler would set (no drift), created before any LogRetention runs: the handler's
 * CreateLogGroup then finds it and moves on (it ignores ResourceAlreadyExistsException).
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { acknowledge } from './secure-resources.js';
import { ownSingletonFunctionLogs } from './singleton-function-logs.js';

/** CDK's construct id of the function (aws-cdk-lib/aws-logs, LogRetention). */
const PROVIDER_ID = 'LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a';

/** What the handler sets on /aws/lambda/<its name> (log-retention-handler: PutRetentionPolicy, 1 day). */
const HANDLER_OWN_GROUP_RETENTION = logs.RetentionDays.ONE_DAY;

/**
 * A log group's ARN in both forms IAM may match for its log-group actions (with and without the
 * `:*` that CDK's logGroupArn ends with), so that neither form is left out.
 */
export function logGroupArns(stack: Stack, logGroupName: string): string[] {
  const arn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  return [arn, `${arn}:*`];
}

/**
 * Gives the stack's log-retention function log groups of the stack (see the file's comment),
 * lets `role` (the function's role, created by the caller) write to them, and makes `retention`
 * wait for both groups and the role's policy. Call after creating `retention` with `role`.
 */
export function ownLogRetentionProviderLogs(retention: logs.LogRetention, role: iam.Role, logRetention: logs.RetentionDays): void {
  const stack = Stack.of(retention);
  const owned = ownSingletonFunctionLogs(stack, PROVIDER_ID, logRetention);
  if (owned === undefined) throw new Error(`ownLogRetentionProviderLogs: CDK's log-retention function (${PROVIDER_ID}/Resource) not found; has aws-cdk-lib changed its id?`);
  const { fn, group: logsGroup } = owned;
  const defaultGroup =
    (stack.node.tryFindChild(`${PROVIDER_ID}DefaultLogs`) as logs.LogGroup | undefined) ??
    new logs.LogGroup(stack, `${PROVIDER_ID}DefaultLogs`, { logGroupName: `/aws/lambda/${fn.ref}`, retention: HANDLER_OWN_GROUP_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logsGroup.logGroupArn] }));
  // What the handler does to /aws/lambda/<its name> on every Create (see the file's comment).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'KeepOwnDefaultLogGroup', actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'], resources: logGroupArns(stack, `/aws/lambda/${fn.ref}`) }),
  );
  acknowledge(
    role.node.findChild('DefaultPolicy'),
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/<${stack.getLogicalId(fn)}>:*]`,
    "This one log group, in the ARN form with ':*' as well as without (logGroupArns): no other log group matches.",
  );
  retention.node.addDependency(logsGroup, defaultGroup, role);
}
