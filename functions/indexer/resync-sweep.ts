/**
 * The consumer's side of a resync run (docs/resync-and-indexer.md, "The sweep"), as pure
 * rules shared by the in-memory model (read-model.ts) and the DynamoDB store (run-store.ts).
 *
 * A run R writes a marker to every live, valid item, so every node live in the table during
 * the run gets a resync notification of R (`change.resync_run = R`). Once the consumer has
 * seen R's `end` event AND R's resync notifications of `refreshed` distinct nodes (applied,
 * duplicate or stale all count), let T = the least `timestamp` among them (when `refreshed` is
 * 0: `started_at` at the stream's whole second, less a margin for clock skew). A live node
 * whose stored notification is not from R and is older than T (strictly) was not live when the run read it, and nothing newer came: it is turned into a
 * tombstone (only if its stored order key is unchanged). A node created during the run has a
 * timestamp ≥ T (the run's anchor marker is written before the scan starts) and is kept.
 * Until the count is reached (a delivery lost) the run does not sweep: safe, and `drift`
 * shows what is wrong.
 *
 * After the sweep, a notification older than T is stale for every node, whatever its key: it
 * is either older than the node's notification from R (a node live during the run) or about a
 * node the run found not live. So a late delivery (an EventBridge retry, a dead-letter queue
 * redriven) cannot bring back a node the sweep removed, or create one the consumer never held.
 * The sweep records T as the model's watermark (for nodes it does not hold yet) BEFORE it
 * reads the nodes, and on every tombstone (`swept_before`), so the guard is part of each
 * write's condition and a write racing the sweep is either refused or seen by it. A live node
 * the sweep keeps needs no mark: its stored record is the run's, or newer than T, so any
 * record of it older than T has a lower order key (one item's records are in order).
 */
import type { Item } from './apply.js';
import { ATTR, STATE } from './indexer-table.js';
import { timestampKey } from './timestamp-key.js';

/**
 * How far the resync process's clock may be ahead of the stream's: `started_at` is read from
 * that clock (to the millisecond), the notifications' `timestamp` from the stream's (whole
 * seconds, rounded down). Five minutes: the window within which AWS accepts a signed request
 * (docs/resync-and-indexer.md, "The sweep").
 */
export const STARTED_AT_SKEW_MARGIN_MS = 300_000;

/**
 * T of a run that refreshed nothing: `started_at` (a {@link timestampKey}) rounded down to the
 * stream's whole second, less {@link STARTED_AT_SKEW_MARGIN_MS}, so that no record made after the
 * run started can be older than T, whichever clock is ahead.
 */
export function emptyRunThreshold(startedAt: string): string {
  const ms = Date.parse(`${startedAt.slice(0, 10)}T${startedAt.slice(11, 19)}Z`);
  if (Number.isNaN(ms)) throw new Error(`started_at ${JSON.stringify(startedAt)} is not a timestamp key`);
  const iso = new Date(ms - STARTED_AT_SKEW_MARGIN_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.000000`;
}

/** What the consumer knows of a run. */
export interface RunProgress {
  /** Distinct nodes whose resync notification of the run was seen. */
  readonly seen: number;
  /** The least `timestampKey` among those notifications. */
  readonly minTimestamp?: string;
  /** From the `end` event: successful marker writes, and the run's start. */
  readonly refreshed?: number;
  readonly startedAt?: string;
  readonly swept: boolean;
}

/** T, once the run may sweep; undefined before (or when it has swept already). */
export function sweepThreshold(p: RunProgress): string | undefined {
  if (p.swept || p.refreshed === undefined || p.seen < p.refreshed) return undefined;
  if (p.refreshed === 0) return p.startedAt === undefined ? undefined : emptyRunThreshold(p.startedAt);
  return p.minTimestamp;
}

/** `timestamp` of a stored item as a sortable key. */
const storedTimestampKey = (item: Item): string => timestampKey(item[ATTR.timestamp]?.S ?? '', 'stored timestamp');

/** Whether the sweep of run `runId` with threshold `threshold` turns this stored item into a tombstone. */
export function isSwept(item: Item, runId: string, threshold: string): boolean {
  if (item[ATTR.state]?.S !== STATE.live) return false;
  if (item[ATTR.resyncRun]?.S === runId) return false;
  return storedTimestampKey(item) < threshold;
}

/** The tombstone a sweep makes of a live item: same order key (a newer notification still applies), the run and T kept. */
export function sweptItem(item: Item, runId: string, threshold: string): Item {
  const keep = [ATTR.uuid, ATTR.orderKey, ATTR.messageId, ATTR.eventType, ATTR.origin, ATTR.cause, ATTR.timestamp, ATTR.resyncRun];
  const out: Item = {};
  for (const name of keep) {
    const v = item[name];
    if (v !== undefined) out[name] = v;
  }
  out[ATTR.state] = { S: STATE.deleted };
  out[ATTR.sweptBy] = { S: runId };
  out[ATTR.sweptBefore] = { S: threshold };
  return out;
}

/** A tombstone with the sweep's threshold recorded (the greater of its own and T). */
export function stampedItem(item: Item, threshold: string): Item {
  const own = item[ATTR.sweptBefore]?.S;
  return own !== undefined && own >= threshold ? item : { ...item, [ATTR.sweptBefore]: { S: threshold } };
}
