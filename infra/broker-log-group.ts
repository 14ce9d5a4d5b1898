/**
 * Amazon MQ's broker log group, kept by the stack. With general logs on, Amazon MQ creates
 * /aws/amazonmq/broker/<broker-id>/general itself when it creates (or reboots) the broker: without
 * a retention and outside the stack. For RabbitMQ it publishes through its service-linked role, so
 * no CloudWatch Logs resource policy is needed, and audit logs do not exist (Amazon MQ developer
 * guide, "Configuring Amazon MQ for RabbitMQ logs",
 * https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/security-logging-monitoring-rabbitmq.html);
 * that role may create groups under /aws/amazonmq/* ("Using service-linked roles for Amazon MQ").
 * The RabbitMQ page names no group: the name's form is the ActiveMQ page's ("Configuring Amazon MQ
 * for ActiveMQ logs", configure-logging-monitoring-activemq.html), and DescribeBroker's
 * Logs.GeneralLogGroup confirms it on a deployed broker (docs/deploying.md). A log group of the
 * template by that name would race Amazon MQ for it (the id is known only once the broker exists),
 * so CDK's `logs.LogRetention` sets the retention once the broker is created, creating the group if
 * Amazon MQ has not yet, and deletes it with the stack.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { logGroupArns, ownLogRetentionProviderLogs } from './log-retention-provider-logs.js';
import { acknowledge } from './secure-resources.js';

export interface BrokerLogGroupProps {
  /** The broker, with general logs on. */
  readonly broker: amazonmq.CfnBroker;
  /** Retention of the broker's logs (and of the retention function's own logs). */
  readonly retention: logs.RetentionDays;
}

/** The retention, and deletion with the stack, of a new broker's general log group. */
export class BrokerLogGroup extends Construct {
  /** The log group's name: /aws/amazonmq/broker/<broker-id>/general. */
  readonly logGroupName: string;

  constructor(scope: Construct, id: string, props: BrokerLogGroupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logGroupName = `/aws/amazonmq/broker/${props.broker.attrId}/general`;
    // Our own role, handed over without policy updates: CDK's would have AWSLambdaBasicExecutionRole
    // and logs:PutRetentionPolicy/DeleteRetentionPolicy on every log group of the account.
    const role = new iam.Role(this, 'RetentionFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Sets the retention of the Amazon MQ broker's log group, and deletes it with the stack",
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'KeepBrokerLogGroup',
        // The handler: CreateLogGroup (if absent) and PutRetentionPolicy on Create/Update, DeleteLogGroup on Delete.
        actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteLogGroup'],
        resources: logGroupArns(stack, this.logGroupName),
      }),
    );
    const retention = new logs.LogRetention(this, 'Retention', {
      logGroupName: this.logGroupName,
      retention: props.retention,
      role: role.withoutPolicyUpdates(),
      // As the bridge function's log group: the broker's logs go with the broker, which the stack deletes.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    ownLogRetentionProviderLogs(retention, role, props.retention);
    acknowledge(
      role.node.findChild('DefaultPolicy'),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/amazonmq/broker/<${stack.getLogicalId(props.broker)}.Id>/general:*]`,
      "This one log group, in the ARN form with ':*' as well as without (logGroupArns): no other log group matches.",
    );
  }
}
