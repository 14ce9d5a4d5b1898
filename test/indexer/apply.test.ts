/**
 * The indexer's apply logic (pure): order keys, the item a notification makes, and the
 * convergence property: any shuffle and duplication of a node's notifications, interleaved
 * with resyncs taken at any point of its history, ends in the table's final state.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyToModel, decide, itemOf, isLive, type Item } from '../../functions/indexer/apply.js';
import { ATTR } from '../../functions/indexer/indexer-table.js';
import { readNotification, UnreadableNotificationError } from '../../functions/indexer/notification.js';
import { compareOrderKeys, orderKey } from '../../functions/indexer/order-key.js';
import { parseSortableInteger, sortableInteger } from '../../functions/indexer/sortable-integer.js';
import { parseExactJson, stringifyExactJson } from '../../functions/indexer/exact-json.js';
import { builder, dataJsonOf, envelope, isLiveImage, playHistory, scenario } from './history.js';
import { insert, modify, nodeImage } from '../support/records.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';

function delivered(record: ReturnType<typeof insert>): string {
  const o = builder(record as StreamRecord);
  if (o.kind !== 'notify') throw new Error(o.kind);
  return envelope(o.notification.eventType, o.notification.entry.Detail!);
}

describe('order key', () => {
  const stream = (seq: string) => orderKey({ origin: 'stream', sequenceNumber: seq, timestamp: '2026-01-01 00:00:00' });
  const resync = (timestamp: string) => orderKey({ origin: 'resync', sequenceNumber: '0', timestamp });

  it('orders stream keys as unbounded integers, leading zeros ignored', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.nat({ max: 5 }), (a, b, pad) => {
        const ka = stream('0'.repeat(pad) + a.toString());
        const kb = stream(b.toString());
        expect(Math.sign(compareOrderKeys(ka, kb))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });

  it('puts every resync below every stream notification, later resync reads above earlier ones', () => {
    expect(resync('2099-12-31 23:59:59.999999') < stream('0')).toBe(true);
    expect(resync('2026-11-26 19:06:02') < resync('2026-11-26 19:06:02.000001')).toBe(true);
    expect(resync('2026-11-26 19:06:02.999999') < resync('2026-11-26 19:06:03')).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.integer({ min: 0, max: 4_000_000_000_000 }), (a, b) => {
        const text = (ms: number) => {
          const d = new Date(ms);
          const base = d.toISOString().replace('T', ' ').slice(0, 19);
          return d.getUTCMilliseconds() === 0 ? base : `${base}.${String(d.getUTCMilliseconds() * 1000).padStart(6, '0')}`;
        };
        expect(Math.sign(compareOrderKeys(resync(text(a)), resync(text(b))))).toBe(Math.sign(a - b));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a sequence number that is not digits and a timestamp not in Nova format', () => {
    expect(() => stream('12a')).toThrow(/not a decimal digit string/);
    expect(() => resync('2026-11-26T19:06:02Z')).toThrow(/Nova's format/);
  });
});

describe('sortable integers and exact JSON', () => {
  it('sort like the integers they encode, and decode back, at any size', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }), fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }), (a, b) => {
        const ka = sortableInteger(a);
        const kb = sortableInteger(b);
        expect(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(a < b ? -1 : a > b ? 1 : 0);
        expect(parseSortableInteger(ka + '#some-uuid')).toBe(a);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps integers beyond 2^53 exact', () => {
    const text = '{"a":9007199254740993,"b":[-1e3,0.5,"x\\"y"],"c":null,"d":1000000000000000000000000000000}';
    expect(stringifyExactJson(parseExactJson(text))).toBe(text);
  });
});

describe('reading a delivered notification', () => {
  it('derives free resources exactly, falling back to totals minus used when free_* is null', () => {
    const huge = '9007199254740993';
    const n = readNotification(delivered(insert(nodeImage(7, { vcpus: { N: huge }, vcpus_used: { N: '1' }, free_ram_mb: { NULL: true }, free_disk_gb: { NULL: true } }))));
    expect(n.node!.freeVcpus).toBe(9007199254740992n);
    expect(n.node!.freeRamMb).toBe(16384n - 4096n);
    expect(n.node!.freeDiskGb).toBe(500n - 40n);
    expect(n.node!.dataJson).toContain(`"vcpus":${huge},`);
    const item = itemOf(n);
    expect(item[ATTR.freeVcpus]).toEqual({ N: '9007199254740992' });
    expect(item[ATTR.kVcpus]!.S).toBe(sortableInteger(9007199254740992n) + '#' + n.uuid);
  });

  it('accepts a bare Detail too, and names what is wrong with a message it cannot apply', () => {
    const body = delivered(insert(nodeImage(8)));
    const detail = JSON.stringify(JSON.parse(body).detail);
    expect(readNotification(detail).uuid).toBe('5eed0000-0000-0000-0000-000000000008');
    const bad = (mutate: (d: any) => void) => {
      const d = JSON.parse(body).detail;
      mutate(d);
      return () => readNotification(JSON.stringify({ detail: d }));
    };
    expect(() => readNotification('not json')).toThrow(UnreadableNotificationError);
    expect(bad((d) => (d.payload['nova_object.version'] = '2.0'))).toThrow(/version 2.0 is not supported/);
    expect(bad((d) => (d.change.sequence_number = 'x'))).toThrow(/sequence_number/);
    expect(bad((d) => (d.payload['nova_object.data'].vcpus = '8'))).toThrow(/vcpus must be an integer/);
    expect(bad((d) => (d.event_type = 'instance.create'))).toThrow(/not a compute node notification/);
    // A newer minor version (fields added) is read.
    expect(bad((d) => (d.payload['nova_object.version'] = '1.1'))).not.toThrow();
  });
});

describe('applying notifications', () => {
  it('a duplicate changes nothing; an older one is discarded; a delete leaves a tombstone a resync cannot undo', () => {
    const model = new Map<string, Item>();
    const a = nodeImage(9);
    const b = nodeImage(9, { vcpus_used: { N: '5' } });
    const create = readNotification(delivered(insert(a, { sequence: '100' })));
    const update = readNotification(delivered(modify(a, b, { sequence: '200' })));
    expect(applyToModel(model, update)).toBe('applied');
    expect(applyToModel(model, update)).toBe('duplicate');
    expect(applyToModel(model, create)).toBe('stale');
    expect(model.get(update.uuid)![ATTR.payload]!.S).toBe(dataJsonOf(b));

    const resynced = builder.resync(b, 1_900_000_000, 'ComputeNodes');
    if (resynced.kind !== 'notify') throw new Error();
    const resync = readNotification(envelope('compute_node.update', resynced.notification.entry.Detail!));
    expect(resync.orderKey < update.orderKey).toBe(true);
    expect(applyToModel(model, resync)).toBe('stale');

    const del = readNotification(delivered({ ...modify(b, { ...b, deleted: { N: '9' } }, { sequence: '300' }) }));
    expect(del.eventType).toBe('compute_node.delete');
    expect(applyToModel(model, del)).toBe('applied');
    expect(isLive(model.get(del.uuid))).toBe(false);
    expect(applyToModel(model, resync)).toBe('stale');
    expect(isLive(model.get(del.uuid))).toBe(false);
  });

  it('a resync fills in a node the indexer lacks, and a later resync replaces an earlier one', () => {
    const model = new Map<string, Item>();
    const read = (image: ReturnType<typeof nodeImage>, t: number) => {
      const o = builder.resync(image, t, 'ComputeNodes');
      if (o.kind !== 'notify') throw new Error();
      return readNotification(envelope('compute_node.update', o.notification.entry.Detail!));
    };
    const early = read(nodeImage(10, { vcpus_used: { N: '1' } }), 1_900_000_000);
    const late = read(nodeImage(10, { vcpus_used: { N: '3' } }), 1_900_000_000.5);
    expect(applyToModel(model, late)).toBe('applied');
    expect(applyToModel(model, early)).toBe('stale');
    expect(model.get(late.uuid)![ATTR.freeVcpus]).toEqual({ N: '5' });
    expect(decide({ orderKey: late.orderKey }, late)).toBe('duplicate');
  });

  it('documented limit: a stream notification older than the scan, delivered after it, regresses the node until its next change', () => {
    const model = new Map<string, Item>();
    const v1 = nodeImage(11, { vcpus_used: { N: '1' } });
    const v2 = nodeImage(11, { vcpus_used: { N: '2' } });
    const old = readNotification(delivered(insert(v1, { sequence: '500' })));
    // The indexer lost its state; the table already holds v2 (its update is delivered later still).
    const o = builder.resync(v2, 1_900_000_000, 'ComputeNodes');
    if (o.kind !== 'notify') throw new Error();
    applyToModel(model, readNotification(envelope('compute_node.update', o.notification.entry.Detail!)));
    expect(applyToModel(model, old)).toBe('applied');
    expect(model.get(old.uuid)![ATTR.payload]!.S).toBe(dataJsonOf(v1));
    // ... until the v2 update (or any later change) arrives.
    applyToModel(model, readNotification(delivered(modify(v1, v2, { sequence: '600' }))));
    expect(model.get(old.uuid)![ATTR.payload]!.S).toBe(dataJsonOf(v2));
  });

  it('property: any shuffle and duplication of a history with resyncs converges to the table\'s final state', () => {
    let runs = 0;
    let live = 0;
    let withResync = 0;
    fc.assert(
      fc.property(scenario(14), ({ ops, order }) => {
        const history = playHistory(1, ops, 1000n);
        const model = new Map<string, Item>();
        for (const i of order) applyToModel(model, readNotification(history.deliveries[i]!));
        const item = model.get('5eed0000-0000-0000-0000-000000000001');
        runs++;
        if (ops.some((o) => o.kind === 'resync')) withResync++;
        if (isLiveImage(history.finalImage)) {
          live++;
          expect(isLive(item)).toBe(true);
          expect(item![ATTR.payload]!.S).toBe(dataJsonOf(history.finalImage));
        } else if (history.notified) {
          // Removed or soft-deleted: a tombstone (never a live node).
          expect(item).toBeDefined();
          expect(isLive(item)).toBe(false);
        } else {
          expect(item).toBeUndefined();
        }
      }),
      { numRuns: 2000 },
    );
    // The generator reaches both ends and mixes resyncs in.
    expect(live).toBeGreaterThan(runs / 5);
    expect(withResync).toBeGreaterThan(runs / 3);
  });
});
