/**
 * A resync run's bookkeeping expires (`expires_at`, the indexer table's TTL), and DynamoDB's
 * TTL deletes an expired item "typically within two days", showing it in reads until then
 * (DynamoDB developer guide, "Working with expired items"). A node's seen item is what keeps a
 * duplicate delivery from being counted twice; if it is gone while the run's item (with its
 * count and `refreshed`) is still read, a late duplicate (a parked on-failure object redriven
 * weeks later, a dead-letter queue redriven by hand, an archive replay) is counted again, the
 * count reaches `refreshed` while a live node's notification is still missing, and the sweep
 * drops that node. Against DynamoDB Local, "N days later" is every `expires_at` moved N days
 * back, and TTL's deletions are done by hand in the order that hurts.
 */
import { describe, expect, it } from 'vitest';
import { DeleteItemCommand, GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createIndexerTable } from '../../local/indexer-table.js';
import { isLive, type Item } from '../../functions/indexer/apply.js';
import { ATTR, STATE } from '../../functions/indexer/indexer-table.js';
import { createIndexer } from '../../functions/indexer/indexer.js';
import { runItemKey } from '../../functions/indexer/run-store.js';
import { RESYNC_MARKER_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { runEvent, SimulatedTable, uuidOf } from './history.js';
import { nodeImage } from '../support/records.js';
import { dynamoDbLocalForFile } from '../support/dynamodb-local-for-file.js';

const RUN = '00000000-0000-4000-8000-0000000e0e0e';
const DAY = 86_400;
const local = dynamoDbLocalForFile({ maxAttempts: 3 });
let tables = 0;

/** Every bookkeeping item (with `expires_at`) of the table. */
async function bookkeeping(table: string): Promise<Item[]> {
  const out = await local.dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true, FilterExpression: 'attribute_exists(#ex)', ExpressionAttributeNames: { '#ex': ATTR.expiresAt } }));
  return (out.Items ?? []) as Item[];
}

/** `days` later, as the code sees it: every `expires_at` moved back by that much. */
async function later(table: string, days: number): Promise<void> {
  for (const item of await bookkeeping(table)) {
    await local.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { [ATTR.uuid]: item[ATTR.uuid]! },
        UpdateExpression: 'SET #ex = :ex',
        ExpressionAttributeNames: { '#ex': ATTR.expiresAt },
        ExpressionAttributeValues: { ':ex': { N: String(Number(item[ATTR.expiresAt]!.N) - days * DAY) } },
      }),
    );
  }
}

/**
 * Nodes 1–3 delivered; run R marks all three, but node 2's notification is held back (parked).
 * Returns the deliveries and a handler on a table of its own.
 */
async function runWithOneMissing() {
  const table = `run-expiry-${++tables}`;
  await createIndexerTable(local.dynamodb, table);
  const indexer = createIndexer({ dynamodb: local.dynamodb, tableName: table, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  const deliver = (bodies: readonly string[]) => indexer({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) as never });
  const fleet = new SimulatedTable();
  for (const n of [1, 2, 3]) {
    fleet.put(nodeImage(n));
    fleet.tick(() => 0.5);
  }
  await deliver(fleet.notifications.splice(0));
  fleet.clockMs += 600_000;
  const startedAt = fleet.now();
  const marks = new Map<number, string>();
  for (const n of [1, 2, 3]) {
    fleet.tick(() => 0.5);
    expect(fleet.writeMarker(uuidOf(n), RUN)).toBe(true);
    marks.set(n, fleet.notifications.splice(0)[0]!);
  }
  expect(fleet.items.get(uuidOf(2))?.[RESYNC_MARKER_ATTRIBUTE]?.S).toBe(RUN);
  await deliver([runEvent(RUN, 'start', startedAt), marks.get(1)!, marks.get(3)!, runEvent(RUN, 'end', startedAt, 3)]);
  const run = await local.dynamodb.send(new GetItemCommand({ TableName: table, Key: { [ATTR.uuid]: { S: runItemKey(RUN) } }, ConsistentRead: true }));
  expect(run.Item?.[ATTR.swept]?.BOOL ?? false, 'not swept: node 2 is missing').toBe(false);
  return { table, deliver, marks };
}

async function isLiveNode(table: string, n: number): Promise<boolean> {
  const { Item } = await local.dynamodb.send(new GetItemCommand({ TableName: table, Key: { [ATTR.uuid]: { S: uuidOf(n) } }, ConsistentRead: true }));
  return isLive(Item as Item | undefined);
}

describe("a resync run's bookkeeping past its expiry", () => {
  it('a duplicate delivered after the seen items expired, while the expired run item is still read, does not complete the count: no live node is swept', async () => {
    const { table, deliver, marks } = await runWithOneMissing();
    // 31 days later: TTL has deleted the seen items, not yet the run's item.
    await later(table, 31);
    for (const item of await bookkeeping(table)) {
      if (item[ATTR.state]?.S === STATE.seen) await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { [ATTR.uuid]: item[ATTR.uuid]! } }));
    }
    // The parked object holding node 1's marker record is redriven: node 1's notification again.
    const out = await deliver([marks.get(1)!]);
    expect(out.stats.swept).toBe(0);
    expect(await isLiveNode(table, 2), 'node 2 is live in the table and its notification never came').toBe(true);
  }, 60_000);

  it("a late control event does not push the run's expiry past its seen items' (each node's seen item outlives the run item it counts for)", async () => {
    const { table, deliver } = await runWithOneMissing();
    await later(table, 25);
    // The end event again, 25 days on (a dead-letter queue redriven by hand).
    await deliver([runEvent(RUN, 'end', '2026-11-26 19:06:09', 3)]);
    const items = await bookkeeping(table);
    const runExpiry = Number(items.find((i) => i[ATTR.uuid]!.S === runItemKey(RUN))![ATTR.expiresAt]!.N);
    const seen = items.filter((i) => i[ATTR.state]?.S === STATE.seen);
    expect(seen).toHaveLength(2);
    for (const s of seen) expect(runExpiry, s[ATTR.uuid]!.S).toBeLessThanOrEqual(Number(s[ATTR.expiresAt]!.N));
  }, 60_000);
});
