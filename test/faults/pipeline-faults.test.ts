/**
 * Faults on the whole local pipeline: DynamoDB Local's real stream, the event source
 * mapping (bisect, bounded retries, partial batch responses), the real notifier run as
 * Lambda runs it (crashes, restarts, time-outs), the local bus and the quarantine queue with
 * faults injected. One DynamoDB Local for the file; the scenarios run one after the other
 * and the invariants are checked over the whole stream after each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetSimulator } from '../../local/fleet-simulator.js';
import { busFaults, FaultLog, FaultWindow, sqsFaults } from '../../local/faults.js';
import { seededRandom } from '../../local/seeded-random.js';
import { BAD_INPUT_CASES, writeBadInput } from './bad-input.js';
import { checkInvariants, describeReport } from './invariants.js';
import { fleetProblems, observePipeline, startFaultPipeline, type FaultPipeline } from './pipeline-support.js';
import { randomWorkload } from './support.js';

let f: FaultPipeline;
const crashRandom = seededRandom(41);
let crashRate = 0;
let writes = 0;

beforeAll(async () => {
  f = await startFaultPipeline({
    timeoutMs: 3_000,
    batchSize: 100,
    // Now and then the process dies once its first PutEvents request is answered.
    onInvoke: () => {
      if (crashRandom() < crashRate) f.runtime.crashNextInvocation(1);
    },
  });
});

afterAll(async () => {
  await f?.stop();
});

const check = async (name: string) => {
  const report = checkInvariants(await observePipeline(name, f, writes), { imageProblems: fleetProblems });
  expect(report.violations, describeReport(report)).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.onFailure).toBe(0);
  return report;
};

describe('the local pipeline under faults', () => {
  it('a burst of 1,000 writes over 100 nodes, with PutEvents throttled, failing, dropped, and the function crashing', async () => {
    const log = new FaultLog();
    f.pipeline.eventBus.faults = busFaults({ throttleRequests: 0.05, internalErrors: 0.05, failEntries: 0.1, drop: 0.05, random: seededRandom(42), log });
    crashRate = 0.15;
    writes += await randomWorkload(f.writer, { nodes: 100, writes: 1_000, random: seededRandom(43), firstNode: 1, concurrency: 16 });
    const report = await check('burst');
    crashRate = 0;
    expect(report.expected).toBeGreaterThan(700);
    expect(log.count()).toBeGreaterThan(0);
    expect(f.runtime.stats.crashes).toBeGreaterThan(0);
  });

  it('every kind of invalid image written to the table while the quarantine queue is down: handed back, then quarantined', async () => {
    const log = new FaultLog();
    const outage = new FaultWindow();
    outage.set(true);
    const partialsBefore = f.outcomes.filter((o) => o.kind === 'partial').length;
    f.pipeline.sqs.faults = sqsFaults({ window: outage, unavailable: 1, random: seededRandom(44), log });
    const quarantinedBefore = f.pipeline.stats.quarantined;
    writes += await writeBadInput(f.writer, { firstNode: 1_000 });
    // The queue comes back once records were handed back to Lambda twice.
    const handedBack = () => f.outcomes.filter((o) => o.kind === 'partial').length - partialsBefore;
    const deadline = Date.now() + 60_000;
    while (handedBack() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(handedBack()).toBeGreaterThanOrEqual(2);
    expect(f.pipeline.stats.quarantined).toBe(quarantinedBefore);
    outage.set(false);
    const report = await check('bad input, quarantine down');
    expect(log.count()).toBeGreaterThan(0);
    expect(f.pipeline.stats.quarantined - quarantinedBefore).toBeGreaterThanOrEqual(2 * BAD_INPUT_CASES.filter((c) => c.problems !== undefined).length);
    expect(report.expectedQuarantined).toBeGreaterThan(0);
  });

  it('the fleet simulator with random faults and restarts', async () => {
    const log = new FaultLog();
    f.pipeline.eventBus.faults = busFaults({ failEntries: 0.2, drop: 0.05, random: seededRandom(45), log });
    f.pipeline.sqs.faults = sqsFaults({ failEntries: 0.3, drop: 0.1, random: seededRandom(46), log });
    const fleet = new FleetSimulator({ client: f.pipeline.ddb, tableName: f.pipeline.tableName, nodes: 30, seed: 47, invalidWriteRate: 0.05, lifecycleRate: 0.3 });
    for (let i = 0; i < 60; i++) {
      await fleet.step();
      if (i % 15 === 14) f.runtime.restart();
    }
    await fleet.stop();
    writes += fleet.stats.writes;
    expect(fleet.stats.byKind.invalid).toBeGreaterThan(0);
    expect(fleet.stats.byKind.soft_delete + fleet.stats.byKind.hard_delete).toBeGreaterThan(0);
    await check('fleet');
    expect(log.count()).toBeGreaterThan(0);
  });
});
