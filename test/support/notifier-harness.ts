/**
 * The notifier with mocked EventBridge and SQS clients (aws-sdk-client-mock), a silent
 * logger, a recording metrics sink and an instant clock for retries.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../functions/notifier/config.js';
import { createNotifier } from '../../functions/notifier/notifier.js';

export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/quarantine';

/**
 * `now`: the notifier's clock (deadline and retries), for tests that move time on by hand.
 * `checkEventBus`: the bus checks handler.ts turns on (DescribeEventBus); `functionArn`: the
 * invocations' `invokedFunctionArn`, which scopes them.
 */
export function harness(env: Record<string, string> = {}, opts: { now?: () => number; checkEventBus?: boolean; functionArn?: string } = {}) {
  const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
  const sqs = new SQSClient({ region: 'us-east-1' });
  const eb = mockClient(eventBridge);
  const sq = mockClient(sqs);
  const logs: unknown[] = [];
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  // Keep the test output clean but the log lines inspectable.
  (logger as unknown as { printLog: (level: unknown, log: { getAttributes(): unknown }) => void }).printLog = (_level, log) => logs.push(log.getAttributes());
  const emitted: string[] = [];
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test', customConfigService: undefined });
  (metrics as unknown as { console: { log: (s: string) => void } }).console = { log: (s: string) => emitted.push(s) };
  const sleeps: number[] = [];
  const config = loadConfig({ EVENT_BUS_NAME: 'test-bus', QUARANTINE_QUEUE_URL: QUEUE_URL, PUBLISHER_HOST_FALLBACK: 'fallback-host', ...env });
  const handler = createNotifier({
    config,
    eventBridge,
    sqs,
    logger,
    metrics,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.checkEventBus === undefined ? {} : { checkEventBus: opts.checkEventBus }),
  });
  return {
    eb,
    sq,
    logs,
    emitted,
    sleeps,
    config,
    /** One invocation with `remainingMs` of the function's time left (60 s unless told). */
    invoke: (records: unknown[], remainingMs = 60_000) =>
      handler({ Records: records }, { getRemainingTimeInMillis: () => remainingMs, ...(opts.functionArn === undefined ? {} : { invokedFunctionArn: opts.functionArn }) }),
    /** Every PutEvents entry sent, in order, across all calls. */
    sentEntries: (): PutEventsRequestEntry[] => eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []),
    quarantined: () =>
      sq.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody!) as Record<string, unknown>)),
  };
}

/** A PutEvents answer where every entry succeeded. */
export function allAccepted(input: { Entries?: unknown[] }) {
  return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `id-${i}` })) };
}

/** A SendMessageBatch answer where every message was queued (each named in `Successful`). */
export function allQueued(input: { Entries?: { Id?: string }[] }) {
  return { Successful: (input.Entries ?? []).map((e, i) => ({ Id: e.Id!, MessageId: `m-${i}`, MD5OfMessageBody: '' })), Failed: [] };
}
