/**
 * EventBridge misbehaving, at the handler level: the real notifier (as Lambda runs it, with
 * its real clients) publishing to the local bus over HTTP while the bus throttles for
 * seconds at a time, refuses random entries, drops or never answers requests, or is not
 * there at all. Each scenario checks the invariants (`invariants.ts`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { REQUEST_TIMEOUTS } from '../../functions/notifier/client-config.js';
import { busFaults, FaultLog, FaultWindow, scriptedFaults } from '../../local/faults.js';
import { seededRandom } from '../../local/seeded-random.js';
import { METRIC } from '../../functions/notifier/metric-names.js';
import { checkInvariants, describeReport, type Expectation } from './invariants.js';
import { FakeTable, LambdaRuntime, observeFake, randomWorkload, runFakeScenario, runShard, startLocalServices, waitUntil } from './support.js';

describe('PutEvents faults', () => {
  it('throttling for seconds at a time: what outlasts an invocation comes back and is published', async () => {
    const log = new FaultLog();
    const r = await runFakeScenario({
      name: 'throttling',
      nodes: 40,
      writes: 400,
      seed: 1,
      batchSize: 100,
      // 2 s invocations (1 s of retrying) against 2 s of throttling at a time.
      timeoutMs: 2_000,
      faults: (s) => {
        s.bus.bus.faults = busFaults({ window: new FaultWindow({ onMs: 2_000, offMs: 500 }), throttleRequests: 0.6, failEntries: 1, random: seededRandom(3), log });
      },
    });
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(r.report.lost).toBe(0);
    expect(log.count()).toBeGreaterThan(0);
    expect(r.metrics.total(METRIC.putEventsRetries)).toBeGreaterThan(0);
    // The first invocation met the throttling head-on and handed its records back.
    expect(r.run.outcomes.some((o) => o.kind === 'partial')).toBe(true);
  });

  it('partial failures of random entries, any rate, any batch size: every change is published once after deduplication', async () => {
    // One warm function instance and one bus for every run, as Lambda keeps an instance between
    // batches: a cold start (new clients, DescribeEventBus) would cost more than a run itself.
    // Each run is checked on its own deliveries and quarantine messages only. The back-off sleeps
    // are skipped: they change when a retry happens, not what it sends.
    const services = await startLocalServices();
    const runtime = new LambdaRuntime({ config: services.config(), busEndpoint: services.bus.endpoint, sqsEndpoint: services.sqs.endpoint, sleep: async () => {} });
    const log = new FaultLog();
    let runs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0.05, max: 0.6, noNaN: true }), fc.constantFrom(5, 10, 50), async (seed, rate, batchSize) => {
          runs++;
          const table = new FakeTable();
          await randomWorkload(table, { nodes: 5, writes: 30, random: seededRandom(seed), invalidRate: 0.03 });
          const from = { delivered: services.delivered.length, quarantined: services.quarantined().length };
          services.bus.bus.faults = busFaults({ failEntries: rate, random: seededRandom(seed + 1), log });
          const run = await runShard(table.records, runtime.handler, { batchSize });
          services.bus.bus.faults = undefined;
          await waitUntil(() => services.bus.pending() === 0 && services.sqs.pending() === 0, 'the servers to finish the requests in hand');
          const observed = observeFake(`entries ${rate.toFixed(2)}, batches of ${batchSize}`, table, services, run);
          const report = checkInvariants(
            { ...observed, delivered: observed.delivered.slice(from.delivered), quarantined: observed.quarantined.slice(from.quarantined) },
            { recordExpectations: table.expectations },
          );
          expect(report.violations, describeReport(report)).toEqual([]);
          expect(report.lost).toBe(0);
        }),
        // Measured: 0.1-0.3 s a run on the 2-core machine (each PutEvents is a real HTTP request),
        // so 50 runs (about 17 per batch size) cost 5-15 s, where 4 runs showed almost nothing.
        { numRuns: 50 },
      );
    } finally {
      runtime.close();
      await services.close();
    }
    expect(runs).toBe(50);
    // Faults were injected and retried in (nearly) every run: about 1.5 to 18 refused entries a run.
    expect(log.count()).toBeGreaterThan(runs);
    expect(runtime.metrics.total(METRIC.putEventsRetries)).toBeGreaterThan(runs);
  });

  it('network errors: connections dropped before and after the bus took the request, internal failures', async () => {
    const log = new FaultLog();
    const random = busFaults({ drop: 0.1, internalErrors: 0.1, random: seededRandom(5), log });
    // And for certain: the 2nd request dropped before the bus sees it, the 3rd after it accepted the entries.
    const script = scriptedFaults({ 1: { kind: 'drop' }, 2: { kind: 'drop', after: true } }, { log });
    const r = await runFakeScenario({
      name: 'network',
      nodes: 30,
      writes: 400,
      seed: 2,
      batchSize: 50,
      faults: (s) => {
        s.bus.bus.faults = { request: (op, input) => script.request(op) ?? random.request!(op, input) };
      },
    });
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(log.count('request:drop-after')).toBeGreaterThan(0);
    // A request the bus accepted but never answered is sent again: duplicates, same message ids.
    expect(r.report.duplicates).toBeGreaterThan(0);
  });

  it('a permission missing for one detail type (per entry, NotAuthorizedForDetailTypeException): nothing quarantined, its records handed back to Lambda until it is granted, then published', async () => {
    let denied = true;
    let refusals = 0;
    let partials = 0;
    const r = await runFakeScenario({
      name: 'detail type denied',
      nodes: 20,
      writes: 200,
      seed: 6,
      batchSize: 50,
      faults: (s) => {
        // A resource policy or role that leaves out compute_node.update: the bus refuses those
        // entries one by one, in requests whose other entries it takes.
        s.bus.bus.faults = {
          entry: (entry) => {
            if (!denied || entry.DetailType !== 'compute_node.update') return undefined;
            refusals++;
            return { ErrorCode: 'NotAuthorizedForDetailTypeException', ErrorMessage: 'Not authorized to put events with detail type compute_node.update on this bus.' };
          },
        };
      },
      // The operator, alarmed, grants the permission after the notifier handed records back three times.
      onInvoke: (outcome) => {
        if (outcome.kind === 'partial' && ++partials === 3) denied = false;
      },
    });
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(r.report.lost).toBe(0);
    expect(refusals).toBeGreaterThan(0);
    expect(partials).toBeGreaterThanOrEqual(3);
    // What the alarms watch: PutEvents failures and batch item failures, not the quarantine.
    expect(r.metrics.total(METRIC.putEventsFailures)).toBeGreaterThanOrEqual(refusals);
    expect(r.metrics.total(METRIC.batchItemFailures)).toBeGreaterThanOrEqual(3);
  });

  it('a bus that never answers: the request times out within the invocation and is retried', async () => {
    const log = new FaultLog();
    const r = await runFakeScenario({
      name: 'hung requests',
      nodes: 10,
      writes: 60,
      seed: 4,
      batchSize: 100,
      // Far longer than REQUEST_TIMEOUTS.requestTimeout: the invocation must not need it.
      timeoutMs: 4 * REQUEST_TIMEOUTS.requestTimeout,
      faults: (s) => {
        s.bus.bus.faults = scriptedFaults({ 0: { kind: 'hang' }, 1: { kind: 'hang', after: true } }, { log });
      },
    });
    expect(log.count('request:hang') + log.count('request:hang-after')).toBe(2);
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    // The invocation succeeded despite two hung requests: no function error, no time-out.
    expect(r.run.outcomes.map((o) => o.kind)).toEqual(['ok']);
    expect(r.runtime.timeouts).toBe(0);
    expect(r.metrics.total(METRIC.putEventsRetries)).toBeGreaterThan(0);
    expect(r.report.duplicates).toBeGreaterThan(0);
  });
});

describe('a bus that does not exist', () => {
  it('fails the invocation with a ConfigurationError naming the bus, and puts nothing into the void', async () => {
    const s = await startLocalServices();
    const runtime = new LambdaRuntime({ config: s.config({ EVENT_BUS_NAME: 'no-such-bus' }), busEndpoint: s.bus.endpoint, sqsEndpoint: s.sqs.endpoint });
    try {
      const table = new FakeTable();
      await randomWorkload(table, { nodes: 5, writes: 30, random: seededRandom(9) });
      await expect(runtime.handler({ Records: table.records.slice(0, 5) })).rejects.toThrow(/EVENT_BUS_NAME: the event bus 'no-such-bus' does not exist/);
      // The local bus, like EventBridge, would have answered success to a PutEvents for it.
      expect(s.bus.bus.stats.requests).toBe(0);

      // Through the event source mapping: every record ends in the on-failure destination, whole.
      const run = await runShard(table.records, runtime.handler, { batchSize: 10, maxRetries: 1 });
      const onFailure: Expectation = { kind: 'on_failure', why: 'the bus does not exist' };
      const report = checkInvariants(observeFake('missing bus', table, s, run), { recordExpectations: new Map(table.records.map((rec) => [rec.eventID, onFailure])) });
      expect(report.violations, describeReport(report)).toEqual([]);
      expect(report.onFailure).toBe(table.records.length);
      expect(s.delivered).toEqual([]);
      expect(s.bus.bus.stats.toOtherBus).toBe(0);
    } finally {
      runtime.close();
      await s.close();
    }
  });

  it('asks once per instance (each cold start), for the configured bus', async () => {
    const s = await startLocalServices();
    const asked: unknown[] = [];
    s.bus.bus.faults = {
      request: (op, input) => {
        if (op === 'DescribeEventBus') asked.push(input.Name);
        return undefined;
      },
    };
    const runtime = new LambdaRuntime({ config: s.config(), busEndpoint: s.bus.endpoint, sqsEndpoint: s.sqs.endpoint });
    try {
      const table = new FakeTable();
      await randomWorkload(table, { nodes: 5, writes: 40, random: seededRandom(10) });
      await runShard(table.records, runtime.handler, { batchSize: 10, between: (batch) => batch === 2 && runtime.restart() });
      expect(runtime.stats.invocations).toBeGreaterThan(2);
      expect(runtime.stats.coldStarts).toBe(2);
      expect(asked).toEqual([s.bus.bus.busArn, s.bus.bus.busArn]);
    } finally {
      runtime.close();
      await s.close();
    }
  });

  it('publishes anyway when the check cannot decide (access denied), and asks only once', async () => {
    const s = await startLocalServices();
    let asked = 0;
    s.bus.bus.faults = {
      request: (op) => {
        if (op !== 'DescribeEventBus') return undefined;
        asked++;
        return { kind: 'error', type: 'AccessDeniedException', message: 'not authorized to perform: events:DescribeEventBus' };
      },
    };
    const runtime = new LambdaRuntime({ config: s.config(), busEndpoint: s.bus.endpoint, sqsEndpoint: s.sqs.endpoint });
    try {
      const table = new FakeTable();
      await randomWorkload(table, { nodes: 5, writes: 40, random: seededRandom(12) });
      const run = await runShard(table.records, runtime.handler, { batchSize: 10 });
      const report = checkInvariants(observeFake('access denied', table, s, run));
      expect(report.violations, describeReport(report)).toEqual([]);
      expect(asked).toBe(1);
    } finally {
      runtime.close();
      await s.close();
    }
  });
});
