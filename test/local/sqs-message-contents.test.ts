/**
 * The SQS stand-in refuses what SQS refuses: a body with a character outside SQS's allowed set
 * (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF; SQS developer guide,
 * quotas-messages) fails with InvalidMessageContents. Through it, the quarantine still holds a
 * record whose node name carries U+FFFE or U+FFFF.
 */
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quarantine } from '../../functions/notifier/quarantine.js';
import { localClientConfig } from '../../local/local-aws.js';
import { startSqsServer, type SqsServer } from '../../local/sqs-server.js';
import { modify, nodeImage } from '../support/records.js';

let server: SqsServer;
let client: SQSClient;
beforeAll(async () => {
  server = await startSqsServer({ queues: ['q', 'quarantine'], maxMessageBytes: 1024 * 1024 });
  client = new SQSClient({ ...localClientConfig(server.endpoint), maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('the SQS stand-in and the characters SQS allows', () => {
  it('refuses a message with U+FFFF, U+FFFE or a control character, alone or in a batch; takes the escaped text and the characters SQS allows', async () => {
    for (const bad of ['\uFFFF', '\uFFFE', '\u0000', '\u001F']) {
      await expect(client.send(new SendMessageCommand({ QueueUrl: server.queueUrl('q'), MessageBody: `name ${bad}` }))).rejects.toMatchObject({ name: 'InvalidMessageContents' });
    }
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: server.queueUrl('q'),
        Entries: [
          { Id: 'bad', MessageBody: '{"name":"\uFFFF"}' },
          { Id: 'good', MessageBody: '{"name":"\\uffff \t\r\n \uFFFD \u{1F600} \uE000"}' },
        ],
      }),
    );
    expect(out.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'InvalidMessageContents', SenderFault: true })]);
    expect(out.Successful?.map((s) => s.Id)).toEqual(['good']);
  });

  it('the quarantine holds a record whose node name carries U+FFFE and U+FFFF, and the queued message reads back to it', async () => {
    const record = modify(nodeImage(1), nodeImage(1, { vcpus: { S: 'eight' }, hypervisor_hostname: { S: 'node-\uFFFE\uFFFF' } }));
    const result = await quarantine(
      client,
      server.queueUrl('quarantine'),
      [{ key: 0, message: { reason: 'invalid_record', error: 'not a valid compute node', eventID: record.eventID, eventName: 'MODIFY', sequenceNumber: record.dynamodb.SequenceNumber, record } }],
      { deadline: Date.now() + 30_000, sleep: async () => {} },
    );
    expect([...result.failed.values()]).toEqual([]);
    const stored = server.sqs.messages('quarantine').map((m) => JSON.parse(m.body) as { eventID?: string; record?: unknown }).find((m) => m.eventID === record.eventID);
    expect(stored?.record).toEqual(record);
  });
});
