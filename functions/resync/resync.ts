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
 *    item; every write first takes a token from a token bucket (the rate limit); each segment's
 *    position and counts are checkpointed after each page; the marker write is conditional
 *    (the item exists and is not soft-deleted; a failed condition means the item went away
 *    meanwhile: counted as `gone`, not an error); items the notifier's encoder would reject are
 *    reported (key and issues) and not marked;
 * 5. put the `end` control event with `refreshed` = successful marker writes (the anchor once);
 *    give the lease back.
 * A stopped run (deadline, Ctrl-C, an error) resumes from its state: an interrupted page is
 * scanned again, and its items that already carry this run's marker are counted without a
 * second write (a write of an unchanged value would make no stream record anyway).
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
import { ComputeNodePayload, RESYNC_MARKER_ATTRIBUTE, SOFT_DELETE_ATTRIBUTE } from '../notifier/contract/index.js';
import { compilePayloadEncoder } from '../notifier/payload-encoder.js';
import { forEachConcurrently } from '../notifier/retry-policy.js';
import { isSoftDeleted } from '../notifier/soft-delete.js';
import { novaTimestamp } from '../notifier/codec/nova-timestamp.js';
import type { FieldIssue } from '../notifier/errors.js';
import type { Image } from '../notifier/stream-record.js';
import { COMPUTE_NODE_TABLE } from '../../infra/table-definition.js';
import { isConditionFailure } from '../condition-failure.js';
import { putControlEvent } from './control-events.js';
import type { Lease } from './lease.js';
import { ResyncError } from './resync-errors.js';
import type { TokenBucket } from './token-bucket.js';

export { ResyncError } from './resync-errors.js';

export type Key = Record<string, AttributeValue>;

const KeySchema = z.record(z.string(), z.custom<AttributeValue>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an attribute value'));

const SegmentStateSchema = z.object({
  segment: z.number().check(z.int(), z.gte(0)),
  done: z.boolean(),
  /** Where the next page starts; absent before the first page. */
  lastEvaluatedKey: z.optional(KeySchema),
  scanned: z.number(),
  /** Successful marker writes (each made one resync notification). */
  marked: z.number(),
  /** Items of an interrupted page that already carried this run's marker when scanned again: counted, not written again. */
  alreadyMarked: z.number(),
  /** Soft-deleted items (not marked). */
  skipped: z.number(),
  /** Items deleted or soft-deleted between the scan and the marker write (the write's condition failed). */
  gone: z.number(),
  /** Items the notifier's encoder would reject (reported, not marked). */
  invalid: z.number(),
  pages: z.number(),
});
export type SegmentState = z.infer<typeof SegmentStateSchema>;

const ResyncStateSchema = z.object({
  version: z.literal(2),
  runId: z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)),
  tableName: z.string().check(z.minLength(1)),
  totalSegments: z.number().check(z.int(), z.gte(1)),
  /** When the run started, in Nova's timestamp format (the control events' `started_at`). */
  startedAt: z.string(),
  startPublished: z.boolean(),
  /** Absent until placed; null when the table held no live, valid item to anchor on (nothing to refresh). */
  anchor: z.optional(z.nullable(z.object({ key: KeySchema }))),
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
    version: 2,
    runId,
    tableName,
    totalSegments,
    startedAt: novaTimestamp(startedAt.getTime() / 1000),
    startPublished: false,
    segments: Array.from({ length: totalSegments }, (_, segment) => ({ segment, done: false, scanned: 0, marked: 0, alreadyMarked: 0, skipped: 0, gone: 0, invalid: 0, pages: 0 })),
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
  /** Successful marker writes, anchor included once: the `refreshed` of the end event. */
  readonly refreshed: number;
  readonly skipped: number;
  readonly gone: number;
  readonly invalid: number;
  readonly segmentsDone: number;
  readonly totalSegments: number;
}

export function totals(state: ResyncState): ResyncTotals {
  let scanned = 0;
  let refreshed = state.anchor ? 1 : 0;
  let skipped = 0;
  let gone = 0;
  let invalid = 0;
  let segmentsDone = 0;
  for (const s of state.segments) {
    scanned += s.scanned;
    refreshed += s.marked + s.alreadyMarked;
    skipped += s.skipped;
    gone += s.gone;
    invalid += s.invalid;
    if (s.done) segmentsDone++;
  }
  return { runId: state.runId, scanned, refreshed, skipped, gone, invalid, segmentsDone, totalSegments: state.totalSegments };
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
  /** After each checkpoint of `state` (write the checkpoint here). */
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
      let failure: unknown;
      const pending = state.segments.filter((s) => !s.done);
      await forEachConcurrently(pending, Math.max(1, deps.segmentConcurrency ?? Math.min(state.totalSegments, 4)), async (seg) => {
        while (!seg.done && failure === undefined && !stopRequested()) {
          try {
            await runPage(seg);
          } catch (error) {
            failure ??= error;
          }
        }
      });
      if (failure !== undefined) throw failure;
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

  /** Live, valid and not soft-deleted: the image's issues, or null when the item may be marked; 'soft-deleted' to skip it. */
  function check(image: Image): readonly FieldIssue[] | 'soft-deleted' | null {
    const deleted = isSoftDeleted(image);
    if (deleted === true) return 'soft-deleted';
    if (deleted !== false) return [deleted];
    const encoded = encodeNode(image);
    return encoded.ok ? null : encoded.issues;
  }

  /** The anchor's key; null when there is no item to anchor on; undefined when stopped before either was known. */
  async function placeAnchor(): Promise<{ key: Key } | null | undefined> {
    let start: Key | undefined;
    // The first request reads one item (usually enough); later ones read pages.
    let limit = 1;
    do {
      const page = await deps.dynamodb.send(
        new ScanCommand({ TableName: state.tableName, ConsistentRead: true, Limit: limit, ...(start === undefined ? {} : { ExclusiveStartKey: start }) }),
      );
      for (const item of (page.Items ?? []) as unknown as Image[]) {
        const verdict = check(item);
        if (verdict === 'soft-deleted') continue;
        const key = keyOf(item);
        if (verdict !== null) {
          deps.onInvalid?.({ segment: 'anchor', key, issues: verdict });
          continue;
        }
        // Marked before an interruption: the anchor is in place already.
        if (markerOf(item) === state.runId) return { key };
        if ((await mark(key)) === 'marked') return { key };
      }
      start = page.LastEvaluatedKey;
      limit = pageSize;
      await deps.lease.renewIfDue();
    } while (start !== undefined && !stopRequested());
    return start === undefined ? null : undefined;
  }

  async function runPage(seg: SegmentState): Promise<void> {
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
    let marked = 0;
    let alreadyMarked = 0;
    let skipped = 0;
    let gone = 0;
    let invalid = 0;
    for (const item of items) {
      const verdict = check(item);
      if (verdict === 'soft-deleted') {
        skipped++;
        continue;
      }
      const key = keyOf(item);
      if (verdict !== null) {
        invalid++;
        deps.onInvalid?.({ segment: seg.segment, key, issues: verdict });
        continue;
      }
      if (markerOf(item) === state.runId) {
        // The anchor (counted once already), or a write of this run in a page that was not checkpointed.
        if (JSON.stringify(item[KEY_ATTRIBUTE]) !== anchorKey) alreadyMarked++;
        continue;
      }
      // Stop mid-page: the page is not checkpointed, and scanned again on resume.
      if (stopRequested()) return;
      if ((await mark(key)) === 'marked') marked++;
      else gone++;
    }
    seg.scanned += items.length;
    seg.marked += marked;
    seg.alreadyMarked += alreadyMarked;
    seg.skipped += skipped;
    seg.gone += gone;
    seg.invalid += invalid;
    seg.pages++;
    if (page.LastEvaluatedKey === undefined) {
      seg.done = true;
      delete seg.lastEvaluatedKey;
    } else {
      seg.lastEvaluatedKey = page.LastEvaluatedKey;
    }
    await checkpoint();
  }

  /** The marker write: never creates an item, never touches a soft-deleted one. */
  async function mark(key: Key): Promise<'marked' | 'gone'> {
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
      if (isConditionFailure(error)) return 'gone';
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
