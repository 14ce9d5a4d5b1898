/**
 * The reference indexer on the local pipeline: table writes → stream → notifier → local bus →
 * the ReferenceIndexer route → the indexer's table in DynamoDB Local → a query.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { PROJECT_ROOT } from '../../local/stack-template.js';
import { startLocalReferenceIndexer, type LocalReferenceIndexer } from '../../local/reference-indexer-feed.js';
import { waitFor } from './support.js';
import { nodeImage } from '../support/records.js';

let pipeline: LocalPipeline | undefined;
let indexer: LocalReferenceIndexer | undefined;
let runDir: string;

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'local-indexer-'));
  mkdirSync(join(PROJECT_ROOT, '.local'), { recursive: true });
  pipeline = await startLocalPipeline({ runDirectory: runDir, templateCacheFile: join(PROJECT_ROOT, '.local', 'template-cache.json'), logLevel: 'SILENT' });
  indexer = await startLocalReferenceIndexer(pipeline, { intervalMs: 50 });
});

afterAll(async () => {
  await indexer?.stop();
  await pipeline?.stop();
  rmSync(runDir, { recursive: true, force: true });
});

function node(n: number, type: string, vcpusUsed: number): Record<string, AttributeValue> {
  return nodeImage(n, { vcpus: { N: '32' }, vcpus_used: { N: String(vcpusUsed) }, hypervisor_type: { S: type } }) as Record<string, AttributeValue>;
}

describe('the reference indexer on the local pipeline', () => {
  it('is fed by the ReferenceIndexer route of the template', () => {
    expect(indexer!.target).toMatch(/ReferenceIndexer/);
  });

  it('answers a query from what the stream notified, and forgets a deleted node', async () => {
    const p = pipeline!;
    const put = (item: Record<string, AttributeValue>) => p.ddb.send(new PutItemCommand({ TableName: p.tableName, Item: item }));
    await put(node(9001, 'QEMU', 30)); // 2 free: below the minimum
    await put(node(9002, 'QEMU', 4)); // 28 free
    await put(node(9003, 'QEMU', 20)); // 12 free
    await put(node(9004, 'ironic', 0)); // another type
    const hosts = async () => (await indexer!.query({ hypervisorType: 'QEMU', minFreeVcpus: 4n, limit: 10 })).nodes.map((n) => `${n.host}:${n.freeVcpus}`);
    const all = await waitFor(async () => ((await hosts()).length === 2 ? hosts() : undefined), 'two QEMU nodes with 4 free vCPUs in the index');
    expect(all).toEqual(['compute-9002:28', 'compute-9003:12']);

    await p.ddb.send(new DeleteItemCommand({ TableName: p.tableName, Key: { uuid: node(9002, 'QEMU', 0).uuid! } }));
    await waitFor(async () => ((await hosts()).length === 1 ? true : undefined), 'the deleted node gone from the index');
    expect(await hosts()).toEqual(['compute-9003:12']);
  });
});
