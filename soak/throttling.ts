/** PutEvents throttled for 3 s at a time (then 2 s of calm), longer than the notifier may retry within one invocation. */
import { busFaults, FaultLog, FaultWindow } from '../local/faults.js';
import { seededRandom } from '../local/seeded-random.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const throttling: SoakScenario = {
  name: 'throttling',
  what: 'PutEvents throttled 3 s on / 2 s off; 3 s invocations',
  run: (o) =>
    withPipeline({ batchSize: 100, timeoutMs: 3_000 }, async (f) => {
      const log = new FaultLog();
      f.pipeline.eventBus.faults = busFaults({ window: new FaultWindow({ onMs: 3_000, offMs: 2_000 }), throttleRequests: 0.5, failEntries: 1, random: seededRandom(o.seed), log });
      const writes = await randomWorkload(f.writer, { nodes: 300, writes: 3_000, random: seededRandom(o.seed + 1), concurrency: 16 });
      const report = await finish('throttling', f, writes);
      const handedBack = f.outcomes.filter((x) => x.kind === 'partial').length;
      return { report, faults: `${log.summary()} ${runtimeSummary(f)}`, notes: [`${handedBack} invocations handed records back (batch item failure)`] };
    }),
};
