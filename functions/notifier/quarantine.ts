/**
 * The quarantine: records that cannot become a notification go to an SQS queue with their
 * full content and the reason, so nothing is lost and an operator sees why. Messages are
 * sent ten to a request; failed ones, and ones SQS answers for neither as sent nor as failed,
 * are retried until the deadline. A message too large for SQS goes whole to S3 and the queue
 * gets a pointer to it (`claim-check.ts`). A record that cannot be quarantined either is
 * reported to Lambda as a batch item failure.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { claimCheckPointer, type ClaimCheckPointer, type ClaimCheckStore } from './claim-check.js';
import type { FieldIssue } from './errors.js';
import { packBatches } from './pack-batches.js';
import { forEachConcurrently, retryPolicy, sleep, type RetryOptions } from './retry-policy.js';
import { isTransientError } from './transient-errors.js';

/** What an operator reads in a quarantined message. */
export interface QuarantineMessage {
  /** `invalid_record`: the image is not a valid compute node. `event_rejected`: EventBridge refused the entry. */
  readonly reason: 'invalid_record' | 'event_rejected';
  readonly error: string;
  readonly issues?: readonly FieldIssue[];
  readonly errorCode?: string;
  readonly eventID: string;
  readonly eventName: string;
  readonly sequenceNumber: string;
  readonly eventSourceARN?: string;
  /** The stream record exactly as received. */
  readonly record: unknown;
}

/** What the queue holds for a message too large for it: the message less its record and issue values, and where the whole one is. */
export type ClaimCheckedMessage = Omit<QuarantineMessage, 'record' | 'issues'> & {
  readonly issues?: readonly Pick<FieldIssue, 'field' | 'rule'>[];
  readonly claimCheck: ClaimCheckPointer;
};

export interface QuarantineItem {
  readonly key: number;
  readonly message: QuarantineMessage;
}

// SQS: ten messages a request; a message and a request at most 1 MiB, 1,048,576 bytes (the
// queue's MaximumMessageSize must allow it: the stack sets it to 1 MiB). SendMessage, SQS API
// Reference; SQS developer guide, quotas-messages. A larger message goes to the claim check.
const MAX_BATCH = 10;
/** SQS's largest message body, in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_BYTES = MAX_MESSAGE_BYTES;
/** How much of the error text a pointer message keeps (the stored message has all of it). */
const POINTER_ERROR_CHARS = 4096;

/**
 * JSON text SQS takes. SQS allows only #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
 * #x10000–#x10FFFF in a body and refuses the rest (InvalidMessageContents; quotas-messages).
 * JSON.stringify already escapes control characters and lone surrogates; U+FFFE and U+FFFF it
 * leaves as they are, and they can occur only inside a string, where the escape means the same.
 */
function sqsJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** The pointer message for a stored one: what `quarantine summary` counts by stays readable in the queue. */
function claimCheckedMessage(message: QuarantineMessage, pointer: ClaimCheckPointer): ClaimCheckedMessage {
  const { record: _record, issues, error, ...rest } = message;
  return {
    ...rest,
    error: error.length > POINTER_ERROR_CHARS ? `${error.slice(0, POINTER_ERROR_CHARS)}… (whole in the stored message)` : error,
    ...(issues === undefined ? {} : { issues: issues.map((i) => ({ field: i.field, rule: i.rule })) }),
    claimCheck: pointer,
  };
}

export interface QuarantineResult {
  readonly quarantined: Set<number>;
  readonly failed: Map<number, string>;
}

/** Sends the items to the queue; never throws for a delivery failure. */
export async function quarantine(
  client: SQSClient,
  queueUrl: string,
  items: readonly QuarantineItem[],
  opts: Omit<RetryOptions, 'deadline'> & {
    deadline: number;
    sleep?: (ms: number) => Promise<void>;
    /** Where a message over 1 MiB is kept whole (the queue gets a pointer); without it such a record is reported to Lambda. */
    claimCheck?: ClaimCheckStore | undefined;
  },
): Promise<QuarantineResult> {
  const result: QuarantineResult = { quarantined: new Set(), failed: new Map() };
  const now = opts.now ?? Date.now;
  const bodies: { key: number; body: string; size: number }[] = [];
  const oversized: { key: number; message: QuarantineMessage; body: string; size: number }[] = [];
  for (const item of items) {
    const body = sqsJson(item.message);
    const size = Buffer.byteLength(body, 'utf8');
    if (size <= MAX_BYTES) bodies.push({ key: item.key, body, size });
    else if (opts.claimCheck === undefined) result.failed.set(item.key, `quarantine message is ${size} bytes; SQS takes at most ${MAX_BYTES}, and no claim-check bucket is set (QUARANTINE_BUCKET) to keep it in S3`);
    else oversized.push({ key: item.key, message: item.message, body, size });
  }
  const store = opts.claimCheck;
  if (store !== undefined) {
    await forEachConcurrently(oversized, 2, async (o) => {
      // The same deadline as the queue's sends below.
      if (now() >= opts.deadline) return void result.failed.set(o.key, `not stored in S3 (claim check, ${o.size} bytes): the invocation's deadline passed`);
      const pointer = claimCheckPointer(store.bucket, o.body);
      try {
        await store.put(pointer.key, o.body);
      } catch (error) {
        return void result.failed.set(o.key, `claim check s3://${pointer.bucket}/${pointer.key} not stored: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
      const body = sqsJson(claimCheckedMessage(o.message, pointer));
      const size = Buffer.byteLength(body, 'utf8');
      if (size > MAX_BYTES) result.failed.set(o.key, `even the claim-check pointer message is ${size} bytes; SQS takes at most ${MAX_BYTES}`);
      else bodies.push({ key: o.key, body, size });
    });
  }
  const batches = packBatches(bodies, MAX_BATCH, MAX_BYTES);

  const wait = opts.sleep ?? sleep;
  await forEachConcurrently(batches, 2, async (batch) => {
    const policy = retryPolicy(opts);
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      // The same deadline as PutEvents, the first attempt included: a send that starts after it
      // would eat the reserve the invocation keeps to answer Lambda. The records are reported
      // instead, and Lambda retries them. (The client makes one attempt per send, within
      // REQUEST_TIMEOUTS: see NOTIFIER_CLIENT_CONFIG.)
      if (now() >= opts.deadline) {
        for (const b of pending) result.failed.set(b.key, `not sent: the invocation's deadline passed${attempt > 1 ? ` after ${attempt - 1} attempt(s)` : ''}`);
        return;
      }
      let error = '';
      let retry: typeof batch = [];
      try {
        const out = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map((b) => ({ Id: String(b.key), MessageBody: b.body })),
          }),
        );
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        const sent = new Set((out.Successful ?? []).map((s) => s.Id));
        for (const b of pending) {
          const f = failed.get(String(b.key));
          if (f === undefined && sent.has(String(b.key))) result.quarantined.add(b.key);
          else if (f === undefined) {
            // As the publisher treats an entry missing from the answer: not known to be sent, so sent again.
            error = 'SQS listed the message neither as successful nor as failed';
            retry.push(b);
          } else {
            error = `${f.Code ?? 'Failed'}: ${f.Message ?? ''}`;
            if (f.SenderFault === true) result.failed.set(b.key, error);
            else retry.push(b);
          }
        }
      } catch (e) {
        error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        if (!isTransientError(e)) {
          for (const b of pending) result.failed.set(b.key, error);
          return;
        }
        retry = pending;
      }
      if (retry.length === 0) return;
      const delay = policy.delayBefore(attempt);
      if (delay === undefined) {
        for (const b of retry) result.failed.set(b.key, error);
        return;
      }
      await wait(delay);
      pending = retry;
    }
  });
  return result;
}
