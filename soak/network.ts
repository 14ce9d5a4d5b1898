/** The network between the function and EventBridge: hang-ups before and after the bus took a request, requests never answered, 500s. */
import { busFaults, FaultLog } from '../local/faults.js';
import { seededRandom } from '../local/seeded-random.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const network: SoakScenario = {
  name: 'network',
  what: 'PutEvents: 5% dropped, 1% never answered, 5% InternalFailure, 10% entries refused',
  run: (o) =>
    withPipeline({ batchSize: 100, timeoutMs: 30_000 }, async (f) => {
      const log = new FaultLog();
      f.pipeline.eventBus.faults = busFaults({ drop: 0.05, hang: 0.01, internalErrors: 0.05, failEntries: 0.1, random: seededRandom(o.seed), log });
      const writes = await randomWorkload(f.writer, { nodes: 300, writes: 3_000, random: seededRandom(o.seed + 1), concurrency: 16 });
      const report = await finish('network', f, writes);
      return { report, faults: `${log.summary()} ${runtimeSummary(f)}`, notes: [] };
    }),
};
