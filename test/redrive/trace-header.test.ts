/**
 * Tracing opt-in: the PutEvents entries carry the invocation's trace header, added by client
 * middleware around the real SDK serializer (the request body is captured, not a mock's echo).
 */
import { Readable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { addTraceHeaders, currentTraceHeader, setUpTracing, tracingEnabled } from '../../functions/notifier/trace-header.js';

/** An EventBridgeClient whose HTTP handler records each request body and accepts every entry. */
function capturingClient() {
  const bodies: { Entries: { TraceHeader?: string; Detail?: string }[] }[] = [];
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const raw = request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : String(request.body);
        const body = JSON.parse(raw) as { Entries: { TraceHeader?: string }[] };
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

  it('setUpTracing: a bundle without the tracer (tracing off at deploy, turned on by hand) runs untraced and says why', async () => {
    const { client, bodies } = capturingClient();
    const warnings: string[] = [];
    const missing = new Error("Cannot find package '@aws-lambda-powertools/tracer'");
    const traced = await setUpTracing('svc', client, [], { env: { POWERTOOLS_TRACE_ENABLED: 'true' }, load: () => Promise.reject(missing), warn: (m) => warnings.push(m) });
    expect(traced).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('POWERTOOLS_TRACE_ENABLED');
    expect(warnings[0]).toContain("Cannot find package '@aws-lambda-powertools/tracer'");
    // Still publishes, without trace headers.
    process.env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000009;Sampled=1';
    try {
      await client.send(new PutEventsCommand({ Entries: [entry(1)] }));
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
    }
    expect(bodies[0]!.Entries[0]!.TraceHeader).toBeUndefined();
  });

  it('setUpTracing: with tracing on and the tracer bundled, entries carry the trace header; off, the tracer is not even loaded', async () => {
    const on = capturingClient();
    expect(await setUpTracing('svc', on.client, [], { env: { POWERTOOLS_TRACE_ENABLED: 'true' } })).toBe(true);
    process.env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000009;Sampled=1';
    try {
      await on.client.send(new PutEventsCommand({ Entries: [entry(1)] }));
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
    }
    expect(on.bodies[0]!.Entries[0]!.TraceHeader).toBe('Root=1-00000000-000000000000000000000009;Sampled=1');

    let loaded = false;
    const off = capturingClient();
    const result = await setUpTracing('svc', off.client, [], { env: {}, load: () => ((loaded = true), Promise.reject(new Error('unreachable'))) });
    expect(result).toBe(false);
    expect(loaded).toBe(false);
  });

  it('setUpTracing without an event bus client (the reference indexer): its other clients are traced', async () => {
    const dynamodb = new DynamoDBClient({ region: 'us-east-1' });
    const before = dynamodb.middlewareStack.identify();
    // The Tracer traces only inside Lambda (it reads AWS_EXECUTION_ENV when it is made).
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
    try {
      expect(await setUpTracing('svc', undefined, [dynamodb], { env: { POWERTOOLS_TRACE_ENABLED: 'true' } })).toBe(true);
    } finally {
      delete process.env.AWS_EXECUTION_ENV;
    }
    const added = dynamodb.middlewareStack.identify().filter((m) => !before.includes(m));
    expect(added.some((m) => m.startsWith('XRaySDKInstrumentation'))).toBe(true);
  });
});
