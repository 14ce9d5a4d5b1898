/**
 * The quarantine holds any record DynamoDB can produce: SQS's documented limits (a message and
 * a batch at most 1 MiB; only the characters #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
 * #x10000–#x10FFFF) are modelled by the fake queue below, an oversized message goes to S3
 * with a pointer in the queue (the claim check), and an entry SQS answers for neither as
 * sent nor as failed is sent again, never counted as quarantined.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { S3ClaimCheckStore, readClaimCheck, type ClaimCheckPointer } from '../../functions/notifier/claim-check.js';
import { quarantine, type QuarantineItem, type QuarantineMessage } from '../../functions/notifier/quarantine.js';
import { modify, nodeImage } from '../support/records.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/quarantine';
const BUCKET = 'on-failure-bucket';
const MiB = 1024 * 1024;
// SQS's allowed characters (SQS developer guide, quotas-messages; SendMessage API reference).
const OUTSIDE_SQS_CHARSET = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** SQS as documented: a batch over 1 MiB is refused whole, a message over 1 MiB or with a disallowed character fails alone. */
function fakeQueue(answer: (entry: SendMessageBatchRequestEntry, call: number) => 'ok' | 'missing' = () => 'ok') {
  const client = new SQSClient({ region: 'us-east-1' });
  const sq = mockClient(client);
  const stored: string[] = [];
  let calls = 0;
  sq.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
    calls++;
    const total = input.Entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!, 'utf8'), 0);
    if (total > MiB) throw Object.assign(new Error('Batch requests cannot be longer than 1048576 bytes'), { name: 'BatchRequestTooLong', $metadata: { httpStatusCode: 400 } });
    const Successful = [];
    const Failed = [];
    for (const e of input.Entries) {
      const body = e.MessageBody!;
      if (Buffer.byteLength(body, 'utf8') > MiB) Failed.push({ Id: e.Id, Code: 'InvalidParameterValue', SenderFault: true, Message: 'Message must be shorter than 1048576 bytes.' });
      else if (OUTSIDE_SQS_CHARSET.test(body)) Failed.push({ Id: e.Id, Code: 'InvalidMessageContents', SenderFault: true, Message: 'Invalid characters found.' });
      else if (answer(e, calls) === 'missing') continue;
      else {
        stored.push(body);
        Successful.push({ Id: e.Id, MessageId: `m-${stored.length}`, MD5OfMessageBody: '' });
      }
    }
    return { Successful, Failed };
  });
  return { client, sq, stored };
}

function fakeBucket() {
  const client = new S3Client({ region: 'us-east-1' });
  const s3 = mockClient(client);
  const objects = new Map<string, string>();
  s3.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: string }) => {
    expect(input.Bucket).toBe(BUCKET);
    objects.set(input.Key, input.Body);
    return {};
  });
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (body === undefined) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    return { Body: { transformToString: async () => body } };
  });
  return { client, s3, objects, store: new S3ClaimCheckStore(client, BUCKET) };
}

const item = (key: number, record: unknown, extra: Partial<QuarantineMessage> = {}): QuarantineItem => ({
  key,
  message: { reason: 'invalid_record', error: 'not a valid compute node', eventID: `ev-${key}`, eventName: 'MODIFY', sequenceNumber: String(key), record, ...extra },
});
const opts = { deadline: Date.now() + 60_000, sleep: async () => {}, random: () => 0.5 };

/**
 * A MODIFY record whose two images each stay within DynamoDB's 400 KB item limit, yet whose
 * quarantine message is over 1 MiB: a string of quotes and control characters that JSON
 * escapes to two and six bytes a character.
 */
function twoLargeImages(key: number) {
  const fat = '"\u0001'.repeat(150_000); // 300,000 bytes in DynamoDB; 1,200,000 in JSON
  const record = modify(nodeImage(key, { vcpus: { S: 'eight' }, notes: { S: fat } }), nodeImage(key, { vcpus: { S: 'nine' }, notes: { S: fat } }));
  return record;
}

describe('the quarantine sends every message SQS can take, and nothing SQS would refuse', () => {
  it('a node name with U+FFFE or U+FFFF is quarantined, and the message reads back to the record as received', async () => {
    const q = fakeQueue();
    const record = modify(nodeImage(1), nodeImage(1, { vcpus: { S: 'eight' }, hypervisor_hostname: { S: 'node\uFFFE-\uFFFF.example.org' } }));
    const result = await quarantine(q.client, QUEUE, [item(0, record)], opts);
    expect([...result.failed.values()]).toEqual([]);
    expect([...result.quarantined]).toEqual([0]);
    expect(q.stored).toHaveLength(1);
    expect(OUTSIDE_SQS_CHARSET.test(q.stored[0]!)).toBe(false);
    expect((JSON.parse(q.stored[0]!) as QuarantineMessage).record).toEqual(record);
  });

  it('any string a record can hold (every code point, lone surrogates too) makes a message SQS takes and that reads back unchanged', async () => {
    const anyText = fc.string({ unit: fc.oneof(fc.constantFrom('\uFFFE', '\uFFFF', '\u0000', '\u001F', '\uD800', '\uDFFF', '\u2028'), fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(anyText, anyText, async (name, host) => {
        const q = fakeQueue();
        const record = modify(nodeImage(1), nodeImage(1, { host: { S: host }, hypervisor_hostname: { S: name } }));
        const result = await quarantine(q.client, QUEUE, [item(0, record, { error: name })], opts);
        expect([...result.quarantined]).toEqual([0]);
        const message = JSON.parse(q.stored[0]!) as QuarantineMessage;
        expect(message.record).toEqual(record);
        expect(message.error).toBe(name);
      }),
      { numRuns: 500 },
    );
  });
});

describe('an entry SQS answers for neither as sent nor as failed', () => {
  it('is sent again, and counted as quarantined only once SQS says it was', async () => {
    const q = fakeQueue((e, call) => (e.Id === '1' && call === 1 ? 'missing' : 'ok'));
    const result = await quarantine(q.client, QUEUE, [item(0, { a: 1 }), item(1, { b: 2 })], opts);
    expect(q.sq.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(q.sq.commandCalls(SendMessageBatchCommand)[1]!.args[0].input.Entries!.map((e) => e.Id)).toEqual(['1']);
    expect([...result.quarantined].sort()).toEqual([0, 1]);
    expect(q.stored.map((b) => (JSON.parse(b) as QuarantineMessage).eventID).sort()).toEqual(['ev-0', 'ev-1']);
  });

  it('is reported as not quarantined when SQS never answers for it', async () => {
    const q = fakeQueue((e) => (e.Id === '1' ? 'missing' : 'ok'));
    const result = await quarantine(q.client, QUEUE, [item(0, { a: 1 }), item(1, { b: 2 })], opts);
    expect([...result.quarantined]).toEqual([0]);
    expect(result.failed.get(1)).toMatch(/neither/);
  });
});

describe('a message over 1 MiB (the claim check)', () => {
  it('a MODIFY record with two large images within the item limit is held: the whole message in S3, a pointer in the queue', async () => {
    const q = fakeQueue();
    const b = fakeBucket();
    const record = twoLargeImages(7);
    const message = item(0, record).message;
    expect(Buffer.byteLength(JSON.stringify(message), 'utf8')).toBeGreaterThan(MiB);

    const result = await quarantine(q.client, QUEUE, [item(0, record), item(1, { small: true })], { ...opts, claimCheck: b.store });
    expect([...result.failed.entries()]).toEqual([]);
    expect([...result.quarantined].sort()).toEqual([0, 1]);

    const pointerMessage = q.stored.map((s) => JSON.parse(s) as QuarantineMessage & { claimCheck?: ClaimCheckPointer }).find((m) => m.eventID === 'ev-0')!;
    expect(pointerMessage.record).toBeUndefined();
    // What summary reads is still in the queue.
    expect(pointerMessage).toMatchObject({ reason: 'invalid_record', eventID: 'ev-0', eventName: 'MODIFY', sequenceNumber: '0' });
    const pointer = pointerMessage.claimCheck!;
    expect(pointer.bucket).toBe(BUCKET);
    const stored = b.objects.get(pointer.key)!;
    expect(pointer.bytes).toBe(Buffer.byteLength(stored, 'utf8'));
    expect(pointer.sha256).toBe(createHash('sha256').update(stored, 'utf8').digest('hex'));
    expect(JSON.parse(stored)).toEqual(JSON.parse(JSON.stringify(message)));

    // The reader follows the pointer back to the message as it would have been.
    const full = await readClaimCheck(pointerMessage, b.store);
    expect(full).toMatchObject({ kind: 'message', message: JSON.parse(JSON.stringify(message)) });
    expect((full as { message: QuarantineMessage }).message.record).toEqual(record);
  });

  it('the same record quarantined twice (a retried invocation) is stored under the same key', async () => {
    const b = fakeBucket();
    const record = twoLargeImages(8);
    await quarantine(fakeQueue().client, QUEUE, [item(0, record)], { ...opts, claimCheck: b.store });
    await quarantine(fakeQueue().client, QUEUE, [item(0, record)], { ...opts, claimCheck: b.store });
    expect(b.s3.commandCalls(PutObjectCommand)).toHaveLength(2);
    expect(b.objects.size).toBe(1);
  });

  it('a pointer whose object is gone says so, naming the key', async () => {
    const b = fakeBucket();
    const result = await readClaimCheck({ reason: 'invalid_record', claimCheck: { bucket: BUCKET, key: 'quarantine/x.json', bytes: 3, sha256: 'ab' } }, b.store);
    expect(result).toMatchObject({ kind: 'unreadable', reason: expect.stringContaining('quarantine/x.json') });
  });

  it('an object that does not match its pointer (bytes, digest) is not taken for the message', async () => {
    const b = fakeBucket();
    b.objects.set('quarantine/y.json', JSON.stringify({ reason: 'invalid_record', record: { tampered: true } }));
    const result = await readClaimCheck({ reason: 'invalid_record', claimCheck: { bucket: BUCKET, key: 'quarantine/y.json', bytes: 3, sha256: 'ab' } }, b.store);
    expect(result).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(/digest|bytes/) });
  });

  it('when S3 refuses the object, the record is reported (Lambda retries it), not quarantined without its content', async () => {
    const q = fakeQueue();
    const b = fakeBucket();
    b.s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const result = await quarantine(q.client, QUEUE, [item(0, twoLargeImages(9)), item(1, { small: true })], { ...opts, claimCheck: b.store });
    expect([...result.quarantined]).toEqual([1]);
    expect(result.failed.get(0)).toMatch(/AccessDenied/);
    expect(q.stored.map((s) => (JSON.parse(s) as QuarantineMessage).eventID)).toEqual(['ev-1']);
  });

  it('without a claim-check bucket, an oversized message is reported with the reason and the setting to fix it', async () => {
    const q = fakeQueue();
    const result = await quarantine(q.client, QUEUE, [item(0, twoLargeImages(10))], opts);
    expect(result.failed.get(0)).toMatch(/1048576.*QUARANTINE_BUCKET/);
  });

  it('starts no S3 write after the deadline', async () => {
    const q = fakeQueue();
    const b = fakeBucket();
    const result = await quarantine(q.client, QUEUE, [item(0, twoLargeImages(11))], { ...opts, deadline: Date.now() - 1, claimCheck: b.store });
    expect(b.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(result.failed.get(0)).toMatch(/deadline/);
  });
});
