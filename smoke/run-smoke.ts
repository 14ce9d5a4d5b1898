/**
 * `npm run smoke`'s check, hop by hop, against a deployment (or the local pipeline):
 *
 * 1. the table's stream is enabled with NEW_AND_OLD_IMAGES (and is the stack's), and the
 *    notifier's event source mapping on it is Enabled;
 * 2. the bus exists;
 * 3. a test node (see test-node.ts) is created, updated on a watched field, updated on an
 *    unwatched field and deleted;
 * 4. a temporary rule and queue (route-probe.ts) receive its compute_node.create, update and
 *    delete, each `detail` equal to what `render` gives for the same record apart from
 *    `message_id` and `timestamp`, and nothing for the unwatched change;
 * 4e. a `hypervisor_notifier.heartbeat` arrives on the same rule and queue (the heartbeat item,
 *    written on a schedule, came through the whole pipeline: infra/heartbeat.ts);
 * 5. the test node, the rule and the queue are gone afterwards, whatever failed, and on Ctrl-C.
 */
import { isDeepStrictEqual } from 'node:util';
import { DeleteItemCommand, DescribeTableCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ListEventSourceMappingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { HEARTBEAT_DETAIL_TYPE, HeartbeatDetail } from '../functions/notifier/contract/index.js';
import { renderExpected, type WriteRecord } from './expected-detail.js';
import { RouteProbe, type ProbeDelivery } from './route-probe.js';
import { newTestNode, type Image, type TestNode } from './test-node.js';

/** What the check runs against: the stack's outputs, or the local pipeline's equivalents. */
export interface SmokeTarget {
  readonly tableName: string;
  /** The stream the stack says the notifier reads; checked against the table's current one when given. */
  readonly streamArn?: string;
  /** The bus (name or ARN). */
  readonly bus: string;
  /** `source` of the notifications. */
  readonly source: string;
  /** The notifier function, whose event source mapping is checked; without it (or a Lambda client) that check is skipped. */
  readonly functionName?: string;
  /** The deployment's WATCHED_FIELDS. */
  readonly watchedFields: readonly string[];
  /** @default 'expires_at' */
  readonly ttlAttribute?: string;
}

export interface SmokeClients {
  readonly dynamodb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly lambda?: LambdaClient;
}

export interface SmokeOptions {
  /** How long to wait for the three notifications after the last write. @default 60000 */
  readonly deliveryTimeoutMs?: number;
  /** How long to keep listening after the delete arrived, for a notification of the unwatched change. @default 5000 */
  readonly quietMs?: number;
  /**
   * How long to wait for a heartbeat (hop 4e) once the notifications are judged; 0 skips the hop.
   * @default 90000 (the stack writes one a minute)
   */
  readonly heartbeatTimeoutMs?: number;
  /** Aborting (Ctrl-C) stops the check; the clean-up still runs. */
  readonly signal?: AbortSignal;
  /** Called as each hop ends (for progress). */
  readonly onHop?: (hop: HopResult) => void;
}

export type HopStatus = 'pass' | 'FAIL' | 'skipped' | 'not run';

export interface HopResult {
  readonly hop: string;
  readonly name: string;
  status: HopStatus;
  detail: string;
  /** Write → delivery, for a delivered notification. */
  latencyMs?: number;
}

const message = (error: unknown) => (error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error));

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('interrupted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('interrupted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs the check; never throws for a failed hop (the results say which), and always cleans up. */
export async function runSmoke(target: SmokeTarget, clients: SmokeClients, opts: SmokeOptions = {}): Promise<HopResult[]> {
  const signal = opts.signal;
  const hops: HopResult[] = [
    { hop: '1', name: 'stream NEW_AND_OLD_IMAGES, event source mapping Enabled', status: 'not run', detail: '' },
    { hop: '2', name: 'event bus exists', status: 'not run', detail: '' },
    { hop: '3', name: 'test node: create, watched update, unwatched update, delete', status: 'not run', detail: '' },
    { hop: '4a', name: 'compute_node.create delivered, detail = render', status: 'not run', detail: '' },
    { hop: '4b', name: 'compute_node.update delivered, detail = render', status: 'not run', detail: '' },
    { hop: '4c', name: 'nothing delivered for the unwatched change', status: 'not run', detail: '' },
    { hop: '4d', name: 'compute_node.delete delivered, detail = render', status: 'not run', detail: '' },
    { hop: '4e', name: 'a heartbeat came through the pipeline', status: 'not run', detail: '' },
    { hop: '5', name: 'clean-up: test node, rule and queue gone', status: 'not run', detail: '' },
  ];
  const byHop = (id: string) => hops.find((h) => h.hop === id)!;
  const end = (id: string, status: HopStatus, detail: string, latencyMs?: number) => {
    const h = byHop(id);
    h.status = status;
    h.detail = detail;
    if (latencyMs !== undefined) h.latencyMs = latencyMs;
    opts.onHop?.(h);
  };

  const node = newTestNode(target.watchedFields, target.ttlAttribute ?? 'expires_at');
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 90_000;
  const probe = new RouteProbe(clients.events, clients.sqs, {
    runId: node.runId,
    busName: target.bus,
    source: target.source,
    publisherId: `nova-compute:${node.created.host!.S}`,
    heartbeats: heartbeatTimeoutMs > 0,
  });
  let nodeWritten = false;
  let current = '1';
  try {
    // ----- 1: stream and mapping -----
    const table = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: target.tableName }))).Table;
    const stream = table?.StreamSpecification;
    const streamArn = table?.LatestStreamArn;
    if (stream?.StreamEnabled !== true || streamArn === undefined) return fail(end, '1', `table ${target.tableName} has no stream enabled`, hops);
    if (stream.StreamViewType !== 'NEW_AND_OLD_IMAGES') return fail(end, '1', `the stream of ${target.tableName} has view type ${stream.StreamViewType}; the notifier needs NEW_AND_OLD_IMAGES`, hops);
    if (target.streamArn !== undefined && target.streamArn !== '' && target.streamArn !== streamArn) {
      return fail(end, '1', `the stack's stream ${target.streamArn} is not the table's current stream ${streamArn}`, hops);
    }
    if (clients.lambda !== undefined && target.functionName !== undefined) {
      const mappings = (await clients.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: target.functionName, EventSourceArn: streamArn }))).EventSourceMappings ?? [];
      if (mappings.length === 0) return fail(end, '1', `no event source mapping from ${streamArn} to ${target.functionName}`, hops);
      const states = mappings.map((m) => `${m.UUID}: ${m.State}${m.StateTransitionReason ? ` (${m.StateTransitionReason})` : ''}`);
      if (!mappings.some((m) => m.State === 'Enabled')) return fail(end, '1', `the event source mapping is not Enabled: ${states.join('; ')}`, hops);
      end('1', 'pass', `${streamArn}; mapping ${states.join('; ')}`);
    } else {
      // The stream passed; the mapping was not looked at, so the hop must not read as a pass.
      end('1', 'skipped', `stream ${streamArn} passed; event source mapping not checked (no function or Lambda endpoint: the local pipeline polls the stream itself)`);
    }

    // ----- 2: bus -----
    current = '2';
    const bus = await clients.events.send(new DescribeEventBusCommand({ Name: target.bus }));
    end('2', 'pass', bus.Arn ?? target.bus);

    // ----- the temporary route, before the first write -----
    current = '4a';
    signal?.throwIfAborted();
    try {
      await probe.create();
    } catch (error) {
      return fail(end, '4a', `could not create the temporary rule and queue ${probe.name}: ${message(error)}`, hops);
    }

    // ----- 3: writes -----
    current = '3';
    const writes = await writeTestNode(clients.dynamodb, target.tableName, node, signal, () => (nodeWritten = true));
    end('3', 'pass', `node ${node.uuid} (${node.watchedField} changed, then ${node.unwatchedField ?? 'no unwatched field: every candidate is watched'}), deleted`);

    // ----- 4: deliveries -----
    current = '4a';
    const delivered = await collect(probe, opts.deliveryTimeoutMs ?? 60_000, opts.quietMs ?? 5_000, signal);
    await judgeDeliveries(delivered, writes, node, target, streamArn, end);

    // ----- 4e: a heartbeat, on the same rule (only once the notifications made it: else it proves nothing new) -----
    current = '4e';
    if (heartbeatTimeoutMs === 0) end('4e', 'skipped', 'not checked (--heartbeat 0)');
    else if (!hops.some((h) => h.hop.startsWith('4') && h.status === 'FAIL')) await judgeHeartbeat(probe, delivered, heartbeatTimeoutMs, signal, end);
  } catch (error) {
    const why = signal?.aborted ? 'interrupted (Ctrl-C)' : message(error);
    end(current, 'FAIL', why);
  } finally {
    // ----- 5: clean-up, always -----
    const problems: string[] = [];
    const removed: string[] = [];
    const key = { uuid: { S: node.uuid } };
    if (nodeWritten) {
      try {
        // Only the test node (its host is this run's): the create may have failed its condition.
        await clients.dynamodb
          .send(new DeleteItemCommand({ TableName: target.tableName, Key: key, ConditionExpression: '#h = :h', ExpressionAttributeNames: { '#h': 'host' }, ExpressionAttributeValues: { ':h': node.created.host! } }))
          .catch((error: unknown) => {
            if ((error as Error | undefined)?.name !== 'ConditionalCheckFailedException') throw error;
          });
        const left = await clients.dynamodb.send(new GetItemCommand({ TableName: target.tableName, Key: key, ConsistentRead: true }));
        if (left.Item !== undefined) problems.push(`test node ${node.uuid} is still in ${target.tableName}`);
        else removed.push(`test node ${node.uuid}`);
      } catch (error) {
        problems.push(`could not remove test node ${node.uuid}: ${message(error)}`);
      }
    }
    const probeCleanup = await probe.remove();
    removed.push(...probeCleanup.removed);
    problems.push(...probeCleanup.problems);
    end('5', problems.length === 0 ? 'pass' : 'FAIL', problems.length > 0 ? problems.join('; ') : removed.length > 0 ? `gone: ${removed.join(', ')}` : 'nothing was created');
  }
  return hops;
}

function fail(end: (id: string, status: HopStatus, detail: string) => void, id: string, detail: string, hops: HopResult[]): HopResult[] {
  end(id, 'FAIL', detail);
  return hops;
}

interface Writes {
  readonly create: WriteRecord & { at: number };
  readonly watched: WriteRecord & { at: number };
  readonly unwatched: (WriteRecord & { at: number }) | undefined;
  readonly remove: WriteRecord & { at: number };
}

async function writeTestNode(ddb: DynamoDBClient, tableName: string, node: TestNode, signal: AbortSignal | undefined, written: () => void): Promise<Writes> {
  const record = (eventName: WriteRecord['eventName'], oldImage: Image | undefined, newImage: Image | undefined, at: number) => ({
    eventName,
    ...(oldImage === undefined ? {} : { oldImage }),
    ...(newImage === undefined ? {} : { newImage }),
    // Filled in from the delivered notification (a stream sequence number is not known before).
    sequenceNumber: '0',
    streamArn: '',
    epochSeconds: Math.floor(at / 1000),
    at,
  });
  signal?.throwIfAborted();
  let at = Date.now();
  // Before the send: a create whose answer is lost may be in the table, while the SDK's retry
  // fails its condition and throws; the clean-up must then look for it.
  written();
  await ddb.send(new PutItemCommand({ TableName: tableName, Item: node.created, ConditionExpression: 'attribute_not_exists(#u)', ExpressionAttributeNames: { '#u': 'uuid' } }));
  const create = record('INSERT', undefined, node.created, at);
  signal?.throwIfAborted();
  at = Date.now();
  await ddb.send(new PutItemCommand({ TableName: tableName, Item: node.watchedUpdate }));
  const watched = record('MODIFY', node.created, node.watchedUpdate, at);
  let unwatched;
  let last = node.watchedUpdate;
  if (node.unwatchedUpdate !== undefined) {
    signal?.throwIfAborted();
    at = Date.now();
    await ddb.send(new PutItemCommand({ TableName: tableName, Item: node.unwatchedUpdate }));
    unwatched = record('MODIFY', node.watchedUpdate, node.unwatchedUpdate, at);
    last = node.unwatchedUpdate;
  }
  signal?.throwIfAborted();
  at = Date.now();
  await ddb.send(new DeleteItemCommand({ TableName: tableName, Key: { uuid: { S: node.uuid } } }));
  const remove = record('REMOVE', last, undefined, at);
  return { create, watched, unwatched, remove };
}

/** Reads the probe queue until create, update and delete have arrived and `quietMs` passed, or the timeout. */
async function collect(probe: RouteProbe, timeoutMs: number, quietMs: number, signal: AbortSignal | undefined): Promise<ProbeDelivery[]> {
  const byId = new Map<string, ProbeDelivery>();
  const deadline = Date.now() + timeoutMs;
  let completeAt: number | undefined;
  for (;;) {
    signal?.throwIfAborted();
    for (const d of await probe.receive(1)) {
      // At least once: a duplicate carries the same message_id.
      const id = String(d.event.detail?.message_id ?? Math.random());
      if (!byId.has(id)) byId.set(id, d);
    }
    const types = new Set([...byId.values()].map((d) => d.event['detail-type']));
    if (completeAt === undefined && types.has('compute_node.create') && types.has('compute_node.update') && types.has('compute_node.delete')) completeAt = Date.now();
    if (completeAt !== undefined && Date.now() - completeAt >= quietMs) break;
    if (Date.now() >= deadline) break;
    await sleep(200, signal);
  }
  return [...byId.values()];
}

async function judgeDeliveries(
  delivered: ProbeDelivery[],
  writes: Writes,
  node: TestNode,
  target: SmokeTarget,
  streamArn: string,
  end: (id: string, status: HopStatus, detail: string, latencyMs?: number) => void,
): Promise<void> {
  const settings = { source: target.source, watchedFields: target.watchedFields };
  const ofType = (t: string) => delivered.filter((d) => d.event['detail-type'] === t);
  const seqOf = (d: ProbeDelivery) => String((d.event.detail.change as { sequence_number?: unknown } | undefined)?.sequence_number ?? '0');
  const changedOf = (d: ProbeDelivery) => (d.event.detail.change as { changed_fields?: unknown } | undefined)?.changed_fields;

  const check = async (id: string, type: string, candidates: ProbeDelivery[], write: WriteRecord & { at: number }, timeoutNote: string) => {
    if (candidates.length === 0) return end(id, 'FAIL', `no ${type} arrived ${timeoutNote}`);
    if (candidates.length > 1) return end(id, 'FAIL', `${candidates.length} different ${type} notifications arrived for one write`);
    const d = candidates[0]!;
    const expected = await renderExpected({ ...write, sequenceNumber: seqOf(d), streamArn }, settings);
    if (expected.length !== 1) return end(id, 'FAIL', `render gives ${expected.length} entries for this write, 1 arrived`);
    const e = expected[0]!;
    const problem = compare(d, e.DetailType, e.Source, JSON.parse(e.Detail) as Record<string, unknown>);
    end(id, problem === undefined ? 'pass' : 'FAIL', problem ?? `sequence ${seqOf(d)}`, d.deliveredAt - write.at);
  };

  const note = 'before the timeout (is the notifier running? see its logs, the quarantine and the dashboard)';
  await check('4a', 'compute_node.create', ofType('compute_node.create'), writes.create, note);
  const updates = ofType('compute_node.update');
  const watched = updates.filter((d) => isDeepStrictEqual(changedOf(d), [node.watchedField]));
  await check('4b', `compute_node.update (changed_fields [${node.watchedField}])`, watched, writes.watched, note);
  if (writes.unwatched === undefined) end('4c', 'skipped', 'every candidate field is watched');
  else {
    const expected = await renderExpected({ ...writes.unwatched, sequenceNumber: '1', streamArn }, settings);
    const extra = updates.filter((d) => !watched.includes(d));
    if (expected.length !== 0) end('4c', 'FAIL', `render says a change of ${node.unwatchedField} is notified: is it watched?`);
    else if (extra.length > 0) end('4c', 'FAIL', `${extra.length} notification(s) arrived for the change of unwatched ${node.unwatchedField}: changed_fields ${JSON.stringify(extra.map(changedOf))}`);
    else end('4c', 'pass', `${node.unwatchedField} changed, nothing arrived`);
  }
  await check('4d', 'compute_node.delete', ofType('compute_node.delete'), writes.remove, note);
}

/** Hop 4e: the first heartbeat the probe received during the check (waiting up to `timeoutMs` more), valid per the contract. */
async function judgeHeartbeat(
  probe: RouteProbe,
  delivered: ProbeDelivery[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
  end: (id: string, status: HopStatus, detail: string, latencyMs?: number) => void,
): Promise<void> {
  const isBeat = (d: ProbeDelivery) => d.event['detail-type'] === HEARTBEAT_DETAIL_TYPE;
  let beat = delivered.find(isBeat);
  const deadline = Date.now() + timeoutMs;
  while (beat === undefined && Date.now() < deadline) {
    signal?.throwIfAborted();
    beat = (await probe.receive(1)).find(isBeat);
    if (beat === undefined) await sleep(200, signal);
  }
  if (beat === undefined) {
    return end(
      '4e',
      'FAIL',
      `no ${HEARTBEAT_DETAIL_TYPE} arrived in ${Math.round(timeoutMs / 1000)} s: the pipeline is stalled or the heartbeat is off or failing (heartbeatIntervalMinutes, the schedule and its role; locally: is npm start running?)`,
    );
  }
  const parsed = HeartbeatDetail.safeParse(beat.event.detail);
  if (!parsed.success) return end('4e', 'FAIL', `the heartbeat's detail does not match the contract: ${parsed.error.message}`);
  const written = parsed.data.written_at === null ? undefined : Date.parse(parsed.data.written_at);
  end(
    '4e',
    'pass',
    `written ${parsed.data.written_at ?? '(no time)'}, handled ${parsed.data.handled_at}, epoch ${parsed.data.epoch ?? 'null'}, sequence ${parsed.data.sequence_number}`,
    written === undefined ? undefined : beat.deliveredAt - written,
  );
}

/** Undefined when the delivered event is what render gives, apart from message_id and timestamp; else what differs. */
function compare(d: ProbeDelivery, detailType: string, source: string, expected: Record<string, unknown>): string | undefined {
  if (d.event['detail-type'] !== detailType) return `detail-type ${d.event['detail-type']}, render gives ${detailType}`;
  if (d.event.source !== source) return `source ${d.event.source}, render gives ${source}`;
  const strip = ({ message_id: _id, timestamp: _t, ...rest }: Record<string, unknown>) => rest;
  const got = strip(d.event.detail);
  const want = strip(expected);
  if (isDeepStrictEqual(got, want)) return undefined;
  const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])];
  const differing = keys.filter((k) => !isDeepStrictEqual(got[k], want[k]));
  return `detail differs from render in ${differing.join(', ')}: got ${JSON.stringify(Object.fromEntries(differing.map((k) => [k, got[k]])))}, render gives ${JSON.stringify(Object.fromEntries(differing.map((k) => [k, want[k]])))}`;
}
