/**
 * Test support: the compute node table, its stream and the notifier, simulated for the
 * indexer's tests, with the notifications made by the REAL notification builder from real
 * Lambda-shaped stream records.
 *
 * - {@link playHistory}: one node's history (stream on throughout), for the order key tests;
 * - {@link playFleet}: a small fleet's history in three phases, the issue-10 story:
 *   1. before: writes (watched fields, and fields only the indexer reads), creates, soft
 *      deletes, undeletes, removes, and the stream disabled then re-enabled (a new epoch, later
 *      label, sequence numbers starting LOWER than the old epoch's; writes while it is off
 *      make no record at all). Each notification of this phase is dropped, delivered (maybe
 *      twice) or delivered late (after the resync started);
 *   2. one resync run, as the protocol says: start event, the anchor marker (the first live
 *      item in scan order) before the scan, then the scan's marker writes (conditional: the
 *      item exists and is not soft-deleted) interleaved with fleet writes, then the end event
 *      with `refreshed` = successful marker writes;
 *   3. every message of phase 2 (and the late ones of phase 1) delivered at least once, some
 *      twice, in any order.
 *   The notifier watches the union of the spec's fields and the indexer's read fields, so
 *   changes to indexed fields ARE notified.
 */
import fc from 'fast-check';
import { loadConfig } from '../../functions/notifier/config.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { compilePayloadEncoder } from '../../functions/notifier/payload-encoder.js';
import { ComputeNodePayload, RESYNC_MARKER_ATTRIBUTE, RESYNC_RUN_DETAIL_TYPE, SPEC_WATCHED_FIELDS } from '../../functions/notifier/contract/index.js';
import { REFERENCE_INDEXER_READ_FIELDS } from '../../functions/indexer/read-fields.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';
import { novaTimestamp } from '../../functions/notifier/codec/nova-timestamp.js';
import { seededRandom } from '../../local/seeded-random.js';
import { insert, modify, nodeImage, remove, type Image } from '../support/records.js';

/** The fields the simulated notifier watches: the spec's nine and every field the reference indexer reads. */
export const UNION_WATCHED = [...new Set([...SPEC_WATCHED_FIELDS, ...REFERENCE_INDEXER_READ_FIELDS])].join(',');
export const builder = createNotificationBuilder(loadConfig({ EVENT_BUS_NAME: 'bus', PUBLISHER_HOST_FALLBACK: 'fallback', WATCHED_FIELDS: UNION_WATCHED }));
const encode = compilePayloadEncoder(ComputeNodePayload);

/** An EventBridge event as a rule delivers it to an SQS target. */
export function envelope(detailType: string, detail: string, time = '2026-11-26T19:06:02Z'): string {
  return `{"version":"0","id":"00000000-0000-0000-0000-000000000000","detail-type":"${detailType}","source":"openstack.nova","account":"123456789012","time":"${time}","region":"us-east-1","resources":[],"detail":${detail}}`;
}

/** `nova_object.data` of an image, as the notifier encodes it. */
export function dataJsonOf(image: Image): string {
  const r = encode(image);
  if (!r.ok) throw new Error('invalid image');
  const prefix = r.json.indexOf('"nova_object.data":') + '"nova_object.data":'.length;
  return r.json.slice(prefix, -1);
}

export const isLiveImage = (image: Image | undefined): image is Image => image !== undefined && (image.deleted === undefined || image.deleted.N === '0');

export const uuidOf = (n: number) => `5eed0000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`;

const streamArn = (label: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/${label}`;
const BASE_MS = 1_795_719_961_000;
const labelAt = (ms: number) => new Date(ms).toISOString().slice(0, 23);

/**
 * The table and its stream: writes change items and (while the stream is on) make records in
 * the current epoch, which the real builder turns into notifications (event bodies).
 */
export class SimulatedTable {
  readonly items = new Map<string, Image>();
  /** Every notification made, as delivered event bodies, in order. */
  readonly notifications: string[] = [];
  clockMs = BASE_MS;
  private label = labelAt(BASE_MS - 86_400_000);
  private seq: bigint;
  streamOn = true;
  epochs = 1;

  constructor(firstSequence = 10n ** 20n) {
    this.seq = firstSequence;
  }

  /** Advances the clock by 1–`maxMs` ms (every record is at a distinct instant). */
  tick(random: () => number, maxMs = 900): void {
    this.clockMs += 1 + Math.floor(random() * maxMs);
  }

  /** Disables the stream (writes make no record until {@link enableStream}). */
  disableStream(): void {
    this.streamOn = false;
  }

  /** Enables the stream: a new ARN with a later label; its sequence numbers start at `firstSequence` (lower than the old ones). */
  enableStream(firstSequence: bigint): void {
    if (this.streamOn) return;
    this.streamOn = true;
    this.epochs++;
    this.label = labelAt(this.clockMs);
    this.seq = firstSequence;
  }

  private record(r: ReturnType<typeof insert>, step: bigint): void {
    if (!this.streamOn) return;
    this.seq += step;
    const sequence = this.seq.toString().padStart(21, '0');
    const arn = streamArn(this.label);
    const withStream = { ...r, eventID: `${this.label}/${sequence}`, eventSourceARN: arn, dynamodb: { ...r.dynamodb, SequenceNumber: sequence, ApproximateCreationDateTime: this.clockMs / 1000 } };
    const outcome = builder(withStream as StreamRecord);
    if (outcome.kind === 'invalid') throw new Error(`the simulation made an invalid record: ${JSON.stringify(outcome.issues)}`);
    if (outcome.kind === 'notify') this.notifications.push(envelope(outcome.notification.eventType, outcome.notification.entry.Detail!));
  }

  /** PutItem (create or replace). */
  put(image: Image, step = 1n): void {
    const uuid = image.uuid!.S!;
    const old = this.items.get(uuid);
    this.items.set(uuid, image);
    this.record(old === undefined ? insert(image) : modify(old, image), step);
  }

  /** UpdateItem of an existing item (other attributes, the marker included, are kept); false when absent. */
  update(uuid: string, changes: Image, step = 1n): boolean {
    const old = this.items.get(uuid);
    if (old === undefined) return false;
    const fresh = { ...old, ...changes };
    this.items.set(uuid, fresh);
    this.record(modify(old, fresh), step);
    return true;
  }

  remove(uuid: string, step = 1n): void {
    const old = this.items.get(uuid);
    if (old === undefined) return;
    this.items.delete(uuid);
    this.record(remove(old), step);
  }

  /** The resync's marker write: `SET resync_run = :run` if the item exists and is not soft-deleted. */
  writeMarker(uuid: string, run: string): boolean {
    const item = this.items.get(uuid);
    if (!isLiveImage(item)) return false;
    return this.update(uuid, { [RESYNC_MARKER_ATTRIBUTE]: { S: run } });
  }

  /** Nova's timestamp of now, for a control event's `started_at`. */
  now(): string {
    return novaTimestamp(this.clockMs / 1000);
  }
}

/** A control event of a resync run, as delivered. */
export function runEvent(runId: string, phase: 'start' | 'end', startedAt: string, refreshed?: number): string {
  const detail =
    phase === 'start'
      ? `{"run_id":"${runId}","phase":"start","started_at":"${startedAt}","table":"ComputeNodes"}`
      : `{"run_id":"${runId}","phase":"end","started_at":"${startedAt}","refreshed":${refreshed}}`;
  return envelope(RESYNC_RUN_DETAIL_TYPE, detail);
}

// ---------------------------------------------------------------------------------------------
// One node, stream on throughout

export type Op =
  | { kind: 'write'; vcpusUsed: number; freeRam: number | null; hostChange: boolean }
  | { kind: 'softDelete' }
  | { kind: 'undelete' }
  | { kind: 'remove' };

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), vcpusUsed: fc.integer({ min: 0, max: 40 }), freeRam: fc.option(fc.integer({ min: 0, max: 9000 })), hostChange: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'softDelete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'undelete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'remove' as const }) },
);

export interface History {
  /** Every notification, as delivered event bodies, in the order they were made. */
  readonly deliveries: string[];
  /** The table's final item (undefined: removed or never written). */
  readonly finalImage: Image | undefined;
  readonly notified: boolean;
}

/** Plays `ops` on node `n`; each write changes vcpus_used (watched) and maybe free RAM and host. */
export function playHistory(n: number, ops: readonly Op[], firstSequence: bigint): History {
  const table = new SimulatedTable(firstSequence);
  const uuid = uuidOf(n);
  let writes = 0;
  const random = seededRandom(n);
  for (const o of ops) {
    table.tick(random);
    const image = table.items.get(uuid);
    switch (o.kind) {
      case 'write': {
        writes++;
        const current = image?.vcpus_used?.N;
        const used = String(o.vcpusUsed) === current ? o.vcpusUsed + 41 : o.vcpusUsed;
        const fresh = nodeImage(n, {
          vcpus_used: { N: String(used) },
          free_ram_mb: o.freeRam === null ? { NULL: true } : { N: String(o.freeRam) },
          ...(o.hostChange ? { host: { S: `host-${writes % 3}` } } : {}),
          ...(image?.deleted === undefined ? {} : { deleted: image.deleted }),
        });
        table.put(fresh, BigInt(1 + (writes % 7)));
        break;
      }
      case 'softDelete':
        if (image !== undefined) table.update(uuid, { deleted: { N: String(n) } });
        break;
      case 'undelete':
        if (image?.deleted !== undefined) table.update(uuid, { deleted: { N: '0' } });
        break;
      case 'remove':
        table.remove(uuid);
        break;
    }
  }
  return { deliveries: table.notifications, finalImage: table.items.get(uuid), notified: table.notifications.length > 0 };
}

/**
 * A node's history and a delivery order: every notification at least once, some more than
 * once, shuffled (an at-least-once bus that does not order).
 */
export function scenario(maxOps: number) {
  return fc.array(op, { maxLength: maxOps }).chain((ops) => {
    const count = playHistory(1, ops, 1000n).deliveries.length;
    const indices = Array.from({ length: count }, (_, i) => i);
    const duplicates = count === 0 ? fc.constant([] as number[]) : fc.array(fc.constantFrom(...indices), { maxLength: count });
    return duplicates.chain((dups) => {
      const all = [...indices, ...dups];
      return fc.shuffledSubarray(all, { minLength: all.length }).map((order) => ({ ops, order }));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A fleet, a gap, one resync

export type FleetOp =
  /** Changes vcpus_used (a spec-watched field), maybe free RAM and host too. */
  | { kind: 'write'; node: number; value: number; alsoIndexed: boolean }
  /** Changes only fields the spec does not watch but the indexer reads (memory_mb_used, free_ram_mb, free_disk_gb, host). */
  | { kind: 'indexedOnly'; node: number; value: number }
  | { kind: 'create'; node: number }
  | { kind: 'softDelete'; node: number }
  | { kind: 'undelete'; node: number }
  | { kind: 'remove'; node: number }
  /** Disables the stream, or re-enables it with a new epoch whose sequence numbers start lower. */
  | { kind: 'toggleStream' };

export function fleetOp(nodes: number): fc.Arbitrary<FleetOp> {
  const node = fc.integer({ min: 1, max: nodes });
  const value = fc.integer({ min: 0, max: 5000 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), node, value, alsoIndexed: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('indexedOnly' as const), node, value }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('softDelete' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('undelete' as const), node }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), node }) },
  );
}

const gapOp = (nodes: number): fc.Arbitrary<FleetOp> => fc.oneof({ weight: 12, arbitrary: fleetOp(nodes) }, { weight: 1, arbitrary: fc.constant({ kind: 'toggleStream' as const }) });

export interface FleetScenario {
  readonly nodes: number;
  /** Phase 1. */
  readonly before: readonly FleetOp[];
  /** Fleet writes during the run: `during[i]` runs before the scan's i-th item (leftovers after the scan). */
  readonly during: readonly FleetOp[];
  /** Seed of the deliveries' fates and orders. */
  readonly seed: number;
}

export function fleetScenario(opts: { nodes?: number; maxBefore?: number; maxDuring?: number } = {}): fc.Arbitrary<FleetScenario> {
  const nodes = opts.nodes ?? 6;
  return fc.record({
    nodes: fc.constant(nodes),
    before: fc.array(gapOp(nodes), { maxLength: opts.maxBefore ?? 40 }),
    during: fc.array(fleetOp(nodes), { maxLength: opts.maxDuring ?? 12 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
}

export interface FleetHistory {
  readonly runId: string;
  /** Messages delivered before the run started (dropped ones left out, duplicates in), in delivery order. */
  readonly early: string[];
  /** Messages delivered once the run started: its control events, its notifications, the fleet's, late ones of phase 1; in delivery order. */
  readonly late: string[];
  /** Node uuid → the table's final item (absent: removed or never created). */
  readonly table: ReadonlyMap<string, Image>;
  /** Every node uuid the history touched. */
  readonly universe: readonly string[];
  readonly refreshed: number;
  /** What happened, for the generator's coverage checks. */
  readonly stats: { dropped: number; epochs: number; deletedInGap: number; runWrites: number };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Plays a {@link FleetScenario}: the table's history, the run, and the deliveries. */
export function playFleet(s: FleetScenario, runId = `00000000-0000-4000-8000-${String(s.seed).padStart(12, '0')}`): FleetHistory {
  const random = seededRandom(s.seed);
  const table = new SimulatedTable();
  let writes = 0;
  let deletedInGap = 0;
  const apply = (o: FleetOp, inGap: boolean) => {
    table.tick(random);
    if (o.kind === 'toggleStream') {
      if (table.streamOn) table.disableStream();
      else table.enableStream(1000n + BigInt(Math.floor(random() * 1000)));
      return;
    }
    const uuid = uuidOf(o.node);
    const image = table.items.get(uuid);
    writes++;
    switch (o.kind) {
      case 'create':
        if (image === undefined) table.put(nodeImage(o.node, { vcpus_used: { N: String(writes % 8) } }));
        break;
      case 'write': {
        if (image === undefined) break;
        const used = String(o.value % 64) === image.vcpus_used?.N ? (o.value % 64) + 64 : o.value % 64;
        table.update(uuid, {
          vcpus_used: { N: String(used) },
          ...(o.alsoIndexed ? { free_ram_mb: { N: String(o.value) }, host: { S: `host-${o.value % 4}` } } : {}),
        });
        break;
      }
      case 'indexedOnly': {
        if (image === undefined) break;
        const ram = String(o.value) === image.free_ram_mb?.N ? o.value + 5001 : o.value;
        table.update(uuid, {
          memory_mb_used: { N: String(16384 - ram) },
          free_ram_mb: { N: String(ram) },
          free_disk_gb: { N: String(ram % 500) },
          host: { S: `moved-${ram % 5}` },
        });
        break;
      }
      case 'softDelete':
        if (isLiveImage(image)) {
          table.update(uuid, { deleted: { N: String(o.node) } });
          if (inGap) deletedInGap++;
        }
        break;
      case 'undelete':
        if (image !== undefined && !isLiveImage(image)) table.update(uuid, { deleted: { N: '0' } });
        break;
      case 'remove':
        if (image !== undefined) {
          table.remove(uuid);
          if (inGap && isLiveImage(image)) deletedInGap++;
        }
        break;
    }
  };

  // Phase 1: the gap. Everything starts with every node created (delivered or not).
  for (let n = 1; n <= s.nodes; n++) apply({ kind: 'create', node: n }, false);
  for (const o of s.before) apply(o, true);
  if (!table.streamOn) {
    table.tick(random);
    table.enableStream(500n + BigInt(Math.floor(random() * 500)));
  }
  const phase1 = table.notifications.splice(0);

  // Phase 2: one resync run.
  table.tick(random);
  const startedAt = table.now();
  const control: string[] = [runEvent(runId, 'start', startedAt)];
  // Scan order: DynamoDB's (hash order); any fixed permutation of the keys will do.
  const scanOrder = shuffle([...table.items.keys()], random);
  let refreshed = 0;
  const anchor = scanOrder.find((uuid) => isLiveImage(table.items.get(uuid)));
  if (anchor !== undefined) {
    table.tick(random);
    if (table.writeMarker(anchor, runId)) refreshed++;
  }
  let next = 0;
  const fleetWrite = () => {
    if (next < s.during.length) apply(s.during[next++]!, false);
  };
  // The segmented scan reads every key present from its start to its end; an item created
  // during the scan may or may not be read: here it is not (the case the sweep must not hurt).
  for (const uuid of scanOrder) {
    fleetWrite();
    if (uuid === anchor) continue;
    table.tick(random);
    if (table.writeMarker(uuid, runId)) refreshed++;
  }
  const runWrites = next;
  while (next < s.during.length) fleetWrite();
  table.tick(random);
  control.push(runEvent(runId, 'end', startedAt, refreshed));
  const phase2 = table.notifications.splice(0);

  // Deliveries: phase-1 notifications dropped (a quarter), delivered before the run (maybe
  // twice), or delivered late; everything of phase 2 at least once, in any order.
  const early: string[] = [];
  const late: string[] = [];
  let dropped = 0;
  for (const body of phase1) {
    const fate = random();
    if (fate < 0.25) dropped++;
    else if (fate < 0.8) {
      early.push(body);
      if (random() < 0.2) early.push(body);
    } else late.push(body);
  }
  for (const body of [...control, ...phase2]) {
    late.push(body);
    if (random() < 0.2) late.push(body);
  }
  const universe = Array.from({ length: s.nodes }, (_, i) => uuidOf(i + 1));
  return {
    runId,
    early: shuffle(early, random),
    late: shuffle(late, random),
    table: table.items,
    universe,
    refreshed,
    stats: { dropped, epochs: table.epochs, deletedInGap, runWrites: runWrites + (s.during.length - runWrites) },
  };
}
