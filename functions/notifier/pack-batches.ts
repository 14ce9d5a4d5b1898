/**
 * Packs items, in order, into batches within a count limit and a byte limit: PutEvents
 * (10 entries, under 256 KB) and SQS SendMessageBatch (10 messages, 1 MiB) both need it.
 */

/** Items in order, split so that no batch has more than `maxCount` items or `maxBytes` bytes. */
export function packBatches<T extends { readonly size: number }>(items: readonly T[], maxCount: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length === maxCount || (current.length > 0 && bytes + item.size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
