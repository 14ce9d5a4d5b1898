/**
 * Tracing opt-in: the PutEvents entries carry the invocation's trace header, added by client
 * middleware around the real SDK serializer (the request body is captured, not a mock's echo).
 */
import { Readable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { addTraceHeaders, currentTraceHeader, tracingEnabled } from '../../functions/notifier/trace-header.js';

/** An EventBridgeClient whose HTTP handler records each request body and accepts every entry. */
function capturingClient() {
  const bodies: { Entries: { TraceHeader?: string; Detail?: string }[] }[] = [];
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const body = JSON.parse(String(request.body)) as { Entries: { TraceHeader?: string }[] };
        bodies.push(body);
        // An HttpResponse in shape (the SDK checks the shape, not the class).
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(JSON.stringify({ FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: `e${i}` })) }))]),
          },
        };
      },
    } as never,
  });
  return { client, bodies };
}

const entry = (n: number) => ({ Source: 'openstack.nova', DetailType: 'compute_node.create', Detail: `{"n":${n}}`, EventBusName: 'bus' });

describe('trace header on PutEvents entries', () => {
  it('adds the current header to every entry, read per request, and leaves the caller\'s entries unchanged', async () => {
    const { client, bodies } = capturingClient();
    let header = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1';
    addTraceHeaders(client, () => header);
    const entries = [entry(1), entry(2)];
    await client.send(new PutEventsCommand({ Entries: entries }));
    header = 'Root=1-00000000-000000000000000000000002;Parent=1111111111111111;Sampled=0';
    await client.send(new PutEventsCommand({ Entries: [entry(3)] }));
    expect(bodies.map((b) => b.Entries.map((e) => e.TraceHeader))).toEqual([
      ['Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1'],
      ['Root=1-00000000-000000000000000000000002;Parent=1111111111111111;Sampled=0'],
    ]);
    expect(entries.every((e) => !('TraceHeader' in e))).toBe(true);
  });

  it('sends no TraceHeader outside a traced invocation', async () => {
    const { client, bodies } = capturingClient();
    addTraceHeaders(client, () => undefined);
    await client.send(new PutEventsCommand({ Entries: [entry(1)] }));
    expect(bodies[0]!.Entries[0]!.TraceHeader).toBeUndefined();
  });

  it('reads _X_AMZN_TRACE_ID, and tracing only when POWERTOOLS_TRACE_ENABLED is "true"', () => {
    expect(currentTraceHeader({ _X_AMZN_TRACE_ID: 'Root=1-a;Sampled=1' })).toBe('Root=1-a;Sampled=1');
    expect(currentTraceHeader({})).toBeUndefined();
    expect(tracingEnabled({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(false);
  });
});
