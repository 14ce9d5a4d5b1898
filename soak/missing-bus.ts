/**
 * A bus that does not exist (PutEvents would answer success): the notifier refuses to start
 * handling records, so every record ends, whole, in the on-failure destination after Lambda's
 * retry (1 here), and nothing is put into the void.
 */
import { seededRandom } from '../local/seeded-random.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const missingBus: SoakScenario = {
  name: 'missing bus',
  what: "EVENT_BUS_NAME names a bus that does not exist; Lambda's retries: 1",
  run: (o) =>
    withPipeline({ batchSize: 100, maxRetries: 1, notifierBusName: 'no-such-bus' }, async (f) => {
      const writes = await randomWorkload(f.writer, { nodes: 20, writes: 150, random: seededRandom(o.seed), concurrency: 8 });
      const report = await finish('missing bus', f, writes, { expectAll: { kind: 'on_failure', why: 'the bus does not exist' } });
      const putEvents = f.pipeline.eventBus.stats.requests;
      return {
        report,
        faults: runtimeSummary(f),
        notes: [`${putEvents} PutEvents requests reached the bus; ${f.pipeline.onFailureRecords.length} on-failure batches`],
      };
    }),
};
