/**
 * The capacity table (bench/capacity.ts) from given batch figures: its rates, cost and first
 * walls against figures worked out by hand (in the comments), and the splice that puts §7b
 * into results.md. Nothing is measured here.
 */
import { describe, expect, it } from 'vitest';
import { capacityFromMeasured, capacityMixesFrom, renderCapacity, spliceCapacitySection } from '../../bench/capacity.js';

const tenPercent = {
  name: '10 % notified',
  fractionNotified: 0.1,
  note: 'test',
  // 10 µs a record, one PutEvents request for the batch's 10 notifications.
  measured: { records: 100, cpuUsPerRecord: 10, notificationsPerBatch: 10, putEventsRequestsPerBatch: 1, entryBytes: 1_000 },
};

describe('capacity table', () => {
  const r = capacityFromMeasured([tenPercent], 3);

  it('1,000,000 nodes at 10 %: rates, shards, concurrency and cost', () => {
    const row = r.rows.find((x) => x.computeNodes === 1_000_000)!;
    // 1,000,000 / 60 = 16,666.67 records/s → 17 shards; 1,666.67 notifications/s; 166.67 invocations/s, 1 request each; × 3 rules = 5,000 invocations/s.
    expect(row.demand.shards).toBe(17);
    expect(row.demand.notificationsPerSecond).toBeCloseTo(1_666.667, 2);
    expect(row.demand.putEventsRequestsPerSecond).toBeCloseTo(166.667, 2);
    expect(row.demand.ruleInvocationsPerSecond).toBeCloseTo(5_000, 6);
    // Billed: 10 µs × 100 = 1 ms of CPU at 256/1769 of a vCPU = 6.91 ms, + ⌈1/4⌉ × 20 ms of PutEvents = 26.91 → 27 ms.
    expect(row.billedMsPerInvocation).toBe(27);
    expect(row.demand.lambdaConcurrency).toBeCloseTo(4.5, 6); // 166.67/s × 0.027 s
    // A month (730 h): 4,380 M events → $4,380.00; 438 M invocations → $87.60; 438 M × 0.027 s × 0.25 GB × $0.0000133334 → $39.42.
    expect(row.monthlyUsd).toBeCloseTo(4_380 + 87.6 + 39.42, 1);
  });

  it('names the first wall of each region class at the fleet size it is reached', () => {
    const at = (classId: string) => r.firstWalls.find((f) => f.classId === classId)!;
    // 3 rules × 10 % = 0.3 invocations per record = 0.005 a node a second: 18,750 / 0.005 = 3,750,000 nodes.
    expect(at('large').first.key).toBe('invocations');
    expect(at('large').first.fleetSizeAtQuota).toBeCloseTo(3_750_000, 3);
    // 750 / 0.005 = 150,000; then PutEvents, 1 request per 100 records = 1/6,000 a node a second: 400 × 6,000 = 2,400,000.
    expect(at('other').first.fleetSizeAtQuota).toBeCloseTo(150_000, 3);
    expect(at('other').second!.key).toBe('putEvents');
    expect(at('other').second!.fleetSizeAtQuota).toBeCloseTo(2_400_000, 3);
    const md = renderCapacity(r).join('\n');
    expect(md).toContain('| every other region (400, 750) | 10 % notified | rule invocations | **150,000 nodes** | PutEvents at 2.4 M |');
    expect(md).toContain('| us-east-1, us-west-2, eu-west-1 (10,000, 18,750) | 10 % notified | rule invocations | **3.75 M nodes** |');
    // At 1,000,000 nodes the us-east-1 class uses 5,000 / 18,750 = 27 %, the others are over (bold).
    expect(md).toMatch(/\| 1,000,000 \| 16,667 \| 17 \| 1,667 \| 167 \| 5,000 \| 4\.5 \| \$4,507\.\d\d \| rule invocations 27 % \| \*\*rule invocations 111 %\*\* \|/);
  });

  it("takes the fleet-scale section's measured rates: records per report and the fraction notified, exact and with resolution", () => {
    const mixes = capacityMixesFrom([{ mix: 'drift', recordsPerReport: 0.5, exact: { fractionNotified: 0.9 }, withResolution: { fractionNotified: 0.2 } }]);
    expect(mixes.map((m) => [m.name, m.fractionNotified, m.recordsPerReport])).toEqual([
      ['drift, exact', 0.9, 0.5],
      ['drift, with resolution', 0.2, 0.5],
    ]);
    // Resolutions that change nothing give one mix, not two identical ones.
    expect(capacityMixesFrom([{ mix: 'nova', recordsPerReport: 0.3, exact: { fractionNotified: 0.97 }, withResolution: { fractionNotified: 0.97 } }]).map((m) => m.name)).toEqual([
      'nova, exact or with resolution',
    ]);
    const c = capacityFromMeasured(
      mixes.map((m) => ({ ...m, measured: tenPercent.measured })),
      3,
    );
    const exact = c.rows.find((x) => x.mix === 'drift, exact' && x.computeNodes === 1_000_000)!;
    // 1,000,000 / 60 × 0.5 = 8,333.33 records/s; × 0.9 = 7,500 notifications/s; × 3 rules = 22,500 invocations/s.
    expect(exact.demand.streamRecordsPerSecond).toBeCloseTo(8_333.333, 2);
    expect(exact.demand.ruleInvocationsPerSecond).toBeCloseTo(22_500, 6);
    // us-east-1: 18,750 / 22,500 of a million = 833,333 nodes; with resolution 0.2: 5,000/s → 3,750,000.
    const large = (mix: string) => c.firstWalls.find((f) => f.mix === mix && f.classId === 'large')!.first.fleetSizeAtQuota;
    expect(large('drift, exact')).toBeCloseTo(833_333.33, 1);
    expect(large('drift, with resolution')).toBeCloseTo(3_750_000, 3);
  });

  it('puts §7b in results.md: replaced where it is, else before §8', () => {
    const section = ['## 7b. Capacity', '', 'new', ''];
    const without = '# R\n\n## 7. Fleet scale\n\nx\n\n## 8. Reference indexer\n\ny\n';
    const inserted = spliceCapacitySection(without, section);
    expect(inserted).toBe('# R\n\n## 7. Fleet scale\n\nx\n\n## 7b. Capacity\n\nnew\n\n## 8. Reference indexer\n\ny\n');
    const replaced = spliceCapacitySection(inserted.replace('new', 'old'), section);
    expect(replaced).toBe(inserted);
  });
});
