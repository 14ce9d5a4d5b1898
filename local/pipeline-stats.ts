/**
 * The running summary of a local run: writes, stream records, notifications by type,
 * updates suppressed, records quarantined, records given up on, and the latency from a
 * table write to the bus's delivery of its notification (p50/p99).
 *
 * Latency pairs a delivered notification with its write through the stream sequence
 * number (`detail.change.sequence_number`): for an INSERT or MODIFY the write time is the
 * image's `updated_at` (the simulator sets it when it writes); for a REMOVE it is the time
 * the simulator sent the DeleteItem.
 */
import type { EventType } from '../functions/notifier/contract/index.js';
import type { LambdaStreamRecord } from './lambda-stream-record.js';
import type { DeliveredEvent } from './targets.js';
import type { FleetWrite } from './fleet-simulator.js';

const MAX_SAMPLES = 20_000;

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export class PipelineStats {
  writes = 0;
  streamRecords = 0;
  readonly notifications: Record<EventType, number> = { 'compute_node.create': 0, 'compute_node.update': 0, 'compute_node.delete': 0 };
  routed = 0;
  quarantined = 0;
  onFailure = 0;
  private readonly writtenAt = new Map<string, number>();
  private readonly deleteAt = new Map<string, number>();
  private readonly latencies: number[] = [];

  noteWrite(write: FleetWrite): void {
    this.writes++;
    if (write.kind === 'hard_delete') this.deleteAt.set(write.uuid, write.at);
  }

  noteRecords(records: readonly LambdaStreamRecord[]): void {
    this.streamRecords += records.length;
    for (const r of records) {
      const updated = r.dynamodb.NewImage?.updated_at?.S;
      const uuid = r.dynamodb.Keys?.uuid?.S;
      let at: number | undefined;
      if (r.eventName === 'REMOVE' && uuid !== undefined) at = this.deleteAt.get(uuid);
      else if (updated !== undefined) at = Date.parse(updated);
      if (at !== undefined && !Number.isNaN(at)) this.writtenAt.set(r.dynamodb.SequenceNumber, at);
    }
  }

  noteEvent(event: DeliveredEvent, matchedRules: readonly string[], at: number): void {
    const type = event['detail-type'] as EventType;
    if (type in this.notifications) this.notifications[type]++;
    if (matchedRules.length > 0) this.routed++;
    const change = event.detail.change as { sequence_number?: unknown } | undefined;
    const seq = typeof change?.sequence_number === 'string' ? change.sequence_number : undefined;
    const written = seq === undefined ? undefined : this.writtenAt.get(seq);
    if (written !== undefined) {
      this.writtenAt.delete(seq!);
      this.latencies.push(at - written);
      if (this.latencies.length > MAX_SAMPLES) this.latencies.splice(0, this.latencies.length - MAX_SAMPLES);
    }
  }

  /** Notifications the bus received per stream record (what the bill follows), or undefined before any record. */
  notifiedFraction(): number | undefined {
    if (this.streamRecords === 0) return undefined;
    const n = this.notifications;
    return (n['compute_node.create'] + n['compute_node.update'] + n['compute_node.delete']) / this.streamRecords;
  }

  latency(): { p50: number | undefined; p99: number | undefined; samples: number } {
    return { p50: percentile(this.latencies, 50), p99: percentile(this.latencies, 99), samples: this.latencies.length };
  }
}
