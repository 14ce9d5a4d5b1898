/**
 * PutEvents entry size as EventBridge counts it (CalculatePutEventsEntrySize): 14 bytes for
 * `Time`, plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each `Resources` item.
 * An entry, and the entries of one request together, must stay under 256 KB.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

export const MAX_ENTRIES_PER_REQUEST = 10;
/** "The total entry size must be less than 256KB." */
export const MAX_REQUEST_SIZE = 256 * 1024 - 1;

const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The size EventBridge charges an entry against its limits. */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  size += utf8Length(entry.Source ?? '') + utf8Length(entry.DetailType ?? '') + utf8Length(entry.Detail ?? '');
  for (const r of entry.Resources ?? []) size += utf8Length(r);
  return size;
}
