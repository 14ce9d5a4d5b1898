/**
 * Throttled rule invocations on the local bus: past the limit an invocation is delayed, never
 * dropped (EventBridge's "they still happen but they are delayed"). On vitest's fake clock,
 * so the delays are exact and nothing here depends on the machine's speed.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalEventBus } from '../../local/event-bus-server.js';
import { InvocationThrottle } from '../../local/invocation-throttle.js';
import type { TemplateRule } from '../../local/stack-template.js';
import { IndexerSink } from '../../local/targets.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('InvocationThrottle', () => {
  it('runs one second of invocations at once, then one every 1/limit s, in order', () => {
    const throttle = new InvocationThrottle(10);
    const ran: number[] = [];
    for (let i = 0; i < 35; i++) throttle.invoke(() => ran.push(i));
    // A bucket of 10 tokens: 10 now, the other 25 at 100 ms, 200 ms, ... 2,500 ms.
    expect(ran).toHaveLength(10);
    expect(throttle.pending).toBe(25);
    vi.advanceTimersByTime(1_000);
    expect(ran).toHaveLength(20);
    vi.advanceTimersByTime(1_499);
    expect(ran).toHaveLength(34);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(throttle.pending).toBe(0);
    expect(throttle.stats).toEqual({ invocations: 35, delayed: 25, maxDelayMs: 2_500 });
  });

  it('refills while idle, up to one second of invocations', () => {
    const throttle = new InvocationThrottle(4);
    let ran = 0;
    for (let i = 0; i < 4; i++) throttle.invoke(() => ran++);
    vi.advanceTimersByTime(10_000);
    // Ten idle seconds still hold only 4 tokens: the fifth of these 5 waits.
    for (let i = 0; i < 5; i++) throttle.invoke(() => ran++);
    expect(ran).toBe(8);
    vi.advanceTimersByTime(250);
    expect(ran).toBe(9);
  });

  it('loses nothing: any bursts, at any limit, all run exactly once and in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.record({ afterMs: fc.integer({ min: 0, max: 2_000 }), count: fc.integer({ min: 0, max: 300 }) }), { maxLength: 8 }),
        async (limit, bursts) => {
          const throttle = new InvocationThrottle(limit);
          const ran: number[] = [];
          let n = 0;
          for (const b of bursts) {
            vi.advanceTimersByTime(b.afterMs);
            for (let i = 0; i < b.count; i++) {
              const id = n++;
              throttle.invoke(() => ran.push(id));
            }
          }
          const idle = throttle.whenIdle();
          // The backlog drains at `limit` a second: n / limit seconds is enough, plus a tick.
          vi.advanceTimersByTime(Math.ceil((n / limit) * 1000) + 1_000);
          await idle;
          expect(ran).toEqual(Array.from({ length: n }, (_, i) => i));
          expect(throttle.stats.invocations).toBe(n);
          throttle.close();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a limit that is not a positive number', () => {
    expect(() => new InvocationThrottle(0)).toThrow(/> 0, got 0/);
    expect(() => new InvocationThrottle(Number.NaN)).toThrow(RangeError);
  });
});

describe('the local bus with an invocation limit', () => {
  const rule = (name: string): TemplateRule => ({
    logicalId: name,
    name,
    description: undefined,
    eventPattern: { source: ['openstack.nova'] },
    enabled: true,
    targets: [{ id: 'Target0', logicalId: `${name}Queue`, type: 'AWS::SQS::Queue', name: `${name}/Queue` }],
  });
  const entries = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ Source: 'openstack.nova', DetailType: 'compute_node.update', Detail: JSON.stringify({ i }) }));

  it('accepts every entry at once and delivers each rule invocation later, none lost', () => {
    const sink = new IndexerSink();
    const bus = new LocalEventBus({ busName: 'b', rules: [rule('RouteA'), rule('RouteB')], targets: [sink], invocationsPerSecond: 5 });
    const answer = bus.putEvents({ Entries: entries(10) });
    // PutEvents is not throttled by the invocation limit: all 10 accepted now.
    expect(answer.FailedEntryCount).toBe(0);
    // 10 events × 2 rules = 20 invocations; 5 now, then 5 a second.
    expect(sink.deliveries()).toHaveLength(5);
    expect(bus.invocations).toMatchObject({ invocations: 20, delayed: 15, pending: 15 });
    vi.advanceTimersByTime(3_000);
    const all = sink.deliveries();
    expect(all).toHaveLength(20);
    for (const target of ['RouteA/Queue', 'RouteB/Queue']) {
      expect(new Set(sink.deliveries(target).map((d) => d.event.id)).size).toBe(10);
    }
    // Each delivery carries when it happened: the last ones 3 s after the put.
    expect(Math.max(...all.map((d) => d.deliveredAt)) - Math.min(...all.map((d) => d.deliveredAt))).toBe(3_000);
    expect(bus.invocations).toMatchObject({ pending: 0, maxDelayMs: 3_000 });
  });

  it('without a limit delivers at once; a limit set later applies from then on', async () => {
    const sink = new IndexerSink();
    const bus = new LocalEventBus({ busName: 'b', rules: [rule('RouteA')], targets: [sink] });
    bus.putEvents({ Entries: entries(10) });
    expect(sink.deliveries()).toHaveLength(10);
    bus.throttleInvocations(2);
    bus.putEvents({ Entries: entries(10) });
    expect(sink.deliveries()).toHaveLength(12);
    const done = bus.whenInvocationsDelivered();
    vi.advanceTimersByTime(4_000);
    await done;
    expect(sink.deliveries()).toHaveLength(20);
  });

  it('stopping the bus says how many invocations were still waiting', () => {
    const bus = new LocalEventBus({ busName: 'b', rules: [rule('RouteA')], targets: [new IndexerSink()], invocationsPerSecond: 1 });
    bus.putEvents({ Entries: entries(4) });
    expect(bus.stopInvocations()).toBe(3);
  });
});
