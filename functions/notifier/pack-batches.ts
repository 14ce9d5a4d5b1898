/**
 * Packs items, in order, into batches within a count limit and a byte limit: PutEvents
 * (10 entries, under 256 KB) and SQS SendMessageBatch (10 messages, 1 MiB) both need it.
 *
 * @example
 * ```ts
 * const packer = new BatchPacker<Entry>(10, 256 * 1024 - 1, (batch) => send(batch));
 * for (const entry of entries) packer.push(entry); // a batch is handed on as soon as it is full
 * packer.flush();                                  // and the last, partial one at the end
 * ```
 */

/** Incremental packing: each batch is handed to `onBatch` the moment it can take no more. */
export class BatchPacker<T extends { readonly size: number }> {
  private current: T[] = [];
  private bytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
    private readonly onBatch: (batch: T[]) => void,
  ) {}

  /** Adds the next item; hands on the current batch first if the item would overflow it. */
  push(item: T): void {
    if (this.current.length > 0 && this.bytes + item.size > this.maxBytes) this.close();
    this.current.push(item);
    this.bytes += item.size;
    // Full by count: hand it on now rather than when the next item arrives.
    if (this.current.length === this.maxCount) this.close();
  }

  /** Hands on the last, partial batch (if any). */
  flush(): void {
    if (this.current.length > 0) this.close();
  }

  /** Drops the open, partial batch without handing it on. */
  discard(): void {
    this.current = [];
    this.bytes = 0;
  }

  private close(): void {
    const batch = this.current;
    this.current = [];
    this.bytes = 0;
    this.onBatch(batch);
  }
}

/** Items in order, split so that no batch has more than `maxCount` items or `maxBytes` bytes. */
export function packBatches<T extends { readonly size: number }>(items: readonly T[], maxCount: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  const packer = new BatchPacker<T>(maxCount, maxBytes, (batch) => batches.push(batch));
  for (const item of items) packer.push(item);
  packer.flush();
  return batches;
}
