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
import { noteResyncNotification, noteRunEvent } from './run-store.js';
import { writeNotification } from './store.js';

export const INDEXER_ENV = { tableName: 'INDEXER_TABLE_NAME', concurrency: 'INDEXER_WRITE_CONCURRENCY' } as const;

export interface IndexerDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Writes in flight at once. @default 16 */
  readonly concurrency?: number;
}

export interface IndexerStats {
  applied: number;
  duplicate: number;
  stale: number;
  failed: number;
  /** Resync runs' start/end events recorded. */
  runEvents: number;
  /** Nodes turned into tombstones by resync sweeps. */
  swept: number;
}

export function createIndexer(deps: IndexerDeps) {
  const concurrency = deps.concurrency ?? 16;
  return async (event: Pick<SQSEvent, 'Records'>): Promise<SQSBatchResponse & { stats: IndexerStats }> => {
    const stats: IndexerStats = { applied: 0, duplicate: 0, stale: 0, failed: 0, runEvents: 0, swept: 0 };
    const failures: string[] = [];
    await forEachConcurrently(event.Records ?? [], concurrency, async (record) => {
      let outcome: ApplyOutcome | 'runEvents';
      try {
        const message = readMessage(record.body);
        let swept: number | undefined;
        if (message.kind === 'resync_run') {
          outcome = 'runEvents';
          swept = (await noteRunEvent(deps.dynamodb, deps.tableName, message)).swept;
        } else {
          outcome = await writeNotification(deps.dynamodb, deps.tableName, message);
          swept = (await noteResyncNotification(deps.dynamodb, deps.tableName, message)).swept;
        }
        if (swept !== undefined) {
          stats.swept += swept;
          deps.logger.info('resync run complete: nodes it did not refresh turned into tombstones', { swept, messageId: record.messageId });
        }
      } catch (error) {
        stats.failed++;
        failures.push(record.messageId);
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
