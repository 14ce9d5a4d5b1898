/**
 * The redrive queue's messages: S3 event notifications for objects Lambda wrote to the
 * on-failure bucket, S3's test message, and the redrive's own re-sent messages (a message
 * about to outlive the queue's retention is sent again, carrying its attempt count).
 *
 * S3 event message structure (S3 user guide, "Event message structure",
 * notification-content-structure): `Records[].s3.bucket.name`, `Records[].s3.object.key`
 * URL-encoded as in an HTML form (a space is `+`), `eventName` `ObjectCreated:*`; when a
 * notification configuration is saved S3 sends `{"Event": "s3:TestEvent", ...}`.
 */
import * as z from 'zod/mini';

const S3Event = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      eventTime: z.optional(z.string()),
      s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }),
    }),
  ),
});
const TestEvent = z.object({ Event: z.literal('s3:TestEvent') });
const Resent = z.object({
  redrive: z.object({ bucket: z.string(), key: z.string(), attempts: z.number().check(z.int(), z.nonnegative()), firstSeen: z.string() }),
});

/** One object to redrive, as a message names it. */
export interface RedriveTarget {
  readonly bucket: string;
  readonly key: string;
  /** Failed attempts before this message (carried across re-sends). */
  readonly priorAttempts: number;
  /** When the object was first announced (ISO), if known. */
  readonly firstSeen: string | undefined;
}

export type RedriveMessage = { readonly kind: 'objects'; readonly targets: readonly RedriveTarget[] } | { readonly kind: 'test' } | { readonly kind: 'unknown'; readonly reason: string };

/** S3's form encoding of keys in event notifications. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** Reads a queue message body. */
export function parseRedriveMessage(body: string): RedriveMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unknown', reason: 'the body is not JSON' };
  }
  if (TestEvent.safeParse(json).success) return { kind: 'test' };
  const resent = Resent.safeParse(json);
  if (resent.success) {
    const r = resent.data.redrive;
    return { kind: 'objects', targets: [{ bucket: r.bucket, key: r.key, priorAttempts: r.attempts, firstSeen: r.firstSeen }] };
  }
  const event = S3Event.safeParse(json);
  if (!event.success) return { kind: 'unknown', reason: 'neither an S3 event notification nor a redrive message' };
  const targets = event.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => ({
    bucket: r.s3.bucket.name,
    key: decodeS3Key(r.s3.object.key),
    priorAttempts: 0,
    firstSeen: r.eventTime,
  }));
  return { kind: 'objects', targets };
}

/** The body of a re-sent message. */
export function resentBody(target: RedriveTarget, attempts: number): string {
  return JSON.stringify({ redrive: { bucket: target.bucket, key: target.key, attempts, firstSeen: target.firstSeen ?? new Date().toISOString() } });
}

/** The S3 event notification S3 would send for a new object (the local pipeline sends it). */
export function objectCreatedBody(bucket: string, key: string, at = new Date()): string {
  const encoded = encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
  return JSON.stringify({
    Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventTime: at.toISOString(), eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encoded } } }],
  });
}
