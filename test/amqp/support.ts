/**
 * What the AMQP tests share: notifications as an indexer route's queue delivers them (built
 * by the real notifier from Nova's reference vectors), a stand-in for the route's SQS queue
 * with Lambda's partial-batch semantics, the bridge's Lambda entry point loaded with its
 * environment, one RabbitMQ for a suite, and oslo.messaging's notification listener run as a
 * Python process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, vi } from 'vitest';
import type { BrokerPublisher } from '../../functions/amqp-bridge/broker-publisher.js';
import { AMQP_BRIDGE_ENV } from '../../functions/amqp-bridge/config.js';
import { classifyRecord } from '../../functions/notifier/batch-processor.js';
import { loadConfig } from '../../functions/notifier/config.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { loadVectors } from '../support/nova-vectors.js';
import { DEBIAN_PYTHON, startRabbitMq, type RabbitMq, type RabbitMqOptions } from './rabbitmq-broker.js';

/** One notification as the bridge's queue holds it. */
export interface RouteMessage {
  readonly id: string;
  /** The EventBridge event's text, `detail` spliced in as the notifier put it (exact digits). */
  readonly body: string;
  /** The `Detail` text the notifier put. */
  readonly detailText: string;
  readonly detail: { message_id: string; publisher_id: string; event_type: string; priority: string; timestamp: string; change: Record<string, unknown> };
  /** The payload's compact text, as in the Detail. */
  readonly payloadJson: string;
}

/** create, update and delete notifications of the given reference vectors (file names), in order. */
export function routeMessages(files: readonly string[]): RouteMessage[] {
  const vectors = loadVectors();
  const out: RouteMessage[] = [];
  for (const file of files) {
    const v = vectors.get(file);
    if (v === undefined) throw new Error(`no reference vector ${file}`);
    const build = createNotificationBuilder(loadConfig({ EVENT_BUS_NAME: 'bridge-test', QUARANTINE_QUEUE_URL: 'http://127.0.0.1/q', PUBLISHER_HOST_FALLBACK: v.publisher_host_fallback }));
    for (const c of v.cases.filter((c) => ['create', 'update', 'delete'].includes(c.case))) {
      const outcome = classifyRecord(c.record, build);
      if (outcome.kind !== 'notify') throw new Error(`${file} ${c.case}: the notifier did not notify (${outcome.kind})`);
      const e = outcome.notification.entry;
      const detailText = e.Detail!;
      const detail = JSON.parse(detailText) as RouteMessage['detail'];
      const id = `${file}:${c.case}`;
      const head = JSON.stringify({ version: '0', id: detail.message_id, 'detail-type': e.DetailType, source: e.Source, account: '123456789012', time: '2026-11-26T19:10:59Z', region: 'us-east-1', resources: [] });
      // The payload's text as the notifier wrote it: between `"payload":` and `,"timestamp":`.
      const payloadJson = detailText.slice(detailText.indexOf('"payload":') + 10, detailText.lastIndexOf(',"timestamp":'));
      out.push({ id, body: `${head.slice(0, -1)},"detail":${detailText}}`, detailText, detail, payloadJson });
    }
  }
  return out;
}

/**
 * The route's queue as the bridge function sees it through Lambda's SQS event source with
 * ReportBatchItemFailures: a poll hands the visible messages to the handler in one batch;
 * the ones it reports failed stay (their receive count grows) and, after `maxReceiveCount`
 * receives, move to the dead-letter queue.
 */
export class SqsQueueStandIn {
  private readonly visible: { message: RouteMessage; receives: number }[] = [];
  readonly deadLetters: RouteMessage[] = [];
  readonly deleted: RouteMessage[] = [];

  constructor(private readonly maxReceiveCount: number) {}

  send(...messages: RouteMessage[]): void {
    for (const message of messages) this.visible.push({ message, receives: 0 });
  }

  get depth(): number {
    return this.visible.length;
  }

  /** One receive: returns what the handler reported failed. */
  async poll(handler: (event: Pick<SQSEvent, 'Records'>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>): Promise<string[]> {
    if (this.visible.length === 0) return [];
    const batch = this.visible.splice(0, this.visible.length);
    for (const b of batch) b.receives++;
    const { batchItemFailures } = await handler({ Records: batch.map((b) => sqsRecord(b.message, b.receives)) });
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    for (const b of batch) {
      if (!failed.has(b.message.id)) this.deleted.push(b.message);
      else if (b.receives >= this.maxReceiveCount) this.deadLetters.push(b.message);
      else this.visible.push(b);
    }
    return [...failed];
  }
}

/** One RabbitMQ for the enclosing `describe`, and the publishers its tests open on it. */
export interface SuiteBroker {
  /** The broker; read it inside hooks and tests, once it has started. */
  readonly broker: RabbitMq;
  /** Publishers put here are closed after the suite's tests, before the broker stops. */
  readonly publishers: BrokerPublisher[];
}

/** Registers the `beforeAll` that starts the suite's RabbitMQ and the `afterAll` that closes its publishers and stops it. */
export function rabbitMqForSuite(options: RabbitMqOptions = {}): SuiteBroker {
  let started: RabbitMq | undefined;
  const publishers: BrokerPublisher[] = [];
  const get = (): RabbitMq => {
    if (started === undefined) throw new Error('RabbitMQ is not started yet: read it inside a hook or a test');
    return started;
  };
  beforeAll(async () => {
    started = await startRabbitMq(options);
  }, 180_000);
  afterAll(async () => {
    for (const p of publishers) await p.close();
    await started?.stop();
  }, 60_000);
  const broker: RabbitMq = {
    get port() {
      return get().port;
    },
    get url() {
      return get().url;
    },
    pause: () => get().pause(),
    resume: () => get().resume(),
    ctl: (...args) => get().ctl(...args),
    stop: () => get().stop(),
  };
  return { broker, publishers };
}

const secretsManagerMock = () => mockClient(SecretsManagerClient);

/** The bridge's Lambda entry point as a test drives it. */
export interface BridgeEntryPoint {
  /** Its handler, as `SqsQueueStandIn.poll` calls it. */
  readonly handle: (event: Pick<SQSEvent, 'Records'>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  /** Secrets Manager as the entry point reaches it: give GetSecretValue its answers before the first poll. */
  readonly secrets: ReturnType<typeof secretsManagerMock>;
  /** All its logger wrote so far (Powertools writes JSON lines, errors to stderr). */
  readonly logged: () => string;
}

/**
 * Loads the bridge's Lambda entry point afresh (its module keeps the connection) with its
 * environment set, Secrets Manager mocked and stdout and stderr captured, and runs `body` with
 * it; the environment, Secrets Manager and the output are restored afterwards.
 */
export async function withBridgeEntryPoint(env: { readonly brokerUrl: string; readonly secretArn: string; readonly topics: string }, body: (entry: BridgeEntryPoint) => Promise<void>): Promise<void> {
  const vars = { [AMQP_BRIDGE_ENV.brokerUrl]: env.brokerUrl, [AMQP_BRIDGE_ENV.credentialsSecretArn]: env.secretArn, [AMQP_BRIDGE_ENV.topics]: env.topics };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const secrets = secretsManagerMock();
  Object.assign(process.env, vars);
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    vi.resetModules();
    const { handler } = await import('../../functions/amqp-bridge/handler.js');
    await body({ handle: (event) => handler({ Records: [...event.Records] }), secrets, logged: () => written.join('') });
  } finally {
    for (const spy of spies) spy.mockRestore();
    secrets.restore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function sqsRecord(m: RouteMessage, receives: number): SQSRecord {
  return {
    messageId: m.id,
    receiptHandle: `${m.id}#${receives}`,
    body: m.body,
    attributes: { ApproximateReceiveCount: String(receives), SentTimestamp: '0', SenderId: 'events.amazonaws.com', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bridge-route',
    awsRegion: 'us-east-1',
  };
}

/** What oslo's listener handed its endpoint. */
export interface ListenerReceipt {
  readonly priority: string;
  readonly ctxt: Record<string, unknown>;
  readonly publisher_id: string;
  readonly event_type: string;
  readonly payload_json: string;
  readonly metadata: { message_id: string; timestamp: string };
}

const CONSUMER_SCRIPT = join(import.meta.dirname, 'oslo_consumer.py');

/** oslo.messaging's notification listener on exchange `nova`, topic `versioned_notifications`. */
export class OsloListener {
  readonly received: ListenerReceipt[] = [];
  private stderr = '';
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  static async start(url: string, topic = 'versioned_notifications'): Promise<OsloListener> {
    const child = spawn(DEBIAN_PYTHON, [CONSUMER_SCRIPT, 'listen', url.replace(/^amqp:/, 'rabbit:'), topic], { stdio: ['pipe', 'pipe', 'pipe'] });
    const listener = new OsloListener(child);
    let buffer = '';
    let ready: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const obj = JSON.parse(line) as { ready?: boolean } & ListenerReceipt;
        if (obj.ready === true) ready();
        else listener.received.push(obj);
      }
    });
    child.stderr.on('data', (d: Buffer) => (listener.stderr = (listener.stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`oslo listener exited (${code}): ${listener.stderr}`))));
    await Promise.race([isReady, exited, timeout(30_000, () => `oslo listener not ready: ${listener.stderr}`)]);
    return listener;
  }

  /** Waits until `n` notifications have arrived. */
  async waitFor(n: number, ms = 20_000): Promise<ListenerReceipt[]> {
    const until = Date.now() + ms;
    while (this.received.length < n) {
      if (Date.now() > until) throw new Error(`oslo listener received ${this.received.length} of ${n} notifications: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.received;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

function timeout(ms: number, why: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(why())), ms).unref());
}
