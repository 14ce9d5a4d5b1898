/**
 * The publisher's life cycle on a bus whose answers the test releases: finish() and abort()
 * while requests are out, calls in the wrong order, a bad concurrency.
 */
import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { createEventPublisher, type OutgoingEntry } from '../../functions/notifier/event-publisher.js';

/** A bus that answers each request only when the test says so. */
function heldBus() {
  const held: { entries: number; answer: () => void }[] = [];
  const client = {
    send: (command: PutEventsCommand) =>
      new Promise((resolve) => {
        const n = command.input.Entries?.length ?? 0;
        held.push({ entries: n, answer: () => resolve({ FailedEntryCount: 0, Entries: Array.from({ length: n }, (_, i) => ({ EventId: `e${i}` })) }) });
      }),
  };
  // The publisher only calls send(PutEventsCommand); nothing else of the client is needed.
  return { client: client as unknown as EventBridgeClient, held };
}

const entry = (key: number): OutgoingEntry => ({ key, entry: { Source: 's', DetailType: 'd', Detail: '{}' }, size: 100 });
const tick = () => new Promise((resolve) => setImmediate(resolve));
const opts = { concurrency: 2, deadline: Date.now() + 60_000 };

describe('createEventPublisher', () => {
  it('settles every finish() call, however many, once the requests out are answered', async () => {
    const bus = heldBus();
    const p = createEventPublisher(bus.client, opts);
    for (let k = 0; k < 25; k++) p.add(entry(k));
    const first = p.finish();
    const second = p.finish();
    await tick();
    // Two in flight (concurrency 2), the third request queued behind them.
    expect(bus.held.map((h) => h.entries)).toEqual([10, 10]);
    bus.held[0]!.answer();
    await tick();
    bus.held[1]!.answer();
    await tick();
    expect(bus.held.map((h) => h.entries)).toEqual([10, 10, 5]);
    bus.held[2]!.answer();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect([...a.published].sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, k) => k));
  });

  it('abort() drops what is not yet out and waits for what is', async () => {
    const bus = heldBus();
    const p = createEventPublisher(bus.client, opts);
    for (let k = 0; k < 35; k++) p.add(entry(k)); // requests 1 and 2 out, 3 queued, 5 entries open
    let aborted = false;
    const done = p.abort().then(() => (aborted = true));
    await tick();
    expect(aborted).toBe(false);
    bus.held[0]!.answer();
    bus.held[1]!.answer();
    await done;
    expect(bus.held.map((h) => h.entries)).toEqual([10, 10]);
    // finish() after abort() reports only what went out, without sending more.
    const result = await p.finish();
    expect(result.published.size).toBe(20);
    expect(bus.held).toHaveLength(2);
  });

  it('refuses an entry added after finish(), rather than leave it unsent and unreported', async () => {
    const p = createEventPublisher(heldBus().client, opts);
    await p.finish();
    expect(() => p.add(entry(0))).toThrow(/after finish\(\) or abort\(\)/);
  });

  it('refuses a concurrency below one (it would never send)', () => {
    expect(() => createEventPublisher(heldBus().client, { ...opts, concurrency: 0 })).toThrow(/concurrency must be a whole number of at least 1, not 0/);
  });
});
