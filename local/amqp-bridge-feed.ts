/**
 * The AMQP bridge on the local pipeline (`npm start -- --amqp-url amqp://USER:PASS@HOST:PORT/`):
 * the real bridge (functions/amqp-bridge/) fed with what the local bus delivers to the
 * bridge's route, the way SQS feeds the deployed function, publishing to the broker at that
 * URL. Messages the broker did not confirm are handed over again on the next tick, as SQS
 * redelivers them, until `maxReceiveCount` receives; then they count as dead letters.
 *
 * The route: the template's `AmqpBridge` route when cdk.json enables one, else
 * {@link LOCAL_AMQP_BRIDGE_RULE}, every compute node notification.
 */
import { createBridge } from '../functions/amqp-bridge/bridge.js';
import { BrokerPublisher } from '../functions/amqp-bridge/broker-publisher.js';
import { AMQP_BRIDGE_ROUTE_ID, DEFAULT_EXCHANGE, DEFAULT_TOPICS } from '../functions/amqp-bridge/config.js';
import type { OsloNotification } from '../functions/amqp-bridge/oslo-message.js';
import type { LocalPipeline } from './pipeline.js';
import { routeSqsRecord, startFeedLoop } from './route-queue-feed.js';
import type { TemplateRule } from './stack-template.js';
import type { Delivery } from './targets.js';

/** The bridge's route when the template has none: every compute node notification. */
export const LOCAL_AMQP_BRIDGE_RULE: TemplateRule = {
  logicalId: 'LocalAmqpBridgeRule',
  name: 'local-amqp-bridge',
  description: 'npm start --amqp-url: every compute node notification to the AMQP bridge',
  eventPattern: { 'detail-type': ['compute_node.create', 'compute_node.update', 'compute_node.delete'] },
  enabled: true,
  targets: [{ id: 'AmqpBridge', logicalId: undefined, type: 'AWS::SQS::Queue', name: `Route${AMQP_BRIDGE_ROUTE_ID}/Queue` }],
};

/** The target of the template's bridge route, if cdk.json enables the bridge. */
export function templateBridgeTarget(rules: readonly TemplateRule[]): string | undefined {
  return rules.flatMap((r) => r.targets.map((t) => t.name)).find((name) => name.split('/').includes(`Route${AMQP_BRIDGE_ROUTE_ID}`));
}

export interface LocalAmqpBridgeStats {
  /** Confirmed by the broker, by event type. */
  readonly published: Record<string, number>;
  /** Delivered to the route and not yet confirmed. */
  waiting: number;
  /** Publish attempts the broker did not confirm (each is retried). */
  failedAttempts: number;
  deadLettered: number;
  /** The last broker error, until a later publish succeeds. */
  lastError: string | undefined;
}

export interface LocalAmqpBridge {
  /** The broker (no password). */
  readonly broker: string;
  readonly exchange: string;
  readonly routingKeys: readonly string[];
  readonly target: string;
  readonly stats: LocalAmqpBridgeStats;
  /** Publishes what has been delivered so far (one more attempt for waiting messages), then closes the connection. */
  stop(): Promise<void>;
}

export interface LocalAmqpBridgeOptions {
  readonly url: string;
  /** The route's target (see {@link templateBridgeTarget}). @default LOCAL_AMQP_BRIDGE_RULE's */
  readonly target?: string;
  readonly exchange?: string;
  readonly topics?: readonly string[];
  /** @default 50 (the construct's default) */
  readonly maxReceiveCount?: number;
  /** Durable exchange and queues (oslo's `amqp_durable_queues`); the broker's other clients must declare the same. @default false (oslo's default) */
  readonly durable?: boolean;
  /** @default 250 */
  readonly intervalMs?: number;
  readonly onPublished?: (n: OsloNotification) => void;
  readonly onError?: (error: unknown) => void;
}

export function startLocalAmqpBridge(pipeline: LocalPipeline, opts: LocalAmqpBridgeOptions): LocalAmqpBridge {
  const target = opts.target ?? LOCAL_AMQP_BRIDGE_RULE.targets[0]!.name;
  const exchange = opts.exchange ?? DEFAULT_EXCHANGE;
  const topics = opts.topics ?? DEFAULT_TOPICS;
  const maxReceiveCount = opts.maxReceiveCount ?? 50;
  const publisher = new BrokerPublisher({ url: opts.url, exchange, durable: opts.durable ?? false, quorumQueues: false, connectTimeoutMs: 2_000 });
  const stats: LocalAmqpBridgeStats = { published: {}, waiting: 0, failedAttempts: 0, deadLettered: 0, lastError: undefined };
  const silent = { info: () => {}, error: () => {} };
  const bridge = createBridge({
    publisher,
    topics,
    logger: silent,
    onPublished: (n) => {
      stats.published[n.eventType] = (stats.published[n.eventType] ?? 0) + 1;
      opts.onPublished?.(n);
    },
  });
  let fed = 0;
  let retry: { d: Delivery; receives: number }[] = [];

  async function feed(): Promise<void> {
    const all = pipeline.indexer.deliveries(target);
    const batch = [...retry, ...all.slice(fed).map((d) => ({ d, receives: 0 }))];
    fed = all.length;
    stats.waiting = batch.length;
    if (batch.length === 0) return;
    for (const b of batch) b.receives++;
    const byId = new Map(batch.map((b) => [b.d.event.id, b]));
    const out = await bridge({ Records: batch.map((b) => routeSqsRecord(b.d, target, b.receives)) });
    const failed = out.batchItemFailures.flatMap((f) => byId.get(f.itemIdentifier) ?? []);
    stats.failedAttempts += failed.length;
    retry = failed.filter((b) => b.receives < maxReceiveCount);
    stats.deadLettered += failed.length - retry.length;
    stats.waiting = retry.length;
    if (out.errors.length > 0) stats.lastError = out.errors.map((e) => e.message).join('; ');
    else if (out.stats.published > 0) stats.lastError = undefined;
  }

  const loop = startFeedLoop(feed, opts);
  return {
    broker: publisher.broker,
    exchange,
    routingKeys: topics.map((t) => `${t}.info`),
    target,
    stats,
    async stop() {
      await loop.stop();
      await publisher.close();
    },
  };
}

