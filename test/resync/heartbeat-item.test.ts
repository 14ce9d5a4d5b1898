/**
 * A resync run skips the reserved heartbeat item (contract/heartbeat.ts): it is no compute node,
 * so it is neither marked (neither as the anchor nor in a segment) nor reported invalid.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HEARTBEAT_ITEM_KEY, HEARTBEAT_WRITTEN_AT_ATTRIBUTE } from '../../functions/notifier/contract/index.js';
import { newResyncState, runResync, type InvalidItem } from '../../functions/resync/resync.js';
import { allAccepted } from '../support/notifier-harness.js';
import { nodeImage } from '../support/records.js';

describe('resync and the heartbeat item', () => {
  it('is neither marked nor counted invalid, wherever the scan meets it (as the first anchor candidate, and in a segment page)', async () => {
    const heartbeat = { uuid: { S: HEARTBEAT_ITEM_KEY }, [HEARTBEAT_WRITTEN_AT_ATTRIBUTE]: { S: '2026-12-04T19:02:00Z' } };
    const nodes = [1, 2, 3].map((n) => nodeImage(n));
    const dynamodb = new DynamoDBClient({ region: 'us-east-1' });
    const ddb = mockClient(dynamodb);
    // A table whose first item is the heartbeat item: the anchor's first read (one item) meets it, and so does the segment's page.
    const items = [heartbeat, ...nodes];
    ddb.on(ScanCommand).callsFake((input: { Limit?: number; ExclusiveStartKey?: { uuid?: { S?: string } } }) => {
      const from = input.ExclusiveStartKey === undefined ? 0 : items.findIndex((i) => i.uuid.S === input.ExclusiveStartKey!.uuid!.S) + 1;
      const page = items.slice(from, from + (input.Limit ?? items.length));
      const last = from + page.length < items.length ? { LastEvaluatedKey: { uuid: page[page.length - 1]!.uuid } } : {};
      return { Items: page, ...last };
    });
    ddb.on(UpdateItemCommand).resolves({});
    const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
    mockClient(eventBridge).on(PutEventsCommand).callsFake(allAccepted);
    const invalid: InvalidItem[] = [];
    const result = await runResync(newResyncState('nodes', 1), {
      dynamodb,
      eventBridge,
      eventBusName: 'bus',
      eventSource: 'openstack.nova',
      bucket: { take: async () => {}, grants: [] },
      lease: { acquire: async () => {}, renewIfDue: async () => {}, release: async () => {} },
      pageSize: 100,
      onInvalid: (item) => invalid.push(item),
    });
    expect(result.complete).toBe(true);
    expect(invalid).toEqual([]);
    expect(result.totals.invalid).toBe(0);
    const marked = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.Key?.uuid?.S);
    expect(marked).not.toContain(HEARTBEAT_ITEM_KEY);
    expect(new Set(marked)).toEqual(new Set(nodes.map((n) => n.uuid!.S)));
    expect(result.totals.refreshed).toBe(nodes.length);
  });
});
