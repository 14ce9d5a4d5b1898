/**
 * The resync as a Lambda function operators invoke on demand:
 *
 *   aws lambda invoke --function-name <ResyncFunctionName> --payload '{}' out.json
 *   # while out.json says "complete": false:
 *   aws lambda invoke --function-name <ResyncFunctionName> --cli-binary-format raw-in-base64-out \
 *     --payload "{\"continuation\": \"$(jq -r .continuation out.json)\"}" out.json
 *
 * One invocation scans the unfinished segments in parallel until shortly before its timeout,
 * then answers with the progress and a continuation token holding each segment's
 * LastEvaluatedKey; the next invocation resumes from it. Nothing is kept between
 * invocations but the token, so an interrupted or failed invocation is simply invoked again
 * with the last token (at most one page per segment is published twice; consumers drop
 * duplicates by the order key).
 *
 * Why no self-re-invocation: it would need the Lambda client (not a dependency) and
 * lambda:InvokeFunction on itself, and a chain of asynchronous invocations is hard to watch
 * and to stop; the operator's loop (or a scheduler) is explicit and resumable.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createNotificationBuilder } from '../notifier/notification-builder.js';
import type { ResyncConfig } from './config.js';
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
  /** For a new resync: the number of scan segments. @default RESYNC_TOTAL_SEGMENTS */
  readonly totalSegments?: number;
}

export interface ResyncResponse {
  readonly complete: boolean;
  /** Present while not complete: pass it as `continuation` to the next invocation. */
  readonly continuation?: string;
  readonly totals: ResyncTotals;
  readonly message: string;
}

/** Time kept back at the end of an invocation: the pages in flight must finish and answer. */
export function invocationDeadline(now: number, remainingMs: number): number {
  return now + remainingMs - Math.max(10_000, remainingMs * 0.25);
}

export function createResyncHandler(deps: ResyncFunctionDeps) {
  const { config, logger } = deps;
  const builder = createNotificationBuilder({ ...config, watchedFields: [] });
  const now = deps.now ?? Date.now;

  return async (event: ResyncRequest | null | undefined, context: { getRemainingTimeInMillis(): number }): Promise<ResyncResponse> => {
    const request = event ?? {};
    let state;
    if (typeof request.continuation === 'string' && request.continuation !== '') {
      state = decodeContinuation(request.continuation);
      if (state.tableName !== config.tableName) {
        throw new ResyncError(`the continuation token is for table ${state.tableName}, this function scans ${config.tableName}`);
      }
    } else {
      state = newResyncState(config.tableName, request.totalSegments ?? config.totalSegments, new Date(now()));
    }
    const bucket = createTokenBucket({ ratePerSecond: config.putEventsPerSecond, now, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
    const result = await runResync(state, {
      dynamodb: deps.dynamodb,
      eventBridge: deps.eventBridge,
      buildResync: builder.resync,
      bucket,
      pageSize: config.pageSize,
      segmentConcurrency: config.segmentConcurrency,
      deadline: invocationDeadline(now(), context.getRemainingTimeInMillis()),
      now,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      onInvalid: (item) => logger.warn('item not published', { ...item }),
    });
    const t = result.totals;
    const message = `${result.complete ? 'resync complete' : 'resync continues'}: ${t.segmentsDone}/${t.totalSegments} segments done, ${t.scanned} items scanned, ${t.published} published, ${t.skipped} soft-deleted skipped, ${t.invalid} invalid`;
    logger.info(message, { totals: t, segments: result.state.segments.map(({ lastEvaluatedKey: _k, ...s }) => s) });
    return result.complete ? { complete: true, totals: t, message } : { complete: false, continuation: encodeContinuation(result.state), totals: t, message };
  };
}
