/**
 * Gap and repair: the reference indexer, fed with what the bus accepted, loses notifications
 * on purpose (a quarter dropped, one in ten held back and delivered only after the repair, as
 * a dead-letter queue redriven late would), while the fleet writes, creates, soft-deletes and
 * removes nodes; then one resync run (the CLI's code: lease, start event, anchor, marker
 * writes, end event) while the fleet keeps writing; every delivery from then on arrives, some
 * twice, shuffled. At the end `drift` must report nothing: the read model equals the table for
 * every node and every compared field. The notifier watches the spec's fields and every field
 * the indexer reads (as the stack deploys it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDrift, summarizeDrift } from '../functions/indexer/drift.js';
import { REFERENCE_INDEXER_READ_FIELDS } from '../functions/indexer/read-fields.js';
import { SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';
import { FleetSimulator } from '../local/fleet-simulator.js';
import { createIndexerTable } from '../local/indexer-table.js';
import { seededRandom } from '../local/seeded-random.js';
import { resyncCommand } from '../cli/resync.js';
import { checkInvariants } from '../test/faults/invariants.js';
import { observePipeline, type FaultPipeline } from '../test/faults/pipeline-support.js';
import { describeKinds, LossyIndexer, waitForQuiet, withoutRunEvents } from './lossy-indexer.js';
import { repeatUntilStopped, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';

const WATCHED = [...new Set([...SPEC_WATCHED_FIELDS, ...REFERENCE_INDEXER_READ_FIELDS])];
const NODES = 200;

export const gapAndRepair: SoakScenario = {
  name: 'gap and repair',
  what: 'the indexer loses notifications (dropped, held back), then one resync while the fleet writes; drift must report nothing',
  run: (o) =>
    withPipeline({ batchSize: 100, timeoutMs: 30_000, notifierEnvironment: { WATCHED_FIELDS: WATCHED.join(',') } }, async (f) => {
      const random = seededRandom(o.seed + 11);
      const indexerTable = await createIndexerTable(f.pipeline.ddb, 'gap-and-repair-index');
      const indexer = new LossyIndexer(f, indexerTable, random);
      const sim = new FleetSimulator({ client: f.pipeline.ddb, tableName: f.pipeline.tableName, nodes: NODES, seed: o.seed, reportEveryTicks: 2, invalidWriteRate: 0, lifecycleRate: 1 });
      const feeder = repeatUntilStopped(() => indexer.feed(), 250);

      // The gap: long enough for the fleet's lifecycle (creates, soft deletes, removes) to run,
      // and lossy until the pipeline has delivered every notification of it.
      const gapMs = Math.max(10, o.fleetSeconds / 2) * 1000;
      const started = Date.now();
      while (Date.now() - started < gapMs || sim.stats.writes < 8 * NODES) await sim.step();
      const gapWrites = sim.stats.writes;
      await waitForQuiet(f);
      await indexer.feed();
      o.log(`gap and repair: ${gapWrites} writes during the gap (${describeKinds(sim)}), ${indexer.dropped} deliveries dropped, ${indexer.heldBack} held back`);
      // The gap must have left the read model wrong, or the repair proves nothing.
      const before = await indexer.readModelDrift();
      o.log(`before the repair: ${summarizeDrift(before)}`);

      // The repair: one resync while the fleet keeps writing; from here every delivery arrives.
      indexer.lossy = false;
      const dir = mkdtempSync(join(tmpdir(), 'gap-and-repair-'));
      const lines: string[] = [];
      const io = { stdout: (t: string) => void lines.push(t), stderr: () => {}, readStdin: async () => '' };
      let resyncDone = false;
      const resync = resyncCommand(
        [
          '--table', f.pipeline.tableName,
          '--bus-name', f.pipeline.busArn,
          '--source', f.pipeline.notifierConfig.eventSource,
          '--dynamodb-endpoint', f.pipeline.dynamodb.endpoint,
          '--eventbridge-endpoint', f.pipeline.busEndpoint,
          '--checkpoint', join(dir, 'checkpoint.json'),
          '--segments', '4',
        ],
        io,
        { env: {} },
      ).finally(() => (resyncDone = true));
      while (!resyncDone) await sim.step();
      const afterRun = Date.now();
      while (Date.now() - afterRun < 3_000) await sim.step();
      await sim.stop();
      const exit = await resync;
      rmSync(dir, { recursive: true, force: true });
      if (exit !== 0) throw new Error(`resync exited ${exit}: ${lines.join('')}`);

      // Drain: the notifier's invariants, then the indexer, then drift.
      const observed = await observePipeline('gap and repair', f, sim.stats.writes, 600_000);
      // The run's control events are not notifications of records: the invariants are about the latter.
      const observation = withoutRunEvents(observed);
      const runEvents = observed.delivered.length - observation.delivered.length;
      // The oracle knows the marker rule itself: each marker record is expected as its run's notification.
      const report = checkInvariants(observation, { watchedFields: WATCHED });
      await feeder.stop();
      await indexer.feed(true);
      const drift = await indexer.readModelDrift();
      o.log(summarizeDrift(drift));
      const s = indexer.stats;
      return {
        report: {
          ...report,
          violations: [
            ...report.violations,
            ...(before.differences.length === 0 ? ['the gap left no drift to repair: the scenario shows nothing (lose more deliveries)'] : []),
            ...drift.differences.map((d) => `DRIFT ${describeDrift(d)}`),
          ],
        },
        faults: `indexer deliveries: ${indexer.dropped} dropped, ${indexer.heldBack} held back and delivered after the resync; ${runtimeSummary(f)}`,
        notes: [
          `resync: ${lines.join('').trim()} (${runEvents} control events on the bus)`,
          `indexer applied ${s.applied}, duplicates ${s.duplicate}, stale ${s.stale}, run events ${s.runEvents}, swept ${s.swept}`,
          `${gapWrites} writes in the gap, ${sim.stats.writes - gapWrites} during and after the resync (${describeKinds(sim)})`,
          `before the resync: ${summarizeDrift(before)}`,
          `after: ${summarizeDrift(drift)}`,
        ],
      };
    }),
};
