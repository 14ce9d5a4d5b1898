/**
 * The AMQP bridge against a real RabbitMQ that fails messages together: a queue deleted under
 * the bridge's open connection, a message over the broker's `max_message_size` (which closes
 * the channel), a forced close (AMQP 320) and a broker shutdown with confirms outstanding,
 * and a restart with and without durable queues. Confirms are held back with a memory alarm
 * (`rabbitmqctl set_vm_memory_high_watermark 0` blocks every publishing connection), so the
 * close always meets unconfirmed messages. What the bridge acknowledged is read back from the
 * queues. One broker, with a small `max_message_size`, serves the file.
 */
import * as amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createBridge, type BridgeResult } from '../../functions/amqp-bridge/bridge.js';
import { BrokerPublisher, type BrokerOptions } from '../../functions/amqp-bridge/broker-publisher.js';
import { requireAmqpTools } from './rabbitmq-broker.js';
import { rabbitMqForSuite, routeMessages, SqsQueueStandIn, type RouteMessage } from './support.js';

const run = requireAmqpTools();
const MAX_MESSAGE_SIZE = 65_536;

/** `m` with its own message id (the `k`th) and a payload padded past `bytes`. */
function oversized(m: RouteMessage, bytes: number, k: number): RouteMessage {
  const id = `0f0f0f0f-0000-4000-8000-${String(k).padStart(12, '0')}`;
  const body = m.body.replaceAll(m.detail.message_id, id).replace('"payload":{', `"payload":{"padding":"${'x'.repeat(bytes)}",`);
  return { ...m, id: `${m.id}:oversized-${k}`, body, detail: { ...m.detail, message_id: id } };
}

describe.runIf(run)('AMQP bridge → RabbitMQ failing messages together', () => {
  const { broker, publishers } = rabbitMqForSuite({ config: [`max_message_size = ${MAX_MESSAGE_SIZE}`] });
  const messages = routeMessages(['01_typical_libvirt_qemu.json', '07_host_none.json']);

  function bridgeTo(topic: string, options: Partial<BrokerOptions> = {}) {
    const publisher = new BrokerPublisher({ url: broker.url, exchange: 'nova', durable: false, quorumQueues: false, connectTimeoutMs: 2_000, confirmTimeoutMs: 60_000, ...options });
    publishers.push(publisher);
    const results: BridgeResult[] = [];
    /** The kinds of each publish call's outcomes, in order ('ok' when confirmed): the invocation's first try and its one retry apart. */
    const publishes: string[][] = [];
    const logged: { message: string; extra?: object }[] = [];
    const logger = {
      info: () => {},
      error: (message: string, extra?: object) => {
        logged.push({ message, ...(extra === undefined ? {} : { extra }) });
      },
    };
    // Only the members createBridge uses; the logger type is Powertools'.
    const recording = {
      broker: publisher.broker,
      publishEach: publisher.publishEach.bind(publisher),
      publish: async (...args: Parameters<BrokerPublisher['publish']>) => {
        const outcomes = await publisher.publish(...args);
        publishes.push(outcomes.map((o) => o?.kind ?? 'ok'));
        return outcomes;
      },
    };
    const bridge = createBridge({ publisher: recording, topics: [topic], logger: logger as never });
    const handler = async (event: Parameters<typeof bridge>[0]) => {
      const r = await bridge(event);
      results.push(r);
      return r;
    };
    return { handler, results, publishes, logged };
  }

  async function admin<T>(f: (channel: amqp.Channel) => Promise<T>): Promise<T> {
    const connection = await amqp.connect(broker.url);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => {}); // a 404 rejects the call too
      return await f(channel);
    } finally {
      await connection.close().catch(() => {});
    }
  }

  const queueExists = (queue: string) => admin((ch) => ch.checkQueue(queue).then(() => true, () => false));

  /** The message ids in `queue` (taken off it), sorted; none when the queue does not exist. */
  async function drain(queue: string): Promise<string[]> {
    if (!(await queueExists(queue))) return [];
    return admin(async (ch) => {
      const ids: string[] = [];
      for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true })) ids.push(String(m.properties.messageId));
      return ids.sort();
    });
  }

  const ids = (ms: readonly RouteMessage[]) => ms.map((m) => m.detail.message_id).sort();

  /** Names of the connections RabbitMQ holds blocked: they published during the memory alarm and wait for their confirms. */
  async function blockedConnections(): Promise<Set<string>> {
    const out = await broker.ctl('list_connections', 'name', 'state');
    return new Set(
      out
        .split('\n')
        .map((line) => line.split('\t'))
        .filter((cols) => cols[1]?.trim() === 'blocked')
        .map((cols) => cols[0]!),
    );
  }

  /** Waits until a connection not in `known` is blocked, or `done()` turns true; resolves to whether one was. */
  async function newBlockedConnection(known: ReadonlySet<string>, done: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      if ([...(await blockedConnections())].some((name) => !known.has(name))) return true;
      if (done()) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('a message no queue took is not acknowledged: the queue deleted under the open connection is declared again and the message published into it', async () => {
    const topic = 'unroutable_check';
    const { handler } = bridgeTo(topic);
    const queue = new SqsQueueStandIn(5);
    queue.send(messages[0]!);
    expect(await queue.poll(handler)).toEqual([]); // the connection is open and the queue declared

    await admin((ch) => ch.deleteQueue(`${topic}.info`));
    const after = messages.slice(1, 4);
    queue.send(...after);
    const failed = await queue.poll(handler);
    // Everything acknowledged (deleted from SQS) is in the queue.
    const acknowledged = after.filter((m) => !failed.includes(m.id));
    expect(await drain(`${topic}.info`)).toEqual(ids(acknowledged));
    expect(failed).toEqual([]);
  }, 240_000);

  it('the exchange deleted under the open connection (its bindings with it) is declared again: a batch is published in the same invocation, a lone message on the next', async () => {
    const topic = 'exchange_check';
    const exchange = 'nova_exchange_check';
    const { handler } = bridgeTo(topic, { exchange });
    const queue = new SqsQueueStandIn(5);
    queue.send(messages[0]!);
    expect(await queue.poll(handler)).toEqual([]); // the connection is open and the exchange declared

    await admin((ch) => ch.deleteExchange(exchange));
    const after = messages.slice(1, 4);
    queue.send(...after);
    expect(await queue.poll(handler)).toEqual([]);
    expect(await drain(`${topic}.info`)).toEqual(ids([messages[0]!, ...after]));

    // Alone, the message is its own channel: it fails once, and the next receive declares again.
    await admin((ch) => ch.deleteExchange(exchange));
    queue.send(messages[4]!);
    expect(await queue.poll(handler)).toEqual([messages[4]!.id]);
    expect(await queue.poll(handler)).toEqual([]);
    expect(await drain(`${topic}.info`)).toEqual(ids([messages[4]!]));
  }, 240_000);

  it('a message over max_message_size fails alone, with its reason; its batch-mates on the same channel are published', async () => {
    const topic = 'size_check';
    const { handler, results, logged } = bridgeTo(topic);
    const big = [oversized(messages[0]!, MAX_MESSAGE_SIZE + 1_000, 1), oversized(messages[0]!, 3 * MAX_MESSAGE_SIZE, 2)];
    const innocent = messages.slice(1, 6);
    const queue = new SqsQueueStandIn(2);
    // The first one closes the channel: messages after it are never taken, messages before it may or may not be confirmed.
    queue.send(innocent[0]!, big[0]!, innocent[1]!, innocent[2]!, big[1]!, ...innocent.slice(3));
    expect((await queue.poll(handler)).sort()).toEqual(big.map((m) => m.id).sort());
    // At least once: a message the broker took but did not confirm before the close is there twice.
    expect([...new Set(await drain(`${topic}.info`))].sort()).toEqual(ids(innocent));
    const reason = /PRECONDITION_FAILED - message size \d+ is larger than configured max size 65536/;
    expect(results[0]!.errors.map((e) => e.kind)).toEqual(['channel']);
    expect(results[0]!.errors[0]!.message).toMatch(reason);
    for (const m of big) {
      expect(logged).toContainEqual(expect.objectContaining({ extra: expect.objectContaining({ messageId: m.id, error: expect.stringMatching(reason) }) }));
    }

    // Again on the next receive: the others are gone from SQS, the guilty ones fail again and then reach the dead-letter queue.
    expect((await queue.poll(handler)).sort()).toEqual(big.map((m) => m.id).sort());
    expect(queue.deadLetters.map((m) => m.id).sort()).toEqual(big.map((m) => m.id).sort());
    expect(queue.deleted.map((m) => m.id).sort()).toEqual(innocent.map((m) => m.id).sort());
  }, 240_000);

  it('a forced close (320) with confirms outstanding is a closed connection: the one reconnect of the invocation publishes the messages', async () => {
    const topic = 'forced_close_check';
    const { handler, results } = bridgeTo(topic);
    const queue = new SqsQueueStandIn(5);
    queue.send(messages[0]!);
    expect(await queue.poll(handler)).toEqual([]);
    expect(await drain(`${topic}.info`)).toEqual(ids([messages[0]!]));

    const batch = messages.slice(1, 5);
    let settled = false;
    let polled: Promise<string[]> | undefined;
    await broker.ctl('set_vm_memory_high_watermark', '0');
    try {
      const before = await blockedConnections();
      queue.send(...batch);
      polled = queue.poll(handler).finally(() => (settled = true));
      expect(await newBlockedConnection(before)).toBe(true); // the bridge's publishes wait for their confirms
      const first = await blockedConnections();
      await broker.ctl('close_all_connections', 'test: forced close');
      // The bridge connects again and publishes again (blocked again), or it gives up.
      await newBlockedConnection(first, () => settled);
    } finally {
      await broker.ctl('set_vm_memory_high_watermark', '0.4');
    }
    expect(await polled).toEqual([]);
    expect(results.at(-1)!.errors).toEqual([]);
    expect(await drain(`${topic}.info`)).toEqual(ids(batch));
  }, 240_000);

  it('a broker shutdown with confirms outstanding is a closed connection, never a nack; the messages wait and are published once it is back', async () => {
    const topic = 'shutdown_check';
    const { handler, results, publishes } = bridgeTo(topic);
    const queue = new SqsQueueStandIn(5);
    queue.send(messages[0]!);
    expect(await queue.poll(handler)).toEqual([]);

    const batch = messages.slice(1, 5);
    await broker.ctl('set_vm_memory_high_watermark', '0'); // reset by the restart
    const before = await blockedConnections();
    const tries = publishes.length;
    queue.send(...batch);
    const polled = queue.poll(handler);
    expect(await newBlockedConnection(before)).toBe(true);
    await broker.pause();
    try {
      expect(await polled).toEqual(batch.map((m) => m.id));
      // The try whose confirms were outstanding: the shutdown closed its connection.
      expect(publishes[tries]).toEqual(batch.map(() => 'closed'));
      // The invocation's one retry meets a broker part-way through stopping (a refused or reset
      // connect, a forced close, a login or declaration it no longer serves): whatever the step,
      // the messages fail and wait; a nack would say the broker refused them, and none did.
      expect(publishes.slice(tries).flat()).not.toContain('nack');
      expect(results.at(-1)!.errors.map((e) => e.kind)).not.toContain('nack');
      expect(queue.depth).toBe(batch.length);
    } finally {
      await broker.resume();
    }
    expect(await queue.poll(handler)).toEqual([]);
    expect(await drain(`${topic}.info`)).toEqual(ids(batch));
  }, 300_000);

  it("durable is the trade-off it says: with oslo's declaration (the default) a confirmed message is lost when the broker restarts, with durable: true it is kept", async () => {
    const transient = bridgeTo('transient_check');
    const durable = bridgeTo('durable_check', { exchange: 'nova_durable', durable: true });
    const [t, d] = [new SqsQueueStandIn(5), new SqsQueueStandIn(5)];
    t.send(messages[0]!);
    d.send(messages[1]!);
    expect(await t.poll(transient.handler)).toEqual([]);
    expect(await d.poll(durable.handler)).toEqual([]);
    expect([t.deleted.length, d.deleted.length]).toEqual([1, 1]); // both confirmed and gone from SQS

    await broker.pause();
    await broker.resume();
    expect(await queueExists('transient_check.info')).toBe(false);
    expect(await drain('durable_check.info')).toEqual(ids([messages[1]!]));
  }, 240_000);
});
