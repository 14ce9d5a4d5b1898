/**
 * The new Amazon MQ broker's defaults fit production: the RabbitMQ version AWS recommends
 * (4.2, on mq.m7g only) and an instance type AWS does not size for testing only (mq.m7g.large);
 * 3.13 where the chosen type has no 4.2.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildTestApp, NOTIFIER_ONLY } from './helpers.js';

const BROKER = { createBroker: true, vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] };
const broker = (amqpBridge: object) => {
  const brokers = Template.fromStack(buildTestApp({ ...NOTIFIER_ONLY, exampleRoute: false, amqpBridge }).stack).findResources('AWS::AmazonMQ::Broker');
  expect(Object.keys(brokers)).toHaveLength(1);
  return (Object.values(brokers)[0] as { Properties: { EngineVersion: string; HostInstanceType: string } }).Properties;
};

describe('new broker defaults', () => {
  it('RabbitMQ 4.2 on mq.m7g.large', () => {
    expect(broker(BROKER)).toMatchObject({ EngineVersion: '4.2', HostInstanceType: 'mq.m7g.large' });
  });

  it('3.13 on a type without 4.2; a given version is kept', () => {
    expect(broker({ ...BROKER, brokerInstanceType: 'mq.m5.large' })).toMatchObject({ EngineVersion: '3.13', HostInstanceType: 'mq.m5.large' });
    expect(broker({ ...BROKER, brokerEngineVersion: '3.13' })).toMatchObject({ EngineVersion: '3.13', HostInstanceType: 'mq.m7g.large' });
  });
});
