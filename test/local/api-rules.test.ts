/**
 * Rules made at run time on the local bus (PutRule, PutTargets, RemoveTargets, DeleteRule)
 * delivering to queues made at run time on the SQS stand-in (CreateQueue, GetQueueAttributes,
 * DeleteQueue): what `npm run smoke` does on AWS, with the real SDK clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteRuleCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startEventBusServer, type EventBusServer } from '../../local/event-bus-server.js';
import { startSqsServer, type SqsServer } from '../../local/sqs-server.js';
import { localClientConfig } from '../../local/local-aws.js';
import type { TemplateRule } from '../../local/stack-template.js';

const TEMPLATE_RULE: TemplateRule = { logicalId: 'R', name: 'from-template', description: undefined, eventPattern: { source: ['x'] }, enabled: true, targets: [] };

let bus: EventBusServer;
let sqsServer: SqsServer;
let events: EventBridgeClient;
let sqs: SQSClient;

beforeAll(async () => {
  sqsServer = await startSqsServer({ queues: ['quarantine'] });
  bus = await startEventBusServer({ busName: 'local', rules: [TEMPLATE_RULE], targets: [], deliverToArn: (arn, json) => sqsServer.sqs.deliverToArn(arn, json) });
  events = new EventBridgeClient({ ...localClientConfig(bus.endpoint), maxAttempts: 1 });
  sqs = new SQSClient({ ...localClientConfig(sqsServer.endpoint), maxAttempts: 1 });
});

afterAll(async () => {
  events.destroy();
  sqs.destroy();
  await bus.close();
  await sqsServer.close();
});

const put = (publisher: string) =>
  events.send(new PutEventsCommand({ Entries: [{ Source: 'openstack.nova', DetailType: 'compute_node.create', Detail: JSON.stringify({ publisher_id: publisher }), EventBusName: 'local' }] }));

describe('rules and queues made at run time', () => {
  it('deliver the matching events to the queue, and only while the rule and its target exist', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'probe', Attributes: { SqsManagedSseEnabled: 'false' } }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    expect(arn).toBe('arn:aws:sqs:us-east-1:000000000000:probe');
    const rule = await events.send(new PutRuleCommand({ Name: 'probe', EventBusName: 'local', EventPattern: JSON.stringify({ detail: { publisher_id: ['nova-compute:a'] } }) }));
    expect(rule.RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/local/probe');
    await events.send(new PutTargetsCommand({ Rule: 'probe', EventBusName: 'local', Targets: [{ Id: 'q', Arn: arn }] }));
    await put('nova-compute:a');
    await put('nova-compute:b');
    const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages ?? [];
    expect(got.map((m) => JSON.parse(m.Body!).detail.publisher_id)).toEqual(['nova-compute:a']);
    // A rule with targets cannot be deleted, as on AWS.
    await expect(events.send(new DeleteRuleCommand({ Name: 'probe', EventBusName: 'local' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await events.send(new RemoveTargetsCommand({ Rule: 'probe', EventBusName: 'local', Ids: ['q'] }));
    await put('nova-compute:a');
    expect(sqsServer.sqs.messages('probe')).toHaveLength(1);
    await events.send(new DeleteRuleCommand({ Name: 'probe', EventBusName: 'local' }));
    expect(bus.bus.apiRuleNames).toEqual([]);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    expect(() => sqsServer.sqs.getQueueUrl({ QueueName: 'probe' })).toThrow(/does not exist/);
  });

  it('refuse an invalid pattern, a template rule\'s name, another bus, and targets of a rule that does not exist', async () => {
    await expect(events.send(new PutRuleCommand({ Name: 'bad', EventBusName: 'local', EventPattern: '{"source": "not-an-array"}' }))).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
    await expect(events.send(new PutRuleCommand({ Name: 'from-template', EventBusName: 'local', EventPattern: '{"source":["x"]}' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(events.send(new PutRuleCommand({ Name: 'r', EventBusName: 'other', EventPattern: '{"source":["x"]}' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(events.send(new PutTargetsCommand({ Rule: 'nope', EventBusName: 'local', Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:q' }] }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('an event for a target queue that does not exist is not delivered, and nothing lands in the quarantine', async () => {
    await events.send(new PutRuleCommand({ Name: 'to-nowhere', EventBusName: 'local', EventPattern: JSON.stringify({ detail: { publisher_id: ['nova-compute:c'] } }) }));
    await events.send(new PutTargetsCommand({ Rule: 'to-nowhere', EventBusName: 'local', Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:gone' }] }));
    const before = bus.bus.stats.deliveries;
    await put('nova-compute:c');
    expect(bus.bus.stats.deliveries).toBe(before);
    expect(sqsServer.sqs.messages('quarantine')).toEqual([]);
    await events.send(new RemoveTargetsCommand({ Rule: 'to-nowhere', EventBusName: 'local', Ids: ['q'] }));
    await events.send(new DeleteRuleCommand({ Name: 'to-nowhere', EventBusName: 'local' }));
  });
});
