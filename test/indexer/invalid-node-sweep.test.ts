/**
 * A node that exists in the table but that the notifier cannot describe (an invalid field: its
 * records are quarantined) gets no resync notification: the run reports it and does not mark
 * it. So a consumer's sweep drops it, as it drops a node deleted while it was not listening.
 * What must hold: it is not lost for good. The write that repairs it is notified in full state
 * (a MODIFY whose old image was invalid), which brings it back after the sweep, and the sweep's
 * watermark does not refuse that repair (it is newer than T).
 */
import { describe, expect, it } from 'vitest';
import { isLive } from '../../functions/indexer/apply.js';
import { ATTR } from '../../functions/indexer/indexer-table.js';
import { readMessage } from '../../functions/indexer/notification.js';
import { ReadModel } from '../../functions/indexer/read-model.js';
import { RESYNC_MARKER_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { dataJsonOf, runEvent, SimulatedTable, uuidOf } from './history.js';
import { nodeImage } from '../support/records.js';

const RUN = '00000000-0000-4000-8000-00000000c0de';

describe('a live node the notifier cannot describe, and a resync sweep', () => {
  it('is dropped by the sweep (not refreshed), and its repair brings it back equal to the table', () => {
    const table = new SimulatedTable();
    const model = new ReadModel();
    const deliver = () => {
      for (const body of table.notifications.splice(0)) model.apply(readMessage(body));
    };
    const tick = () => table.tick(() => 0.5);
    // Two nodes, both delivered.
    table.put(nodeImage(1));
    tick();
    table.put(nodeImage(2));
    deliver();
    // Node 2 turns invalid: its record is quarantined, the consumer keeps its last valid state.
    tick();
    table.update(uuidOf(2), { vcpus: { N: '2.5' } });
    expect(table.quarantined).toBe(1);
    deliver();
    expect(isLive(model.nodes.get(uuidOf(2)))).toBe(true);

    // A resync: node 1 marked; node 2 reported invalid, not marked. Start, notification, end.
    table.clockMs += 60_000;
    const startedAt = table.now();
    tick();
    expect(table.writeMarker(uuidOf(1), RUN)).toBe(true);
    model.apply(readMessage(runEvent(RUN, 'start', startedAt)));
    deliver();
    model.apply(readMessage(runEvent(RUN, 'end', startedAt, 1)));
    expect(model.progress(RUN).swept).toBe(true);
    expect(model.sweeps.get(RUN)).toEqual([uuidOf(2)]);
    expect(isLive(model.nodes.get(uuidOf(2)))).toBe(false);

    // The repair (no watched field changes; the old image was invalid) is notified in full and applied.
    tick();
    table.update(uuidOf(2), { vcpus: { N: '8' } });
    expect(table.notifications).toHaveLength(1);
    deliver();
    const item = model.nodes.get(uuidOf(2));
    expect(isLive(item)).toBe(true);
    expect(item![ATTR.payload]!.S).toBe(dataJsonOf(table.items.get(uuidOf(2))!));
    expect(table.items.get(uuidOf(1))?.[RESYNC_MARKER_ATTRIBUTE]?.S).toBe(RUN);
  });
});
