/**
 * The function itself failing, at the handler level: the process crashing in the middle of
 * a batch (after some of its PutEvents requests were answered), invocations timing out
 * while a request is in flight, instances replaced between batches; and the quarantine
 * queue refusing while bad records arrive. Each scenario checks the invariants.
 */
import { describe, expect, it } from 'vitest';
import { FaultLog, FaultWindow, scriptedFaults, sqsFaults } from '../../local/faults.js';
import { seededRandom } from '../../local/seeded-random.js';
import { describeReport } from './invariants.js';
import { runFakeScenario } from './support.js';

describe('the function failing', () => {
  it('crashes in the middle of a batch: the same records come again, to a new instance', async () => {
    const r = await runFakeScenario({
      name: 'crashes',
      nodes: 30,
      writes: 400,
      seed: 21,
      batchSize: 60,
      // Every other batch: the process dies once its first PutEvents request is answered.
      between: (batch, _s, runtime) => batch % 2 === 0 && runtime.crashNextInvocation(1),
    });
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(r.runtime.crashes).toBeGreaterThanOrEqual(3);
    expect(r.runtime.coldStarts).toBe(r.runtime.crashes + 1);
    expect(r.run.outcomes.filter((o) => o.kind === 'error')).toHaveLength(r.runtime.crashes);
    // What the dead process published is published again, under the same message ids.
    expect(r.report.duplicates).toBeGreaterThan(0);
  });

  it('times out while a PutEvents request is in flight: the request still lands, the records come again', async () => {
    const log = new FaultLog();
    const r = await runFakeScenario({
      name: 'time-outs',
      nodes: 20,
      writes: 200,
      seed: 22,
      batchSize: 50,
      timeoutMs: 1_500,
      // The 1st and 9th PutEvents requests are answered after the function's timeout.
      faults: (s) => {
        s.bus.bus.faults = scriptedFaults({ 0: { kind: 'delay', ms: 2_000 }, 8: { kind: 'delay', ms: 2_000 } }, { log });
      },
    });
    expect(log.count('request:delay')).toBe(2);
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(r.runtime.timeouts).toBe(2);
    expect(r.report.duplicates).toBeGreaterThan(0);
  });

  it('restarts between batches: every batch cold-starts a new instance', async () => {
    const r = await runFakeScenario({
      name: 'restarts',
      nodes: 20,
      writes: 200,
      seed: 23,
      batchSize: 20,
      between: (_batch, _s, runtime) => runtime.restart(),
    });
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(r.runtime.coldStarts).toBe(r.runtime.invocations);
    expect(r.runtime.coldStarts).toBeGreaterThanOrEqual(10);
  });
});

describe('the quarantine queue unavailable', () => {
  it('hands bad records back (batch item failure, redelivery) until the queue recovers, then quarantines them', async () => {
    const log = new FaultLog();
    const outage = new FaultWindow();
    outage.set(true);
    let handedBack = 0;
    const r = await runFakeScenario({
      name: 'quarantine outage',
      nodes: 20,
      writes: 200,
      seed: 24,
      invalidRate: 0.2,
      batchSize: 50,
      timeoutMs: 1_500,
      faults: (s) => {
        s.sqs.sqs.faults = sqsFaults({ window: outage, unavailable: 0.8, drop: 0.2, random: seededRandom(25), log });
      },
      // The queue comes back once records were handed back to Lambda three times.
      onInvoke: (o) => {
        if (o.kind === 'partial' && ++handedBack === 3) outage.set(false);
      },
    });
    expect(log.count()).toBeGreaterThan(0);
    expect(handedBack).toBeGreaterThanOrEqual(3);
    expect(r.report.violations, describeReport(r.report)).toEqual([]);
    expect(r.report.expectedQuarantined).toBeGreaterThan(10);
    expect(r.report.quarantined).toBe(r.report.expectedQuarantined);
    expect(r.report.onFailure).toBe(0);
  });
});
