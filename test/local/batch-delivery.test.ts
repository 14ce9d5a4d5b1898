/**
 * The event source mapping's handling of one batch (unit level, no DynamoDB): checkpoint at
 * the reported item, bisect on error, bounded retries, on-failure records, order.
 */
import { describe, expect, it } from 'vitest';
import { deliverBatch, type OnFailureRecord, type StreamHandler } from '../../local/batch-delivery.js';
import type { LambdaStreamRecord } from '../../local/lambda-stream-record.js';
import { fakeRecord, seqOf } from './support.js';

const batch = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => fakeRecord(from + i));
const noSleep = async () => {};

function recorder(respond: (records: LambdaStreamRecord[], call: number) => ReturnType<StreamHandler>) {
  const calls: number[][] = [];
  const handler: StreamHandler = async (event) => {
    calls.push(event.Records.map(seqOf));
    return respond(event.Records, calls.length);
  };
  return { calls, handler };
}

function options(handler: StreamHandler, failures: OnFailureRecord[], extra: Partial<Parameters<typeof deliverBatch>[1]> = {}) {
  return { handler, onFailure: (f: OnFailureRecord) => void failures.push(f), shardId: 'shard-1', streamArn: 'arn:stream', sleep: noSleep, ...extra };
}

describe('deliverBatch', () => {
  it('invokes once with the whole batch when the handler reports no failure', async () => {
    const { calls, handler } = recorder(async () => ({ batchItemFailures: [] }));
    const failures: OnFailureRecord[] = [];
    const result = await deliverBatch(batch(1, 5), options(handler, failures));
    expect(calls).toEqual([[1, 2, 3, 4, 5]]);
    expect(result).toEqual({ invocations: 1, delivered: 5, failed: 0 });
    expect(failures).toEqual([]);
  });

  it('checkpoints at the lowest reported item and re-delivers from it', async () => {
    // First call: records 4 and 3 fail (reported out of order); then everything succeeds.
    const { calls, handler } = recorder(async (records, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: records[3]!.dynamodb.SequenceNumber }, { itemIdentifier: records[2]!.dynamodb.SequenceNumber }] } : { batchItemFailures: [] },
    );
    const failures: OnFailureRecord[] = [];
    const result = await deliverBatch(batch(1, 6), options(handler, failures));
    expect(calls).toEqual([
      [1, 2, 3, 4, 5, 6],
      [3, 4, 5, 6],
    ]);
    expect(result).toEqual({ invocations: 2, delivered: 6, failed: 0 });
  });

  it('gives up on the records from the reported item after the retries, and writes them to the on-failure destination', async () => {
    const { calls, handler } = recorder(async (records) => ({
      batchItemFailures: records.filter((r) => seqOf(r) === 4).map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })),
    }));
    const failures: OnFailureRecord[] = [];
    const result = await deliverBatch(batch(1, 6), options(handler, failures, { maxRetries: 2 }));
    // 1 invocation + 2 retries from record 4.
    expect(calls).toEqual([
      [1, 2, 3, 4, 5, 6],
      [4, 5, 6],
      [4, 5, 6],
    ]);
    expect(result).toEqual({ invocations: 3, delivered: 3, failed: 3 });
    expect(failures).toHaveLength(1);
    const f = failures[0]!;
    expect(f.records.map(seqOf)).toEqual([4, 5, 6]);
    expect(f.DDBStreamBatchInfo).toMatchObject({ shardId: 'shard-1', streamArn: 'arn:stream', batchSize: 3, startSequenceNumber: '000000000000000000004', endSequenceNumber: '000000000000000000006' });
    expect(f.requestContext).toEqual({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 });
    expect(f.responseContext.batchItemFailure).toBe('000000000000000000004');
  });

  it('bisects a batch when the handler throws, isolating the poison record, keeping order', async () => {
    const { calls, handler } = recorder(async (records) => {
      if (records.some((r) => seqOf(r) === 3)) throw new Error('poison record 3');
      return { batchItemFailures: [] };
    });
    const failures: OnFailureRecord[] = [];
    const result = await deliverBatch(batch(1, 8), options(handler, failures, { maxRetries: 1 }));
    expect(calls).toEqual([
      [1, 2, 3, 4, 5, 6, 7, 8],
      [1, 2, 3, 4],
      [1, 2],
      [3, 4],
      [3],
      [3], // its one retry
      [4],
      [5, 6, 7, 8],
    ]);
    expect(result.failed).toBe(1);
    expect(result.delivered).toBe(7);
    expect(failures.map((f) => f.records.map(seqOf))).toEqual([[3]]);
    expect(failures[0]!.responseContext.functionError).toContain('poison record 3');
  });

  it('without bisect, retries the whole batch and then gives all of it up', async () => {
    const { calls, handler } = recorder(async () => {
      throw new Error('down');
    });
    const failures: OnFailureRecord[] = [];
    const result = await deliverBatch(batch(1, 4), options(handler, failures, { maxRetries: 2, bisectOnError: false }));
    expect(calls).toHaveLength(3);
    expect(result).toEqual({ invocations: 3, delivered: 0, failed: 4 });
    expect(failures.map((f) => f.records.map(seqOf))).toEqual([[1, 2, 3, 4]]);
  });

  it('treats an empty, null or unknown itemIdentifier as a failure of the whole batch', async () => {
    for (const bad of ['', null, '999999999999999999999']) {
      const { calls, handler } = recorder(async (_records, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: bad }] } : { batchItemFailures: [] }));
      const failures: OnFailureRecord[] = [];
      await deliverBatch(batch(1, 2), options(handler, failures, { bisectOnError: false }));
      // The whole batch again, not a checkpoint somewhere inside it.
      expect(calls).toEqual([
        [1, 2],
        [1, 2],
      ]);
    }
  });

  it('treats a handler that does not settle in time as a function error', async () => {
    let first = true;
    const handler: StreamHandler = () => {
      if (first) {
        first = false;
        return new Promise(() => {}); // never settles
      }
      return Promise.resolve({ batchItemFailures: [] });
    };
    const failures: OnFailureRecord[] = [];
    const result = await deliverBatch(batch(1, 1), options(handler, failures, { timeoutMs: 20 }));
    expect(result).toEqual({ invocations: 2, delivered: 1, failed: 0 });
  });

  it('accepts a handler that returns nothing as success (no ReportBatchItemFailures answer)', async () => {
    const { calls, handler } = recorder(async () => undefined);
    const result = await deliverBatch(batch(1, 3), options(handler, []));
    expect(calls).toHaveLength(1);
    expect(result.delivered).toBe(3);
  });

  it('waits between retries with growing delays', async () => {
    const slept: number[] = [];
    const { handler } = recorder(async () => {
      throw new Error('down');
    });
    await deliverBatch(batch(1, 1), options(handler, [], { maxRetries: 3, sleep: async (ms: number) => void slept.push(ms) }));
    expect(slept).toEqual([100, 200, 400]);
  });
});
