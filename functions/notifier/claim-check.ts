/**
 * The quarantine's claim check: a quarantine message too large for SQS (1 MiB) is stored whole
 * in S3 and the queue gets a pointer to it, with what an operator counts by (reason, field,
 * rule, the record's identity) still in the message. This is the pattern of AWS's SQS
 * Extended Client Libraries (SQS developer guide, "Managing large Amazon SQS messages with
 * Extended Client Library and Amazon S3"), which exist for Java and Python only; the pointer
 * here is our own, so `quarantine summary` reads it without S3.
 *
 * The object's key is the SHA-256 of its content: a record quarantined again (a retried
 * invocation, a redrive) overwrites the same object with the same bytes.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

/** Where claim-checked quarantine messages are kept in the bucket (apart from Lambda's `aws/lambda/`). */
export const CLAIM_CHECK_PREFIX = 'quarantine/';

/** The pointer a quarantine message carries instead of its record. */
export const ClaimCheckPointer = z.object({
  bucket: z.string().check(z.minLength(1)),
  key: z.string().check(z.minLength(1)),
  /** UTF-8 bytes of the stored message. */
  bytes: z.number().check(z.int(), z.nonnegative()),
  /** SHA-256 (hex) of the stored message. */
  sha256: z.string(),
});
export type ClaimCheckPointer = z.infer<typeof ClaimCheckPointer>;

/** Where the oversized messages go: the S3 bucket (functions, CLI) or a stand-in. */
export interface ClaimCheckStore {
  /** The bucket a pointer names. */
  readonly bucket: string;
  put(key: string, body: string): Promise<void>;
  /** The object's text, or undefined when it no longer exists (the bucket's lifecycle removed it). */
  get(key: string): Promise<string | undefined>;
}

/** Needs s3:PutObject on `quarantine/*` (the notifier, the redrive) or s3:GetObject (the CLI). */
export class S3ClaimCheckStore implements ClaimCheckStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json; charset=utf-8' }));
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw error;
    }
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The pointer to `body` once stored under its digest. */
export function claimCheckPointer(bucket: string, body: string): ClaimCheckPointer {
  const digest = sha256(body);
  return { bucket, key: `${CLAIM_CHECK_PREFIX}${digest}.json`, bytes: Buffer.byteLength(body, 'utf8'), sha256: digest };
}

const WithPointer = z.object({ claimCheck: ClaimCheckPointer });

export type ClaimCheckRead =
  /** The message carries its record itself. */
  | { readonly kind: 'inline' }
  /** The stored message, as it would have been sent. */
  | { readonly kind: 'message'; readonly message: unknown; readonly pointer: ClaimCheckPointer }
  /** The pointer leads nowhere usable: why, naming the object. */
  | { readonly kind: 'unreadable'; readonly reason: string; readonly pointer: ClaimCheckPointer };

/**
 * Follows a quarantine message's pointer, if it has one. The object must match the pointer
 * (size and digest): anything else is not taken for the record.
 */
export async function readClaimCheck(message: unknown, store: Pick<ClaimCheckStore, 'get'> & { readonly bucket?: string }): Promise<ClaimCheckRead> {
  const parsed = WithPointer.safeParse(message);
  if (!parsed.success) return { kind: 'inline' };
  const pointer = parsed.data.claimCheck;
  const where = `s3://${pointer.bucket}/${pointer.key}`;
  if (store.bucket !== undefined && store.bucket !== pointer.bucket) return { kind: 'unreadable', reason: `${where}: not the bucket this reads (${store.bucket})`, pointer };
  let text: string | undefined;
  try {
    text = await store.get(pointer.key);
  } catch (error) {
    return { kind: 'unreadable', reason: `${where}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, pointer };
  }
  if (text === undefined) return { kind: 'unreadable', reason: `${where}: no such object (the bucket's lifecycle may have removed it)`, pointer };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes !== pointer.bytes || sha256(text) !== pointer.sha256) {
    return { kind: 'unreadable', reason: `${where}: ${bytes} bytes with another digest than the pointer's (${pointer.bytes} bytes, sha256 ${pointer.sha256})`, pointer };
  }
  try {
    return { kind: 'message', message: JSON.parse(text) as unknown, pointer };
  } catch (error) {
    return { kind: 'unreadable', reason: `${where}: not JSON: ${(error as Error).message}`, pointer };
  }
}
