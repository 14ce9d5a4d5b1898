/**
 * The indexer on DynamoDB Local (one instance for this file): real conditional writes under
 * concurrent, shuffled, duplicated deliveries; the SQS handler's partial batch response; and
 * the queries on a 5,000-node fixture, every page compared with a brute-force answer.
 * (The 100,000-node fixture runs in bench/indexer.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';
import { createIndexerTable } from '../../local/indexer-table.js';
import { applyToModel, isLive, type ApplyOutcome, type Item } from '../../functions/indexer/apply.js';
import { ATTR } from '../../functions/indexer/indexer-table.js';
import { createIndexer } from '../../functions/indexer/indexer.js';
import { readNotification } from '../../functions/indexer/notification.js';
import { QueryError, type NodeQuery } from '../../functions/indexer/query-plan.js';
import { answerJson, queryNodes, writeNotification } from '../../functions/indexer/store.js';
import { generateFleet, HYPERVISOR_TYPES, loadItems } from '../../bench/indexer-fixture.js';
import { bruteForce, toBruteForceNode, type BruteForceNode } from '../../bench/indexer-oracle.js';
import { dataJsonOf, envelope, isLiveImage, playHistory, scenario } from './history.js';
import { insert, nodeImage } from '../support/records.js';
import { builder } from './history.js';
import { queryCommand } from '../../cli/query.js';
import type { StreamRecord } from '../../functions/notifier/stream-record.js';

let ddb: DynamoDbLocal;
let client: DynamoDBClient;
const WRITES = 'index-writes';
/** The same deliveries written one at a time, in order, for the outcome-by-outcome comparison. */
const SEQUENTIAL_WRITES = 'index-writes-sequential';
const FLEET_TABLE = 'index-fleet';
const FLEET_SIZE = 5_000;
let oracle: BruteForceNode[];

beforeAll(async () => {
  ddb = await startDynamoDbLocal();
  client = new DynamoDBClient({ ...ddb.clientConfig, maxAttempts: 3 });
  await Promise.all([createIndexerTable(client, WRITES), createIndexerTable(client, SEQUENTIAL_WRITES), createIndexerTable(client, FLEET_TABLE)]);
  const fleet = generateFleet(FLEET_SIZE);
  oracle = fleet.map((f) => toBruteForceNode(f.item));
  await loadItems(client, FLEET_TABLE, fleet.map((f) => f.item), 8);
});

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

const getItem = async (uuid: string) => (await client.send(new GetItemCommand({ TableName: WRITES, Key: { uuid: { S: uuid } }, ConsistentRead: true }))).Item as Item | undefined;
const uuidOf = (n: number) => `5eed0000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`;

describe('conditional writes on DynamoDB Local', () => {
  it('property: concurrent, shuffled, duplicated deliveries converge to the table\'s final state (and to the pure model)', async () => {
    let node = 100;
    await fc.assert(
      fc.asyncProperty(scenario(10), async ({ ops, order }) => {
        const n = ++node;
        const history = playHistory(n, ops, 1000n);
        const notifications = order.map((i) => readNotification(history.deliveries[i]!));
        // All at once: the conditions, not the order of arrival, decide.
        const outcomes = await Promise.all(notifications.map((x) => writeNotification(client, WRITES, x)));
        const model = new Map<string, Item>();
        const expectedOutcomes = notifications.map((x) => applyToModel(model, x));
        // One at a time in the same order, DynamoDB's conditions answer exactly as the model does.
        const sequential: ApplyOutcome[] = [];
        for (const x of notifications) sequential.push(await writeNotification(client, SEQUENTIAL_WRITES, x));
        expect(sequential).toEqual(expectedOutcomes);
        // All at once, the arrival order decides which older ones land, but: no order key is applied
        // twice, a duplicate only repeats an applied key, and the greatest key is applied exactly once.
        const byKey = new Map<string, ApplyOutcome[]>();
        notifications.forEach((x, i) => byKey.set(x.orderKey, [...(byKey.get(x.orderKey) ?? []), outcomes[i]!]));
        for (const [key, got] of byKey) {
          const applied = got.filter((o) => o === 'applied').length;
          expect(applied, key).toBeLessThanOrEqual(1);
          if (got.includes('duplicate')) expect(applied, key).toBe(1);
        }
        if (notifications.length > 0) {
          const greatest = [...byKey.keys()].sort().at(-1)!;
          expect(byKey.get(greatest)!.filter((o) => o === 'applied')).toHaveLength(1);
          expect(byKey.get(greatest)!.filter((o) => o !== 'applied').every((o) => o === 'duplicate')).toBe(true);
        }
        const stored = await getItem(uuidOf(n));
        if (isLiveImage(history.finalImage)) {
          expect(isLive(stored)).toBe(true);
          expect(stored![ATTR.payload]!.S).toBe(dataJsonOf(history.finalImage));
        } else if (history.notified) {
          expect(isLive(stored)).toBe(false);
        } else {
          expect(stored).toBeUndefined();
        }
        expect(stored).toEqual(model.get(uuidOf(n)));
      }),
      { numRuns: 30 },
    );
  });

  it('a duplicate is reported as such, an older notification as stale', async () => {
    const image = nodeImage(90);
    const o = builder(insert(image, { sequence: '000000000000000000777' }) as StreamRecord);
    if (o.kind !== 'notify') throw new Error();
    const n = readNotification(o.notification.entry.Detail!);
    expect(await writeNotification(client, WRITES, n)).toBe('applied');
    expect(await writeNotification(client, WRITES, n)).toBe('duplicate');
    const older = readNotification(o.notification.entry.Detail!.replace('"sequence_number":"000000000000000000777"', '"sequence_number":"776"'));
    expect(await writeNotification(client, WRITES, older)).toBe('stale');
  });
});

describe('the SQS handler', () => {
  it('applies a batch, counts duplicates, and reports only the unreadable message as failed', async () => {
    const logs: unknown[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (...args: unknown[]) => void logs.push(args) };
    const indexer = createIndexer({ dynamodb: client, tableName: WRITES, logger });
    const detail = (n: number) => {
      const o = builder(insert(nodeImage(n)) as StreamRecord);
      if (o.kind !== 'notify') throw new Error();
      return envelope('compute_node.create', o.notification.entry.Detail!);
    };
    const body = detail(91);
    const records = [
      { messageId: 'm1', body },
      { messageId: 'm2', body },
      { messageId: 'm3', body: '{"detail":{"event_type":"compute_node.create"}}' },
      { messageId: 'm4', body: detail(92) },
    ];
    const response = await indexer({ Records: records as never });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
    expect(response.stats).toEqual({ applied: 2, duplicate: 1, stale: 0, failed: 1, runEvents: 0, swept: 0, sweepsPaused: 0 });
    expect(JSON.stringify(logs)).toMatch(/message_id must be a string/);
    expect(isLive(await getItem(uuidOf(92)))).toBe(true);
  });
});

describe(`queries on a ${FLEET_SIZE}-node fleet`, () => {
  /** Every page of a query, concatenated. */
  async function allPages(query: NodeQuery): Promise<string[]> {
    const uuids: string[] = [];
    let page: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const answer = await queryNodes(client, FLEET_TABLE, { ...query, ...(page ? { page } : {}) });
      expect(answer.nodes.length).toBeLessThanOrEqual(query.limit ?? 20);
      uuids.push(...answer.nodes.map((n) => n.uuid));
      page = answer.nextPage;
      if (page === undefined) return uuids;
    }
    throw new Error('too many pages');
  }

  const QUERIES: Array<[string, NodeQuery]> = [
    ['type QEMU with >= 4 free vCPUs', { hypervisorType: 'QEMU', minFreeVcpus: 4n, limit: 300 }],
    ['type QEMU with >= 4 free vCPUs, ascending', { hypervisorType: 'QEMU', minFreeVcpus: 4n, order: 'asc', limit: 250 }],
    ['type ironic by free RAM (>= 32 GB)', { hypervisorType: 'ironic', minFreeRamMb: 32768n, limit: 200 }],
    ['type Hyper-V, all, by free disk', { hypervisorType: 'Hyper-V', sort: 'free_disk_gb', limit: 400 }],
    ['fleet: >= 16 vCPUs, >= 64 GB RAM, >= 500 GB disk', { minFreeVcpus: 16n, minFreeRamMb: 65536n, minFreeDiskGb: 500n, limit: 100 }],
    ['fleet: >= 100 vCPUs, best fit first', { minFreeVcpus: 100n, order: 'asc', limit: 7 }],
    ['fleet: negative free vCPUs included (>= -10), ascending', { minFreeVcpus: -10n, order: 'asc', limit: 1000 }],
    ['fleet: disk >= 3000 GB sorted by RAM', { minFreeDiskGb: 3000n, sort: 'free_ram_mb', limit: 150 }],
    ['type lxd, vCPUs >= 8, sorted by disk ascending', { hypervisorType: 'lxd', minFreeVcpus: 8n, sort: 'free_disk_gb', order: 'asc', limit: 120 }],
    ['host of an Ironic conductor (many nodes), by free disk', { host: 'ironic-conductor-3', sort: 'free_disk_gb', limit: 40 }],
    ['host + type + minimum', { host: 'ironic-conductor-2', hypervisorType: 'ironic', minFreeVcpus: 1n, limit: 30 }],
    ['one compute host', { host: 'compute-1234' }],
    ['beyond 2^53: fleet with >= 2^59 free vCPUs', { minFreeVcpus: 2n ** 59n }],
    ['nothing matches', { hypervisorType: 'QEMU', minFreeVcpus: 10n ** 30n }],
  ];

  it.each(QUERIES)('%s: every page together equals the brute-force answer', async (_name, query) => {
    const expected = bruteForce(oracle, query).map((n) => n.uuid);
    expect(await allPages(query)).toEqual(expected);
  });

  it('the fixture covers the cases the queries are about', () => {
    expect(new Set(oracle.map((n) => n.hypervisorType))).toEqual(new Set(HYPERVISOR_TYPES));
    expect(oracle.some((n) => n.free_vcpus < 0n)).toBe(true);
    expect(oracle.some((n) => n.free_vcpus > 2n ** 53n)).toBe(true);
    expect(bruteForce(oracle, { minFreeVcpus: 2n ** 59n }).length).toBeGreaterThan(0);
    expect(bruteForce(oracle, { hypervisorType: 'QEMU', minFreeVcpus: 4n }).length).toBeGreaterThan(1000);
  });

  it('first pages are cheap: a type query with a key condition reads only what it returns (plus one)', async () => {
    const answer = await queryNodes(client, FLEET_TABLE, { hypervisorType: 'QEMU', minFreeVcpus: 4n, limit: 20 });
    expect(answer.nodes).toHaveLength(20);
    expect(answer.indexName).toBe('type-free-vcpus');
    expect(answer.itemsRead).toBeLessThanOrEqual(21);
  });

  it('prints exact integers in its JSON answer', async () => {
    const answer = await queryNodes(client, FLEET_TABLE, { minFreeVcpus: 2n ** 59n, limit: 1 });
    const text = answerJson(answer);
    expect(text).toMatch(/"free_vcpus":\d{18,}/);
    expect(text).toContain(`"vcpus":${2n ** 60n}`);
    expect(JSON.parse(text).next_page).toEqual(expect.any(String));
  });

  it('refuses a page token of another query, and a bad limit, with a clear reason', async () => {
    const first = await queryNodes(client, FLEET_TABLE, { hypervisorType: 'QEMU', limit: 5 });
    await expect(queryNodes(client, FLEET_TABLE, { hypervisorType: 'lxd', limit: 5, page: first.nextPage! })).rejects.toThrow(/different query/);
    await expect(queryNodes(client, FLEET_TABLE, { page: 'garbage' })).rejects.toThrow(QueryError);
    await expect(queryNodes(client, FLEET_TABLE, { limit: 0 })).rejects.toThrow(/limit must be/);
  });

  it('cli query: prints the answer as JSON, pages with --page, exit 2 with the reason for a bad flag', async () => {
    const run = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const status = await queryCommand(args, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '' }, {
        env: { INDEXER_TABLE_NAME: FLEET_TABLE, AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint },
      });
      return { status, out: out.join(''), err: err.join('') };
    };
    const first = await run(['--hypervisor-type', 'QEMU', '--min-free-vcpus', '4', '--limit', '20']);
    expect(first.status).toBe(0);
    const page1 = JSON.parse(first.out);
    const second = await run(['--hypervisor-type', 'QEMU', '--min-free-vcpus', '4', '--limit', '20', '--page', page1.next_page]);
    const page2 = JSON.parse(second.out);
    const expected = bruteForce(oracle, { hypervisorType: 'QEMU', minFreeVcpus: 4n }).slice(0, 40).map((n) => n.uuid);
    expect([...page1.nodes, ...page2.nodes].map((n: { uuid: string }) => n.uuid)).toEqual(expected);
    expect(page1.nodes[0]).toMatchObject({ hypervisor_type: 'QEMU', node: { 'nova_object.version': '1.0', data: { hypervisor_type: 'QEMU' } } });
    const bad = await run(['--min-free-vcpus', '4.5']);
    expect(bad).toMatchObject({ status: 2, err: expect.stringMatching(/--min-free-vcpus must be a whole number/) });
    expect((await run(['--sort', 'vcpus'])).err).toMatch(/--sort must be one of free_vcpus, free_ram_mb, free_disk_gb/);
  });
});
