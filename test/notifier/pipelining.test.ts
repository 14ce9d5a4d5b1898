/**
 * Requests go out while the batch is still being built: the first wave of full requests
 * reaches the bus before the notifier reads the batch's last record. Real SDK clients (their
 * middleware runs asynchronously, as in Lambda) on a recording transport; aws-sdk-client-mock
 * would answer synchronously and hide the difference.
 */
import { Readable } from 'node:stream';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/notifier/config.js';
import { createNotifier } from '../../functions/notifier/notifier.js';
import { insert, nodeImage } from '../support/records.js';

const credentials = { accessKeyId: 'k', secretAccessKey: 's' };

function notifier(order: string[]) {
  const eventBridge = new EventBridgeClient({
    region: 'us-east-1',
    credentials,
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const raw = request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : String(request.body);
        const body = JSON.parse(raw) as { Entries: unknown[] };
        order.push(`send ${body.Entries.length}`);
        const answer = JSON.stringify({ FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: `e${i}` })) });
        return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(answer)]) } };
      },
    } as never,
  });
  const sqs = new SQSClient({ region: 'us-east-1', credentials });
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  (metrics as unknown as { console: { log: (s: string) => void } }).console = { log: () => {} };
  const config = loadConfig({ EVENT_BUS_NAME: 'bus', QUARANTINE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q' });
  return createNotifier({ config, eventBridge, sqs, logger, metrics });
}

/**
 * A warm notifier, as Lambda reuses one: the SDK's first request reads its shared config files
 * and resolves its defaults with real I/O, which may outlast the one turn of the event loop the
 * notifier yields after a full request, and a busy machine made the first batch's order vary.
 */
async function warmNotifier(order: string[]) {
  const handle = notifier(order);
  const warmed = await handle({ Records: [insert(nodeImage(1_000))] }, { getRemainingTimeInMillis: () => 60_000 });
  expect(warmed.batchItemFailures).toEqual([]);
  expect(order).toEqual(['send 1']);
  order.length = 0;
  return handle;
}

describe('publishing while building', () => {
  it('puts the first full requests on the wire before the last record of the batch is read', async () => {
    const order: string[] = [];
    const handle = await warmNotifier(order);
    const records: unknown[] = Array.from({ length: 45 }, (_, i) => insert(nodeImage(i + 1)));
    // The last record tells when the notifier first reads it (the envelope check reads its eventID).
    const last = insert(nodeImage(46));
    const watched = { ...last };
    Object.defineProperty(watched, 'eventID', {
      enumerable: true,
      get: () => {
        if (!order.includes('read last')) order.push('read last');
        return last.eventID;
      },
    });
    records.push(watched);
    const response = await handle({ Records: records }, { getRemainingTimeInMillis: () => 60_000 });
    expect(response.batchItemFailures).toEqual([]);
    const readAt = order.indexOf('read last');
    expect(readAt).toBeGreaterThan(0);
    // Four full requests (the first wave at the default concurrency of 4) before it, every entry sent in all.
    expect(order.slice(0, readAt)).toEqual(['send 10', 'send 10', 'send 10', 'send 10']);
    expect(order.filter((o) => o.startsWith('send')).reduce((n, o) => n + Number(o.split(' ')[1]), 0)).toBe(46);
  });

  it('sends nothing more after a configuration error part-way: only the requests already out finish', async () => {
    const order: string[] = [];
    const handle = await warmNotifier(order);
    const records: unknown[] = Array.from({ length: 45 }, (_, i) => insert(nodeImage(i + 1)));
    const keysOnly = insert(nodeImage(46));
    const { NewImage: _dropped, ...dynamodb } = keysOnly.dynamodb;
    records.push({ ...keysOnly, dynamodb: { ...dynamodb, StreamViewType: 'KEYS_ONLY' } });
    await expect(handle({ Records: records }, { getRemainingTimeInMillis: () => 60_000 })).rejects.toThrow(/KEYS_ONLY/);
    // Lambda retries the whole batch: the first wave was already out and is answered (duplicates
    // are allowed), the five records in the open request are left to the retry.
    expect(order).toEqual(['send 10', 'send 10', 'send 10', 'send 10']);
  });
});
