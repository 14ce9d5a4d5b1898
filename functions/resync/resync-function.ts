/**
 * The resync as a Lambda function operators invoke on demand:
 *
 *   aws lambda invoke --function-name <ResyncFunctionName> --cli-binary-format raw-in-base64-out --payload '{}' out.json
 *   # while out.json says "complete": false (the token kept apart: a failed invocation overwrites out.json):
 *   jq -c '{continuation}' out.json > token.json
 *   aws lambda invoke --function-name <ResyncFunctionName> --cli-binary-format raw-in-base64-out \
 *     --payload file://token.json out.json
 *
 * One invocation works on the run (start event, anchor, the unfinished segments in parallel)
 * until shortly before its timeout, then answers with the progress and a continuation token
 * holding the run's whole state (run id, each segment's LastEvaluatedKey and counts); the next
 * invocation resumes from it. The run's lease stays taken between invocations (until it
 * expires), so a second run cannot start meanwhile; an interrupted or failed invocation is
 * simply invoked again with the last token. The state is also saved in the state table at
 * every checkpoint (run-state-store.ts), and that copy wins over the token: a failed
 * invocation's writes stay counted.
 *
 * Why no self-re-invocation: it would need the Lambda client (not a dependency) and
 * lambda:InvokeFunction on itself, and a chain of asynchronous invocations is hard to watch
 * and to stop; the operator's loop (or a scheduler) is explicit and resumable.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ResyncConfig } from './config.js';
import { createLease } from './lease.js';
import { createRunStateStore } from './run-state-store.js';
import { ResyncError, decodeContinuation, encodeContinuation, newResyncState, runResync, type ResyncTotals } from './resync.js';
import { createTokenBucket } from './token-bucket.js';

export interface ResyncFunctionDeps {
  readonly config: ResyncConfig;
  readonly dynamodb: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ResyncRequest {
  /** Resume from a previous answer. */
  readonly continuation?: string;
  /** For a new run: the number of scan segments. @default RESYNC_TOTAL_SEGMENTS */
  readonly totalSegments?: number;
}

export interface ResyncResponse {
  readonly complete: boolean;
  /** Present while not complete: pass it as `continuation` to the next invocation. */
  readonly continuation?: string;
  readonly totals: ResyncTotals;
  readonly message: string;
}

/** Time kept back at the end of an invocation: the writes in flight must finish and answer. */
export function invocationDeadline(now: number, remainingMs: number): number {
  return now + remainingMs - Math.max(10_000, remainingMs * 0.25);
}

export function createResyncHandler(deps: ResyncFunctionDeps) {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;

  return async (event: ResyncRequest | null | undefined, context: { getRemainingTimeInMillis(): number }): Promise<ResyncResponse> => {
    const request = event ?? {};
    const store = createRunStateStore({ dynamodb: deps.dynamodb, stateTableName: config.stateTableName, tableName: config.tableName });
    let state;
    if (typeof request.continuation === 'string' && request.continuation !== '') {
      state = decodeContinuation(request.continuation);
      if (state.tableName !== config.tableName) {
        throw new ResyncError(`the continuation token is for table ${state.tableName}, this function resyncs ${config.tableName}`);
      }
      // What the run saved last wins over the token: an invocation may have failed after it.
      state = (await store.load(state.runId)) ?? state;
    } else {
      state = newResyncState(config.tableName, request.totalSegments ?? config.totalSegments, new Date(now()));
    }
    const bucket = createTokenBucket({ ratePerSecond: config.writesPerSecond, now, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
    const lease = createLease({ dynamodb: deps.dynamodb, stateTableName: config.stateTableName, tableName: config.tableName, runId: state.runId, durationMs: config.leaseSeconds * 1000, now });
    const result = await runResync(state, {
      dynamodb: deps.dynamodb,
      eventBridge: deps.eventBridge,
      eventBusName: config.eventBusName,
      eventSource: config.eventSource,
      bucket,
      lease,
      releaseLease: 'when-complete',
      pageSize: config.pageSize,
      segmentConcurrency: config.segmentConcurrency,
      deadline: invocationDeadline(now(), context.getRemainingTimeInMillis()),
      onPage: (s) => store.save(s),
      now,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      onInvalid: (item) => logger.warn('item not marked: the notifier would reject it', { ...item }),
    });
    const t = result.totals;
    const message =
      `${result.complete ? 'resync run complete' : 'resync run continues'} (run ${t.runId}): ${t.segmentsDone}/${t.totalSegments} segments done, ` +
      `${t.scanned} items scanned, ${t.refreshed} refreshed (${t.uncertain} uncertain), ${t.skipped} soft-deleted skipped, ${t.gone} gone meanwhile, ${t.invalid} invalid`;
    logger.info(message, { totals: t, segments: result.state.segments.map(({ lastEvaluatedKey: _k, ...s }) => s) });
    return result.complete ? { complete: true, totals: t, message } : { complete: false, continuation: encodeContinuation(result.state), totals: t, message };
  };
}
