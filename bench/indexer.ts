/**
 * The reference indexer on DynamoDB Local: load a deterministic fleet (BatchWriteItem,
 * parallel) and time the queries Searchlight's users ask, each answer checked against a
 * brute-force filter and sort of the fixture. `measureIndexer()` returns the timings; the
 * default is the 100,000-node fleet (DynamoDB Local, not DynamoDB: absolute times are only
 * comparable between runs of this benchmark on one machine).
 *
 *   node --import tsx -e "import('./bench/indexer.ts').then(async m => console.log(await m.measureIndexer({ nodes: 5000 })))"
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { createIndexerTable } from '../local/indexer-table.js';
import { queryNodes } from '../functions/indexer/store.js';
import type { NodeQuery } from '../functions/indexer/query-plan.js';
import { bruteForce, type BruteForceNode, toBruteForceNode } from './indexer-oracle.js';
import { generateFleet, loadItems } from './indexer-fixture.js';

export interface IndexerMeasurement {
  readonly nodes: number;
  readonly generateMs: number;
  readonly loadMs: number;
  readonly loadItemsPerSecond: number;
  readonly queries: Array<{ readonly name: string; readonly runs: number; readonly p50Ms: number; readonly p99Ms: number; readonly itemsRead: number; readonly returned: number }>;
}

export interface MeasureOptions {
  readonly nodes?: number;
  /** Runs per query. @default 50 */
  readonly runs?: number;
  readonly log?: (line: string) => void;
}

export const BENCH_QUERIES: ReadonlyArray<{ readonly name: string; readonly query: NodeQuery }> = [
  { name: 'type QEMU, >= 4 free vCPUs, top 20', query: { hypervisorType: 'QEMU', minFreeVcpus: 4n, limit: 20 } },
  { name: 'type ironic, >= 32 GB RAM free, top 20 by RAM', query: { hypervisorType: 'ironic', minFreeRamMb: 32768n, limit: 20 } },
  { name: 'fleet, >= 16 vCPUs and >= 64 GB RAM and >= 500 GB disk, top 50', query: { minFreeVcpus: 16n, minFreeRamMb: 65536n, minFreeDiskGb: 500n, limit: 50 } },
  { name: 'fleet, >= 100 free vCPUs, best fit first (asc), 20', query: { minFreeVcpus: 100n, order: 'asc', limit: 20 } },
  { name: 'host ironic-conductor-3, top 20 by free disk', query: { host: 'ironic-conductor-3', sort: 'free_disk_gb', limit: 20 } },
  { name: 'host compute-1234 (one host)', query: { host: 'compute-1234', limit: 20 } },
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function measureIndexer(options: MeasureOptions = {}): Promise<IndexerMeasurement> {
  const count = options.nodes ?? 100_000;
  const runs = options.runs ?? 50;
  const log = options.log ?? (() => {});
  let t = performance.now();
  const fleet = generateFleet(count);
  const generateMs = performance.now() - t;
  const oracle: BruteForceNode[] = fleet.map((f) => toBruteForceNode(f.item));
  log(`generated ${count} nodes in ${Math.round(generateMs)} ms`);

  const ddb = await startDynamoDbLocal();
  const client = new DynamoDBClient(ddb.clientConfig);
  try {
    const table = await createIndexerTable(client, 'bench-index');
    t = performance.now();
    await loadItems(client, table, fleet.map((f) => f.item), 8);
    const loadMs = performance.now() - t;
    log(`loaded ${count} nodes in ${Math.round(loadMs)} ms`);

    const queries = [];
    for (const { name, query } of BENCH_QUERIES) {
      const times: number[] = [];
      let itemsRead = 0;
      let returned = 0;
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        const answer = await queryNodes(client, table, query);
        times.push(performance.now() - start);
        itemsRead = answer.itemsRead;
        returned = answer.nodes.length;
        if (i === 0) {
          const expected = bruteForce(oracle, query).slice(0, query.limit ?? 20).map((n) => n.uuid);
          const got = answer.nodes.map((n) => n.uuid);
          if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`query "${name}" answered differently from the brute-force oracle`);
        }
      }
      times.sort((a, b) => a - b);
      const q = { name, runs, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), itemsRead, returned };
      log(`${name}: p50 ${q.p50Ms} ms, p99 ${q.p99Ms} ms (${returned} nodes, ${itemsRead} items read)`);
      queries.push(q);
    }
    return { nodes: count, generateMs: round(generateMs), loadMs: round(loadMs), loadItemsPerSecond: Math.round(count / (loadMs / 1000)), queries };
  } finally {
    client.destroy();
    await ddb.stop();
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
