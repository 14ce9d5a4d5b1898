/**
 * The creation time of each record of a local stream, to the millisecond, fixed the first
 * time the record is seen and the same on every later read.
 *
 * DynamoDB Local truncates `ApproximateCreationDateTime` to the minute; AWS gives the write
 * time in whole seconds, and the same value every time a record is read. A resync sweep and the
 * soak's checker need better than a minute, so the local stream poller follows each shard's tip
 * on its own (no delivery work, so it keeps close to the writers however far behind the
 * delivery is) and notes here when each record first appeared. The stamp is kept inside the
 * minute DynamoDB Local gives the record, the one bound known to hold: a record seen late
 * (every reader behind) gets the end of its minute, never a time after it.
 */
import type { _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';

/** DynamoDB Local's creation times are whole minutes. */
const GRANULARITY_MS = 60_000;
/** How long a stamp is kept: a stream keeps its records for 24 hours (DynamoDB Streams). */
const KEEP_MS = 25 * 3600_000;

function creationMs(record: SdkStreamRecord): number | undefined {
  const value: unknown = record.dynamodb?.ApproximateCreationDateTime;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export class StreamCreationTimes {
  /** Sequence number → stamp (epoch ms), in the order first seen, so the oldest are pruned first. */
  private readonly stamps = new Map<string, { readonly ms: number; readonly seenAt: number }>();

  /**
   * The record's stamp (epoch ms): the one it was given when first seen, or, when it is seen now
   * for the first time, `seenAt` kept inside the record's minute. Undefined for a record with
   * no sequence number (nothing to remember it by).
   */
  note(record: SdkStreamRecord, seenAt: number): number | undefined {
    const seq = record.dynamodb?.SequenceNumber;
    if (seq === undefined) return undefined;
    const known = this.stamps.get(seq);
    if (known !== undefined) return known.ms;
    const minute = creationMs(record);
    const ms = minute === undefined ? seenAt : Math.min(Math.max(seenAt, minute), minute + GRANULARITY_MS - 1);
    this.stamps.set(seq, { ms, seenAt });
    this.prune(seenAt);
    return ms;
  }

  /** Records stamped so far (and not yet pruned). */
  get size(): number {
    return this.stamps.size;
  }

  private prune(now: number): void {
    for (const [seq, { seenAt }] of this.stamps) {
      if (now - seenAt <= KEEP_MS) return;
      this.stamps.delete(seq);
    }
  }
}
