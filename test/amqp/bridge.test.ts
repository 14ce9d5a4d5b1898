/**
 * The bridge's batch logic with a scripted publisher and with a model of the broker that
 * fails messages together as RabbitMQ does (model-broker.ts; the broker itself is in
 * bridge.e2e.test.ts and bridge-faults.e2e.test.ts): which SQS messages are reported
 * failed, and why.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBridge } from '../../functions/amqp-bridge/bridge.js';
import { BrokerError } from '../../functions/amqp-bridge/broker-publisher.js';
import type { OsloNotification } from '../../functions/amqp-bridge/oslo-message.js';
import { modelBroker, poisonReason, type ModelBrokerScript } from './model-broker.js';
import { routeMessages, type RouteMessage } from './support.js';

const [a, b, c] = routeMessages(['01_typical_libvirt_qemu.json']);

/** A publisher answering each call with the next scripted outcome per message id. */
function scripted(script: ((n: OsloNotification) => BrokerError | undefined)[]) {
  const calls: string[][] = [];
  return {
    calls,
    broker: 'amqp://bridge@broker.test:5672/',
    publish: async (ns: readonly OsloNotification[]) => {
      const answer = script[calls.length] ?? (() => undefined);
      calls.push(ns.map((n) => n.messageId));
      return ns.map(answer);
    },
    // Each message is answered on its own anyway.
    publishEach: async (ns: readonly OsloNotification[]) => {
      const answer = script[calls.length] ?? (() => undefined);
      calls.push(ns.map((n) => n.messageId));
      return ns.map(answer);
    },
  };
}

function run(publisher: Pick<ReturnType<typeof scripted>, 'broker' | 'publish' | 'publishEach'>, messages: { messageId: string; body: string }[]) {
  const logged: { message: string; extra?: object }[] = [];
  const logger = { info: () => {}, error: (message: string, extra?: object) => logged.push({ message, ...(extra === undefined ? {} : { extra }) }) };
  // Only the members createBridge uses; the logger type is Powertools'.
  const bridge = createBridge({ publisher, topics: ['versioned_notifications'], logger: logger as never });
  // The bridge reads only messageId and body of an SQS record.
  return { logged, result: bridge({ Records: messages.map((m) => ({ messageId: m.messageId, body: m.body }) as never) }) };
}

const rec = (m: RouteMessage) => ({ messageId: m.id, body: m.body });

describe('bridge batch', () => {
  it('a message that is not a notification fails alone, with the field and the rule logged; the others are published', async () => {
    const publisher = scripted([]);
    const { logged, result } = run(publisher, [rec(a!), { messageId: 'junk', body: JSON.stringify({ detail: { message_id: 'nope' } }) }, rec(b!)]);
    const r = await result;
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: 'junk' }]);
    expect(r.stats).toEqual({ published: 2, unreadable: 1, failed: 0 });
    expect(publisher.calls).toEqual([[a!.detail.message_id, b!.detail.message_id]]);
    expect(logged[0]!.extra).toMatchObject({ messageId: 'junk', reason: expect.stringMatching(/^message_id: must be a lower-case UUID \(got "nope"\)/) });
  });

  it('a nack fails only that message', async () => {
    const publisher = scripted([(n) => (n.messageId === b!.detail.message_id ? new BrokerError('refused (nack)', 'nack') : undefined)]);
    const r = await run(publisher, [rec(a!), rec(b!), rec(c!)]).result;
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: b!.id }]);
    expect(r.errors.map((e) => e.kind)).toEqual(['nack']);
    expect(publisher.calls).toHaveLength(1);
  });

  it('a connection found closed is retried once within the invocation; a second failure is reported', async () => {
    const closed = () => new BrokerError('closed', 'closed');
    const once = scripted([closed]);
    const r1 = await run(once, [rec(a!), rec(b!)]).result;
    expect(r1.batchItemFailures).toEqual([]);
    expect(once.calls).toHaveLength(2);

    const twice = scripted([closed, closed]);
    const r2 = await run(twice, [rec(a!), rec(b!)]).result;
    expect(r2.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a!.id, b!.id]);
    expect(twice.calls).toHaveLength(2);
  });

  it('an unreachable broker fails the batch at once (SQS retries it later)', async () => {
    const publisher = scripted([() => new BrokerError('AMQP broker amqp://bridge@broker.test:5672/ is unreachable: connect ECONNREFUSED', 'unreachable')]);
    const { logged, result } = run(publisher, [rec(a!), rec(b!)]);
    const r = await result;
    expect(r.batchItemFailures).toHaveLength(2);
    expect(publisher.calls).toHaveLength(1);
    expect(logged.map((l) => l.extra)).toContainEqual(expect.objectContaining({ broker: publisher.broker, kind: 'unreachable' }));
  });
});

/** `count` notifications of vector 01 (create, update, delete in turn), each with its own message id. */
function distinct(count: number): { messageId: string; body: string; notificationId: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const m = [a!, b!, c!][i % 3]!;
    const notificationId = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    return { messageId: `sqs-${i}`, body: m.body.replaceAll(m.detail.message_id, notificationId), notificationId };
  });
}

describe('bridge batch against a broker that fails messages together', () => {
  it('a channel error fails every message on the channel: they are published again one per channel, so only the guilty one fails, with its reason', async () => {
    const ms = distinct(4);
    const guilty = ms[1]!;
    const broker = modelBroker({ poison: new Set([guilty.notificationId]) });
    const { logged, result } = run(broker, ms);
    const r = await result;
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: guilty.messageId }]);
    expect(r.stats).toEqual({ published: 3, unreadable: 0, failed: 1 });
    expect(new Set(broker.queue)).toEqual(new Set(ms.filter((m) => m !== guilty).map((m) => m.notificationId)));
    // After the channel error, each message was published again on a channel of its own.
    expect(broker.calls).toEqual([
      { ids: ms.map((m) => m.notificationId), perChannel: false },
      { ids: ms.map((m) => m.notificationId), perChannel: true },
    ]);
    expect(logged).toContainEqual(expect.objectContaining({ extra: expect.objectContaining({ messageId: guilty.messageId, kind: 'channel', error: expect.stringContaining(poisonReason(guilty.notificationId)) }) }));
  });

  it('a forced close (AMQP 320) fails the messages in flight as a closed connection: published on the one fresh connection of the invocation', async () => {
    const ms = distinct(3);
    const broker = modelBroker({ forcedCloses: new Set([0]) });
    const r = await run(broker, ms).result;
    expect(r.batchItemFailures).toEqual([]);
    expect(broker.calls).toHaveLength(2);
    expect(broker.queue.sort()).toEqual(ms.map((m) => m.notificationId).sort());
  });

  it('a message no queue took (basic.return) is not acknowledged; it is published again once the topology is declared again', async () => {
    const ms = distinct(2);
    const gone = modelBroker({ queueDeletedBefore: new Set([0]) });
    const r1 = await run(gone, ms).result;
    expect(r1.batchItemFailures).toEqual([]);
    expect(gone.calls).toHaveLength(2);
    expect(gone.queue.sort()).toEqual(ms.map((m) => m.notificationId).sort());

    // Deleted again before the retry: reported, never acknowledged.
    const twice = modelBroker({ queueDeletedBefore: new Set([0, 1]) });
    const r2 = await run(twice, ms).result;
    expect(r2.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(ms.map((m) => m.messageId));
    expect(r2.errors.map((e) => e.kind)).toEqual(['unroutable']);
    expect(twice.queue).toEqual([]);
  });

  it('property: nothing is acknowledged that no queue took; an innocent message fails only for its own nack or a second disruption; a guilty one always fails, named', async () => {
    const calls = fc.integer({ min: 0, max: 30 });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            poison: fc.uniqueArray(fc.nat(n - 1), { maxLength: 3 }),
            nacked: fc.uniqueArray(fc.nat(n - 1), { maxLength: 3 }),
            forcedCloses: fc.uniqueArray(calls, { maxLength: 2 }),
            queueDeletedBefore: fc.uniqueArray(calls, { maxLength: 2 }),
          }),
        ),
        async ({ n, poison, nacked, forcedCloses, queueDeletedBefore }) => {
          const ms = distinct(n);
          const idOf = (i: number) => ms[i]!.notificationId;
          const script: ModelBrokerScript = {
            poison: new Set(poison.map(idOf)),
            nacked: new Set(nacked.map(idOf)),
            forcedCloses: new Set(forcedCloses),
            queueDeletedBefore: new Set(queueDeletedBefore),
          };
          const broker = modelBroker(script);
          const { logged, result } = run(broker, ms);
          const r = await result;
          const failed = new Set(r.batchItemFailures.map((f) => f.itemIdentifier));
          expect(r.stats.published + r.stats.failed).toBe(n);
          expect(failed.size).toBe(r.stats.failed);
          expect(broker.calls.length).toBeLessThanOrEqual(4); // a batch and its channel-by-channel retry, twice at most
          for (const m of ms) {
            const isPoison = script.poison!.has(m.notificationId);
            if (!failed.has(m.messageId)) {
              expect(broker.queue).toContain(m.notificationId);
              expect(isPoison).toBe(false);
            } else if (isPoison && broker.disruptions === 0) {
              expect(logged).toContainEqual(expect.objectContaining({ extra: expect.objectContaining({ messageId: m.messageId, error: expect.stringContaining(poisonReason(m.notificationId)) }) }));
            } else if (!isPoison && !script.nacked!.has(m.notificationId)) {
              // An innocent message fails only when the invocation met more than its one retry can absorb.
              expect(broker.disruptions).toBeGreaterThanOrEqual(2);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
