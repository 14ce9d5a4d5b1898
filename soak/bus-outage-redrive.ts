/**
 * The bus refuses every PutEvents for longer than Lambda's retries last (2 here, 3 s
 * invocations): whole batches are given up on and written to the on-failure bucket's stand-in.
 * The automatic redrive tries them, backs off (1 s doubling to 4 s) while the bus still
 * refuses, and publishes them once it recovers. Nothing may be lost; `redriven` counts the
 * records the redrive published.
 */
import { busFaults, FaultLog, FaultWindow } from '../local/faults.js';
import { seededRandom } from '../local/seeded-random.js';
import { randomWorkload, waitUntil } from '../test/faults/support.js';
import { finish, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

const OUTAGE_MS = 20_000;

export const busOutageRedrive: SoakScenario = {
  name: 'outage and redrive',
  what: `the bus refuses every PutEvents for ${OUTAGE_MS / 1000} s, longer than Lambda's 2 retries; the automatic redrive publishes the given-up batches once it recovers`,
  run: (o) =>
    withPipeline({ batchSize: 50, maxRetries: 2, timeoutMs: 3_000, redrive: { baseDelaySeconds: 1, maxDelaySeconds: 4 } }, async (f) => {
      const redrive = f.pipeline.redrive!;
      const log = new FaultLog();
      const outage = new FaultWindow();
      outage.set(true);
      const started = Date.now();
      f.pipeline.eventBus.faults = busFaults({ window: outage, internalErrors: 1, random: seededRandom(o.seed), log });
      const writes = await randomWorkload(f.writer, { nodes: 40, writes: 400, random: seededRandom(o.seed + 1), concurrency: 8 });
      await waitUntil(() => redrive.stats.kept > 0 && redrive.stats.retries > 0, 'a batch given up on and a redrive attempt refused', 120_000);
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - started))));
      const keptDuringOutage = redrive.stats.kept;
      outage.set(false);
      o.log(`outage over after ${((Date.now() - started) / 1000).toFixed(0)} s: ${keptDuringOutage} batches in the on-failure bucket, ${redrive.stats.retries} redrive attempts refused`);
      const s = () => f.pipeline.poller.stats;
      await waitUntil(() => s().delivered + s().failed === s().records && redrive.idle(), 'the stream and the redrive to finish', 300_000);
      const report = await finish('outage and redrive', f, writes);
      return {
        report,
        redriven: redrive.stats.redrivenRecords,
        faults: `${log.summary()} ${runtimeSummary(f)}`,
        notes: [
          `${redrive.stats.kept} batches (${f.pipeline.stats.onFailure} records) given up on, ${redrive.stats.redrivenObjects} redriven, ${redrive.stats.retries} redrive attempts backed off`,
        ],
      };
    }),
};
