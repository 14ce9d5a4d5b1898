/**
 * PutEvents through an EventBridge global endpoint (issue 22): with `endpointId` the request is
 * addressed to the endpoint's host (`<EndpointId>.endpoint.events.amazonaws.com`), carries
 * `EndpointId`, and is signed with SigV4a (`AWS4-ECDSA-P256-SHA256`, `X-Amz-Region-Set`); without
 * it nothing changes (the regional host, SigV4). A real SDK client signs each request; a
 * middleware placed after signing records what it signed and sends it to a server on loopback
 * started here, which answers as PutEvents does.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-eventbridge';
import type { FinalizeHandler, FinalizeHandlerArguments } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/notifier/config.js';
import { createEventPublisher, type OutgoingEntry } from '../../functions/notifier/event-publisher.js';

interface Seen {
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

let server: Server;
let port: number;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { Entries: unknown[] };
      seen.push({ headers: req.headers, body: parsed as unknown as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedEntryCount: 0, Entries: parsed.Entries.map((_, i) => ({ EventId: `e${i}` })) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A client signing as on AWS, whose signed requests go to the loopback server (Host header as signed). */
function loopbackClient(): EventBridgeClient {
  const client = new EventBridgeClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1 });
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<ServiceInputTypes, ServiceOutputTypes>) => async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
      const request = args.request as { hostname: string; port?: number; protocol: string; headers: Record<string, string> };
      request.headers.host = request.hostname;
      request.hostname = '127.0.0.1';
      request.port = port;
      request.protocol = 'http:';
      return next(args);
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'toLoopback' },
  );
  return client;
}

const entry: OutgoingEntry = {
  key: 0,
  entry: { Source: 'openstack.nova', DetailType: 'compute_node.update', Detail: '{}', EventBusName: 'arn:aws:events:eu-west-1:111111111111:event-bus/nova' },
  size: 100,
};

async function publishOne(endpointId: string | undefined): Promise<Seen> {
  seen.length = 0;
  const publisher = createEventPublisher(loopbackClient(), {
    concurrency: 1,
    deadline: Date.now() + 30_000,
    ...(endpointId === undefined ? {} : { endpointId }),
  });
  publisher.add(entry);
  const result = await publisher.finish();
  expect([...result.published]).toEqual([0]);
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

describe('PutEvents through a global endpoint', () => {
  it('goes to the endpoint host with EndpointId, signed with SigV4a for every region', async () => {
    // What the handler does at start-up when GLOBAL_ENDPOINT_ID is set.
    await import('@aws-sdk/signature-v4a');
    const request = await publishOne('abcde.veo');
    expect(request.headers.host).toBe('abcde.veo.endpoint.events.amazonaws.com');
    expect(request.headers.authorization).toMatch(/^AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/events\/aws4_request, SignedHeaders=[^,]*x-amz-region-set/);
    expect(request.headers['x-amz-region-set']).toBe('*');
    expect(request.body.EndpointId).toBe('abcde.veo');
  });

  it('without an endpoint id, nothing changes: the regional host, SigV4, no EndpointId', async () => {
    const request = await publishOne(undefined);
    expect(request.headers.host).toBe('events.eu-west-1.amazonaws.com');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/events\/aws4_request/);
    expect(request.headers['x-amz-region-set']).toBeUndefined();
    expect(request.body).not.toHaveProperty('EndpointId');
  });

  it('GLOBAL_ENDPOINT_ID: read when set, absent when not, a clear error when malformed', () => {
    expect(loadConfig({ GLOBAL_ENDPOINT_ID: 'abcde.veo' }).globalEndpointId).toBe('abcde.veo');
    expect(loadConfig({})).not.toHaveProperty('globalEndpointId');
    expect(() => loadConfig({ GLOBAL_ENDPOINT_ID: 'https://abcde.veo' })).toThrow(/GLOBAL_ENDPOINT_ID: must be an EventBridge endpoint id/);
  });
});
