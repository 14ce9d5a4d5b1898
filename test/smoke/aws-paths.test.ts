/**
 * The parts of `npm run smoke` only AWS has: the stack's outputs (DescribeStacks) and the
 * event source mapping's state (ListEventSourceMappings), with mocked clients.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { runSmoke } from '../../smoke/run-smoke.js';
import { targetFromStack } from '../../smoke/stack-outputs.js';

const STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/nodes/stream/2026-01-01T00:00:00.000';
const outputs = {
  TableName: 'nodes',
  TableStreamArn: STREAM,
  EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/notifications',
  EventSource: 'openstack.nova',
  FunctionName: 'notifier-fn',
  WatchedFields: 'vcpus,running_vms,memory_mb_used',
};

describe('the stack outputs', () => {
  it('name the table, stream, bus, source, function and watched fields', async () => {
    const cfn = new CloudFormationClient({ region: 'eu-west-1' });
    mockClient(cfn)
      .on(DescribeStacksCommand, { StackName: 'HN' })
      .resolves({ Stacks: [{ StackName: 'HN', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });
    expect(await targetFromStack(cfn, 'HN')).toEqual({
      tableName: 'nodes',
      streamArn: STREAM,
      bus: outputs.EventBusArn,
      source: 'openstack.nova',
      functionName: 'notifier-fn',
      watchedFields: ['vcpus', 'running_vms', 'memory_mb_used'],
    });
  });

  it('a stack that is not deployed, or not this one, is refused with the reason', async () => {
    const stackAs = (stack: Record<string, unknown>) => {
      const cfn = new CloudFormationClient({ region: 'eu-west-1' });
      mockClient(cfn).on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'HN', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), ...stack }] });
      return cfn;
    };
    await expect(targetFromStack(stackAs({ StackStatus: 'ROLLBACK_COMPLETE' }), 'HN')).rejects.toThrow(/ROLLBACK_COMPLETE: deploy it first/);
    await expect(targetFromStack(stackAs({ StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'TableName', OutputValue: 'nodes' }] }), 'HN')).rejects.toThrow(
      /lacks the outputs .*EventBusArn/,
    );
  });
});

describe('hop 1 on AWS', () => {
  const target = { tableName: 'nodes', streamArn: STREAM, bus: 'b', source: 'openstack.nova', functionName: 'notifier-fn', watchedFields: ['running_vms'] };
  const clients = (state: string) => {
    const dynamodb = new DynamoDBClient({ region: 'eu-west-1' });
    mockClient(dynamodb)
      .on(DescribeTableCommand)
      .resolves({ Table: { TableName: 'nodes', LatestStreamArn: STREAM, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } });
    const lambda = new LambdaClient({ region: 'eu-west-1' });
    mockClient(lambda)
      .on(ListEventSourceMappingsCommand, { FunctionName: 'notifier-fn', EventSourceArn: STREAM })
      .resolves({ EventSourceMappings: [{ UUID: 'm-1', State: state, StateTransitionReason: 'User action' }] });
    return { dynamodb, lambda, events: new EventBridgeClient({ region: 'eu-west-1' }), sqs: new SQSClient({ region: 'eu-west-1' }) };
  };

  it('fails, naming the state, when the event source mapping is not Enabled; nothing is written or created', async () => {
    const hops = await runSmoke(target, clients('Disabled'));
    expect(hops[0]).toMatchObject({ hop: '1', status: 'FAIL', detail: expect.stringContaining('m-1: Disabled (User action)') });
    expect(hops.filter((h) => h.status === 'not run').map((h) => h.hop)).toEqual(['2', '3', '4a', '4b', '4c', '4d', '4e']);
    expect(hops[8]).toMatchObject({ hop: '5', status: 'pass', detail: 'nothing was created' });
  });
});
