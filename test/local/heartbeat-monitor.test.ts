/**
 * The local view of heartbeats (`npm start`'s live line, the soak's stalled check): only
 * `hypervisor_notifier.heartbeat` events count, the lag runs from the written time to the bus,
 * and "stalled" means none within the window.
 */
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_DETAIL_TYPE } from '../../functions/notifier/contract/index.js';
import { HeartbeatMonitor } from '../../local/heartbeat-monitor.js';

const detail = (writtenAt: string | null) => ({
  message_id: '2d544c1b-7834-540a-903f-e8029dd44fe5',
  written_at: writtenAt,
  handled_at: '2026-12-04T19:02:00.300Z',
  epoch: '2026-12-04T00:00:00.000',
  sequence_number: '100',
  lag_ms: writtenAt === null ? null : 300,
});

describe('HeartbeatMonitor', () => {
  it('counts heartbeats only, with the lag from the written time to the bus', () => {
    const m = new HeartbeatMonitor();
    const at = Date.parse('2026-12-04T19:02:00.450Z');
    expect(m.note({ 'detail-type': 'compute_node.update', detail: {} }, at)).toBe(false);
    expect(m.note({ 'detail-type': HEARTBEAT_DETAIL_TYPE, detail: { written_at: 'x' } }, at)).toBe(false);
    expect(m.stalled(at, 10_000)).toBe(true);
    expect(m.describe(at)).toBe('heartbeat: none yet');
    expect(m.note({ 'detail-type': HEARTBEAT_DETAIL_TYPE, detail: detail('2026-12-04T19:02:00.000Z') }, at)).toBe(true);
    expect(m.last?.lagMs).toBe(450);
    expect(m.describe(at + 3_000)).toBe('heartbeat lag 450 ms, last 3 s ago (1 seen)');
    expect(m.note({ 'detail-type': HEARTBEAT_DETAIL_TYPE, detail: detail(null) }, at + 1)).toBe(true);
    expect(m.last?.lagMs).toBeUndefined();
    expect(m.count).toBe(2);
  });

  it('is stalled when the last heartbeat is older than the window, and clears with the next one', () => {
    const m = new HeartbeatMonitor();
    m.note({ 'detail-type': HEARTBEAT_DETAIL_TYPE, detail: detail('2026-12-04T19:02:00.000Z') }, 1_000_000);
    expect(m.stalled(1_010_000, 10_000)).toBe(false);
    expect(m.stalled(1_010_001, 10_000)).toBe(true);
    m.note({ 'detail-type': HEARTBEAT_DETAIL_TYPE, detail: detail('2026-12-04T19:02:05.000Z') }, 1_010_500);
    expect(m.stalled(1_010_600, 10_000)).toBe(false);
  });
});
