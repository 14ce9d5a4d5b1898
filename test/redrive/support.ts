/** The redrive with mocked AWS clients (aws-sdk-client-mock) and an in-memory bucket. */
import { DescribeEventBusCommand, EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import type { ClaimCheckStore } from '../../functions/notifier/claim-check.js';
import { loadConfig } from '../../functions/notifier/config.js';
import { createNotifier } from '../../functions/notifier/notifier.js';
import type { OnFailureStore, RedriveMark, StoredObject } from '../../functions/redrive/on-failure-store.js';
import { createRedriveFunction, type RedriveQueueRecord } from '../../functions/redrive/redrive-function.js';
import { objectCreatedBody } from '../../functions/redrive/redrive-message.js';
import { createRedriver } from '../../functions/redrive/redriver.js';
import { CountingMetrics } from '../../local/notifier-metrics.js';
import { allAccepted } from '../support/notifier-harness.js';

export const BUCKET = 'on-failure-bucket';
export const REDRIVE_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/redrive';
export const QUARANTINE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/quarantine';
const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/notifications';

/** A bucket in memory: objects and their redrive marks (with the reason of a parked one). */
export class MemoryStore implements OnFailureStore {
  readonly location = `s3://${BUCKET}`;
  readonly objects = new Map<string, string>();
  readonly marks = new Map<string, string>();
  readonly reasons = new Map<string, string>();
  readonly reads: string[] = [];
  async *list(): AsyncIterable<StoredObject> {
    for (const key of [...this.objects.keys()].sort()) yield { key, lastModified: undefined };
  }
  async read(key: string) {
    this.reads.push(key);
    return this.objects.get(key);
  }
  async mark(key: string) {
    return this.marks.get(key);
  }
  async setMark(key: string, mark: RedriveMark, reason?: string) {
    this.marks.set(key, mark);
    if (reason !== undefined) this.reasons.set(key, reason);
  }
}

/** The claim-check bucket in memory (the quarantine's objects for messages over 1 MiB). */
export class MemoryClaimCheck implements ClaimCheckStore {
  readonly bucket = BUCKET;
  readonly objects = new Map<string, string>();
  async put(key: string, body: string) {
    this.objects.set(key, body);
  }
  async get(key: string) {
    return this.objects.get(key);
  }
}

/** Lambda's S3 on-failure object for `records` (services-dynamodb-errors: `payload` is the event as escaped JSON). */
export function s3Object(records: readonly unknown[]): string {
  return JSON.stringify({
    requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:notifier', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 21 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-12-01T10:00:00.000Z',
    DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '1', endSequenceNumber: '2', batchSize: records.length, streamArn: 'arn:...' },
    payload: JSON.stringify({ Records: records }),
  });
}

export function setup(opts: { baseDelaySeconds?: number; now?: () => number; claimCheck?: ClaimCheckStore; maxAttempts?: number } = {}) {
  const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
  const sqs = new SQSClient({ region: 'us-east-1' });
  const eb = mockClient(eventBridge);
  const sq = mockClient(sqs);
  eb.on(PutEventsCommand).callsFake(allAccepted);
  eb.on(DescribeEventBusCommand).resolves({ Arn: BUS });
  sq.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })), Failed: [] }));
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const config = loadConfig({ EVENT_BUS_NAME: BUS, QUARANTINE_QUEUE_URL: QUARANTINE_URL, PUBLISHER_HOST_FALLBACK: 'fallback-host' });
  const notifier = createNotifier({ config, eventBridge, sqs, logger, metrics: new CountingMetrics().asMetrics(), sleep: async () => {}, random: () => 0.5, ...(opts.claimCheck ? { claimCheck: opts.claimCheck } : {}) });
  const metrics = new CountingMetrics();
  const store = new MemoryStore();
  const redrive = createRedriver({ store, handler: notifier, eventBridge, eventBusName: BUS });
  const handle = createRedriveFunction({
    redrive,
    park: (key, reason) => store.setMark(key, 'parked', reason),
    sqs,
    config: {
      bucket: BUCKET,
      queueUrl: REDRIVE_QUEUE_URL,
      maxAttempts: opts.maxAttempts ?? 1000,
      backoff: { baseDelaySeconds: opts.baseDelaySeconds ?? 60, maxDelaySeconds: 43_200, queueRetentionSeconds: 14 * 86_400 },
    },
    logger,
    metrics: metrics.asMetrics(),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const context = { getRemainingTimeInMillis: () => 60_000 };
  let n = 0;
  return {
    eb,
    sq,
    store,
    notifier,
    /** The redrive function's own counters (RedrivenObjects, RedriveParkedObjects, ...). */
    metrics,
    context,
    /** The stream path: the notifier invoked as Lambda invokes it. */
    stream: (records: readonly unknown[]) => notifier({ Records: records }, context),
    /** One SQS delivery of the object's notification (or of `body`) to the redrive function. */
    deliver: (key: string, attrs: { receiveCount?: number; sentAt?: number; body?: string } = {}) => {
      const record: RedriveQueueRecord = {
        messageId: `m-${++n}`,
        receiptHandle: `rh-${n}`,
        body: attrs.body ?? objectCreatedBody(BUCKET, key),
        attributes: { ApproximateReceiveCount: String(attrs.receiveCount ?? 1), SentTimestamp: String(attrs.sentAt ?? Date.now()) },
      };
      return handle({ Records: [record] }, context);
    },
    sent: (): PutEventsRequestEntry[] => eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []),
    delays: () => sq.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input.VisibilityTimeout),
    resent: () => sq.commandCalls(SendMessageCommand).map((c) => c.args[0].input),
    quarantined: () => sq.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody!) as Record<string, unknown>)),
  };
}
