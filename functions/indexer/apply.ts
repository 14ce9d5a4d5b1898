/**
 * Applying a notification to the read model, as pure functions: what a node's item becomes,
 * and whether a notification may replace what is stored. The DynamoDB store runs the same
 * decision as conditions (`order_key < :key AND NOT swept_before > :timestamp` on a stored
 * node; absent node: not older than the sweeps' watermark), so concurrent deliveries are
 * safe; `applyToModel` is the in-memory model the tests check it against.
 *
 * The item depends only on the notification, and a notification replaces the stored item iff
 * its order key is greater: the final state of a node is the item of its greatest-key
 * notification, whatever order and however often the notifications arrive. One addition,
 * for resync runs (resync-sweep.ts): once a run has swept with threshold T, a notification
 * older than T (`timestamp < T`, a late delivery: a retry, a redrive from a dead-letter queue)
 * is stale whatever its key, for every node: the run refreshed every node live at T, with a
 * newer state, and found every other node not live.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ATTR, FLEET, MAX_INDEX_PARTITION_KEY_BYTES, MAX_INDEX_SORT_KEY_BYTES, STATE } from './indexer-table.js';
import type { IndexerNotification } from './notification.js';
import { sortableInteger } from './sortable-integer.js';

export type Item = Record<string, AttributeValue>;

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/** What is stored of a node that decides the next application. */
export interface StoredVersion {
  readonly orderKey: string;
  /** A sweep's threshold on its tombstone: notifications older than it cannot revive the node. */
  readonly sweptBefore?: string;
}

/** What of a stored item decides the next application. */
export function storedVersion(item: Item): StoredVersion {
  const sweptBefore = item[ATTR.sweptBefore]?.S;
  return { orderKey: item[ATTR.orderKey]!.S!, ...(sweptBefore === undefined ? {} : { sweptBefore }) };
}

/**
 * The decision: apply iff the notification's key is greater than the stored one, and it is not
 * older than the last sweep that saw the node (`sweptBefore`) or, for a node the model does not
 * hold, than the last sweep at all (`watermark`).
 */
export function decide(stored: StoredVersion | undefined, n: Pick<IndexerNotification, 'orderKey' | 'timestampKey'>, watermark?: string): ApplyOutcome {
  if (stored === undefined) return watermark !== undefined && n.timestampKey < watermark ? 'stale' : 'applied';
  if (stored.orderKey === n.orderKey) return 'duplicate';
  if (stored.orderKey > n.orderKey) return 'stale';
  if (stored.sweptBefore !== undefined && n.timestampKey < stored.sweptBefore) return 'stale';
  return 'applied';
}

// DynamoDB numbers hold 38 significant digits; beyond that the exact value is in `payload`
// and in the sortable keys only.
function numberAttribute(value: bigint): AttributeValue | undefined {
  const digits = (value < 0n ? -value : value).toString().replace(/0+$/, '');
  return digits.length <= 38 ? { N: value.toString() } : undefined;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The item a notification makes of its node: a live node, or a tombstone for a delete. */
export function itemOf(n: IndexerNotification): Item {
  const item: Item = {
    [ATTR.uuid]: { S: n.uuid },
    [ATTR.orderKey]: { S: n.orderKey },
    [ATTR.messageId]: { S: n.messageId },
    [ATTR.eventType]: { S: n.eventType },
    [ATTR.origin]: { S: n.origin },
    [ATTR.cause]: { S: n.cause },
    [ATTR.timestamp]: { S: n.timestamp },
  };
  if (n.resyncRun !== null) item[ATTR.resyncRun] = { S: n.resyncRun };
  const node = n.node;
  if (node === undefined) {
    item[ATTR.state] = { S: STATE.deleted };
    return item;
  }
  item[ATTR.state] = { S: STATE.live };
  item[ATTR.payload] = { S: node.dataJson };
  item[ATTR.payloadVersion] = { S: node.payloadVersion };
  // Index keys must be non-empty and within DynamoDB's key size limits; a node whose type or
  // host cannot be a key is still stored and found by the fleet-wide queries.
  const keyable = (s: string | null, max: number): s is string => s !== null && s !== '' && bytes(s) <= max;
  if (keyable(node.hypervisorType, MAX_INDEX_PARTITION_KEY_BYTES)) item[ATTR.hypervisorType] = { S: node.hypervisorType };
  if (keyable(node.host, MAX_INDEX_PARTITION_KEY_BYTES)) item[ATTR.host] = { S: node.host };
  item[ATTR.fleet] = { S: FLEET };
  const suffix = '#' + n.uuid;
  const put = (numberName: string, keyName: string, value: bigint) => {
    const number = numberAttribute(value);
    if (number !== undefined) item[numberName] = number;
    const key = sortableInteger(value) + suffix;
    if (bytes(key) <= MAX_INDEX_SORT_KEY_BYTES) item[keyName] = { S: key };
  };
  put(ATTR.freeVcpus, ATTR.kVcpus, node.freeVcpus);
  put(ATTR.freeRamMb, ATTR.kRam, node.freeRamMb);
  put(ATTR.freeDiskGb, ATTR.kDisk, node.freeDiskGb);
  return item;
}

/** Applies a notification to an in-memory model (uuid → item) with the store's rule. */
export function applyToModel(model: Map<string, Item>, n: IndexerNotification, watermark?: string): ApplyOutcome {
  const stored = model.get(n.uuid);
  const outcome = decide(stored === undefined ? undefined : storedVersion(stored), n, watermark);
  if (outcome === 'applied') model.set(n.uuid, itemOf(n));
  return outcome;
}

/** Whether an item is a live node (not a tombstone). */
export function isLive(item: Item | undefined): boolean {
  return item?.[ATTR.state]?.S === STATE.live;
}
