/**
 * Redrives one discarded batch: reads the on-failure object, runs its records through the
 * notifier exactly as the stream does (the same `createNotifier` handler: same notifications,
 * byte for byte, same `message_id`, invalid records quarantined), and marks the object done
 * once every record was published, suppressed or quarantined. Anything less (the bus missing,
 * EventBridge failing) leaves the object unmarked and says why, for the caller to try again
 * later. Redriving an object twice publishes the same notifications again under the same
 * `message_id`s, which consumers deduplicate; a done object is skipped unless forced.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { checkEventBus } from '../notifier/bus-check.js';
import { ConfigurationError } from '../notifier/errors.js';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import type { NotifierContext } from '../notifier/notifier.js';
import { parseOnFailureObject, UnreadableObjectError } from './on-failure-record.js';
import type { OnFailureStore } from './on-failure-store.js';

/** The stream handler (`createNotifier(...)`), as the redrive calls it. */
export type StreamHandlerFn = (event: { Records: readonly unknown[] }, context: NotifierContext) => Promise<DynamoDBBatchResponse>;

export type RedriveOutcome =
  /** Every record published, suppressed or quarantined; the object is now marked done. */
  | { readonly kind: 'done'; readonly records: number }
  /** Marked done before: nothing sent. */
  | { readonly kind: 'already_done' }
  /** Not finished; try again later. */
  | { readonly kind: 'retry'; readonly reason: string; readonly records: number }
  /** Not an on-failure record (marked `unreadable`; it stays in the bucket for an operator). */
  | { readonly kind: 'unreadable'; readonly reason: string }
  /** The object no longer exists: the bucket's retention ran out before it could be redriven. */
  | { readonly kind: 'gone' };

export interface RedriverDeps {
  readonly store: OnFailureStore;
  readonly handler: StreamHandlerFn;
  /** For the check, before each object, that the bus exists (PutEvents to a missing bus answers success). */
  readonly eventBridge: EventBridgeClient;
  readonly eventBusName: string;
}

export interface RedriveOptions {
  /** Redrive even an object marked done. @default false */
  readonly force?: boolean;
  readonly context: NotifierContext;
}

/** Redrives objects of one store through one notifier. */
export function createRedriver(deps: RedriverDeps): (key: string, opts: RedriveOptions) => Promise<RedriveOutcome> {
  return async (key, opts) => {
    const mark = await deps.store.mark(key);
    if (mark === 'done' && opts.force !== true) return { kind: 'already_done' };
    const text = await deps.store.read(key);
    if (text === undefined) return { kind: 'gone' };
    let records: readonly unknown[];
    try {
      records = parseOnFailureObject(text).records;
    } catch (error) {
      if (!(error instanceof UnreadableObjectError)) throw error;
      await deps.store.setMark(key, 'unreadable');
      return { kind: 'unreadable', reason: error.message };
    }
    try {
      // Objects are few and each may come after a long outage: check the bus every time.
      await checkEventBus(deps.eventBridge, deps.eventBusName, opts.context.invokedFunctionArn);
      const response = await deps.handler({ Records: records }, opts.context);
      if (response.batchItemFailures.length > 0) {
        return {
          kind: 'retry',
          records: records.length,
          reason: `records from sequence number ${response.batchItemFailures[0]!.itemIdentifier} were neither published nor quarantined`,
        };
      }
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      return { kind: 'retry', records: records.length, reason: error.message };
    }
    await deps.store.setMark(key, 'done');
    return { kind: 'done', records: records.length };
  };
}
