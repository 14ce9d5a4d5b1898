/** The quarantine queue refusing (503s and hang-ups) for 8 s at a time while 20% of the writes are invalid. */
import { FaultLog, FaultWindow, sqsFaults } from '../local/faults.js';
import { seededRandom } from '../local/seeded-random.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const quarantineOutage: SoakScenario = {
  name: 'quarantine down',
  what: 'SQS refusing 8 s on / 4 s off, 20% invalid writes; 3 s invocations',
  run: (o) =>
    withPipeline({ batchSize: 100, timeoutMs: 3_000 }, async (f) => {
      const log = new FaultLog();
      f.pipeline.sqs.faults = sqsFaults({ window: new FaultWindow({ onMs: 8_000, offMs: 4_000 }), unavailable: 0.8, drop: 0.2, random: seededRandom(o.seed), log });
      const writes = await randomWorkload(f.writer, { nodes: 200, writes: 2_000, random: seededRandom(o.seed + 1), concurrency: 8, invalidRate: 0.2 });
      const report = await finish('quarantine down', f, writes);
      const handedBack = f.outcomes.filter((x) => x.kind === 'partial').length;
      return { report, faults: `${log.summary()} ${runtimeSummary(f)}`, notes: [`${handedBack} invocations handed records back`] };
    }),
};
