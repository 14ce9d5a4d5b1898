/**
 * The AMQP bridge as a function of its dependencies: an SQS batch from an indexer route's
 * queue in, a partial batch response out. Each message becomes Nova's oslo message
 * (oslo-message.ts) and is published on every configured topic with publisher confirms
 * (broker-publisher.ts). A message that cannot be read, or that the broker did not confirm
 * (refused, unreachable, wrong credentials, nack), is reported by id: SQS delivers it again
 * and, after the queue's `maxReceiveCount`, moves it to the route's dead-letter queue, which
 * is alarmed. Nothing is acknowledged that the broker has not confirmed.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { BrokerError, BrokerPublisher } from './broker-publisher.js';
import { osloNotification, UnbridgeableMessageError, type OsloNotification } from './oslo-message.js';

export interface BridgeStats {
  /** Notifications the broker confirmed on every topic. */
  published: number;
  /** Messages that are not notifications the bridge can publish (they reach the dead-letter queue). */
  unreadable: number;
  /** Messages the broker did not confirm (retried by SQS). */
  failed: number;
}

export interface BridgeDeps {
  readonly publisher: Pick<BrokerPublisher, 'publish' | 'broker'>;
  /** Nova's `[oslo_messaging_notifications] topics`. */
  readonly topics: readonly string[];
  readonly logger: Pick<Logger, 'info' | 'error'>;
  /** Called with each confirmed notification (the local pipeline's summary). */
  readonly onPublished?: (n: OsloNotification) => void;
}

/** `errors`: the first broker error of each kind in the batch. */
export type BridgeResult = SQSBatchResponse & { stats: BridgeStats; errors: BrokerError[] };

export function createBridge(deps: BridgeDeps) {
  return async (event: Pick<SQSEvent, 'Records'>): Promise<BridgeResult> => {
    const stats: BridgeStats = { published: 0, unreadable: 0, failed: 0 };
    const failures: string[] = [];
    const errors: BrokerError[] = [];
    const ready: { id: string; n: OsloNotification }[] = [];
    for (const record of event.Records ?? []) {
      try {
        ready.push({ id: record.messageId, n: osloNotification(record.body, deps.topics) });
      } catch (error) {
        if (!(error instanceof UnbridgeableMessageError)) throw error;
        stats.unreadable++;
        failures.push(record.messageId);
        deps.logger.error('message is not a compute node notification the bridge can publish; it will reach the dead-letter queue', {
          messageId: record.messageId,
          reason: error.message,
        });
      }
    }

    let pending = ready;
    // A connection that died while the function was frozen fails with `closed`: one fresh
    // connection is tried within the invocation before SQS's own redelivery.
    for (let attempt = 1; pending.length > 0; attempt++) {
      const outcomes = await deps.publisher.publish(pending.map((p) => p.n));
      const again: typeof pending = [];
      pending.forEach((p, i) => {
        const error = outcomes[i];
        if (error === undefined) {
          stats.published++;
          deps.onPublished?.(p.n);
        } else if (attempt === 1 && error.kind === 'closed') again.push(p);
        else {
          stats.failed++;
          failures.push(p.id);
          if (!errors.some((e) => e.kind === error.kind)) errors.push(error); // one per kind: a batch fails alike
        }
      });
      pending = again;
    }
    for (const error of errors) {
      deps.logger.error('the broker did not take some notifications; SQS will deliver them again', { broker: deps.publisher.broker, kind: error.kind, error: error.message });
    }
    deps.logger.info('batch bridged', { ...stats });
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })), stats, errors };
  };
}
