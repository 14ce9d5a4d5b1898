/**
 * The default stack's notification rate (bench/notification-rate.ts): the in-memory table emits
 * the stream records DynamoDB would, the two record mixes differ only in the overhead drift,
 * and the rate is what the notification builder decides, checked against an oracle written
 * from the records themselves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetRateRows, FLEET_ASSUMPTIONS } from '../../bench/fleet.js';
import { notificationRate, simulatedRecords, type SimulatedRecords, type WatchConfig } from '../../bench/notification-rate.js';
import { SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';
import { REFERENCE_INDEXER_READ_FIELDS, REFERENCE_INDEXER_RESOLUTIONS } from '../../functions/indexer/read-fields.js';

type Attr = { N?: string; S?: string };
type Rec = { eventName: string; dynamodb: { OldImage?: Record<string, Attr>; NewImage?: Record<string, Attr> } };

const WATCHED = [...new Set([...SPEC_WATCHED_FIELDS, ...REFERENCE_INDEXER_READ_FIELDS])];
const config: WatchConfig = { watchedFields: WATCHED, fieldResolutions: REFERENCE_INDEXER_RESOLUTIONS };
const MEMORY = ['memory_mb_used', 'free_ram_mb'];

/** The attributes a MODIFY changed. */
const changed = (r: Rec) => {
  const a = r.dynamodb.OldImage!;
  const b = r.dynamodb.NewImage!;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
};

let drifting: SimulatedRecords;
let allocations: SimulatedRecords;
beforeAll(async () => {
  drifting = await simulatedRecords({ mix: 'drifting-overhead', nodes: 30, ticks: 400, seed: 5 });
  allocations = await simulatedRecords({ mix: 'nova-allocations', nodes: 30, ticks: 400, seed: 5 });
}, 120_000);

describe('the simulated record mixes', () => {
  it('emit a record only for a write that changes the item, and the same reports in both mixes', () => {
    for (const sim of [drifting, allocations]) {
      for (const r of sim.records as Rec[]) if (r.eventName === 'MODIFY') expect(changed(r).length).toBeGreaterThan(0);
    }
    expect(drifting.reports).toBe(allocations.reports);
    expect(drifting.records.length).toBeGreaterThan(allocations.records.length);
  });

  it("move memory only with an instance under Nova's allocation semantics; the drifting mix has memory-only reports", () => {
    const memoryOnly = (r: Rec) => r.eventName === 'MODIFY' && changed(r).filter((k) => k !== 'updated_at').every((k) => MEMORY.includes(k));
    expect((allocations.records as Rec[]).filter(memoryOnly)).toHaveLength(0);
    expect((drifting.records as Rec[]).filter(memoryOnly).length).toBeGreaterThan(drifting.records.length / 4);
  });
});

describe('the notification rate', () => {
  it('suppresses, with resolution, exactly the memory-only reports that stay in their 1 GB bucket; exact, none of them', () => {
    const bucket = (image: Record<string, Attr>, f: string) => Math.floor(Number(image[f]!.N) / 1024);
    const stays = (r: Rec) =>
      r.eventName === 'MODIFY' &&
      changed(r).filter((k) => k !== 'updated_at').every((k) => MEMORY.includes(k)) &&
      MEMORY.every((f) => bucket(r.dynamodb.OldImage!, f) === bucket(r.dynamodb.NewImage!, f));
    const expectedSuppressed = (drifting.records as Rec[]).filter(stays).length;
    const withResolution = notificationRate(drifting.records, config);
    const exact = notificationRate(drifting.records, { ...config, fieldResolutions: {} });
    expect(withResolution.suppressed).toBe(expectedSuppressed);
    expect(exact.suppressed).toBe(0);
    expect(exact.notified - withResolution.notified).toBe(expectedSuppressed);
    expect(withResolution.fractionNotified).toBeCloseTo(withResolution.notified / drifting.records.length, 12);
    // No drift, nothing for a resolution to remove.
    expect(notificationRate(allocations.records, config)).toEqual(notificationRate(allocations.records, { ...config, fieldResolutions: {} }));
  });

  it("costs the fleet in proportion to the notifications a report makes (§7's model)", () => {
    const measured = { records: 100, cpuUsPerRecord: 8, notificationsPerBatch: 10, putEventsRequestsPerBatch: 1, entryBytes: 964 };
    const rows = fleetRateRows([{ mix: 'm', recordsPerReport: 0.5, exact: { fractionNotified: 0.8 }, withResolution: { fractionNotified: 0.2 } }], measured);
    const a = FLEET_ASSUMPTIONS;
    expect(rows.map((r) => r.resolution)).toEqual(['exact', 'with resolution']);
    expect(rows[0]!.eventsPerMonth).toBe(Math.round((a.computeNodes / a.reportIntervalSeconds) * 0.5 * 0.8 * 3600 * a.hoursPerMonth));
    expect(rows[0]!.eventBridgeUsdPerMonth / rows[1]!.eventBridgeUsdPerMonth).toBeCloseTo(4, 2);
    expect(rows[0]!.totalUsdPerMonth).toBeGreaterThan(rows[1]!.totalUsdPerMonth);
  });
});
