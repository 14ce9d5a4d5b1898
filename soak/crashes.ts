/**
 * The function failing: the process dying in the middle of a batch (after its first PutEvents
 * answer), invocations timing out while a request is in flight (answered 4 s late against a
 * 3 s timeout), and the instance replaced every 20 invocations.
 */
import { busFaults, FaultLog } from '../local/faults.js';
import { seededRandom } from '../local/seeded-random.js';
import type { FaultPipeline } from '../test/faults/pipeline-support.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const crashes: SoakScenario = {
  name: 'crashes',
  what: 'crash mid-batch (20%), time-outs with a request in flight, restarts',
  run: (o) => {
    let current: FaultPipeline | undefined;
    const random = seededRandom(o.seed + 7);
    let invocations = 0;
    return withPipeline(
      {
        batchSize: 100,
        timeoutMs: 3_000,
        onInvoke: () => {
          if (current === undefined) return;
          if (++invocations % 20 === 0) current.runtime.restart();
          if (random() < 0.2) current.runtime.crashNextInvocation(1 + Math.floor(random() * 3));
        },
      },
      async (f) => {
        current = f;
        const log = new FaultLog();
        f.pipeline.eventBus.faults = busFaults({ delay: { share: 0.02, ms: 4_000 }, random: seededRandom(o.seed), log });
        const writes = await randomWorkload(f.writer, { nodes: 300, writes: 3_000, random: seededRandom(o.seed + 1), concurrency: 16 });
        const report = await finish('crashes', f, writes);
        return { report, faults: `${log.summary()} ${runtimeSummary(f)}`, notes: [] };
      },
    );
  },
};
