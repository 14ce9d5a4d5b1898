import { describe, expect, it } from 'vitest';
import { CONTEXT, benchNotifier, benchNotifierWithoutSdk, sunk } from '../../bench/harness.js';
import { REALISTIC_MIX, streamEvent } from '../../bench/record-mix.js';

// The breakdown's "handler without the SDK" only means something if it does the handler's whole
// job: the same entries published and the same records quarantined as with the real clients.
describe('the notifier on SDK-free clients (bench breakdown)', () => {
  it('publishes and quarantines exactly what the notifier on the real SDK clients does', async () => {
    const event = streamEvent(300, REALISTIC_MIX);
    const real = benchNotifier();
    const bare = benchNotifierWithoutSdk();
    const a = await sunk(() => real.handle(event, CONTEXT));
    const b = await sunk(() => bare.handle(event, CONTEXT));
    expect(b.value).toEqual(a.value);
    expect(a.value.batchItemFailures).toEqual([]);
    expect(real.transport.counts.putEventsEntries).toBeGreaterThan(0);
    expect(real.transport.counts.sqsMessages).toBeGreaterThan(0);
    expect(bare.counts).toEqual({ putEventsEntries: real.transport.counts.putEventsEntries, sqsMessages: real.transport.counts.sqsMessages });
  });
});
