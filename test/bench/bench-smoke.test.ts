import { describe, expect, it } from 'vitest';
import { runBenchmarks } from '../../bench/run-benchmarks.js';
import { renderMarkdown } from '../../bench/results.js';

// Runs every measurement on a tiny input so the benchmark cannot rot. Timings are never checked here.
describe('npm run bench (tiny input)', () => {
  it('runs every measurement and returns a well-formed result', async () => {
    const r = await runBenchmarks({ tiny: true });
    expect(r.schema).toBe('hypervisor-notifier-bench/1');
    expect(r.tiny).toBe(true);
    expect(r.goals.map((g) => g.id)).toEqual(
      expect.arrayContaining(['vs-nova', 'vs-baseline-requests', 'vs-baseline-wall', 'put-events-requests', 'slow-bus', 'cold-start-sdk-bundled', 'cold-start-sdk-external', 'memory-growth']),
    );
    for (const g of r.goals) {
      expect(typeof g.met).toBe('boolean');
      expect(g.measured).not.toBe('');
    }
    for (const b of [...r.handlerCpu.batches, r.handlerCpu.createsOnly]) {
      expect(b.cpuUsPerRecord).toBeGreaterThan(0);
      expect(b.floorUsPerRecord).toBeGreaterThan(0);
      expect(b.signedFloorUsPerRecord).toBeGreaterThan(0);
      expect(b.sdkFloorUsPerRecord).toBeGreaterThan(0);
      expect(b.notifications + b.suppressed + b.quarantined).toBe(b.records);
    }
    // The peers ran on the same batch: the baseline sends one request per notification, the
    // notifier packs them ten to a request.
    const mixed = r.handlerCpu.batches[0]!;
    expect(r.peers.ours.requests).toBe(r.slowBus.requests);
    expect(r.peers.baseline.requests).toBeGreaterThanOrEqual(mixed.notifications);
    expect(r.peers.baseline.cpuUsPerRecordMixed).toBeGreaterThan(0);
    expect(r.batchingWindow.settings.map((w) => w.maxBatchingWindowSeconds)).toEqual([0, 1]);
    for (const w of r.batchingWindow.settings) {
      expect(w.invocations).toBeGreaterThan(0);
      expect(w.p99Ms).toBeGreaterThanOrEqual(w.p50Ms);
    }
    // Counts are behaviour, not timing: these are exact.
    expect(r.putEventsRequests.allExact).toBe(true);
    expect(r.putEventsRequests.large.length).toBeGreaterThan(0);
    expect(r.slowBus.requests).toBeGreaterThan(0);
    for (const v of r.coldStart.variants) {
      expect(v.bundle.bytes).toBeGreaterThan(v.bundle.gzipBytes);
      expect(v.median.importPlusFirstEventMs).toBeGreaterThan(0);
    }
    expect(r.memory.growth.heapAfterBatchBytes.length).toBe(r.memory.growth.batches);
    expect(r.fleet.streamRecordsPerSecond).toBeGreaterThan(r.fleet.notificationsPerSecond);
    expect(r.fleet.monthly.totalUsd).toBeGreaterThan(0);
    expect(r.fleet.prices.sources.length).toBeGreaterThan(0);
    // The capacity table: three fleet sizes per mix, the first wall of each region class per mix.
    expect(r.capacity.rows.length).toBe(3 * r.capacity.mixes.length);
    expect(r.capacity.firstWalls.length).toBe(r.capacity.regionClasses.length * r.capacity.mixes.length);
    const md = renderMarkdown(r);
    expect(md).toContain('| Goal | Measured | Status | By how much |');
    expect(md).toContain('## 7b. Capacity');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    // The indexer's load on DynamoDB Local and the cold-start builds take most of it; on the shared 2-core machine, over a minute.
  }, 240_000);
});
