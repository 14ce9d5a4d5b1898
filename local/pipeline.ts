/**
 * The whole pipeline on this machine: DynamoDB Local (table and stream) → event source
 * mapping → the real notifier → local EventBridge → the template's rules → local targets,
 * with the quarantine queue's stand-in. Used by `npm start` and the end-to-end tests.
 *
 * Everything started here is stopped by `stop()`; if start-up fails half-way, what was
 * already started is stopped before the error is thrown.
 *
 * @example
 * ```ts
 * const pipeline = await startLocalPipeline({ runDirectory: '.local' });
 * await pipeline.ddb.send(new PutItemCommand({ TableName: pipeline.tableName, Item }));
 * // pipeline.indexer.deliveries(), pipeline.sqs.messages('quarantine')
 * await pipeline.stop();
 * ```
 */
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { REQUEST_TIMEOUTS } from '../functions/notifier/client-config.js';
import { ENV, loadConfig, type NotifierConfig } from '../functions/notifier/config.js';
import { createNotifier } from '../functions/notifier/notifier.js';
import type { InvokeOutcome, OnFailureRecord, StreamHandler } from './batch-delivery.js';
import { createComputeNodeTable, DEFAULT_TABLE_NAME } from './compute-node-table.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { startEventBusServer, type EventBusServer } from './event-bus-server.js';
import type { LambdaStreamRecord } from './lambda-stream-record.js';
import { localClientConfig } from './local-aws.js';
import { CountingMetrics } from './notifier-metrics.js';
import { PipelineStats } from './pipeline-stats.js';
import { JsonlWriter, prepareRunDirectory, type RunFiles } from './run-directory.js';
import { startSqsServer, type QueueMessage, type SqsServer } from './sqs-server.js';
import { loadStackTemplate, readTemplateDeployment, type TemplateDeployment, type TemplateRule } from './stack-template.js';
import { DirectoryOnFailureStore } from './on-failure-directory.js';
import { LOCAL_ON_FAILURE_BUCKET, startLocalRedrive, type LocalRedrive } from './redrive-worker.js';
import { StreamPoller } from './stream-poller.js';
import { IndexerSink, JsonlTarget, type DeliveredEvent } from './targets.js';

export const DEFAULT_BUS_NAME = 'local-notifications';
export const QUARANTINE_QUEUE = 'quarantine';
/** The stack's quarantine queue takes messages up to 1 MiB (MaximumMessageSize), as the notifier sends them. */
export const QUARANTINE_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface PipelineOptions {
  /** @default '.local' */
  readonly runDirectory?: string;
  /** The rules, function environment and mapping settings; default: read from the CDK template. */
  readonly deployment?: TemplateDeployment;
  /** Where a synthesized template is cached between runs. @default <runDirectory>/template-cache.json */
  readonly templateCacheFile?: string;
  readonly tableName?: string;
  readonly busName?: string;
  /** Notifier log level (Powertools). @default 'ERROR' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
  /** Overrides of the template's event source mapping settings. */
  readonly maxRetries?: number;
  readonly batchSize?: number;
  readonly pollIntervalMs?: number;
  /** Function timeout, for the handler's context. @default 60000 */
  readonly functionTimeoutMs?: number;
  /** Wraps the notifier's handler (tests use it to inject failures). */
  readonly wrapHandler?: (handler: StreamHandler) => StreamHandler;
  readonly onEvent?: (event: DeliveredEvent, matchedRules: readonly string[], receivedAt: number) => void;
  readonly onQuarantined?: (message: QueueMessage) => void;
  readonly onFailure?: (failure: OnFailureRecord) => void;
  readonly onRecords?: (records: readonly LambdaStreamRecord[]) => void;
  readonly onInvoke?: (records: readonly LambdaStreamRecord[], outcome: InvokeOutcome) => void;
  readonly onError?: (error: unknown, where: string) => void;
  /** Called with what is being started, for a progress line. */
  readonly onProgress?: (step: string) => void;
  /** Rules added to the template's on the local bus (`npm start --amqp-url` adds the AMQP bridge's route). @default - none */
  readonly extraRules?: readonly TemplateRule[];
  /**
   * The automatic redrive of given-up batches (`local/redrive-worker.ts`): its back-off, or
   * false for none. The batches are kept in `<runDirectory>/on-failure-bucket/` either way.
   * @default { baseDelaySeconds: 5, maxDelaySeconds: 300 }
   */
  readonly redrive?: false | { readonly baseDelaySeconds?: number; readonly maxDelaySeconds?: number };
}

export interface LocalPipeline {
  readonly dynamodb: DynamoDbLocal;
  /** A DynamoDB client on DynamoDB Local. */
  readonly ddb: DynamoDBClient;
  readonly tableName: string;
  readonly streamArn: string;
  readonly busEndpoint: string;
  readonly busArn: string;
  readonly sqsEndpoint: string;
  readonly quarantineQueueUrl: string;
  readonly eventBus: EventBusServer['bus'];
  readonly sqs: SqsServer['sqs'];
  readonly indexer: IndexerSink;
  readonly poller: StreamPoller;
  readonly metrics: CountingMetrics;
  readonly stats: PipelineStats;
  readonly files: RunFiles;
  readonly deployment: TemplateDeployment;
  readonly templateSource: string;
  readonly notifierConfig: NotifierConfig;
  /** The settings the event source mapping runs with. */
  readonly mapping: { batchSize: number; maxRetries: number; bisectOnError: boolean; pollIntervalMs: number };
  /** On-failure records written so far. */
  readonly onFailureRecords: readonly OnFailureRecord[];
  /** The automatic redrive (undefined when turned off); given-up batches are kept in its store. */
  readonly redrive: LocalRedrive | undefined;
  /** Stops polling, the servers and DynamoDB Local; flushes the files. Idempotent. */
  stop(): Promise<void>;
}

/** The notifier's environment from the template, with the local bus and queue in place of AWS's. */
export function notifierEnvironment(deployment: TemplateDeployment, local: { busArn: string; queueUrl: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of Object.values(ENV)) {
    const value = deployment.functionEnvironment[name];
    if (typeof value === 'string') env[name] = value;
  }
  env[ENV.eventBusName] = local.busArn;
  env[ENV.quarantineQueueUrl] = local.queueUrl;
  return env;
}

export async function startLocalPipeline(opts: PipelineOptions = {}): Promise<LocalPipeline> {
  const progress = opts.onProgress ?? (() => {});
  const cleanups: (() => Promise<void> | void)[] = [];
  const runCleanups = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (error) {
        opts.onError?.(error, 'stop');
      }
    }
    cleanups.length = 0;
  };

  try {
    const files = prepareRunDirectory(opts.runDirectory);
    const eventsFile = new JsonlWriter(files.events);
    const quarantineFile = new JsonlWriter(files.quarantine);
    const onFailureFile = new JsonlWriter(files.onFailure);
    cleanups.push(() => Promise.all([eventsFile.flush(), quarantineFile.flush(), onFailureFile.flush()]).then(() => undefined));

    progress('starting DynamoDB Local and reading the CDK template');
    const templatePromise =
      opts.deployment === undefined
        ? loadStackTemplate({ cacheFile: opts.templateCacheFile ?? join(files.directory, 'template-cache.json') }).then((t) => ({ deployment: readTemplateDeployment(t.template, t.stackName), source: t.source }))
        : Promise.resolve({ deployment: opts.deployment, source: 'given' });
    const starting = startDynamoDbLocal();
    // Whatever happens to the template, a started Java process is stopped.
    starting.then(
      (d) => cleanups.unshift(() => d.stop()),
      () => {},
    );
    let dynamodb: DynamoDbLocal;
    let deployment: TemplateDeployment;
    let templateSource: string;
    try {
      [dynamodb, { deployment, source: templateSource }] = await Promise.all([starting, templatePromise]);
    } catch (error) {
      await starting.catch(() => {}); // its clean-up is registered before the clean-ups run
      throw error;
    }

    const ddb = new DynamoDBClient(dynamodb.clientConfig);
    cleanups.push(() => ddb.destroy());
    progress('creating the table');
    const table = await createComputeNodeTable(ddb, opts.tableName ?? DEFAULT_TABLE_NAME);

    const stats = new PipelineStats();
    const indexer = new IndexerSink();
    const sqsServer = await startSqsServer({
      queues: [QUARANTINE_QUEUE],
      maxMessageBytes: QUARANTINE_MAX_MESSAGE_BYTES,
      file: quarantineFile,
      onMessage: (m) => {
        stats.quarantined++;
        opts.onQuarantined?.(m);
      },
    });
    cleanups.push(() => sqsServer.close());
    const busServer = await startEventBusServer({
      busName: opts.busName ?? DEFAULT_BUS_NAME,
      rules: [...deployment.rules, ...(opts.extraRules ?? [])],
      targets: [indexer, new JsonlTarget(eventsFile)],
      // Rules made with PutRule/PutTargets (npm run smoke) deliver to queues of the SQS stand-in.
      deliverToArn: (arn, eventJson) => sqsServer.sqs.deliverToArn(arn, eventJson),
      onEvent: (event, matched, at) => {
        stats.noteEvent(event, matched, at);
        opts.onEvent?.(event, matched, at);
      },
    });
    cleanups.push(() => busServer.close());

    const quarantineQueueUrl = sqsServer.queueUrl(QUARANTINE_QUEUE);
    const notifierConfig = loadConfig(notifierEnvironment(deployment, { busArn: busServer.bus.busArn, queueUrl: quarantineQueueUrl }));
    // As the Lambda entry point (handler.ts) configures them.
    const eventBridge = new EventBridgeClient({ ...localClientConfig(busServer.endpoint), maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS });
    const sqsClient = new SQSClient({ ...localClientConfig(sqsServer.endpoint), maxAttempts: 1, requestHandler: REQUEST_TIMEOUTS });
    cleanups.push(() => {
      eventBridge.destroy();
      sqsClient.destroy();
    });
    const metrics = new CountingMetrics();
    const logger = new Logger({ serviceName: 'hypervisor-notifier', logLevel: opts.logLevel ?? 'ERROR' });
    const onFailureDirectory = join(files.directory, 'on-failure-bucket');
    // As on AWS (QUARANTINE_BUCKET), a quarantine message over 1 MiB is kept whole in the on-failure bucket.
    const claimCheck = new DirectoryOnFailureStore(onFailureDirectory).claimCheck(LOCAL_ON_FAILURE_BUCKET);
    const notifier = createNotifier({ config: notifierConfig, eventBridge, sqs: sqsClient, claimCheck, logger, metrics: metrics.asMetrics(), checkEventBus: true });
    const timeoutMs = opts.functionTimeoutMs ?? 60_000;
    const baseHandler: StreamHandler = (event) => {
      const started = Date.now();
      return notifier(event, { getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)) });
    };
    const handler = opts.wrapHandler ? opts.wrapHandler(baseHandler) : baseHandler;

    const esm = deployment.eventSourceMapping;
    const mapping = {
      batchSize: opts.batchSize ?? esm?.batchSize ?? 100,
      maxRetries: opts.maxRetries ?? esm?.maximumRetryAttempts ?? 3,
      bisectOnError: esm?.bisectBatchOnFunctionError ?? true,
      pollIntervalMs: opts.pollIntervalMs ?? 250,
    };
    const onFailureRecords: OnFailureRecord[] = [];
    const redrive = await startLocalRedrive({
      directory: onFailureDirectory,
      notifierConfig,
      busEndpoint: busServer.endpoint,
      sqsEndpoint: sqsServer.endpoint,
      timeoutMs,
      logLevel: opts.logLevel ?? 'ERROR',
      ...(opts.redrive === false ? { poll: false } : opts.redrive ?? {}),
      ...(opts.onError === undefined ? {} : { onError: opts.onError }),
    });
    cleanups.push(() => redrive.stop());
    const streams = new DynamoDBStreamsClient(dynamodb.clientConfig);
    const poller = new StreamPoller({
      streams,
      streamArn: table.streamArn,
      handler,
      batchSize: mapping.batchSize,
      maxRetries: mapping.maxRetries,
      bisectOnError: mapping.bisectOnError,
      pollIntervalMs: mapping.pollIntervalMs,
      invocationTimeoutMs: timeoutMs,
      // DynamoDB Local's creation times are whole minutes; a resync sweep needs finer ones.
      stampReadTime: true,
      onFailure: (failure) => {
        stats.onFailure += failure.records.length;
        onFailureRecords.push(failure);
        onFailureFile.write(failure);
        // Kept where the redrive finds them, as Lambda's S3 destination keeps them.
        redrive.keep(failure).catch((error: unknown) => opts.onError?.(error, 'on-failure bucket'));
        opts.onFailure?.(failure);
      },
      onRecords: (records) => {
        stats.noteRecords(records);
        opts.onRecords?.(records);
      },
      ...(opts.onInvoke === undefined ? {} : { onInvoke: opts.onInvoke }),
      ...(opts.onError === undefined ? {} : { onError: opts.onError }),
    });
    cleanups.push(async () => {
      await poller.stop();
      streams.destroy();
    });
    poller.start();

    let stopping: Promise<void> | undefined;
    return {
      dynamodb,
      ddb,
      tableName: table.tableName,
      streamArn: table.streamArn,
      busEndpoint: busServer.endpoint,
      busArn: busServer.bus.busArn,
      sqsEndpoint: sqsServer.endpoint,
      quarantineQueueUrl,
      eventBus: busServer.bus,
      sqs: sqsServer.sqs,
      indexer,
      poller,
      metrics,
      stats,
      files,
      deployment,
      templateSource,
      notifierConfig,
      mapping,
      onFailureRecords,
      redrive: opts.redrive === false ? undefined : redrive,
      stop: () => (stopping ??= runCleanups()),
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}
