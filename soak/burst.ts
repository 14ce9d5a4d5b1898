/** Load: a burst of 10,000 writes over 1,000 nodes, 32 in flight, as fast as DynamoDB Local takes them. */
import { seededRandom } from '../local/seeded-random.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const burst: SoakScenario = {
  name: 'burst 10k',
  what: '10,000 writes over 1,000 nodes, 32 in flight, no faults',
  run: (o) =>
    withPipeline({ batchSize: 100 }, async (f) => {
      const started = Date.now();
      const writes = await randomWorkload(f.writer, { nodes: 1_000, writes: 10_000, random: seededRandom(o.seed), concurrency: 32, invalidRate: 0.01 });
      const wrote = (Date.now() - started) / 1000;
      o.log(`burst: ${writes} writes in ${wrote.toFixed(1)} s; waiting for the pipeline`);
      const report = await finish('burst 10k', f, writes);
      const done = (Date.now() - started) / 1000;
      return { report, faults: runtimeSummary(f) || 'none', notes: [`${Math.round(writes / wrote)} writes/s; all notified ${done.toFixed(1)} s after the first write`] };
    }),
};
