/**
 * The order key of a notification: which of two notifications of a node is newer.
 *
 *   (origin rank: resync 0 < stream 1, BigInt(sequence_number), for resync the timestamp)
 *
 * A stream notification's sequence number orders the node's changes; a resync notification
 * carries sequence number 0 (it cannot know the change that produced the state it read), so
 * it sorts below every stream notification, and between two resyncs the later read wins.
 * A consumer applies a notification iff its key is greater than the stored one; equal keys
 * are the same notification delivered again.
 *
 * The key is encoded as a string whose byte order is the key order, so DynamoDB compares it
 * in a condition (`order_key < :new`) and concurrent deliveries cannot regress a node.
 */

export type Origin = 'stream' | 'resync';

export interface OrderKeyInput {
  readonly origin: Origin;
  /** Decimal digits (any length, leading zeros allowed). */
  readonly sequenceNumber: string;
  /** Nova's timestamp (`2026-11-26 19:06:02` or with `.ffffff`). */
  readonly timestamp: string;
}

export class OrderKeyError extends Error {
  override readonly name = 'OrderKeyError';
}

const NOVA_TIMESTAMP = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d{6})?$/;
const MAX_DIGITS = 999;

/** The key as a string ordered like the key: `<rank><3-digit length><digits>[|<timestamp with 6 fraction digits>]`. */
export function orderKey(n: OrderKeyInput): string {
  if (!/^\d+$/.test(n.sequenceNumber)) throw new OrderKeyError(`sequence_number ${JSON.stringify(n.sequenceNumber)} is not a decimal digit string`);
  const digits = n.sequenceNumber.replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_DIGITS) throw new OrderKeyError(`sequence_number has ${digits.length} digits; at most ${MAX_DIGITS} are supported`);
  const seq = String(digits.length).padStart(3, '0') + digits;
  if (n.origin === 'stream') return '1' + seq;
  const m = NOVA_TIMESTAMP.exec(n.timestamp);
  if (m === null) throw new OrderKeyError(`timestamp ${JSON.stringify(n.timestamp)} is not in Nova's format (YYYY-MM-DD HH:MM:SS[.ffffff])`);
  return '0' + seq + '|' + m[1] + (m[2] ?? '.000000');
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareOrderKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
