/**
 * The reference indexer as a function of its dependencies: an SQS batch of notifications (from
 * an indexer route's queue) in, a partial batch response out. Each message is applied with
 * one conditional write (see store.ts), concurrently; a message that fails (unreadable, or the
 * write failed) is reported by id, so SQS delivers it again and, after the queue's
 * `maxReceiveCount`, moves it to the route's dead-letter queue. Nothing is dropped silently.
 * A resync notification is also counted for its run, and a run's start/end control event is
 * recorded; either may complete the run and sweep (run-store.ts).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { forEachConcurrently } from '../notifier/retry-policy.js';
import type { ApplyOutcome } from './apply.js';
import { readMessage, UnreadableNotificationError } from './notification.js';
import { noteResyncNotification, noteRunEvent, SweepPausedError, type SweepOptions } from './run-store.js';
import { writeNotification } from './store.js';

export const INDEXER_ENV = { tableName: 'INDEXER_TABLE_NAME', concurrency: 'INDEXER_WRITE_CONCURRENCY' } as const;

export interface IndexerDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Writes in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Items a resync sweep's Scan page evaluates. @default DynamoDB's 1 MB pages */
  readonly sweepPageSize?: number;
}

/** What the indexer needs of Lambda's context: the time left, so a long sweep stops in time. */
export interface IndexerContext {
  getRemainingTimeInMillis(): number;
}

/** Time kept back from the deadline when a sweep decides whether to read another page (one page and its writes take well under this). */
export const SWEEP_DEADLINE_MARGIN_MS = 10_000;

export interface IndexerStats {
  applied: number;
  duplicate: number;
  stale: number;
  failed: number;
  /** Resync runs' start/end events recorded. */
  runEvents: number;
  /** Nodes turned into tombstones by resync sweeps. */
  swept: number;
  /** Sweeps stopped before the deadline, to be resumed when their message comes again. */
  sweepsPaused: number;
}

export function createIndexer(deps: IndexerDeps) {
  const concurrency = deps.concurrency ?? 16;
  return async (event: Pick<SQSEvent, 'Records'>, context?: IndexerContext): Promise<SQSBatchResponse & { stats: IndexerStats }> => {
    const stats: IndexerStats = { applied: 0, duplicate: 0, stale: 0, failed: 0, runEvents: 0, swept: 0, sweepsPaused: 0 };
    const sweep: SweepOptions = {
      concurrency,
      ...(deps.sweepPageSize === undefined ? {} : { pageSize: deps.sweepPageSize }),
      ...(context === undefined ? {} : { deadline: Date.now() + context.getRemainingTimeInMillis() - SWEEP_DEADLINE_MARGIN_MS }),
    };
    const failures: string[] = [];
    await forEachConcurrently(event.Records ?? [], concurrency, async (record) => {
      let outcome: ApplyOutcome | 'runEvents';
      try {
        const message = readMessage(record.body);
        let swept: number | undefined;
        if (message.kind === 'resync_run') {
          outcome = 'runEvents';
          swept = (await noteRunEvent(deps.dynamodb, deps.tableName, message, sweep)).swept;
        } else {
          outcome = await writeNotification(deps.dynamodb, deps.tableName, message);
          swept = (await noteResyncNotification(deps.dynamodb, deps.tableName, message, sweep)).swept;
        }
        if (swept !== undefined) {
          stats.swept += swept;
          deps.logger.info('resync run complete: nodes it did not refresh turned into tombstones', { swept, messageId: record.messageId });
        }
      } catch (error) {
        failures.push(record.messageId);
        if (error instanceof SweepPausedError) {
          // Not a failure: the message comes again (after its visibility timeout) and the sweep goes on from its saved position.
          stats.sweepsPaused++;
          stats.swept += error.swept;
          deps.logger.info('resync sweep paused before the deadline; it resumes when the message comes again', { runId: error.runId, swept: error.swept, messageId: record.messageId });
          return;
        }
        stats.failed++;
        if (error instanceof UnreadableNotificationError) {
          deps.logger.error('message is not a notification this indexer can apply; it will reach the dead-letter queue', {
            messageId: record.messageId,
            reason: error.message,
          });
        } else {
          deps.logger.error('could not apply a notification; SQS will deliver it again', { messageId: record.messageId, error: error as Error });
        }
        return;
      }
      stats[outcome]++;
    });
    deps.logger.info('batch applied', { ...stats });
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })), stats };
  };
}
