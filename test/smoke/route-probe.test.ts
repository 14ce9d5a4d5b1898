/**
 * The smoke check's temporary queue as it asks SQS for it: encrypted with SQS-managed keys
 * (SSE-SQS), its policy letting only its own rule send. The clients are stand-ins that record
 * each request and answer as EventBridge and SQS do; the local pipeline's SQS stand-in accepts
 * queue attributes without keeping them, so the request itself is what is checked here.
 */
import { describe, expect, it } from 'vitest';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { RouteProbe } from '../../smoke/route-probe.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** Records every command sent and answers what RouteProbe.create reads from each. */
function recordingClients(runId: string) {
  const sent: unknown[] = [];
  const name = `hypervisor-smoke-${runId}`;
  const events = {
    send: async (command: { constructor: { name: string } }) => {
      sent.push(command);
      if (command.constructor.name === 'PutRuleCommand') return { RuleArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/nova-notifications/${name}` };
      return { FailedEntryCount: 0 };
    },
  } as unknown as EventBridgeClient;
  const sqs = {
    send: async (command: { constructor: { name: string } }) => {
      sent.push(command);
      if (command.constructor.name === 'CreateQueueCommand') return { QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}` };
      return { Attributes: { QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}` } };
    },
  } as unknown as SQSClient;
  return { sent, events, sqs };
}

describe('the smoke check’s temporary queue', () => {
  it('is created encrypted with SQS-managed keys (SSE-SQS) and accepts messages from its own rule only', async () => {
    const { sent, events, sqs } = recordingClients('0a1b2c3d');
    await new RouteProbe(events, sqs, { runId: '0a1b2c3d', busName: 'nova-notifications', source: 'nova.compute', publisherId: 'nova-compute:smoke-test-0a1b2c3d' }).create();

    const creates = sent.filter((c): c is CreateQueueCommand => c instanceof CreateQueueCommand);
    expect(creates).toHaveLength(1);
    const attributes = creates[0]!.input.Attributes ?? {};
    expect(attributes.SqsManagedSseEnabled).toBe('true');
    // SSE-SQS, not SSE-KMS: a KMS key would need a key policy letting events.amazonaws.com use it.
    expect(attributes.KmsMasterKeyId).toBeUndefined();
    const policy = JSON.parse(attributes.Policy ?? '{}') as { Statement: { Principal: unknown; Action: unknown; Condition: unknown }[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/nova-notifications/hypervisor-smoke-0a1b2c3d` } },
      }),
    ]);
  });
});
