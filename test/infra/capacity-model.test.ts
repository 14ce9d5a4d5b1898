/**
 * The capacity model's arithmetic against figures worked out by hand (in the comments), and
 * the quota table's region lookup. No figure here is read back from the model's own output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capacityDemand, DEFAULT_CAPACITY_INPUTS, walls, type CapacityInputs } from '../../infra/capacity-model.js';
import { quotasFor, REGION_CLASSES } from '../../infra/capacity-quotas.js';

const inputs = (o: Partial<CapacityInputs> & Pick<CapacityInputs, 'computeNodes' | 'fractionNotified' | 'rules'>): CapacityInputs => ({ ...DEFAULT_CAPACITY_INPUTS, ...o });

describe('capacity model', () => {
  it("the issue's example: two routes in a 1,100-invocation region throttle at 550 notifications/s, 330,000 nodes at 10 %", () => {
    // 550 notifications/s ÷ 10 % = 5,500 records/s; × 60 s = 330,000 nodes.
    const d = capacityDemand(inputs({ computeNodes: 100_000, fractionNotified: 0.1, rules: 2 }));
    const w = walls(d, quotasFor('eu-north-1'));
    expect(w[0]!.key).toBe('invocations');
    expect(w[0]!.quota).toBe(1_100);
    expect(w[0]!.fleetSizeAtQuota).toBeCloseTo(330_000, 6);
    // PutEvents: 10 notifications a batch = 1 request per 100 records; 600/s → 60,000 records/s → 3,600,000 nodes.
    const put = w.find((x) => x.key === 'putEvents')!;
    expect(put.quota).toBe(600);
    expect(put.fleetSizeAtQuota).toBeCloseTo(3_600_000, 6);
  });

  it('1,000,000 nodes, every record notified, three rules, us-east-1', () => {
    const d = capacityDemand(inputs({ computeNodes: 1_000_000, fractionNotified: 1, rules: 3 }));
    // 1,000,000 / 60 = 16,666.67 records/s, all notified; × 3 rules = 50,000 invocations/s.
    expect(d.streamRecordsPerSecond).toBeCloseTo(16_666.667, 2);
    expect(d.notificationsPerSecond).toBeCloseTo(16_666.667, 2);
    expect(d.ruleInvocationsPerSecond).toBeCloseTo(50_000, 6);
    // 100 notifications a batch → 10 requests; 166.67 invocations/s → 1,666.67 requests/s.
    expect(d.putEventsRequestsPerInvocation).toBe(10);
    expect(d.putEventsRequestsPerSecond).toBeCloseTo(1_666.667, 2);
    // 16,666.67 write units/s ÷ 1,000 per partition → 17 shards.
    expect(d.shards).toBe(17);
    const w = walls(d, quotasFor('us-east-1'));
    // Invocations: 18,750 / 50,000 of a million = 375,000 nodes; PutEvents: 10,000 / 1,666.67 → 6,000,000.
    expect(w.map((x) => x.key)).toEqual(['invocations', 'putEvents', 'rulesPerBus']);
    expect(w[0]!.fleetSizeAtQuota).toBeCloseTo(375_000, 6);
    expect(w[0]!.used).toBeCloseTo(50_000 / 18_750, 9);
    expect(w[1]!.fleetSizeAtQuota).toBeCloseTo(6_000_000, 6);
    expect(w[2]!.fleetSizeAtQuota).toBe(Infinity);
  });

  it('few notifications a batch: each costs a whole PutEvents request, so PutEvents is reached first', () => {
    // 1 % of 100 records = 1 notification a batch = 1 request per 100 records, as many as invocations with one rule.
    // 'other' regions: PutEvents 400/s → 40,000 records/s → 2,400,000 nodes; invocations 750/s → 4,500,000.
    const d = capacityDemand(inputs({ computeNodes: 10_000_000, fractionNotified: 0.01, rules: 1 }));
    expect(d.putEventsRequestsPerInvocation).toBe(1);
    const w = walls(d, quotasFor('me-central-1'));
    expect(w[0]!.key).toBe('putEvents');
    expect(w[0]!.fleetSizeAtQuota).toBeCloseTo(2_400_000, 6);
    expect(w[1]!.fleetSizeAtQuota).toBeCloseTo(4_500_000, 6);
    // A batch of 1,000 carries 10 notifications in one request: 10 × fewer requests, the wall moves 10 × out.
    const bigger = walls(capacityDemand(inputs({ computeNodes: 10_000_000, fractionNotified: 0.01, rules: 1, batchSize: 1_000 })), quotasFor('me-central-1'));
    expect(bigger.find((x) => x.key === 'putEvents')!.fleetSizeAtQuota).toBeCloseTo(24_000_000, 6);
  });

  it('shards and Lambda concurrency', () => {
    // 100,000 / 60 = 1,666.67 write units/s → 2 partitions; 10,000,000 / 60 = 166,666.67 → 167.
    expect(capacityDemand(inputs({ computeNodes: 100_000, fractionNotified: 0.1, rules: 2 })).shards).toBe(2);
    expect(capacityDemand(inputs({ computeNodes: 10_000_000, fractionNotified: 0.1, rules: 2 })).shards).toBe(167);
    // Items over 1 KB take 2 write units: twice the partitions.
    expect(capacityDemand(inputs({ computeNodes: 10_000_000, fractionNotified: 0.1, rules: 2, writeUnitsPerRecord: 2 })).shards).toBe(334);
    // 1,000,000 nodes: 166.67 invocations/s × 0.026 s = 4.33 concurrent executions.
    const d = capacityDemand(inputs({ computeNodes: 1_000_000, fractionNotified: 0.1, rules: 2, billedMsPerInvocation: 26 }));
    expect(d.lambdaConcurrency).toBeCloseTo(4.3333, 3);
    // 1,000 default → 1,000 / 4.333 × 1,000,000 = 230,769,231 nodes.
    expect(walls(d, quotasFor('us-east-1')).find((x) => x.key === 'lambdaConcurrency')!.fleetSizeAtQuota).toBeCloseTo(230_769_230.8, 0);
    expect(capacityDemand(inputs({ computeNodes: 1, fractionNotified: 0.1, rules: 2 })).lambdaConcurrency).toBeUndefined();
  });

  it('the rule quota does not depend on the fleet: over it at any size, else never', () => {
    const over = walls(capacityDemand(inputs({ computeNodes: 1, fractionNotified: 0, rules: 101 })), quotasFor('af-south-1'));
    expect(over[0]!.key).toBe('rulesPerBus');
    expect(over[0]!.quota).toBe(100);
    expect(over[0]!.fleetSizeAtQuota).toBe(0);
    const under = walls(capacityDemand(inputs({ computeNodes: 1, fractionNotified: 0, rules: 101 })), quotasFor('us-east-1'));
    expect(under.find((x) => x.key === 'rulesPerBus')!.fleetSizeAtQuota).toBe(Infinity);
    // Nothing notified: neither EventBridge rate is ever reached.
    expect(under.find((x) => x.key === 'invocations')!.fleetSizeAtQuota).toBe(Infinity);
  });

  it('bad inputs are refused with the input named', () => {
    expect(() => capacityDemand(inputs({ computeNodes: -1, fractionNotified: 0.1, rules: 2 }))).toThrow(/computeNodes/);
    expect(() => capacityDemand(inputs({ computeNodes: 1, fractionNotified: Number.NaN, rules: 2 }))).toThrow(/fractionNotified/);
    expect(() => capacityDemand(inputs({ computeNodes: 1, fractionNotified: 0.1, rules: 2, batchSize: 0 }))).toThrow(/batchSize/);
  });

  it('at the fleet size a wall names, the demand equals that quota', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom(...REGION_CLASSES.map((c) => c.regions[0] ?? 'me-central-1')),
        (computeNodes, fractionNotified, rules, batchSize, region) => {
          const q = quotasFor(region);
          for (const w of walls(capacityDemand(inputs({ computeNodes, fractionNotified, rules, batchSize, billedMsPerInvocation: 40 })), q)) {
            if (!Number.isFinite(w.fleetSizeAtQuota) || w.fleetSizeAtQuota === 0) continue;
            const at = walls(capacityDemand(inputs({ computeNodes: w.fleetSizeAtQuota, fractionNotified, rules, batchSize, billedMsPerInvocation: 40 })), q);
            expect(at.find((x) => x.key === w.key)!.used).toBeCloseTo(1, 9);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('region quotas', () => {
  it('reads the figures AWS lists for a region, the lowest for an unknown one', () => {
    expect(quotasFor('us-east-1')).toMatchObject({ putEventsPerSecond: 10_000, invocationsPerSecond: 18_750, rulesPerBus: 300 });
    expect(quotasFor('us-east-2')).toMatchObject({ putEventsPerSecond: 2_400, invocationsPerSecond: 4_500 });
    expect(quotasFor('eu-west-2')).toMatchObject({ putEventsPerSecond: 1_200, invocationsPerSecond: 2_250 });
    expect(quotasFor('sa-east-1')).toMatchObject({ putEventsPerSecond: 600, invocationsPerSecond: 1_100 });
    expect(quotasFor('eu-south-1')).toMatchObject({ putEventsPerSecond: 400, invocationsPerSecond: 750, rulesPerBus: 100 });
    expect(quotasFor(undefined)).toMatchObject({ region: undefined, putEventsPerSecond: 400, invocationsPerSecond: 750 });
  });

  it('names each region in at most one class', () => {
    const all = REGION_CLASSES.flatMap((c) => c.regions);
    expect(new Set(all).size).toBe(all.length);
  });
});
