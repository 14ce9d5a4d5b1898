/**
 * The AMQP bridge end to end: a real RabbitMQ (Debian's rabbitmq-server, started here on a
 * free loopback port) and a real consumer, oslo.messaging's notification listener (Debian's
 * python3-oslo.messaging) on exchange `nova`, topic `versioned_notifications`, as Searchlight
 * runs it. Notifications are built by the real notifier from Nova's reference vectors and
 * reach the bridge through a stand-in of its route's SQS queue. One broker serves the file.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createBridge, type BridgeResult } from '../../functions/amqp-bridge/bridge.js';
import { BrokerPublisher, type BrokerOptions } from '../../functions/amqp-bridge/broker-publisher.js';
import { CHANGE_HEADERS } from '../../functions/amqp-bridge/oslo-message.js';
import { BROKER_PASSWORD, BROKER_USER, DEBIAN_PYTHON, requireAmqpTools } from './rabbitmq-broker.js';
import { OsloListener, routeMessages, rabbitMqForSuite, SqsQueueStandIn, withBridgeEntryPoint, type RouteMessage } from './support.js';

const run = requireAmqpTools();
const silent = { info: () => {}, error: () => {} };
const VECTORS = ['01_typical_libvirt_qemu.json', '07_host_none.json', '30_beyond_js_safe_integer.json', '34_unicode_hostname.json'];

describe.runIf(run)('AMQP bridge → RabbitMQ → oslo.messaging listener', () => {
  const { broker, publishers } = rabbitMqForSuite();
  const messages = routeMessages(VECTORS);

  function bridgeTo(options: Partial<BrokerOptions> & { topics?: string[] } = {}) {
    const publisher = new BrokerPublisher({ url: broker.url, exchange: 'nova', durable: false, quorumQueues: false, connectTimeoutMs: 2_000, confirmTimeoutMs: 5_000, ...options });
    publishers.push(publisher);
    const results: BridgeResult[] = [];
    const bridge = createBridge({ publisher, topics: options.topics ?? ['versioned_notifications'], logger: silent });
    const handler = async (event: Parameters<typeof bridge>[0]) => {
      const r = await bridge(event);
      results.push(r);
      return r;
    };
    return { publisher, handler, results };
  }

  /** oslo's threading executor hands messages to the endpoint from a pool: compare by message_id, not order. */
  function expectDelivered(listener: OsloListener, sent: readonly RouteMessage[]) {
    const got = new Map(listener.received.map((r) => [r.metadata.message_id, r]));
    expect([...got.keys()].sort()).toEqual(sent.map((m) => m.detail.message_id).sort());
    expect(listener.received).toHaveLength(sent.length);
    for (const m of sent) {
      const r = got.get(m.detail.message_id)!;
      expect(r.publisher_id).toBe(m.detail.publisher_id);
      expect(r.event_type).toBe(m.detail.event_type);
      expect(r.priority).toBe(m.detail.priority.toLowerCase());
      // Compared as text: exact digits (vector 30 holds integers beyond 2^53) and key order.
      expect(r.payload_json).toBe(m.payloadJson);
      expect(r.metadata.timestamp).toBe(m.detail.timestamp);
      expect(r.ctxt).toMatchObject({ is_admin: true, read_deleted: 'no', user_identity: '- - - - -' });
    }
  }

  it('delivers create, update and delete to an unmodified oslo listener, also those published before it started', async () => {
    const queue = new SqsQueueStandIn(5);
    const { handler } = bridgeTo();
    const [early, late] = [messages.slice(0, 3), messages.slice(3)];
    queue.send(...early);
    expect(await queue.poll(handler)).toEqual([]);

    const listener = await OsloListener.start(broker.url);
    try {
      queue.send(...late);
      expect(await queue.poll(handler)).toEqual([]);
      await listener.waitFor(messages.length);
      expectDelivered(listener, messages);
      expect(listener.received.map((r) => r.event_type)).toEqual(expect.arrayContaining(['compute_node.create', 'compute_node.update', 'compute_node.delete']));
      // Vector 30: an integer JavaScript's number cannot hold reached Python exact.
      expect(messages.some((m) => (m.payloadJson.match(/\d{16,}/g) ?? []).some((d) => BigInt(d) > 2n ** 53n))).toBe(true);
      expect(queue.depth).toBe(0);
    } finally {
      await listener.stop();
    }
  });

  it("puts on the broker what oslo's own messagingv2 notifier puts there, and accepts oslo's declarations", async () => {
    // Nova's side: oslo's notifier declares exchange nova and queue oslo_oracle.info, and publishes.
    execFileSync(DEBIAN_PYTHON, [join(import.meta.dirname, 'oslo_consumer.py'), 'notify', broker.url.replace(/^amqp:/, 'rabbit:'), 'oslo_oracle'], { stdio: 'pipe' });
    // Ours, on the queue oslo declared: a different declaration would be refused (PRECONDITION_FAILED).
    const { handler, results } = bridgeTo({ topics: ['oslo_oracle'] });
    const queue = new SqsQueueStandIn(5);
    queue.send(messages[0]!);
    expect(await queue.poll(handler)).toEqual([]);

    const connection = await amqp.connect(broker.url);
    try {
      const channel = await connection.createChannel();
      const theirs = await channel.get('oslo_oracle.info', { noAck: true });
      const ours = await channel.get('oslo_oracle.info', { noAck: true });
      if (theirs === false || ours === false) throw new Error('expected two messages on oslo_oracle.info');
      expect(ours.fields.exchange).toBe(theirs.fields.exchange);
      expect(ours.fields.routingKey).toBe(theirs.fields.routingKey);
      for (const p of ['contentType', 'contentEncoding', 'deliveryMode'] as const) expect(ours.properties[p]).toBe(theirs.properties[p]);
      const shape = (body: Buffer) => {
        const text = body.toString('utf8');
        const outer = JSON.parse(text) as Record<string, string>;
        const inner = JSON.parse(outer['oslo.message']!) as Record<string, unknown>;
        return { prefix: text.slice(0, text.indexOf('message_id')), outerKeys: Object.keys(outer), innerKeys: Object.keys(inner).slice(0, 7), ascii: /^[\x20-\x7e]*$/.test(text) };
      };
      expect(shape(ours.content)).toEqual(shape(theirs.content));
      expect(ours.properties.headers?.[CHANGE_HEADERS.sequenceNumber]).toBe(messages[0]!.detail.change.sequence_number);
      expect(ours.properties.headers?.[CHANGE_HEADERS.cause]).toBe(messages[0]!.detail.change.cause);
    } finally {
      await connection.close();
    }

    // A bridge set to durable against oslo's non-durable declarations is refused, naming the fix.
    const durable = bridgeTo({ topics: ['oslo_oracle'], durable: true });
    const q2 = new SqsQueueStandIn(5);
    q2.send(messages[1]!);
    expect(await q2.poll(durable.handler)).toEqual([messages[1]!.id]);
    expect(durable.results[0]!.errors[0]!.kind).toBe('refused');
    expect(durable.results[0]!.errors[0]!.message).toMatch(/PRECONDITION_FAILED.*durable/);
    expect(results[0]!.stats.published).toBe(1);
  });

  it('a publish the broker does not confirm (nack) stays on the queue and is delivered once the broker takes it', async () => {
    const listener = await OsloListener.start(broker.url);
    const admin = await amqp.connect(broker.url);
    try {
      const channel = await admin.createChannel();
      // A full queue that rejects publishes, bound to the same routing key: RabbitMQ nacks.
      await channel.assertQueue('nack-trap', { durable: false, maxLength: 0, overflow: 'reject-publish' });
      await channel.bindQueue('nack-trap', 'nova', 'versioned_notifications.info');
      const { handler, results } = bridgeTo();
      const queue = new SqsQueueStandIn(5);
      const sent = messages.slice(0, 3);
      queue.send(...sent);
      expect(await queue.poll(handler)).toEqual(sent.map((m) => m.id));
      expect(results[0]!.errors.map((e) => e.kind)).toEqual(['nack']);
      expect(results[0]!.errors[0]!.message).toContain(`127.0.0.1:${broker.port}`);
      expect(queue.depth).toBe(3);

      await channel.deleteQueue('nack-trap');
      expect(await queue.poll(handler)).toEqual([]);
      expect(queue.deleted.map((m) => m.id)).toEqual(sent.map((m) => m.id));
      // Each notification reaches the listener once (should the nacked attempt have left a copy
      // in the listener's queue, it carries the same _unique_id, which oslo's duplicate filter drops).
      await listener.waitFor(3);
      await new Promise((r) => setTimeout(r, 500));
      expect(new Set(listener.received.map((r) => r.metadata.message_id))).toEqual(new Set(sent.map((m) => m.detail.message_id)));
      expect(listener.received).toHaveLength(3);
    } finally {
      await admin.close();
      await listener.stop();
    }
  });

  it('wrong credentials: a clear error naming the broker, and the messages stay until the dead-letter queue', async () => {
    const wrong = broker.url.replace(BROKER_PASSWORD, 'not-the-password');
    const { handler, results } = bridgeTo({ url: wrong });
    const queue = new SqsQueueStandIn(3);
    const sent = messages.slice(0, 2);
    queue.send(...sent);
    for (let i = 0; i < 3; i++) expect(await queue.poll(handler)).toEqual(sent.map((m) => m.id));
    const error = results[0]!.errors[0]!;
    expect(error.kind).toBe('credentials');
    expect(error.message).toContain(`AMQP broker amqp://bridge@127.0.0.1:${broker.port}/`);
    expect(error.message).toContain("user 'bridge'");
    expect(error.message).not.toContain('not-the-password');
    expect(queue.deadLetters.map((m) => m.id)).toEqual(sent.map((m) => m.id));
  });

  it('the Lambda entry point reads the credentials from Secrets Manager, names broker and secret when they are refused, and reads them again', async () => {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bridge-test-AbCdEf';
    await withBridgeEntryPoint({ brokerUrl: `amqp://127.0.0.1:${broker.port}/`, secretArn, topics: 'entry_point_check' }, async ({ handle, secrets, logged }) => {
      secrets
        .on(GetSecretValueCommand, { SecretId: secretArn })
        .resolvesOnce({ SecretString: JSON.stringify({ username: BROKER_USER, password: 'rotated-away' }) })
        .resolves({ SecretString: JSON.stringify({ username: BROKER_USER, password: BROKER_PASSWORD }) });
      const queue = new SqsQueueStandIn(5);
      queue.send(messages[0]!, messages[1]!);
      expect(await queue.poll(handle)).toEqual([messages[0]!.id, messages[1]!.id]);
      expect(logged()).toContain(`AMQP broker amqp://bridge@127.0.0.1:${broker.port}/ refused the credentials from secret ${secretArn}`);
      expect(logged()).not.toContain('rotated-away');
      expect(await queue.poll(handle)).toEqual([]);
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      expect(queue.deleted.map((m) => m.id)).toEqual([messages[0]!.id, messages[1]!.id]);
    });
  });

  it('broker down while notifications arrive: they wait on the queue and are delivered once it is back', async () => {
    const listener = await OsloListener.start(broker.url);
    const { handler, results } = bridgeTo();
    const queue = new SqsQueueStandIn(10);
    try {
      queue.send(messages[0]!);
      expect(await queue.poll(handler), JSON.stringify(results.map((r) => r.errors.map((e) => e.message)))).toEqual([]); // the connection is open before the outage
      await listener.waitFor(1);

      await broker.pause();
      const during = messages.slice(1, 4);
      queue.send(...during);
      expect(await queue.poll(handler)).toEqual(during.map((m) => m.id));
      expect(await queue.poll(handler)).toEqual(during.map((m) => m.id));
      expect(results.slice(1).flatMap((r) => r.errors.map((e) => e.kind))).toContain('unreachable');
      expect(results.at(-1)!.errors[0]!.message).toContain(`AMQP broker amqp://bridge@127.0.0.1:${broker.port}/ is unreachable`);
      expect(queue.depth).toBe(3);

      await broker.resume();
      expect(await queue.poll(handler)).toEqual([]);
      expect(queue.deadLetters).toEqual([]);
      // The listener reconnects by itself; the queue the bridge declared kept the messages.
      await listener.waitFor(4, 60_000);
      expectDelivered(listener, messages.slice(0, 4));
    } finally {
      await listener.stop();
    }
  }, 300_000);
});
