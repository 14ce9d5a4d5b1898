/**
 * The quarantine: records that cannot become a notification go to an SQS queue with their
 * full content and the reason, so nothing is lost and an operator sees why. Messages are
 * sent ten to a request; failed ones are retried until the deadline. A record that cannot
 * be quarantined either is reported to Lambda as a batch item failure.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
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

export interface QuarantineItem {
  readonly key: number;
  readonly message: QuarantineMessage;
}

// SQS: ten messages a request; a message and a request at most 1 MiB (the queue's
// MaximumMessageSize must allow it: the stack sets it to 1 MiB). A record larger than that
// is reported to Lambda instead, whose S3 on-failure destination keeps it whole.
const MAX_BATCH = 10;
const MAX_BYTES = 1024 * 1024;

export interface QuarantineResult {
  readonly quarantined: Set<number>;
  readonly failed: Map<number, string>;
}

/** Sends the items to the queue; never throws for a delivery failure. */
export async function quarantine(
  client: SQSClient,
  queueUrl: string,
  items: readonly QuarantineItem[],
  opts: Omit<RetryOptions, 'deadline'> & { deadline: number; sleep?: (ms: number) => Promise<void> },
): Promise<QuarantineResult> {
  const result: QuarantineResult = { quarantined: new Set(), failed: new Map() };
  const bodies: { key: number; body: string; size: number }[] = [];
  for (const item of items) {
    const body = JSON.stringify(item.message);
    const size = Buffer.byteLength(body, 'utf8');
    if (size > MAX_BYTES) result.failed.set(item.key, `quarantine message is ${size} bytes; SQS takes at most ${MAX_BYTES}`);
    else bodies.push({ key: item.key, body, size });
  }
  const batches = packBatches(bodies, MAX_BATCH, MAX_BYTES);

  const wait = opts.sleep ?? sleep;
  const now = opts.now ?? Date.now;
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
        for (const b of pending) {
          const f = failed.get(String(b.key));
          if (f === undefined) result.quarantined.add(b.key);
          else {
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
