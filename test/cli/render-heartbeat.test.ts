/**
 * `cli render` on a record of the reserved heartbeat item: the heartbeat entry it would put on
 * the bus (one JSON line, detail-type hypervisor_notifier.heartbeat), counted apart from the
 * notifications; nothing rejected.
 */
import { describe, expect, it } from 'vitest';
import { renderCommand } from '../../cli/render.js';
import { HEARTBEAT_DETAIL_TYPE, HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { insert, nodeImage } from '../support/records.js';

describe('render and the heartbeat item', () => {
  it('prints the heartbeat entry and counts it as a heartbeat', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const beat = insert({ uuid: { S: HEARTBEAT_ITEM_KEY }, [HEARTBEAT_WRITTEN_AT_ATTRIBUTE]: { S: '2026-12-04T19:02:00Z' } });
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), readStdin: async () => JSON.stringify({ Records: [beat, insert(nodeImage(1))] }) };
    expect(await renderCommand(['-'], io, {})).toBe(0);
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l) as { DetailType: string; Detail: string });
    expect(lines.map((l) => l.DetailType)).toEqual([HEARTBEAT_DETAIL_TYPE, 'compute_node.create']);
    expect(JSON.parse(lines[0]!.Detail)).toMatchObject({ written_at: '2026-12-04T19:02:00.000Z', sequence_number: beat.dynamodb.SequenceNumber });
    expect(err.join('')).toContain('2 records in, 1 notifications out, 1 heartbeats out, 0 suppressed, 0 ignored, 0 rejected');
  });
});
