/**
 * The AMQP bridge as a function of its dependencies: an SQS batch from an indexer route's
 * queue in, a partial batch response out. Each message becomes Nova's oslo message
 * (oslo-message.ts) and is published on every configured topic with publisher confirms
 * (broker-publisher.ts). A message that cannot be read, or that the broker did not confirm
 * (refused, unreachable, wrong credentials, nack, returned unroutable, a channel error it
 * caused), is reported by id: SQS delivers it again and, after the queue's `maxReceiveCount`,
 * moves it to the route's dead-letter queue, which is alarmed. Nothing is acknowledged that
 * the broker has not confirmed into a queue.
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
  readonly publisher: Pick<BrokerPublisher, 'publish' | 'publishEach' | 'broker'>;
  /** Nova's `[oslo_messaging_notifications] topics`. */
  readonly topics: readonly string[];
  readonly logger: Pick<Logger, 'info' | 'error'>;
  /** Called with each confirmed notification (the local pipeline's summary). */
  readonly onPublished?: (n: OsloNotification) => void;
}

interface Pending {
  readonly id: string;
  readonly n: OsloNotification;
}

/** `errors`: the first broker error of each kind in the batch. */
export type BridgeResult = SQSBatchResponse & { stats: BridgeStats; errors: BrokerError[] };

export function createBridge(deps: BridgeDeps) {
  return async (event: Pick<SQSEvent, 'Records'>): Promise<BridgeResult> => {
    const stats: BridgeStats = { published: 0, unreadable: 0, failed: 0 };
    const failures: string[] = [];
    const errors: BrokerError[] = [];
    const ready: Pending[] = [];
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

    const settle = (p: Pending, error: BrokerError | undefined) => {
      if (error === undefined) {
        stats.published++;
        deps.onPublished?.(p.n);
        return;
      }
      stats.failed++;
      failures.push(p.id);
      if (!errors.some((e) => e.kind === error.kind)) errors.push(error); // one per kind: a batch fails alike
      if (error.kind === 'channel') {
        // Found alone on its channel: this message is the one the broker refuses, for this reason.
        deps.logger.error('the broker closed the channel over this message alone; SQS will deliver it again, then move it to the dead-letter queue', {
          messageId: p.id,
          broker: deps.publisher.broker,
          kind: error.kind,
          error: error.message,
        });
      }
    };

    // One fresh start per invocation for the whole batch: a connection that died while the
    // function was frozen or that the broker forced closed (`closed`), or a queue deleted
    // under an open connection (`unroutable`; the publisher declares the topology again).
    let retried = false;
    const retryable = (e: BrokerError) => !retried && (e.kind === 'closed' || e.kind === 'unroutable');
    let pending = ready;
    while (pending.length > 0) {
      const outcomes = await deps.publisher.publish(pending.map((p) => p.n));
      const again: Pending[] = [];
      const alone: Pending[] = [];
      pending.forEach((p, i) => {
        const error = outcomes[i];
        if (error !== undefined && error.kind === 'channel' && pending.length > 1) alone.push(p);
        else if (error !== undefined && retryable(error)) again.push(p);
        else settle(p, error);
      });
      // A channel error fails every message on the channel, innocent or not: each is published
      // again on a channel of its own, so that only the one the broker refuses fails.
      if (alone.length > 0) {
        const each = await deps.publisher.publishEach(alone.map((p) => p.n));
        alone.forEach((p, i) => {
          const error = each[i];
          if (error !== undefined && retryable(error)) again.push(p);
          else settle(p, error);
        });
      }
      if (again.length > 0) retried = true;
      pending = again;
    }
    for (const error of errors) {
      deps.logger.error('the broker did not take some notifications; SQS will deliver them again', { broker: deps.publisher.broker, kind: error.kind, error: error.message });
    }
    deps.logger.info('batch bridged', { ...stats });
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })), stats, errors };
  };
}
