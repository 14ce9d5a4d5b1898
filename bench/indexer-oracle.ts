/**
 * The brute-force answer to an indexer query: filter and sort the whole fleet in memory, by
 * the same rules the query planner promises (sort resource, direction, ties by uuid). The
 * oracle the indexer's query tests and benchmark compare DynamoDB's answers with.
 */
import type { Item } from '../functions/indexer/apply.js';
import { ATTR } from '../functions/indexer/indexer-table.js';
import type { NodeQuery } from '../functions/indexer/query-plan.js';
import { nodeResult } from '../functions/indexer/store.js';

export interface BruteForceNode {
  readonly uuid: string;
  readonly hypervisorType: string | undefined;
  readonly host: string | undefined;
  readonly free_vcpus: bigint;
  readonly free_ram_mb: bigint;
  readonly free_disk_gb: bigint;
}

export function toBruteForceNode(item: Item): BruteForceNode {
  const r = nodeResult(item);
  return { uuid: r.uuid, hypervisorType: item[ATTR.hypervisorType]?.S, host: item[ATTR.host]?.S, free_vcpus: r.freeVcpus, free_ram_mb: r.freeRamMb, free_disk_gb: r.freeDiskGb };
}

/** Every node matching the query, in the answer's order (all pages). */
export function bruteForce(nodes: readonly BruteForceNode[], q: NodeQuery): BruteForceNode[] {
  const sort = q.sort ?? (q.minFreeVcpus !== undefined ? 'free_vcpus' : q.minFreeRamMb !== undefined ? 'free_ram_mb' : q.minFreeDiskGb !== undefined ? 'free_disk_gb' : 'free_vcpus');
  const direction = q.order === 'asc' ? 1 : -1;
  return nodes
    .filter(
      (n) =>
        (q.hypervisorType === undefined || n.hypervisorType === q.hypervisorType) &&
        (q.host === undefined || n.host === q.host) &&
        (q.minFreeVcpus === undefined || n.free_vcpus >= q.minFreeVcpus) &&
        (q.minFreeRamMb === undefined || n.free_ram_mb >= q.minFreeRamMb) &&
        (q.minFreeDiskGb === undefined || n.free_disk_gb >= q.minFreeDiskGb),
    )
    .sort((a, b) => {
      const by = a[sort] < b[sort] ? -1 : a[sort] > b[sort] ? 1 : a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
      return by * direction;
    });
}
