/** Helpers shared by the local pipeline tests. */
import type { LambdaStreamRecord } from '../../local/lambda-stream-record.js';

/** Polls `probe` until it returns a value (not undefined/false), or fails naming what it waited for. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A minimal Lambda-shaped stream record with sequence number `seq`. */
export function fakeRecord(seq: number, uuid = 'node-1'): LambdaStreamRecord {
  return {
    eventID: `event-${seq}`,
    eventName: 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
    dynamodb: {
      ApproximateCreationDateTime: 1_800_000_000,
      Keys: { uuid: { S: uuid } },
      SequenceNumber: String(seq).padStart(21, '0'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export const seqOf = (r: LambdaStreamRecord) => Number(r.dynamodb.SequenceNumber);
