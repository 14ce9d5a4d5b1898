/**
 * Resync runs on DynamoDB Local (one instance for this file): the reference indexer's SQS
 * handler (the real one: reading, conditional writes, run bookkeeping, sweep) fed the
 * deliveries of a fleet's history with a gap and one resync while the fleet writes, in
 * concurrent batches; afterwards the read model equals the table for every node. Each history
 * gets a table of its own (a sweep reads the whole table).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';
import { createIndexerTable } from '../../local/indexer-table.js';
import { isLive, type Item } from '../../functions/indexer/apply.js';
import { ATTR, STATE } from '../../functions/indexer/indexer-table.js';
import { createIndexer } from '../../functions/indexer/indexer.js';
import { readMessage, readNotification, sweepContinuationBody } from '../../functions/indexer/notification.js';
import { ReadModel } from '../../functions/indexer/read-model.js';
import { runItemKey } from '../../functions/indexer/run-store.js';
import { writeNotification } from '../../functions/indexer/store.js';
import { parseExactJson } from '../../functions/indexer/exact-json.js';
import { builder, dataJsonOf, envelope, fleetScenario, isLiveImage, playFleet, runEvent, uuidOf } from './history.js';
import { insert, modify, nodeImage } from '../support/records.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
let tables = 0;
const silent = { info: () => {}, warn: () => {}, error: () => {} };

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  client = new DynamoDBClient({ ...ddb.clientConfig, maxAttempts: 3 });
});

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

async function nodeItems(table: string): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  let start: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of (page.Items ?? []) as Item[]) {
      const state = item[ATTR.state]?.S;
      if (state === STATE.live || state === STATE.deleted) out.set(item[ATTR.uuid]!.S!, item);
    }
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start !== undefined);
  return out;
}

/**
 * Feeds bodies to the handler in batches of `batch` messages, `concurrency` writes in flight;
 * failed messages come again, as SQS would deliver them. `pausing`: every invocation's deadline
 * has already passed and a sweep page holds two items, so a sweep does one page per invocation;
 * its continuation messages (when `continuations`) join the queue, else the paused message
 * comes again.
 */
async function feed(table: string, bodies: readonly string[], batch = 10, pausing?: { paused: number; continuations: boolean }) {
  const queue: { messageId: string; body: string }[] = bodies.map((body, i) => ({ messageId: `m${i}`, body }));
  let sent = 0;
  const continueSweep = async (runId: string, hop: number) => {
    queue.push({ messageId: `c${++sent}`, body: sweepContinuationBody(runId, hop) });
  };
  const indexer = createIndexer({
    dynamodb: client,
    tableName: table,
    logger: silent,
    concurrency: 8,
    ...(pausing ? { sweepPageSize: 2 } : {}),
    ...(pausing?.continuations ? { continueSweep } : {}),
  });
  const context = pausing ? { getRemainingTimeInMillis: () => 0 } : undefined;
  const receives = new Map<string, number>();
  let swept = 0;
  while (queue.length > 0) {
    const records = queue.splice(0, batch);
    for (const r of records) {
      const n = (receives.get(r.messageId) ?? 0) + 1;
      receives.set(r.messageId, n);
      // The route's maxReceiveCount: a message received more often would be in the dead-letter queue.
      if (n > (pausing && !pausing.continuations ? 2_000 : 5)) throw new Error(`message ${r.messageId} received ${n} times: it would be in the dead-letter queue`);
    }
    const out = await indexer({ Records: records as never }, context);
    swept += out.stats.swept;
    if (pausing) pausing.paused += out.stats.sweepsPaused;
    expect(out.stats.failed, 'no message fails').toBe(0);
    const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
    queue.push(...records.filter((r) => failed.has(r.messageId)));
  }
  return swept;
}

describe('resync runs on DynamoDB Local', () => {
  it('property: after a gap and one resync while the fleet writes, the stored read model equals the table for every node', async () => {
    let sweptNodes = 0;
    await fc.assert(
      fc.asyncProperty(fleetScenario({ nodes: 5, maxBefore: 30, maxDuring: 8 }), async (s) => {
        const table = await createIndexerTable(client, `sweep-${++tables}`);
        const h = await playFleet(s);
        await feed(table, h.early);
        sweptNodes += await feed(table, h.late);
        const stored = await nodeItems(table);
        const run = (await client.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: runItemKey(h.runId) } }, ConsistentRead: true }))).Item;
        expect(run?.[ATTR.swept]).toEqual({ BOOL: true });
        expect(run?.[ATTR.refreshed]).toEqual({ N: String(h.refreshed) });
        for (const uuid of h.universe) {
          const image = h.table.get(uuid);
          const item = stored.get(uuid);
          if (isLiveImage(image)) {
            expect(isLive(item), `${uuid} live in the table`).toBe(true);
            expect(parseExactJson(item![ATTR.payload]!.S!)).toEqual(parseExactJson(dataJsonOf(image)));
          } else {
            expect(isLive(item), `${uuid} not live in the table`).toBe(false);
          }
        }
        // The pure model, fed the same messages in order, agrees node by node on what is live.
        const model = new ReadModel();
        for (const body of [...h.early, ...h.late]) model.apply(readMessage(body));
        for (const uuid of h.universe) expect(isLive(stored.get(uuid))).toBe(isLive(model.nodes.get(uuid)));
      }),
      { numRuns: 20 },
    );
    expect(sweptNodes).toBeGreaterThan(0);
  }, 300_000);

  for (const continuations of [true, false]) {
    it(`a sweep longer than an invocation stops before the deadline and goes on where it stopped (${continuations ? 'in continuation messages, no message received more than the route allows' : 'without continuations: the paused message delivered again, receives not limited here'}): the read model still equals the table`, async () => {
      const pausing = { paused: 0, continuations };
      await fc.assert(
        fc.asyncProperty(fleetScenario({ nodes: 5, maxBefore: 30, maxDuring: 8 }), async (s) => {
          const table = await createIndexerTable(client, `sweep-${++tables}`);
          const h = await playFleet(s);
          await feed(table, h.early, 10, pausing);
          await feed(table, h.late, 10, pausing);
          const stored = await nodeItems(table);
          const run = (await client.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: runItemKey(h.runId) } }, ConsistentRead: true }))).Item;
          expect(run?.[ATTR.swept]).toEqual({ BOOL: true });
          expect(run?.[ATTR.sweepCursor], 'a finished sweep keeps no position').toBeUndefined();
          for (const uuid of h.universe) expect(isLive(stored.get(uuid)), uuid).toBe(isLiveImage(h.table.get(uuid)));
        }),
        { numRuns: continuations ? 10 : 4 },
      );
      // The sweeps did stop and go on (the property would be idle otherwise).
      expect(pausing.paused).toBeGreaterThan(continuations ? 10 : 4);
    }, 300_000);
  }

  it('a late notification cannot create or revive a node once a sweep judged it not live; a newer one can', async () => {
    const table = await createIndexerTable(client, `sweep-${++tables}`);
    const RUN = '00000000-0000-4000-8000-0000000000bb';
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2026-11-26T19:06:02.123';
    const body = (seq: string, t: number, r: ReturnType<typeof insert>) => {
      const o = builder({ ...r, eventID: `e${seq}`, eventSourceARN: arn, dynamodb: { ...r.dynamodb, SequenceNumber: seq, ApproximateCreationDateTime: 1_795_719_961 + t } } as StreamRecord);
      if (o.kind !== 'notify') throw new Error(o.kind);
      return envelope(o.notification.eventType, o.notification.entry.Detail!);
    };
    const at = (seq: string, t: number, r: ReturnType<typeof insert>) => readNotification(body(seq, t, r));
    const anchor = nodeImage(50);
    const neverHeld = at('110', 1, insert(nodeImage(51))); // removed at t=2, both notifications delayed
    // Node 52: created and soft-deleted (both delivered: a tombstone), undeleted at t=5 (delayed), soft-deleted again (lost).
    const n52 = nodeImage(52);
    const deleted52 = { ...n52, deleted: { N: '52' } };
    const undelete = at('150', 5, modify(deleted52, { ...n52, deleted: { N: '0' } }));
    await feed(table, [body('120', 3, insert(n52)), body('130', 4, modify(n52, deleted52))]);
    expect(await feed(table, [body('100', 0, insert(anchor)), body('200', 10, modify(anchor, { ...anchor, resync_run: { S: RUN } })), runEvent(RUN, 'end', '2026-11-26 19:06:10', 1)])).toBe(0);
    expect(await writeNotification(client, table, undelete)).toBe('stale');
    expect(isLive((await nodeItems(table)).get(uuidOf(52)))).toBe(false);
    const run = (await client.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: runItemKey(RUN) } }, ConsistentRead: true }))).Item;
    expect(run?.[ATTR.swept]).toEqual({ BOOL: true });
    expect(await writeNotification(client, table, neverHeld)).toBe('stale');
    expect((await nodeItems(table)).has(uuidOf(51))).toBe(false);
    expect(await writeNotification(client, table, at('300', 20, insert(nodeImage(51))))).toBe('applied');
    expect(isLive((await nodeItems(table)).get(uuidOf(51)))).toBe(true);
  });

  it('counts a node once however often its resync notification comes, and does not sweep before the count is reached', async () => {
    const table = await createIndexerTable(client, `sweep-${++tables}`);
    const RUN = '00000000-0000-4000-8000-0000000000cc';
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/2026-11-26T19:06:02.123';
    const body = (seq: string, t: number, r: ReturnType<typeof insert>) => {
      const o = builder({ ...r, eventID: `e${seq}`, eventSourceARN: arn, dynamodb: { ...r.dynamodb, SequenceNumber: seq, ApproximateCreationDateTime: 1_795_719_961 + t } } as StreamRecord);
      if (o.kind !== 'notify') throw new Error(o.kind);
      return envelope(o.notification.eventType, o.notification.entry.Detail!);
    };
    const a = nodeImage(60);
    const b = nodeImage(61);
    const gone = nodeImage(62);
    await feed(table, [body('100', 0, insert(a)), body('101', 0, insert(b)), body('102', 0, insert(gone))]);
    const markA = body('200', 10, modify(a, { ...a, resync_run: { S: RUN } }));
    const markB = body('201', 11, modify(b, { ...b, resync_run: { S: RUN } }));
    // Node a's resync notification five times, concurrently, and the end: still one node seen of two.
    expect(await feed(table, [markA, markA, markA, markA, markA, runEvent(RUN, 'end', '2026-11-26 19:06:10', 2)])).toBe(0);
    const run = (await client.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: runItemKey(RUN) } }, ConsistentRead: true }))).Item;
    expect(run?.[ATTR.seenCount]).toEqual({ N: '1' });
    expect(isLive((await nodeItems(table)).get(uuidOf(62)))).toBe(true);
    expect(await feed(table, [markB])).toBe(1);
    const nodes = await nodeItems(table);
    expect(isLive(nodes.get(uuidOf(62)))).toBe(false);
    expect(nodes.get(uuidOf(62))![ATTR.sweptBy]).toEqual({ S: RUN });
    expect([isLive(nodes.get(uuidOf(60))), isLive(nodes.get(uuidOf(61)))]).toEqual([true, true]);
  });
});
