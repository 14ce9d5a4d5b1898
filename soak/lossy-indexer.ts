/**
 * The reference indexer as the soak's resync scenarios feed it: with what the bus accepted,
 * losing deliveries on purpose while `lossy` (a quarter dropped, one in ten held back until the
 * end, as a dead-letter queue redriven late would), afterwards delivering everything shuffled,
 * some twice, except what `holdBack` picks (kept until the end too).
 */
import { checkDrift, type DriftReport } from '../functions/indexer/drift.js';
import { createIndexer, type IndexerStats } from '../functions/indexer/indexer.js';
import type { FleetSimulator } from '../local/fleet-simulator.js';
import type { DeliveredEvent } from '../local/targets.js';
import { RESYNC_RUN_DETAIL_TYPE } from '../functions/notifier/contract/index.js';
import type { Observation } from '../test/faults/invariants.js';
import type { FaultPipeline } from '../test/faults/pipeline-support.js';

/** Waits until the poller has finished every record it read and the bus has accepted nothing new for a second. */
export async function waitForQuiet(f: FaultPipeline): Promise<void> {
  let seen = -1;
  for (let i = 0; i < 600; i++) {
    const s = f.pipeline.poller.stats;
    if (s.delivered + s.failed === s.records && f.delivered.length === seen) return;
    seen = f.delivered.length;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error('the pipeline did not catch up in 10 minutes');
}

/** The observation without the resync runs' control events: they are not notifications of records, which the invariants are about. */
export const withoutRunEvents = (o: Observation): Observation => ({ ...o, delivered: o.delivered.filter((e) => e['detail-type'] !== RESYNC_RUN_DETAIL_TYPE) });

export const describeKinds = (sim: FleetSimulator) =>
  Object.entries(sim.stats.byKind)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/** The reference indexer fed from the bus's accepted events, with a fate for each. */
export class LossyIndexer {
  private cursor = 0;
  private readonly held: DeliveredEvent[] = [];
  readonly stats: IndexerStats = { applied: 0, duplicate: 0, stale: 0, failed: 0, runEvents: 0, swept: 0, sweepsPaused: 0 };
  dropped = 0;
  heldBack = 0;
  /** While true, deliveries are dropped or held back; afterwards all arrive. */
  lossy = true;
  /** Afterwards: the deliveries kept until the end anyway (late, as from a dead-letter queue redriven). @default none */
  holdBack: (event: DeliveredEvent) => boolean = () => false;
  /** The deliveries `holdBack` kept. */
  readonly keptBack: DeliveredEvent[] = [];
  private readonly index;

  constructor(
    private readonly f: FaultPipeline,
    readonly tableName: string,
    private readonly random: () => number,
  ) {
    this.index = createIndexer({ dynamodb: f.pipeline.ddb, tableName, logger: { info: () => {}, warn: () => {}, error: () => {} }, concurrency: 8 });
  }

  /** Applies what the bus accepted since the last call (and, with `release`, what was held back). */
  async feed(release = false): Promise<void> {
    const fresh = this.f.delivered.slice(this.cursor);
    this.cursor += fresh.length;
    const batch: DeliveredEvent[] = [];
    for (const event of fresh) {
      if (this.lossy) {
        const fate = this.random();
        if (fate < 0.25) this.dropped++;
        else if (fate < 0.35) {
          this.held.push(event);
          this.heldBack++;
        } else batch.push(event);
      } else if (this.holdBack(event)) {
        this.held.push(event);
        this.keptBack.push(event);
      } else {
        batch.push(event);
        if (this.random() < 0.1) batch.push(event);
      }
    }
    if (release) batch.push(...this.held.splice(0));
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [batch[i], batch[j]] = [batch[j]!, batch[i]!];
    }
    for (let i = 0; i < batch.length; i += 100) {
      let records = batch.slice(i, i + 100).map((e, k) => ({ messageId: `${i + k}-${e.id}`, body: JSON.stringify(e) }));
      for (let attempt = 0; records.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`the indexer keeps failing ${records.length} message(s)`);
        const out = await this.index({ Records: records as never });
        for (const k of ['applied', 'duplicate', 'stale', 'runEvents', 'swept'] as const) this.stats[k] += out.stats[k];
        const failed = new Set(out.batchItemFailures.map((x) => x.itemIdentifier));
        records = records.filter((r) => failed.has(r.messageId));
      }
    }
  }
  /** Drift between the pipeline's table and this indexer's read model, every field compared exactly. */
  readModelDrift(): Promise<DriftReport> {
    return checkDrift(this.f.pipeline.ddb, { tableName: this.f.pipeline.tableName, indexerTableName: this.tableName });
  }
}
