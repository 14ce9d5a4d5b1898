/**
 * What `npm start` (and the soak) know of the heartbeats the bus received: the last one, its
 * lag from write to the bus, and whether one arrived within a window ("stalled" otherwise).
 */
import { HEARTBEAT_DETAIL_TYPE, HeartbeatDetail } from '../functions/notifier/contract/index.js';

export interface HeartbeatSeen {
  /** Epoch ms the bus received it. */
  readonly receivedAt: number;
  /** Write → bus, ms; undefined when the heartbeat carried no written time. */
  readonly lagMs: number | undefined;
  readonly detail: HeartbeatDetail;
}

export class HeartbeatMonitor {
  private lastSeen: HeartbeatSeen | undefined;
  private seen = 0;

  /** Takes any event the bus received; returns true when it was a heartbeat (counted), false otherwise. */
  note(event: { 'detail-type': string; detail: unknown }, receivedAt: number): boolean {
    if (event['detail-type'] !== HEARTBEAT_DETAIL_TYPE) return false;
    const parsed = HeartbeatDetail.safeParse(event.detail);
    if (!parsed.success) return false;
    const written = parsed.data.written_at === null ? undefined : Date.parse(parsed.data.written_at);
    this.lastSeen = { receivedAt, lagMs: written === undefined ? undefined : receivedAt - written, detail: parsed.data };
    this.seen++;
    return true;
  }

  get last(): HeartbeatSeen | undefined {
    return this.lastSeen;
  }

  get count(): number {
    return this.seen;
  }

  /** No heartbeat received in the last `windowMs` (none at all counts as stalled). */
  stalled(now: number, windowMs: number): boolean {
    return this.lastSeen === undefined || now - this.lastSeen.receivedAt > windowMs;
  }

  /** `heartbeat lag 412 ms, last 3 s ago (12 seen)`, or `heartbeat: none yet`. */
  describe(now: number): string {
    const l = this.lastSeen;
    if (l === undefined) return 'heartbeat: none yet';
    const lag = l.lagMs === undefined ? 'lag –' : `lag ${Math.round(l.lagMs)} ms`;
    return `heartbeat ${lag}, last ${Math.round((now - l.receivedAt) / 1000)} s ago (${this.seen} seen)`;
  }
}
