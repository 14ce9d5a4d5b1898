/**
 * The reference indexer's read model in memory: nodes (uuid → item, as the DynamoDB store
 * keeps them) and resync runs' progress, with the store's rules (apply.ts, resync-sweep.ts).
 * The property tests check the DynamoDB store against it and it against the table.
 */
import { applyToModel, isLive, type ApplyOutcome, type Item } from './apply.js';
import type { HeartbeatMessage, IndexerNotification, ResyncRunEvent, SweepContinuation } from './notification.js';
import { isSwept, stampedItem, sweepThreshold, sweptItem, type RunProgress } from './resync-sweep.js';

interface RunState {
  seenNodes: Set<string>;
  minTimestamp?: string;
  refreshed?: number;
  startedAt?: string;
  swept: boolean;
}

export type MessageOutcome = ApplyOutcome | 'run_noted' | 'swept';

export class ReadModel {
  readonly nodes = new Map<string, Item>();
  private readonly runs = new Map<string, RunState>();
  /** Nodes each sweep turned into tombstones, by run. */
  readonly sweeps = new Map<string, string[]>();
  /** The greatest threshold of the sweeps so far: older notifications of nodes not held are stale. */
  watermark: string | undefined;

  private run(id: string): RunState {
    let r = this.runs.get(id);
    if (r === undefined) this.runs.set(id, (r = { seenNodes: new Set(), swept: false }));
    return r;
  }

  progress(id: string): RunProgress {
    const r = this.run(id);
    return {
      seen: r.seenNodes.size,
      swept: r.swept,
      ...(r.minTimestamp === undefined ? {} : { minTimestamp: r.minTimestamp }),
      ...(r.refreshed === undefined ? {} : { refreshed: r.refreshed }),
      ...(r.startedAt === undefined ? {} : { startedAt: r.startedAt }),
    };
  }

  /** Applies a notification or a run's control event; sweeps when the run becomes ready. */
  apply(m: IndexerNotification | ResyncRunEvent | SweepContinuation | HeartbeatMessage): MessageOutcome {
    // The model sweeps at once, so it never pauses and never needs a continuation.
    if (m.kind === 'sweep') return 'run_noted';
    // A heartbeat changes no node (the real indexer records it apart, heartbeat-store.ts).
    if (m.kind === 'heartbeat') return 'run_noted';
    if (m.kind === 'resync_run') {
      const r = this.run(m.runId);
      if (r.startedAt === undefined || m.phase === 'end') r.startedAt = m.startedAt;
      if (m.phase === 'end') r.refreshed = m.refreshed;
      return this.maybeSweep(m.runId) ? 'swept' : 'run_noted';
    }
    const outcome = applyToModel(this.nodes, m, this.watermark);
    if (m.resyncRun !== null && m.origin === 'resync') {
      const r = this.run(m.resyncRun);
      r.seenNodes.add(m.uuid);
      if (r.minTimestamp === undefined || m.timestampKey < r.minTimestamp) r.minTimestamp = m.timestampKey;
      this.maybeSweep(m.resyncRun);
    }
    return outcome;
  }

  private maybeSweep(runId: string): boolean {
    const threshold = sweepThreshold(this.progress(runId));
    if (threshold === undefined) return false;
    if (this.watermark === undefined || this.watermark < threshold) this.watermark = threshold;
    const swept: string[] = [];
    for (const [uuid, item] of this.nodes) {
      if (isSwept(item, runId, threshold)) {
        this.nodes.set(uuid, sweptItem(item, runId, threshold));
        swept.push(uuid);
      } else if (!isLive(item)) {
        this.nodes.set(uuid, stampedItem(item, threshold));
      }
    }
    this.run(runId).swept = true;
    this.sweeps.set(runId, swept);
    return true;
  }
}
