/**
 * The redrive function: S3 event notifications for new on-failure objects arrive through the
 * redrive queue; each object is redriven (`redriver.ts`). An object that cannot be finished
 * now stays in the queue, hidden for a growing delay (ChangeMessageVisibility, then reported
 * as a batch item failure so Lambda leaves the message in the queue), and is tried again up
 * to `maxAttempts` times: a message about to outlive the queue's retention is sent again with
 * its attempt count. After the last attempt the object is parked: tagged `redrive=parked`
 * with the reason, counted (the alarm), its message finished; the CLI's `redrive` takes it
 * from there. Done, unreadable, parked and vanished objects leave the queue.
 *
 * @example
 * ```ts
 * const handle = createRedriveFunction({ redrive, sqs, config, logger });
 * const response = await handle(sqsEvent, context); // { batchItemFailures: [...] }
 * ```
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse } from 'aws-lambda';
import type { NotifierContext } from '../notifier/notifier.js';
import { nextStep } from './backoff.js';
import type { RedriveConfig } from './config.js';
import { parseRedriveMessage, resentBody, type RedriveTarget } from './redrive-message.js';
import type { RedriveOptions, RedriveOutcome } from './redriver.js';

export const REDRIVE_METRIC = {
  objectsRedriven: 'RedrivenObjects',
  recordsRedriven: 'RedrivenRecords',
  retries: 'RedriveRetries',
  unreadable: 'RedriveUnreadableObjects',
  gone: 'RedriveObjectsGone',
  parked: 'RedriveParkedObjects',
} as const;

/** The part of an SQS record the function reads (Lambda's SQS event; the local worker builds the same). */
export interface RedriveQueueRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: { readonly ApproximateReceiveCount?: string; readonly SentTimestamp?: string };
}

export interface RedriveFunctionDeps {
  readonly redrive: (key: string, opts: RedriveOptions) => Promise<RedriveOutcome>;
  /** Marks an object the redrive gives up on (`redrive=parked` with the reason). */
  readonly park: (key: string, reason: string) => Promise<void>;
  readonly sqs: SQSClient;
  readonly config: RedriveConfig;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  /** Observes each object's outcome (the local pipeline counts them). */
  readonly onOutcome?: (key: string, outcome: RedriveOutcome) => void;
}

/** Builds the SQS handler. */
export function createRedriveFunction(deps: RedriveFunctionDeps): (event: { Records: readonly RedriveQueueRecord[] }, context: NotifierContext) => Promise<SQSBatchResponse> {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  let counted = false;
  const count = (name: string, value: number) => {
    counted = true;
    deps.metrics?.addMetric(name, MetricUnit.Count, value);
  };

  /** True when the object is finished with (whatever the outcome), false when it must be tried again. */
  async function handleTarget(target: RedriveTarget, context: NotifierContext): Promise<{ finished: boolean; reason?: string }> {
    if (target.bucket !== config.bucket) {
      logger.error('notification for another bucket ignored', { bucket: target.bucket, key: target.key, expected: config.bucket });
      return { finished: true };
    }
    let outcome: RedriveOutcome;
    try {
      outcome = await deps.redrive(target.key, { context });
    } catch (error) {
      outcome = { kind: 'retry', records: 0, reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    deps.onOutcome?.(target.key, outcome);
    switch (outcome.kind) {
      case 'done':
        logger.info('object redriven', { key: target.key, records: outcome.records });
        count(REDRIVE_METRIC.objectsRedriven, 1);
        count(REDRIVE_METRIC.recordsRedriven, outcome.records);
        return { finished: true };
      case 'already_done':
        logger.info('object already redriven', { key: target.key });
        return { finished: true };
      case 'unreadable':
        logger.critical('on-failure object unreadable: tagged redrive=unreadable, left in the bucket', { key: target.key, reason: outcome.reason });
        count(REDRIVE_METRIC.unreadable, 1);
        return { finished: true };
      case 'gone':
        logger.critical('on-failure object no longer exists (the bucket retention ran out?): its changes were not notified', { key: target.key });
        count(REDRIVE_METRIC.gone, 1);
        return { finished: true };
      case 'retry':
        count(REDRIVE_METRIC.retries, 1);
        return { finished: false, reason: outcome.reason };
    }
  }

  return async (event, context) => {
    const failures: { itemIdentifier: string }[] = [];
    for (const message of event.Records) {
      const parsed = parseRedriveMessage(message.body);
      if (parsed.kind === 'test') continue;
      if (parsed.kind === 'unknown') {
        logger.error('redrive queue message ignored', { messageId: message.messageId, reason: parsed.reason });
        continue;
      }
      for (const target of parsed.targets) {
        const result = await handleTarget(target, context);
        if (result.finished) continue;
        const receives = Number(message.attributes.ApproximateReceiveCount ?? '1');
        const attempts = target.priorAttempts + (Number.isFinite(receives) && receives > 0 ? receives : 1);
        const sentAt = Number(message.attributes.SentTimestamp ?? now());
        if (attempts >= config.maxAttempts) {
          const reason = `not redriven after ${attempts} attempts: ${result.reason ?? 'unknown'}`;
          try {
            await deps.park(target.key, reason);
            logger.critical('on-failure object parked: tagged redrive=parked, left in the bucket; redrive it with the CLI once the cause is fixed', { key: target.key, attempts, reason });
            count(REDRIVE_METRIC.parked, 1);
            continue;
          } catch (error) {
            // Not marked: the message stays, and the next attempt parks it.
            logger.error('could not park the object; it stays in the queue', { key: target.key, error: error as Error });
          }
        }
        const step = nextStep(attempts, Math.max(0, (now() - sentAt) / 1000), config.backoff);
        logger.warn('object not redriven yet; trying again later', { key: target.key, attempts, reason: result.reason, next: step });
        try {
          if (step.kind === 'resend') {
            await deps.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: resentBody(target, attempts), DelaySeconds: step.delaySeconds }));
            // The new message carries the object on; this one may go.
            continue;
          }
          await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: config.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: step.seconds }));
        } catch (error) {
          // The message comes back after the queue's own visibility timeout instead.
          logger.error('could not delay the message', { key: target.key, error: error as Error });
        }
        failures.push({ itemIdentifier: message.messageId });
        break;
      }
    }
    if (counted) deps.metrics?.publishStoredMetrics();
    counted = false;
    return { batchItemFailures: failures };
  };
}
