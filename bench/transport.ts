/**
 * The benchmark's transport: real SDK clients (serialisation, endpoint resolution, SigV4
 * signing, response parsing, SQS's MD5 check all run) whose `requestHandler` answers at
 * once, or after a fixed delay, with a canned HTTP 200 of the service's own JSON protocol.
 * No network time counts. It also counts requests and entries and keeps the request bodies,
 * so the floor (the JSON of the entries actually sent) can be measured afterwards.
 *
 * The response is shaped as `@smithy/core/transport`'s `HttpResponse` is (statusCode, headers,
 * body; the SDK checks the shape, not the class), with a `Uint8Array` body, which the SDK's
 * `collectBody` takes as is.
 *
 * @example
 * ```ts
 * const t = new StubTransport({ delayMs: 20 });
 * const { eventBridge, sqs } = t.clients();
 * ```
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';

export const BENCH_REGION = 'us-east-1';
export const BENCH_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/hypervisor-notifier-quarantine';
const CREDENTIALS = { accessKeyId: 'AKIDBENCHMARK', secretAccessKey: 'benchmark-secret' };

/** The parts of the SDK's HttpRequest the stub reads. */
interface StubRequest {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

interface StubResponse {
  readonly response: { statusCode: number; reason?: string; headers: Record<string, string>; body: Uint8Array };
}

const DETAIL_TYPE_KEY = Buffer.from('"DetailType":');
const encoder = new TextEncoder();

function bodyBytes(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error(`stub transport: unexpected request body type ${typeof body}`);
}

/** Entries in a serialised PutEvents request: every entry has exactly one `"DetailType":` key (inside Detail, quotes are escaped). */
function countEntries(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(DETAIL_TYPE_KEY); i !== -1; i = bytes.indexOf(DETAIL_TYPE_KEY, i + DETAIL_TYPE_KEY.length)) n++;
  return n;
}

function ok(contentType: string, json: string, requestId: string): StubResponse {
  const body = encoder.encode(json);
  return {
    response: {
      statusCode: 200,
      reason: 'OK',
      headers: { 'content-type': contentType, 'content-length': String(body.byteLength), 'x-amzn-requestid': requestId },
      body,
    },
  };
}

// Canned PutEvents answers for 0..10 entries, each with its own EventIds.
const PUT_EVENTS_ANSWERS = Array.from({ length: 11 }, (_, n) =>
  JSON.stringify({
    FailedEntryCount: 0,
    Entries: Array.from({ length: n }, (_, i) => ({ EventId: `11111111-2222-3333-4444-${String(n * 100 + i).padStart(12, '0')}` })),
  }),
);

export interface TransportOptions {
  /** Milliseconds before PutEvents answers (0: at once, without even a timer). */
  readonly putEventsDelayMs?: number;
  /** Keep every PutEvents request body (for the floor). */
  readonly capture?: boolean;
}

export interface TransportCounts {
  putEventsRequests: number;
  putEventsEntries: number;
  /** Entries per request, in the order the requests were sent. */
  entriesPerRequest: number[];
  sqsRequests: number;
  sqsMessages: number;
}

export class StubTransport {
  counts: TransportCounts = StubTransport.zero();
  /** Request bodies of PutEvents, when capturing. */
  bodies: Buffer[] = [];
  /** Called on every request (e.g. to sample the heap). */
  onRequest: (() => void) | undefined;
  /** Called with each PutEvents request body when the bus has taken it (after the delay, before the answer). */
  onPutEventsAnswer: ((body: Buffer) => void) | undefined;
  /** Keep PutEvents request bodies (set between runs). */
  capture: boolean;
  private readonly delayMs: number;
  private seq = 0;

  constructor(opts: TransportOptions = {}) {
    this.capture = opts.capture ?? false;
    this.delayMs = opts.putEventsDelayMs ?? 0;
  }

  private static zero(): TransportCounts {
    return { putEventsRequests: 0, putEventsEntries: 0, entriesPerRequest: [], sqsRequests: 0, sqsMessages: 0 };
  }

  reset(): void {
    this.counts = StubTransport.zero();
    this.bodies = [];
  }

  readonly eventBridgeHandler = {
    handle: async (request: StubRequest): Promise<StubResponse> => {
      this.onRequest?.();
      const bytes = bodyBytes(request.body);
      const n = countEntries(bytes);
      const c = this.counts;
      c.putEventsRequests++;
      c.putEventsEntries += n;
      c.entriesPerRequest.push(n);
      if (this.capture) this.bodies.push(bytes);
      if (this.delayMs > 0) await delay(this.delayMs);
      this.onPutEventsAnswer?.(bytes);
      const answer = PUT_EVENTS_ANSWERS[n];
      if (answer === undefined) throw new Error(`stub transport: PutEvents with ${n} entries`);
      return ok('application/x-amz-json-1.1', answer, `bench-${++this.seq}`);
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };

  readonly sqsHandler = {
    handle: async (request: StubRequest): Promise<StubResponse> => {
      this.onRequest?.();
      const input = JSON.parse(bodyBytes(request.body).toString('utf8')) as { Entries: { Id: string; MessageBody: string }[] };
      this.counts.sqsRequests++;
      this.counts.sqsMessages += input.Entries.length;
      // The SDK checks each message's MD5 against the answer, as SQS computes it.
      const Successful = input.Entries.map((e) => ({
        Id: e.Id,
        MessageId: `bench-message-${e.Id}`,
        MD5OfMessageBody: createHash('md5').update(e.MessageBody, 'utf8').digest('hex'),
      }));
      return ok('application/x-amz-json-1.0', JSON.stringify({ Successful, Failed: [] }), `bench-${++this.seq}`);
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };

  /** Clients configured as `handler.ts` configures them (one attempt, middleware cached), on this transport. */
  clients(): { eventBridge: EventBridgeClient; sqs: SQSClient } {
    return {
      eventBridge: new EventBridgeClient({ region: BENCH_REGION, credentials: CREDENTIALS, maxAttempts: 1, requestHandler: this.eventBridgeHandler, cacheMiddleware: true }),
      sqs: new SQSClient({ region: BENCH_REGION, credentials: CREDENTIALS, maxAttempts: 1, requestHandler: this.sqsHandler, cacheMiddleware: true }),
    };
  }

  /** The PutEvents entries of every captured request, as sent on the wire. */
  capturedRequests(): { Entries: Record<string, unknown>[] }[] {
    return this.bodies.map((b) => JSON.parse(b.toString('utf8')) as { Entries: Record<string, unknown>[] });
  }
}
