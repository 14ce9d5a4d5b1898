/**
 * A deterministic fleet for the indexer's query tests and benchmark: `n` compute nodes with
 * a mix of hypervisor types, hosts (Ironic conductors hold many nodes), sizes, overcommit
 * (negative free vCPUs), null free_* fields and a few integers beyond 2^53. Each node goes
 * through the real path: notifier builder → delivered event → indexer item.
 */
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { itemOf, type Item } from '../functions/indexer/apply.js';
import { readNotification, type IndexerNotification } from '../functions/indexer/notification.js';
import { loadConfig } from '../functions/notifier/config.js';
import { createNotificationBuilder } from '../functions/notifier/notification-builder.js';
import type { StreamRecord } from '../functions/notifier/stream-record.js';
import { forEachConcurrently } from '../functions/notifier/retry-policy.js';
import { seededRandom } from '../local/seeded-random.js';

export const HYPERVISOR_TYPES = ['QEMU', 'QEMU', 'QEMU', 'VMware vCenter Server', 'ironic', 'Hyper-V', 'lxd'] as const;

const prng = seededRandom;

export interface FixtureNode {
  readonly notification: IndexerNotification;
  readonly item: Item;
}

const N = (v: bigint | number) => ({ N: String(v) });

/** The fleet: `count` nodes, the same for the same `seed`. */
export function generateFleet(count: number, seed = 42): FixtureNode[] {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const build = createNotificationBuilder(loadConfig({ EVENT_BUS_NAME: 'bench', PUBLISHER_HOST_FALLBACK: 'fallback' }));
  const nodes: FixtureNode[] = [];
  for (let i = 0; i < count; i++) {
    const type = pick(HYPERVISOR_TYPES);
    const ironic = type === 'ironic';
    const vcpus = ironic ? pick([0, 32, 64]) : pick([8, 16, 32, 48, 64, 96, 128]);
    // Overcommit: sometimes more vCPUs used than there are.
    const vcpusUsed = vcpus === 0 ? 0 : int(0, Math.floor(vcpus * 1.5));
    const memory = vcpus * pick([2048, 4096, 8192]);
    const memoryUsed = int(0, memory);
    const disk = pick([200, 500, 1000, 4000]);
    const diskUsed = int(0, disk);
    const huge = i % 997 === 13; // a few nodes with integers beyond 2^53
    const image: Record<string, unknown> = {
      id: N(i + 1),
      uuid: { S: `f1ee7000-0000-4000-8000-${i.toString(16).padStart(12, '0')}` },
      host: ironic ? { S: `ironic-conductor-${i % 7}` } : random() < 0.01 ? { NULL: true } : { S: `compute-${Math.floor(i / 2)}` },
      vcpus: huge ? N(2n ** 60n) : N(vcpus),
      memory_mb: N(memory),
      local_gb: N(disk),
      vcpus_used: N(vcpusUsed),
      memory_mb_used: N(memoryUsed),
      local_gb_used: N(diskUsed),
      hypervisor_type: { S: type },
      hypervisor_version: N(6002000),
      hypervisor_hostname: { S: `node-${i}.example.org` },
      free_ram_mb: random() < 0.2 ? { NULL: true } : N(memory - memoryUsed),
      free_disk_gb: random() < 0.2 ? { NULL: true } : huge ? N(2n ** 55n + 1n) : N(disk - diskUsed),
      current_workload: N(0),
      running_vms: N(int(0, 40)),
      disk_available_least: N(disk - diskUsed),
      host_ip: { S: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    };
    const record = {
      eventID: `fixture-${i}`,
      eventName: 'INSERT',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/ComputeNodes/stream/fixture',
      dynamodb: { ApproximateCreationDateTime: 1_795_719_961, SequenceNumber: String(1000 + i), NewImage: image, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    } as unknown as StreamRecord;
    const outcome = build(record);
    if (outcome.kind !== 'notify') throw new Error(`fixture node ${i}: ${JSON.stringify(outcome)}`);
    const notification = readNotification(outcome.notification.entry.Detail!);
    nodes.push({ notification, item: itemOf(notification) });
  }
  return nodes;
}

/** Loads items with BatchWriteItem (25 per request), `concurrency` requests at once, retrying unprocessed items. */
export async function loadItems(client: DynamoDBClient, tableName: string, items: readonly Item[], concurrency = 8): Promise<void> {
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25) as Item[]);
  await forEachConcurrently(batches, concurrency, async (batch) => {
    let requests = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 20) throw new Error('BatchWriteItem kept returning unprocessed items');
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  });
}
