/**
 * The last heartbeat the indexer applied (functions/notifier/contract/heartbeat.ts), kept in the
 * read model's table under the reserved heartbeat key, which no node's UUID can be, with a state
 * of its own (`heartbeat`), so queries, drift and resync sweeps (live and deleted nodes only)
 * never see it. Anyone reading the view can then tell whether it is being fed.
 */
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../condition-failure.js';
import { HEARTBEAT_ITEM_KEY } from '../notifier/contract/heartbeat.js';
import { ATTR, NODE_PARTITION_KEY } from './indexer-table.js';
import type { HeartbeatMessage } from './notification.js';

/** `state` of the heartbeat record (nodes are `live` or `deleted`). */
const HEARTBEAT_STATE = 'heartbeat';

const A = { writtenAt: 'heartbeat_written_at', handledAt: 'heartbeat_handled_at', appliedAt: 'heartbeat_applied_at', epoch: 'heartbeat_epoch', sequence: 'heartbeat_sequence' } as const;

export interface LastHeartbeat {
  /** ISO time it was written (the schedule's time), or null. */
  readonly writtenAt: string | null;
  /** ISO time the notifier handled it. */
  readonly handledAt: string;
  /** ISO time this indexer applied it. */
  readonly appliedAt: string;
  readonly epoch: string | null;
  readonly sequenceNumber: string;
}

const KEY = { [NODE_PARTITION_KEY]: { S: HEARTBEAT_ITEM_KEY } };

/**
 * Records `m` as the last heartbeat unless a later one (by the notifier's `handled_at`) is
 * already recorded: EventBridge does not order events, and a redelivery is harmless.
 */
export async function noteHeartbeat(client: DynamoDBClient, tableName: string, m: HeartbeatMessage, now: () => number = Date.now): Promise<void> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: KEY,
        UpdateExpression: 'SET #st = :st, #w = :w, #h = :h, #a = :a, #e = :e, #s = :s',
        // ISO times of one form compare as strings in time order.
        ConditionExpression: 'attribute_not_exists(#h) OR #h < :h',
        ExpressionAttributeNames: { '#st': ATTR.state, '#w': A.writtenAt, '#h': A.handledAt, '#a': A.appliedAt, '#e': A.epoch, '#s': A.sequence },
        ExpressionAttributeValues: {
          ':st': { S: HEARTBEAT_STATE },
          ':w': m.writtenAt === null ? { NULL: true } : { S: m.writtenAt },
          ':h': { S: m.handledAt },
          ':a': { S: new Date(now()).toISOString() },
          ':e': m.epoch === null ? { NULL: true } : { S: m.epoch },
          ':s': { S: m.sequenceNumber },
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error; // a later heartbeat is recorded already
  }
}

/** The last heartbeat applied, or undefined when none was. */
export async function readLastHeartbeat(client: DynamoDBClient, tableName: string): Promise<LastHeartbeat | undefined> {
  const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: KEY, ConsistentRead: true }))).Item;
  if (item?.[ATTR.state]?.S !== HEARTBEAT_STATE) return undefined;
  return {
    writtenAt: item[A.writtenAt]?.S ?? null,
    handledAt: item[A.handledAt]?.S ?? '',
    appliedAt: item[A.appliedAt]?.S ?? '',
    epoch: item[A.epoch]?.S ?? null,
    sequenceNumber: item[A.sequence]?.S ?? '',
  };
}

/** `last heartbeat 14:02:07 UTC (31 s ago)` (its written time, else when it was handled), or that none was applied. */
export function describeLastHeartbeat(last: LastHeartbeat | undefined, now: number = Date.now()): string {
  if (last === undefined) return 'last heartbeat: none applied (is the pipeline fed? see the "pipeline stalled" alarm)';
  const at = last.writtenAt ?? last.handledAt;
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return `last heartbeat ${at}`;
  return `last heartbeat ${new Date(ms).toISOString().slice(11, 19)} UTC (${Math.max(0, Math.round((now - ms) / 1000))} s ago)`;
}
