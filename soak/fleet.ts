/**
 * Soak: the fleet simulator at the highest rate DynamoDB Local sustains (ticks back to back,
 * every node reporting every other tick, 32 writes in flight at most by the SDK's sockets),
 * for `--fleet-seconds`, with light faults all along: entries refused, connections dropped,
 * the quarantine failing entries, the function crashing now and then and restarted every 30 s.
 */
import { FleetSimulator } from '../local/fleet-simulator.js';
import { busFaults, FaultLog, sqsFaults } from '../local/faults.js';
import { seededRandom } from '../local/seeded-random.js';
import { fleetProblems, type FaultPipeline } from '../test/faults/pipeline-support.js';
import { crashSometimes, finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const fleet: SoakScenario = {
  name: 'fleet soak',
  what: 'the fleet simulator flat out for minutes, light faults, crashes, restarts',
  run: (o) => {
    let current: FaultPipeline | undefined;
    return withPipeline({ batchSize: 100, timeoutMs: 10_000, onInvoke: crashSometimes(() => current, 0.02, seededRandom(o.seed + 1)) }, async (f) => {
      current = f;
      const log = new FaultLog();
      f.pipeline.eventBus.faults = busFaults({ failEntries: 0.02, throttleRequests: 0.01, drop: 0.01, random: seededRandom(o.seed + 2), log });
      f.pipeline.sqs.faults = sqsFaults({ failEntries: 0.05, random: seededRandom(o.seed + 3), log });
      const sim = new FleetSimulator({
        client: f.pipeline.ddb,
        tableName: f.pipeline.tableName,
        nodes: 400,
        seed: o.seed,
        reportEveryTicks: 2,
        invalidWriteRate: 0.01,
        lifecycleRate: 0.5,
      });
      const started = Date.now();
      let lastRestart = started;
      let lastLog = started;
      while (Date.now() - started < o.fleetSeconds * 1000) {
        await sim.step();
        if (Date.now() - lastRestart > 30_000) {
          f.runtime.restart();
          lastRestart = Date.now();
        }
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          const s = f.pipeline.poller.stats;
          o.log(`fleet: ${sim.stats.writes} writes, ${s.records} records read, ${f.delivered.length} events (${Math.round((Date.now() - started) / 1000)} s)`);
        }
      }
      await sim.stop();
      const seconds = (Date.now() - started) / 1000;
      const report = await finish('fleet soak', f, sim.stats.writes, { imageProblems: fleetProblems });
      const kinds = Object.entries(sim.stats.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      return {
        report,
        faults: `${log.summary()} ${runtimeSummary(f)}`,
        notes: [`${Math.round(sim.stats.writes / seconds)} writes/s sustained for ${Math.round(seconds)} s (${kinds})`],
      };
    });
  },
};
