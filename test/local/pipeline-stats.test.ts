/** The local run's summary figures: the fraction of stream records notified. */
import { describe, expect, it } from 'vitest';
import { PipelineStats } from '../../local/pipeline-stats.js';
import type { DeliveredEvent } from '../../local/targets.js';
import type { LambdaStreamRecord } from '../../local/lambda-stream-record.js';

const event = (type: string) => ({ 'detail-type': type, detail: { change: {} } }) as unknown as DeliveredEvent;
const record = (seq: number) => ({ eventName: 'MODIFY', dynamodb: { SequenceNumber: String(seq), Keys: { uuid: { S: 'u' } } } }) as unknown as LambdaStreamRecord;

describe('the fraction of records notified', () => {
  it('is the notifications the bus received over the stream records, undefined before any record', () => {
    const stats = new PipelineStats();
    expect(stats.notifiedFraction()).toBeUndefined();
    stats.noteRecords([1, 2, 3, 4, 5, 6, 7, 8].map(record));
    for (const t of ['compute_node.create', 'compute_node.update', 'compute_node.update', 'compute_node.delete', 'resync.run']) stats.noteEvent(event(t), [], 0);
    expect(stats.notifiedFraction()).toBe(4 / 8);
  });
});
