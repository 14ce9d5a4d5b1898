/**
 * A delivered message, read for the indexer: the EventBridge event (as the indexer route's
 * queue delivers it) or its bare `detail`, parsed with exact integers, checked for what the
 * indexer relies on, and reduced to what it stores. It is either a compute node notification
 * or a resync run's start/end control event (detail-type `hypervisor_notifier.resync_run`),
 * or the indexer's own note to go on with a paused sweep (`hypervisor_indexer.sweep`).
 * A message that is neither is an {@link UnreadableNotificationError} naming the problem
 * (the message is reported as failed and ends in the route's dead-letter queue).
 *
 * `change` version 1 had no `epoch` and no `resync_run`: both are read as null when absent.
 */
import { parseExactJson, stringifyExactJson, JsonNumber, ExactJsonError, type ExactJson } from './exact-json.js';
import { orderKey, OrderKeyError } from './order-key.js';
import { timestampKey, TimestampError } from './timestamp-key.js';
import { RESYNC_RUN_DETAIL_TYPE } from '../notifier/contract/resync-run-event.js';
import { HEARTBEAT_DETAIL_TYPE } from '../notifier/contract/heartbeat.js';

export type Origin = 'stream' | 'resync';

export { RESYNC_RUN_DETAIL_TYPE };

/** Detail type of the message the indexer puts on its own queue to go on with a paused sweep. */
export const SWEEP_CONTINUATION_DETAIL_TYPE = 'hypervisor_indexer.sweep';

/** Go on with run `runId`'s sweep from its saved position. */
export interface SweepContinuation {
  readonly kind: 'sweep';
  readonly runId: string;
  /**
   * Its place in the chain of continuations the indexer sent itself (1 = the first); the
   * indexer stops the chain at its bound (indexer.ts). 0 when absent: one sent by hand starts
   * a new chain.
   */
  readonly hop: number;
}

/** The body of a {@link SweepContinuation} message, shaped like the events the queue carries. */
export function sweepContinuationBody(runId: string, hop: number): string {
  return JSON.stringify({ 'detail-type': SWEEP_CONTINUATION_DETAIL_TYPE, detail: { run_id: runId, hop } });
}

/** A resync run's start or end, as its control event says. */
export interface ResyncRunEvent {
  readonly kind: 'resync_run';
  readonly runId: string;
  readonly phase: 'start' | 'end';
  /** `started_at` as a {@link timestampKey}. */
  readonly startedAt: string;
  /** End only: successful marker writes (the anchor counted once). */
  readonly refreshed?: number;
}

/** A heartbeat that came through the pipeline (functions/notifier/contract/heartbeat.ts), for a route that opts in. */
export interface HeartbeatMessage {
  readonly kind: 'heartbeat';
  /** When it was written (ISO), or null. */
  readonly writtenAt: string | null;
  /** When the notifier handled it (ISO). */
  readonly handledAt: string;
  readonly epoch: string | null;
  readonly sequenceNumber: string;
}

export type EventType = 'compute_node.create' | 'compute_node.update' | 'compute_node.delete';

/** The fields of a live node the indexer derives its query keys from. */
export interface NodeState {
  /** `nova_object.data` exactly as received (compact JSON, exact integers). */
  readonly dataJson: string;
  readonly payloadVersion: string;
  readonly hypervisorType: string;
  readonly host: string | null;
  readonly freeVcpus: bigint;
  readonly freeRamMb: bigint;
  readonly freeDiskGb: bigint;
}

export interface IndexerNotification {
  readonly kind: 'notification';
  readonly messageId: string;
  readonly eventType: EventType;
  readonly origin: Origin;
  readonly cause: string;
  readonly sequenceNumber: string;
  /** `change.epoch` (the stream label), null when absent. */
  readonly epoch: string | null;
  /** `change.resync_run`: the run that caused a resync notification, else null. */
  readonly resyncRun: string | null;
  /** Nova's `timestamp`, as received. */
  readonly timestamp: string;
  /** `timestamp` as a {@link timestampKey} (sortable). */
  readonly timestampKey: string;
  readonly orderKey: string;
  readonly uuid: string;
  /** For create and update; absent for delete. */
  readonly node?: NodeState;
}

export class UnreadableNotificationError extends Error {
  override readonly name = 'UnreadableNotificationError';
}

type Obj = { [key: string]: ExactJson };
const isObject = (v: ExactJson | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

function fail(why: string): never {
  throw new UnreadableNotificationError(why);
}

function text(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${where}${key} must be a string`);
  return v;
}

function integer(o: Obj, key: string, nullable: boolean): bigint | null {
  const v = o[key];
  if (v === null && nullable) return null;
  const n = v instanceof JsonNumber ? v.toBigInt() : undefined;
  if (n === undefined) fail(`payload field ${key} must be an integer${nullable ? ' or null' : ''}`);
  return n;
}

const PAYLOADS: Record<EventType, string> = {
  'compute_node.create': 'ComputeNodePayload',
  'compute_node.update': 'ComputeNodePayload',
  'compute_node.delete': 'ComputeNodeDeletePayload',
};

function nullableText(o: Obj, key: string, where: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v === '') fail(`${where}${key} must be a non-empty string or null, got ${v instanceof JsonNumber ? v.text : JSON.stringify(v)}`);
  return v;
}

function sortableTime(value: string, what: string): string {
  try {
    return timestampKey(value, what);
  } catch (error) {
    if (error instanceof TimestampError) fail(error.message);
    throw error;
  }
}

/** Parses an SQS message body that must be a compute node notification. */
export function readNotification(body: string): IndexerNotification {
  const m = readMessage(body);
  if (m.kind !== 'notification') {
    const what = m.kind === 'sweep' ? `${SWEEP_CONTINUATION_DETAIL_TYPE} control message` : m.kind === 'heartbeat' ? `${HEARTBEAT_DETAIL_TYPE} event` : `${RESYNC_RUN_DETAIL_TYPE} control event`;
    fail(`the message is a ${what}, not a compute node notification`);
  }
  return m;
}

/** Parses an SQS message body: an EventBridge event with `detail`, or a bare Detail. */
export function readMessage(body: string): IndexerNotification | ResyncRunEvent | SweepContinuation | HeartbeatMessage {
  let root: ExactJson;
  try {
    root = parseExactJson(body);
  } catch (error) {
    if (error instanceof ExactJsonError) fail(`the message is not JSON: ${error.message}`);
    throw error;
  }
  if (!isObject(root)) fail('the message is not a JSON object');
  const detail = 'detail' in root ? root.detail : root;
  if (!isObject(detail)) fail('the event has no detail object');
  if (root['detail-type'] === RESYNC_RUN_DETAIL_TYPE || (!('detail' in root) && 'run_id' in detail && 'phase' in detail)) return readRunEvent(detail);
  if (root['detail-type'] === HEARTBEAT_DETAIL_TYPE) {
    const where = `${HEARTBEAT_DETAIL_TYPE} detail.`;
    return {
      kind: 'heartbeat',
      writtenAt: nullableText(detail, 'written_at', where),
      handledAt: text(detail, 'handled_at', where),
      epoch: nullableText(detail, 'epoch', where),
      sequenceNumber: text(detail, 'sequence_number', where),
    };
  }
  if (root['detail-type'] === SWEEP_CONTINUATION_DETAIL_TYPE) {
    const runId = text(detail, 'run_id', `${SWEEP_CONTINUATION_DETAIL_TYPE} detail.`);
    if (runId === '') fail(`${SWEEP_CONTINUATION_DETAIL_TYPE} detail.run_id is empty`);
    const hop = detail.hop === undefined ? 0n : detail.hop instanceof JsonNumber ? detail.hop.toBigInt() : undefined;
    if (hop === undefined || hop < 0n || hop > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail(`${SWEEP_CONTINUATION_DETAIL_TYPE} detail.hop must be a whole number from 0, got ${detail.hop instanceof JsonNumber ? detail.hop.text : JSON.stringify(detail.hop)}`);
    }
    return { kind: 'sweep', runId, hop: Number(hop) };
  }

  const messageId = text(detail, 'message_id', '');
  const eventType = text(detail, 'event_type', '') as EventType;
  if (!(eventType in PAYLOADS)) fail(`event_type ${JSON.stringify(eventType)} is not a compute node notification`);
  const timestamp = text(detail, 'timestamp', '');
  const change = detail.change;
  if (!isObject(change)) fail('change must be an object');
  const sequenceNumber = text(change, 'sequence_number', 'change.');
  const originText = text(change, 'origin', 'change.');
  if (originText !== 'stream' && originText !== 'resync') fail(`change.origin ${JSON.stringify(originText)} is neither stream nor resync`);
  const origin: Origin = originText;
  const cause = text(change, 'cause', 'change.');
  const epoch = nullableText(change, 'epoch', 'change.');
  const resyncRun = nullableText(change, 'resync_run', 'change.');

  const payload = detail.payload;
  if (!isObject(payload)) fail('payload must be an object');
  const name = text(payload, 'nova_object.name', 'payload.');
  const version = text(payload, 'nova_object.version', 'payload.');
  if (name !== PAYLOADS[eventType]) fail(`${eventType} carries ${PAYLOADS[eventType]}, not ${name}`);
  // Nova's object versions: a minor bump only adds fields, a major one breaks readers.
  if (!/^1\.\d+$/.test(version)) fail(`${name} version ${version} is not supported (this indexer reads 1.x)`);
  const data = payload['nova_object.data'];
  if (!isObject(data)) fail('payload nova_object.data must be an object');
  const uuid = text(data, 'uuid', 'payload field ');
  if (uuid === '') fail('payload field uuid is empty');

  let key: string;
  try {
    key = orderKey({ epoch, sequenceNumber });
  } catch (error) {
    if (error instanceof OrderKeyError) fail(error.message);
    throw error;
  }
  const base = {
    kind: 'notification' as const,
    messageId,
    eventType,
    origin,
    cause,
    sequenceNumber,
    epoch,
    resyncRun,
    timestamp,
    timestampKey: sortableTime(timestamp, 'timestamp'),
    orderKey: key,
    uuid,
  };
  if (eventType === 'compute_node.delete') return base;

  const hypervisorType = text(data, 'hypervisor_type', 'payload field ');
  const hostValue = data.host;
  if (hostValue !== null && typeof hostValue !== 'string') fail('payload field host must be a string or null');
  const vcpus = integer(data, 'vcpus', false)!;
  const vcpusUsed = integer(data, 'vcpus_used', false)!;
  const memory = integer(data, 'memory_mb', false)!;
  const memoryUsed = integer(data, 'memory_mb_used', false)!;
  const disk = integer(data, 'local_gb', false)!;
  const diskUsed = integer(data, 'local_gb_used', false)!;
  const freeRam = integer(data, 'free_ram_mb', true);
  const freeDisk = integer(data, 'free_disk_gb', true);
  return {
    ...base,
    node: {
      dataJson: stringifyExactJson(data),
      payloadVersion: version,
      hypervisorType,
      host: hostValue,
      freeVcpus: vcpus - vcpusUsed,
      freeRamMb: freeRam ?? memory - memoryUsed,
      freeDiskGb: freeDisk ?? disk - diskUsed,
    },
  };
}

function readRunEvent(detail: Obj): ResyncRunEvent {
  const where = `${RESYNC_RUN_DETAIL_TYPE} detail.`;
  const runId = text(detail, 'run_id', where);
  if (runId === '') fail(`${where}run_id is empty`);
  const phase = text(detail, 'phase', where);
  if (phase !== 'start' && phase !== 'end') fail(`${where}phase ${JSON.stringify(phase)} is neither start nor end`);
  const startedAt = sortableTime(text(detail, 'started_at', where), `${where}started_at`);
  if (phase === 'start') return { kind: 'resync_run', runId, phase, startedAt };
  const refreshed = detail.refreshed;
  const n = refreshed instanceof JsonNumber ? refreshed.toBigInt() : undefined;
  if (n === undefined || n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
    fail(`${where}refreshed must be a whole number ≥ 0, got ${refreshed instanceof JsonNumber ? refreshed.text : JSON.stringify(refreshed ?? null)}`);
  }
  return { kind: 'resync_run', runId, phase, startedAt, refreshed: Number(n) };
}
