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
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { STARTED_AT_SKEW_MARGIN_MS } from '../../functions/indexer/resync-sweep.js';
import type { Lease } from '../../functions/resync/lease.js';
import { checkResyncState, newResyncState, runResync, totals } from '../../functions/resync/resync.js';
import type { TokenBucket } from '../../functions/resync/token-bucket.js';
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

/** Whether the notifier would encode this image (not one the fleet made invalid). */
export const isValidImage = (image: Image): boolean => encode(image).ok;

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
  /** Records the notifier quarantined (invalid images). */
  quarantined = 0;
  /** Writes made while the stream was off (no record at all), and of them the resync's marker writes. */
  unrecorded = 0;
  markersUnrecorded = 0;

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
    if (!this.streamOn) {
      this.unrecorded++;
      return;
    }
    this.seq += step;
    const sequence = this.seq.toString().padStart(21, '0');
    const arn = streamArn(this.label);
    const withStream = { ...r, eventID: `${this.label}/${sequence}`, eventSourceARN: arn, dynamodb: { ...r.dynamodb, SequenceNumber: sequence, ApproximateCreationDateTime: this.clockMs / 1000 } };
    const outcome = builder(withStream as StreamRecord);
    // An invalid image (the fleet's `invalidate`) is quarantined by the notifier: no notification.
    if (outcome.kind === 'invalid') this.quarantined++;
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
    if (!this.streamOn) this.markersUnrecorded++;
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
  /** Makes the item one the notifier rejects (a fraction in an integer field): its records are quarantined. */
  | { kind: 'invalidate'; node: number }
  /** Disables the stream, or re-enables it with a new epoch whose sequence numbers start lower. */
  | { kind: 'toggleStream' }
  /** While a run is stopped: deletes, soft-deletes or invalidates the `back`-th node the run marked last. */
  | { kind: 'hitMarked'; how: 'remove' | 'softDelete' | 'invalidate'; back: number };

export function fleetOp(nodes: number, opts: { invalid?: boolean } = {}): fc.Arbitrary<FleetOp> {
  const node = fc.integer({ min: 1, max: nodes });
  const value = fc.integer({ min: 0, max: 5000 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), node, value, alsoIndexed: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('indexedOnly' as const), node, value }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('softDelete' as const), node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('undelete' as const), node }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), node }) },
    { weight: opts.invalid ? 1 : 0, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), node }) },
  );
}

const gapOp = (nodes: number): fc.Arbitrary<FleetOp> => fc.oneof({ weight: 12, arbitrary: fleetOp(nodes) }, { weight: 1, arbitrary: fc.constant({ kind: 'toggleStream' as const }) });

/** The run stops after its `afterWrites`-th marker write; `meanwhile` happens before it resumes. */
export interface RunStop {
  readonly afterWrites: number;
  /** Killed: nothing it knew since its last checkpoint is kept (its final save lost too). */
  readonly crash: boolean;
  readonly meanwhile: readonly FleetOp[];
}

/**
 * The run's `afterWrites`-th marker write is made, its answer lost (a timeout, a 500), and the node
 * deleted or soft-deleted before the SDK's own retry, whose condition then fails: the run sees a
 * ConditionalCheckFailedException with `$metadata.attempts` 2, as the SDK reports it
 * (test/resync/lost-response.test.ts shows it with a real client).
 */
export interface LostAnswer {
  readonly afterWrites: number;
  readonly how: 'remove' | 'softDelete';
}

export interface FleetScenario {
  readonly nodes: number;
  /** Phase 1. */
  readonly before: readonly FleetOp[];
  /** Fleet writes during the run: one before each of the run's Scan pages and marker writes (leftovers after the run). */
  readonly during: readonly FleetOp[];
  /** Where the run stops and is resumed (none: it runs through). */
  readonly stops: readonly RunStop[];
  /** Marker writes whose answer is lost while the node goes away (none: every answer arrives). */
  readonly lostAnswers?: readonly LostAnswer[];
  readonly totalSegments: number;
  readonly pageSize: number;
  /** Seed of the deliveries' fates and orders. */
  readonly seed: number;
}

/**
 * Fleet histories. `interrupted`: the run stops (Ctrl-C, a deadline) or is killed mid-page and
 * resumed, and while it is stopped the fleet deletes, soft-deletes and invalidates nodes (those
 * the run marked last, most often); the fleet also writes invalid items during the run.
 */
export function fleetScenario(opts: { nodes?: number; maxBefore?: number; maxDuring?: number; interrupted?: boolean } = {}): fc.Arbitrary<FleetScenario> {
  const nodes = opts.nodes ?? 6;
  const invalid = opts.interrupted === true;
  const meanwhile = fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('hitMarked' as const), how: fc.constantFrom('remove' as const, 'softDelete' as const, 'invalidate' as const), back: fc.nat({ max: 3 }) }) },
      { weight: 1, arbitrary: fleetOp(nodes, { invalid }) },
    ),
    { minLength: 1, maxLength: 4 },
  );
  const stop = fc.record({ afterWrites: fc.integer({ min: 1, max: nodes + 2 }), crash: fc.boolean(), meanwhile });
  return fc.record({
    nodes: fc.constant(nodes),
    before: fc.array(gapOp(nodes), { maxLength: opts.maxBefore ?? 40 }),
    // Interrupted runs also meet the stream disabled and re-enabled (a new epoch) while they go.
    during: fc.array(invalid ? fc.oneof({ weight: 12, arbitrary: fleetOp(nodes, { invalid }) }, { weight: 1, arbitrary: fc.constant({ kind: 'toggleStream' as const }) }) : fleetOp(nodes), {
      maxLength: opts.maxDuring ?? 12,
    }),
    stops: invalid ? fc.array(stop, { minLength: 1, maxLength: 3 }) : fc.constant([]),
    lostAnswers: invalid
      ? fc.array(fc.record({ afterWrites: fc.integer({ min: 1, max: nodes + 2 }), how: fc.constantFrom('remove' as const, 'softDelete' as const) }), { maxLength: 2 })
      : fc.constant([]),
    totalSegments: fc.integer({ min: 1, max: 3 }),
    pageSize: fc.integer({ min: 1, max: 3 }),
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
  /** The end event's count (the real run's). */
  readonly refreshed: number;
  /** Distinct nodes the run's notifications are about (what `refreshed` must never be below). */
  readonly runNotified: number;
  /** The run's marker writes whose record the notifier quarantined (the item made invalid between the scan and the write). */
  readonly invalidAtWrite: number;
  /** The run's own count of items it could not be sure of. */
  readonly uncertain: number;
  /** The run's marker writes made while the stream was off (counted, never notified). */
  readonly markersUnrecorded: number;
  /** Writes of phase 2 (the fleet's and the run's) made while the stream was off: changes no notification carries. */
  readonly unrecordedDuringRun: number;
  /** What happened, for the generator's coverage checks. */
  readonly stats: { dropped: number; epochs: number; deletedInGap: number; runWrites: number; stops: number; crashes: number; hitWhileStopped: number; lostAnswers: number };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** What a refused condition looks like to the run (functions/condition-failure.ts checks the name). */
const conditionFailure = () => Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

/**
 * DynamoDB as the resync run sees it, over the simulated table: Scan (whole table or one
 * segment, `Limit`, `ExclusiveStartKey`; keys in a fixed random order, as DynamoDB's hash order;
 * a key's segment is its rank modulo the segments) and the marker write (UpdateItem with its
 * condition: the item exists and is not soft-deleted). `before` runs before each request.
 */
function runClient(
  table: SimulatedTable,
  random: () => number,
  rank: (uuid: string) => number,
  before: (what: 'scan' | 'write', uuid?: string) => void,
  after: (uuid: string, made: boolean) => void,
  answerLost: (uuid: string) => boolean = () => false,
) {
  return {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const input = command.input;
      if (command.constructor.name === 'ScanCommand') {
        before('scan');
        const total = input.TotalSegments as number | undefined;
        const segment = input.Segment as number | undefined;
        const start = (input.ExclusiveStartKey as { uuid: { S: string } } | undefined)?.uuid.S;
        const from = start === undefined ? -1 : rank(start);
        const keys = [...table.items.keys()]
          .filter((u) => rank(u) > from && (total === undefined || rank(u) % total === segment))
          .sort((a, b) => rank(a) - rank(b));
        const limit = (input.Limit as number | undefined) ?? Infinity;
        const page = keys.slice(0, limit);
        const last = page.at(-1);
        return { Items: page.map((u) => structuredClone(table.items.get(u)!)), ...(keys.length > limit && last !== undefined ? { LastEvaluatedKey: { uuid: { S: last } } } : {}) };
      }
      if (command.constructor.name === 'UpdateItemCommand') {
        const uuid = (input.Key as { uuid: { S: string } }).uuid.S;
        before('write', uuid);
        table.tick(random);
        const run = (input.ExpressionAttributeValues as Record<string, { S?: string }>)[':run']!.S!;
        const quarantinedBefore = table.quarantined;
        const made = table.writeMarker(uuid, run);
        after(uuid, made && table.quarantined > quarantinedBefore);
        if (!made) throw conditionFailure();
        // The SDK's retry of a write that was made, refused because the node went away meanwhile.
        if (answerLost(uuid)) throw Object.assign(conditionFailure(), { $metadata: { attempts: 2 } });
        return {};
      }
      throw new Error(`the simulated table does not answer ${command.constructor.name}`);
    },
  } as unknown as DynamoDBClient;
}

/** Plays a {@link FleetScenario}: the table's history, the (real) resync run with its stops, and the deliveries. */
export async function playFleet(s: FleetScenario, runId = `00000000-0000-4000-8000-${String(s.seed).padStart(12, '0')}`): Promise<FleetHistory> {
  const random = seededRandom(s.seed);
  const table = new SimulatedTable();
  let writes = 0;
  let deletedInGap = 0;
  const marked: string[] = [];
  let hitWhileStopped = 0;
  const apply = (o: FleetOp, inGap: boolean) => {
    table.tick(random);
    if (o.kind === 'toggleStream') {
      if (table.streamOn) table.disableStream();
      else table.enableStream(1000n + BigInt(Math.floor(random() * 1000)));
      return;
    }
    if (o.kind === 'hitMarked') {
      const target = marked[marked.length - 1 - (o.back % Math.max(1, marked.length))];
      if (target === undefined) return;
      const image = table.items.get(target);
      if (!isLiveImage(image)) return;
      hitWhileStopped++;
      const n = Number(image.id!.N);
      apply({ kind: o.how, node: n }, false);
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
      case 'invalidate':
        if (image !== undefined && image.vcpus?.N !== '2.5') table.update(uuid, { vcpus: { N: '2.5' } });
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
  const unrecordedBefore = table.unrecorded;

  // Phase 2: one resync run, the real code (functions/resync/resync.ts) on the simulated table.
  // It starts a while after the gap (more than the sweep's clock-skew margin).
  table.clockMs += STARTED_AT_SKEW_MARGIN_MS + 1000;
  const ranks = new Map<string, number>();
  const rank = (uuid: string) => {
    let r = ranks.get(uuid);
    if (r === undefined) ranks.set(uuid, (r = Math.floor(random() * 2 ** 31)));
    return r;
  };
  for (const uuid of table.items.keys()) rank(uuid);
  let next = 0;
  const fleetWrite = () => {
    if (next < s.during.length) apply(s.during[next++]!, false);
  };
  const control: string[] = [];
  let killed = false;
  const eventBridge = {
    send: async (command: { input: { Entries: { DetailType?: string; Detail?: string }[] } }) => {
      // A killed run sends nothing more.
      if (killed) throw Object.assign(new Error('the process was killed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
      for (const e of command.input.Entries) control.push(envelope(e.DetailType!, e.Detail!));
      return { FailedEntryCount: 0, Entries: command.input.Entries.map(() => ({ EventId: 'x' })) };
    },
  } as unknown as EventBridgeClient;
  const lease: Lease = { acquire: async () => {}, renewIfDue: async () => {}, release: async () => {} };
  const bucket: TokenBucket = { take: async () => {}, grants: [] };
  let state = newResyncState('ComputeNodes', s.totalSegments, new Date(table.clockMs), runId);
  let saved = JSON.stringify(state);
  let runWrites = 0;
  let invalidAtWrite = 0;
  let stopIndex = 0;
  let lostAnswers = 0;
  const lostAt = new Map((s.lostAnswers ?? []).map((l) => [l.afterWrites, l.how] as const));
  let controller = new AbortController();
  const client = runClient(
    table,
    random,
    rank,
    (what) => {
      // A killed run reads and writes nothing more.
      if (killed) throw new Error('the process was killed');
      fleetWrite();
      if (what === 'write') runWrites++;
    },
    (uuid, quarantined) => {
      marked.push(uuid);
      if (quarantined) invalidAtWrite++;
      const stop = s.stops[stopIndex];
      if (stop !== undefined && runWrites >= stop.afterWrites && !controller.signal.aborted) {
        controller.abort();
        killed = stop.crash;
      }
    },
    (uuid) => {
      const how = lostAt.get(runWrites);
      const image = table.items.get(uuid);
      if (how === undefined || image === undefined) return false;
      lostAt.delete(runWrites);
      lostAnswers++;
      apply({ kind: how, node: Number(image.id!.N) }, false);
      return true;
    },
  );
  let stops = 0;
  let crashes = 0;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 20) throw new Error('the run does not finish');
    const result = await runResync(state, {
      dynamodb: client,
      eventBridge,
      eventBusName: 'bus',
      eventSource: 'openstack.nova',
      bucket,
      lease,
      pageSize: s.pageSize,
      segmentConcurrency: 2,
      signal: controller.signal,
      now: () => table.clockMs,
      sleep: async (ms) => void (table.clockMs += ms),
      onPage: (st) => {
        if (!killed) saved = JSON.stringify(st);
      },
    }).catch((error: unknown) => {
      if (!killed) throw error;
      return { complete: false };
    });
    if (result.complete) break;
    const stop = s.stops[stopIndex++]!;
    stops++;
    if (killed) {
      crashes++;
      state = checkResyncState(JSON.parse(saved));
    }
    killed = false;
    controller = new AbortController();
    for (const o of stop.meanwhile) apply(o, false);
  }
  while (next < s.during.length) fleetWrite();
  table.tick(random);
  const phase2 = table.notifications.splice(0);
  const t = totals(state);
  const runNotified = new Set(
    phase2
      .map((body) => JSON.parse(body) as { detail: { change?: { resync_run?: string | null }; payload?: { 'nova_object.data'?: { uuid?: string } } } })
      .filter((e) => e.detail.change?.resync_run === runId)
      .map((e) => e.detail.payload?.['nova_object.data']?.uuid),
  ).size;

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
    refreshed: t.refreshed,
    runNotified,
    invalidAtWrite,
    uncertain: t.uncertain,
    markersUnrecorded: table.markersUnrecorded,
    unrecordedDuringRun: table.unrecorded - unrecordedBefore,
    stats: { dropped, epochs: table.epochs, deletedInGap, runWrites, stops, crashes, hitWhileStopped, lostAnswers },
  };
}
