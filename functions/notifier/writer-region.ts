/**
 * Notify only one region's writes (global tables). Every replica's stream carries every write,
 * so a notifier in each region would notify each change once per region. A writer that marks
 * its region in an attribute lets each region's notifier notify only its own region's writes:
 * this decides, per record, whose write it is.
 *
 * The deciding image is the one the record's write produced: the new image of an INSERT or a
 * MODIFY, the old image of a REMOVE (a delete writes no attribute, so the last writer's region
 * speaks for it, and the delete is notified by the region that notified the node's other changes).
 *
 * A record without a usable mark (the attribute absent, NULL, not a string, or empty) is
 * **notified**, as without the option, and counted (`UnmarkedWrites`). No region's notifier can
 * tell such a write is its own, so skipping it would skip it everywhere and lose the change, which
 * the notifier never does for a valid record; notifying it repeats it at worst, once per region
 * (each copy under its region's epoch: docs/cross-account.md says what that means for order).
 * A lost change cannot be noticed downstream; a repeat can, and the count shows the writer that
 * does not mark.
 */
import type { Image, StreamRecord } from './stream-record.js';

/** The configuration: which attribute carries the writer's region, and the region to notify. */
export interface WriterRegion {
  /** Attribute (top-level, a string) holding the region the item was written in. */
  readonly attribute: string;
  /** The region whose writes are notified (the function's own by default). */
  readonly region: string;
}

/** Records without a usable mark seen so far (the notifier reads and resets it per batch). */
export interface WriterRegionTally {
  unmarked: number;
}

/**
 * The per-record check for a configuration: undefined for a record to handle as usual, else the
 * other region that wrote it. Made once; per record it is one property read and a compare.
 */
export function createWriterRegionCheck(config: WriterRegion, tally?: WriterRegionTally): (record: StreamRecord) => string | undefined {
  const { attribute, region } = config;
  return (record) => {
    const d = record.dynamodb;
    const image: Image | undefined = record.eventName === 'REMOVE' ? d.OldImage : d.NewImage;
    // No image: left to the classifier, which reports it (or the stream's view type).
    if (image === undefined) return undefined;
    const value = image[attribute];
    const written = typeof value === 'object' && value !== null ? value.S : undefined;
    if (typeof written !== 'string' || written === '') {
      if (tally !== undefined) tally.unmarked++;
      return undefined;
    }
    return written === region ? undefined : written;
  };
}
