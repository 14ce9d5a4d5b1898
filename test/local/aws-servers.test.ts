/**
 * The local EventBridge and SQS stand-ins answering the real SDK clients, unchanged but
 * for `endpoint`: PutEvents validation as EventBridge does it, routing by a rule, and the
 * SQS JSON protocol (with the SDK's MD5 checks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startEventBusServer, type EventBusServer } from '../../local/event-bus-server.js';
import { startSqsServer, type SqsServer } from '../../local/sqs-server.js';
import { localClientConfig } from '../../local/local-aws.js';
import { IndexerSink, type DeliveredEvent } from '../../local/targets.js';
import { firstInt64Overflow } from '../../local/json-integers.js';
import type { TemplateRule } from '../../local/stack-template.js';

const RULE: TemplateRule = {
  logicalId: 'UpdatesRule',
  name: 'updates-rule',
  description: undefined,
  eventPattern: { source: ['openstack.nova'], 'detail-type': ['compute_node.update'], detail: { change: { changed_fields: ['running_vms'] } } },
  enabled: true,
  targets: [{ id: 'Target0', logicalId: 'Queue', type: 'AWS::SQS::Queue', name: 'indexer-queue' }],
};

const entry = (detail: string, detailType = 'compute_node.update') => ({ Source: 'openstack.nova', DetailType: detailType, Detail: detail, Time: new Date('2026-03-04T05:06:07.890Z') });

describe('local EventBridge (PutEvents)', () => {
  let server: EventBusServer;
  let client: EventBridgeClient;
  const sink = new IndexerSink();
  const seen: { event: DeliveredEvent; matched: readonly string[] }[] = [];

  beforeAll(async () => {
    server = await startEventBusServer({ busName: 'test-bus', rules: [RULE], targets: [sink], onEvent: (event, matched) => void seen.push({ event, matched }) });
    client = new EventBridgeClient({ ...localClientConfig(server.endpoint), maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  it('listens on loopback only', () => {
    expect(new URL(server.endpoint).hostname).toBe('127.0.0.1');
  });

  it('accepts entries, answers an EventId each, and delivers the event as EventBridge does to the matching rule target', async () => {
    const detail = '{"n":18446744073709551615000e-3,"big":9223372036854775807,"change":{"changed_fields":["running_vms"]}}';
    const out = await client.send(new PutEventsCommand({ Entries: [{ ...entry(detail), EventBusName: server.bus.busArn }, entry('{"change":{"changed_fields":["vcpus"]}}')] }));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(2);
    expect(out.Entries!.every((e) => typeof e.EventId === 'string' && e.ErrorCode === undefined)).toBe(true);

    const deliveries = sink.deliveries('indexer-queue');
    expect(deliveries).toHaveLength(1);
    const d = deliveries[0]!;
    expect(d.rule).toBe('updates-rule');
    expect(d.event).toMatchObject({
      version: '0',
      id: out.Entries![0]!.EventId,
      'detail-type': 'compute_node.update',
      source: 'openstack.nova',
      account: '000000000000',
      time: '2026-03-04T05:06:07Z',
      region: 'us-east-1',
      resources: [],
    });
    // The Detail's text is kept as sent (a parse would round the 64-bit integer).
    expect(d.eventJson).toContain('"detail":' + detail);
    expect(Object.keys(JSON.parse(d.eventJson) as object)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    // The second event matched no rule but was still accepted.
    expect(seen.map((s) => s.matched)).toEqual([['updates-rule'], []]);
  });

  it('refuses per entry a Detail that is not a JSON object, or holds an integer outside 64 bits, and accepts the rest', async () => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [entry('not json'), entry('[1,2]'), entry('{"id":9223372036854775808}'), entry('{"id":-9223372036854775808}'), { Source: 'openstack.nova', Detail: '{}' }],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'MalformedDetail', 'MalformedDetail', 'ok', 'InvalidArgument']);
    expect(out.Entries![2]!.ErrorMessage).toContain('9223372036854775808');
    expect(out.Entries![4]!.ErrorMessage).toContain('DetailType');
  });

  it('refuses a request of more than 10 entries, or over 256 KB, as a ValidationException', async () => {
    const eleven = Array.from({ length: 11 }, () => entry('{}'));
    await expect(client.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({ name: 'ValidationException' });
    const big = entry(JSON.stringify({ pad: 'x'.repeat(256 * 1024) }));
    await expect(client.send(new PutEventsCommand({ Entries: [big] }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('finds integers outside the signed 64-bit range only outside strings', () => {
    expect(firstInt64Overflow('{"a":"99999999999999999999","b":[1,-2,3.5e40]}')).toBeUndefined();
    expect(firstInt64Overflow('{"a":"x\\"","b":99999999999999999999}')).toBe('99999999999999999999');
    expect(firstInt64Overflow('{"b":-9223372036854775809}')).toBe('-9223372036854775809');
    expect(firstInt64Overflow('{"b":9223372036854775807}')).toBeUndefined();
  });
});

describe('local SQS (JSON protocol)', () => {
  let server: SqsServer;
  let client: SQSClient;

  beforeAll(async () => {
    server = await startSqsServer({ queues: ['quarantine'] });
    client = new SQSClient(localClientConfig(server.endpoint));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  it('takes SendMessageBatch and SendMessage from the real client (which checks the MD5s), and stores the messages in order', async () => {
    const QueueUrl = server.queueUrl('quarantine');
    const batch = await client.send(
      new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '0', MessageBody: '{"reason":"invalid_record"}' }, { Id: '1', MessageBody: 'ünïcode body' }] }),
    );
    expect(batch.Successful?.map((s) => s.Id)).toEqual(['0', '1']);
    expect(batch.Failed ?? []).toEqual([]);
    const single = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'third' }));
    expect(single.MessageId).toBeTruthy();
    expect(server.sqs.messages('quarantine').map((m) => m.body)).toEqual(['{"reason":"invalid_record"}', 'ünïcode body', 'third']);
  });

  it('answers ReceiveMessage, DeleteMessage and GetQueueUrl', async () => {
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'quarantine' }));
    expect(QueueUrl).toBe(server.queueUrl('quarantine'));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.length).toBeGreaterThan(0);
    const first = received.Messages![0]!;
    // Received messages are invisible for the visibility timeout.
    const again = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(again.Messages ?? []).toEqual([]);
    const before = server.sqs.messages('quarantine').length;
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle }));
    expect(server.sqs.messages('quarantine')).toHaveLength(before - 1);
  });

  it('answers errors the client understands: unknown queue, too many entries, duplicate ids', async () => {
    await expect(client.send(new SendMessageCommand({ QueueUrl: server.queueUrl('nope'), MessageBody: 'x' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    const QueueUrl = server.queueUrl('quarantine');
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: String(i), MessageBody: 'x' }));
    await expect(client.send(new SendMessageBatchCommand({ QueueUrl, Entries: eleven }))).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: 'x' }, { Id: 'a', MessageBody: 'y' }] })),
    ).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
  });
});
