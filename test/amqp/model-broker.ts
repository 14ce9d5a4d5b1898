/**
 * A model of the broker behind `BrokerPublisher.publish`, for the bridge's batch logic. A
 * script that answers each message on its own cannot say what a real broker fails together,
 * so this model fails messages the way RabbitMQ does:
 *
 * - a channel error (a poison message, e.g. one over `max_message_size`) closes the channel,
 *   which fails every message published with it (kind `channel`, the poison's reason);
 * - a forced close (AMQP 320, a broker restart) fails every message in flight on the
 *   connection (kind `closed`); the next publish connects again and declares the topology;
 * - a deleted queue makes every message unroutable (kind `unroutable`, basic.return) until
 *   the topology is declared again, which the publisher does on its next publish;
 * - a nack fails only its message;
 * - `publishEach` gives each message a channel of its own, so a poison fails only itself.
 *
 * `queue` holds what the broker routed to the queue: a message the bridge acknowledged must
 * be there.
 */
import { BrokerError } from '../../functions/amqp-bridge/broker-publisher.js';
import type { OsloNotification } from '../../functions/amqp-bridge/oslo-message.js';

export interface ModelBrokerScript {
  /** Message ids over which the broker closes the channel. */
  readonly poison?: ReadonlySet<string>;
  /** Message ids the broker nacks. */
  readonly nacked?: ReadonlySet<string>;
  /** Publish calls (0-based) during which the broker forces the connection closed. */
  readonly forcedCloses?: ReadonlySet<number>;
  /** Publish calls (0-based) before which someone deletes the queue. */
  readonly queueDeletedBefore?: ReadonlySet<number>;
}

export const MODEL_BROKER = 'amqp://bridge@broker.test:5672/';

/** The reason the model's broker gives for closing the channel over `messageId`. */
export const poisonReason = (messageId: string) => `PRECONDITION_FAILED - message ${messageId} is larger than configured max size`;

/** One call of the publisher: the message ids, and whether each had a channel of its own. */
export interface ModelCall {
  readonly ids: readonly string[];
  readonly perChannel: boolean;
}

export function modelBroker(script: ModelBrokerScript) {
  const calls: ModelCall[] = [];
  const queue: string[] = [];
  /** Events that cost the bridge its one retry: forced closes and returns. */
  let disruptions = 0;
  let queueExists = true;

  /** One call of the publisher: on one shared channel, or (`perChannel`) one channel per message. */
  function call(ns: readonly OsloNotification[], perChannel: boolean): (BrokerError | undefined)[] {
    const k = calls.length;
    calls.push({ ids: ns.map((n) => n.messageId), perChannel });
    if (ns.length === 0) return [];
    if (script.queueDeletedBefore?.has(k)) queueExists = false;
    if (script.forcedCloses?.has(k)) {
      disruptions++;
      queueExists = true; // the next connection declares the topology
      const e = new BrokerError(`AMQP broker ${MODEL_BROKER} closed the connection: 320 CONNECTION_FORCED`, 'closed');
      return ns.map(() => e);
    }
    const channels = perChannel ? ns.map((n) => [n]) : [ns];
    const outcome = new Map<OsloNotification, BrokerError | undefined>();
    let returned = false;
    for (const channel of channels) {
      const poison = channel.find((n) => script.poison?.has(n.messageId));
      if (poison !== undefined) {
        const e = new BrokerError(`AMQP broker ${MODEL_BROKER} closed the channel: ${poisonReason(poison.messageId)}`, 'channel');
        for (const n of channel) outcome.set(n, e);
        continue;
      }
      for (const n of channel) {
        if (!queueExists) {
          returned = true;
          outcome.set(n, new BrokerError(`AMQP broker ${MODEL_BROKER} returned message ${n.messageId}: 312 NO_ROUTE`, 'unroutable'));
        } else if (script.nacked?.has(n.messageId)) {
          outcome.set(n, new BrokerError(`AMQP broker ${MODEL_BROKER} refused message ${n.messageId} (nack)`, 'nack'));
        } else {
          queue.push(n.messageId);
          outcome.set(n, undefined);
        }
      }
    }
    if (returned) {
      disruptions++;
      queueExists = true; // the publisher declares the topology again after a return
    }
    return ns.map((n) => outcome.get(n));
  }

  return {
    calls,
    queue,
    get disruptions() {
      return disruptions;
    },
    broker: MODEL_BROKER,
    publish: async (ns: readonly OsloNotification[]) => call(ns, false),
    publishEach: async (ns: readonly OsloNotification[]) => call(ns, true),
  };
}
