/**
 * The edge: a DynamoDB stream record as Lambda delivers it, validated with zod before
 * anything reads it. Images stay as raw DynamoDB attribute maps; the compute node rules
 * are applied to them field by field (`compute-node-image.ts`), so one bad attribute is
 * reported by name instead of failing the whole record shape.
 */
import * as z from 'zod/mini';
import './zod-messages.js';

/** A DynamoDB attribute value (`{"N": "8"}`, `{"S": "x"}`, `{"NULL": true}`, ...). */
export type AttributeValue = Record<string, unknown>;
export type Image = Record<string, AttributeValue>;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// An image is checked as an object only: its attributes are checked where they are read
// (attribute-codecs.ts), each against its field's rule, so an error names the field.
// Walking all attributes here too would double the per-record cost for nothing.
export const Image = z.custom<Image>(isPlainObject, 'must be a DynamoDB image (a map of attribute values)');

/**
 * 10000-01-01T00:00:00Z in epoch seconds: the first instant with a five-digit year. Nova's
 * `timestamp` is Python's `str(datetime)`, whose years end at 9999 (datetime.MAXYEAR), and
 * PutEvents' `Time` is an RFC 3339 timestamp, whose years have four digits; a change time at
 * or after this can be neither.
 */
export const MAX_CHANGE_TIME_SECONDS = 253_402_300_800;
const CHANGE_TIME_RULE = 'must be epoch seconds before 10000-01-01T00:00:00Z (a Nova timestamp and a PutEvents Time have four-digit years)';

export const StreamRecord = z.object({
  eventID: z.string().check(z.minLength(1)),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  eventSourceARN: z.optional(z.string()),
  userIdentity: z.optional(z.partial(z.object({ type: z.string(), principalId: z.string() }))),
  dynamodb: z.object({
    // Epoch seconds; Lambda sends a number (DynamoDB Local's SDK form is a Date: the local poller converts).
    // It becomes the entry's Time and the detail's timestamp: checked here, at the edge, so a value
    // neither can hold is quarantined naming the field instead of failing a whole PutEvents request.
    ApproximateCreationDateTime: z.number().check(
      z.gte(0, { error: 'must be epoch seconds at or after 1970-01-01T00:00:00Z' }),
      z.lt(MAX_CHANGE_TIME_SECONDS, { error: CHANGE_TIME_RULE }),
    ),
    Keys: z.optional(Image),
    NewImage: z.optional(Image),
    OldImage: z.optional(Image),
    SequenceNumber: z.string().check(z.regex(/^\d{1,64}$/, 'must be a decimal sequence number')),
    StreamViewType: z.optional(z.enum(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'])),
  }),
});
export type StreamRecord = z.infer<typeof StreamRecord>;

export const StreamEvent = z.object({ Records: z.array(z.unknown()) });

/** True for the REMOVE records that DynamoDB's TTL writes (as opposed to a DeleteItem). */
export function isTtlExpiry(record: StreamRecord): boolean {
  return record.userIdentity?.type === 'Service' && record.userIdentity.principalId === 'dynamodb.amazonaws.com';
}
