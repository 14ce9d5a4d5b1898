/**
 * One bad entry sinks nobody else's notification, a change time no timestamp can hold is
 * stopped at the edge, and the quarantine keeps to the invocation's deadline.
 */
import { describe, expect, it } from 'vitest';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { NOTIFIER_CLIENT_CONFIG } from '../../functions/notifier/client-config.js';
import { quarantine, type QuarantineItem } from '../../functions/notifier/quarantine.js';
import { MAX_CHANGE_TIME_SECONDS } from '../../functions/notifier/stream-record.js';
import { startAwsJsonServer } from '../../local/aws-json-server.js';
import { localClientConfig } from '../../local/local-aws.js';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, nodeImage } from '../support/records.js';

const creates = (n: number) => Array.from({ length: n }, (_, i) => insert(nodeImage(i + 1)));
const serviceError = (name: string, status: number) => Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode: status } });
const idOf = (detail: string) => Number(/"id":(\d+),/.exec(detail)![1]);

describe('a request refused for good for its content', () => {
  // SerializationException: what EventBridge answers for an entry it cannot read (a Time out of range);
  // InvalidParameterValueException: any other permanent error of the request's content.
  for (const name of ['SerializationException', 'InvalidParameterValueException']) {
    it(`${name}: at every position of a full request, only the guilty entry is quarantined, the others are published`, async () => {
      for (let guilty = 1; guilty <= 10; guilty++) {
        const h = harness();
        h.eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
          if (input.Entries.some((e) => idOf(e.Detail) === guilty)) throw serviceError(name, 400);
          return allAccepted(input);
        });
        h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
        const records = creates(10);
        const response = await h.invoke(records);
        expect(response.batchItemFailures, `guilty ${guilty}`).toEqual([]);
        const quarantined = h.quarantined();
        expect(quarantined.map((m) => m.eventID)).toEqual([records[guilty - 1]!.eventID]);
        expect(quarantined[0]).toMatchObject({ reason: 'event_rejected', errorCode: name });
        expect(quarantined[0]!.record).toEqual(records[guilty - 1]);
        // Every other entry reached the bus (in a request that was not refused).
        const published = new Set(
          h.eb
            .commandCalls(PutEventsCommand)
            .filter((c) => !(c.args[0].input.Entries ?? []).some((e) => idOf(e.Detail!) === guilty))
            .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => idOf(e.Detail!))),
        );
        expect([...published].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((i) => i !== guilty));
      }
    });
  }

  it('an error about the setup (a missing bus) is not blamed on the entries: one request, nothing quarantined, Lambda retries', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).rejects(serviceError('ResourceNotFoundException', 400));
    const records = creates(5);
    const response = await h.invoke(records);
    expect(h.eb.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.dynamodb.SequenceNumber }]);
  });
});

describe('the change time at the edge', () => {
  it('a record whose ApproximateCreationDateTime no Nova timestamp or PutEvents Time can hold is quarantined, naming the field, the value and the rule', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake(allAccepted);
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const far = insert(nodeImage(2), { time: 1e12 });
    const records = [insert(nodeImage(1)), far, insert(nodeImage(3), { time: MAX_CHANGE_TIME_SECONDS - 1 })];
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sentEntries().map((e) => idOf(e.Detail!))).toEqual([1, 3]);
    const [message] = h.quarantined();
    expect(message).toMatchObject({ reason: 'invalid_record', eventID: far.eventID });
    expect(message!.issues).toEqual([
      { field: 'dynamodb.ApproximateCreationDateTime', value: 1e12, rule: expect.stringContaining('before 10000-01-01T00:00:00Z') },
    ]);
    // The last second of year 9999 still is a timestamp.
    expect(JSON.parse(h.sentEntries()[1]!.Detail!).timestamp).toBe('9999-12-31 23:59:59');
  });

  it('a negative one too', async () => {
    const h = harness();
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    await h.invoke([insert(nodeImage(1), { time: -1 })]);
    expect(h.quarantined()[0]!.issues).toEqual([{ field: 'dynamodb.ApproximateCreationDateTime', value: -1, rule: expect.stringContaining('1970') }]);
  });
});

describe('the quarantine keeps to the deadline', () => {
  const items: QuarantineItem[] = [1, 2].map((key) => ({
    key,
    message: { reason: 'invalid_record', error: 'not a valid compute node', eventID: `e${key}`, eventName: 'INSERT', sequenceNumber: String(key), record: {} },
  }));

  it('sends nothing once the deadline has passed, not even a first attempt, and says why', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const sq = mockClient(client);
    sq.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await quarantine(client, 'https://sqs.us-east-1.amazonaws.com/1/q', items, { deadline: Date.now() - 1, sleep: async () => {} });
    expect(sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(result.quarantined.size).toBe(0);
    expect([...result.failed.values()]).toEqual([expect.stringContaining('deadline'), expect.stringContaining('deadline')]);
  });

  it('stops retrying when the clock passes the deadline between attempts', async () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const sq = mockClient(client);
    sq.on(SendMessageBatchCommand).rejects(serviceError('InternalError', 500));
    let clock = 1_000;
    const result = await quarantine(client, 'https://sqs.us-east-1.amazonaws.com/1/q', items, {
      deadline: 1_500,
      now: () => clock,
      random: () => 0,
      // Each wait moves the clock on: the third attempt would start after the deadline.
      sleep: async () => {
        clock += 300;
      },
    });
    expect(sq.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(result.failed.size).toBe(2);
  });

  it("the notifier's SQS client makes one attempt per send (the quarantine retries itself within the deadline)", async () => {
    let requests = 0;
    const server = await startAwsJsonServer({
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      operations: {
        SendMessageBatch: () => {
          requests++;
          throw Object.assign(new Error('unavailable'), {});
        },
      },
    });
    const client = new SQSClient({ ...localClientConfig(server.endpoint), ...NOTIFIER_CLIENT_CONFIG });
    try {
      await expect(
        client.send(new SendMessageBatchCommand({ QueueUrl: `${server.endpoint}/000000000000/q`, Entries: [{ Id: '1', MessageBody: 'x' }] })),
      ).rejects.toBeDefined();
      // An SDK default client (3 attempts) would have sent it three times.
      expect(requests).toBe(1);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});
