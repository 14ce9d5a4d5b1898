/**
 * The floors a batch's CPU is judged against, for the very PutEvents requests it sent
 * (captured at the transport):
 * - the *signed floor*: `JSON.stringify` of each request plus a SHA-256 of its body, what any
 *   client that signs its requests (SigV4 hashes every payload) must do at least;
 * - the *SDK floor*: the bare `EventBridgeClient.send` of the same requests, prebuilt, on the
 *   instant transport, with the client configured as `handler.ts` configures it and as many
 *   requests in flight as the notifier allows: what the mandated SDK costs at least.
 */
import { createHash } from 'node:crypto';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { StubTransport } from './transport.js';

/** A PutEvents request as it went over the wire (JSON protocol: `Time` in epoch seconds). */
export interface WireRequest {
  readonly Entries: Record<string, unknown>[];
}

/** The SDK input that produces `wire`: the entries as the notifier hands them to the SDK. */
export function sdkEntries(wire: WireRequest): PutEventsRequestEntry[] {
  return wire.Entries.map((e) => ({
    ...(e as PutEventsRequestEntry),
    ...(typeof e.Time === 'number' ? { Time: new Date(e.Time * 1000) } : {}),
  }));
}

/**
 * The two floors of a batch as functions to time: each does, for all of the batch's requests,
 * what its floor stands for.
 */
export function floorStages(requests: readonly WireRequest[], concurrency: number): { signed: () => Promise<void>; sdk: () => Promise<void> } {
  let sink = 0;
  const prebuilt = requests.map(sdkEntries);
  const { eventBridge } = new StubTransport().clients();
  return {
    signed: async () => {
      for (const request of requests) {
        const body = JSON.stringify(request);
        sink += createHash('sha256').update(body, 'utf8').digest('hex').length;
      }
      if (sink < 0) throw new Error('unreachable');
    },
    sdk: async () => {
      for (let i = 0; i < prebuilt.length; i += concurrency) {
        await Promise.all(prebuilt.slice(i, i + concurrency).map((Entries) => eventBridge.send(new PutEventsCommand({ Entries }))));
      }
    },
  };
}
