/**
 * AMQP bridge: the local pipeline with the bridge as `npm start -- --amqp-url` runs it (fed by
 * its route on the local bus, failed messages handed over again as SQS would), publishing to
 * a real RabbitMQ (started here on loopback) with a consumer reading the notification queue,
 * while the broker is restarted twice and the bridge's queue is deleted twice under its open
 * connection. Every notification the route received must reach the consumer: a broker restart
 * is a closed connection the bridge reconnects from (issue: reported as a nack), a message no
 * queue took is not acknowledged and the queue is declared again (issue: confirmed, then
 * deleted from SQS). Queues are durable here (oslo's `amqp_durable_queues`): with oslo's
 * default a restart loses what waits in the queue, by design (docs/amqp-bridge.md, "Durable or not").
 */
import * as amqp from 'amqplib';
import { DEFAULT_EXCHANGE, DEFAULT_TOPICS } from '../functions/amqp-bridge/config.js';
import { LOCAL_AMQP_BRIDGE_RULE, startLocalAmqpBridge } from '../local/amqp-bridge-feed.js';
import { seededRandom } from '../local/seeded-random.js';
import { amqpTestsUnavailable, startRabbitMq, type RabbitMq } from '../test/amqp/rabbitmq-broker.js';
import { randomWorkload, waitUntil } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

const QUEUE = `${DEFAULT_TOPICS[0]}.info`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Reads the bridge's queue (declared as the bridge declares it), reconnecting after a restart and re-subscribing after the queue is deleted. */
class Consumer {
  readonly received = new Map<string, number>();
  private stopped = false;
  private connection: amqp.ChannelModel | undefined;
  reconnects = 0;
  private readonly loop: Promise<void>;

  constructor(private readonly url: string) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        // A connect or a connection that a restart leaves half-open would otherwise wait for
        // ever (amqplib sends no heartbeats unless asked): on a busy machine the reader then
        // stopped reading while the messages waited in the durable queue.
        const connection = await amqp.connect(`${this.url}?heartbeat=5`, { timeout: 5_000 });
        this.connection = connection;
        const ended = new Promise<void>((resolve) => {
          connection.once('close', () => resolve());
          connection.once('error', () => resolve());
        });
        const channel = await connection.createChannel();
        channel.on('error', () => {});
        await channel.prefetch(200);
        await channel.assertExchange(DEFAULT_EXCHANGE, 'topic', { durable: true, autoDelete: false });
        await channel.assertQueue(QUEUE, { durable: true, autoDelete: false, exclusive: false });
        await channel.bindQueue(QUEUE, DEFAULT_EXCHANGE, QUEUE);
        const cancelled = new Promise<void>((resolve) => {
          void channel.consume(QUEUE, (m) => {
            if (m === null) return resolve(); // the queue was deleted
            const id = String(m.properties.messageId);
            this.received.set(id, (this.received.get(id) ?? 0) + 1);
            channel.ack(m);
          });
        });
        await Promise.race([ended, cancelled]);
        await connection.close().catch(() => {});
      } catch {
        // The broker is down or restarting.
      }
      this.connection = undefined;
      if (!this.stopped) {
        this.reconnects++;
        await sleep(250);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.connection?.close().catch(() => {});
    await this.loop;
  }
}

/** Takes every message left in the queue (none when it does not exist): what a reader that stopped reading would have found. */
async function drainQueue(broker: RabbitMq): Promise<string[]> {
  const connection = await amqp.connect(broker.url, { timeout: 5_000 });
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    const ids: string[] = [];
    for (let m = await channel.get(QUEUE, { noAck: true }); m !== false; m = await channel.get(QUEUE, { noAck: true })) ids.push(String(m.properties.messageId));
    return ids;
  } catch {
    return []; // no queue: nothing waits in it
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Deletes the queue once it holds no ready message (messages waiting in it would be lost by the deletion, not by the bridge). */
async function deleteQueueWhenEmpty(broker: RabbitMq): Promise<void> {
  const connection = await amqp.connect(broker.url);
  try {
    for (let i = 0; i < 400; i++) {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      try {
        await channel.deleteQueue(QUEUE, { ifEmpty: true });
        return;
      } catch {
        await sleep(25); // not empty (the channel is closed by the refusal)
      }
    }
    throw new Error(`queue ${QUEUE} never emptied in 10 s`);
  } finally {
    await connection.close().catch(() => {});
  }
}

export const amqpBroker: SoakScenario = {
  name: 'amqp bridge',
  what: 'the AMQP bridge to a real RabbitMQ restarted twice and its queue deleted twice under its connection; every notification reaches the consumer',
  run: async (o) => {
    const why = amqpTestsUnavailable();
    if (why !== undefined) throw new Error(`needs RabbitMQ: ${why}`);
    const broker = await startRabbitMq();
    try {
      return await withPipeline({ batchSize: 100, extraRules: [LOCAL_AMQP_BRIDGE_RULE] }, async (f) => {
        const consumer = new Consumer(broker.url);
        // Handed over again until published: a broker start takes tens of seconds on a busy machine, and
        // the local feed hands a message over every 250 ms, far faster than SQS's visibility timeout would.
        const bridge = startLocalAmqpBridge(f.pipeline, { url: broker.url, durable: true, maxReceiveCount: 100_000 });
        const faults: string[] = [];
        try {
          let writing = true;
          const workload = randomWorkload(f.writer, { nodes: 200, writes: 4_000, random: seededRandom(o.seed + 31), concurrency: 8 }).finally(() => (writing = false));
          const script = (async () => {
            const random = seededRandom(o.seed + 32);
            for (const fault of ['restart', 'delete', 'restart', 'delete'] as const) {
              await sleep(1_500 + random() * 2_000);
              if (fault === 'restart') {
                await broker.pause();
                await sleep(1_000 + random() * 2_000);
                await broker.resume();
              } else await deleteQueueWhenEmpty(broker);
              faults.push(`${fault}${writing ? '' : ' (after the writes)'}`);
            }
          })();
          let watching = true;
          const watch = (async () => {
            while (watching) {
              await sleep(5_000);
              o.log(`amqp bridge: ${bridge.stats.waiting} waiting, ${bridge.stats.failedAttempts} failed attempts, ${bridge.stats.deadLettered} dead-lettered, ${consumer.received.size} received; faults so far: ${faults.join(', ') || 'none'}; last error: ${bridge.stats.lastError ?? 'none'}`);
            }
          })();
          const [writes] = await Promise.all([workload, script]);
          const report = await finish('amqp bridge', f, writes);
          // The route's deliveries all handed to the bridge and confirmed, and read by the consumer.
          const routed = () => f.pipeline.indexer.deliveries(bridge.target).map((d) => String((d.event.detail as { message_id?: unknown }).message_id));
          await waitUntil(() => bridge.stats.waiting === 0 && routed().every((id) => consumer.received.has(id)), `the consumer to receive every notification of the route (${bridge.stats.waiting} waiting, last error ${bridge.stats.lastError ?? 'none'})`, 120_000).catch(() => {});
          watching = false;
          await watch;
          await consumer.stop();
          // Waiting in the queue is not lost (the broker confirmed it durable; a reader gets it):
          // counted apart, so that a reader the machine starved is not taken for the bridge losing.
          const leftInQueue = new Set(await drainQueue(broker));
          const ids = routed();
          const missing = ids.filter((id) => !consumer.received.has(id) && !leftInQueue.has(id));
          const published = Object.values(bridge.stats.published).reduce((a, b) => a + b, 0);
          const duplicates = [...consumer.received.values()].reduce((a, n) => a + n - 1, 0);
          return {
            report: {
              ...report,
              lost: report.lost + missing.length,
              violations: [
                ...report.violations,
                ...missing.slice(0, 20).map((id) => `LOST on AMQP: notification ${id} reached the bridge's route, never the consumer`),
                ...(bridge.stats.deadLettered > 0 ? [`${bridge.stats.deadLettered} message(s) went to the bridge's dead-letter queue`] : []),
                ...(bridge.stats.failedAttempts === 0 ? ['no publish failed: the faults did not reach the bridge (the scenario shows nothing)'] : []),
              ],
            },
            faults: `broker ${faults.join(', ')}; bridge publish attempts failed and retried ${bridge.stats.failedAttempts}, consumer reconnects ${consumer.reconnects}; ${runtimeSummary(f)}`,
            notes: [
              `${ids.length} notifications routed to the bridge, ${published} confirmed by the broker (each once per successful publish), ${consumer.received.size} distinct received by the consumer (${duplicates} again), ${leftInQueue.size} still waiting in the queue at the end`,
            ],
          };
        } finally {
          await bridge.stop().catch(() => {});
          await consumer.stop();
        }
      });
    } finally {
      await broker.stop();
    }
  },
};
