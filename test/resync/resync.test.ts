/**
 * Resync through the stream, against DynamoDB Local (one instance for this file, the table
 * with its stream) and a mocked EventBridge: the run writes the marker to every live, valid
 * node exactly once, the stream carries one record per write that the notifier turns into a
 * resync notification with the record's real sequence number, start and end control events
 * bracket the run with the right count, the rate limit spaces the writes, a stopped run
 * resumes without a second write, an item deleted meanwhile is not an error, the lease allows
 * one run at a time, and the Lambda variant continues across invocations.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createComputeNodeTable } from '../../local/compute-node-table.js';
import { loadItems } from '../../bench/indexer-fixture.js';
import { resyncCommand } from '../../cli/resync.js';
import { loadConfig } from '../../functions/notifier/config.js';
import { DETAIL_SCHEMAS, RESYNC_RUN_DETAIL_TYPE, ResyncRunDetail } from '../../functions/notifier/contract/index.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { loadResyncConfig } from '../../functions/resync/config.js';
import { createLease } from '../../functions/resync/lease.js';
import { createResyncHandler } from '../../functions/resync/resync-function.js';
import { checkResyncState, type ResyncState } from '../../functions/resync/resync.js';
import { ensureResyncStateTable } from '../../functions/resync/state-table.js';
import { createTokenBucket } from '../../functions/resync/token-bucket.js';
import { nodeImage, type Image } from '../support/records.js';
import { dynamoDbLocalForFile } from '../support/dynamodb-local-for-file.js';
import { recordingEventBridge, streamRecords } from './support.js';

const TABLE = 'resync-nodes';
const LEASES = 'resync-state';
const LIVE = 240;
const local = dynamoDbLocalForFile();
let streamArn: string;
const live = new Set<string>();
const softDeleted = new Set<string>();
const invalid = new Set<string>();

const uuidOf = (n: number) => nodeImage(n).uuid!.S!;

async function fillTable(client: DynamoDBClient, table: string): Promise<void> {
  const items: Image[] = [];
  for (let n = 1; n <= LIVE; n++) items.push(nodeImage(n, n % 3 === 0 ? { deleted: { N: '0' }, host: { NULL: true } } : { running_vms: { N: String(n) } }));
  for (let n = LIVE + 1; n <= LIVE + 20; n++) items.push(nodeImage(n, { deleted: n % 2 === 0 ? { N: String(n) } : { BOOL: true } }));
  items.push(nodeImage(LIVE + 21, { vcpus: { N: '2.5' } }), nodeImage(LIVE + 22, { deleted: { S: 'yes' } }));
  await loadItems(client, table, items as never, 4);
}

beforeAll(async () => {
  streamArn = (await createComputeNodeTable(local.dynamodb, TABLE)).streamArn;
  await ensureResyncStateTable(local.dynamodb, LEASES);
  for (let n = 1; n <= LIVE; n++) live.add(uuidOf(n));
  for (let n = LIVE + 1; n <= LIVE + 20; n++) softDeleted.add(uuidOf(n));
  invalid.add(uuidOf(LIVE + 21)).add(uuidOf(LIVE + 22));
  await fillTable(local.dynamodb, TABLE);
}, 60_000);

const { eventBridge, mock: eb, sent, accept, reset } = recordingEventBridge();
beforeEach(reset);

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

/**
 * The DynamoDB client seen through a hook: every command is recorded, and `before` may act
 * (or wait) before a command is sent.
 */
function observed(before?: (command: unknown) => Promise<void> | void) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ name: command.constructor.name, input: command.input });
      await before?.(command);
      return local.dynamodb.send(command as never);
    },
    destroy: () => {},
  } as unknown as DynamoDBClient;
  const markerWrites = () => calls.filter((c) => c.name === 'UpdateItemCommand' && c.input.TableName === TABLE);
  return { client, calls, markerWrites };
}

const checkpointPath = () => join(mkdtempSync(join(tmpdir(), 'resync-')), 'checkpoint.json');
const ENV = { EVENT_BUS_NAME: 'the-bus', RESYNC_STATE_TABLE_NAME: LEASES };
const controlEvents = () => sent.filter((e) => e.DetailType === RESYNC_RUN_DETAIL_TYPE).map((e) => ({ entry: e, detail: ResyncRunDetail.parse(JSON.parse(e.Detail!)) }));
const summaryOf = (out: string[]) => JSON.parse(out.join('')) as Record<string, unknown> & { runId: string; refreshed: number };

/** What the notifier makes of the stream: the resync notifications of one run. */
async function resyncNotificationsOf(runId: string, arn = streamArn) {
  const build = createNotificationBuilder(loadConfig({ EVENT_BUS_NAME: 'the-bus' }));
  const out = [];
  for (const record of await streamRecords(local.streams, arn)) {
    const outcome = build(StreamRecord.parse(record));
    if (outcome.kind !== 'notify' || outcome.notification.eventType !== 'compute_node.update') continue;
    const detail = DETAIL_SCHEMAS['compute_node.update'].parse(JSON.parse(outcome.notification.entry.Detail!));
    if (detail.change.resync_run === runId) out.push({ record, detail });
  }
  return out;
}

async function markerOf(uuid: string): Promise<string | undefined> {
  const { Item } = await local.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { uuid: { S: uuid } }, ConsistentRead: true }));
  return Item?.resync_run?.S;
}

describe('resync run (CLI) against DynamoDB Local', () => {
  it('marks every live, valid node once; the notifier makes one resync notification per write, with the record\'s sequence number; start and end bracket the run', async () => {
    const t = io();
    const obs = observed();
    const status = await resyncCommand(['--table', TABLE, '--segments', '4', '--page-size', '25', '--checkpoint', checkpointPath()], t.io, {
      env: ENV,
      dynamodb: obs.client,
      eventBridge,
      ...fakeClock(),
    });
    expect(status).toBe(0);
    const summary = summaryOf(t.out);
    expect(summary).toMatchObject({ complete: true, refreshed: LIVE, skipped: 20, invalid: 2, gone: 0, segmentsDone: 4, totalSegments: 4 });
    // One write per live node, none to a soft-deleted or invalid item.
    const written = obs.markerWrites().map((c) => (c.input.Key as { uuid: { S: string } }).uuid.S);
    expect(written.length).toBe(LIVE);
    expect(new Set(written)).toEqual(live);
    for (const u of [...softDeleted, ...invalid]) expect(await markerOf(u)).not.toBe(summary.runId);

    // Start, then end with refreshed = the writes; the same source as the notifications.
    const control = controlEvents();
    expect(control.map((c) => c.detail.phase)).toEqual(['start', 'end']);
    expect(control[0]!.detail).toMatchObject({ run_id: summary.runId, table: TABLE });
    expect(control[1]!.detail).toMatchObject({ run_id: summary.runId, refreshed: LIVE, started_at: control[0]!.detail.started_at });
    expect(control[0]!.entry).toMatchObject({ Source: 'openstack.nova', EventBusName: 'the-bus' });
    expect(sent.filter((e) => e.DetailType !== RESYNC_RUN_DETAIL_TYPE)).toEqual([]);

    // Through the stream: one resync notification per refreshed node, each with its own record's sequence number.
    const notifications = await resyncNotificationsOf(summary.runId);
    expect(notifications.length).toBe(LIVE);
    expect(new Set(notifications.map((n) => (n.detail.payload as { 'nova_object.data': { uuid: string } })['nova_object.data'].uuid))).toEqual(live);
    for (const n of notifications) {
      expect(n.detail.change).toMatchObject({ origin: 'resync', cause: 'modify', changed_fields: [], sequence_number: n.record.dynamodb.SequenceNumber, epoch: streamArn.split('/stream/')[1] });
    }
    expect(new Set(notifications.map((n) => n.detail.change.sequence_number)).size).toBe(LIVE);

    // Invalid items are reported with their key and issues.
    const notMarked = t.err.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(notMarked.map((x) => x.key.uuid.S).sort()).toEqual([...invalid].sort());
    expect(JSON.stringify(notMarked)).toMatch(/must be an integer, not a fraction/);
  });

  it('anchors before it scans: the first marker write comes before the first segment\'s Scan', async () => {
    const obs = observed();
    expect(await resyncCommand(['--table', TABLE, '--segments', '3', '--checkpoint', checkpointPath()], io().io, { env: ENV, dynamodb: obs.client, eventBridge, ...fakeClock() })).toBe(0);
    const firstWrite = obs.calls.findIndex((c) => c.name === 'UpdateItemCommand' && c.input.TableName === TABLE);
    const firstSegmentScan = obs.calls.findIndex((c) => c.name === 'ScanCommand' && c.input.Segment !== undefined);
    expect(firstWrite).toBeGreaterThan(-1);
    expect(firstWrite).toBeLessThan(firstSegmentScan);
    // The anchor is written once: no second write of the same item in the run.
    const keys = obs.markerWrites().map((c) => JSON.stringify(c.input.Key));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('respects the rate limit: marker writes are spaced by the token bucket on the injected clock', async () => {
    const clock = fakeClock();
    const times: number[] = [];
    const obs = observed((command) => {
      const c = command as { constructor: { name: string }; input: { TableName?: string } };
      if (c.constructor.name === 'UpdateItemCommand' && c.input.TableName === TABLE) times.push(clock.now());
    });
    const status = await resyncCommand(['--table', TABLE, '--segments', '3', '--rate', '20', '--page-size', '50', '--checkpoint', checkpointPath()], io().io, {
      env: ENV,
      dynamodb: obs.client,
      eventBridge,
      ...clock,
    });
    expect(status).toBe(0);
    expect(times.length).toBe(LIVE);
    // 20 writes per second, no burst: consecutive writes at least 50 ms apart, whatever the segments do.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(50);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((times.length - 1) * 50);
  });

  it('resumes the same run from its checkpoint: no item written twice, one start and one end, refreshed counts every node once', async () => {
    const file = checkpointPath();
    const controller = new AbortController();
    let writes = 0;
    const obs = observed((command) => {
      const c = command as { constructor: { name: string }; input: { TableName?: string } };
      // Stop in the middle of a page: its writes are not checkpointed.
      if (c.constructor.name === 'UpdateItemCommand' && c.input.TableName === TABLE && ++writes === 67) controller.abort();
    });
    const args = ['--table', TABLE, '--segments', '4', '--page-size', '20', '--concurrency', '1', '--checkpoint', file];
    const first = io();
    expect(await resyncCommand(args, first.io, { env: ENV, dynamodb: obs.client, eventBridge, signal: controller.signal, ...fakeClock() })).toBe(1);
    expect(first.err.join('')).toMatch(/interrupted; run the same command again/);
    const checkpoint = checkResyncState(JSON.parse(readFileSync(file, 'utf8')));
    expect(checkpoint.endPublished).toBe(false);
    expect(checkpoint.segments.some((s) => !s.done)).toBe(true);

    const second = io();
    expect(await resyncCommand(args, second.io, { env: ENV, dynamodb: obs.client, eventBridge, ...fakeClock() })).toBe(0);
    expect(second.err.join('')).toMatch(new RegExp(`resuming run ${checkpoint.runId}`));
    const written = obs.markerWrites().map((c) => (c.input.Key as { uuid: { S: string } }).uuid.S);
    expect(written.length).toBe(LIVE);
    expect(new Set(written)).toEqual(live);
    expect(summaryOf(second.out)).toMatchObject({ complete: true, runId: checkpoint.runId, refreshed: LIVE });
    const control = controlEvents();
    expect(control.map((c) => [c.detail.phase, c.detail.run_id])).toEqual([
      ['start', checkpoint.runId],
      ['end', checkpoint.runId],
    ]);
    expect(control[1]!.detail).toMatchObject({ refreshed: LIVE });
    expect((await resyncNotificationsOf(checkpoint.runId)).length).toBe(LIVE);
  });

  /**
   * A run stopped in the middle of a page (after `stopAt` marker writes), then, before it is
   * resumed, the last `victims` nodes it marked are deleted, soft-deleted or made invalid. With
   * `crash`, the checkpoint file is put back as it was on disk at the stop (a process killed
   * there: nothing saved after its last checkpoint). Returns the end event's count and the
   * distinct nodes the run's notifications are about, read from the stream.
   */
  async function interruptedRun(table: string, opts: { crash: boolean; stopAt: number }) {
    const { streamArn: arn } = await createComputeNodeTable(local.dynamodb, table);
    await fillTable(local.dynamodb, table);
    const file = checkpointPath();
    const controller = new AbortController();
    const written: string[] = [];
    let onDisk: string | undefined;
    const obs = observed((command) => {
      const c = command as { constructor: { name: string }; input: { TableName?: string; Key?: { uuid: { S: string } } } };
      if (c.constructor.name !== 'UpdateItemCommand' || c.input.TableName !== table) return;
      written.push(c.input.Key!.uuid.S);
      if (written.length === opts.stopAt) {
        onDisk = readFileSync(file, 'utf8');
        controller.abort();
      }
    });
    const args = ['--table', table, '--segments', '2', '--page-size', '20', '--concurrency', '1', '--checkpoint', file];
    expect(await resyncCommand(args, io().io, { env: ENV, dynamodb: obs.client, eventBridge, signal: controller.signal, ...fakeClock() })).toBe(1);
    if (opts.crash) writeFileSync(file, onDisk!);
    // While the run is stopped: the last nodes it marked go away, each in another way.
    const victims = written.slice(-4);
    // And, after a crash, a node the saved page was still to mark (no notification of it exists).
    const saved = checkResyncState(JSON.parse(onDisk!));
    const savedPending = saved.segments.flatMap((seg) => seg.pending.map((p) => (p.key as { uuid: { S: string } }).uuid.S));
    const unwritten = opts.crash ? savedPending.find((u) => !written.includes(u)) : undefined;
    if (opts.crash) {
      expect(unwritten, 'the stop falls in the middle of a page').toBeDefined();
      await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { uuid: { S: unwritten! } } }));
    }
    await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { uuid: { S: victims[0]! } } }));
    await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { uuid: { S: victims[1]! } } }));
    await local.dynamodb.send(new UpdateItemCommand({ TableName: table, Key: { uuid: { S: victims[2]! } }, UpdateExpression: 'SET deleted = :d', ExpressionAttributeValues: { ':d': { N: '1' } } }));
    await local.dynamodb.send(new UpdateItemCommand({ TableName: table, Key: { uuid: { S: victims[3]! } }, UpdateExpression: 'SET vcpus = :v', ExpressionAttributeValues: { ':v': { N: '2.5' } } }));
    const second = io();
    expect(await resyncCommand(args, second.io, { env: ENV, dynamodb: obs.client, eventBridge, ...fakeClock() })).toBe(0);
    const summary = summaryOf(second.out);
    const end = controlEvents().find((c) => c.detail.phase === 'end' && c.detail.run_id === summary.runId)!.detail as { refreshed: number };
    const notified = new Set((await resyncNotificationsOf(summary.runId, arn)).map((n) => (n.detail.payload as { 'nova_object.data': { uuid: string } })['nova_object.data'].uuid));
    return { summary, refreshed: end.refreshed, notified, victims, savedPending, unwritten };
  }

  it('a run stopped mid-page (Ctrl-C) whose marked nodes are deleted, soft-deleted or made invalid before it resumes announces exactly the nodes it notified', async () => {
    const { refreshed, notified, victims } = await interruptedRun('resync-stopped', { crash: false, stopAt: 47 });
    for (const v of victims) expect(notified.has(v), v).toBe(true);
    expect(refreshed).toBe(notified.size);
  });

  it('a run killed mid-page (nothing saved since its last checkpoint) never announces fewer nodes than it notified; those it cannot be sure of are counted as uncertain', async () => {
    const { summary, refreshed, notified, victims, savedPending, unwritten } = await interruptedRun('resync-killed', { crash: true, stopAt: 47 });
    for (const v of victims) expect(notified.has(v), v).toBe(true);
    expect(notified.has(unwritten!)).toBe(false);
    expect(refreshed).toBeGreaterThanOrEqual(notified.size);
    // In doubt: the saved page's items gone by the resume (deleted or soft-deleted; the one made
    // invalid still exists, so its write succeeds again). Only the one never written is too many.
    const inDoubt = victims.slice(0, 3).filter((v) => savedPending.includes(v)).length + 1;
    expect(inDoubt).toBeGreaterThan(1);
    expect(summary.uncertain).toBe(inDoubt);
    expect(refreshed - notified.size).toBe(1);
  });

  it('an item deleted or soft-deleted between the scan and its write is counted as gone, not recreated, not an error', async () => {
    const table = 'resync-churn';
    await createComputeNodeTable(local.dynamodb, table);
    await fillTable(local.dynamodb, table);
    const victims = new Set([uuidOf(5), uuidOf(7)]);
    const obs = observed(async (command) => {
      const c = command as { constructor: { name: string }; input: { TableName?: string; Key?: { uuid: { S: string } } } };
      if (c.constructor.name !== 'UpdateItemCommand' || c.input.TableName !== table) return;
      const u = c.input.Key!.uuid.S;
      if (u === uuidOf(5)) await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { uuid: { S: u } } }));
      if (u === uuidOf(7)) await local.dynamodb.send(new UpdateItemCommand({ TableName: table, Key: { uuid: { S: u } }, UpdateExpression: 'SET deleted = :d', ExpressionAttributeValues: { ':d': { N: '7' } } }));
    });
    const t = io();
    expect(await resyncCommand(['--table', table, '--segments', '2', '--checkpoint', checkpointPath()], t.io, { env: ENV, dynamodb: obs.client, eventBridge, ...fakeClock() })).toBe(0);
    expect(summaryOf(t.out)).toMatchObject({ complete: true, refreshed: LIVE - 2, gone: 2 });
    expect(controlEvents()[1]!.detail).toMatchObject({ phase: 'end', refreshed: LIVE - 2 });
    const { Item: deleted } = await local.dynamodb.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: uuidOf(5) } }, ConsistentRead: true }));
    expect(deleted).toBeUndefined();
    const { Item: soft } = await local.dynamodb.send(new GetItemCommand({ TableName: table, Key: { uuid: { S: uuidOf(7) } }, ConsistentRead: true }));
    expect(soft?.resync_run).toBeUndefined();
    expect(victims.size).toBe(2);
  });

  it('a table with no live, valid node: start and end with refreshed 0, no write', async () => {
    const table = 'resync-empty';
    await createComputeNodeTable(local.dynamodb, table);
    await loadItems(local.dynamodb, table, [nodeImage(1, { deleted: { N: '1' } }), nodeImage(2, { vcpus: { S: 'x' } })] as never, 1);
    const obs = observed();
    const t = io();
    expect(await resyncCommand(['--table', table, '--checkpoint', checkpointPath()], t.io, { env: ENV, dynamodb: obs.client, eventBridge, ...fakeClock() })).toBe(0);
    expect(obs.calls.filter((c) => c.name === 'UpdateItemCommand' && c.input.TableName === table)).toEqual([]);
    expect(controlEvents().map((c) => c.detail)).toEqual([
      expect.objectContaining({ phase: 'start', table }),
      expect.objectContaining({ phase: 'end', refreshed: 0 }),
    ]);
  });

  it('retries a control event that EventBridge throttled, and validates it before sending', async () => {
    const table = 'resync-throttled';
    await createComputeNodeTable(local.dynamodb, table);
    await loadItems(local.dynamodb, table, [nodeImage(1), nodeImage(2)] as never, 1);
    eb.reset();
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] })
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .callsFake(accept);
    const t = io();
    expect(await resyncCommand(['--table', table, '--checkpoint', checkpointPath()], t.io, { env: ENV, dynamodb: local.dynamodb, eventBridge, ...fakeClock() })).toBe(0);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(4);
    expect(controlEvents().map((c) => [c.detail.phase, c.detail.phase === 'end' ? c.detail.refreshed : c.detail.table])).toEqual([
      ['start', table],
      ['end', 2],
    ]);
  });

  it('stops with exit 1 when the start event cannot be put, before any marker write; resumes from there', async () => {
    const file = checkpointPath();
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    const obs = observed();
    const t = io();
    const args = ['--table', TABLE, '--segments', '1', '--checkpoint', file];
    expect(await resyncCommand(args, t.io, { env: ENV, dynamodb: obs.client, eventBridge, ...fakeClock() })).toBe(1);
    expect(t.err.join('')).toMatch(/start event of resync run .* could not be put \(AccessDeniedException: not authorized\)/);
    expect(obs.markerWrites()).toEqual([]);
    const state: ResyncState = JSON.parse(readFileSync(file, 'utf8'));
    expect(state).toMatchObject({ startPublished: false, endPublished: false });
    // The lease was given back: the same run resumes at once.
    eb.reset();
    eb.on(PutEventsCommand).callsFake(accept);
    expect(await resyncCommand(args, io().io, { env: ENV, dynamodb: local.dynamodb, eventBridge, ...fakeClock() })).toBe(0);
    expect(controlEvents().map((c) => [c.detail.phase, c.detail.run_id])).toEqual([
      ['start', state.runId],
      ['end', state.runId],
    ]);
  });

  it('refuses a checkpoint of another table, an old-format checkpoint, and bad flags (exit 2)', async () => {
    const file = checkpointPath();
    const other = { version: 3, runId: '0b7c2d7e-41b5-4f0e-9d8e-3f6a1c2b9e01', tableName: 'other', totalSegments: 1, startedAt: '2027-01-15 08:00:00', startPublished: false, anchorUncertain: 0, endPublished: false, segments: [{ segment: 0, done: false, scanDone: false, scanned: 0, marked: 0, alreadyMarked: 0, uncertain: 0, skipped: 0, gone: 0, invalid: 0, pages: 0, pending: [] }] };
    writeFileSync(file, JSON.stringify(other));
    const t = io();
    expect(await resyncCommand(['--table', TABLE, '--checkpoint', file], t.io, { env: ENV, dynamodb: local.dynamodb, eventBridge })).toBe(2);
    expect(t.err.join('')).toMatch(/checkpoint of table other/);
    writeFileSync(file, JSON.stringify({ version: 1, tableName: TABLE, totalSegments: 1, startedAt: '', segments: [] }));
    const v = io();
    expect(await resyncCommand(['--table', TABLE, '--checkpoint', file], v.io, { env: ENV, dynamodb: local.dynamodb, eventBridge })).toBe(2);
    expect(v.err.join('')).toMatch(/not a resync checkpoint of this version: version/);
    const u = io();
    expect(await resyncCommand(['--table', TABLE, '--rate', '0'], u.io, { env: ENV, dynamodb: local.dynamodb, eventBridge })).toBe(2);
    expect(u.err.join('')).toMatch(/RESYNC_WRITES_PER_SECOND: must be greater than 0/);
  });
});

describe('one run at a time (the lease)', () => {
  it('a second run started while the first is running is refused (exit 1, naming the holder); the first completes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let blocked!: () => void;
    const firstIsWriting = new Promise<void>((resolve) => (blocked = resolve));
    let gated = false;
    const slow = observed(async (command) => {
      const c = command as { constructor: { name: string }; input: { TableName?: string } };
      if (c.constructor.name === 'UpdateItemCommand' && c.input.TableName === TABLE && !gated) {
        gated = true;
        blocked();
        await gate;
      }
    });
    const a = io();
    const runA = resyncCommand(['--table', TABLE, '--segments', '2', '--checkpoint', checkpointPath()], a.io, { env: ENV, dynamodb: slow.client, eventBridge, ...fakeClock() });
    await firstIsWriting;
    const b = io();
    const fast = observed();
    expect(await resyncCommand(['--table', TABLE, '--segments', '2', '--checkpoint', checkpointPath()], b.io, { env: ENV, dynamodb: fast.client, eventBridge, ...fakeClock() })).toBe(1);
    const runIdA = controlEvents()[0]!.detail.run_id;
    expect(b.err.join('')).toMatch(new RegExp(`another resync of table ${TABLE} is running: run ${runIdA} .*holds the lease`));
    expect(fast.markerWrites()).toEqual([]);
    release();
    expect(await runA).toBe(0);
    // B put no event: only A's start and end are on the bus.
    expect(controlEvents().map((c) => [c.detail.phase, c.detail.run_id])).toEqual([
      ['start', runIdA],
      ['end', runIdA],
    ]);
    // The lease is free again.
    expect(await resyncCommand(['--table', TABLE, '--segments', '2', '--checkpoint', checkpointPath()], io().io, { env: ENV, dynamodb: local.dynamodb, eventBridge, ...fakeClock() })).toBe(0);
  });

  it('a lease expires: a run that died holding it blocks others only until then', async () => {
    const clock = { t: 1_800_000_000_000 };
    const now = () => clock.t;
    const dead = createLease({ dynamodb: local.dynamodb, stateTableName: LEASES, tableName: 'lease-test', runId: '11111111-1111-4111-8111-111111111111', durationMs: 60_000, now });
    const next = createLease({ dynamodb: local.dynamodb, stateTableName: LEASES, tableName: 'lease-test', runId: '22222222-2222-4222-8222-222222222222', durationMs: 60_000, now });
    await dead.acquire();
    await expect(next.acquire()).rejects.toThrow(/run 11111111-1111-4111-8111-111111111111 \(until 2027-01-15T08:01:00.000Z\) holds the lease/);
    // The holder itself may take it again (a resumed run).
    await dead.acquire();
    clock.t += 60_001;
    await next.acquire();
    // The dead run, back, finds it lost.
    clock.t += 20_000;
    await expect(dead.renewIfDue()).rejects.toThrow(/lost its lease/);
    await dead.release();
    await expect(dead.acquire()).rejects.toThrow(/run 22222222/);
    await next.release();
    await dead.acquire();
    await dead.release();
  });
});

describe('resync run (Lambda function)', () => {
  it('stops before its deadline with a continuation token, keeps the lease between invocations, finishes when invoked again; every live node once', async () => {
    let t = 1_800_000_000_000;
    const now = () => (t += 5);
    const obs = observed();
    const config = loadResyncConfig({ ...ENV, TABLE_NAME: TABLE, RESYNC_PAGE_SIZE: '10', RESYNC_TOTAL_SEGMENTS: '3', RESYNC_SEGMENT_CONCURRENCY: '3', RESYNC_WRITES_PER_SECOND: '20' });
    const handler = createResyncHandler({ config, dynamodb: obs.client, eventBridge, logger: { info: () => {}, warn: () => {}, error: () => {} }, now, sleep: async (ms) => void (t += ms) });
    // 14 s an invocation, 10 of them kept back: ~80 writes at 20/s per invocation, so 240 take several.
    const context = { getRemainingTimeInMillis: () => 14_000 };
    let response = await handler({}, context);
    expect(response.complete).toBe(false);
    const runId = response.totals.runId;
    // Between invocations another run is refused: the lease is still this run's.
    const other = io();
    expect(await resyncCommand(['--table', TABLE, '--checkpoint', checkpointPath()], other.io, { env: ENV, dynamodb: local.dynamodb, eventBridge, now: () => t, sleep: async () => {} })).toBe(1);
    expect(other.err.join('')).toMatch(new RegExp(`run ${runId}`));
    let invocations = 1;
    while (!response.complete) {
      expect(response.continuation).toEqual(expect.any(String));
      response = await handler({ continuation: response.continuation! }, context);
      if (++invocations > 50) throw new Error('no progress');
    }
    expect(invocations).toBeGreaterThan(2);
    expect(response.totals).toMatchObject({ runId, refreshed: LIVE, skipped: 20, invalid: 2, segmentsDone: 3 });
    const written = obs.markerWrites().map((c) => (c.input.Key as { uuid: { S: string } }).uuid.S);
    expect(written.length).toBe(LIVE);
    expect(new Set(written)).toEqual(live);
    expect(controlEvents().map((c) => [c.detail.phase, c.detail.run_id])).toEqual([
      ['start', runId],
      ['end', runId],
    ]);
    expect(controlEvents()[1]!.detail).toMatchObject({ refreshed: LIVE });
  });

  it('an invocation that fails mid-page and is retried with the previous token never announces fewer nodes than it notified, though the nodes it marked are deleted before the retry', async () => {
    const table = 'resync-retried';
    const { streamArn: arn } = await createComputeNodeTable(local.dynamodb, table);
    await fillTable(local.dynamodb, table);
    let t = 1_800_000_000_000;
    const now = () => (t += 5);
    const written: string[] = [];
    let failAt = Infinity;
    const obs = observed((command) => {
      const c = command as { constructor: { name: string }; input: { TableName?: string; Key?: { uuid: { S: string } } } };
      if (c.constructor.name !== 'UpdateItemCommand' || c.input.TableName !== table) return;
      // The invocation dies at this write (not sent), after the ones before it were made.
      if (written.push(c.input.Key!.uuid.S) === failAt) throw Object.assign(new Error('invocation timed out'), { name: 'TimeoutError' });
    });
    const config = loadResyncConfig({ ...ENV, TABLE_NAME: table, RESYNC_PAGE_SIZE: '20', RESYNC_TOTAL_SEGMENTS: '2', RESYNC_SEGMENT_CONCURRENCY: '1', RESYNC_WRITES_PER_SECOND: '20' });
    const handler = createResyncHandler({ config, dynamodb: obs.client, eventBridge, logger: { info: () => {}, warn: () => {}, error: () => {} }, now, sleep: async (ms) => void (t += ms) });
    const context = { getRemainingTimeInMillis: () => 14_000 };
    const first = await handler({}, context);
    expect(first.complete).toBe(false);
    failAt = written.length + 27;
    await expect(handler({ continuation: first.continuation! }, context)).rejects.toThrow(/invocation timed out/);
    // Before the retry, the nodes the failed invocation marked go away.
    const victims = written.slice(-7, -1);
    for (const v of victims) await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { uuid: { S: v } } }));
    failAt = Infinity;
    let response = await handler({ continuation: first.continuation! }, context);
    for (let i = 0; !response.complete; i++) {
      if (i > 50) throw new Error('no progress');
      response = await handler({ continuation: response.continuation! }, context);
    }
    const notified = new Set((await resyncNotificationsOf(response.totals.runId, arn)).map((n) => (n.detail.payload as { 'nova_object.data': { uuid: string } })['nova_object.data'].uuid));
    for (const v of victims) expect(notified.has(v), v).toBe(true);
    const end = controlEvents().find((c) => c.detail.phase === 'end')!.detail as { refreshed: number };
    expect(end.refreshed).toBeGreaterThanOrEqual(notified.size);
    expect(end.refreshed - notified.size).toBeLessThanOrEqual(response.totals.uncertain);
  });

  it('refuses a continuation token of another table or that it did not make', async () => {
    const handler = createResyncHandler({
      config: loadResyncConfig({ ...ENV, TABLE_NAME: 'another-table' }),
      dynamodb: local.dynamodb,
      eventBridge,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const state = { version: 3, runId: '0b7c2d7e-41b5-4f0e-9d8e-3f6a1c2b9e01', tableName: TABLE, totalSegments: 1, startedAt: '2027-01-15 08:00:00', startPublished: false, anchorUncertain: 0, endPublished: false, segments: [{ segment: 0, done: false, scanDone: false, scanned: 0, marked: 0, alreadyMarked: 0, uncertain: 0, skipped: 0, gone: 0, invalid: 0, pages: 0, pending: [] }] };
    const token = Buffer.from(JSON.stringify(state)).toString('base64url');
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
