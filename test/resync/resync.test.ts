/**
 * Resync against DynamoDB Local (one instance for this file) with a mocked EventBridge: every
 * live node once, soft-deleted skipped, invalid reported, payload byte-identical to the
 * notifier's, the rate limit's schedule (injected clock), resume from a checkpoint, the
 * Lambda variant's continuation.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';
import { createComputeNodeTable } from '../../local/compute-node-table.js';
import { loadItems } from '../../bench/indexer-fixture.js';
import { resyncCommand } from '../../cli/resync.js';
import { loadConfig } from '../../functions/notifier/config.js';
import { DETAIL_SCHEMAS } from '../../functions/notifier/contract/index.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';
import { loadResyncConfig } from '../../functions/resync/config.js';
import { createResyncHandler } from '../../functions/resync/resync-function.js';
import { checkResyncState, type ResyncState } from '../../functions/resync/resync.js';
import { createTokenBucket } from '../../functions/resync/token-bucket.js';
import { insert, nodeImage, type Image } from '../support/records.js';

const TABLE = 'resync-nodes';
const LIVE = 240;
let ddb: DynamoDbLocal;
let dynamodb: DynamoDBClient;
const images = new Map<string, Image>();
const live = new Set<string>();
const softDeleted = new Set<string>();
const invalid = new Set<string>();

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  dynamodb = new DynamoDBClient(ddb.clientConfig);
  await createComputeNodeTable(dynamodb, TABLE);
  const items: Image[] = [];
  for (let n = 1; n <= LIVE; n++) items.push(nodeImage(n, n % 3 === 0 ? { deleted: { N: '0' }, host: { NULL: true } } : { running_vms: { N: String(n) } }));
  for (let n = LIVE + 1; n <= LIVE + 20; n++) items.push(nodeImage(n, { deleted: n % 2 === 0 ? { N: String(n) } : { BOOL: true } }));
  items.push(nodeImage(LIVE + 21, { vcpus: { N: '2.5' } }), nodeImage(LIVE + 22, { deleted: { S: 'yes' } }));
  for (const image of items) {
    const uuid = image.uuid!.S!;
    images.set(uuid, image);
    const n = Number.parseInt(uuid.slice(-12), 16);
    (n <= LIVE ? live : n <= LIVE + 20 ? softDeleted : invalid).add(uuid);
  }
  await loadItems(dynamodb, TABLE, items as never, 4);
});

afterAll(async () => {
  dynamodb?.destroy();
  await ddb?.stop();
});

const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
const eb = mockClient(eventBridge);
let sent: PutEventsRequestEntry[];
beforeEach(() => {
  eb.reset();
  sent = [];
  eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    sent.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })) };
  });
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => '' } };
}

/**
 * A virtual clock: it only moves when someone sleeps. Sleepers wake in time order; the clock
 * jumps to the earliest wake-up once the sleepers that started together have all registered.
 */
function fakeClock(start = 1_800_000_000_000) {
  let t = start;
  const timers: Array<{ at: number; wake: () => void }> = [];
  const dispatch = () => {
    timers.sort((a, b) => a.at - b.at);
    const next = timers.shift();
    if (next === undefined) return;
    t = Math.max(t, next.at);
    next.wake();
  };
  return {
    now: () => t,
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        timers.push({ at: t + ms, wake });
        setImmediate(dispatch);
      }),
  };
}

const uuidOfDetail = (entry: PutEventsRequestEntry) => (JSON.parse(entry.Detail!) as { payload: { 'nova_object.data': { uuid: string } } }).payload['nova_object.data'].uuid;
const checkpointPath = () => join(mkdtempSync(join(tmpdir(), 'resync-')), 'checkpoint.json');
const ENV = { EVENT_BUS_NAME: 'the-bus', PUBLISHER_HOST_FALLBACK: 'fallback-host' };

describe('resync (CLI) against DynamoDB Local', () => {
  it('publishes every live node exactly once, skips soft-deleted items and reports invalid ones', async () => {
    const t = io();
    const clock = fakeClock();
    const status = await resyncCommand(['--table', TABLE, '--segments', '4', '--page-size', '25', '--checkpoint', checkpointPath()], t.io, {
      env: ENV,
      dynamodb,
      eventBridge,
      ...clock,
    });
    expect(status).toBe(0);
    const uuids = sent.map(uuidOfDetail);
    expect(uuids.length).toBe(LIVE);
    expect(new Set(uuids)).toEqual(live);
    const summary = JSON.parse(t.out.join(''));
    expect(summary).toMatchObject({ complete: true, scanned: LIVE + 22, published: LIVE, skipped: 20, invalid: 2, segmentsDone: 4, totalSegments: 4 });
    const notPublished = t.err.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(notPublished.map((x) => x.key.uuid.S).sort()).toEqual([...invalid].sort());
    expect(JSON.stringify(notPublished)).toMatch(/must be an integer, not a fraction/);
    expect(t.err.join('')).toMatch(/resync: 4\/4 segments done, scanned 262, published 240/);
  });

  it('publishes the payload byte for byte as the notifier would, in the same Detail shape, marked as a resync', async () => {
    const clock = fakeClock(1_800_000_000_123);
    await resyncCommand(['--table', TABLE, '--segments', '2', '--checkpoint', checkpointPath()], io().io, { env: ENV, dynamodb, eventBridge, ...clock });
    const notifier = createNotificationBuilder(loadConfig(ENV));
    expect(sent.length).toBe(LIVE);
    for (const entry of sent) {
      const image = images.get(uuidOfDetail(entry))!;
      const o = notifier(insert(image) as StreamRecord);
      if (o.kind !== 'notify') throw new Error();
      const streamDetail = o.notification.entry.Detail!;
      const slice = (d: string) => d.slice(d.indexOf(',"publisher_id"'), d.indexOf(',"timestamp"'));
      // publisher_id, event_type aside, priority, payload: the same bytes.
      expect(slice(entry.Detail!).replace('"compute_node.update"', '"compute_node.create"')).toBe(slice(streamDetail));
      expect(entry).toMatchObject({ Source: 'openstack.nova', DetailType: 'compute_node.update', EventBusName: 'the-bus', Time: new Date(1_800_000_000_123) });
      const detail = DETAIL_SCHEMAS['compute_node.update'].parse(JSON.parse(entry.Detail!));
      expect(detail.change).toEqual({ sequence_number: '0', changed_fields: [], origin: 'resync', cause: 'modify' });
      expect(detail.timestamp).toBe('2027-01-15 08:00:00.123000');
    }
    expect(new Set(sent.map((e) => JSON.parse(e.Detail!).message_id)).size).toBe(LIVE);
  });

  it('respects the rate limit: PutEvents requests are spaced by the token bucket on the injected clock', async () => {
    const clock = fakeClock();
    const calls: number[] = [];
    eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      calls.push(clock.now());
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) };
    });
    const status = await resyncCommand(['--table', TABLE, '--segments', '3', '--rate', '5', '--page-size', '50', '--checkpoint', checkpointPath()], io().io, {
      env: ENV,
      dynamodb,
      eventBridge,
      ...clock,
    });
    expect(status).toBe(0);
    expect(calls.length).toBeGreaterThanOrEqual(LIVE / 10);
    // 5 requests per second, no burst: consecutive requests at least 200 ms apart on the clock.
    for (let i = 1; i < calls.length; i++) expect(calls[i]! - calls[i - 1]!).toBeGreaterThanOrEqual(200);
    expect(calls.at(-1)! - calls[0]!).toBeGreaterThanOrEqual((calls.length - 1) * 200);
  });

  it('resumes from its checkpoint: the second run publishes only what the first did not reach', async () => {
    const file = checkpointPath();
    const controller = new AbortController();
    let requests = 0;
    eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      sent.push(...input.Entries);
      if (++requests === 4) controller.abort();
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) };
    });
    const first = io();
    const args = ['--table', TABLE, '--segments', '4', '--page-size', '20', '--concurrency', '1', '--checkpoint', file];
    expect(await resyncCommand(args, first.io, { env: ENV, dynamodb, eventBridge, signal: controller.signal, ...fakeClock() })).toBe(1);
    expect(first.err.join('')).toMatch(/interrupted; run the same command again/);
    const firstRun = new Set(sent.map(uuidOfDetail));
    const checkpoint = checkResyncState(JSON.parse(readFileSync(file, 'utf8')));
    expect(checkpoint.segments.some((s) => !s.done)).toBe(true);
    expect(firstRun.size).toBe(checkpoint.segments.reduce((a, s) => a + s.published, 0));

    // What the checkpoint says is left: the rest of the unfinished segments.
    const remaining = new Set<string>();
    for (const s of checkpoint.segments.filter((x) => !x.done)) {
      let start = s.lastEvaluatedKey;
      do {
        const page = await dynamodb.send(new ScanCommand({ TableName: TABLE, Segment: s.segment, TotalSegments: 4, ...(start ? { ExclusiveStartKey: start } : {}) }));
        for (const item of page.Items ?? []) if (live.has(item.uuid!.S!)) remaining.add(item.uuid!.S!);
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    }

    sent = [];
    eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      sent.push(...input.Entries);
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) };
    });
    const second = io();
    expect(await resyncCommand(args, second.io, { env: ENV, dynamodb, eventBridge, ...fakeClock() })).toBe(0);
    expect(second.err.join('')).toMatch(/resuming from/);
    const secondRun = sent.map(uuidOfDetail);
    expect(new Set(secondRun)).toEqual(remaining);
    expect(secondRun.length).toBe(remaining.size);
    for (const u of secondRun) expect(firstRun.has(u)).toBe(false);
    expect(new Set([...firstRun, ...secondRun])).toEqual(live);
    expect(JSON.parse(second.out.join(''))).toMatchObject({ complete: true, published: LIVE });
  });

  it('stops with exit 1 when PutEvents fails for good, keeping the failed page to publish again', async () => {
    const file = checkpointPath();
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    const t = io();
    const args = ['--table', TABLE, '--segments', '1', '--checkpoint', file];
    expect(await resyncCommand(args, t.io, { env: ENV, dynamodb, eventBridge, ...fakeClock() })).toBe(1);
    expect(t.err.join('')).toMatch(/could not be published \(AccessDeniedException: not authorized\)/);
    const state: ResyncState = JSON.parse(readFileSync(file, 'utf8'));
    expect(state.segments[0]).toMatchObject({ done: false, pages: 0, published: 0 });
    expect(state.segments[0]!.lastEvaluatedKey).toBeUndefined();
  });

  it('refuses a checkpoint of another table and bad flags (exit 2)', async () => {
    const file = checkpointPath();
    writeFileSync(file, JSON.stringify({ version: 1, tableName: 'other', totalSegments: 1, startedAt: '', segments: [{ segment: 0, done: false, scanned: 0, published: 0, skipped: 0, invalid: 0, pages: 0 }] }));
    const t = io();
    expect(await resyncCommand(['--table', TABLE, '--checkpoint', file], t.io, { env: ENV, dynamodb, eventBridge })).toBe(2);
    expect(t.err.join('')).toMatch(/checkpoint of table other/);
    const u = io();
    expect(await resyncCommand(['--table', TABLE, '--rate', '0'], u.io, { env: ENV, dynamodb, eventBridge })).toBe(2);
    expect(u.err.join('')).toMatch(/RESYNC_PUT_EVENTS_PER_SECOND: must be greater than 0/);
  });
});

describe('resync (Lambda function)', () => {
  it('stops before its deadline with a continuation token; invoked again with it, finishes; every live node once', async () => {
    // Each reading of the clock moves it 250 ms; the invocation has 14 s: it stops after a few pages.
    let t = 1_800_000_000_000;
    const now = () => (t += 250);
    const handler = createResyncHandler({
      config: loadResyncConfig({ ...ENV, TABLE_NAME: TABLE, RESYNC_PAGE_SIZE: '10', RESYNC_TOTAL_SEGMENTS: '3', RESYNC_SEGMENT_CONCURRENCY: '3' }),
      dynamodb,
      eventBridge,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      now,
      sleep: async (ms) => void (t += ms),
    });
    const context = { getRemainingTimeInMillis: () => 14_000 };
    let response = await handler({}, context);
    expect(response.complete).toBe(false);
    let invocations = 1;
    while (!response.complete) {
      expect(response.continuation).toEqual(expect.any(String));
      response = await handler({ continuation: response.continuation! }, context);
      if (++invocations > 200) throw new Error('no progress');
    }
    expect(invocations).toBeGreaterThan(2);
    expect(response.totals).toMatchObject({ published: LIVE, skipped: 20, invalid: 2, segmentsDone: 3 });
    const uuids = sent.map(uuidOfDetail);
    expect(uuids.length).toBe(LIVE);
    expect(new Set(uuids)).toEqual(live);
  });

  it('refuses a continuation token of another table or that it did not make', async () => {
    const handler = createResyncHandler({
      config: loadResyncConfig({ ...ENV, TABLE_NAME: 'another-table' }),
      dynamodb,
      eventBridge,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const token = Buffer.from(JSON.stringify({ version: 1, tableName: TABLE, totalSegments: 1, startedAt: '', segments: [{ segment: 0, done: false, scanned: 0, published: 0, skipped: 0, invalid: 0, pages: 0 }] })).toString('base64url');
    const context = { getRemainingTimeInMillis: () => 60_000 };
    await expect(handler({ continuation: token }, context)).rejects.toThrow(/token is for table resync-nodes/);
    await expect(handler({ continuation: '%%%' }, context)).rejects.toThrow(/not a resync checkpoint|not one this function returned/);
  });
});

describe('token bucket', () => {
  it('grants at most rate per second after the burst, in call order, on the injected clock', async () => {
    const clock = fakeClock(0);
    const bucket = createTokenBucket({ ratePerSecond: 50, burst: 5, ...clock });
    await Promise.all(Array.from({ length: 120 }, () => bucket.take()));
    const grants = [...bucket.grants];
    expect(grants).toHaveLength(120);
    // Token i (0-based) is granted no earlier than (i - burst + 1) / rate seconds.
    grants.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(Math.max(0, Math.ceil(((i - 4) * 1000) / 50))));
    // Any one-second window holds at most rate + burst grants.
    for (const start of grants) expect(grants.filter((g) => g >= start && g < start + 1000).length).toBeLessThanOrEqual(55);
    expect(grants.at(-1)).toBeLessThanOrEqual(Math.ceil(((120 - 5) * 1000) / 50) + 1);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createTokenBucket({ ratePerSecond: 0 })).toThrow(/positive/);
  });
});
