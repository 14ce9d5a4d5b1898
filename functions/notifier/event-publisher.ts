/**
 * Puts entries on the bus: packs them into PutEvents requests (10 entries and under
 * 256 KB each) as they are added, sends each request the moment it is full (so the bus's
 * answer time overlaps the building of the rest of the batch), at most `concurrency` at once,
 * checks every response's per-entry results, and retries what failed transiently. No attempt,
 * the first included, starts after the deadline.
 *
 * @example
 * ```ts
 * const publisher = createEventPublisher(client, { concurrency: 4, deadline: Date.now() + 50_000 });
 * for (const item of items) if (publisher.add(item)) await yieldToSends(); // a request went out
 * const result = await publisher.finish();
 * // result.published / result.rejected (permanent, with error code) / result.unsent
 * ```
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_SIZE } from './put-events-entry.js';
import { entryFault } from './entry-error-codes.js';
import { errorCodeOf, isSetupError, isTransientError, isValidationError } from './transient-errors.js';
import { BatchPacker } from './pack-batches.js';
import { retryPolicy, sleep, type RetryOptions } from './retry-policy.js';

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
  /**
   * Left unsent, for Lambda to retry: transient failures to the end, the deadline passed before
   * an attempt, or an error the records are not to blame for (access, a missing bus, a per-entry
   * code about the setup such as `NotAuthorizedForDetailTypeException`: see entry-error-codes.ts).
   */
  readonly unsent: Map<number, string>;
  /** Entries sent again after a transient failure. */
  retries: number;
  requests: number;
}

export interface PublishOptions extends Omit<RetryOptions, 'deadline'> {
  readonly deadline: number;
  readonly concurrency: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Called for an error the records are not to blame for (access denied, a missing bus), thrown
   * or per entry (once per answer, for its first such entry).
   */
  readonly onSetupError?: (error: unknown) => void;
  /** PutEvents through this global endpoint (`EndpointId`; the client must be able to sign SigV4a). @default - the regional endpoint */
  readonly endpointId?: string;
}

export interface EventPublisher {
  /**
   * Adds the next entry (in record order). Returns true when this started a request: the
   * caller should then yield to the event loop (`yieldToSends`) so the SDK can put it on the
   * wire before the caller goes on building.
   */
  add(item: OutgoingEntry): boolean;
  /** Sends what is left and resolves when every request has its final answer; never rejects. */
  finish(): Promise<PublishResult>;
  /**
   * Sends nothing more: drops what is not yet on its way and resolves when the requests already
   * out have their answers (so none runs on into the next invocation). For a batch that is to be
   * retried whole: what is dropped is neither published nor reported, and the retry sends it.
   */
  abort(): Promise<void>;
}

/** Lets requests just started reach the network (their SDK middleware runs in later ticks). */
export const yieldToSends = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A publisher for one batch; entries are added as they are built. */
export function createEventPublisher(client: EventBridgeClient, opts: PublishOptions): EventPublisher {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError(`concurrency must be a whole number of at least 1, not ${opts.concurrency}`);
  const result: PublishResult = { published: new Set(), rejected: new Map(), unsent: new Map(), retries: 0, requests: 0 };
  const wait = opts.sleep ?? sleep;
  const endpoint = opts.endpointId === undefined ? {} : { EndpointId: opts.endpointId };
  const now = opts.now ?? Date.now;
  const queued: OutgoingEntry[][] = [];
  let inFlight = 0;
  let launched = 0;
  let finished = false;
  let settle: (() => void) | undefined;
  let done: Promise<void> | undefined;
  /** Set by the first refusal for the setup's sake (access, a permission), with its reason. */
  let setupRefusal: string | undefined;
  const packer = new BatchPacker<OutgoingEntry>(MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_SIZE, (request) => {
    queued.push(request);
    pump();
  });

  /** Starts queued requests while slots are free. */
  function pump(): void {
    while (inFlight < opts.concurrency && queued.length > 0) {
      const request = queued.shift()!;
      if (setupRefusal !== undefined) {
        // A request not yet started holds only entries after every one already out (requests
        // leave in record order), so after the refused one: Lambda retries the batch from that
        // one, and sending these now would only publish them twice.
        for (const e of request) result.unsent.set(e.key, `not sent: an earlier entry was refused for the setup's sake (${setupRefusal})`);
        continue;
      }
      inFlight++;
      launched++;
      send(request)
        .catch((error: unknown) => {
          // send() reports every delivery failure in `result`; this is a bug's last line of defence:
          // the entries are reported unsent, so Lambda retries them and nothing is lost.
          const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          for (const e of request) if (!result.published.has(e.key) && !result.rejected.has(e.key)) result.unsent.set(e.key, why);
        })
        .finally(() => {
          inFlight--;
          pump();
          if (finished && inFlight === 0 && queued.length === 0) settle?.();
        });
    }
  }

  function add(item: OutgoingEntry): boolean {
    // After finish() or abort() nothing would send it: failing loudly beats losing it.
    if (finished) throw new Error('EventPublisher.add called after finish() or abort()');
    if (item.size > MAX_REQUEST_SIZE) {
      result.rejected.set(item.key, { errorCode: 'EntryTooLarge', errorMessage: `entry is ${item.size} bytes as EventBridge counts it; the limit is under 256 KB` });
      return false;
    }
    const before = launched;
    packer.push(item);
    // Only the first wave is worth a turn of the event loop: it puts the bus to work while the
    // rest is built. Later requests start as earlier ones are answered; yielding for each of
    // them too costs CPU (measured: ~2 µs a record on an instant bus) and gains no wall time
    // while building is faster than the bus answers.
    return launched > before && launched <= opts.concurrency;
  }

  /** One promise for every caller: settles when nothing is queued or in flight. */
  function drained(): Promise<void> {
    finished = true;
    done ??= inFlight === 0 && queued.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => (settle = resolve));
    return done;
  }

  function finish(): Promise<PublishResult> {
    if (!finished) packer.flush();
    return drained().then(() => result);
  }

  function abort(): Promise<void> {
    packer.discard();
    queued.length = 0;
    return drained();
  }

  /** Sends `request` until every entry has its final answer; `cause`: why it is being sent (alone). */
  async function send(request: OutgoingEntry[], cause = ''): Promise<void> {
    const policy = retryPolicy(opts);
    let pending = request;
    let lastError = cause;
    for (let attempt = 1; ; attempt++) {
      // Before every attempt, the first included (a request queued behind the concurrency limit,
      // an entry sent alone): one that starts after the deadline can outlast the invocation, and
      // Lambda would retry the whole batch. The entries are reported; Lambda retries from there.
      if (now() >= opts.deadline) {
        const why = `not sent: the invocation's deadline passed${lastError === '' ? '' : ` (after ${lastError})`}`;
        for (const e of pending) result.unsent.set(e.key, why);
        return;
      }
      const retry: OutgoingEntry[] = [];
      try {
        result.requests++;
        const response = await client.send(new PutEventsCommand({ ...endpoint, Entries: pending.map((e) => e.entry) }));
        const answers = response.Entries ?? [];
        if (answers.length !== pending.length) {
          // A response that does not account for each entry proves nothing about any of them.
          retry.push(...pending);
          lastError = `PutEvents answered ${answers.length} results for ${pending.length} entries`;
        } else {
          let setupError: Error | undefined;
          pending.forEach((e, i) => {
            const { ErrorCode: code, ErrorMessage: message = '' } = answers[i]!;
            if (code === undefined || code === null || code === '') {
              result.published.add(e.key);
              return;
            }
            switch (entryFault(code)) {
              case 'transient':
                retry.push(e);
                lastError = `${code}: ${message}`;
                break;
              case 'content':
                result.rejected.set(e.key, { errorCode: code, errorMessage: message });
                break;
              case 'setup':
                // Access to the bus, the source or the detail type: the same entry would be refused
                // again, and any other record of its kind too. Not the record's fault: unsent.
                result.unsent.set(e.key, `${code}: ${message}`);
                setupError ??= Object.assign(new Error(`${code}: ${message}`), { name: code });
                setupRefusal ??= `${code}: ${message}`;
                break;
            }
          });
          if (setupError !== undefined) opts.onSetupError?.(setupError);
        }
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (isSetupError(error)) {
          // Access, credentials, a missing bus: no entry is to blame, and none would go through alone.
          opts.onSetupError?.(error);
          setupRefusal ??= lastError;
          for (const e of pending) result.unsent.set(e.key, lastError);
          return;
        }
        if (isValidationError(error) || !isTransientError(error)) {
          // Refused for good for its content (ValidationException, SerializationException from an
          // entry EventBridge cannot read, ...): one entry can sink the whole request, so send them
          // one by one; the guilty one is refused alone and quarantined, the others go through.
          if (pending.length === 1) result.rejected.set(pending[0]!.key, { errorCode: errorCodeOf(error), errorMessage: lastError });
          else for (const e of pending) await send([e], lastError);
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

  return { add, finish, abort };
}
