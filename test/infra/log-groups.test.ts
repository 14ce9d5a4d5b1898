/**
 * Every function's logs go to a log group of the stack with a retention, in every
 * configuration, CDK's own bucket-notifications handler included (else Lambda creates
 * /aws/lambda/<name> itself, without a retention, outside the stack, and it outlives the stack);
 * and a new Amazon MQ broker's log group, which Amazon MQ creates itself, gets a retention and
 * goes with the stack (infra/broker-log-group.ts). Every one keeps the stack's `logRetentionDays`
 * (the AMQP bridge's too, unless its construct prop `amqpBridge.logRetention` overrides it).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { HypervisorNotifier } from '../../infra/hypervisor-notifier.js';
import { DEPLOY_CONFIGURATIONS } from './configurations.js';
import { buildTestApp, SKIP_BUNDLING, testAppResources, type CfnResource } from './helpers.js';

describe('log groups', () => {
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))('%s: every function logs to a log group of the stack with a retention', (_name, c) => {
    const resources = testAppResources({ ...c.context });
    const problems: string[] = [];
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const ref = (r.Properties.LoggingConfig?.LogGroup as { Ref?: string } | undefined)?.Ref;
      const group = ref === undefined ? undefined : resources[ref];
      if (group?.Type !== 'AWS::Logs::LogGroup') problems.push(`${id}: no log group of the stack`);
      else if (typeof group.Properties.RetentionInDays !== 'number') problems.push(`${id}: its log group ${ref} keeps logs forever`);
    }
    expect(problems).toEqual([]);
  });
});

/** Amazon MQ's name for a broker's general log group (Amazon MQ developer guide, configure-logging-monitoring-activemq). */
const brokerGeneralLogGroup = (brokerId: string): unknown => ({ 'Fn::Join': ['', ['/aws/amazonmq/broker/', { 'Fn::GetAtt': [brokerId, 'Id'] }, '/general']] });

const BROKER_CONFIGURATIONS = DEPLOY_CONFIGURATIONS.filter((c) => (c.context.amqpBridge as { createBroker?: boolean } | undefined)?.createBroker === true);

describe("Amazon MQ's broker log group", () => {
  it('is covered: some configurations create a broker', () => expect(BROKER_CONFIGURATIONS.length).toBeGreaterThan(0));

  it.each(BROKER_CONFIGURATIONS.map((c) => [c.name, c] as const))(
    "%s: the broker's general log group gets the bridge's retention from the stack and goes with it",
    (_name, c) => {
      const resources = testAppResources({ ...c.context });
      const entries = Object.entries(resources);
      const brokers = entries.filter(([, r]) => r.Type === 'AWS::AmazonMQ::Broker' && r.Properties.Logs?.General === true);
      expect(brokers).toHaveLength(1);
      const [brokerId] = brokers[0]!;
      const retentions = entries.filter(([, r]) => r.Type === 'Custom::LogRetention' && JSON.stringify(r.Properties.LogGroupName) === JSON.stringify(brokerGeneralLogGroup(brokerId)));
      expect(retentions, `no Custom::LogRetention for ${brokerId}'s general log group`).toHaveLength(1);
      const [, retention] = retentions[0]!;
      // The bridge function's log group (the bridge is the one function in a VPC): the retention the configuration gives the bridge.
      const bridges = entries.filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.VpcConfig !== undefined);
      expect(bridges).toHaveLength(1);
      const bridgeGroup = resources[(bridges[0]![1].Properties.LoggingConfig.LogGroup as { Ref: string }).Ref]!;
      expect(typeof retention.Properties.RetentionInDays).toBe('number');
      expect(retention.Properties.RetentionInDays).toBe(bridgeGroup.Properties.RetentionInDays);
      expect(retention.Properties.RemovalPolicy).toBe('destroy');
    },
  );

  it.each(BROKER_CONFIGURATIONS.map((c) => [c.name, c] as const))(
    '%s: the log group the retention function makes for itself (/aws/lambda/<name>) is a log group of the stack, there before the function runs',
    (_name, c) => {
      const template = Template.fromStack(buildTestApp({ ...c.context }).stack).toJSON() as { Resources: Record<string, CfnResource & { DependsOn?: string[] }> };
      const entries = Object.entries(template.Resources);
      const custom = entries.filter(([, r]) => r.Type === 'Custom::LogRetention');
      expect(custom.length).toBeGreaterThan(0);
      for (const [id, r] of custom) {
        const fnId = (r.Properties.ServiceToken as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const own = entries.filter(
          ([, g]) => g.Type === 'AWS::Logs::LogGroup' && JSON.stringify(g.Properties.LogGroupName) === JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: fnId }]] }),
        );
        expect(own, `${fnId}: no log group of the stack named /aws/lambda/<its name>`).toHaveLength(1);
        const [groupId, group] = own[0]!;
        expect(typeof group.Properties.RetentionInDays, `${groupId} keeps logs forever`).toBe('number');
        expect(r.DependsOn ?? [], `${id} may run before ${groupId} exists`).toContain(groupId);
      }
    },
  );
});

describe('log retention follows the stack', () => {
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))(
    '%s: with logRetentionDays=7, every log group of the stack and every retention it sets keeps 7 days (the AMQP bridge and its broker included)',
    (_name, c) => {
      const resources = testAppResources({ ...c.context, logRetentionDays: 7 });
      // Not the stack's to choose: /aws/lambda/<CDK's log-retention function>, kept at the 1 day
      // that function's handler sets on it (infra/log-retention-provider-logs.ts).
      const retentionFunctions = Object.values(resources)
        .filter((r) => r.Type === 'Custom::LogRetention')
        .map((r) => JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: (r.Properties.ServiceToken as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0] }]] }));
      const retentions = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::Logs::LogGroup' || r.Type === 'Custom::LogRetention')
        .filter(([, r]) => !retentionFunctions.includes(JSON.stringify(r.Properties.LogGroupName)))
        .map(([id, r]) => [id, r.Properties.RetentionInDays] as const);
      expect(retentions.length).toBeGreaterThan(0);
      expect(retentions.filter(([, days]) => days !== 7)).toEqual([]);
    },
  );
});

describe("the AMQP bridge's log retention in a user stack", () => {
  /** Retention (days) of the bridge function's log group and of the notifier's, for these props. */
  const retentions = (props: { logRetention?: logs.RetentionDays; bridgeLogRetention?: logs.RetentionDays }): { bridge: unknown; notifier: unknown } => {
    const app = new App({ context: SKIP_BUNDLING });
    const stack = new Stack(app, 'User', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0a', 'subnet-0b'] });
    const credentialsSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nova-mq-AbCdEf');
    const n = new HypervisorNotifier(stack, 'N', {
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
      redrive: false,
      heartbeat: false,
      amqpBridge: {
        broker: { endpoint: 'amqps://broker.internal:5671', credentialsSecret },
        vpc,
        ...(props.bridgeLogRetention === undefined ? {} : { logRetention: props.bridgeLogRetention }),
      },
    });
    const t = Template.fromStack(stack);
    const days = (group: logs.LogGroup): unknown => t.toJSON().Resources[stack.getLogicalId(group.node.defaultChild as logs.CfnLogGroup)].Properties.RetentionInDays;
    return { bridge: days(n.amqpBridge!.bundled.logGroup), notifier: days(n.logGroup) };
  };

  it("takes the notifier's logRetention", () => {
    expect(retentions({ logRetention: logs.RetentionDays.THREE_DAYS })).toEqual({ bridge: 3, notifier: 3 });
  });
  it("keeps its own amqpBridge.logRetention when given", () => {
    expect(retentions({ logRetention: logs.RetentionDays.THREE_DAYS, bridgeLogRetention: logs.RetentionDays.ONE_WEEK })).toEqual({ bridge: 7, notifier: 3 });
  });
  it('keeps a month when neither is given', () => {
    expect(retentions({})).toEqual({ bridge: 30, notifier: 30 });
  });
});
