/**
 * One bad entry sinks nobody else's notification, an entry refused for the setup's sake is
 * never blamed on its record, a change time no timestamp can hold is stopped at the edge, and
 * neither PutEvents nor the quarantine starts an attempt after the invocation's deadline.
 */
import { describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { NOTIFIER_CLIENT_CONFIG } from '../../functions/notifier/client-config.js';
import { createEventPublisher, type OutgoingEntry } from '../../functions/notifier/event-publisher.js';
import { quarantine, type QuarantineItem } from '../../functions/notifier/quarantine.js';
import { MAX_CHANGE_TIME_SECONDS } from '../../functions/notifier/stream-record.js';
import { startAwsJsonServer } from '../../local/aws-json-server.js';
import { localClientConfig } from '../../local/local-aws.js';
import { allAccepted, allQueued, harness } from '../support/notifier-harness.js';
import { insert, nodeImage, remove } from '../support/records.js';

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

/**
 * Every per-entry `ErrorCode` AWS documents for PutEvents (EventBridge API reference,
 * PutEventsResultEntry, `ErrorCode`: docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html),
 * and what each must do to a valid record's entry. Written from the page, not from the code.
 */
const DOCUMENTED_ENTRY_CODES: Record<string, 'retry' | 'report' | 'quarantine'> = {
  // "Retryable errors"
  InternalFailure: 'retry',
  ThrottlingException: 'retry',
  // "Non-retryable errors" about the caller's permissions or account: the setup, not the record.
  AccessDeniedException: 'report',
  NotAuthorizedForSourceException: 'report',
  NotAuthorizedForDetailTypeException: 'report',
  InvalidAccountIdException: 'report',
  // "Redacting the CloudTrail event failed": the service's own step, not the record's content.
  RedactionFailure: 'report',
  // "Non-retryable errors" about the entry's content: the record is to blame.
  InvalidArgument: 'quarantine',
  MalformedDetail: 'quarantine',
};

describe('each per-entry error code AWS documents for PutEvents, classified on purpose', () => {
  /** Three creates in one request; the bus refuses the second entry with `code` once, then takes everything. */
  async function refuseSecond(code: string) {
    const h = harness();
    let calls = 0;
    h.eb.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
      if (calls++ > 0) return allAccepted(input);
      return { FailedEntryCount: 1, Entries: input.Entries.map((_, i) => (i === 1 ? { ErrorCode: code, ErrorMessage: `${code} from the bus` } : { EventId: `e${i}` })) };
    });
    h.sq.on(SendMessageBatchCommand).callsFake(allQueued);
    const records = creates(3);
    const response = await h.invoke(records);
    return { h, records, response, sentIds: h.sentEntries().map((e) => idOf(e.Detail!)) };
  }

  for (const [code, fate] of Object.entries(DOCUMENTED_ENTRY_CODES)) {
    if (fate === 'retry') {
      it(`${code}: retried within the invocation, then published; nothing quarantined or reported`, async () => {
        const { h, response, sentIds } = await refuseSecond(code);
        expect(response.batchItemFailures).toEqual([]);
        expect(sentIds).toEqual([1, 2, 3, 2]);
        expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
      });
    } else if (fate === 'report') {
      it(`${code}: a setup error, not the record's: left unsent, not retried, not quarantined, reported to Lambda, logged and counted`, async () => {
        const { h, records, response, sentIds } = await refuseSecond(code);
        expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb.SequenceNumber }]);
        // Sent once: the same request again would meet the same refusal.
        expect(sentIds).toEqual([1, 2, 3]);
        expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
        expect(h.emitted.join('\n')).toMatch(/"PutEventsFailures":1\b/);
        const errors = h.logs.filter((l) => (l as { level?: string }).level === 'ERROR').map((l) => JSON.stringify(l));
        expect(errors.some((l) => l.includes(code) && l.includes('not to blame'))).toBe(true);
      });
    } else {
      it(`${code}: the entry's content is refused: the record is quarantined with the code, the others published`, async () => {
        const { h, records, response, sentIds } = await refuseSecond(code);
        expect(response.batchItemFailures).toEqual([]);
        expect(sentIds).toEqual([1, 2, 3]);
        const quarantined = h.quarantined();
        expect(quarantined).toHaveLength(1);
        expect(quarantined[0]).toMatchObject({ reason: 'event_rejected', errorCode: code, eventID: records[1]!.eventID });
      });
    }
  }

  it('a code AWS does not document is not blamed on the record: reported to Lambda, not quarantined', async () => {
    const { h, records, response } = await refuseSecond('SomethingNewException');
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb.SequenceNumber }]);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('a denied detail type among several requests: its record is reported, every record before it published, none quarantined', async () => {
    const h = harness();
    h.eb.on(PutEventsCommand).callsFake((input: { Entries: { DetailType: string }[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((e, i) =>
        e.DetailType === 'compute_node.delete' ? { ErrorCode: 'NotAuthorizedForDetailTypeException', ErrorMessage: 'not authorized for this detail type' } : { EventId: `e${i}` },
      ),
    }));
    const records = Array.from({ length: 25 }, (_, i) => (i === 17 ? remove(nodeImage(i + 1)) : insert(nodeImage(i + 1))));
    const response = await h.invoke(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[17]!.dynamodb.SequenceNumber }]);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const accepted = new Set(h.sentEntries().filter((e) => e.DetailType !== 'compute_node.delete').map((e) => idOf(e.Detail!)));
    for (let id = 1; id <= 17; id++) expect(accepted.has(id), `record ${id}`).toBe(true);
  });
});

describe('after a refusal for the setup', () => {
  it('starts no request still waiting behind the concurrency limit: Lambda retries from the refused record, so they would only be published twice', async () => {
    const h = harness({ PUT_EVENTS_CONCURRENCY: '1' });
    let calls = 0;
    h.eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => {
      if (calls++ > 0) return allAccepted(input);
      return { FailedEntryCount: 1, Entries: input.Entries.map((_, i) => (i === 3 ? { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'not authorized for this source' } : { EventId: `e${i}` })) };
    });
    const records = creates(30);
    const response = await h.invoke(records);
    expect(h.eb.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[3]!.dynamodb.SequenceNumber }]);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('PutEvents keeps to the deadline', () => {
  /** A bus that answers each request when the test says so (or at once, with `instant`). */
  function heldBus(instant = false) {
    const held: { keys: number[]; answer: () => void }[] = [];
    const client = {
      send: (command: PutEventsCommand) =>
        new Promise((resolve) => {
          const entries = command.input.Entries ?? [];
          const answer = () => resolve({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e${i}` })) });
          held.push({ keys: entries.map((e) => Number(e.Detail)), answer });
          if (instant) answer();
        }),
    };
    // The publisher only calls send(PutEventsCommand); nothing else of the client is needed.
    return { client: client as unknown as EventBridgeClient, held };
  }
  const entry = (key: number): OutgoingEntry => ({ key, entry: { Source: 's', DetailType: 'd', Detail: String(key) }, size: 100 });
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('sends no first attempt once the deadline has passed, and reports every entry unsent with the reason', async () => {
    const bus = heldBus(true);
    const p = createEventPublisher(bus.client, { concurrency: 4, deadline: 1_000, now: () => 1_000 });
    for (let k = 0; k < 15; k++) p.add(entry(k));
    const result = await p.finish();
    expect(bus.held).toHaveLength(0);
    expect(result.published.size).toBe(0);
    expect([...result.unsent.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, k) => k));
    for (const why of result.unsent.values()) expect(why).toMatch(/deadline/);
  });

  it('does not start a request queued behind the concurrency limit once the deadline has passed', async () => {
    const bus = heldBus();
    let clock = 0;
    const p = createEventPublisher(bus.client, { concurrency: 1, deadline: 1_000, now: () => clock });
    for (let k = 0; k < 30; k++) p.add(entry(k));
    const done = p.finish();
    await tick();
    expect(bus.held).toHaveLength(1); // the first request out, two queued behind it
    clock = 999;
    bus.held[0]!.answer();
    await tick();
    expect(bus.held).toHaveLength(2); // the second starts just in time
    clock = 1_000;
    bus.held[1]!.answer();
    await tick();
    bus.held[2]?.answer(); // (should it start after all, let the test end on the assertions below)
    const result = await done;
    expect(bus.held).toHaveLength(2); // the third never starts
    expect(result.published.size).toBe(20);
    expect([...result.unsent.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, k) => 20 + k));
    for (const why of result.unsent.values()) expect(why).toMatch(/deadline/);
  });

  it('on a slow bus, the invocation reports to Lambda the records it never sent, and quarantines none', async () => {
    let clock = 0;
    // Deadline: 10 s left, less the 2 s kept to answer (20 %): 8 s.
    const h = harness({ PUT_EVENTS_CONCURRENCY: '1' }, { now: () => clock });
    h.eb.on(PutEventsCommand).callsFake((input: unknown) => {
      clock += 5_000; // each request takes the bus 5 s
      return allAccepted(input as { Entries: unknown[] });
    });
    const records = creates(30);
    const response = await h.invoke(records, 10_000);
    // The first two requests start at 0 s and 5 s; the third would start at 10 s, after the deadline.
    expect(h.eb.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[20]!.dynamodb.SequenceNumber }]);
    expect(h.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
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
