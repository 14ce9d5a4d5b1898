/**
 * A marker write whose answer is lost after DynamoDB made it: the SDK's own retry (the CLI's
 * client retries, the function's client `maxAttempts: 8`) sends the write again, and if the
 * node was deleted or soft-deleted meanwhile, that second try is refused by the write's
 * condition. The first try's stream record is out, so the notifier makes a resync notification
 * of the node: the run must count it, or a consumer sweeps while another live node's
 * notification is on its way. Against DynamoDB Local with a real `DynamoDBClient`: its request
 * handler passes the first try through, then deletes the node, then answers 500
 * (InternalServerError, which the SDK retries: DynamoDB developer guide, Error handling,
 * "Error retries and exponential backoff").
 */
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createComputeNodeTable } from '../../local/compute-node-table.js';
import { loadItems } from '../../bench/indexer-fixture.js';
import { resyncCommand } from '../../cli/resync.js';
import { loadConfig } from '../../functions/notifier/config.js';
import { RESYNC_RUN_DETAIL_TYPE, ResyncRunDetail } from '../../functions/notifier/contract/index.js';
import { createNotificationBuilder } from '../../functions/notifier/notification-builder.js';
import { StreamRecord } from '../../functions/notifier/stream-record.js';
import { ensureResyncStateTable } from '../../functions/resync/state-table.js';
import { nodeImage } from '../support/records.js';
import { dynamoDbLocalForFile } from '../support/dynamodb-local-for-file.js';
import { recordingEventBridge, streamRecords } from './support.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LEASES = 'lost-response-state';
const NODES = 30;
const local = dynamoDbLocalForFile();
beforeAll(() => ensureResyncStateTable(local.dynamodb, LEASES));

const { eventBridge, sent } = recordingEventBridge();

/** Distinct nodes the notifier makes a resync notification of run `runId` for, read from the whole stream. */
async function notifiedNodes(arn: string, runId: string): Promise<Set<string>> {
  const build = createNotificationBuilder(loadConfig({ EVENT_BUS_NAME: 'the-bus' }));
  const nodes = new Set<string>();
  for (const record of await streamRecords(local.streams, arn)) {
    const outcome = build(StreamRecord.parse(record));
    if (outcome.kind !== 'notify') continue;
    const detail = JSON.parse(outcome.notification.entry.Detail!) as { change: { resync_run: string | null }; payload: { 'nova_object.data': { uuid: string } } };
    if (detail.change.resync_run === runId) nodes.add(detail.payload['nova_object.data'].uuid);
  }
  return nodes;
}

/**
 * A DynamoDB client whose `victimWrite`-th marker write to `table` is made by DynamoDB Local,
 * after which `meanwhile` runs and the client is told 500: its standard retry tries again.
 */
function clientLosingOneAnswer(table: string, victimWrite: number, meanwhile: (uuid: string) => Promise<void>) {
  const inner = new NodeHttpHandler();
  let writes = 0;
  let victim: string | undefined;
  const requestHandler = {
    metadata: inner.metadata,
    destroy: () => inner.destroy(),
    updateHttpClientConfig: (key: never, value: never) => inner.updateHttpClientConfig(key, value),
    httpHandlerConfigs: () => inner.httpHandlerConfigs(),
    handle: async (request: Parameters<NodeHttpHandler['handle']>[0], options?: Parameters<NodeHttpHandler['handle']>[1]) => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const text = typeof request.body === 'string' ? request.body : request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : '{}';
      const body = JSON.parse(text) as { TableName?: string; Key?: { uuid: { S: string } } };
      const isMarkerWrite = target.endsWith('.UpdateItem') && body.TableName === table;
      if (!isMarkerWrite || ++writes !== victimWrite) return inner.handle(request, options);
      const made = await inner.handle(request, options);
      expect(made.response.statusCode, 'the first try is made').toBe(200);
      (made.response.body as Readable).resume();
      victim = body.Key!.uuid.S;
      await meanwhile(victim);
      const error = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected: the answer to a write that was made' });
      return { response: { statusCode: 500, reason: 'Internal Server Error', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'lost' }, body: Readable.from([Buffer.from(error)]) } };
    },
  };
  return { client: new DynamoDBClient({ ...local.ddb.clientConfig, maxAttempts: 3, requestHandler }), victim: () => victim };
}

async function runWithLostAnswer(table: string, victimWrite: number, how: 'delete' | 'softDelete') {
  const { streamArn } = await createComputeNodeTable(local.dynamodb, table);
  await loadItems(local.dynamodb, table, Array.from({ length: NODES }, (_, i) => nodeImage(i + 1)) as never, 4);
  const lossy = clientLosingOneAnswer(table, victimWrite, async (uuid) => {
    if (how === 'delete') await local.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { uuid: { S: uuid } } }));
    else await local.dynamodb.send(new UpdateItemCommand({ TableName: table, Key: { uuid: { S: uuid } }, UpdateExpression: 'SET deleted = :d', ExpressionAttributeValues: { ':d': { N: '1' } } }));
  });
  const out: string[] = [];
  const err: string[] = [];
  const checkpoint = join(mkdtempSync(join(tmpdir(), 'lost-response-')), 'checkpoint.json');
  const code = await resyncCommand(
    ['--table', table, '--segments', '2', '--page-size', '7', '--concurrency', '1', '--rate', '40000', '--checkpoint', checkpoint],
    { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '' },
    { env: { EVENT_BUS_NAME: 'the-bus', RESYNC_STATE_TABLE_NAME: LEASES }, dynamodb: lossy.client, eventBridge },
  );
  lossy.client.destroy();
  expect(code, err.join('')).toBe(0);
  const summary = JSON.parse(out.join('')) as { runId: string; refreshed: number; uncertain: number; gone: number };
  const end = sent
    .filter((e) => e.DetailType === RESYNC_RUN_DETAIL_TYPE)
    .map((e) => ResyncRunDetail.parse(JSON.parse(e.Detail!)))
    .find((d) => d.phase === 'end' && d.run_id === summary.runId) as { refreshed: number } | undefined;
  const notified = await notifiedNodes(streamArn, summary.runId);
  return { summary, end: end!, notified, victim: lossy.victim()! };
}

describe('a marker write made, its answer lost, the node gone before the SDK retries it', () => {
  for (const [where, victimWrite] of [
    ['the anchor', 1],
    ['a page', 12],
  ] as const) {
    for (const how of ['delete', 'softDelete'] as const) {
      it(`${where}, node ${how === 'delete' ? 'deleted' : 'soft-deleted'}: the end event counts the node the first try notified (uncertain), never fewer than notified`, async () => {
        const { summary, end, notified, victim } = await runWithLostAnswer(`lost-${victimWrite}-${how}`, victimWrite, how);
        expect(notified.has(victim), 'the first try made a resync notification').toBe(true);
        expect(end.refreshed).toBeGreaterThanOrEqual(notified.size);
        expect(end.refreshed).toBe(notified.size);
        expect(summary).toMatchObject({ refreshed: notified.size, uncertain: 1 });
      }, 60_000);
    }
  }
});
