/**
 * The drift check skips the reserved heartbeat item (contract/heartbeat.ts): it is no compute
 * node, so it is neither a node of the table nor an invalid one, and the table's counts leave it out.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { itemOf } from '../../functions/indexer/apply.js';
import { checkDrift } from '../../functions/indexer/drift.js';
import { readNotification } from '../../functions/indexer/notification.js';
import { HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';
import { builder, envelope } from './history.js';
import { insert, nodeImage } from '../support/records.js';

describe('drift and the heartbeat item', () => {
  it('a table holding the heartbeat item and one node the read model agrees with: no drift, one item, one live', async () => {
    const node = nodeImage(1);
    const o = builder(insert(node) as StreamRecord);
    if (o.kind !== 'notify') throw new Error(o.kind);
    const held = itemOf(readNotification(envelope(o.notification.eventType, o.notification.entry.Detail!)));
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const heartbeat = { uuid: { S: HEARTBEAT_ITEM_KEY }, [HEARTBEAT_WRITTEN_AT_ATTRIBUTE]: { S: '2026-12-04T19:02:00Z' } };
    mockClient(client)
      .on(ScanCommand, { TableName: 'nodes' })
      .resolves({ Items: [heartbeat, node as never] })
      .on(ScanCommand, { TableName: 'index' })
      .resolves({ Items: [held as never] });
    const report = await checkDrift(client, { tableName: 'nodes', indexerTableName: 'index' });
    expect(report.differences).toEqual([]);
    expect(report.tableItems).toBe(1);
    expect(report.liveInTable).toBe(1);
  });
});
