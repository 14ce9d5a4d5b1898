/** The S3 on-failure store on a mocked S3 client: listing across pages, reading, marks as an object tag. */
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, NoSuchKey, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { REDRIVE_REASON_TAG, REDRIVE_TAG, S3OnFailureStore } from '../../functions/redrive/on-failure-store.js';

describe('S3OnFailureStore', () => {
  it('lists every page under the prefix, resuming after a key', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const m = mockClient(s3);
    m.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({ Contents: [{ Key: 'aws/lambda/a' }, { Key: 'aws/lambda/b' }], IsTruncated: true, NextContinuationToken: 't1' });
    m.on(ListObjectsV2Command, { ContinuationToken: 't1' }).resolves({ Contents: [{ Key: 'aws/lambda/c' }], IsTruncated: false });
    const keys: string[] = [];
    for await (const o of new S3OnFailureStore(s3, 'b').list({ prefix: 'aws/lambda/', startAfter: 'aws/lambda/0' })) keys.push(o.key);
    expect(keys).toEqual(['aws/lambda/a', 'aws/lambda/b', 'aws/lambda/c']);
    const calls = m.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ Bucket: 'b', Prefix: 'aws/lambda/', StartAfter: 'aws/lambda/0' });
    // StartAfter only on the first page: the continuation token carries on from there.
    expect(calls[1]).toMatchObject({ Bucket: 'b', Prefix: 'aws/lambda/', ContinuationToken: 't1' });
    expect(calls[1]!.StartAfter).toBeUndefined();
  });

  it('reads an object, and answers undefined for one the lifecycle deleted', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const m = mockClient(s3);
    m.on(GetObjectCommand, { Key: 'here' }).resolves({ Body: { transformToString: async () => '{"payload":"x"}' } as never });
    m.on(GetObjectCommand, { Key: 'gone' }).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const store = new S3OnFailureStore(s3, 'b');
    expect(await store.read('here')).toBe('{"payload":"x"}');
    expect(await store.read('gone')).toBeUndefined();
  });

  it('marks with the redrive tag and reads the mark back from the tag set', async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const m = mockClient(s3);
    const tags: { Key: string; Value: string }[] = [];
    m.on(PutObjectTaggingCommand).callsFake((input: { Tagging: { TagSet: { Key: string; Value: string }[] } }) => {
      tags.splice(0, tags.length, ...input.Tagging.TagSet);
      return {};
    });
    m.on(GetObjectTaggingCommand).callsFake(() => ({ TagSet: [...tags] }));
    const store = new S3OnFailureStore(s3, 'b');
    expect(await store.mark('k')).toBeUndefined();
    await store.setMark('k', 'done');
    expect(tags.find((t) => t.Key === REDRIVE_TAG)?.Value).toBe('done');
    expect(await store.mark('k')).toBe('done');
  });

  it("parks with the reason in a tag S3 accepts: at most 256 characters of letters, digits, spaces and + - = . _ : / @", async () => {
    const s3 = new S3Client({ region: 'us-east-1' });
    const m = mockClient(s3);
    m.on(PutObjectTaggingCommand).resolves({});
    const reason = `not redriven after 16 attempts: records from sequence number 000000000000000001234 were neither published nor quarantined {"Code":"KmsDisabled"}\n${'é'.repeat(400)}`;
    await new S3OnFailureStore(s3, 'b').setMark('k', 'parked', reason);
    const tagSet = m.commandCalls(PutObjectTaggingCommand)[0]!.args[0].input.Tagging!.TagSet!;
    expect(tagSet.find((t) => t.Key === REDRIVE_TAG)?.Value).toBe('parked');
    const value = tagSet.find((t) => t.Key === REDRIVE_REASON_TAG)?.Value ?? '';
    expect(value).toMatch(/^[\p{L}\p{N}\s+\-=._:/@]{1,256}$/u);
    expect(value).toContain('not redriven after 16 attempts: records from sequence number 000000000000000001234 were neither published nor quarantined');
  });
});
