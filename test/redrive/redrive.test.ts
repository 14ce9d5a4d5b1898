/**
 * The redrive function on mocked clients: byte equality with the stream path, idempotence,
 * back-off while the bus is missing or failing, re-sending before the queue's retention ends,
 * quarantine of invalid records, and the objects it cannot redrive.
 */
import { DescribeEventBusCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ResourceNotFoundException } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { backoffSeconds, nextStep } from '../../functions/redrive/backoff.js';
import { parseOnFailureObject, UnreadableObjectError } from '../../functions/redrive/on-failure-record.js';
import { decodeS3Key, objectCreatedBody, parseRedriveMessage } from '../../functions/redrive/redrive-message.js';
import { insert, modify, nodeImage } from '../support/records.js';
import { BUCKET, s3Object, setup } from './support.js';

const KEY = 'aws/lambda/0f3b/shardId-1/2026/12/01/2026-12-01T10.00.00-1c2d';

function batch() {
  const a = nodeImage(1);
  const b = nodeImage(2);
  return [insert(a), insert(b), modify(a, nodeImage(1, { running_vms: { N: '3' }, vcpus_used: { N: '3' } })), modify(b, nodeImage(2, { host_ip: { S: '192.0.2.99' } }))];
}

const missingBus = () => new ResourceNotFoundException({ message: 'Event bus notifications does not exist.', $metadata: {} });

describe('redrive of an on-failure object', () => {
  it('publishes exactly the entries the stream path publishes for the same records, byte for byte', async () => {
    const records = batch();
    const streamSide = setup();
    await streamSide.stream(records);
    const expected = streamSide.sent().map((e) => JSON.stringify(e));
    expect(expected.length).toBeGreaterThanOrEqual(3);

    const redriveSide = setup();
    redriveSide.store.objects.set(KEY, s3Object(records));
    const response = await redriveSide.deliver(KEY);
    expect(response.batchItemFailures).toEqual([]);
    expect(redriveSide.sent().map((e) => JSON.stringify(e))).toEqual(expected);
    expect(redriveSide.store.marks.get(KEY)).toBe('done');
  });

  it('is idempotent: a second delivery of the same object sends nothing; --force sends the same message_ids again', async () => {
    const s = setup();
    s.store.objects.set(KEY, s3Object(batch()));
    await s.deliver(KEY);
    const first = s.sent().map((e) => JSON.stringify(e));
    await s.deliver(KEY);
    expect(s.sent()).toHaveLength(first.length);
    expect(s.eb.commandCalls(PutEventsCommand)).toHaveLength(1);

    const outcome = await s.notifier({ Records: parseOnFailureObject(s.store.objects.get(KEY)!).records }, s.context);
    expect(outcome.batchItemFailures).toEqual([]);
    const again = s.sent().slice(first.length).map((e) => JSON.stringify(e));
    expect(again).toEqual(first);
  });

  it('backs off with doubling delays while the bus is missing, publishes nothing, then redrives once the bus exists', async () => {
    const s = setup({ baseDelaySeconds: 60 });
    s.store.objects.set(KEY, s3Object(batch()));
    s.eb.on(DescribeEventBusCommand).rejects(missingBus());
    for (let receive = 1; receive <= 5; receive++) {
      const response = await s.deliver(KEY, { receiveCount: receive });
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: `m-${receive}` }]);
    }
    expect(s.delays()).toEqual([60, 120, 240, 480, 960]);
    expect(s.sent()).toEqual([]);
    expect(s.store.marks.has(KEY)).toBe(false);

    s.eb.on(DescribeEventBusCommand).resolves({ Arn: 'arn:aws:events:us-east-1:123456789012:event-bus/notifications' });
    const response = await s.deliver(KEY, { receiveCount: 6 });
    expect(response.batchItemFailures).toEqual([]);
    expect(s.sent().length).toBeGreaterThan(0);
    expect(s.store.marks.get(KEY)).toBe('done');
  });

  it('backs off while EventBridge refuses every entry, and the delay stops growing at 12 hours', async () => {
    const s = setup({ baseDelaySeconds: 60 });
    s.store.objects.set(KEY, s3Object(batch()));
    s.eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'down' })),
    }));
    const response = await s.deliver(KEY, { receiveCount: 11 });
    expect(response.batchItemFailures).toHaveLength(1);
    expect(s.delays()).toEqual([43_200]);
    expect(s.store.marks.has(KEY)).toBe(false);
  });

  it('sends the message again, with its attempt count, before the queue would drop it; the new message carries the back-off on', async () => {
    const now = Date.now();
    const s = setup({ baseDelaySeconds: 60, now: () => now });
    s.store.objects.set(KEY, s3Object(batch()));
    s.eb.on(DescribeEventBusCommand).rejects(missingBus());
    const response = await s.deliver(KEY, { receiveCount: 30, sentAt: now - 13.9 * 86_400_000 });
    // The old message may go: the re-sent one stands for the object now.
    expect(response.batchItemFailures).toEqual([]);
    const [resent] = s.resent();
    expect(resent?.DelaySeconds).toBe(900);
    const message = parseRedriveMessage(resent!.MessageBody!);
    expect(message).toEqual({ kind: 'objects', targets: [{ bucket: BUCKET, key: KEY, priorAttempts: 30, firstSeen: expect.any(String) }] });

    await s.deliver(KEY, { receiveCount: 1, body: resent!.MessageBody! });
    expect(s.delays()).toEqual([43_200]);
  });

  it('quarantines the invalid records as the stream does, publishes the rest, and marks the object done', async () => {
    const s = setup();
    const bad = insert(nodeImage(7, { vcpus: { N: '8.5' } }));
    const good = insert(nodeImage(8));
    s.store.objects.set(KEY, s3Object([bad, good]));
    const response = await s.deliver(KEY);
    expect(response.batchItemFailures).toEqual([]);
    const q = s.quarantined();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ reason: 'invalid_record', eventID: bad.eventID, record: bad });
    expect((q[0]!.issues as { field: string }[]).map((i) => i.field)).toContain('vcpus');
    expect(s.sent()).toHaveLength(1);
    expect(s.store.marks.get(KEY)).toBe('done');
  });

  it('tags an object that is not an on-failure record as unreadable and leaves it; a vanished object ends the message', async () => {
    const s = setup();
    s.store.objects.set(KEY, JSON.stringify({ version: '1.0', DDBStreamBatchInfo: { shardId: 's' } }));
    expect((await s.deliver(KEY)).batchItemFailures).toEqual([]);
    expect(s.store.marks.get(KEY)).toBe('unreadable');
    expect(s.store.objects.has(KEY)).toBe(true);
    expect((await s.deliver('aws/lambda/gone')).batchItemFailures).toEqual([]);
    expect(s.sent()).toEqual([]);
  });

  it("ignores S3's test event and notifications for another bucket", async () => {
    const s = setup();
    s.store.objects.set(KEY, s3Object(batch()));
    expect((await s.deliver(KEY, { body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKET }) })).batchItemFailures).toEqual([]);
    expect((await s.deliver(KEY, { body: objectCreatedBody('someone-else', KEY) })).batchItemFailures).toEqual([]);
    expect(s.store.reads).toEqual([]);
  });
});

describe('on-failure objects and messages', () => {
  const records = batch();

  it('reads the records from payload (escaped JSON, as Lambda writes it), from a payload object, and from a local `records` line', () => {
    expect(parseOnFailureObject(s3Object(records)).records).toEqual(records);
    expect(parseOnFailureObject(JSON.stringify({ version: '1.0', payload: { Records: records } })).records).toEqual(records);
    expect(parseOnFailureObject(JSON.stringify({ version: '1.0', records })).records).toEqual(records);
  });

  it('says why an object is unreadable: metadata only, a payload without Records, not JSON', () => {
    expect(() => parseOnFailureObject(JSON.stringify({ version: '1.0', DDBStreamBatchInfo: {} }))).toThrow(/only an S3 destination keeps the records/);
    expect(() => parseOnFailureObject(JSON.stringify({ payload: '{"records": []}' }))).toThrow(UnreadableObjectError);
    expect(() => parseOnFailureObject('{')).toThrow(/not JSON/);
  });

  it("decodes S3's form-encoded keys, and the local notification round-trips a key with spaces and symbols", () => {
    expect(decodeS3Key('aws/lambda/a+b/c%3Ad')).toBe('aws/lambda/a b/c:d');
    const key = 'aws/lambda/id/shard 1/2026/12/01/2026-12-01T10.00.00-x+y';
    expect(parseRedriveMessage(objectCreatedBody(BUCKET, key))).toMatchObject({ kind: 'objects', targets: [{ bucket: BUCKET, key }] });
  });

  it('back-off doubles from the base to the cap; a message near the end of its retention is re-sent', () => {
    const s = { baseDelaySeconds: 30, maxDelaySeconds: 600, queueRetentionSeconds: 86_400 };
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => backoffSeconds(n, s))).toEqual([30, 60, 120, 240, 480, 600, 600]);
    expect(nextStep(2, 0, s)).toEqual({ kind: 'hide', seconds: 60 });
    expect(nextStep(6, 86_400 - 3_600 - 600, s)).toEqual({ kind: 'resend', delaySeconds: 600 });
    expect(nextStep(6, 86_400 - 3_600 - 601, s)).toEqual({ kind: 'hide', seconds: 600 });
  });
});
