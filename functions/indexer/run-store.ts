/**
 * Resync runs in the indexer table (resync-sweep.ts has the rules): each run's progress in one
 * item (`uuid` = `resync_run#<run id>`), each node seen for it in one more
 * (`resync_run#<run id>#<node uuid>`), so counting distinct nodes is exact under duplicate,
 * concurrent and retried deliveries:
 *
 * - a resync notification of run R: (1) `min_timestamp` lowered with a conditional update
 *   (idempotent); (2) one transaction puts the node's seen item (only if absent) and adds 1 to
 *   `seen_count`, so a node is counted once, and a crash between (1) and (2) is redone by the
 *   redelivery; (3) a consistent read of the run decides whether to sweep;
 * - the `end` event: `refreshed` and `started_at` set, the run read back (ALL_NEW).
 *
 * Whoever's read shows the run ready sweeps (each writer reads after its own write, so the
 * last of them sees everything): the watermark raised to T, then a consistent Scan of the
 * nodes and, per node, its tombstone or (a tombstone) its stamp (`swept_before`), each conditioned on the
 * item read, so a notification applied meanwhile is judged again, never overwritten.
 * Sweeping twice is harmless; a sweep that fails throws, the message is delivered again and
 * sweeps again. Then `swept` is set.
 *
 * A sweep reads the whole read model, which for a large fleet can take longer than one
 * invocation: after each page the Scan's position is saved on the run (`sweep_cursor`), and a
 * sweep stops before the invocation's deadline (SweepPausedError) and the next resumes where it
 * stopped: the indexer puts a continuation message on its own queue (functions/indexer/indexer.ts),
 * or, failing that, reports the message as a batch item failure so SQS delivers it again. Every
 * node before a saved position was judged against the same T (the watermark was raised first),
 * so resuming judges each node at least once, as one long Scan would; without a cursor, a
 * sweep longer than the function's timeout would start over at every delivery and never end.
 * The bookkeeping items carry `expires_at` (epoch seconds, 30 days on): with the table's TTL
 * on that attribute DynamoDB removes them. A node's seen item is what keeps a duplicate from
 * being counted twice, so it must outlive the run's item: the run's `expires_at` is set once,
 * when the item is made (before any of its seen items), never pushed back by a later delivery;
 * and as TTL deletes "typically within two days" of expiry, leaving the item readable meanwhile,
 * a run past its `expires_at` never sweeps (its seen items may be gone, its count still read).
 */
import {
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../condition-failure.js';
import { forEachConcurrently } from '../notifier/retry-policy.js';
import { isLive, type Item } from './apply.js';
import { ATTR, STATE } from './indexer-table.js';
import type { IndexerNotification, ResyncRunEvent } from './notification.js';
import { isSwept, stampedItem, sweepThreshold, sweptItem, type RunProgress } from './resync-sweep.js';
import { putIfAbsent, WATERMARK_KEY } from './store.js';

const RUN_PREFIX = 'resync_run#';
const KEEP_SECONDS = 30 * 24 * 3600;

export const runItemKey = (runId: string) => RUN_PREFIX + runId;
const seenItemKey = (runId: string, uuid: string) => `${RUN_PREFIX}${runId}#${uuid}`;
const expiresAt = () => ({ N: String(Math.floor(Date.now() / 1000) + KEEP_SECONDS) });

function progressOf(item: Item | undefined): RunProgress {
  const n = (name: string) => (item?.[name]?.N === undefined ? undefined : Number(item[name]!.N));
  const s = (name: string) => item?.[name]?.S;
  const minTimestamp = s(ATTR.minTimestamp);
  const refreshed = n(ATTR.refreshed);
  const startedAt = s(ATTR.startedAt);
  return {
    seen: n(ATTR.seenCount) ?? 0,
    swept: item?.[ATTR.swept]?.BOOL === true,
    ...(minTimestamp === undefined ? {} : { minTimestamp }),
    ...(refreshed === undefined ? {} : { refreshed }),
    ...(startedAt === undefined ? {} : { startedAt }),
  };
}

/** A sweep stopped before the invocation's deadline; the position is saved for a continuation (or a redelivery) to resume from. */
export class SweepPausedError extends Error {
  override readonly name = 'SweepPausedError';
  constructor(
    readonly runId: string,
    /** Nodes turned into tombstones before it stopped. */
    readonly swept: number,
  ) {
    super(`sweep of resync run ${runId} paused before the invocation's deadline (${swept} nodes swept so far); it resumes from its saved position`);
  }
}

/** How a sweep runs: how long it may take, how many writes at once, how large a page. */
export interface SweepOptions {
  /** Epoch ms after which no new page is started (at least one page is always done). @default no limit */
  readonly deadline?: number;
  /** Node writes in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Items a Scan page evaluates (DynamoDB's `Limit`). @default DynamoDB's 1 MB pages */
  readonly pageSize?: number;
}

export interface RunNote {
  /** Nodes turned into tombstones by a sweep this call made (undefined: no sweep). */
  readonly swept?: number;
}

/** Counts a resync notification (already applied to its node) for its run; sweeps when the run becomes ready. */
export async function noteResyncNotification(client: DynamoDBClient, tableName: string, n: IndexerNotification, opts: SweepOptions = {}): Promise<RunNote> {
  const runId = n.resyncRun;
  if (runId === null || n.origin !== 'resync') return {};
  const key = { [ATTR.uuid]: { S: runItemKey(runId) } };
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #mt = :ts, #st = :run, #ex = if_not_exists(#ex, :ex)',
        ConditionExpression: 'attribute_not_exists(#mt) OR #mt > :ts',
        ExpressionAttributeNames: { '#mt': ATTR.minTimestamp, '#st': ATTR.state, '#ex': ATTR.expiresAt },
        ExpressionAttributeValues: { ':ts': { S: n.timestampKey }, ':run': { S: STATE.run }, ':ex': expiresAt() },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  try {
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          putIfAbsent(tableName, { [ATTR.uuid]: { S: seenItemKey(runId, n.uuid) }, [ATTR.state]: { S: STATE.seen }, [ATTR.expiresAt]: expiresAt() }),
          {
            Update: {
              TableName: tableName,
              Key: key,
              UpdateExpression: 'ADD #sc :one',
              ExpressionAttributeNames: { '#sc': ATTR.seenCount },
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      }),
    );
  } catch (error) {
    // The node's seen item exists: it was counted by an earlier delivery.
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    const counted = (error as { name?: string }).name === 'TransactionCanceledException' && reasons?.[0]?.Code === 'ConditionalCheckFailed' && reasons.slice(1).every((r) => r.Code === undefined || r.Code === 'None');
    if (!counted) throw error;
  }
  const run = await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return sweepIfReady(client, tableName, runId, run.Item as Item | undefined, opts);
}

/** Records a run's start or end event; sweeps when the end makes the run ready. */
export async function noteRunEvent(client: DynamoDBClient, tableName: string, e: ResyncRunEvent, opts: SweepOptions = {}): Promise<RunNote> {
  const names: Record<string, string> = { '#st': ATTR.state, '#sa': ATTR.startedAt, '#ex': ATTR.expiresAt };
  const values: Item = { ':run': { S: STATE.run }, ':sa': { S: e.startedAt }, ':ex': expiresAt() };
  let update = 'SET #st = :run, #ex = if_not_exists(#ex, :ex), #sa = if_not_exists(#sa, :sa)';
  if (e.phase === 'end') {
    update = 'SET #st = :run, #ex = if_not_exists(#ex, :ex), #sa = :sa, #rf = :rf, #es = :true';
    names['#rf'] = ATTR.refreshed;
    names['#es'] = ATTR.endSeen;
    values[':rf'] = { N: String(e.refreshed ?? 0) };
    values[':true'] = { BOOL: true };
  }
  const out = await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { [ATTR.uuid]: { S: runItemKey(e.runId) } },
      UpdateExpression: update,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  return sweepIfReady(client, tableName, e.runId, out.Attributes as Item | undefined, opts);
}

/** Goes on with a paused sweep of `runId` (a continuation message): from its saved position, if the run still needs one. */
export async function resumeSweep(client: DynamoDBClient, tableName: string, runId: string, opts: SweepOptions = {}): Promise<RunNote> {
  const run = await client.send(new GetItemCommand({ TableName: tableName, Key: { [ATTR.uuid]: { S: runItemKey(runId) } }, ConsistentRead: true }));
  return sweepIfReady(client, tableName, runId, run.Item as Item | undefined, opts);
}

async function sweepIfReady(client: DynamoDBClient, tableName: string, runId: string, run: Item | undefined, opts: SweepOptions): Promise<RunNote> {
  // Expired, not yet deleted by TTL: its seen items may be gone, so its count may hold a node twice.
  const expires = run?.[ATTR.expiresAt]?.N;
  if (expires !== undefined && Number(expires) * 1000 <= Date.now()) return {};
  const threshold = sweepThreshold(progressOf(run));
  if (threshold === undefined) return {};
  const cursor = run?.[ATTR.sweepCursor]?.M as Item | undefined;
  const swept = await sweep(client, tableName, runId, threshold, { ...opts, ...(cursor === undefined ? {} : { cursor }) });
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { [ATTR.uuid]: { S: runItemKey(runId) } },
      UpdateExpression: 'SET #sw = :true REMOVE #cu',
      ExpressionAttributeNames: { '#sw': ATTR.swept, '#cu': ATTR.sweepCursor },
      ExpressionAttributeValues: { ':true': { BOOL: true } },
    }),
  );
  return { swept };
}

/**
 * The sweep of run `runId` with threshold T: T raised into the watermark first (so a node
 * created after this cannot be older than T), then every node item read: a live one the run
 * did not refresh and older than T becomes a tombstone, every tombstone gets `swept_before` ≥ T.
 * A live node kept needs no stamp: its stored record is the run's or newer than T, so a record
 * of it older than T has a lower order key anyway (and tombstones are in no index: cheap).
 * Each write is conditioned on the item read; when it changed meanwhile, the item returned by
 * the failed condition is judged again. From `cursor` (a saved position) when given; throws
 * SweepPausedError when the deadline comes first, its position saved.
 */
export async function sweep(client: DynamoDBClient, tableName: string, runId: string, threshold: string, opts: SweepOptions & { cursor?: Item } = {}): Promise<number> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { [ATTR.uuid]: { S: WATERMARK_KEY } },
        UpdateExpression: 'SET #sb = :t, #st = :run',
        ConditionExpression: 'attribute_not_exists(#sb) OR #sb < :t',
        ExpressionAttributeNames: { '#sb': ATTR.sweptBefore, '#st': ATTR.state },
        ExpressionAttributeValues: { ':t': { S: threshold }, ':run': { S: STATE.run } },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  let swept = 0;
  let start: Item | undefined = opts.cursor;
  let first = true;
  do {
    if (!first && opts.deadline !== undefined && Date.now() >= opts.deadline) throw new SweepPausedError(runId, swept);
    first = false;
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        FilterExpression: '#st IN (:live, :deleted)',
        ExpressionAttributeNames: { '#st': ATTR.state },
        ExpressionAttributeValues: { ':live': { S: STATE.live }, ':deleted': { S: STATE.deleted } },
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        ...(opts.pageSize === undefined ? {} : { Limit: opts.pageSize }),
      }),
    );
    await forEachConcurrently((page.Items ?? []) as Item[], opts.concurrency ?? 16, async (item) => {
      if (await sweepItem(client, tableName, item, runId, threshold)) swept++;
    });
    start = page.LastEvaluatedKey as Item | undefined;
    // Saved only once the page is done: whoever resumes from here skips nothing unjudged.
    // Refused when another delivery's sweep of the run has finished: nothing left to do here.
    if (start !== undefined && !(await saveCursor(client, tableName, runId, start))) break;
  } while (start !== undefined);
  return swept;
}

/** Saves the position; false when the run's sweep is already finished. */
async function saveCursor(client: DynamoDBClient, tableName: string, runId: string, cursor: Item): Promise<boolean> {
  return client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { [ATTR.uuid]: { S: runItemKey(runId) } },
      UpdateExpression: 'SET #cu = :cu',
      // A sweep that finished meanwhile (another delivery's) needs no position.
      ConditionExpression: 'attribute_not_exists(#sw) OR #sw = :false',
      ExpressionAttributeNames: { '#cu': ATTR.sweepCursor, '#sw': ATTR.swept },
      ExpressionAttributeValues: { ':cu': { M: cursor }, ':false': { BOOL: false } },
    }),
  ).then(
    () => true,
    (error: unknown) => {
      if (!isConditionFailure(error)) throw error;
      return false;
    },
  );
}

/** Sweeps or stamps one node item; true when it became a tombstone. */
async function sweepItem(client: DynamoDBClient, tableName: string, read: Item, runId: string, threshold: string): Promise<boolean> {
  let item = read;
  for (let attempt = 0; attempt < 8; attempt++) {
    const tombstone = isSwept(item, runId, threshold);
    const next = tombstone ? sweptItem(item, runId, threshold) : isLive(item) ? item : stampedItem(item, threshold);
    if (next === item) return false;
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: next,
          ConditionExpression: '#ok = :ok AND #st = :st AND (attribute_not_exists(#sb) OR #sb < :t)',
          ExpressionAttributeNames: { '#ok': ATTR.orderKey, '#st': ATTR.state, '#sb': ATTR.sweptBefore },
          ExpressionAttributeValues: { ':ok': item[ATTR.orderKey]!, ':st': item[ATTR.state]!, ':t': { S: threshold } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return tombstone;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const now = error.Item as Item | undefined;
      if (now === undefined) return false;
      item = now;
    }
  }
  throw new Error(`sweep of run ${runId}: node ${String(read[ATTR.uuid]?.S)} kept changing; the message will be delivered again and the sweep redone`);
}
