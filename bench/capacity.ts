/**
 * Fleet scale, capacity (§7b): for 100,000, 1,000,000 and 10,000,000 compute nodes, what the
 * default stack asks of each quota (infra/capacity-model.ts) in each class of region
 * (infra/capacity-quotas.ts), what it costs, and which quota each mix reaches first, at what
 * fleet size, and what to do about it.
 *
 * The record mixes are the seam to the fleet-scale section: each is a fraction of stream
 * records notified. The handler is measured once per mix (CPU per record, requests per batch)
 * for the billed duration, hence the cost and the Lambda concurrency; the rates themselves are
 * the model's arithmetic.
 *
 * @example
 * ```ts
 * const capacity = await measureCapacity({ tiny: false });
 * console.log(renderCapacity(capacity).join('\n'));
 * ```
 */
import { capacityDemand, DEFAULT_CAPACITY_INPUTS, walls, type CapacityDemand, type Wall } from '../infra/capacity-model.js';
import { QUOTA_TABLE, QUOTAS_READ_ON, quotaSources, quotasFor, REGION_CLASSES, type QuotaKey, type QuotaSource, type RegionClass } from '../infra/capacity-quotas.js';
import { FLEET_ASSUMPTIONS, fleetScale, type FleetBatchFigures, type MixRate } from './fleet.js';
import { measureBatch } from './handler-cpu.js';
import { benchNotifier } from './harness.js';
import type { RecordMix } from './record-mix.js';
import { spliceSection } from './splice-section.js';

/** The fleet sizes of the capacity table. */
export const FLEET_SIZES = [100_000, 1_000_000, 10_000_000] as const;

/**
 * Rules a notification matches in the default stack: the example route (RunningVms), the
 * reference indexer's route, and the archive's rule. Every one counted for every notification:
 * the bound (the example route matches only updates whose running_vms changed).
 */
export const DEFAULT_STACK_RULES = 3;

/** A record mix of the fleet-scale section: the fraction of stream records that become notifications. */
export interface CapacityMix {
  readonly name: string;
  readonly fractionNotified: number;
  /** Stream records a report makes (a report that changes nothing writes none). @default FLEET_ASSUMPTIONS.fractionOfReportsWritten (1) */
  readonly recordsPerReport?: number;
  /** Where the fraction comes from. */
  readonly note: string;
}

/** The capacity mixes of measured rates (§7a): each mix exact and with resolution, once when the two are the same. */
export function capacityMixesFrom(rates: readonly MixRate[]): CapacityMix[] {
  return rates.flatMap((r) => {
    const exact = { name: `${r.mix}, exact`, fractionNotified: r.exact.fractionNotified, recordsPerReport: r.recordsPerReport, note: 'measured in §7a, watched fields exact' };
    if (r.withResolution.fractionNotified === r.exact.fractionNotified) return [{ ...exact, name: `${r.mix}, exact or with resolution`, note: 'measured in §7a: the resolutions change nothing here' }];
    return [exact, { name: `${r.mix}, with resolution`, fractionNotified: r.withResolution.fractionNotified, recordsPerReport: r.recordsPerReport, note: 'measured in §7a, at the resolutions the consumers declare' }];
  });
}

/**
 * The mixes when no measured rates are given (`capacityMixesFrom` takes §7a's): §7's
 * assumption, and the bound (every report notified) the default watched fields approach on a
 * fleet whose usage fields drift.
 */
export const CAPACITY_MIXES: readonly CapacityMix[] = [
  { name: `${FLEET_ASSUMPTIONS.fractionWatched * 100} % notified`, fractionNotified: FLEET_ASSUMPTIONS.fractionWatched, note: "the fleet-scale section's assumption (§7)" },
  {
    name: 'every record notified',
    fractionNotified: 1,
    note: 'the bound; the default watched fields include memory_mb_used and free_ram_mb, which hypervisor overhead moves on most reports, so a drifting fleet comes close to it',
  },
];

/** A stream event's mix that notifies `fraction` of its records (watched updates; the rest suppressed). */
export function mixNotifying(fraction: number): RecordMix {
  return { create: 0, watchedUpdate: fraction, unwatchedUpdate: 1 - fraction, delete: 0, invalid: 0 };
}

/** One fleet size and mix: the demand, the cost, and each region class's first wall. */
export interface CapacityRow {
  readonly computeNodes: number;
  readonly mix: string;
  readonly demand: CapacityDemand;
  readonly billedMsPerInvocation: number;
  readonly monthlyUsd: number;
  /** Per region class (REGION_CLASSES order): the quota reached first and how much of it this size uses. */
  readonly regions: readonly { readonly classId: string; readonly first: QuotaKey; readonly used: number }[];
}

/** For a mix and region class: the quota reached first, at what fleet size, and the one after it. */
export interface FirstWall {
  readonly mix: string;
  readonly classId: string;
  readonly first: Wall;
  readonly second: Wall | undefined;
}

export interface CapacityResult {
  readonly rules: number;
  readonly batchSize: number;
  readonly reportIntervalSeconds: number;
  readonly mixes: readonly (CapacityMix & { readonly measured: FleetBatchFigures })[];
  readonly rows: readonly CapacityRow[];
  readonly firstWalls: readonly FirstWall[];
  readonly regionClasses: readonly RegionClass[];
  readonly quotasReadOn: string;
  readonly sources: readonly QuotaSource[];
  /** When the mixes' batches were measured (this section may come from `npm run bench -- --capacity`, apart from the rest). */
  readonly measuredAt?: string;
}

/** The capacity table from one measured batch per mix (pure: the arithmetic of infra/capacity-model.ts and bench/fleet.ts). */
export function capacityFromMeasured(mixes: readonly (CapacityMix & { readonly measured: FleetBatchFigures })[], rules = DEFAULT_STACK_RULES): CapacityResult {
  const rows: CapacityRow[] = [];
  const firstWalls: FirstWall[] = [];
  const demandFor = (computeNodes: number, mix: CapacityMix & { readonly measured: FleetBatchFigures }) => {
    const recordsPerReport = mix.recordsPerReport ?? FLEET_ASSUMPTIONS.fractionOfReportsWritten;
    const fleet = fleetScale(mix.measured, { ...FLEET_ASSUMPTIONS, computeNodes, fractionWatched: mix.fractionNotified, fractionOfReportsWritten: recordsPerReport });
    const demand = capacityDemand({
      ...DEFAULT_CAPACITY_INPUTS,
      computeNodes,
      reportIntervalSeconds: FLEET_ASSUMPTIONS.reportIntervalSeconds,
      fractionOfReportsWritten: recordsPerReport,
      batchSize: FLEET_ASSUMPTIONS.batchSize,
      fractionNotified: mix.fractionNotified,
      rules,
      billedMsPerInvocation: fleet.billedMsPerInvocation,
    });
    return { fleet, demand };
  };
  for (const mix of mixes) {
    for (const computeNodes of FLEET_SIZES) {
      const { fleet, demand } = demandFor(computeNodes, mix);
      rows.push({
        computeNodes,
        mix: mix.name,
        demand,
        billedMsPerInvocation: fleet.billedMsPerInvocation,
        monthlyUsd: fleet.monthly.totalUsd,
        regions: REGION_CLASSES.map((c) => {
          const first = walls(demand, quotasFor(c.regions[0]))[0]!;
          return { classId: c.id, first: first.key, used: first.used };
        }),
      });
    }
    // Linear demand: any size gives the same fleet size at each quota.
    const { demand } = demandFor(FLEET_SIZES[0], mix);
    for (const c of REGION_CLASSES) {
      const w = walls(demand, quotasFor(c.regions[0]));
      firstWalls.push({ mix: mix.name, classId: c.id, first: w[0]!, second: w[1] });
    }
  }
  return {
    rules,
    batchSize: FLEET_ASSUMPTIONS.batchSize,
    reportIntervalSeconds: FLEET_ASSUMPTIONS.reportIntervalSeconds,
    mixes,
    rows,
    firstWalls,
    regionClasses: REGION_CLASSES,
    quotasReadOn: QUOTAS_READ_ON,
    sources: quotaSources(),
  };
}

/** Measures the handler on each mix (a batch of the fleet's batch size), then the capacity table. */
export async function measureCapacity(opts: { tiny: boolean; mixes?: readonly CapacityMix[]; rules?: number }): Promise<CapacityResult> {
  const measured: (CapacityMix & { measured: FleetBatchFigures })[] = [];
  for (const mix of opts.mixes ?? CAPACITY_MIXES) {
    const b = await measureBatch(benchNotifier(), opts.tiny ? 20 : FLEET_ASSUMPTIONS.batchSize, mixNotifying(mix.fractionNotified), opts.tiny);
    measured.push({
      ...mix,
      measured: { records: b.records, cpuUsPerRecord: b.cpuUsPerRecord, notificationsPerBatch: b.notifications, putEventsRequestsPerBatch: b.putEventsRequests, entryBytes: b.meanEntryBytes },
    });
  }
  return { ...capacityFromMeasured(measured, opts.rules ?? DEFAULT_STACK_RULES), measuredAt: new Date().toISOString() };
}

const WALL_NAMES: Record<QuotaKey, string> = {
  putEvents: 'PutEvents',
  invocations: 'rule invocations',
  lambdaConcurrency: 'Lambda concurrency',
  rulesPerBus: 'rules per bus',
  partitionWrites: 'partition writes',
};

/** The remedies in a table cell; the full sentences are in infra/capacity-model.ts (REMEDIES) and docs/capacity.md. */
const SHORT_REMEDIES: Record<QuotaKey, string> = {
  putEvents: 'quota increase (adjustable, L-9B653E91); field resolutions; a larger batch or batching window when batches carry few notifications',
  invocations: 'quota increase (adjustable, L-5540C5E3); field resolutions; fewer or broader routes; fan-out through a second bus in another account or region',
  lambdaConcurrency: 'quota increase (adjustable, L-B99A9384); reserved concurrency for the notifier',
  rulesPerBus: 'quota increase (adjustable, L-244521F2); broader routes; a second bus',
  partitionWrites: 'none needed: the table adds partitions',
};

const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const n1 = (x: number): string => (x >= 100 ? n0(x) : x.toFixed(1));
const usd = (x: number): string => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const pct = (x: number): string => `${x >= 0.1 ? n0(x * 100) : (x * 100).toPrecision(2)} %`;
/** A fleet size to three significant figures (the model is not more precise than that). */
const nodes = (x: number): string => (x === Infinity ? 'never' : x === 0 ? 'any size' : x >= 1_000_000 ? `${Number((x / 1_000_000).toPrecision(3))} M` : n0(Number(x.toPrecision(3))));

function classLabel(c: RegionClass): string {
  return c.regions.length === 0 ? 'every other region' : c.regions.join(', ');
}

/** The §7b section's lines. */
export function renderCapacity(r: CapacityResult): string[] {
  const L: string[] = [];
  L.push('## 7b. Capacity: where the first wall stands');
  L.push('');
  L.push(
    `Every compute node reports every ${r.reportIntervalSeconds} s; a report that changes the item makes one stream record (one write unit); batches of ${r.batchSize}; ` +
      `${r.rules} rules per notification (the example route, the reference indexer's route and the archive, each counted for every notification: the bound); ` +
      `a PutEvents request carries the notifications of one batch, up to 10. Billed duration per invocation as in §7, measured on a batch of each mix. ` +
      `Default quotas from AWS's pages, read ${r.quotasReadOn} (infra/capacity-quotas.ts).${r.measuredAt === undefined ? '' : ` This section: one run, ${r.measuredAt}.`} A region cell names the quota that size uses most, and how much of it: over 100 % is throttled.`,
  );
  L.push('');
  for (const mix of r.mixes) {
    const perReport = mix.recordsPerReport === undefined ? '' : `${mix.recordsPerReport.toFixed(3)} stream records a report, `;
    L.push(
      `**${mix.name}** (${mix.note}): ${perReport}${(mix.fractionNotified * 100).toFixed(1)} % of records notified. Measured: ${mix.measured.cpuUsPerRecord.toFixed(2)} µs CPU/record, ${mix.measured.putEventsRequestsPerBatch} PutEvents request(s) per ${mix.measured.records}-record batch.`,
    );
    L.push('');
    L.push(
      `| Nodes | Stream records/s | Shards | Notifications/s | PutEvents requests/s | Rule invocations/s | Lambda concurrency | Cost/month | ${r.regionClasses.map((c) => `${c.regions[0] === undefined ? 'other regions' : `${c.regions[0]} class`} (${n0(c.putEventsPerSecond)} / ${n0(c.invocationsPerSecond)})`).join(' | ')} |`,
    );
    L.push(`|${'---|'.repeat(8 + r.regionClasses.length)}`);
    for (const row of r.rows.filter((x) => x.mix === mix.name)) {
      const d = row.demand;
      const cells = row.regions.map(({ first, used }) => {
        const text = `${WALL_NAMES[first]} ${pct(used)}`;
        return used >= 1 ? `**${text}**` : text;
      });
      L.push(
        `| ${n0(row.computeNodes)} | ${n0(d.streamRecordsPerSecond)} | ${d.shards} | ${n0(d.notificationsPerSecond)} | ${n0(d.putEventsRequestsPerSecond)} | ${n0(d.ruleInvocationsPerSecond)} | ${n1(d.lambdaConcurrency ?? 0)} | ${usd(row.monthlyUsd)} | ${cells.join(' | ')} |`,
      );
    }
    L.push('');
  }
  L.push('The first limit reached, by region class and mix (the fleet size at which it is reached), and what to do:');
  L.push('');
  L.push('| Region class (PutEvents/s, invocations/s) | Mix | First limit | Reached at | Then | Remedy |');
  L.push('|---|---|---|---|---|---|');
  for (const f of r.firstWalls) {
    const c = r.regionClasses.find((x) => x.id === f.classId)!;
    const then = f.second === undefined ? '–' : `${WALL_NAMES[f.second.key]} at ${nodes(f.second.fleetSizeAtQuota)}`;
    L.push(`| ${classLabel(c)} (${n0(c.putEventsPerSecond)}, ${n0(c.invocationsPerSecond)}) | ${f.mix} | ${WALL_NAMES[f.first.key]} | **${nodes(f.first.fleetSizeAtQuota)} nodes** | ${then} | ${SHORT_REMEDIES[f.first.key]} |`);
  }
  L.push('');
  L.push(
    `Shards: at most ${n0(1000)} write units a second per DynamoDB partition, so the stream has at least one shard per ${n0(1000)} records a second; the table adds partitions by itself (not a wall). ` +
      `Lambda concurrency: the default ${n0(1000)} is shared by every function of the account and region. Past the PutEvents quota: ${QUOTA_TABLE.putEvents.pastIt}. Past the invocations quota: ${QUOTA_TABLE.invocations.pastIt}. Sources:`,
  );
  for (const s of r.sources) L.push(`- ${s.title}: ${s.url} (read ${s.read})`);
  L.push('');
  return L;
}

/** Replaces (or inserts before `## 8.`) the §7b section of a results.md text. */
export function spliceCapacitySection(markdown: string, section: readonly string[]): string {
  return spliceSection(markdown, section, '## 7b.', ['## 8.']);
}
