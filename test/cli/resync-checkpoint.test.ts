/**
 * resync's default checkpoint belongs to a table and its stream: a second run against the same
 * stream says it was skipped (and writes nothing), a run against a new stream of the same table
 * (a table re-created, a new npm start) is a new run, never silently skipped.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { resyncCommand } from '../../cli/resync.js';
import { createComputeNodeTable } from '../../local/compute-node-table.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';
import { nodeImage } from '../support/records.js';

const TABLE = 'checkpoint-nodes';
let ddb: DynamoDbLocal;
let dynamodb: DynamoDBClient;
const stateDirectory = mkdtempSync(join(tmpdir(), 'resync-state-'));

async function freshTable(): Promise<string> {
  await createComputeNodeTable(dynamodb, TABLE);
  for (const n of [1, 2, 3]) await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: nodeImage(n) as Record<string, AttributeValue> }));
  return (await dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table!.LatestStreamLabel!;
}

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  dynamodb = new DynamoDBClient(ddb.clientConfig);
}, 60_000);

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

async function resync() {
  const out: string[] = [];
  const err: string[] = [];
  const status = await resyncCommand(['--table', TABLE, '--bus-name', 'bus', '--segments', '2'], { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '' }, {
    env: {},
    dynamodb,
    eventBridge,
    createLeaseTable: true,
    stateDirectory,
  });
  return { status, summary: JSON.parse(out.join('')) as { complete: boolean; alreadyComplete?: boolean; runId: string; checkpoint: string; refreshed: number }, err: err.join('') };
}

describe('resync checkpoint keyed to the table and its stream', () => {
  it('runs, then says a second run on the same stream is skipped, then runs anew on a new stream', async () => {
    const label = await freshTable();
    const first = await resync();
    expect(first.status).toBe(0);
    expect(first.summary).toMatchObject({ complete: true, refreshed: 3 });
    expect(first.summary.checkpoint).toBe(join(stateDirectory, `${TABLE}.${label.replace(/[^A-Za-z0-9._-]/g, '_')}.checkpoint.json`));
    expect(existsSync(first.summary.checkpoint)).toBe(true);

    sent = [];
    const again = await resync();
    expect(again.status).toBe(0);
    expect(again.summary).toMatchObject({ complete: true, alreadyComplete: true, runId: first.summary.runId });
    expect(again.err).toMatch(new RegExp(`resync skipped: run ${first.summary.runId} on table ${TABLE} \\(stream ${label}\\) is already complete .*nothing was written`));
    expect(sent).toEqual([]);

    // The table re-created: a new stream, so a new run (the old checkpoint does not apply).
    await dynamodb.send(new DeleteTableCommand({ TableName: TABLE }));
    const newLabel = await freshTable();
    expect(newLabel).not.toBe(label);
    sent = [];
    const anew = await resync();
    expect(anew.status).toBe(0);
    expect(anew.summary.runId).not.toBe(first.summary.runId);
    expect(anew.summary).toMatchObject({ complete: true, refreshed: 3 });
    expect(anew.summary.alreadyComplete).toBeUndefined();
    expect(sent.filter((e) => e.DetailType === 'hypervisor_notifier.resync_run')).toHaveLength(2);
  }, 120_000);
});
