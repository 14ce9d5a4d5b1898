/**
 * Where discarded batches are kept, behind one interface: the S3 on-failure bucket (the Lambda
 * function and the CLI) or a directory (the local pipeline). A redriven object is marked
 * done, never deleted, so an audit can follow it: in S3 with the object tag `redrive=done`
 * (the object itself is not rewritten, so its LastModified and its lifecycle expiry stay
 * Lambda's). An object the automatic redrive gave up on is tagged `redrive=parked`, with why
 * in `redrive-reason`.
 */
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';

export interface StoredObject {
  readonly key: string;
  readonly lastModified: Date | undefined;
}

export interface OnFailureStore {
  /** Where the objects live, for messages (`s3://bucket`, a directory path). */
  readonly location: string;
  /** Objects under `prefix` in key order, after `startAfter` when given. */
  list(opts?: { prefix?: string; startAfter?: string }): AsyncIterable<StoredObject>;
  /** The object's text, or undefined when it no longer exists (the bucket's retention ran out). */
  read(key: string): Promise<string | undefined>;
  /** The redrive mark of the object (`done`, `unreadable`), if any. */
  mark(key: string): Promise<string | undefined>;
  /** Marks the object; `reason` says why (kept with a `parked` mark). */
  setMark(key: string, mark: RedriveMark, reason?: string): Promise<void>;
}

/** `parked`: the automatic redrive gave up on the object after its last attempt (the CLI redrives it). */
export type RedriveMark = 'done' | 'unreadable' | 'parked';
/** The object tag holding the redrive mark. */
export const REDRIVE_TAG = 'redrive';
/** The object tag holding why the object was marked. */
export const REDRIVE_REASON_TAG = 'redrive-reason';

/**
 * `text` as an S3 tag value: at most 256 characters, of letters, digits, white space and
 * `+ - = . _ : / @` (S3 user guide, object-tagging; tag restrictions); anything else becomes a
 * space, and a longer text is cut.
 */
function tagValue(text: string): string {
  const allowed = text.replace(/[^\p{L}\p{N}\s+\-=._:/@]/gu, ' ').replace(/\s+/g, ' ').trim();
  return [...allowed].slice(0, 256).join('');
}

const isMissing = (error: unknown) => {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
};

/** The on-failure bucket. Needs s3:GetObject, s3:GetObjectTagging, s3:PutObjectTagging (and s3:ListBucket to list). */
export class S3OnFailureStore implements OnFailureStore {
  readonly location: string;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.location = `s3://${bucket}`;
  }

  async *list(opts: { prefix?: string; startAfter?: string } = {}): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      const out = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          ...(opts.prefix === undefined ? {} : { Prefix: opts.prefix }),
          ...(opts.startAfter === undefined || token !== undefined ? {} : { StartAfter: opts.startAfter }),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const o of out.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key, lastModified: o.LastModified };
      token = out.IsTruncated === true ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async read(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async mark(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key }));
      return out.TagSet?.find((t) => t.Key === REDRIVE_TAG)?.Value;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async setMark(key: string, mark: RedriveMark, reason?: string): Promise<void> {
    // Lambda writes no tags, so the tag set is ours to replace.
    const why = reason === undefined ? '' : tagValue(reason);
    await this.s3.send(
      new PutObjectTaggingCommand({
        Bucket: this.bucket,
        Key: key,
        Tagging: {
          TagSet: [
            { Key: REDRIVE_TAG, Value: mark },
            { Key: `${REDRIVE_TAG}-at`, Value: new Date().toISOString().replaceAll(':', '.') },
            ...(why === '' ? [] : [{ Key: REDRIVE_REASON_TAG, Value: why }]),
          ],
        },
      }),
    );
  }
}
