/**
 * Integers of any size as strings whose byte order is numeric order, for DynamoDB sort keys
 * (an N sort key holds at most 38 digits; a Nova integer has no limit). Non-negative: `p`,
 * the digit count in 3 digits, the digits. Negative: `n`, 999 minus the digit count, the
 * nines' complement of the digits.
 *
 *   -12 → n997 87     0 → p001 0     7 → p001 7     42 → p002 42
 */

export const MAX_SORTABLE_DIGITS = 999;

export class SortableIntegerError extends Error {
  override readonly name = 'SortableIntegerError';
}

export function sortableInteger(value: bigint): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (digits.length > MAX_SORTABLE_DIGITS) throw new SortableIntegerError(`an integer of ${digits.length} digits cannot be indexed (at most ${MAX_SORTABLE_DIGITS})`);
  if (!negative) return 'p' + String(digits.length).padStart(3, '0') + digits;
  let complement = '';
  for (let i = 0; i < digits.length; i++) complement += String(9 - (digits.charCodeAt(i) - 48));
  return 'n' + String(MAX_SORTABLE_DIGITS - digits.length).padStart(3, '0') + complement;
}

/** The integer a sortable string (as made by {@link sortableInteger}, optionally followed by `#...`) denotes. */
export function parseSortableInteger(key: string): bigint {
  const sign = key[0];
  const length = Number(key.slice(1, 4));
  if ((sign !== 'p' && sign !== 'n') || !Number.isInteger(length)) throw new SortableIntegerError(`not a sortable integer: ${key}`);
  if (sign === 'p') return BigInt(key.slice(4, 4 + length));
  const n = MAX_SORTABLE_DIGITS - length;
  let digits = '';
  for (let i = 4; i < 4 + n; i++) digits += String(9 - (key.charCodeAt(i) - 48));
  return -BigInt(digits);
}
