/**
 * Applying a notification to the read model, as pure functions: what a node's item becomes,
 * and whether a notification may replace what is stored. The DynamoDB store runs the same
 * decision as a condition (`attribute_not_exists(uuid) OR order_key < :key`), so concurrent
 * deliveries are safe; `applyToModel` is the in-memory model the tests check it against.
 *
 * The item depends only on the notification, and a notification replaces the stored item iff
 * its order key is greater: the final state of a node is the item of its greatest-key
 * notification, whatever order and however often the notifications arrive.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ATTR, FLEET, MAX_INDEX_PARTITION_KEY_BYTES, MAX_INDEX_SORT_KEY_BYTES } from './indexer-table.js';
import type { IndexerNotification } from './notification.js';
import { sortableInteger } from './sortable-integer.js';

export type Item = Record<string, AttributeValue>;

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/** What is stored of a node that decides the next application. */
export interface StoredVersion {
  readonly orderKey: string;
  readonly messageId?: string;
}

/** The decision: apply iff the notification's key is greater than the stored one. */
export function decide(stored: StoredVersion | undefined, n: Pick<IndexerNotification, 'orderKey' | 'messageId'>): ApplyOutcome {
  if (stored === undefined || stored.orderKey < n.orderKey) return 'applied';
  if (stored.orderKey === n.orderKey) return 'duplicate';
  return 'stale';
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
  const node = n.node;
  if (node === undefined) {
    item[ATTR.state] = { S: 'deleted' };
    return item;
  }
  item[ATTR.state] = { S: 'live' };
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
export function applyToModel(model: Map<string, Item>, n: IndexerNotification): ApplyOutcome {
  const stored = model.get(n.uuid);
  const outcome = decide(stored === undefined ? undefined : { orderKey: stored[ATTR.orderKey]!.S! }, n);
  if (outcome === 'applied') model.set(n.uuid, itemOf(n));
  return outcome;
}

/** Whether an item is a live node (not a tombstone). */
export function isLive(item: Item | undefined): boolean {
  return item?.[ATTR.state]?.S === 'live';
}
