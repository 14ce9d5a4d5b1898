/**
 * Notification rate of the default stack: the fraction of stream records that become
 * notifications (each one EventBridge event, the bulk of the bill) for the effective watched
 * fields of the stack `cdk.json` deploys, exact and with the resolutions its consumers declare.
 *
 * The records come from the fleet simulator (local/fleet-simulator.ts) writing to an in-memory
 * table that emits the stream records DynamoDB would (a write that changes nothing emits none),
 * in two mixes: the simulator's own (hypervisor overhead drifts memory on about half of the
 * reports, as measured usage does) and Nova's allocation semantics (usage moves only when
 * instances boot or stop). Every record goes through the real notification builder.
 *
 * @example
 * ```ts
 * const config = defaultStackNotifierConfig();
 * const records = await simulatedRecords({ mix: 'drifting-overhead' });
 * notificationRate(records.records, config).fractionNotified; // e.g. 0.9
 * ```
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { buildApp } from '../infra/build-app.js';
import type { NotifierConfig } from '../functions/notifier/config.js';
import type { FieldResolutions } from '../functions/notifier/field-resolution.js';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import { StreamRecord } from '../functions/notifier/stream-record.js';
import { FleetSimulator } from '../local/fleet-simulator.js';
import type { FleetRateRow } from './fleet.js';
import { spliceSection } from './splice-section.js';

/** What the notifier needs to decide: the effective watched fields and their resolutions. */
export type WatchConfig = Pick<NotifierConfig, 'watchedFields' | 'fieldResolutions'>;

/** The notifier configuration of the stack `cdk.json` deploys (its construct tree; nothing is bundled or synthesized to disk). */
export function defaultStackNotifierConfig(): WatchConfig {
  const context = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const outdir = mkdtempSync(join(tmpdir(), 'bench-stack-'));
  try {
    const { stack } = buildApp({ context: { ...context, 'aws:cdk:bundling-stacks': [] }, outdir });
    const { watchedFields, fieldResolutions } = stack.notifier.config;
    return { watchedFields, fieldResolutions };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export type RecordMixName = 'drifting-overhead' | 'nova-allocations';

export const RECORD_MIXES: Readonly<Record<RecordMixName, string>> = {
  'drifting-overhead': "the fleet simulator's: hypervisor overhead moves memory_mb_used and free_ram_mb by 1–64 MB on about half of the reports",
  'nova-allocations': "Nova's allocation semantics: usage fields move only when instances boot or stop (the same simulation without the overhead drift)",
};

export interface SimulatedRecords {
  readonly mix: RecordMixName;
  /** Lambda-shaped stream records, in order. */
  readonly records: readonly unknown[];
  /** Resource-tracker reports made (a report that changes nothing writes no stream record). */
  readonly reports: number;
  /** Stream records per report (lifecycle writes included). */
  readonly recordsPerReport: number;
}

type Item = Record<string, Record<string, unknown>>;
type Command = { constructor: { name: string }; input: Record<string, unknown> };

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2026-12-04T00:00:00.000';

/**
 * Runs the fleet simulator against an in-memory table and returns the stream records it makes.
 * Deterministic for a seed. `nodes` live nodes, `ticks` ticks (a node reports every 12 ± 3).
 */
export async function simulatedRecords(opts: { mix: RecordMixName; nodes?: number; ticks?: number; seed?: number }): Promise<SimulatedRecords> {
  const table = new Map<string, Item>();
  const records: unknown[] = [];
  let sequence = 0;
  const emit = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', uuid: string, images: { OldImage?: Item; NewImage?: Item }) => {
    sequence++;
    records.push({
      eventID: `rate-${sequence}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: ARN,
      dynamodb: {
        ApproximateCreationDateTime: 1_796_342_400 + Math.floor(sequence / 100),
        Keys: { uuid: { S: uuid } },
        SequenceNumber: String(sequence).padStart(21, '0'),
        SizeBytes: 1,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ...images,
      },
    });
  };
  const same = (a: Item, b: Item) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  // The three calls the simulator makes, as DynamoDB applies them and its stream reports them.
  const client = {
    send: async (command: Command) => {
      const input = command.input;
      switch (command.constructor.name) {
        case 'PutItemCommand': {
          const item = structuredClone(input.Item) as Item;
          const uuid = item.uuid!.S as string;
          const old = table.get(uuid);
          table.set(uuid, item);
          if (old === undefined) emit('INSERT', uuid, { NewImage: item });
          else if (!same(old, item)) emit('MODIFY', uuid, { OldImage: old, NewImage: item });
          return {};
        }
        case 'UpdateItemCommand': {
          const uuid = (input.Key as Item).uuid!.S as string;
          const old = table.get(uuid);
          if (old === undefined) return {};
          const values = input.ExpressionAttributeValues as Item;
          const item = { ...old, deleted: values[':d']!, updated_at: values[':u']! };
          table.set(uuid, item);
          if (!same(old, item)) emit('MODIFY', uuid, { OldImage: old, NewImage: item });
          return {};
        }
        case 'DeleteItemCommand': {
          const uuid = (input.Key as Item).uuid!.S as string;
          const old = table.get(uuid);
          table.delete(uuid);
          if (old !== undefined) emit('REMOVE', uuid, { OldImage: old });
          return {};
        }
        default:
          throw new Error(`the in-memory table does not model ${command.constructor.name}`);
      }
    },
  } as unknown as DynamoDBClient; // the three commands above are all the simulator sends
  let clock = Date.UTC(2026, 11, 4);
  const fleet = new FleetSimulator({
    client,
    tableName: 'nodes',
    nodes: opts.nodes ?? 200,
    seed: opts.seed ?? 24,
    overheadDrift: opts.mix === 'drifting-overhead',
    now: () => (clock += 1),
  });
  for (let i = 0; i < (opts.ticks ?? 3000); i++) await fleet.step();
  const k = fleet.stats.byKind;
  const reports = k.report + k.noop + k.boot + k.settle + k.terminate + k.invalid + k.repair;
  return { mix: opts.mix, records, reports, recordsPerReport: records.length / reports };
}

export interface NotificationRate {
  readonly records: number;
  readonly notified: number;
  readonly suppressed: number;
  /** Quarantined (invalid) and ignored (changes to soft-deleted nodes) records. */
  readonly other: number;
  /** Notifications per stream record. */
  readonly fractionNotified: number;
}

/**
 * The notification rate of a sequence of stream records under a watch configuration: every
 * record through the real notification builder (the capacity model consumes this).
 */
export function notificationRate(records: readonly unknown[], config: WatchConfig): NotificationRate {
  const build = createNotificationBuilder({ eventBusName: 'bench', eventSource: 'openstack.nova', publisherHostFallback: 'bench', ...config });
  let notified = 0;
  let suppressed = 0;
  for (const r of records) {
    const outcome = build(StreamRecord.parse(r));
    if (outcome.kind === 'notify') notified++;
    else if (outcome.kind === 'suppressed') suppressed++;
  }
  return { records: records.length, notified, suppressed, other: records.length - notified - suppressed, fractionNotified: records.length === 0 ? 0 : notified / records.length };
}

export interface MixRates {
  readonly mix: RecordMixName;
  readonly description: string;
  readonly reports: number;
  readonly recordsPerReport: number;
  /** The effective watched fields, every one exact. */
  readonly exact: NotificationRate;
  /** The same fields at the effective resolutions. */
  readonly withResolution: NotificationRate;
}

export interface NotificationRates {
  readonly watchedFields: readonly string[];
  readonly fieldResolutions: FieldResolutions;
  readonly simulation: { readonly nodes: number; readonly ticks: number; readonly seed: number };
  readonly mixes: readonly MixRates[];
}

/** Both mixes, exact and with the default stack's resolutions, from one simulation each. */
export async function measureNotificationRates(opts: { nodes?: number; ticks?: number; seed?: number; config?: WatchConfig } = {}): Promise<NotificationRates> {
  const config = opts.config ?? defaultStackNotifierConfig();
  const simulation = { nodes: opts.nodes ?? 200, ticks: opts.ticks ?? 3000, seed: opts.seed ?? 24 };
  const mixes: MixRates[] = [];
  for (const mix of Object.keys(RECORD_MIXES) as RecordMixName[]) {
    const sim = await simulatedRecords({ mix, ...simulation });
    mixes.push({
      mix,
      description: RECORD_MIXES[mix],
      reports: sim.reports,
      recordsPerReport: sim.recordsPerReport,
      exact: notificationRate(sim.records, { watchedFields: config.watchedFields, fieldResolutions: {} }),
      withResolution: notificationRate(sim.records, config),
    });
  }
  return { watchedFields: config.watchedFields, fieldResolutions: config.fieldResolutions, simulation, mixes };
}

/** §7a of bench/results.md: the rates and what they cost; `assumedFraction` is §7's assumption, named for contrast. */
export function renderNotificationRates(nr: NotificationRates, rows: readonly FleetRateRow[], assumedFraction: number): string[] {
  const fmt = (x: number, digits = 1) => x.toFixed(digits);
  const thousands = (x: number) => Math.round(x).toLocaleString('en-US');
  const usd = (x: number) => `$${x.toFixed(2)}`;
  const resolutions = Object.entries(nr.fieldResolutions).map(([field, n]) => `\`${field}\` ${thousands(n)}`).join(', ');
  const L: string[] = [];
  L.push("## 7a. The default stack's notification rate");
  L.push('');
  L.push(
    `§7 assumes ${fmt(assumedFraction * 100, 0)}% of records change a watched field. The default stack watches more: ${nr.watchedFields.map((x) => `\`${x}\``).join(', ')} ` +
      `(the spec's nine and what the reference indexer reads), at the resolutions its consumers declare (${resolutions === '' ? 'none' : resolutions}; the rest exact; docs/field-resolution.md). ` +
      `Measured: the fleet simulator (${nr.simulation.nodes} nodes, ${thousands(nr.simulation.ticks)} ticks, seed ${nr.simulation.seed}) writing to an in-memory table that emits the stream records DynamoDB would ` +
      `(a write that changes nothing emits none), every record through the real notification builder, in two mixes (bench/notification-rate.ts):`,
  );
  for (const m of nr.mixes) {
    L.push(
      `- ${m.mix}: ${m.description}. ${thousands(m.reports)} reports, ${thousands(m.exact.records)} stream records (${fmt(m.recordsPerReport, 3)} per report); ` +
        `notified: ${thousands(m.exact.notified)} exact, ${thousands(m.withResolution.notified)} with resolution (${thousands(m.exact.other)} quarantined or ignored).`,
    );
  }
  L.push('');
  L.push('| Record mix | Watched fields | Records/report | Records notified | Stream records/s | Notifications/s | Events/month | EventBridge/month | Total/month |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    L.push(
      `| ${row.mix} | ${row.resolution} | ${fmt(row.recordsPerReport, 3)} | ${fmt(row.fractionOfRecordsNotified * 100)}% | ${thousands(row.streamRecordsPerSecond)} | ${thousands(row.notificationsPerSecond)} | ` +
        `${fmt(row.eventsPerMonth / 1e6)} M | ${usd(row.eventBridgeUsdPerMonth)} | **${usd(row.totalUsdPerMonth)}** |`,
    );
  }
  L.push('');
  L.push(
    `§7's fleet, model and prices, with records per report and the fraction notified measured instead of assumed; PutEvents requests = ⌈notifications per batch / 10⌉; ` +
      `CPU per record and entry size from §7's batch. The simulator boots or stops an instance on about a fifth of its reports, far more churn than a steady fleet, ` +
      `and every such report changes exact watched fields: read the rows as the shape of the bill (what resolution removes is the drift), not as a forecast.`,
  );
  L.push('');
  return L;
}

/** Replaces §7a in results.md (or inserts it before §7b / §8). */
export function spliceNotificationRateSection(markdown: string, section: readonly string[]): string {
  return spliceSection(markdown, section, '## 7a.', ['## 7b.', '## 8.']);
}
