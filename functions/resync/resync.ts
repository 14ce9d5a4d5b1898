/**
 * Resync through the stream: a run writes a marker (`SET resync_run = :run`) to every live,
 * valid compute node item; each write is a stream record that the notifier turns into a
 * full-state `compute_node.update` with `change.origin: "resync"`, the record's real sequence
 * number and epoch, and `change.resync_run` = the run id. So a resync notification orders
 * against the node's other changes like any stream notification, and a consumer that counts
 * a run's notifications against the run's `end` event can drop the nodes the run did not
 * refresh (docs/resync-and-indexer.md).
 *
 * The run protocol (the CLI and the Lambda function share this code):
 * 1. take the run lease (one run at a time per table, `lease.ts`);
 * 2. put the `start` control event;
 * 3. anchor: mark one live, valid item before the segmented scan starts, so that every item the
 *    scan reads was read after the run's first marker record;
 * 4. scan the table in parallel segments (strongly consistent pages), marking each live, valid
 *    item; every write first takes a token from a token bucket (the rate limit); the marker
 *    write is conditional (the item exists and is not soft-deleted; a failed condition means the
 *    item went away meanwhile: counted as `gone`, not an error); items the notifier's encoder
 *    would reject are reported (key and issues) and not marked;
 * 5. put the `end` control event with `refreshed` = the nodes the run notified (the anchor
 *    once); give the lease back.
 * The count is never lower than the distinct nodes the run notified, however it stops: a page's
 * items to mark are checkpointed (`pending`, with the position after the page) BEFORE the first
 * write, and counted from then on; a write's outcome then moves its item to `marked`, or to
 * `gone` when its condition failed. A stop saves which pending items were not tried; a stop that
 * lost that (a killed process, an invocation whose answer is lost) leaves them "maybe written":
 * tried again on resume, one that is gone by then may have been notified, so it stays counted
 * (`uncertain`): the run then announces more than it notified and a consumer does not sweep it,
 * which is safe. The anchor is handled the same way (`anchorAttempt`, `anchorUncertain`).
 *
 * @example
 * ```ts
 * const state = newResyncState('compute-nodes', 8);
 * const result = await runResync(state, { dynamodb, eventBridge, eventBusName, eventSource, bucket, lease, onPage: save });
 * ```
 */
import { randomUUID } from 'node:crypto';
import {
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import * as z from 'zod/mini';
import { ComputeNodePayload, HEARTBEAT_ITEM_KEY, RESYNC_MARKER_ATTRIBUTE, SOFT_DELETE_ATTRIBUTE } from '../notifier/contract/index.js';
import { compilePayloadEncoder } from '../notifier/payload-encoder.js';
import { forEachConcurrently } from '../notifier/retry-policy.js';
import { isSoftDeleted } from '../notifier/soft-delete.js';
import { novaTimestamp } from '../notifier/codec/nova-timestamp.js';
import type { FieldIssue } from '../notifier/errors.js';
import type { Image } from '../notifier/stream-record.js';
import { COMPUTE_NODE_TABLE } from '../compute-node-table-definition.js';
import { isConditionFailure } from '../condition-failure.js';
import { putControlEvent } from './control-events.js';
import type { Lease } from './lease.js';
import { ResyncError } from './resync-errors.js';
import type { TokenBucket } from './token-bucket.js';

export { ResyncError } from './resync-errors.js';

export type Key = Record<string, AttributeValue>;

const KeySchema = z.record(z.string(), z.custom<AttributeValue>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an attribute value'));

/** A key the run decided to mark and counted before writing it; `maybeWritten`: a write of it may have been made. */
const PendingSchema = z.object({ key: KeySchema, maybeWritten: z.boolean() });

const SegmentStateSchema = z.object({
  segment: z.number().check(z.int(), z.gte(0)),
  done: z.boolean(),
  /** Where the next page starts; absent before the first page and once the scan has read the last one. */
  lastEvaluatedKey: z.optional(KeySchema),
  /** The scan has read its last page (the segment is done once `pending` is empty too). */
  scanDone: z.boolean(),
  scanned: z.number(),
  /** Successful marker writes (each made one resync notification). */
  marked: z.number(),
  /** Items that already carried this run's marker when scanned (a write before a checkpoint was lost): counted, not written again. */
  alreadyMarked: z.number(),
  /** Items whose marker write may have been made (before a stop that lost the record of it, or by a try whose answer was lost before the SDK retried it) and that were gone when tried again: counted, as a notification of them may exist. */
  uncertain: z.number(),
  /** Soft-deleted items (not marked). */
  skipped: z.number(),
  /** Items deleted or soft-deleted between the scan and the marker write (the write's condition failed; no write was made). */
  gone: z.number(),
  /** Items the notifier's encoder would reject (reported, not marked). */
  invalid: z.number(),
  pages: z.number(),
  /**
   * The current page's items to mark, saved (with the position after the page) before the first
   * write, and counted in `refreshed` until their write's outcome is known.
   */
  pending: z.array(PendingSchema),
});
export type SegmentState = z.infer<typeof SegmentStateSchema>;

const ResyncStateSchema = z.object({
  version: z.literal(3),
  runId: z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)),
  tableName: z.string().check(z.minLength(1)),
  totalSegments: z.number().check(z.int(), z.gte(1)),
  /** When the run started, in Nova's timestamp format (the control events' `started_at`). */
  startedAt: z.string(),
  startPublished: z.boolean(),
  /** Absent until placed; null when the table held no live, valid item to anchor on (nothing to refresh). */
  anchor: z.optional(z.nullable(z.object({ key: KeySchema }))),
  /** The item whose anchor marker write is under way (saved before the write): it may have been made. */
  anchorAttempt: z.optional(KeySchema),
  /** Anchor candidates whose marker write may have been made and that were gone when tried again (counted, like a segment's `uncertain`). */
  anchorUncertain: z.number(),
  segments: z.array(SegmentStateSchema),
  endPublished: z.boolean(),
});
export type ResyncState = z.infer<typeof ResyncStateSchema>;

/** The run could not write a marker (after the SDK's retries): the run stops, the page stays unchecked. */
export class ResyncWriteError extends ResyncError {
  override readonly name = 'ResyncWriteError';
}

export const MAX_TOTAL_SEGMENTS = 1_000_000; // DynamoDB's limit

/** A new run: a fresh run id, every segment to do. */
export function newResyncState(tableName: string, totalSegments: number, startedAt = new Date(), runId: string = randomUUID()): ResyncState {
  if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > MAX_TOTAL_SEGMENTS) {
    throw new ResyncError(`total segments must be a whole number from 1 to ${MAX_TOTAL_SEGMENTS}, got ${totalSegments}`);
  }
  return {
    version: 3,
    runId,
    tableName,
    totalSegments,
    startedAt: novaTimestamp(startedAt.getTime() / 1000),
    startPublished: false,
    anchorUncertain: 0,
    segments: Array.from({ length: totalSegments }, (_, segment) => ({
      segment,
      done: false,
      scanDone: false,
      scanned: 0,
      marked: 0,
      alreadyMarked: 0,
      uncertain: 0,
      skipped: 0,
      gone: 0,
      invalid: 0,
      pages: 0,
      pending: [],
    })),
    endPublished: false,
  };
}

/** Checks a state read back from a checkpoint file or a continuation token. */
export function checkResyncState(value: unknown): ResyncState {
  const parsed = ResyncStateSchema.safeParse(value);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new ResyncError(`not a resync checkpoint of this version: ${why}`);
  }
  const s = parsed.data;
  if (s.segments.length !== s.totalSegments || s.segments.some((seg, i) => seg.segment !== i)) {
    throw new ResyncError('not a resync checkpoint of this version: segments do not match totalSegments');
  }
  return s;
}

export interface ResyncTotals {
  readonly runId: string;
  readonly scanned: number;
  /**
   * Nodes the run notified, anchor included once, never fewer: successful marker writes, items
   * found marked, `uncertain` ones, and the items of unfinished pages (their outcome not known yet).
   * The `refreshed` of the end event.
   */
  readonly refreshed: number;
  /** Of `refreshed`: items whose write may or may not have been made (a stop lost the record, and they were gone by the resume). */
  readonly uncertain: number;
  readonly skipped: number;
  readonly gone: number;
  readonly invalid: number;
  readonly segmentsDone: number;
  readonly totalSegments: number;
}

export function totals(state: ResyncState): ResyncTotals {
  let scanned = 0;
  let refreshed = (state.anchor ? 1 : 0) + state.anchorUncertain + (state.anchorAttempt === undefined ? 0 : 1);
  let uncertain = state.anchorUncertain;
  let skipped = 0;
  let gone = 0;
  let invalid = 0;
  let segmentsDone = 0;
  for (const s of state.segments) {
    scanned += s.scanned;
    refreshed += s.marked + s.alreadyMarked + s.uncertain + s.pending.length;
    uncertain += s.uncertain;
    skipped += s.skipped;
    gone += s.gone;
    invalid += s.invalid;
    if (s.done) segmentsDone++;
  }
  return { runId: state.runId, scanned, refreshed, uncertain, skipped, gone, invalid, segmentsDone, totalSegments: state.totalSegments };
}

export interface InvalidItem {
  readonly segment: number | 'anchor';
  readonly key: Key | undefined;
  readonly issues: readonly FieldIssue[];
}

export interface ResyncDeps {
  readonly dynamodb: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
  /** The notifier's bus and source: the control events go where the notifications go. */
  readonly eventBusName: string;
  readonly eventSource: string;
  /** One token per marker write: the rate limit. */
  readonly bucket: TokenBucket;
  readonly lease: Lease;
  /** `always`: give the lease back however the call ends (CLI); `when-complete`: keep it between invocations (Lambda). @default 'always' */
  readonly releaseLease?: 'always' | 'when-complete';
  /** Items per Scan page. @default 200 */
  readonly pageSize?: number;
  /** Segments scanned at once. @default min(totalSegments, 4) */
  readonly segmentConcurrency?: number;
  /** Epoch milliseconds: stop writing at this time (the Lambda variant's invocation end). */
  readonly deadline?: number;
  /** Stop after the write in flight (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Each checkpoint of `state`: save it before resolving. A page's marker writes start only
   * once its checkpoint is saved, so the count survives a killed process as far as these saves
   * are durable (without them, only stops the run sees: deadline, abort, error).
   */
  readonly onPage?: (state: ResyncState) => void | Promise<void>;
  readonly onInvalid?: (item: InvalidItem) => void;
}

export interface ResyncResult {
  readonly state: ResyncState;
  /** The end event is out: the run is over. */
  readonly complete: boolean;
  readonly totals: ResyncTotals;
}

const KEY_ATTRIBUTE = COMPUTE_NODE_TABLE.partitionKey.name;
const encodeNode = compilePayloadEncoder(ComputeNodePayload);

/**
 * Runs (or resumes) the run in `state`, updating `state` in place at each checkpoint. Returns
 * when the end event is out (`complete: true`), or at the deadline / abort (`complete: false`:
 * run again with the same state). Throws LeaseHeldError when another run holds the lease, and
 * ResyncError when a write or a control event failed for good (the state points before it).
 */
export async function runResync(state: ResyncState, deps: ResyncDeps): Promise<ResyncResult> {
  const now = deps.now ?? Date.now;
  const pageSize = deps.pageSize ?? 200;
  const stopRequested = () => deps.signal?.aborted === true || (deps.deadline !== undefined && now() >= deps.deadline);
  // Retries of a control event: until the invocation's deadline, or for a minute from when it is put.
  const control = () => ({
    eventBridge: deps.eventBridge,
    eventBusName: deps.eventBusName,
    eventSource: deps.eventSource,
    deadline: deps.deadline ?? now() + 60_000,
    now,
    ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
  });
  const checkpoint = async () => {
    await deps.lease.renewIfDue();
    await deps.onPage?.(state);
  };

  await deps.lease.acquire();
  let complete = false;
  let failure: unknown;
  const halted = () => failure !== undefined || stopRequested();
  try {
    if (!state.startPublished) {
      await putControlEvent(control(), { run_id: state.runId, phase: 'start', started_at: state.startedAt, table: state.tableName });
      state.startPublished = true;
      await checkpoint();
    }
    if (state.anchor === undefined && !stopRequested()) {
      const anchor = await placeAnchor();
      if (anchor !== undefined) {
        state.anchor = anchor;
        // Not one live, valid item: nothing to refresh; the scan would only meet items created since.
        if (anchor === null) for (const seg of state.segments) seg.done = true;
        await checkpoint();
      }
    }
    if (state.anchor !== undefined) {
      const unfinished = state.segments.filter((s) => !s.done);
      await forEachConcurrently(unfinished, Math.max(1, deps.segmentConcurrency ?? Math.min(state.totalSegments, 4)), async (seg) => {
        while (!seg.done && !halted()) {
          try {
            await step(seg);
          } catch (error) {
            failure ??= error;
          }
        }
      });
      if (failure !== undefined) throw failure;
      // Stopped: the state now says exactly which pending writes were not tried; keep that.
      if (!state.segments.every((s) => s.done)) await deps.onPage?.(state);
    }
    if (state.segments.every((s) => s.done) && state.anchor !== undefined && !state.endPublished) {
      await putControlEvent(control(), { run_id: state.runId, phase: 'end', started_at: state.startedAt, refreshed: totals(state).refreshed });
      state.endPublished = true;
      await deps.onPage?.(state);
    }
    complete = state.endPublished;
  } finally {
    if (complete || (deps.releaseLease ?? 'always') === 'always') await deps.lease.release();
  }
  return { state, complete, totals: totals(state) };

  /** Live, valid and not soft-deleted: the image's issues, or null when the item may be marked; 'soft-deleted' or 'reserved' (the heartbeat item, no node) to skip it. */
  function check(image: Image): readonly FieldIssue[] | 'soft-deleted' | 'reserved' | null {
    if (image[KEY_ATTRIBUTE]?.S === HEARTBEAT_ITEM_KEY) return 'reserved';
    const deleted = isSoftDeleted(image);
    if (deleted === true) return 'soft-deleted';
    if (deleted !== false) return [deleted];
    const encoded = encodeNode(image);
    return encoded.ok ? null : encoded.issues;
  }

  /**
   * The anchor's key; null when there is no item to anchor on; undefined when stopped before
   * either was known. Each candidate is saved (`anchorAttempt`) before its write, so a stop that
   * loses the outcome leaves it counted; tried again on resume, it is the anchor if still live,
   * else counted as `anchorUncertain`.
   */
  async function placeAnchor(): Promise<{ key: Key } | null | undefined> {
    const earlier = state.anchorAttempt;
    if (earlier !== undefined) {
      const outcome = await mark(earlier);
      delete state.anchorAttempt;
      if (outcome === 'marked') return { key: earlier };
      state.anchorUncertain++;
      await checkpoint();
    }
    let start: Key | undefined;
    // The first request reads one item (usually enough); later ones read pages.
    let limit = 1;
    do {
      const page = await deps.dynamodb.send(
        new ScanCommand({ TableName: state.tableName, ConsistentRead: true, Limit: limit, ...(start === undefined ? {} : { ExclusiveStartKey: start }) }),
      );
      for (const item of (page.Items ?? []) as unknown as Image[]) {
        const verdict = check(item);
        if (verdict === 'soft-deleted' || verdict === 'reserved') continue;
        const key = keyOf(item);
        if (verdict !== null) {
          deps.onInvalid?.({ segment: 'anchor', key, issues: verdict });
          continue;
        }
        if (markerOf(item) === state.runId) return { key };
        state.anchorAttempt = key;
        await checkpoint();
        const outcome = await mark(key);
        delete state.anchorAttempt;
        if (outcome === 'marked') return { key };
        if (outcome === 'uncertain') state.anchorUncertain++;
      }
      start = page.LastEvaluatedKey;
      limit = pageSize;
      await deps.lease.renewIfDue();
    } while (start !== undefined && !stopRequested());
    return start === undefined ? null : undefined;
  }

  /** One page of a segment: scanned (unless one is pending), its items written, the segment done after its last page. */
  async function step(seg: SegmentState): Promise<void> {
    let tried: boolean[] | undefined;
    if (seg.pending.length === 0 && !seg.scanDone) tried = await scanPage(seg);
    if (seg.pending.length > 0) {
      if (tried === undefined) {
        // Resumed: the saved state must say "maybe written" before any write is tried, or a stop
        // that loses this attempt would leave an item written here counted as gone.
        tried = seg.pending.map((p) => p.maybeWritten);
        if (tried.includes(false)) {
          for (const p of seg.pending) p.maybeWritten = true;
          await checkpoint();
        }
      }
      await writePending(seg, tried);
      if (seg.pending.length > 0) return; // stopped
      await checkpoint();
    }
    if (seg.scanDone && !seg.done) {
      seg.done = true;
      await checkpoint();
    }
  }

  /**
   * Reads the segment's next page and records, in one checkpoint, the position after it and
   * its items to mark (`pending`, counted from then on) BEFORE any write: a stop at any point
   * after it cannot lose a write from the count. Returns whether each pending write may have
   * been made before (none: a fresh page).
   */
  async function scanPage(seg: SegmentState): Promise<boolean[]> {
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
    const anchorKey = state.anchor ? JSON.stringify(state.anchor.key[KEY_ATTRIBUTE]) : undefined;
    for (const item of items) {
      const verdict = check(item);
      if (verdict === 'reserved') continue;
      if (verdict === 'soft-deleted') {
        seg.skipped++;
        continue;
      }
      const key = keyOf(item);
      if (verdict !== null) {
        seg.invalid++;
        deps.onInvalid?.({ segment: seg.segment, key, issues: verdict });
        continue;
      }
      // The anchor is counted once already; if it was deleted and created again since, the new
      // item's create record is newer than the run's first marker, so it needs no marker.
      if (JSON.stringify(item[KEY_ATTRIBUTE]) === anchorKey) continue;
      if (markerOf(item) === state.runId) {
        // A write whose record a lost checkpoint did not keep.
        seg.alreadyMarked++;
        continue;
      }
      // Saved as maybe written: the writes start right after this checkpoint, with no other in between.
      seg.pending.push({ key, maybeWritten: true });
    }
    seg.scanned += items.length;
    seg.pages++;
    if (page.LastEvaluatedKey === undefined) {
      seg.scanDone = true;
      delete seg.lastEvaluatedKey;
    } else {
      seg.lastEvaluatedKey = page.LastEvaluatedKey;
    }
    try {
      await checkpoint();
    } catch (error) {
      for (const p of seg.pending) p.maybeWritten = false; // no write was tried
      throw error;
    }
    return seg.pending.map(() => false);
  }

  /**
   * Writes the segment's pending markers in order, each one's outcome recorded as it comes: a
   * success is `marked`; a failed condition is `gone` (no write was made), or `uncertain` when
   * an earlier try may have made it (`tried`). While writing, every pending item reads as maybe
   * written, so a checkpoint another segment takes meanwhile loses nothing; on a stop, the
   * items not tried here get their earlier flag back.
   */
  async function writePending(seg: SegmentState, tried: boolean[]): Promise<void> {
    for (const p of seg.pending) p.maybeWritten = true;
    const untried = () => seg.pending.forEach((p, i) => (p.maybeWritten = tried[i]!));
    while (seg.pending.length > 0) {
      if (halted()) {
        untried();
        return;
      }
      let outcome: 'marked' | 'gone' | 'uncertain';
      try {
        outcome = await mark(seg.pending[0]!.key);
      } catch (error) {
        // This write's outcome is unknown: it stays pending, maybe written.
        untried();
        seg.pending[0]!.maybeWritten = true;
        throw error;
      }
      seg.pending.shift();
      const earlier = tried.shift()!;
      if (outcome === 'marked') seg.marked++;
      else if (earlier || outcome === 'uncertain') seg.uncertain++;
      else seg.gone++;
    }
  }

  /**
   * The marker write: never creates an item, never touches a soft-deleted one. `uncertain`: the
   * condition failed on a retry by the SDK itself, so an earlier try of this call may have been
   * made (its answer lost: a timeout, a 500) and notified before the item went away.
   */
  async function mark(key: Key): Promise<'marked' | 'gone' | 'uncertain'> {
    await deps.bucket.take();
    try {
      await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: state.tableName,
          Key: key,
          UpdateExpression: 'SET #marker = :run',
          ConditionExpression: 'attribute_exists(#key) AND (attribute_not_exists(#deleted) OR #deleted = :zero OR #deleted = :false OR attribute_type(#deleted, :null))',
          ExpressionAttributeNames: { '#marker': RESYNC_MARKER_ATTRIBUTE, '#key': KEY_ATTRIBUTE, '#deleted': SOFT_DELETE_ATTRIBUTE },
          ExpressionAttributeValues: { ':run': { S: state.runId }, ':zero': { N: '0' }, ':false': { BOOL: false }, ':null': { S: 'NULL' } },
        }),
      );
      return 'marked';
    } catch (error) {
      if (isConditionFailure(error)) return ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1 ? 'uncertain' : 'gone';
      throw new ResyncWriteError(`the marker write to ${JSON.stringify(key)} failed (${(error as Error).name}: ${(error as Error).message}); run again to resume`);
    }
  }
}

/** The item's key (the table's partition key). */
function keyOf(image: Image): Key {
  return { [KEY_ATTRIBUTE]: image[KEY_ATTRIBUTE] } as unknown as Key;
}

function markerOf(image: Image): string | undefined {
  const m = image[RESYNC_MARKER_ATTRIBUTE];
  return typeof m?.S === 'string' ? m.S : undefined;
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
