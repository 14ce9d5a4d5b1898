/**
 * Every function's logs go to a log group of the stack with a retention, in every
 * configuration, CDK's own bucket-notifications handler included (else Lambda creates
 * /aws/lambda/<name> itself, without a retention, outside the stack, and it outlives the stack);
 * and a new Amazon MQ broker's log group, which Amazon MQ creates itself, gets a retention and
 * goes with the stack (infra/broker-log-group.ts).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEPLOY_CONFIGURATIONS } from './configurations.js';
import { buildTestApp } from './helpers.js';

// The synthesized template is untyped CloudFormation JSON: `any` where the test walks into it.
type Resource = { Type: string; Properties: Record<string, any> };

describe('log groups', () => {
  it.each(DEPLOY_CONFIGURATIONS.map((c) => [c.name, c] as const))('%s: every function logs to a log group of the stack with a retention', (_name, c) => {
    const resources = Template.fromStack(buildTestApp({ ...c.context }).stack).toJSON().Resources as Record<string, Resource>;
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
      const resources = Template.fromStack(buildTestApp({ ...c.context }).stack).toJSON().Resources as Record<string, Resource>;
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
      const template = Template.fromStack(buildTestApp({ ...c.context }).stack).toJSON() as { Resources: Record<string, Resource & { DependsOn?: string[] }> };
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
