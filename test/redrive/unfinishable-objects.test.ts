/**
 * The redrive never loops on an object: a record whose quarantine message is over SQS's 1 MiB
 * is claim-checked and the object finished, and an object that still cannot complete is
 * parked (tagged with the reason, counted for the alarm) after its last attempt, not retried
 * with growing delays until the bucket's lifecycle deletes it.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { readClaimCheck } from '../../functions/notifier/claim-check.js';
import { REDRIVE_METRIC } from '../../functions/redrive/redrive-function.js';
import { allAccepted } from '../support/notifier-harness.js';
import { insert, modify, nodeImage } from '../support/records.js';
import { MemoryClaimCheck, s3Object, setup } from './support.js';

const KEY = 'aws/lambda/0f3b/shardId-1/2026/12/01/2026-12-01T10.00.00-9a9a';
const MiB = 1024 * 1024;

/** A MODIFY record with two images each within DynamoDB's 400 KB item limit, whose quarantine message is over 1 MiB (JSON escapes each character of the string to 2 or 6 bytes). */
function twoLargeImages() {
  const fat = '"\u0001'.repeat(150_000);
  return modify(nodeImage(5, { vcpus: { S: 'eight' }, notes: { S: fat } }), nodeImage(5, { vcpus: { S: 'nine' }, notes: { S: fat } }));
}

describe('a record the quarantine could not hold', () => {
  it('is claim-checked on the first attempt: the object is done, the pointer quarantined, the rest of its batch published once', async () => {
    const claimCheck = new MemoryClaimCheck();
    const h = setup({ claimCheck });
    const fat = twoLargeImages();
    expect(Buffer.byteLength(JSON.stringify(fat), 'utf8')).toBeGreaterThan(MiB);
    h.store.objects.set(KEY, s3Object([insert(nodeImage(1)), fat, insert(nodeImage(2))]));

    const response = await h.deliver(KEY);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.delays()).toEqual([]);
    expect(h.store.marks.get(KEY)).toBe('done');
    expect(h.sent()).toHaveLength(2);

    const [pointerMessage] = h.quarantined();
    expect(pointerMessage).toMatchObject({ reason: 'invalid_record', eventID: fat.eventID });
    const full = await readClaimCheck(pointerMessage, claimCheck);
    expect(full.kind).toBe('message');
    expect((full as { message: { record: unknown } }).message.record).toEqual(fat);

    // Delivered again (SQS delivers at least once): nothing sent twice.
    await h.deliver(KEY);
    expect(h.sent()).toHaveLength(2);
  });
});

describe('an object that cannot complete', () => {
  /** Every quarantine send refused for good: the invalid record is neither published nor quarantined, on every attempt. */
  function refusingQuarantine(maxAttempts: number) {
    const h = setup({ maxAttempts });
    h.sq.on(SendMessageBatchCommand).rejects(Object.assign(new Error('The KMS key is disabled'), { name: 'KmsDisabled', $metadata: { httpStatusCode: 400 } }));
    h.store.objects.set(KEY, s3Object([insert(nodeImage(1)), insert(nodeImage(2, { vcpus: { S: 'eight' } }))]));
    return h;
  }

  it('is retried with growing delays until its last attempt, then parked: tagged with the reason, counted, its message finished', async () => {
    const h = refusingQuarantine(4);
    for (let receive = 1; receive <= 3; receive++) {
      const response = await h.deliver(KEY, { receiveCount: receive });
      expect(response.batchItemFailures, `attempt ${receive}`).toHaveLength(1);
      expect(h.store.marks.get(KEY)).toBeUndefined();
    }
    expect(h.delays()).toEqual([60, 120, 240]);

    const last = await h.deliver(KEY, { receiveCount: 4 });
    expect(last.batchItemFailures).toEqual([]);
    expect(h.delays()).toHaveLength(3);
    expect(h.store.marks.get(KEY)).toBe('parked');
    expect(h.store.reasons.get(KEY)).toMatch(/after 4 attempts.*neither published nor quarantined/);
    expect(h.metrics.total(REDRIVE_METRIC.parked)).toBe(1);
    expect(h.metrics.total(REDRIVE_METRIC.retries)).toBe(4);
  });

  it('counts the attempts a re-sent message carries: parked when they reach the limit', async () => {
    const h = refusingQuarantine(10);
    const body = JSON.stringify({ redrive: { bucket: 'on-failure-bucket', key: KEY, attempts: 9, firstSeen: '2026-12-01T10:00:00.000Z' } });
    const response = await h.deliver(KEY, { body, receiveCount: 1 });
    expect(response.batchItemFailures).toEqual([]);
    expect(h.store.marks.get(KEY)).toBe('parked');
  });

  it('is not parked when it completes on its last attempt', async () => {
    const h = setup({ maxAttempts: 2 });
    h.eb
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
      .callsFake(allAccepted);
    h.store.objects.set(KEY, s3Object([insert(nodeImage(1))]));
    // One refusal, retried within the invocation: the attempt completes.
    const response = await h.deliver(KEY, { receiveCount: 2 });
    expect(response.batchItemFailures).toEqual([]);
    expect(h.store.marks.get(KEY)).toBe('done');
    expect(h.metrics.total(REDRIVE_METRIC.parked)).toBe(0);
  });

  it('when the tag cannot be written, the message stays and is tried again (nothing is dropped unmarked)', async () => {
    const h = refusingQuarantine(1);
    h.store.setMark = async () => {
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    };
    const response = await h.deliver(KEY, { receiveCount: 1 });
    expect(response.batchItemFailures).toHaveLength(1);
    expect(h.metrics.total(REDRIVE_METRIC.parked)).toBe(0);
  });
});
