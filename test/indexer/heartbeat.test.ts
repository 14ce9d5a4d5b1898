/**
 * The reference indexer and the heartbeats its route opts in to: a heartbeat is applied (never a
 * failed message), recorded as the last heartbeat (a late, older one does not move it back), never
 * becomes a node of the read model, and `cli query` and `cli drift` print it
 * ("last heartbeat 19:02:07 (31 s ago)"), or say that none was applied.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createComputeNodeTable } from '../../local/compute-node-table.js';
import { createIndexerTable } from '../../local/indexer-table.js';
import { dynamoDbLocalForFile } from '../support/dynamodb-local-for-file.js';
import { createIndexer } from '../../functions/indexer/indexer.js';
import { readLastHeartbeat } from '../../functions/indexer/heartbeat-store.js';
import { readMessage } from '../../functions/indexer/notification.js';
import { checkDrift } from '../../functions/indexer/drift.js';
import { driftCommand } from '../../cli/drift.js';
import { queryCommand } from '../../cli/query.js';
import { HEARTBEAT_DETAIL_TYPE } from '../../functions/notifier/contract/index.js';

const beatEvent = (writtenAt: string, handledAt: string, seq: string) =>
  JSON.stringify({
    version: '0',
    id: `e-${seq}`,
    'detail-type': HEARTBEAT_DETAIL_TYPE,
    source: 'openstack.nova',
    detail: { message_id: '2d544c1b-7834-540a-903f-e8029dd44fe5', written_at: writtenAt, handled_at: handledAt, epoch: '2026-12-04T00:00:00.000', sequence_number: seq, lag_ms: 250 },
  });

describe('reading a heartbeat', () => {
  it('is a heartbeat message with its times, epoch and sequence; a malformed one is refused, naming the field', () => {
    expect(readMessage(beatEvent('2026-12-04T19:02:00.000Z', '2026-12-04T19:02:00.250Z', '12'))).toEqual({
      kind: 'heartbeat',
      writtenAt: '2026-12-04T19:02:00.000Z',
      handledAt: '2026-12-04T19:02:00.250Z',
      epoch: '2026-12-04T00:00:00.000',
      sequenceNumber: '12',
    });
    expect(() => readMessage(beatEvent('2026-12-04T19:02:00.000Z', '2026-12-04T19:02:00.250Z', '12').replace('"handled_at":"2026-12-04T19:02:00.250Z"', '"handled_at":7'))).toThrow(
      /hypervisor_notifier\.heartbeat detail\.handled_at must be a string/,
    );
  });
});

describe('the indexer and cli on DynamoDB Local', () => {
  const local = dynamoDbLocalForFile({ maxAttempts: 3 });
  beforeAll(async () => {
    await createComputeNodeTable(local.dynamodb, 'nodes');
    await createIndexerTable(local.dynamodb, 'index');
  });

  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), readStdin: async () => '' }, out, err };
  };

  it('before any heartbeat: query and drift say none was applied', async () => {
    const q = io();
    expect(await queryCommand(['--table', 'index'], q.io, { dynamodb: local.dynamodb, env: {} })).toBe(0);
    expect(q.err.join('')).toContain('last heartbeat: none applied (is the pipeline fed? see the "pipeline stalled" alarm)');
  });

  it('applies heartbeats, keeps the latest, adds no node, and query and drift print it', async () => {
    const index = createIndexer({ dynamodb: local.dynamodb, tableName: 'index', logger: { info: () => {}, warn: () => {}, error: () => {} } });
    const now = Date.now();
    const newer = new Date(now - 31_000).toISOString();
    const older = new Date(now - 91_000).toISOString();
    const out = await index({ Records: [{ messageId: 'm1', body: beatEvent(newer, newer, '20') }] as never });
    expect(out.batchItemFailures).toEqual([]);
    // Delivered late (EventBridge does not order events): an older heartbeat does not move the record back.
    expect((await index({ Records: [{ messageId: 'm2', body: beatEvent(older, older, '19') }] as never })).batchItemFailures).toEqual([]);
    expect(await readLastHeartbeat(local.dynamodb, 'index')).toMatchObject({ writtenAt: newer, handledAt: newer, sequenceNumber: '20' });

    const report = await checkDrift(local.dynamodb, { tableName: 'nodes', indexerTableName: 'index' });
    expect(report.readModelNodes).toBe(0);
    expect(report.differences).toEqual([]);

    const hhmmss = newer.slice(11, 19);
    const q = io();
    expect(await queryCommand(['--table', 'index'], q.io, { dynamodb: local.dynamodb, env: {} })).toBe(0);
    expect(JSON.parse(q.out.join(''))).toMatchObject({ nodes: [] });
    expect(q.err.join('')).toMatch(new RegExp(`last heartbeat ${hhmmss} UTC \\((3[0-9]) s ago\\)`));
    const d = io();
    expect(await driftCommand(['--table', 'nodes', '--indexer-table', 'index'], d.io, { dynamodb: local.dynamodb, env: {} })).toBe(0);
    expect(d.out.join('')).toMatch(new RegExp(`last heartbeat ${hhmmss} UTC \\((3[0-9]) s ago\\)`));
  });
});
