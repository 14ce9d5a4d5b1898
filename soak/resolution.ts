/**
 * Soak: resolution of watched fields. The fleet simulator (hypervisor overhead drifting memory
 * on about half of the reports) writes flat out to a table whose notifier watches the default
 * stack's fields at the reference indexer's resolutions (free RAM and memory used within
 * 1 GB); an indexer applies every notification to its read model. At the end the invariants
 * hold (with the resolutions: a field counts as changed when its bucket changes, and the last
 * notification may differ from the table by less than the resolution), `drift` within the
 * resolution reports nothing, and exact drift shows what the resolution let through: only
 * fields with a resolution, each less than it apart.
 */
import { checkDrift, describeDrift, summarizeDrift } from '../functions/indexer/drift.js';
import { REFERENCE_INDEXER_READ_FIELDS, REFERENCE_INDEXER_RESOLUTIONS } from '../functions/indexer/read-fields.js';
import { SPEC_WATCHED_FIELDS } from '../functions/notifier/contract/index.js';
import { formatResolutions } from '../functions/notifier/field-resolution.js';
import { FleetSimulator } from '../local/fleet-simulator.js';
import { createIndexerTable } from '../local/indexer-table.js';
import { createIndexer } from '../functions/indexer/indexer.js';
import { fleetProblems, type FaultPipeline } from '../test/faults/pipeline-support.js';
import { finish, repeatUntilStopped, runtimeSummary, withPipeline, type SoakScenario } from './scenario.js';
import { waitForQuiet } from './lossy-indexer.js';

/** The default stack's watched fields: the spec's nine and what the reference indexer reads (test/infra/watched-fields.test.ts pins the same list). */
const WATCHED = [...new Set([...SPEC_WATCHED_FIELDS, ...REFERENCE_INDEXER_READ_FIELDS])];
const RESOLUTIONS = REFERENCE_INDEXER_RESOLUTIONS as Readonly<Record<string, number>>;
const NODES = 200;

/** The reference indexer fed, in order, every event the bus accepted (the route delivers them all). */
function indexerOf(f: FaultPipeline, tableName: string) {
  const index = createIndexer({ dynamodb: f.pipeline.ddb, tableName, logger: { info: () => {}, warn: () => {}, error: () => {} }, concurrency: 8 });
  let cursor = 0;
  return async function feed(): Promise<void> {
    const fresh = f.delivered.slice(cursor);
    cursor += fresh.length;
    for (let i = 0; i < fresh.length; i += 100) {
      let records = fresh.slice(i, i + 100).map((e, k) => ({ messageId: `${cursor}-${i + k}`, body: JSON.stringify(e) }));
      for (let attempt = 0; records.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`the indexer keeps failing ${records.length} message(s)`);
        const out = await index({ Records: records as never });
        const failed = new Set(out.batchItemFailures.map((x) => x.itemIdentifier));
        records = records.filter((r) => failed.has(r.messageId));
      }
    }
  };
}

const kindsOf = (sim: FleetSimulator) =>
  Object.entries(sim.stats.byKind)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

export const resolution: SoakScenario = {
  name: 'resolution',
  what: "the fleet simulator with memory fields watched within 1 GB (the default stack's resolutions), an indexer fed every notification; drift within the resolution must report nothing",
  run: (o) =>
    withPipeline(
      { batchSize: 100, timeoutMs: 30_000, notifierEnvironment: { WATCHED_FIELDS: WATCHED.join(','), WATCHED_FIELD_RESOLUTIONS: formatResolutions(RESOLUTIONS) } },
      async (f) => {
        const indexerTable = await createIndexerTable(f.pipeline.ddb, 'resolution-index');
        const feed = indexerOf(f, indexerTable);
        // No invalid writes: an invalid item at the end is drift of another kind (see interrupted-resync).
        const sim = new FleetSimulator({ client: f.pipeline.ddb, tableName: f.pipeline.tableName, nodes: NODES, seed: o.seed + 7, reportEveryTicks: 2, invalidWriteRate: 0, lifecycleRate: 0.5 });
        const feeder = repeatUntilStopped(feed, 250);
        try {
          const started = Date.now();
          let lastLog = started;
          while (Date.now() - started < o.fleetSeconds * 1000) {
            await sim.step();
            if (Date.now() - lastLog > 15_000) {
              lastLog = Date.now();
              o.log(`resolution: ${sim.stats.writes} writes, ${f.delivered.length} events (${Math.round((Date.now() - started) / 1000)} s)`);
            }
          }
          await sim.stop();
          await waitForQuiet(f);
          const report = await finish('resolution', f, sim.stats.writes, { watchedFields: WATCHED, fieldResolutions: RESOLUTIONS, imageProblems: fleetProblems });
          await feeder.stop();
          await feed();
          const within = await checkDrift(f.pipeline.ddb, { tableName: f.pipeline.tableName, indexerTableName: indexerTable, resolutions: RESOLUTIONS });
          const exact = await checkDrift(f.pipeline.ddb, { tableName: f.pipeline.tableName, indexerTableName: indexerTable, resolutions: {} });
          o.log(`within the resolution: ${summarizeDrift(within)}`);
          o.log(`exactly: ${summarizeDrift(exact)}`);
          // Exact drift may only be a field with a resolution, less than it apart (else the notifier lost an update).
          const beyond = exact.differences.flatMap((d) =>
            d.kind !== 'stale'
              ? [`EXACT DRIFT ${describeDrift(d)}`]
              : d.fields
                  .filter((x) => RESOLUTIONS[x.field] === undefined || !/^-?\d+$/.test(x.readModel) || !/^-?\d+$/.test(x.table) || Math.abs(Number(x.readModel) - Number(x.table)) >= RESOLUTIONS[x.field]!)
                  .map((x) => `EXACT DRIFT ${d.uuid} ${x.field}: read model ${x.readModel}, table ${x.table}`),
          );
          const fieldsHeldWithin = exact.differences.reduce((n, d) => n + (d.kind === 'stale' ? d.fields.length : 0), 0);
          return {
            report: {
              ...report,
              violations: [
                ...report.violations,
                ...within.differences.map((d) => `DRIFT ${describeDrift(d)}`),
                ...beyond,
                ...(fieldsHeldWithin === 0 ? ['exact drift found no field held within its resolution: the resolution suppressed nothing, the scenario shows nothing'] : []),
              ],
            },
            faults: `none injected; ${runtimeSummary(f)}`,
            notes: [
              `${report.records} stream records, ${report.expected} notifications expected at the resolutions (${formatResolutions(RESOLUTIONS)}), ${report.delivered} delivered (${kindsOf(sim)})`,
              `within the resolution: ${summarizeDrift(within)}`,
              `exactly: ${exact.differences.length} node(s), ${fieldsHeldWithin} field(s) held within the resolution, none beyond`,
            ],
          };
        } finally {
          await feeder.stop().catch(() => {});
          await sim.stop();
        }
      },
    ),
};
