/**
 * The local pipeline holds a record its quarantine message cannot: DynamoDB Local, the poller
 * and the real notifier; a MODIFY with two large images (each within the 400 KB item limit)
 * whose quarantine message is over 1 MiB is stored in the on-failure bucket stand-in under
 * quarantine/ with a pointer queued, nothing is handed back to Lambda or given up on, and the
 * CLI's `quarantine show --directory` prints the record whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quarantineCommand } from '../../cli/quarantine.js';
import type { InvokeOutcome } from '../../local/batch-delivery.js';
import { localClientConfig } from '../../local/local-aws.js';
import { QUARANTINE_QUEUE, startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { nodeItem, waitUntil } from '../faults/support.js';

let pipeline: LocalPipeline;
let sqs: SQSClient;
const runDirectory = mkdtempSync(join(tmpdir(), 'claim-check-'));
const outcomes: InvokeOutcome[] = [];
beforeAll(async () => {
  pipeline = await startLocalPipeline({
    runDirectory,
    deployment: { rules: [], functionEnvironment: {}, eventSourceMapping: undefined },
    logLevel: 'SILENT',
    batchSize: 10,
    maxRetries: 1,
    pollIntervalMs: 100,
    functionTimeoutMs: 20_000,
    redrive: { baseDelaySeconds: 1, maxDelaySeconds: 2 },
    onInvoke: (_, outcome) => void outcomes.push(outcome),
  });
  sqs = new SQSClient(localClientConfig(pipeline.sqsEndpoint));
});
afterAll(async () => {
  sqs?.destroy();
  await pipeline?.stop();
  rmSync(runDirectory, { recursive: true, force: true });
});
const put = (item: Record<string, unknown>) => pipeline.ddb.send(new PutItemCommand({ TableName: pipeline.tableName, Item: item as Record<string, AttributeValue> }));

describe('local pipeline claim check', () => {
  it('quarantines a MODIFY with two large images through S3 (the stand-in), hands nothing back, and the CLI shows the record whole', async () => {
    const fat = '"\u0001'.repeat(150_000); // 300,000 bytes in DynamoDB; about 1.2 MB as JSON
    await put(nodeItem(1, { notes: { S: fat } }));
    await put(nodeItem(1, { vcpus: { S: 'eight' }, notes: { S: `${fat}.` } }));
    await put(nodeItem(2));
    const s = () => pipeline.poller.stats;
    await waitUntil(() => s().records >= 3 && s().delivered + s().failed === s().records, 'the stream to be delivered', 60_000);
    expect(s().failed).toBe(0);
    expect(outcomes.map((o) => o.kind).filter((k) => k !== 'ok')).toEqual([]);
    expect(pipeline.redrive!.stats.kept).toBe(0);

    const queued = pipeline.sqs.messages(QUARANTINE_QUEUE).map((m) => JSON.parse(m.body) as { eventName: string; claimCheck?: { key: string } });
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ eventName: 'MODIFY', claimCheck: { key: expect.stringMatching(/^quarantine\/[0-9a-f]{64}\.json$/) } });
    const stored = await pipeline.redrive!.store.read(queued[0]!.claimCheck!.key);
    expect(Buffer.byteLength(stored!, 'utf8')).toBeGreaterThan(1024 * 1024);

    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, readStdin: async () => '' };
    expect(await quarantineCommand(['show', '--directory', pipeline.redrive!.store.location], io, { env: { QUARANTINE_QUEUE_URL: pipeline.quarantineQueueUrl }, sqs })).toBe(0);
    const shown = JSON.parse(out.join('')) as { body: { record: { dynamodb: { NewImage: { notes: { S: string } }; OldImage: { notes: { S: string } } } } } };
    expect(shown.body.record.dynamodb.OldImage.notes.S).toBe(fat);
    expect(shown.body.record.dynamodb.NewImage.notes.S).toBe(`${fat}.`);
  });
});
