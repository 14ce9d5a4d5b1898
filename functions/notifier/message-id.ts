/**
 * `message_id`: Nova draws a random UUID; we derive a name-based UUID (v5) from the stream
 * record's identity, so a retried record yields the same id and consumers can drop the
 * duplicates an at-least-once bus delivers.
 */
import { v5 as uuidv5 } from 'uuid';

// A fixed namespace for this product's message ids (itself a random v4, chosen once).
const NAMESPACE = new Uint8Array([
  0x6f, 0x1c, 0x3b, 0x52, 0x9a, 0x0e, 0x4d, 0x7b, 0xa6, 0x21, 0x5e, 0x93, 0xc4, 0x7d, 0x08, 0xb1,
]);

/** The message id of the notification a record's change yields (`origin` keeps resync ids apart). */
export function messageId(streamIdentity: string, sequenceNumber: string, origin: string): string {
  return uuidv5(`${origin}:${streamIdentity}#${sequenceNumber}`, NAMESPACE);
}
