/**
 * The notifier as a function of its dependencies: configuration, clients, logger and
 * metrics in; a Lambda handler out. `handler.ts` wires it to the environment; tests, the
 * CLI and the local pipeline wire it to theirs.
 *
 * @example
 * ```ts
 * const handle = createNotifier({ config, eventBridge, sqs, logger, metrics });
 * const response = await handle(event, context); // { batchItemFailures: [...] }
 * ```
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBBatchResponse } from 'aws-lambda';
import type { ClaimCheckStore } from './claim-check.js';
import type { NotifierConfig } from './config.js';
import { ConfigurationError } from './errors.js';
import { METRIC } from './metric-names.js';
import { checkEventBus } from './bus-check.js';
import { createNotificationBuilder } from './notification-builder.js';
import { processBatch, type BatchDeps, type BatchOutcome } from './batch-processor.js';
import { StreamEvent } from './stream-record.js';

export interface NotifierDeps {
  readonly config: NotifierConfig;
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
  /** Where a quarantine message over SQS's 1 MiB is kept whole, a pointer to it queued (claim-check.ts). Without it such a record is reported to Lambda. */
  readonly claimCheck?: ClaimCheckStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** The clock the invocation's deadline is set and read on (tests move it by hand). @default Date.now */
  readonly now?: () => number;
  /**
   * Check with DescribeEventBus that the configured bus exists (PutEvents to a missing bus
   * answers success): before the instance's first record, and again before the heartbeat of
   * each batch holding one, as the heartbeat keeps the instance warm. The Lambda entry point sets it.
   * @default false
   */
  readonly checkEventBus?: boolean;
}

/** What the handler needs of Lambda's context (the function's ARN, when given, scopes the bus check). */
export type NotifierContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'invokedFunctionArn'>>;

/** Problem records named in one log line. */
export const PROBLEMS_PER_LINE = 100;

/**
 * Kept back of an invocation to quarantine and answer after the last attempt: this, or 20 % if
 * more. A timeout this short would leave no time to publish: config.ts's MIN_FUNCTION_TIMEOUT_SECONDS.
 */
const RESERVE_MS = 1_000;

function deadlineFrom(context: NotifierContext, now: () => number): number {
  const remaining = context.getRemainingTimeInMillis();
  return now() + remaining - Math.max(RESERVE_MS, remaining * 0.2);
}

/** Builds the stream handler; all set-up (config checks, compiled encoders) happens here, once. */
export function createNotifier(deps: NotifierDeps): (event: unknown, context: NotifierContext) => Promise<DynamoDBBatchResponse> {
  const { config, logger, metrics } = deps;
  const queueUrl = config.quarantineQueueUrl;
  if (queueUrl === undefined) throw new ConfigurationError('QUARANTINE_QUEUE_URL: must be set (rejected records go there)');
  // Records without a writer region mark, counted by the builder, reported and reset per batch.
  const writerRegionTally = { unmarked: 0 };
  const build = createNotificationBuilder(config, deps.now, writerRegionTally);
  // Made once: Powertools builds a new Metrics, with its own Console, for every singleMetric()
  // (~50 µs each, several a batch). A single metric publishes on addMetric and then clears its
  // dimensions, so this one instance serves every event type of every batch.
  const sentByType = metrics.singleMetric();
  // `unchecked`: check before the next batch (start-up, a check that failed or may pass next
  // time); `exists`: check again before a batch's heartbeat; `unverifiable`: never check (not
  // asked for, or a check that can never decide: access denied, a bus of another account).
  let bus: 'unchecked' | 'exists' | 'unverifiable' = deps.checkEventBus === true ? 'unchecked' : 'unverifiable';
  const now = deps.now ?? Date.now;
  // Everything processBatch needs but the deadline is the same for every batch.
  const batchDeps: Omit<BatchDeps, 'deadline'> = {
    build,
    eventBridge: deps.eventBridge,
    sqs: deps.sqs,
    quarantineQueueUrl: queueUrl,
    claimCheck: deps.claimCheck,
    concurrency: config.putEventsConcurrency,
    ...(config.globalEndpointId === undefined ? {} : { endpointId: config.globalEndpointId }),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    onSetupError: (error) => logger.error('PutEvents refused for a reason the records are not to blame for (the setup: access, the bus); the records are handed back to Lambda', { error: error as Error }),
  };

  /**
   * Before the instance's first record and each batch's heartbeat. A missing bus throws
   * ConfigurationError, so no record is put into the void, and until the bus is found again
   * every invocation checks first and fails, as after a start-up that found none.
   */
  async function verifyEventBus(context: NotifierContext): Promise<void> {
    bus = 'unchecked';
    const result = await checkEventBus(deps.eventBridge, config.eventBusName, context.invokedFunctionArn);
    if (result.kind === 'exists') bus = 'exists';
    else if (!result.retry) bus = 'unverifiable';
    if (result.kind === 'unverified') logger.warn('could not check that the event bus exists; publishing anyway', { bus: config.eventBusName, reason: result.reason });
  }

  return async (event, context) => {
    const parsed = StreamEvent.safeParse(event);
    if (!parsed.success) throw new ConfigurationError('the event is not a DynamoDB stream event (no Records array): check the event source mapping');
    let outcome: BatchOutcome;
    writerRegionTally.unmarked = 0;
    try {
      const known = bus;
      if (known === 'unchecked') await verifyEventBus(context);
      // A bus deleted under a warm instance is seen only here: the heartbeat is not counted as
      // published to it (at most one DescribeEventBus a batch, and only a heartbeat's, about one a minute).
      const beforeHeartbeat = known === 'exists' ? () => verifyEventBus(context) : undefined;
      outcome = await processBatch(parsed.data.Records, { ...batchDeps, deadline: deadlineFrom(context, now), ...(beforeHeartbeat === undefined ? {} : { beforeHeartbeat }) });
    } catch (error) {
      if (error instanceof ConfigurationError) logger.critical('configuration error: no record can be handled', { error });
      throw error;
    }
    record(outcome);
    return outcome.response;
  };

  function record({ stats, problems }: BatchOutcome): void {
    // A line per up to PROBLEMS_PER_LINE records rather than one each: a line costs its
    // formatting and its CloudWatch ingestion; chunks keep a line far under the 256 KB event limit.
    const inLines = (level: 'warn' | 'error', message: string, list: BatchOutcome['problems']) => {
      for (let i = 0; i < list.length; i += PROBLEMS_PER_LINE) {
        const records = list.slice(i, i + PROBLEMS_PER_LINE);
        logger[level](message, { count: records.length, records });
      }
    };
    inLines('warn', 'records quarantined', problems.filter((p) => p.quarantined));
    inLines('error', 'records neither published nor quarantined; Lambda will retry from the earliest such record', problems.filter((p) => !p.quarantined));
    for (const [eventType, count] of Object.entries(stats.sent)) {
      if (count === 0) continue;
      sentByType.addDimension('EventType', eventType);
      sentByType.addMetric(METRIC.notificationsSent, MetricUnit.Count, count);
    }
    metrics.addMetric(METRIC.updatesSuppressed, MetricUnit.Count, stats.suppressed);
    if (config.writerRegion !== undefined) {
      metrics.addMetric(METRIC.writesOfOtherRegions, MetricUnit.Count, stats.otherRegion);
      metrics.addMetric(METRIC.unmarkedWrites, MetricUnit.Count, writerRegionTally.unmarked);
    }
    metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, stats.quarantined);
    metrics.addMetric(METRIC.putEventsRetries, MetricUnit.Count, stats.putEventsRetries);
    metrics.addMetric(METRIC.putEventsFailures, MetricUnit.Count, stats.putEventsFailures);
    metrics.addMetric(METRIC.batchItemFailures, MetricUnit.Count, stats.batchItemFailures);
    // Only when there were some: the stalled alarm treats a minute without the metric as breaching.
    if (stats.heartbeats > 0) metrics.addMetric(METRIC.heartbeatsPublished, MetricUnit.Count, stats.heartbeats);
    for (const lag of stats.heartbeatLagsMs) metrics.addMetric(METRIC.heartbeatLag, MetricUnit.Milliseconds, lag);
    metrics.publishStoredMetrics();
  }
}
