/**
 * A delivered notification, read for the indexer: the EventBridge event (as the indexer
 * route's queue delivers it) or its bare `detail`, parsed with exact integers, checked for
 * what the indexer relies on, and reduced to what it stores. A message that is not a
 * notification it understands is an {@link UnreadableNotificationError} naming the problem
 * (the message is reported as failed and ends in the route's dead-letter queue).
 */
import { parseExactJson, stringifyExactJson, JsonNumber, ExactJsonError, type ExactJson } from './exact-json.js';
import { orderKey, OrderKeyError, type Origin } from './order-key.js';

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
  readonly messageId: string;
  readonly eventType: EventType;
  readonly origin: Origin;
  readonly cause: string;
  readonly sequenceNumber: string;
  readonly timestamp: string;
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

/** Parses an SQS message body: an EventBridge event with `detail`, or a bare Detail. */
export function readNotification(body: string): IndexerNotification {
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
    key = orderKey({ origin, sequenceNumber, timestamp });
  } catch (error) {
    if (error instanceof OrderKeyError) fail(error.message);
    throw error;
  }
  const base = { messageId, eventType, origin, cause, sequenceNumber, timestamp, orderKey: key, uuid };
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
