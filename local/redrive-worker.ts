/**
 * The automatic redrive on this machine, as it runs in AWS: each batch the event source
 * mapping gives up on is written, in Lambda's S3 on-failure format, to the bucket's stand-in
 * (a directory); an S3-style "ObjectCreated" notification goes to a redrive queue (its own
 * SQS stand-in); a worker polls that queue as Lambda's SQS event source mapping does and runs
 * the real redrive function (`createRedriveFunction`) on the messages: the same notifier,
 * the same back-off by ChangeMessageVisibility, the same marks.
 *
 * @example
 * ```ts
 * const redrive = await startLocalRedrive({ directory: '.local/on-failure-bucket', notifierConfig, busEndpoint });
 * await redrive.keep(failure); // from the mapping's onFailure
 * await redrive.stop();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { REQUEST_TIMEOUTS } from '../functions/notifier/client-config.js';
import type { NotifierConfig } from '../functions/notifier/config.js';
import { createNotifier } from '../functions/notifier/notifier.js';
import { DEFAULT_MAX_ATTEMPTS, MAX_QUEUE_RETENTION_SECONDS, REDRIVE_SERVICE_NAME } from '../functions/redrive/config.js';
import { onFailureObjectKey } from '../functions/redrive/on-failure-record.js';
import { createRedriveFunction } from '../functions/redrive/redrive-function.js';
import { objectCreatedBody } from '../functions/redrive/redrive-message.js';
import { createRedriver, type RedriveOutcome } from '../functions/redrive/redriver.js';
import type { OnFailureRecord } from './batch-delivery.js';
import { localClientConfig } from './local-aws.js';
import { CountingMetrics } from './notifier-metrics.js';
import { DirectoryOnFailureStore } from './on-failure-directory.js';
import { startSqsServer } from './sqs-server.js';

export const LOCAL_ON_FAILURE_BUCKET = 'local-on-failure';
export const REDRIVE_QUEUE = 'redrive';
/** The local mapping's id in object keys (`aws/lambda/<mapping>/<shard>/...`). */
export const LOCAL_MAPPING_ID = 'local-mapping';

export interface LocalRedriveOptions {
  /** The bucket's stand-in. */
  readonly directory: string;
  /** The notifier's configuration (the local bus and quarantine queue). */
  readonly notifierConfig: NotifierConfig;
  readonly busEndpoint: string;
  /** The quarantine queue's endpoint. */
  readonly sqsEndpoint: string;
  /** First delay after a failed redrive, doubling. @default 5 */
  readonly baseDelaySeconds?: number;
  /** @default 300 */
  readonly maxDelaySeconds?: number;
  /** Poll the queue and redrive (false: only keep the batches, for an operator's `cli redrive`). @default true */
  readonly poll?: boolean;
  /** How often the worker polls the redrive queue. @default 250 */
  readonly pollIntervalMs?: number;
  /** The redrive function's timeout, for the notifier's deadline. @default 60000 */
  readonly timeoutMs?: number;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
  readonly onOutcome?: (key: string, outcome: RedriveOutcome) => void;
  readonly onError?: (error: unknown, where: string) => void;
}

export interface LocalRedrive {
  readonly store: DirectoryOnFailureStore;
  readonly queueUrl: string;
  readonly stats: { kept: number; redrivenObjects: number; redrivenRecords: number; retries: number; unreadable: number };
  /** Writes a given-up batch to the bucket's stand-in and announces it on the queue. */
  keep(failure: OnFailureRecord): Promise<string>;
  /** No object waiting or being redriven. */
  idle(): boolean;
  stop(): Promise<void>;
}

/** Lambda's S3 on-failure object for a batch: the invocation record with the event as escaped JSON in `payload`. */
export function s3OnFailureObject(failure: OnFailureRecord): string {
  const { records, ...metadata } = failure;
  return JSON.stringify({ ...metadata, payload: JSON.stringify({ Records: records }) });
}

export async function startLocalRedrive(opts: LocalRedriveOptions): Promise<LocalRedrive> {
  const store = new DirectoryOnFailureStore(opts.directory);
  const server = await startSqsServer({ queues: [REDRIVE_QUEUE] });
  const queueUrl = server.queueUrl(REDRIVE_QUEUE);
  const eventBridge = new EventBridgeClient({ ...localClientConfig(opts.busEndpoint), maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS });
  const quarantineSqs = new SQSClient({ ...localClientConfig(opts.sqsEndpoint), requestHandler: REQUEST_TIMEOUTS });
  const queue = new SQSClient({ ...localClientConfig(server.endpoint), requestHandler: REQUEST_TIMEOUTS });
  const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME, logLevel: opts.logLevel ?? 'ERROR' });
  const stats = { kept: 0, redrivenObjects: 0, redrivenRecords: 0, retries: 0, unreadable: 0 };
  const notifier = createNotifier({
    config: opts.notifierConfig,
    eventBridge,
    sqs: quarantineSqs,
    // As on AWS, a quarantine message over 1 MiB is kept whole in the on-failure bucket.
    claimCheck: store.claimCheck(LOCAL_ON_FAILURE_BUCKET),
    logger,
    metrics: new CountingMetrics().asMetrics(),
    checkEventBus: false,
  });
  const handle = createRedriveFunction({
    redrive: createRedriver({ store, handler: notifier, eventBridge, eventBusName: opts.notifierConfig.eventBusName }),
    park: (key, reason) => store.setMark(key, 'parked', reason),
    sqs: queue,
    config: {
      bucket: LOCAL_ON_FAILURE_BUCKET,
      queueUrl,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoff: {
        baseDelaySeconds: opts.baseDelaySeconds ?? 5,
        maxDelaySeconds: Math.max(opts.baseDelaySeconds ?? 5, opts.maxDelaySeconds ?? 300),
        queueRetentionSeconds: MAX_QUEUE_RETENTION_SECONDS,
      },
    },
    logger,
    onOutcome: (key, outcome) => {
      if (outcome.kind === 'done') {
        stats.redrivenObjects++;
        stats.redrivenRecords += outcome.records;
      } else if (outcome.kind === 'retry') stats.retries++;
      else if (outcome.kind === 'unreadable') stats.unreadable++;
      opts.onOutcome?.(key, outcome);
    },
  });

  const timeoutMs = opts.timeoutMs ?? 60_000;
  let busy = false;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  /** One poll, as Lambda's SQS event source mapping does it: receive, invoke, delete what succeeded. */
  async function poll(): Promise<void> {
    const out = await queue.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: Math.ceil((timeoutMs * 6) / 1000) }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
    const records = messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount, SentTimestamp: m.Attributes?.SentTimestamp },
    }));
    const started = Date.now();
    const response = await handle({ Records: records }, { getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)) });
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const r of records) if (!failed.has(r.messageId)) await queue.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: r.receiptHandle }));
  }

  const timer = setInterval(() => {
    if (busy || stopped || opts.poll === false) return;
    busy = true;
    running = poll()
      .catch((error: unknown) => opts.onError?.(error, 'redrive'))
      .finally(() => {
        busy = false;
      });
  }, opts.pollIntervalMs ?? 250);

  return {
    store,
    queueUrl,
    stats,
    async keep(failure) {
      const key = onFailureObjectKey(LOCAL_MAPPING_ID, failure.DDBStreamBatchInfo.shardId, new Date(failure.timestamp), randomUUID());
      await store.put(key, s3OnFailureObject(failure));
      stats.kept++;
      await queue.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: objectCreatedBody(LOCAL_ON_FAILURE_BUCKET, key) }));
      return key;
    },
    idle: () => !busy && server.sqs.pendingCount(REDRIVE_QUEUE) === 0,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      eventBridge.destroy();
      quarantineSqs.destroy();
      queue.destroy();
      await server.close();
    },
  };
}
