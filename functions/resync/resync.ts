/**
 * Resync: the current state of every live compute node, published as `compute_node.update`
 * notifications with `change.origin: 'resync'`, for an indexer that is new or lost its state.
 *
 * The table is scanned in parallel segments (Scan `Segment`/`TotalSegments`, strongly
 * consistent, paginated). Each page is turned into entries by the notifier's own builder
 * (same payload encoder, same Detail), published with the notifier's publisher (batches of
 * 10 and < 256 KB, retries), and only then checkpointed: the state records each segment's
 * `LastEvaluatedKey`, so a run resumes where it stopped and republishes at most one page
 * per segment. Every PutEvents request (retries included) first takes a token from a token
 * bucket, so a resync cannot eat the account's PutEvents quota.
 *
 * Order key: a resync notification carries `sequence_number: "0"` (below every stream
 * notification of the node) and `timestamp` = the time the page was read (taken just before
 * the Scan request, so the state read is at least that new). See docs/resync-and-indexer.md.
 *
 * @example
 * ```ts
 * const state = newResyncState('compute-nodes', 8);
 * const result = await runResync(state, { dynamodb, eventBridge, builder, bucket, onPage: save });
 * ```
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { BuildOutcome } from '../notifier/notification-builder.js';
import { publishEntries, type OutgoingEntry } from '../notifier/event-publisher.js';
import { forEachConcurrently } from '../notifier/retry-policy.js';
import { isSoftDeleted } from '../notifier/soft-delete.js';
import type { FieldIssue } from '../notifier/errors.js';
import type { Image } from '../notifier/stream-record.js';
import type { TokenBucket } from './token-bucket.js';

export type Key = Record<string, AttributeValue>;

export interface SegmentState {
  readonly segment: number;
  done: boolean;
  /** Where the next page starts; absent before the first page. */
  lastEvaluatedKey?: Key;
  scanned: number;
  published: number;
  /** Soft-deleted items (not published). */
  skipped: number;
  /** Items that are not a valid compute node, or that EventBridge refused for good. */
  invalid: number;
  pages: number;
}

export interface ResyncState {
  readonly version: 1;
  readonly tableName: string;
  readonly totalSegments: number;
  /** ISO time the resync started (informational). */
  readonly startedAt: string;
  readonly segments: SegmentState[];
}

/** Resync configuration or state that cannot work. */
export class ResyncError extends Error {
  override readonly name: string = 'ResyncError';
}

/** PutEvents could not publish a page (after retries): the run stops, the page stays unchecked. */
export class ResyncPublishError extends ResyncError {
  override readonly name = 'ResyncPublishError';
}

export const MAX_TOTAL_SEGMENTS = 1_000_000; // DynamoDB's limit

export function newResyncState(tableName: string, totalSegments: number, startedAt = new Date()): ResyncState {
  if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > MAX_TOTAL_SEGMENTS) {
    throw new ResyncError(`total segments must be a whole number from 1 to ${MAX_TOTAL_SEGMENTS}, got ${totalSegments}`);
  }
  return {
    version: 1,
    tableName,
    totalSegments,
    startedAt: startedAt.toISOString(),
    segments: Array.from({ length: totalSegments }, (_, segment) => ({ segment, done: false, scanned: 0, published: 0, skipped: 0, invalid: 0, pages: 0 })),
  };
}

/** Checks a state read back from a checkpoint file or a continuation token. */
export function checkResyncState(value: unknown): ResyncState {
  const s = value as Partial<ResyncState> | null;
  const fail = (why: string): never => {
    throw new ResyncError(`not a resync checkpoint: ${why}`);
  };
  if (typeof s !== 'object' || s === null) fail('not an object');
  if (s!.version !== 1) fail(`unknown version ${JSON.stringify(s!.version)}`);
  if (typeof s!.tableName !== 'string' || s!.tableName === '') fail('tableName missing');
  if (!Number.isInteger(s!.totalSegments) || s!.totalSegments! < 1) fail('totalSegments missing');
  if (!Array.isArray(s!.segments) || s!.segments.length !== s!.totalSegments) fail('segments do not match totalSegments');
  s!.segments!.forEach((seg, i) => {
    if (seg?.segment !== i || typeof seg.done !== 'boolean') fail(`segment ${i} is malformed`);
    if (seg.lastEvaluatedKey !== undefined && (typeof seg.lastEvaluatedKey !== 'object' || seg.lastEvaluatedKey === null)) fail(`segment ${i}: bad lastEvaluatedKey`);
  });
  return s as ResyncState;
}

export interface ResyncTotals {
  readonly scanned: number;
  readonly published: number;
  readonly skipped: number;
  readonly invalid: number;
  readonly segmentsDone: number;
  readonly totalSegments: number;
}

export function totals(state: ResyncState): ResyncTotals {
  let scanned = 0;
  let published = 0;
  let skipped = 0;
  let invalid = 0;
  let segmentsDone = 0;
  for (const s of state.segments) {
    scanned += s.scanned;
    published += s.published;
    skipped += s.skipped;
    invalid += s.invalid;
    if (s.done) segmentsDone++;
  }
  return { scanned, published, skipped, invalid, segmentsDone, totalSegments: state.totalSegments };
}

export interface InvalidItem {
  readonly segment: number;
  readonly key: Key | undefined;
  /** Field issues, or EventBridge's refusal. */
  readonly issues?: readonly FieldIssue[];
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface ResyncDeps {
  readonly dynamodb: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
  /** The notifier builder's `resync` (createNotificationBuilder(config).resync). */
  readonly buildResync: (image: Image, readTimeSeconds: number, scanIdentity: string) => BuildOutcome;
  /** Every PutEvents request takes a token first. */
  readonly bucket: TokenBucket;
  /** Segments scanned at once. @default min(totalSegments, 4) */
  readonly segmentConcurrency?: number;
  /** Items per Scan page (Limit). @default 200 */
  readonly pageSize?: number;
  /** PutEvents requests in flight per segment. @default 2 */
  readonly putEventsConcurrency?: number;
  /** Epoch ms after which no new page is started (a Lambda invocation's budget). @default none */
  readonly deadline?: number;
  /** Stop after the current pages (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** After each page is published and checkpointed in `state` (write the checkpoint here). */
  readonly onPage?: (segment: SegmentState, state: ResyncState) => void | Promise<void>;
  readonly onInvalid?: (item: InvalidItem) => void;
}

export interface ResyncResult {
  readonly state: ResyncState;
  /** Every segment scanned to its end. */
  readonly complete: boolean;
  readonly totals: ResyncTotals;
}

/**
 * Scans the unfinished segments of `state` and publishes their live nodes, updating `state`
 * in place after each page. Returns when every segment is done, or at the deadline / abort
 * (`complete: false`: run again with the same state). Throws ResyncPublishError when a page
 * could not be published (the state still points at that page).
 */
export async function runResync(state: ResyncState, deps: ResyncDeps): Promise<ResyncResult> {
  const now = deps.now ?? Date.now;
  const pageSize = deps.pageSize ?? 200;
  const limited = rateLimited(deps.eventBridge, deps.bucket);
  const pending = state.segments.filter((s) => !s.done);
  let failure: unknown;

  const stopRequested = () => failure !== undefined || deps.signal?.aborted === true || (deps.deadline !== undefined && now() >= deps.deadline);

  await forEachConcurrently(pending, Math.max(1, deps.segmentConcurrency ?? Math.min(state.totalSegments, 4)), async (seg) => {
    while (!seg.done && !stopRequested()) {
      try {
        await runPage(seg);
      } catch (error) {
        failure ??= error;
      }
    }
  });
  if (failure !== undefined) throw failure;
  return { state, complete: state.segments.every((s) => s.done), totals: totals(state) };

  async function runPage(seg: SegmentState): Promise<void> {
    const readTime = now();
    const page = await deps.dynamodb.send(
      new ScanCommand({
        TableName: state.tableName,
        Segment: seg.segment,
        TotalSegments: state.totalSegments,
        ConsistentRead: true,
        Limit: pageSize,
        ...(seg.lastEvaluatedKey === undefined ? {} : { ExclusiveStartKey: seg.lastEvaluatedKey }),
      }),
    );
    const items = (page.Items ?? []) as unknown as Image[];
    const entries: OutgoingEntry[] = [];
    let skipped = 0;
    let invalid = 0;
    items.forEach((image, index) => {
      const deleted = isSoftDeleted(image);
      if (deleted === true) {
        skipped++;
        return;
      }
      const key = keyOf(image);
      if (deleted !== false) {
        invalid++;
        deps.onInvalid?.({ segment: seg.segment, key, issues: [deleted] });
        return;
      }
      const outcome = deps.buildResync(image, readTime / 1000, state.tableName);
      if (outcome.kind === 'notify') {
        entries.push({ key: index, entry: outcome.notification.entry, size: outcome.notification.size });
      } else if (outcome.kind === 'invalid') {
        invalid++;
        deps.onInvalid?.({ segment: seg.segment, key, issues: outcome.issues });
      }
    });

    const result = await publishEntries(limited, entries, {
      concurrency: deps.putEventsConcurrency ?? 2,
      deadline: deps.deadline ?? now() + 5 * 60_000,
      ...(deps.now === undefined ? {} : { now: deps.now }),
      ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });
    if (result.unsent.size > 0) {
      const [first] = result.unsent.values();
      throw new ResyncPublishError(
        `segment ${seg.segment}: ${result.unsent.size} of ${entries.length} notifications of a page could not be published (${first}); the checkpoint still points at this page, run again to resume`,
      );
    }
    for (const [index, rejection] of result.rejected) {
      invalid++;
      deps.onInvalid?.({ segment: seg.segment, key: keyOf(items[index]!), errorCode: rejection.errorCode, errorMessage: rejection.errorMessage });
    }

    seg.scanned += items.length;
    seg.published += result.published.size;
    seg.skipped += skipped;
    seg.invalid += invalid;
    seg.pages++;
    if (page.LastEvaluatedKey === undefined) {
      seg.done = true;
      delete seg.lastEvaluatedKey;
    } else {
      seg.lastEvaluatedKey = page.LastEvaluatedKey;
    }
    await deps.onPage?.(seg, state);
  }
}

/** The item's key attribute (`uuid`), for reports. */
function keyOf(image: Image): Key | undefined {
  const uuid = image.uuid;
  return uuid === undefined ? undefined : ({ uuid } as unknown as Key);
}

/** The client as seen by the publisher: every request waits for a token. */
function rateLimited(client: EventBridgeClient, bucket: TokenBucket): EventBridgeClient {
  return {
    send: async (command: unknown) => {
      await bucket.take();
      return (client.send as (c: unknown) => Promise<unknown>)(command);
    },
  } as unknown as EventBridgeClient;
}

/** The state as a compact, URL-safe continuation token (the Lambda variant's answer). */
export function encodeContinuation(state: ResyncState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

export function decodeContinuation(token: string): ResyncState {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ResyncError('the continuation token is not one this function returned (not base64url JSON)');
  }
  return checkResyncState(value);
}
