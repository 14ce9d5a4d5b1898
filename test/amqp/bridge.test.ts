/**
 * The bridge's batch logic with a scripted publisher (the broker itself is in
 * bridge.e2e.test.ts): which SQS messages are reported failed, and why.
 */
import { describe, expect, it } from 'vitest';
import { createBridge } from '../../functions/amqp-bridge/bridge.js';
import { BrokerError } from '../../functions/amqp-bridge/broker-publisher.js';
import type { OsloNotification } from '../../functions/amqp-bridge/oslo-message.js';
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
  };
}

function run(publisher: ReturnType<typeof scripted>, messages: { messageId: string; body: string }[]) {
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
