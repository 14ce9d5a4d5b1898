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
import { noteHeartbeat } from './heartbeat-store.js';
import { noteResyncNotification, noteRunEvent, resumeSweep, SweepPausedError, type SweepOptions } from './run-store.js';
import { writeNotification } from './store.js';

export const INDEXER_ENV = {
  tableName: 'INDEXER_TABLE_NAME',
  concurrency: 'INDEXER_WRITE_CONCURRENCY',
  queueUrl: 'INDEXER_QUEUE_URL',
  maxSweepContinuations: 'INDEXER_MAX_SWEEP_CONTINUATIONS',
} as const;

/**
 * Continuations one sweep may chain before the indexer stops it (the function is allowed to
 * loop through its queue, so this bound replaces Lambda's recursive loop detection, which
 * would stop the chain after about 16: docs/resync-and-indexer.md). 1,000 pieces of about 20 s
 * each sweep millions of nodes.
 */
export const DEFAULT_MAX_SWEEP_CONTINUATIONS = 1000;

/** Logged (level error) when a sweep's chain reaches the bound; the stack's alarm counts these lines. */
export const SWEEP_CHAIN_STOPPED_MESSAGE = 'resync sweep stopped: its chain of continuations reached the bound';

export interface IndexerDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Writes in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Items a resync sweep's Scan page evaluates. @default DynamoDB's 1 MB pages */
  readonly sweepPageSize?: number;
  /**
   * Puts a continuation of run `runId`'s paused sweep on the indexer's own queue
   * (`sweepContinuationBody`). A new message starts with no receives, so a sweep in many pieces
   * never nears the queue's `maxReceiveCount`, and it goes on at once rather than after the
   * paused message's visibility timeout. @default none: the paused message is failed and comes again
   */
  readonly continueSweep?: (runId: string, hop: number) => Promise<void>;
  /** Continuations a sweep may chain (each carries its hop); past it the sweep stops, logged. @default DEFAULT_MAX_SWEEP_CONTINUATIONS */
  readonly maxSweepContinuations?: number;
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
  /** Resync runs' start/end events recorded, and sweep continuations handled. */
  runEvents: number;
  /** Nodes turned into tombstones by resync sweeps. */
  swept: number;
  /** Sweeps stopped before the deadline, to go on in a continuation message (or their message delivered again). */
  sweepsPaused: number;
}

export function createIndexer(deps: IndexerDeps) {
  const concurrency = deps.concurrency ?? 16;
  const maxContinuations = deps.maxSweepContinuations ?? DEFAULT_MAX_SWEEP_CONTINUATIONS;

  /** After a pause: true when a continuation message carries the rest of the sweep (else this message must come again). */
  async function continued(pause: SweepPausedError, hop: number): Promise<boolean> {
    if (deps.continueSweep === undefined) return false;
    try {
      await deps.continueSweep(pause.runId, hop);
      return true;
    } catch (error) {
      deps.logger.warn('could not queue the continuation of a paused sweep; this message will come again instead', { runId: pause.runId, error: error as Error });
      return false;
    }
  }

  return async (event: Pick<SQSEvent, 'Records'>, context?: IndexerContext): Promise<SQSBatchResponse & { stats: IndexerStats }> => {
    const stats: IndexerStats = { applied: 0, duplicate: 0, stale: 0, failed: 0, runEvents: 0, swept: 0, sweepsPaused: 0 };
    const sweep: SweepOptions = {
      concurrency,
      ...(deps.sweepPageSize === undefined ? {} : { pageSize: deps.sweepPageSize }),
      ...(context === undefined ? {} : { deadline: Date.now() + context.getRemainingTimeInMillis() - SWEEP_DEADLINE_MARGIN_MS }),
    };
    const failures: string[] = [];
    await forEachConcurrently(event.Records ?? [], concurrency, async (record) => {
      let outcome: ApplyOutcome | 'runEvents' | undefined;
      // The hop of the continuation this message would send: one past its own (a sweep begun by any other message starts a chain).
      let hop = 1;
      try {
        const message = readMessage(record.body);
        let swept: number | undefined;
        if (message.kind === 'resync_run') {
          outcome = 'runEvents';
          swept = (await noteRunEvent(deps.dynamodb, deps.tableName, message, sweep)).swept;
        } else if (message.kind === 'heartbeat') {
          // Counted with the control messages: it changes no node, only the last heartbeat applied.
          outcome = 'runEvents';
          await noteHeartbeat(deps.dynamodb, deps.tableName, message);
        } else if (message.kind === 'sweep') {
          outcome = 'runEvents';
          hop = message.hop + 1;
          swept = (await resumeSweep(deps.dynamodb, deps.tableName, message.runId, sweep)).swept;
        } else {
          outcome = await writeNotification(deps.dynamodb, deps.tableName, message);
          swept = (await noteResyncNotification(deps.dynamodb, deps.tableName, message, sweep)).swept;
        }
        if (swept !== undefined) {
          stats.swept += swept;
          deps.logger.info('resync run swept: nodes it did not refresh turned into tombstones (this part of the sweep)', { swept, messageId: record.messageId });
        }
      } catch (error) {
        if (error instanceof SweepPausedError) {
          // Not a failure: the sweep goes on from its saved position, in a continuation message or,
          // if that cannot be sent, in this message delivered again.
          stats.sweepsPaused++;
          stats.swept += error.swept;
          if (deps.continueSweep !== undefined && hop > maxContinuations) {
            // Done with this message: the sweep keeps its saved position, and an operator (alarmed) resumes it.
            if (outcome !== undefined) stats[outcome]++;
            deps.logger.error(SWEEP_CHAIN_STOPPED_MESSAGE, { runId: error.runId, continuations: hop - 1, bound: maxContinuations, messageId: record.messageId });
            return;
          }
          const byContinuation = await continued(error, hop);
          deps.logger.info('resync sweep paused before the deadline', { runId: error.runId, swept: error.swept, messageId: record.messageId, resumedBy: byContinuation ? 'continuation message' : 'redelivery' });
          // Done with this message when the continuation carries the rest; else it comes again and is counted then.
          if (!byContinuation) failures.push(record.messageId);
          else if (outcome !== undefined) stats[outcome]++;
          return;
        }
        failures.push(record.messageId);
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
