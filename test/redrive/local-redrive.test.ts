/**
 * The automatic redrive in the local pipeline (DynamoDB Local, the poller, the real notifier):
 * batches the mapping gives up on while the bus refuses are kept in Lambda's S3 format, tried
 * with back-off, and published once the bus recovers; each object is marked done, not deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOnFailureObject } from '../../functions/redrive/on-failure-record.js';
import { busFaults, FaultLog, FaultWindow, seededRandom } from '../../local/faults.js';
import { startFaultPipeline, type FaultPipeline } from '../faults/pipeline-support.js';
import { nodeItem, waitUntil } from '../faults/support.js';

let f: FaultPipeline;
beforeAll(async () => {
  f = await startFaultPipeline({ batchSize: 10, maxRetries: 1, timeoutMs: 2_000, redrive: { baseDelaySeconds: 1, maxDelaySeconds: 2 } });
});
afterAll(async () => {
  await f?.stop();
});

describe('local pipeline redrive', () => {
  it('keeps given-up batches where the redrive finds them, backs off while the bus refuses, and publishes them when it recovers', async () => {
    const redrive = f.pipeline.redrive!;
    const outage = new FaultWindow();
    outage.set(true);
    const log = new FaultLog();
    f.pipeline.eventBus.faults = busFaults({ window: outage, internalErrors: 1, random: seededRandom(3), log });
    for (let n = 1; n <= 6; n++) await f.writer.put(nodeItem(n));

    await waitUntil(() => redrive.stats.kept > 0 && redrive.stats.retries >= 2, 'a kept batch and two refused redrive attempts', 60_000);
    expect(f.delivered).toEqual([]);
    const keys: string[] = [];
    for await (const o of redrive.store.list()) keys.push(o.key);
    expect(keys.length).toBe(redrive.stats.kept);
    expect(keys.every((k) => k.startsWith('aws/lambda/local-mapping/'))).toBe(true);
    // Lambda's S3 format: the records in `payload`, as escaped JSON; not marked yet.
    const text = (await redrive.store.read(keys[0]!))!;
    expect(typeof (JSON.parse(text) as { payload: unknown }).payload).toBe('string');
    expect(parseOnFailureObject(text).records.length).toBeGreaterThan(0);
    expect(await redrive.store.mark(keys[0]!)).toBeUndefined();

    outage.set(false);
    const s = () => f.pipeline.poller.stats;
    await waitUntil(() => s().delivered + s().failed === s().records && s().records >= 6 && redrive.idle(), 'the stream and the redrive to finish', 60_000);
    for (const key of keys) expect(await redrive.store.mark(key)).toBe('done');
    const kept = (await Promise.all(keys.map(async (k) => parseOnFailureObject((await redrive.store.read(k))!).records))).flat() as { dynamodb: { SequenceNumber: string } }[];
    const deliveredSeqs = new Set(f.delivered.map((e) => (e.detail.change as { sequence_number: string }).sequence_number));
    for (const r of kept) expect(deliveredSeqs.has(r.dynamodb.SequenceNumber), r.dynamodb.SequenceNumber).toBe(true);
    expect(redrive.stats.redrivenRecords).toBe(kept.length);
    expect(new Set(f.delivered.map((e) => e.detail.message_id)).size).toBe(6);
  });
});
