/** Every kind of invalid image (the catalogue of `test/faults/bad-input.ts`), three rounds, amid ordinary traffic. */
import { seededRandom } from '../local/seeded-random.js';
import { writeBadInput } from '../test/faults/bad-input.js';
import { randomWorkload } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

export const badInput: SoakScenario = {
  name: 'bad input',
  what: 'the invalid-image catalogue x3 amid 1,500 ordinary writes',
  run: (o) =>
    withPipeline({ batchSize: 100 }, async (f) => {
      const random = seededRandom(o.seed);
      let writes = 0;
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([
          randomWorkload(f.writer, { nodes: 100, writes: 500, random, concurrency: 8 }),
          writeBadInput(f.writer, { firstNode: 10_000 * (round + 1) }),
        ]);
        writes += a + b;
      }
      const report = await finish('bad input', f, writes);
      return { report, faults: runtimeSummary(f), notes: [] };
    }),
};
