/**
 * A resync sweep that needs more continuations than Lambda's recursive loop detection allows
 * (Lambda developer guide, "Use Lambda recursive loop detection to prevent infinite loops",
 * invocation-recursion: a chain of invocations through SQS back into the same function is
 * stopped after about 16 unless the function's RecursiveLoop is Allow) still finishes, because
 * the synthesized indexer function allows the loop; and the indexer's own bound stops a chain
 * and says so in the line its alarm counts.
 *
 * The queue here plays Lambda and SQS: each message carries the depth of the chain that sent
 * it (Lambda tracks this itself), and with the function's RecursiveLoop as synthesized (read
 * from the bundled stack's template) a message at depth 16 is not delivered when it is not Allow.
 */
import { describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createIndexerTable } from '../../local/indexer-table.js';
import { isLive, type Item } from '../../functions/indexer/apply.js';
import { ATTR } from '../../functions/indexer/indexer-table.js';
import { createIndexer, INDEXER_ENV, SWEEP_CHAIN_STOPPED_MESSAGE } from '../../functions/indexer/indexer.js';
import { SWEEP_CONTINUATION_DETAIL_TYPE, sweepContinuationBody } from '../../functions/indexer/notification.js';
import { runItemKey } from '../../functions/indexer/run-store.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';
import { builder, envelope, runEvent, uuidOf } from './history.js';
import { insert, modify, nodeImage } from '../support/records.js';
import { dynamoDbLocalForFile } from '../support/dynamodb-local-for-file.js';
import { buildTestApp } from '../infra/helpers.js';

/** Lambda stops a recursive chain after about this many invocations (invocation-recursion). */
const LAMBDA_RECURSION_LIMIT = 16;
const NODES = 44;

const local = dynamoDbLocalForFile({ maxAttempts: 3 });
let tables = 0;

/** The reference indexer function's RecursiveLoop in the bundled stack's template ('Terminate' when unset, Lambda's default). */
function synthesizedRecursiveLoop(): string {
  const fns = Template.fromStack(buildTestApp().stack).findResources('AWS::Lambda::Function');
  const indexer = Object.values(fns).filter((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.[INDEXER_ENV.tableName] !== undefined);
  expect(indexer).toHaveLength(1);
  return ((indexer[0] as { Properties: { RecursiveLoop?: string } }).Properties.RecursiveLoop ?? 'Terminate');
}

interface Queued {
  readonly messageId: string;
  readonly body: string;
  /** Invocations of the function in the chain that sent it (0: from EventBridge or by hand). */
  readonly depth: number;
}

/**
 * Delivers messages one per invocation, every invocation past its deadline (a sweep reads one
 * page of two items, then pauses): continuations join the queue one level deeper, failed
 * messages come again. Returns the continuations sent and the messages Lambda would not deliver.
 */
async function feed(table: string, bodies: readonly string[], o: { recursiveLoop: string; maxSweepContinuations?: number; errors?: string[] }) {
  const queue: Queued[] = bodies.map((body, i) => ({ messageId: `m${i}`, body, depth: 0 }));
  let sent = 0;
  let stopped = 0;
  let current: Queued | undefined;
  const indexer = createIndexer({
    dynamodb: local.dynamodb,
    tableName: table,
    logger: { info: () => {}, warn: () => {}, error: (message: string) => void o.errors?.push(message) },
    sweepPageSize: 2,
    ...(o.maxSweepContinuations === undefined ? {} : { maxSweepContinuations: o.maxSweepContinuations }),
    continueSweep: async (runId, hop) => {
      queue.push({ messageId: `c${++sent}`, body: sweepContinuationBody(runId, hop), depth: current!.depth + 1 });
    },
  });
  while (queue.length > 0) {
    current = queue.shift()!;
    if (current.depth >= LAMBDA_RECURSION_LIMIT && o.recursiveLoop !== 'Allow') {
      stopped++;
      continue;
    }
    const out = await indexer({ Records: [current] as never }, { getRemainingTimeInMillis: () => 0 });
    expect(out.stats.failed, 'no message fails').toBe(0);
    if (out.batchItemFailures.length > 0) queue.push(current);
  }
  return { sent, stopped };
}

/** A table of NODES live nodes, of which a resync run refreshed only the first: the sweep must tombstone every other one. */
async function staleFleet(runId: string) {
  const table = await createIndexerTable(local.dynamodb, `recursion-${++tables}`);
  const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2026-11-26T19:06:02.123';
  const body = (seq: number, t: number, r: ReturnType<typeof insert>) => {
    const out = builder({ ...r, eventID: `e${seq}`, eventSourceARN: arn, dynamodb: { ...r.dynamodb, SequenceNumber: String(seq), ApproximateCreationDateTime: 1_795_719_961 + t } } as StreamRecord);
    if (out.kind !== 'notify') throw new Error(out.kind);
    return envelope(out.notification.eventType, out.notification.entry.Detail!);
  };
  const creates = Array.from({ length: NODES }, (_, i) => body(100 + i, 0, insert(nodeImage(i))));
  const first = nodeImage(0);
  const run = [body(1000, 10, modify(first, { ...first, resync_run: { S: runId } })), runEvent(runId, 'end', '2026-11-26 19:06:10', 1)];
  return { table, creates, run };
}

async function liveNodes(table: string): Promise<number> {
  const items = (await local.dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items as Item[];
  return Array.from({ length: NODES }, (_, i) => items.find((it) => it[ATTR.uuid]?.S === uuidOf(i))).filter((it) => isLive(it)).length;
}

async function swept(table: string, runId: string): Promise<boolean> {
  const run = (await local.dynamodb.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: runItemKey(runId) } }, ConsistentRead: true }))).Item;
  return run?.[ATTR.swept]?.BOOL === true;
}

describe('a sweep longer than Lambda lets a function loop', () => {
  it('finishes with the indexer function as synthesized (its chain of continuations passes Lambda\'s limit)', async () => {
    const RUN = '00000000-0000-4000-8000-0000000000d1';
    const { table, creates, run } = await staleFleet(RUN);
    await feed(table, creates, { recursiveLoop: 'Allow' });
    const { sent, stopped } = await feed(table, run, { recursiveLoop: synthesizedRecursiveLoop() });
    expect(stopped, 'continuations Lambda would have refused to deliver').toBe(0);
    // The sweep needed more continuations than Lambda's detection lets a chain have.
    expect(sent).toBeGreaterThan(LAMBDA_RECURSION_LIMIT);
    expect(await swept(table, RUN)).toBe(true);
    expect(await liveNodes(table)).toBe(1);
  }, 120_000);

  it("stops a chain at the indexer's own bound, logging the line the alarm counts; a continuation sent by hand goes on", async () => {
    const RUN = '00000000-0000-4000-8000-0000000000d2';
    const { table, creates, run } = await staleFleet(RUN);
    await feed(table, creates, { recursiveLoop: 'Allow' });
    const errors: string[] = [];
    const first = await feed(table, run, { recursiveLoop: 'Allow', maxSweepContinuations: 5, errors });
    expect(first.sent).toBe(5);
    expect(errors).toEqual([SWEEP_CHAIN_STOPPED_MESSAGE]);
    expect(await swept(table, RUN)).toBe(false);
    // The operator's resume: a continuation without a hop starts a new chain from the saved position.
    const byHand = JSON.stringify({ 'detail-type': SWEEP_CONTINUATION_DETAIL_TYPE, detail: { run_id: RUN } });
    const rest = await feed(table, [byHand], { recursiveLoop: 'Allow', errors });
    expect(errors).toHaveLength(1);
    expect(rest.sent).toBeGreaterThan(0);
    expect(await swept(table, RUN)).toBe(true);
    expect(await liveNodes(table)).toBe(1);
  }, 120_000);
});
