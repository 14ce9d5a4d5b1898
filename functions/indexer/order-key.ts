/**
 * The order key of a notification: which of two notifications of a node is newer.
 *
 *   (change.epoch, BigInt(change.sequence_number))
 *
 * `epoch` is the stream label (the last segment of the stream ARN): a re-enabled stream or a
 * re-created table gets a new, later label, and AWS writes labels as fixed-width ISO-8601
 * times, so comparing labels as strings compares epochs; `null` (a record that carried no
 * stream ARN, e.g. a test vector or a version-1 notification) sorts below every label. Within
 * one epoch, DynamoDB Streams delivers an item's records in order along a shard lineage with
 * increasing sequence numbers (docs/resync-and-indexer.md, "The order key", cites AWS). A
 * resync notification is a real stream record of the node (the resync writes a marker
 * attribute), so it orders against the node's other records with no rank of its own.
 *
 * A consumer applies a notification iff its key is greater than the stored one; equal keys
 * are the same record delivered again. The key is encoded as a string whose byte order is
 * the key order, so DynamoDB compares it in a condition (`order_key < :new`) and concurrent
 * deliveries cannot regress a node.
 */

export interface OrderKeyInput {
  /** The stream label, or null. */
  readonly epoch: string | null;
  /** Decimal digits (any length, leading zeros allowed). */
  readonly sequenceNumber: string;
}

export class OrderKeyError extends Error {
  override readonly name = 'OrderKeyError';
}

const MAX_DIGITS = 999;
/**
 * Printable ASCII without the space (every AWS stream label is such text): the space that
 * ends the label in the encoding is then below every label character, so a label that is a
 * prefix of another sorts first, as string comparison says.
 */
const LABEL = /^[\x21-\x7e]{1,256}$/;

/**
 * The key as a string ordered like the key:
 * `0 <3-digit length><digits>` for a null epoch, `1<label> <3-digit length><digits>` otherwise.
 */
export function orderKey(n: OrderKeyInput): string {
  if (!/^\d+$/.test(n.sequenceNumber)) throw new OrderKeyError(`change.sequence_number ${JSON.stringify(n.sequenceNumber)} is not a decimal digit string`);
  const digits = n.sequenceNumber.replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_DIGITS) throw new OrderKeyError(`change.sequence_number has ${digits.length} digits; at most ${MAX_DIGITS} are supported`);
  const seq = String(digits.length).padStart(3, '0') + digits;
  if (n.epoch === null) return '0 ' + seq;
  if (!LABEL.test(n.epoch)) throw new OrderKeyError(`change.epoch ${JSON.stringify(n.epoch)} is not a stream label (1 to 256 printable ASCII characters, no space)`);
  return '1' + n.epoch + ' ' + seq;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareOrderKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
