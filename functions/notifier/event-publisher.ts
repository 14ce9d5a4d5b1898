/**
 * Puts entries on the bus: packs them into PutEvents requests (10 entries and under
 * 256 KB each), sends the requests concurrently with a bound, checks every response's
 * per-entry results, and retries what failed transiently until the deadline.
 *
 * @example
 * ```ts
 * const result = await publishEntries(client, items, { concurrency: 4, deadline: Date.now() + 50_000 });
 * // result.published / result.rejected (permanent, with error code) / result.unsent
 * ```
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_SIZE } from './put-events-entry.js';
import { RETRYABLE_ENTRY_CODES, errorCodeOf, isSetupError, isTransientError, isValidationError } from './transient-errors.js';
import { packBatches } from './pack-batches.js';
import { forEachConcurrently, retryPolicy, sleep, type RetryOptions } from './retry-policy.js';

export interface OutgoingEntry {
  /** The caller's key (the record's index in the batch). */
  readonly key: number;
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
}

export interface EntryRejection {
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface PublishResult {
  readonly published: Set<number>;
  /** Refused for good (an entry's error code, a request refused for its content when sent alone, too large): these go to quarantine. */
  readonly rejected: Map<number, EntryRejection>;
  /** Not published in time (transient failures to the end, or an error the records are not to blame for: access, a missing bus). */
  readonly unsent: Map<number, string>;
  /** Entries sent again after a transient failure. */
  retries: number;
  requests: number;
}

export interface PublishOptions extends Omit<RetryOptions, 'deadline'> {
  readonly deadline: number;
  readonly concurrency: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called for a thrown error the records are not to blame for (access denied, missing bus). */
  readonly onRequestError?: (error: unknown) => void;
}

/** Packs entries in order into requests within EventBridge's count and size limits. */
export function packRequests(entries: readonly OutgoingEntry[]): OutgoingEntry[][] {
  return packBatches(entries, MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_SIZE);
}

/** Publishes all entries; never throws for a delivery failure (the result says what happened). */
export async function publishEntries(client: EventBridgeClient, entries: readonly OutgoingEntry[], opts: PublishOptions): Promise<PublishResult> {
  const result: PublishResult = { published: new Set(), rejected: new Map(), unsent: new Map(), retries: 0, requests: 0 };
  const wait = opts.sleep ?? sleep;
  const sendable: OutgoingEntry[] = [];
  for (const e of entries) {
    if (e.size > MAX_REQUEST_SIZE) {
      result.rejected.set(e.key, { errorCode: 'EntryTooLarge', errorMessage: `entry is ${e.size} bytes as EventBridge counts it; the limit is under 256 KB` });
    } else {
      sendable.push(e);
    }
  }

  async function send(request: OutgoingEntry[]): Promise<void> {
    const policy = retryPolicy(opts);
    let pending = request;
    for (let attempt = 1; ; attempt++) {
      const retry: OutgoingEntry[] = [];
      let lastError = '';
      try {
        result.requests++;
        const response = await client.send(new PutEventsCommand({ Entries: pending.map((e) => e.entry) }));
        const answers = response.Entries ?? [];
        if (answers.length !== pending.length) {
          // A response that does not account for each entry proves nothing about any of them.
          retry.push(...pending);
          lastError = `PutEvents answered ${answers.length} results for ${pending.length} entries`;
        } else {
          pending.forEach((e, i) => {
            const code = answers[i]!.ErrorCode;
            if (code === undefined || code === null || code === '') result.published.add(e.key);
            else if (RETRYABLE_ENTRY_CODES.has(code)) {
              retry.push(e);
              lastError = `${code}: ${answers[i]!.ErrorMessage ?? ''}`;
            } else result.rejected.set(e.key, { errorCode: code, errorMessage: answers[i]!.ErrorMessage ?? '' });
          });
        }
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (isSetupError(error)) {
          // Access, credentials, a missing bus: no entry is to blame, and none would go through alone.
          opts.onRequestError?.(error);
          for (const e of pending) result.unsent.set(e.key, lastError);
          return;
        }
        if (isValidationError(error) || !isTransientError(error)) {
          // Refused for good for its content (ValidationException, SerializationException from an
          // entry EventBridge cannot read, ...): one entry can sink the whole request, so send them
          // one by one; the guilty one is refused alone and quarantined, the others go through.
          if (pending.length === 1) result.rejected.set(pending[0]!.key, { errorCode: errorCodeOf(error), errorMessage: lastError });
          else {
            for (const e of pending) {
              // Each entry alone is a new request: none starts after the deadline.
              if ((opts.now ?? Date.now)() >= opts.deadline) result.unsent.set(e.key, `${lastError} (not sent alone: the invocation's deadline passed)`);
              else await send([e]);
            }
          }
          return;
        }
        retry.push(...pending);
      }
      if (retry.length === 0) return;
      const delay = policy.delayBefore(attempt);
      if (delay === undefined) {
        for (const e of retry) result.unsent.set(e.key, lastError);
        return;
      }
      result.retries += retry.length;
      await wait(delay);
      pending = retry;
    }
  }

  await forEachConcurrently(packRequests(sendable), opts.concurrency, send);
  return result;
}
