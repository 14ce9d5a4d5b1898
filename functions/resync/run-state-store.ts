/**
 * The Lambda variant's run state, saved in the resync state table at every checkpoint, so that
 * an invocation that fails or whose answer is lost loses nothing: the operator invokes again
 * with the previous continuation token, and the run resumes from what the failed invocation
 * saved last (its pages' items to mark, counted before their writes), not from the token.
 *
 * One item per compute node table (`run#<table>`): the run id and the state as gzip'd JSON
 * (a DynamoDB item holds at most 400 KB; a state is a few hundred bytes per segment plus the
 * keys of the pages in progress). Saves go one after the other, in the order they were asked
 * for, so an older state never overwrites a newer one.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ResyncError } from './resync-errors.js';
import { checkResyncState, type ResyncState } from './resync.js';
import { RESYNC_STATE_TABLE } from './state-table.js';

export interface RunStateStore {
  /** Saves the state (its value now), after the saves asked for before it. */
  save(state: ResyncState): Promise<void>;
  /** The last state saved for `runId` of this table, if any. */
  load(runId: string): Promise<ResyncState | undefined>;
}

export function createRunStateStore(opts: { dynamodb: DynamoDBClient; stateTableName: string; tableName: string }): RunStateStore {
  const key = { [RESYNC_STATE_TABLE.partitionKey.name]: { S: `run#${opts.tableName}` } };
  let chain: Promise<unknown> = Promise.resolve();
  return {
    save(state) {
      const body = gzipSync(JSON.stringify(state));
      const put = chain.then(() =>
        opts.dynamodb.send(new PutItemCommand({ TableName: opts.stateTableName, Item: { ...key, run_id: { S: state.runId }, state: { B: body } } })).then(
          () => undefined,
          (error: unknown) => {
            throw new ResyncError(`could not save the run's state in ${opts.stateTableName} (${(error as Error).name}: ${(error as Error).message}); invoke again with the last continuation token`);
          },
        ),
      );
      chain = put.catch(() => undefined);
      return put;
    },
    async load(runId) {
      const { Item } = await opts.dynamodb.send(new GetItemCommand({ TableName: opts.stateTableName, Key: key, ConsistentRead: true }));
      const body = Item?.state?.B;
      if (Item?.run_id?.S !== runId || body === undefined) return undefined;
      return checkResyncState(JSON.parse(gunzipSync(body).toString('utf8')));
    },
  };
}
