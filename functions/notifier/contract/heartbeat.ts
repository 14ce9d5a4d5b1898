/**
 * The heartbeat: a write to one reserved item of the compute node table, on a schedule
 * (infra/heartbeat.ts), that travels the whole path of a real change (table → stream →
 * event source mapping → notifier → PutEvents) and comes out as a
 * `hypervisor_notifier.heartbeat` event. Its steady arrival proves the pipeline is fed; its
 * absence is the "pipeline stalled" alarm. It has the notifications' `source` and its own
 * detail-type, so a rule on the three Nova detail types never sees it.
 *
 * The reserved item is part of the contract: its partition key {@link HEARTBEAT_ITEM_KEY}
 * can never be a compute node's UUID (it holds `#` and letters outside hex), so no node is
 * ever shadowed, and no record of the item ever becomes a `compute_node.*` notification or a
 * quarantined record, whatever else is written to it. Resync, drift and query skip it.
 *
 * Version history (bump {@link HEARTBEAT_EVENT_VERSION} and add a line whenever a key is
 * added or changes type; the fingerprint in test/notifier/heartbeat.test.ts insists):
 * - 1: `message_id`, `written_at`, `handled_at`, `epoch`, `sequence_number`, `lag_ms`.
 */
import * as z from 'zod/mini';
import { COMPUTE_NODE_TABLE } from '../../compute-node-table-definition.js';

/** Partition key (`uuid`) of the reserved heartbeat item; never a UUID in any spelling. */
export const HEARTBEAT_ITEM_KEY = 'hypervisor_notifier#heartbeat';

/**
 * Attribute of the reserved item holding when the heartbeat was written: an ISO-8601 time
 * (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`, e.g. `2026-12-04T19:02:00Z`).
 */
export const HEARTBEAT_WRITTEN_AT_ATTRIBUTE = 'heartbeat_written_at';

/** detail-type of the heartbeat events (not a Nova event type). */
export const HEARTBEAT_DETAIL_TYPE = 'hypervisor_notifier.heartbeat';
export const HEARTBEAT_EVENT_VERSION = 1;

// toISOString's form: the notifier writes every time of the event in it.
const IsoTime = z.string().check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/));

/** The `detail` of a `hypervisor_notifier.heartbeat` event. Keys in wire order. */
export const HeartbeatDetail = z.strictObject({
  /** As a notification's: a UUID of the stream record's identity (a retried record keeps it). */
  message_id: z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)),
  /** When the heartbeat was written (the item's `heartbeat_written_at`); null when the write carried no valid time. */
  written_at: z.nullable(IsoTime),
  /** When the notifier handled the record (built the event), just before it was put on the bus. */
  handled_at: IsoTime,
  /** The stream's label, as a notification's `change.epoch`. */
  epoch: z.nullable(z.string().check(z.minLength(1))),
  /** The record's stream sequence number, as a notification's `change.sequence_number`. */
  sequence_number: z.string().check(z.regex(/^\d+$/)),
  /** `handled_at − written_at` in milliseconds (the metric HeartbeatLag goes on to PutEvents accepted); null without `written_at`. */
  lag_ms: z.nullable(z.number().check(z.int())),
});
export type HeartbeatDetail = z.infer<typeof HeartbeatDetail>;

/**
 * The heartbeat write as DynamoDB `UpdateItem` input: the one request the stack's schedule
 * sends (`writtenAt` = `<aws.scheduler.scheduled-time>`) and `npm start` sends, so the two cannot differ.
 */
export function heartbeatUpdateItem(tableName: string, writtenAt: string) {
  return {
    TableName: tableName,
    Key: { [COMPUTE_NODE_TABLE.partitionKey.name]: { S: HEARTBEAT_ITEM_KEY } },
    UpdateExpression: 'SET #written = :written',
    ExpressionAttributeNames: { '#written': HEARTBEAT_WRITTEN_AT_ATTRIBUTE },
    ExpressionAttributeValues: { ':written': { S: writtenAt } },
  };
}
