/**
 * The notifications: event type → payload, and the `Detail` of each EventBridge event.
 *
 * `Detail` is Nova's notification message, keys in Nova's order (`message_id`,
 * `publisher_id`, `event_type`, `priority`, `payload`, `timestamp`), followed by one key of
 * ours, `change`, which says where in the node's history the notification belongs.
 *
 * Version history of the `change` block (it is versioned with the Detail, not the payload;
 * bump {@link CHANGE_BLOCK_VERSION} and add a line whenever a key is added or changes type,
 * the fingerprint test insists):
 * - 1: `sequence_number`, `changed_fields`, `origin`, `cause`.
 * - 2: added `epoch` and `resync_run`; a resync notification now carries its stream record's
 *   real `sequence_number`.
 */
import * as z from 'zod/mini';
import { ComputeNodePayload } from './compute-node-payload.js';
import { ComputeNodeDeletePayload } from './compute-node-delete-payload.js';
import type { PayloadDefinition } from './payload-definition.js';

/** Nova's notification classes for compute nodes, by event type. */
export const NOTIFICATIONS = {
  'compute_node.create': ComputeNodePayload,
  'compute_node.update': ComputeNodePayload,
  'compute_node.delete': ComputeNodeDeletePayload,
} as const satisfies Record<string, PayloadDefinition>;

export type EventType = keyof typeof NOTIFICATIONS;
export const EVENT_TYPES = Object.keys(NOTIFICATIONS) as EventType[];

/** The spec sends every compute node notification at INFO. */
export const PRIORITY = 'INFO';

/** Nova's `publisher_id` for a compute node notification is `nova-compute:<host>`. */
export const PUBLISHER_PREFIX = 'nova-compute:';

/** Why a notification was sent; lets a rule route, e.g., only TTL expiries. */
export const CAUSES = ['insert', 'modify', 'remove', 'ttl', 'soft_delete', 'undelete'] as const;

/** The `change` block's version (see the history above). */
export const CHANGE_BLOCK_VERSION = 2;

/** The `change` block: ordering and routing facts that Nova's message does not carry. Keys in wire order. */
export const ChangeBlock = z.strictObject({
  /** The record's DynamoDB stream sequence number: digits, compare as an unbounded integer within one `epoch`. */
  sequence_number: z.string().check(z.regex(/^\d+$/)),
  /**
   * The stream's label: the last path segment of the record's `eventSourceARN`
   * (`.../stream/<label>`). A re-enabled stream or a re-created table has a new label;
   * null only for a record that carries no `eventSourceARN` (never one from Lambda).
   */
  epoch: z.nullable(z.string().check(z.minLength(1))),
  /**
   * For an update, the watched fields whose value changed at their resolution (a field with a
   * resolution: its bucket changed; docs/field-resolution.md), sorted in payload order; else empty.
   */
  changed_fields: z.array(z.enum(Object.keys(ComputeNodePayload.fields) as [string, ...string[]])),
  /** `stream` for a notification of a table change, `resync` for one that a resync run's marker write caused. */
  origin: z.enum(['stream', 'resync']),
  cause: z.enum(CAUSES),
  /** The resync run that caused this notification (origin `resync`), else null. */
  resync_run: z.nullable(z.string().check(z.minLength(1))),
});
export type ChangeBlock = z.infer<typeof ChangeBlock>;

// Python's str(datetime): microseconds only when non-zero.
const NovaTimestamp = z.string().check(z.regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/));

function detailSchema<T extends EventType>(eventType: T) {
  return z.strictObject({
    message_id: z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)),
    publisher_id: z.string().check(z.regex(/^nova-compute:/)),
    event_type: z.literal(eventType),
    priority: z.literal(PRIORITY),
    payload: NOTIFICATIONS[eventType].primitiveSchema,
    timestamp: NovaTimestamp,
    change: ChangeBlock,
  });
}

/** zod schema of `Detail` for each event type (current payload versions). */
export const DETAIL_SCHEMAS = {
  'compute_node.create': detailSchema('compute_node.create'),
  'compute_node.update': detailSchema('compute_node.update'),
  'compute_node.delete': detailSchema('compute_node.delete'),
} as const;

export type NotificationDetail<T extends EventType = EventType> = z.infer<(typeof DETAIL_SCHEMAS)[T]>;
