/**
 * One resync run at a time per compute node table: a lease item in the resync state table.
 * A run acquires it with a conditional PutItem (free, expired, or already its own), renews
 * it while it works, and deletes it when it ends. A run that dies keeps it until it expires;
 * a run resumed from its checkpoint or continuation token takes its own lease back.
 * (This replaces the resync function's reserved concurrency of 1, which Lambda refuses on
 * accounts with less than 100 unreserved executions to spare.)
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../condition-failure.js';
import { RESYNC_STATE_TABLE } from './state-table.js';
import { ResyncError } from './resync-errors.js';

/** Another run holds the lease: this run must not start (or continue). */
export class LeaseHeldError extends ResyncError {
  override readonly name = 'LeaseHeldError';
}

export interface LeaseOptions {
  readonly dynamodb: DynamoDBClient;
  readonly stateTableName: string;
  /** The compute node table: one lease per table. */
  readonly tableName: string;
  readonly runId: string;
  readonly durationMs: number;
  readonly now?: () => number;
}

export interface Lease {
  /** Takes the lease, or throws LeaseHeldError naming the holder and until when. */
  acquire(): Promise<void>;
  /** Extends the lease when a quarter of it has passed; throws LeaseHeldError if another run took it meanwhile. */
  renewIfDue(): Promise<void>;
  /** Gives the lease up (only if still this run's). */
  release(): Promise<void>;
}

export function createLease(opts: LeaseOptions): Lease {
  const now = opts.now ?? Date.now;
  const key = { [RESYNC_STATE_TABLE.partitionKey.name]: { S: `lease#${opts.tableName}` } };
  const names = { '#pk': RESYNC_STATE_TABLE.partitionKey.name, '#run': 'run_id', '#exp': 'expires_at' };
  let renewedAt = -Infinity;

  async function holder(): Promise<string> {
    const { Item } = await opts.dynamodb.send(new GetItemCommand({ TableName: opts.stateTableName, Key: key, ConsistentRead: true }));
    if (Item === undefined) return 'another run (released since)';
    const until = Number(Item.expires_at?.N);
    return `run ${Item.run_id?.S ?? '?'} (until ${Number.isFinite(until) ? new Date(until).toISOString() : '?'})`;
  }

  return {
    async acquire() {
      const t = now();
      try {
        await opts.dynamodb.send(
          new PutItemCommand({
            TableName: opts.stateTableName,
            Item: { ...key, run_id: { S: opts.runId }, expires_at: { N: String(t + opts.durationMs) }, table: { S: opts.tableName } },
            ConditionExpression: 'attribute_not_exists(#pk) OR #exp < :now OR #run = :run',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':now': { N: String(t) }, ':run': { S: opts.runId } },
          }),
        );
        renewedAt = t;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        throw new LeaseHeldError(`another resync of table ${opts.tableName} is running: ${await holder()} holds the lease in ${opts.stateTableName}; one run at a time`);
      }
    },
    async renewIfDue() {
      const t = now();
      if (t - renewedAt < opts.durationMs / 4) return;
      try {
        await opts.dynamodb.send(
          new UpdateItemCommand({
            TableName: opts.stateTableName,
            Key: key,
            UpdateExpression: 'SET #exp = :exp',
            ConditionExpression: '#run = :run',
            ExpressionAttributeNames: { '#run': names['#run'], '#exp': names['#exp'] },
            ExpressionAttributeValues: { ':exp': { N: String(t + opts.durationMs) }, ':run': { S: opts.runId } },
          }),
        );
        renewedAt = t;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        throw new LeaseHeldError(`run ${opts.runId} lost its lease of table ${opts.tableName} (it expired and ${await holder()} took it); stopping`);
      }
    },
    async release() {
      try {
        await opts.dynamodb.send(
          new DeleteItemCommand({
            TableName: opts.stateTableName,
            Key: key,
            ConditionExpression: '#run = :run',
            ExpressionAttributeNames: { '#run': names['#run'] },
            ExpressionAttributeValues: { ':run': { S: opts.runId } },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      renewedAt = -Infinity;
    },
  };
}
